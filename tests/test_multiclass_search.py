"""Multi-class tasks from the config to the search (docs/semantics.md §4.13):
the ``projected_multiclass_classification_task`` type on scikit-learn's
digits, config validation, multi-class dead-code removal (Python and numba
against a reference liveness and the executor), the evaluator, ``compare``
and its baselines, whole searches (multi-class from empty programs, binary
from the Figure 5 network), and ``simplify`` / ``ablate`` on multi-class
tasks.

No data files are needed: every multi-class task here is digits (10
classes, 1797 examples: 1439 train / 179 valid / 179 test per split seed).
Kernel variants used: F = 16 only.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import tomllib
from helpers import (
    algorithm,
    const,
    make,
    op,
    random_instruction_any_output,
    splice,
)

import automl_zero as az
from automl_zero.analysis.ablate import (
    ROLE_ERROR,
    ROLE_FORWARD,
    ROLE_HELPER,
    ROLE_INITIALISATION,
    ROLE_LEARNING_RULE,
    ablate,
)
from automl_zero.analysis.simplify import REASON_DEAD, simplify
from automl_zero.config import apply_overrides, config_from_dict
from automl_zero.engine.evaluator import Evaluator
from automl_zero.engine.packed_evolution import (
    Layout,
    PackedPopulation,
    executor_arrays,
)
from automl_zero.errors import ConfigError, DataError
from automl_zero.executor.executor import (
    MemorySpec,
    TaskBatch,
    execute,
    execute_packed,
    pack_algorithms,
)
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.effective import (
    PARTIAL_WRITE_OPS,
    effective_algorithm,
    is_effectively_random,
)
from automl_zero.language.generator import (
    figure5_neural_net_algorithm,
    multiclass_neural_net_algorithm,
    random_algorithm,
    softmax_regression_algorithm,
)
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OPS, Kind
from automl_zero.run.compare import CompareError, compare, fitness_from_predictions
from automl_zero.tasks import EvalType, Task, TaskSpec, make_tasks
from automl_zero.tasks import generate as task_generate
from automl_zero.tasks.generate import create_task

MULTI = "projected_multiclass_classification_task"
BINARY = "projected_binary_classification_task"
F = 16
K = 10
# digits, 1797 examples: test = 1797 // 10, valid = (1797 - 179) // 9, the rest train.
DIGITS_TRAIN, DIGITS_VALID = 1439, 179
MEMORY = MemorySpec(6, 6, 3)
BASELINE_DIGITS = Path(__file__).resolve().parent.parent / "configs" / "baseline_digits.toml"
MULTICLASS_FASHION = (Path(__file__).resolve().parent.parent / "configs"
                      / "multiclass_fashion.toml")


def multi_spec(n_train: int = 300, n_valid: int = 100, **kw) -> dict:
    """A multi-class digits task spec table (as in a TOML config)."""
    return {"task_type": MULTI, "dataset_name": "digits", "features_size": F,
            "num_train_examples": n_train, "num_valid_examples": n_valid, **kw}


def binary_spec(n_train: int = 200, n_valid: int = 30, **kw) -> dict:
    return {"task_type": BINARY, "dataset_name": "digits", "features_size": F,
            "num_train_examples": n_train, "num_valid_examples": n_valid, **kw}


@functools.cache
def multi_tasks(num_tasks: int, n_train: int, n_valid: int, epochs: int = 1,
                lo: int = 0, hi: int = 10) -> tuple[Task, ...]:
    spec = TaskSpec.from_dict(multi_spec(n_train, n_valid, num_tasks=num_tasks,
                                         num_train_epochs=epochs,
                                         min_supported_data_seed=lo,
                                         max_supported_data_seed=hi), "test")
    return tuple(make_tasks([spec]))


@functools.cache
def binary_tasks(num_tasks: int = 2) -> tuple[Task, ...]:
    return tuple(make_tasks([TaskSpec.from_dict(binary_spec(num_tasks=num_tasks),
                                                "test")]))


def chance_per_task(tasks) -> np.ndarray:
    """The fitness of constant logits on each task: every example predicted
    as the last class (ties go to it), so the share of class K - 1, computed
    as the executor does: 1 - (wrong predictions) / (examples)."""
    return np.array([1.0 - float(np.sum(t.valid_labels != t.num_classes - 1))
                     / t.num_valid_examples for t in tasks])


def chance(tasks) -> float:
    """``chance_per_task`` combined as the evaluator does (the mean)."""
    return float(chance_per_task(tasks).mean())


# --------------------------------------------------------------------------
# 1. The task type on digits
# --------------------------------------------------------------------------


def test_digits_tasks_have_all_classes_standardised_features_and_the_asked_shapes():
    (task,) = make_tasks([TaskSpec(MULTI, F, DIGITS_TRAIN, DIGITS_VALID,
                                   data_seeds=(11003,))])
    assert task.eval_type == EvalType.MULTICLASS_ACCURACY and task.num_classes == K
    assert task.train_features.shape == (DIGITS_TRAIN, F)
    assert task.valid_features.shape == (DIGITS_VALID, F)
    assert task.train_labels.dtype == task.valid_labels.dtype == np.float64
    assert task.name == f"{MULTI}[digits,seed=3,dim=16,data_seed=11003]"
    for labels in (task.train_labels, task.valid_labels):
        np.testing.assert_array_equal(np.unique(labels), np.arange(K, dtype=float))
    # Stratified: each split has the class shares of the whole data set.
    from sklearn.datasets import load_digits

    share = np.bincount(load_digits().target, minlength=K) / 1797
    for labels in (task.train_labels, task.valid_labels):
        counts = np.bincount(labels.astype(int), minlength=K)
        assert np.all(np.abs(counts - share * labels.size) <= 1.0), counts
    # Standardised on the whole training split: mean 0, deviation 1 per column.
    np.testing.assert_allclose(task.train_features.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(task.train_features.std(axis=0), 1.0, rtol=1e-12)
    # The validation split is scaled with the training statistics: close, not exact.
    assert np.all(np.abs(task.valid_features.mean(axis=0)) < 0.3)
    assert not np.allclose(task.valid_features.mean(axis=0), 0.0, atol=1e-6)
    # The train and valid examples are different images (the test split is left out).
    train_rows = {row.tobytes() for row in task.train_features}
    assert sum(row.tobytes() in train_rows for row in task.valid_features) <= 2


def test_digits_tasks_take_the_first_examples_and_are_deterministic():
    spec = TaskSpec(MULTI, F, 500, 120, num_tasks=3, data_seeds=(11001, 11002, 21001))
    first = make_tasks([spec])
    task_generate._projected_multiclass_data.cache_clear()
    again = make_tasks([spec])
    for a, b in zip(first, again, strict=True):
        assert a.name == b.name
        for field in ("train_features", "train_labels", "valid_features",
                      "valid_labels", "epochs"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert a.train_features.shape == (500, F) and a.valid_features.shape == (120, F)
        assert set(np.unique(a.train_labels)) == set(range(K))
        assert set(np.unique(a.valid_labels)) == set(range(K))
    # Data seeds 11001 and 11002: split/projection seeds 1 and 2, different tasks.
    assert not np.allclose(first[0].train_features, first[1].train_features)
    assert not np.array_equal(first[0].train_labels, first[1].train_labels)
    # 21001 = 11001 (mod 10): the same split and projection.
    np.testing.assert_array_equal(first[0].train_features, first[2].train_features)
    np.testing.assert_array_equal(first[0].valid_labels, first[2].valid_labels)
    # The first N examples of the full split.
    (full,) = make_tasks([TaskSpec(MULTI, F, DIGITS_TRAIN, DIGITS_VALID,
                                   data_seeds=(11001,))])
    np.testing.assert_array_equal(first[0].train_features, full.train_features[:500])
    np.testing.assert_array_equal(first[0].valid_labels, full.valid_labels[:120])


def test_the_supported_seed_range_picks_the_split_and_projection():
    """seed = min + data_seed % (max - min): data seed 7 in [100, 200) is
    seed 107; the same seed without a range ([0, 10)) is seed 7."""
    (a,) = make_tasks([TaskSpec(MULTI, F, 200, 50, data_seeds=(7,),
                                min_supported_data_seed=100,
                                max_supported_data_seed=200)])
    (b,) = make_tasks([TaskSpec(MULTI, F, 200, 50, data_seeds=(107,),
                                max_supported_data_seed=1000)])
    (c,) = make_tasks([TaskSpec(MULTI, F, 200, 50, data_seeds=(7,))])
    assert "seed=107," in a.name and "seed=107," in b.name and "seed=7," in c.name
    np.testing.assert_array_equal(a.train_features, b.train_features)
    assert not np.allclose(a.train_features, c.train_features)


@pytest.mark.parametrize("changes, error, words", [
    ({"features_size": 8}, ConfigError,
     r"test\.features_size: .*needs features_size >= 10.*got 8"),
    ({"features_size": 9}, ConfigError, r"test\.features_size: .*got 9"),
    ({"eval_type": "ACCURACY"}, ConfigError,
     r"test\.eval_type: .*must use MULTICLASS_ACCURACY, got ACCURACY"),
    ({"eval_type": "RMS_ERROR"}, ConfigError,
     r"test\.eval_type: .*must use MULTICLASS_ACCURACY, got RMS_ERROR"),
    ({"positive_class": 1, "negative_class": 2}, ConfigError,
     r"test\.(positive|negative)_class: only valid for "
     r"projected_binary_classification_task, not for " + MULTI),
    ({"held_out_pairs": [[0, 1]]}, ConfigError, r"test\.held_out_pairs: only valid for"),
    ({"path": "/tmp/x.npz"}, ConfigError, r"test\.path: dataset_name 'digits' .*no path"),
    ({"max_supported_data_seed": 0}, ConfigError, r"test\.max_supported_data_seed"),
], ids=["F8", "F9", "ACCURACY", "RMS_ERROR", "positive_class", "held_out_pairs",
        "digits-path", "seed-range"])
def test_bad_multiclass_specs_name_the_key(changes, error, words):
    with pytest.raises(error, match=words):
        TaskSpec.from_dict(multi_spec(**changes), "test")


def test_multiclass_accuracy_is_only_for_the_multiclass_task_type():
    with pytest.raises(ConfigError, match=r"test\.eval_type: " + BINARY
                       + r" must use ACCURACY .*got MULTICLASS_ACCURACY"):
        TaskSpec.from_dict(binary_spec(eval_type="MULTICLASS_ACCURACY"), "test")
    with pytest.raises(ConfigError, match=r"test\.eval_type: MULTICLASS_ACCURACY is only "
                                          r"for " + MULTI + ", not unit_test_zeros_task"):
        TaskSpec.from_dict({"task_type": "unit_test_zeros_task", "features_size": 16,
                            "num_train_examples": 5, "num_valid_examples": 5,
                            "eval_type": "MULTICLASS_ACCURACY"}, "test")
    assert TaskSpec.from_dict(binary_spec(), "t").num_classes == 0
    assert TaskSpec.from_dict(multi_spec(), "t").num_classes == K
    assert TaskSpec.from_dict(multi_spec(), "t").eval_type == EvalType.MULTICLASS_ACCURACY


@pytest.mark.parametrize("n_train, n_valid, words", [
    (DIGITS_TRAIN + 1, 10, r"num_train_examples is 1440 but only 1439 train examples"),
    (100, DIGITS_VALID + 1, r"num_valid_examples is 180 but only 179 valid examples"),
])
def test_more_examples_than_digits_has_is_a_data_error(n_train, n_valid, words):
    spec = TaskSpec(MULTI, F, n_train, n_valid)  # the spec cannot know the data
    with pytest.raises(DataError, match=words):
        create_task(spec, 11001, 1001)


def test_a_data_set_missing_a_class_is_refused(tmp_path):
    """The npz data set with class 7 missing: the task needs all 10 classes."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2, 3, 4, 5, 6, 8, 9], 30)
    x = rng.normal(size=(y.size, 20)) + y[:, None]
    np.savez(tmp_path / "data.npz", x=x, y=y)
    spec = TaskSpec.from_dict(multi_spec(50, 20, dataset_name="npz", path="data.npz"),
                              "test", base_dir=tmp_path)
    with pytest.raises(DataError, match=r"classes \[7\] have fewer than 3 examples"):
        make_tasks([spec])
    # With every class it works, and the labels are the npz's class ids.
    y = np.repeat(np.arange(10), 30)
    np.savez(tmp_path / "full.npz", x=rng.normal(size=(300, 20)) + y[:, None], y=y)
    spec = TaskSpec.from_dict(multi_spec(200, 25, dataset_name="npz", path="full.npz"),
                              "test", base_dir=tmp_path)
    (task,) = make_tasks([spec])
    assert task.num_classes == K and set(np.unique(task.valid_labels)) == set(range(K))


# --------------------------------------------------------------------------
# 2. Config validation
# --------------------------------------------------------------------------


def config(**changes):
    data = {"num_scalar_addresses": 4, "num_vector_addresses": 6,
            "num_matrix_addresses": 3, "search_tasks": [multi_spec(num_tasks=2)],
            "select_tasks": [multi_spec(num_tasks=2, min_supported_data_seed=100,
                                        max_supported_data_seed=200)]}
    data.update(changes)
    return config_from_dict(data, "mc.toml")


def test_multiclass_property():
    cfg = config()
    assert cfg.multiclass is True
    assert config_from_dict(cfg.to_dict(), "mc.toml") == cfg  # round trip
    binary = config(search_tasks=[binary_spec()], select_tasks=[binary_spec()])
    assert binary.multiclass is False
    # Only final tasks multi-class: still a multi-class config.
    assert config(search_tasks=[], select_tasks=[],
                  final_tasks=[multi_spec()]).multiclass is True


@pytest.mark.parametrize("changes", [
    {"select_tasks": [binary_spec()]},
    {"final_tasks": [binary_spec()]},
    {"search_tasks": [multi_spec(), binary_spec()]},
    {"search_tasks": [], "island_groups": [
        {"fraction": 0.5, "search_tasks": [multi_spec()]},
        {"fraction": 0.5, "search_tasks": [binary_spec()]}], "islands": 2},
], ids=["select", "final", "search", "island-groups"])
def test_mixing_multiclass_and_binary_tasks_is_refused(changes):
    with pytest.raises(ConfigError, match=r"^mc\.toml: tasks: MULTICLASS_ACCURACY tasks "
                                          r"cannot be mixed with other tasks"):
        config(**changes)


def test_multiclass_needs_three_vector_addresses():
    with pytest.raises(ConfigError, match=r"^mc\.toml: num_vector_addresses: multi-class "
                                          r"tasks need at least 3 .*got 2"):
        config(num_vector_addresses=2)
    assert config(num_vector_addresses=3).num_vector_addresses == 3
    # Binary tasks are fine with 2.
    config(num_vector_addresses=2, search_tasks=[binary_spec()],
           select_tasks=[binary_spec()])


def test_the_shipped_multiclass_config_on_digits():
    """configs/multiclass_fashion.toml with its tasks moved to digits (no path,
    sizes digits has): a valid multi-class config; ``--set
    num_vector_addresses=2`` is refused naming the override."""
    data = tomllib.loads(MULTICLASS_FASHION.read_text())
    for name in ("search_tasks", "select_tasks", "final_tasks"):
        for spec in data[name]:
            spec.pop("path")
            spec["dataset_name"] = "digits"
    sizes = [f"{name}.0.{key}={value}" for name in ("search_tasks", "select_tasks",
                                                    "final_tasks")
             for key, value in (("num_train_examples", 300), ("num_valid_examples", 100))]
    cfg = config_from_dict(apply_overrides(data, sizes), "multiclass_fashion.toml",
                           overrides=sizes)
    assert cfg.multiclass
    assert {s.num_classes for s in cfg.search_tasks + cfg.select_tasks} == {K}
    overrides = [*sizes, "num_vector_addresses=2"]
    with pytest.raises(ConfigError, match=r"^--set num_vector_addresses=2: "
                                          r"num_vector_addresses: multi-class tasks"):
        config_from_dict(apply_overrides(data, overrides), "multiclass_fashion.toml",
                         overrides=overrides)
    overrides = [*sizes, "select_tasks.0.task_type=\"" + BINARY + "\""]
    with pytest.raises(ConfigError, match="cannot be mixed with other tasks"):
        config_from_dict(apply_overrides(data, overrides), "multiclass_fashion.toml",
                         overrides=overrides)


# --------------------------------------------------------------------------
# 3. Dead-code removal for multi-class tasks
# --------------------------------------------------------------------------

S_, V_, M_ = Kind.SCALAR, Kind.VECTOR, Kind.MATRIX


def reference_effective(alg: Algorithm, multiclass: bool) -> Algorithm:
    """Strong liveness over the executor's loop written with sets, as the
    semantics state it (docs/semantics.md §4.10, §4.13): the executor reads
    the prediction (v2 / s1) after each Predict and writes s0, v0 (and v1 for
    multi-class) before each Predict and Learn; Setup is followed by Predict,
    Predict by Learn or Predict, Learn by Predict."""
    out = {(V_, 2)} if multiclass else {(S_, 1)}
    io = {(S_, 0), (V_, 0)} | ({(V_, 1)} if multiclass else set())

    def slice_(component, live):
        live, keep = set(live), []
        for ins in reversed(component):
            spec = OPS[ins.op]
            target = (spec.out, ins.out)
            if spec.out != Kind.NONE and target in live:
                if ins.op not in PARTIAL_WRITE_OPS:
                    live.discard(target)
                live |= {(k, a) for k, a in ((spec.in1, ins.in1), (spec.in2, ins.in2))
                         if k != Kind.NONE}
                keep.append(ins)
        return live, keep[::-1]

    live_p: set = set()
    live_l: set = set()
    while True:
        new_p, keep_p = slice_(alg.predict, out | (live_p - io) | (live_l - io))
        new_l, keep_l = slice_(alg.learn, new_p - io)
        if (new_p, new_l) == (live_p, live_l):
            break
        live_p, live_l = new_p, new_l
    _, keep_s = slice_(alg.setup, live_p - io)
    return Algorithm(tuple(keep_s), tuple(keep_p), tuple(keep_l))


def _io_biased(rng: np.random.Generator, ins: Instruction) -> Instruction:
    """Redirect some operands to the multi-class I/O: vector inputs and
    outputs to v1 / v2, scalar outputs to s1."""
    spec = OPS[ins.op]
    a, b, o = ins.in1, ins.in2, ins.out
    if spec.in1 == V_ and rng.random() < 0.3:
        a = int(rng.integers(1, 3))
    if spec.in2 == V_ and rng.random() < 0.3:
        b = int(rng.integers(1, 3))
    if spec.out == V_ and rng.random() < 0.3:
        o = int(rng.integers(1, 3))
    if spec.out == S_ and rng.random() < 0.2:
        o = 1
    return Instruction(ins.op, a, b, o, ins.data)


def random_multiclass_program(rng: np.random.Generator) -> Algorithm:
    """Random deterministic code (sizes up to 8/6/10) biased to the I/O
    addresses; 60% have a softmax-regression core on random addresses
    spliced in, so that many programs learn and much random code touches
    what they compute."""
    sizes = (rng.integers(0, 9), rng.integers(0, 7), rng.integers(0, 11))
    parts = [[_io_biased(rng, random_instruction_any_output(rng, MEMORY.sizes))
              for _ in range(n)] for n in sizes]
    if rng.random() < 0.6:
        w = int(rng.integers(0, 3))
        t = (w + int(rng.integers(1, 3))) % 3
        g, lr = int(rng.integers(3, 6)), int(rng.integers(2, 6))
        core = ([const(lr, float(rng.uniform(0.01, 0.1)))],
                [op("MATRIX_VECTOR_PRODUCT_OP", 2, w, 0)],
                [op("VECTOR_DIFF_OP", g, 1, 2), op("SCALAR_VECTOR_PRODUCT_OP", g, lr, g),
                 op("VECTOR_OUTER_PRODUCT_OP", t, g, 0), op("MATRIX_SUM_OP", w, w, t)])
        return Algorithm(*(splice(rng, p, c) for p, c in zip(parts, core, strict=True)))
    return Algorithm(*(tuple(p) for p in parts))


def numba_effective(algs: list[Algorithm], multiclass: bool, memory=MEMORY):
    layout = Layout.fit(algs)
    pop = PackedPopulation.from_algorithms(algs, np.zeros(len(algs)), layout)
    return executor_arrays(pop.code, pop.data, pop.sizes, np.arange(len(algs)), layout,
                           memory.sizes, effective=True, multiclass=multiclass)


def assert_numba_matches(algs: list[Algorithm], multiclass: bool) -> None:
    got = numba_effective(algs, multiclass)
    want = pack_algorithms([effective_algorithm(a, multiclass) for a in algs])
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2][:, :4], want[2][:, :4])


def run_multi(algs, record_predictions=False):
    batch = TaskBatch.from_tasks(multi_tasks(3, 30, 15, epochs=2))
    return execute(list(algs), batch, MEMORY, np.zeros(len(algs), dtype=np.int64),
                   record_predictions=record_predictions)


def test_random_programs_multiclass_analyses_agree_and_keep_fitness():
    """On 300 random programs: effective.py (multiclass=True) equals the
    reference liveness and the numba analysis with the multi-class masks; the
    effective programs have exactly the originals' fitness, train steps and
    validation probabilities on multi-class digits tasks (2 epochs)."""
    rng = np.random.default_rng(413)
    algs = [random_multiclass_program(rng) for _ in range(300)]
    effs = [effective_algorithm(a, multiclass=True) for a in algs]
    for a, e in zip(algs, effs, strict=True):
        assert e == reference_effective(a, multiclass=True), str(a)
        assert effective_algorithm(a, multiclass=False) == reference_effective(a, False)
    assert_numba_matches(algs, multiclass=True)
    assert_numba_matches(algs, multiclass=False)
    full, eff = run_multi(algs, True), run_multi(effs, True)
    np.testing.assert_array_equal(full.fitness, eff.fitness)
    np.testing.assert_array_equal(full.train_steps, eff.train_steps)
    np.testing.assert_array_equal(full.predictions, eff.predictions)
    # The test is meaningful: the two conventions differ on most programs, much
    # code is dead, many programs beat the constant prediction, some stop early.
    differ = sum(effective_algorithm(a, True) != effective_algorithm(a, False)
                 for a in algs)
    assert differ > 150, differ
    kept = np.mean([len(e) / len(a) for a, e in zip(algs, effs, strict=True) if len(a)])
    assert kept < 0.6, kept
    base = chance(multi_tasks(3, 30, 15, epochs=2))
    # Measured: 16% beat it by 0.2 (14% reach 0.5); 14% stop early (NaN logits).
    assert np.mean(full.fitness.mean(axis=1) > base + 0.2) > 0.08
    assert np.mean(full.train_steps < full.train_steps.max()) > 0.05


def test_random_programs_over_all_ops_numba_matches_python():
    """Random programs over every op (random ones included) and memory
    6/5/3, the I/O addresses often used: both analyses agree for both
    conventions."""
    all_ops = tuple(o.code for o in OPS)
    rng = np.random.default_rng(5)
    algs = []
    for _ in range(400):
        alg = random_algorithm((int(rng.integers(0, 8)), int(rng.integers(1, 6)),
                                int(rng.integers(0, 10))), (all_ops,) * 3, (6, 5, 3), rng)
        algs.append(Algorithm(*(tuple(_io_biased(rng, i) for i in c)
                                for c in alg.components)))
    for multiclass in (True, False):
        assert_numba_matches(algs, multiclass)
        for a in algs:
            assert effective_algorithm(a, multiclass) == reference_effective(a, multiclass)


def test_writing_only_s1_is_dead_for_multiclass_and_live_for_binary():
    alg = algorithm(setup=[const(2, 0.5)],
                    predict=[op("VECTOR_INNER_PRODUCT_OP", 1, 3, 0),
                             op("SCALAR_SUM_OP", 1, 1, 2)],
                    learn=[op("SCALAR_DIFF_OP", 4, 0, 1), op("SCALAR_VECTOR_PRODUCT_OP", 5, 4, 0),
                           op("VECTOR_SUM_OP", 3, 3, 5)])
    assert effective_algorithm(alg, multiclass=False) is alg
    assert effective_algorithm(alg, multiclass=True) == algorithm()
    assert_numba_matches([alg], True)
    # On multi-class tasks it is the empty program: constant logits, chance.
    res = run_multi([alg, algorithm()])
    np.testing.assert_array_equal(res.fitness[0], res.fitness[1])
    tasks = multi_tasks(3, 30, 15, epochs=2)
    np.testing.assert_array_equal(res.fitness[0], chance_per_task(tasks))
    np.testing.assert_allclose(res.fitness[0],
                               [np.mean(t.valid_labels == K - 1) for t in tasks],
                               rtol=1e-14)


def test_writing_v2_is_live_for_multiclass_and_dead_for_binary():
    alg = algorithm(setup=[make("VECTOR_GAUSSIAN_SET_OP", out=3, data=(0.0, 1.0))],
                    predict=[op("VECTOR_PRODUCT_OP", 2, 3, 0)])
    assert effective_algorithm(alg, multiclass=True) is alg
    assert effective_algorithm(alg, multiclass=False) == algorithm()
    assert is_effectively_random(alg, multiclass=True)
    assert not is_effectively_random(alg, multiclass=False)
    assert_numba_matches([alg], True)
    assert_numba_matches([alg], False)


def test_setup_and_learn_writes_to_v1_are_dead_for_multiclass():
    """The executor writes v1 (zeros before Predict, the one-hot label before
    Learn): Setup's and Learn's writes to v1 never reach a Predict, while
    Predict's own write to v1 is live within Predict, and Learn reading v1
    (the label) is live. For binary tasks v1 is ordinary memory."""
    setup = [const(2, 0.5), op("SCALAR_BROADCAST_OP", 1, 2)]  # v1 = 0.5
    predict = [op("VECTOR_PRODUCT_OP", 4, 1, 0),  # v4 = v1 * v0 (v1 = 0 here)
               op("VECTOR_SUM_OP", 2, 4, 3),  # logits v2 = v4 + v3
               op("VECTOR_INNER_PRODUCT_OP", 1, 1, 0)]  # s1 = v1 . v0
    learn = [op("VECTOR_DIFF_OP", 5, 1, 2),  # v5 = label - probabilities
             op("VECTOR_SUM_OP", 3, 3, 5),  # v3 += v5: class counts minus probabilities
             op("VECTOR_SUM_OP", 1, 0, 0)]  # v1 = 2 v0: overwritten before Predict
    alg = algorithm(setup, predict, learn)
    multi = effective_algorithm(alg, multiclass=True)
    assert multi == algorithm([], predict[:2], learn[:2])
    binary = effective_algorithm(alg, multiclass=False)
    assert binary == algorithm(setup, predict[2:], learn[2:])
    assert_numba_matches([alg], True)
    res = run_multi([alg, multi, algorithm([], predict[1:2], learn[:2])])
    np.testing.assert_array_equal(res.fitness[0], res.fitness[1])
    # v4 = v1 * v0 = 0 in every Predict: the same as without it ...
    np.testing.assert_array_equal(res.fitness[0], res.fitness[2])
    # ... and the program learns the class frequencies (not every task at chance).
    assert res.fitness[0].mean() != chance(multi_tasks(3, 30, 15, epochs=2))
    # A Predict that writes v1 before reading it keeps the write.
    own = algorithm(predict=[op("VECTOR_SUM_OP", 1, 0, 0), op("VECTOR_PRODUCT_OP", 2, 1, 0)])
    assert effective_algorithm(own, multiclass=True) is own


def test_the_evaluator_runs_effective_multiclass_programs():
    """The evaluator (numba dead-code removal, FEC off) gives the fitness of
    the programs as written on multi-class tasks."""
    rng = np.random.default_rng(77)
    algs = [random_multiclass_program(rng) for _ in range(60)]
    tasks = multi_tasks(3, 30, 15, epochs=2)
    got = Evaluator(tasks, MEMORY).evaluate_many(algs).per_task
    np.testing.assert_array_equal(got, run_multi(algs).fitness)
    # With the binary convention the v2 code would be dropped: different fitness.
    wrong = execute_packed_arrays(numba_effective(algs, multiclass=False), tasks)
    assert np.any(wrong != got)


def execute_packed_arrays(arrays, tasks):
    return execute_packed(arrays, TaskBatch.from_tasks(tasks), MEMORY,
                          np.zeros(len(arrays[2]), dtype=np.int64)).fitness


# --------------------------------------------------------------------------
# 4. The evaluator and compare
# --------------------------------------------------------------------------


def test_the_evaluator_refuses_a_mixed_batch():
    mixed = [*multi_tasks(1, 30, 15), *binary_tasks(1)]
    with pytest.raises(ValueError, match="all MULTICLASS_ACCURACY or none"):
        Evaluator(mixed, MEMORY)
    assert Evaluator(list(multi_tasks(1, 30, 15)), MEMORY).batch.multiclass
    assert not Evaluator(list(binary_tasks(1)), MEMORY).batch.multiclass


LR = 0.03
COMPARE_TASKS = 5


@functools.cache
def comparison():
    cfg = config(search_tasks=[multi_spec(1000, 150, num_tasks=COMPARE_TASKS)])
    return cfg, compare([], cfg, "search", ["logistic", "neural_net", "sklearn_linear"],
                        learning_rate=LR, seed=0)


def test_compare_baselines_learn_digits_well_above_chance():
    """Measured (5 tasks, 1000 train / 150 valid, one epoch, lr 0.03): softmax
    regression 0.816 (0.78-0.85), the network 0.79 (0.75-0.83),
    LogisticRegression about 0.85; chance (the last class) is about 0.1."""
    cfg, result = comparison()
    tasks = make_tasks(cfg.search_tasks)
    assert result.eval_types == ["MULTICLASS_ACCURACY"] and result.num_tasks == 5
    by_name = {b.name: b for b in result.baselines}
    assert by_name["logistic"].label == "hand-designed softmax regression"
    assert by_name["sklearn_linear"].label == "scikit-learn LogisticRegression"
    base = chance(tasks)
    assert base < 0.15
    for name, mean, low in (("logistic", 0.7, 0.6), ("neural_net", 0.65, 0.55),
                            ("sklearn_linear", 0.7, 0.6)):
        per_task = by_name[name].per_task
        assert per_task.shape == (5,)
        assert per_task.mean() > mean and per_task.min() > low, (name, per_task)
    # The hand-designed softmax regression is deterministic: the executor's
    # fitness of softmax_regression_algorithm(lr), task by task.
    res = execute([softmax_regression_algorithm(LR)], TaskBatch.from_tasks(tasks),
                  MemorySpec(4, 9, 4), [0])
    np.testing.assert_array_equal(by_name["logistic"].per_task, res.fitness[0])
    # scikit-learn's LogisticRegression fitted here, scored by its argmax.
    from sklearn.linear_model import LogisticRegression

    for t, task in enumerate(tasks):
        model = LogisticRegression(max_iter=1000).fit(task.train_features,
                                                      task.train_labels.astype(int))
        accuracy = np.mean(model.predict(task.valid_features) == task.valid_labels)
        assert by_name["sklearn_linear"].per_task[t] == pytest.approx(accuracy, abs=1e-12)


def test_fitness_from_predictions_scores_the_executors_probabilities():
    """The validation probabilities the executor records, scored by
    ``fitness_from_predictions``, give the executor's fitness exactly (softmax
    regression, the network with two seeds)."""
    tasks = multi_tasks(3, 300, 100)
    algs = [softmax_regression_algorithm(LR), multiclass_neural_net_algorithm(LR),
            multiclass_neural_net_algorithm(LR)]
    res = execute(algs, TaskBatch.from_tasks(tasks), MemorySpec(4, 9, 4), [0, 1, 2],
                  record_predictions=True)
    assert res.predictions.shape == (3, 3, 100, K)
    for p in range(3):
        for t, task in enumerate(tasks):
            probs = res.predictions[p, t]
            np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
            assert fitness_from_predictions(task.valid_labels, probs,
                                            EvalType.MULTICLASS_ACCURACY) \
                == res.fitness[p, t]
            # Logits give the same argmax: log-probabilities score the same.
            assert fitness_from_predictions(task.valid_labels, np.log(probs),
                                            "MULTICLASS_ACCURACY") == res.fitness[p, t]
    assert res.fitness[0].min() > 0.5 and res.fitness[1].min() > 0.3
    assert not np.array_equal(res.fitness[1], res.fitness[2])  # random initialisation
    # Constant predictions tie: the last class.
    task = tasks[0]
    assert fitness_from_predictions(task.valid_labels, np.ones((100, K)),
                                    EvalType.MULTICLASS_ACCURACY) \
        == chance_per_task([task])[0]


def _nan_in_validation() -> tuple[Task, np.ndarray]:
    """A 10-class task (F = 16) whose valid labels are all 0, and the recorded
    validation probabilities and fitness of a program whose logits are
    log(34 - c) at its c-th Predict: 30 training Predicts, then 3 finite
    validation rows (equal logits: class 9, wrong), then -inf and NaN logits
    (NaN probabilities: class 0 by docs/semantics.md §4.13, right)."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(45, F))
    y = np.r_[np.arange(30) % K, np.zeros(15)].astype(float)
    task = Task.from_arrays(x[:30], y[:30], x[30:], y[30:],
                            eval_type="MULTICLASS_ACCURACY", num_classes=K)
    alg = algorithm(setup=[const(3, 1.0), const(4, 34.0)],
                    predict=[op("SCALAR_SUM_OP", 5, 5, 3), op("SCALAR_DIFF_OP", 1, 4, 5),
                             op("SCALAR_LOG_OP", 1, 1), op("SCALAR_BROADCAST_OP", 2, 1)])
    res = execute([alg], TaskBatch.from_tasks([task]), MEMORY, [0],
                  record_predictions=True)
    return task, res


def test_nan_probabilities_predict_class_zero_in_the_executor():
    from automl_zero.export.runtime import argmax_last

    task, res = _nan_in_validation()
    probs = res.predictions[0, 0]
    assert np.isfinite(probs[:3]).all() and np.isnan(probs[3:]).all()
    assert res.fitness[0, 0] == 1.0 - 3 / 15
    predicted = argmax_last(probs)
    np.testing.assert_array_equal(predicted, [9, 9, 9] + [0] * 12)
    assert 1.0 - np.sum(predicted != task.valid_labels) / 15 == res.fitness[0, 0]


def test_fitness_from_predictions_scores_nan_probabilities_as_the_executor():
    task, res = _nan_in_validation()
    assert fitness_from_predictions(task.valid_labels, res.predictions[0, 0],
                                    EvalType.MULTICLASS_ACCURACY) == res.fitness[0, 0]


def test_compare_refuses_linear_and_mixed_tasks():
    cfg = config()
    tasks = list(multi_tasks(2, 300, 100))
    with pytest.raises(CompareError, match="baseline 'linear' is for regression"):
        compare([], cfg, "search", ["linear"], tasks=tasks)
    with pytest.raises(CompareError, match="mix MULTICLASS_ACCURACY and other tasks"):
        compare([], cfg, "search", ["logistic"], tasks=[*tasks, *binary_tasks(1)])


# --------------------------------------------------------------------------
# 5. Searches
# --------------------------------------------------------------------------


def _baseline_ops() -> dict:
    base = tomllib.loads(BASELINE_DIGITS.read_text())
    return {key: base[key] for key in ("setup_ops", "predict_ops", "learn_ops",
                                       "allowed_mutation_types")}


def multiclass_search_config(seed: int, individuals: int = 4000):
    ops = _baseline_ops()
    return config_from_dict({
        "random_seed": seed, "num_scalar_addresses": 4, "num_vector_addresses": 6,
        "num_matrix_addresses": 3, "setup_ops": ops["setup_ops"],
        "predict_ops": ops["predict_ops"] + ["VECTOR_DIFF_OP"],
        "learn_ops": ops["learn_ops"] + ["VECTOR_DIFF_OP", "MATRIX_VECTOR_PRODUCT_OP"],
        "allowed_mutation_types": ops["allowed_mutation_types"],
        "mutate_setup_size_max": 7, "mutate_predict_size_max": 11,
        "mutate_learn_size_max": 23, "population_size": 20, "tournament_size": 5,
        "max_individuals": individuals, "batch_size": 20, "progress_every": 1000,
        "fec": {"num_train_examples": 10, "num_valid_examples": 10},
        "search_tasks": [multi_spec(num_tasks=3)],
        "select_tasks": [multi_spec(num_tasks=2, min_supported_data_seed=100,
                                    max_supported_data_seed=200)],
        "final_tasks": [multi_spec(num_tasks=2, min_supported_data_seed=200,
                                   max_supported_data_seed=300)],
    }, "multiclass_search.toml")


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


@pytest.mark.parametrize("seed", [1, 4])  # measured: 1 finds no random ops, 4 does
def test_multiclass_search_from_empty_programs(tmp_path, seed):
    """A search on 3 multi-class digits tasks (300 / 100 examples) from empty
    programs: it completes and writes its results; the initial population
    (all empty: constant logits) scores exactly chance, the share of the last
    class; the best never scores below it; the printed effective program is
    the multi-class one (everything in it reaches v2) and T_select / T_final
    are the plain evaluation of the best program."""
    cfg = multiclass_search_config(seed)
    assert cfg.multiclass
    out = tmp_path / "run"
    result = az.search(cfg, out=out)
    assert result.stopped_by == "max_experiments" and result.total_individuals == 4000
    saved = json.loads((out / "result.json").read_text())
    assert saved["search_fitness"] == result.search_fitness
    assert saved["select_fitness"] == result.select_fitness
    base = chance(make_tasks(cfg.search_tasks))
    assert 0.08 < base < 0.12
    firsts = [e for e in _lines(out / "events.jsonl") if e["event"] == "best_changed"]
    assert firsts[0]["individuals"] == 20 and firsts[0]["fitness"] == base
    assert result.search_fitness >= base
    best = az.load_algorithm(out / "best_algorithm.json", feature_size=F)
    assert best == result.best_algorithm
    eff = effective_algorithm(best, multiclass=True)
    assert (out / "best_algorithm_effective.txt").read_text() == eff.to_text()
    assert eff == reference_effective(best, multiclass=True)
    assert effective_algorithm(eff, multiclass=True) == eff  # nothing more is dead
    assert_numba_matches([best, eff], True)
    # Whatever it keeps is on a path to v2; with the binary convention (s1)
    # nothing of a program that never touches s1 would be left.
    if eff != algorithm():
        writes = {(OPS[i.op].out, i.out) for c in eff.components for i in c}
        assert (V_, 2) in writes
    # T_select and T_final: the plain evaluation of the best. The driver's
    # stream (default_rng([seed, 1])) gives the select evaluator's seed, then
    # the final one's; a program without random ops does not depend on them.
    driver_rng = np.random.default_rng([seed, 1])
    for specs, value in ((cfg.select_tasks, result.select_fitness),
                         (cfg.final_tasks, result.final_fitness)):
        evaluator_seed = int(driver_rng.integers(1, 2**32 - 1))
        assert Evaluator(make_tasks(specs), cfg.memory,
                         seed=evaluator_seed).evaluate(best) == value
        if not is_effectively_random(best, multiclass=True):
            assert Evaluator(make_tasks(specs), cfg.memory).evaluate(best) == value


def test_a_multiclass_search_on_worker_processes_compiles_first(tmp_path, monkeypatch):
    """2 islands on 2 worker processes, as on a fresh install (the kernel of
    F = 16 taken as not compiled yet, so the driver compiles it before the
    workers start): the search runs, with the in-process run's result."""
    import automl_zero.run.driver as driver_module

    cfg = config_from_dict({**multiclass_search_config(1, 2000).to_dict(),
                            "islands": 2}, "two_islands.toml")
    alone = az.search(cfg, workers=1)
    monkeypatch.setattr(driver_module, "needs_compile", lambda batch: True)
    result = az.search(cfg, workers=2, out=tmp_path / "run")
    events = [e["event"] for e in _lines(tmp_path / "run" / "events.jsonl")]
    assert "compiling" in events
    assert result.best_algorithm == alone.best_algorithm
    assert result.total_train_steps == alone.total_train_steps


def test_figure5_initial_population_on_binary_digits(tmp_path):
    """A search from FIGURE5_NEURAL_NET_ALGORITHM (memory 4/8/2) on 3 binary
    digits tasks: every initial individual is the Figure 5 program, evaluated
    with its own seed for its random initialisation. The driver seeds island
    0's evaluator from SeedSequence([seed, 2, 0]).spawn(1)[0].spawn(2)[1]
    and the evaluator draws one seed per program (FEC on: identical programs
    all miss in the first batch), so the initial population's best and mean
    are those of the Figure 5 program executed directly with those seeds."""
    ops = _baseline_ops()
    p, seed = 20, 7
    cfg = config_from_dict({
        "random_seed": seed, "num_scalar_addresses": 4, "num_vector_addresses": 8,
        "num_matrix_addresses": 2, **ops, "mutate_setup_size_max": 7,
        "mutate_predict_size_max": 11, "mutate_learn_size_max": 23,
        "initial_population": "FIGURE5_NEURAL_NET_ALGORITHM", "population_size": p,
        "tournament_size": 5, "max_individuals": 400, "batch_size": 20,
        "progress_every": 20, "fec": {"num_train_examples": 10, "num_valid_examples": 10},
        "search_tasks": [binary_spec(num_tasks=3, max_supported_data_seed=100)],
        "select_tasks": [binary_spec(num_tasks=2, min_supported_data_seed=100,
                                     max_supported_data_seed=200)],
    }, "figure5.toml")
    assert not cfg.multiclass
    out = tmp_path / "run"
    result = az.search(cfg, out=out)
    assert (out / "result.json").exists() and result.total_individuals == 400
    fig5 = figure5_neural_net_algorithm()
    tasks = make_tasks(cfg.search_tasks)
    evaluation_seed = np.random.SeedSequence([seed, 2, 0]).spawn(1)[0].spawn(2)[1]
    seeds = np.random.default_rng(evaluation_seed).integers(0, 2**32, size=p,
                                                            dtype=np.int64)
    direct = execute([fig5] * p, TaskBatch.from_tasks(tasks), cfg.memory,
                     seeds).fitness.mean(axis=1)
    assert len(set(direct)) > 1  # the initialisation matters
    first = _lines(out / "progress.jsonl")[0]
    assert first["individuals"] == p
    assert first["best"] == direct.max()
    assert first["mean"] == pytest.approx(direct.mean(), abs=1e-12)
    best_changed = [e for e in _lines(out / "events.jsonl")
                    if e["event"] == "best_changed"]
    assert best_changed[0]["individuals"] == p
    assert best_changed[0]["fitness"] == direct.max()
    assert direct.max() > 0.9  # the network learns the digit pairs
    # The best is kept as written; its effective version with the s1 convention.
    eff = effective_algorithm(result.best_algorithm, multiclass=False)
    assert (out / "best_algorithm_effective.txt").read_text() == eff.to_text()


# --------------------------------------------------------------------------
# 6. simplify and ablate on multi-class tasks
# --------------------------------------------------------------------------


def padded_softmax(lr: float = LR) -> tuple[Algorithm, set]:
    """softmax_regression_algorithm(lr) with dead lines inserted, and their
    (component, index) positions."""
    soft = softmax_regression_algorithm(lr)
    (lr_set,), (forward,), learn = soft.setup, soft.predict, soft.learn
    setup = [lr_set, op("SCALAR_BROADCAST_OP", 1, 2),  # v1 = s2: overwritten
             const(3, 2.0)]  # feeds only dead code
    predict = [forward, op("SCALAR_PRODUCT_OP", 1, 3, 3)]  # s1 = s3 * s3
    learn_ = [learn[0], op("SCALAR_SUM_OP", 1, 1, 3),  # s1 = s1 + s3
              learn[1], learn[2], op("VECTOR_DIFF_OP", 4, 1, 2),  # v4: never read
              learn[3], op("VECTOR_SUM_OP", 1, 0, 0)]  # v1: overwritten
    dead = {("setup", 1), ("setup", 2), ("predict", 1), ("learn", 1), ("learn", 4),
            ("learn", 6)}
    return algorithm(setup, predict, learn_), dead


def test_simplify_removes_dead_multiclass_code_keeping_the_fitness():
    tasks = multi_tasks(3, 300, 100)
    padded, dead = padded_softmax()
    evaluator = Evaluator(tasks, MemorySpec(4, 6, 3))
    result = simplify(padded, evaluator)
    assert result.simplified == softmax_regression_algorithm(LR)
    assert result.fitness_after == result.fitness_before  # bit-identical
    assert result.fitness_before == Evaluator(tasks, MemorySpec(4, 6, 3)).evaluate(
        softmax_regression_algorithm(LR))
    assert result.fitness_before > 0.6
    assert {(c.component, c.index) for c in result.removed} == dead
    assert {c.reason for c in result.removed} == {REASON_DEAD}
    # Without the evaluator's tasks the default is the s1 convention: the
    # softmax code (which never reaches s1) would go.
    static_binary = simplify(padded).simplified
    assert static_binary != softmax_regression_algorithm(LR)
    assert simplify(padded, multiclass=True).simplified == softmax_regression_algorithm(LR)


def test_ablate_softmax_regression_roles():
    """The 6 instructions of softmax regression: Setup's learning rate
    (initialisation), the logits v2 = m0 v0 (forward pass), the error
    v1 - v2 (reads the label vector), its scaling and outer product
    (helpers), the weight update m0 += m1 (learning rule, read by Predict).
    Every one of them is essential: without any of them it does not learn."""
    tasks = multi_tasks(3, 300, 100)
    padded, _ = padded_softmax()
    roles = {("setup", 0): ROLE_INITIALISATION, ("predict", 0): ROLE_FORWARD,
             ("learn", 0): ROLE_ERROR, ("learn", 1): ROLE_HELPER,
             ("learn", 2): ROLE_HELPER, ("learn", 3): ROLE_LEARNING_RULE}
    original = {("setup", 0): 0, ("predict", 0): 0, ("learn", 0): 0, ("learn", 1): 2,
                ("learn", 2): 3, ("learn", 3): 5}
    fitness = None
    for alg in (softmax_regression_algorithm(LR), padded):
        result = ablate(alg, Evaluator(tasks, MemorySpec(4, 6, 3)))
        assert len(result) == 6
        got = {(a.component, a.index): a for a in result}
        assert {k: a.role for k, a in got.items()} == roles
        assert str(got[("predict", 0)].instruction) == "v2 = dot(m0, v0)"
        base = {a.fitness_before for a in result}
        assert len(base) == 1
        assert fitness is None or base == {fitness}
        fitness = base.pop()
        assert all(a.essential for a in result), [(a.component, a.index, a.fitness)
                                                   for a in result]
        # Without the learning rate, the logits, the error or the update it
        # does not learn (constant logits: chance, exactly); without the
        # scaling it learns with rate 1 (measured 0.62 against 0.79).
        for key, a in got.items():
            if key == ("learn", 1):
                assert chance(tasks) + 0.1 < a.fitness < fitness - 0.05
            else:
                assert a.fitness == chance(tasks), key
        if alg is padded:
            assert {k: a.original_index for k, a in got.items()} == original
    # On binary tasks nothing of it reaches s1: nothing to ablate.
    assert ablate(softmax_regression_algorithm(LR),
                  Evaluator(list(binary_tasks(1)), MemorySpec(4, 6, 3))) == []


def test_an_interrupted_multiclass_search_resumes_to_the_same_result(tmp_path):
    """Stopped at its second progress record and resumed (the config comes
    back from the run directory): the same best program, fitnesses and train
    steps as the uninterrupted run, and the same multi-class effective text."""
    from automl_zero.run.driver import SearchDriver
    from automl_zero.run.rundir import RunDir

    cfg = multiclass_search_config(3)
    full = az.search(cfg, out=tmp_path / "full")
    calls = []

    def interrupt(record) -> None:
        calls.append(record)
        if len(calls) == 2:
            driver.request_stop()

    with RunDir.create(tmp_path / "cut") as run_dir:
        driver = SearchDriver(cfg, run_dir, progress=interrupt)
        stopped = driver.run()
    assert stopped.stopped_by == "interrupted"
    assert not (tmp_path / "cut" / "result.json").exists()
    resumed = az.resume(tmp_path / "cut")
    assert resumed.best_algorithm == full.best_algorithm
    assert (resumed.search_fitness, resumed.select_fitness, resumed.final_fitness,
            resumed.total_individuals, resumed.total_train_steps) == (
        full.search_fitness, full.select_fitness, full.final_fitness,
        full.total_individuals, full.total_train_steps)
    for name in ("best_algorithm_effective.txt", "result.json"):
        assert (tmp_path / "cut" / name).exists()
    assert (tmp_path / "cut" / "best_algorithm_effective.txt").read_text() == \
        (tmp_path / "full" / "best_algorithm_effective.txt").read_text() == \
        effective_algorithm(full.best_algorithm, multiclass=True).to_text()


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-learn's digits as an npz data set (arrays x and y)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    np.savez(path, x=digits.data, y=digits.target)
    return path


def _fashion_on(npz: Path) -> list[str]:
    """``--set`` overrides running configs/multiclass_fashion.toml on an npz
    data set, small: 4 / 3 / 3 tasks of 300 / 100 examples, P = 20, T = 5,
    1000 individuals."""
    sets = ["population_size=20", "tournament_size=5", "max_individuals=1000",
            "batch_size=20", "progress_every=500"]
    for name, n in (("search_tasks", 4), ("select_tasks", 3), ("final_tasks", 3)):
        sets += [f'{name}.0.dataset_name="npz"', f'{name}.0.path="{npz}"',
                 f"{name}.0.num_train_examples=300", f"{name}.0.num_valid_examples=100",
                 f"{name}.0.num_tasks={n}"]
    return sets


def test_the_shipped_multiclass_config_through_the_cli(tmp_path, digits_npz):
    """configs/multiclass_fashion.toml (hurdles, FEC, the full op set) on
    digits from an npz file: ``search`` completes and prints the multi-class
    effective program; ``compare`` scores the run's best against softmax
    regression and LogisticRegression, the best with the run's T_select
    fitness when it draws no random numbers; ``simplify`` and ``ablate`` with
    the config treat a program as multi-class."""
    from click.testing import CliRunner

    from automl_zero.run.cli import cli

    sets = _fashion_on(digits_npz)
    args = [f"--set={s}" for s in sets]
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["search", str(MULTICLASS_FASHION), "--out", str(out),
                                 "--seed", "3", *args])
    assert r.exit_code == 0, r.output
    result = json.loads((out / "result.json").read_text())
    best = az.load_algorithm(out / "best_algorithm.json", feature_size=F)
    effective = effective_algorithm(best, multiclass=True).to_text()
    assert r.output.split("without dead code:\n")[1].startswith(effective)
    assert (out / "best_algorithm_effective.txt").read_text() == effective
    r = CliRunner().invoke(cli, ["compare", str(out), "--config", str(MULTICLASS_FASHION),
                                 "--tasks", "select", "--baselines",
                                 "logistic,sklearn_linear", "--learning-rate", "0.03",
                                 "--json", *args])
    assert r.exit_code == 0, r.output
    table = json.loads(r.output)
    assert table["eval_types"] == ["MULTICLASS_ACCURACY"] and table["num_tasks"] == 3
    means = {b["name"]: b["mean"] for b in table["baselines"]}
    assert means["logistic"] > 0.6 and means["sklearn_linear"] > 0.6
    if not is_effectively_random(best, multiclass=True):
        assert table["programs"][0]["mean"] == result["select_fitness"]
    # simplify and ablate on the config's tasks: the padded softmax regressor.
    padded, dead = padded_softmax()
    program = tmp_path / "padded.txt"
    program.write_text(padded.to_text())
    r = CliRunner().invoke(cli, ["simplify", str(program), "--config",
                                 str(MULTICLASS_FASHION), "--json", *args])
    assert r.exit_code == 0, r.output
    simplified = json.loads(r.output)
    assert simplified["simplified"] == softmax_regression_algorithm(LR).to_text()
    assert simplified["fitness_after"] == simplified["fitness_before"] > 0.6
    assert {(c["component"], c["index"]) for c in simplified["removed"]} == dead
    r = CliRunner().invoke(cli, ["ablate", str(program), "--config",
                                 str(MULTICLASS_FASHION), "--json", *args])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["ablations"]
    assert len(rows) == 6
    assert {(a["component"], a["original_index"]): a["role"] for a in rows}[
        ("predict", 0)] == ROLE_FORWARD
