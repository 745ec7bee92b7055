"""Multi-class classification (MULTICLASS_ACCURACY, paper §4.3): the executor
against the reference interpreter ``naive.py`` on random programs, hand-built
programs with known results (softmax regression by SGD against NumPy, the
hidden label, ties, NaN and inf logits, mixed batches), and task validation.

The I/O rules checked: Predict sees s0 = 0, v0 = features, v1 = 0; the logits
are v2[:K]; after a training Predict v2 holds the (truncating) softmax, the
error is |1 - p(label)|; Learn sees s0 = 0, v1 = one-hot(label), v0 =
features; validation scores the argmax of the softmax (ties to the last class)
without writing it back.

Kernel variants compiled here: F = 4 and F = 8.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from helpers import (
    DETERMINISTIC_OPS,
    algorithm,
    const,
    make,
    op,
    random_differential_instruction,
)
from naive import NaiveRun, naive_run, sigmoid

from automl_zero.errors import DataError
from automl_zero.executor.executor import (
    ExecutionResult,
    MemorySpec,
    TaskBatch,
    execute,
)
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.instruction import Instruction, index_to_float
from automl_zero.language.ops import IN1_KIND, IN2_KIND, OUT_KIND, Kind
from automl_zero.tasks import EvalType, Task

MEMORY = MemorySpec(6, 6, 3)
RECORD = 32  # errors recorded per task (all of most tasks here)


# --------------------------------------------------------------------------
# Tasks and programs
# --------------------------------------------------------------------------


def multiclass_task(features: int, classes: int, n_train: int, n_valid: int,
                    epochs: int = 2, seed: int = 0, noise: float = 0.0) -> Task:
    """Gaussian features, labels the argmax of a random linear map (plus
    ``noise`` times Gaussian noise on the scores)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(features, classes))
    x = rng.normal(size=(n_train + n_valid, features))
    scores = x @ w + noise * rng.normal(size=(n_train + n_valid, classes))
    y = np.argmax(scores, axis=1).astype(float)
    return Task.from_arrays(x[:n_train], y[:n_train], x[n_train:], y[n_train:],
                            eval_type="MULTICLASS_ACCURACY", num_classes=classes,
                            num_train_epochs=epochs, seed=seed)


def binary_task(features: int, n_train: int, n_valid: int, epochs: int = 2,
                seed: int = 0) -> Task:
    rng = np.random.default_rng(100 + seed)
    x, vx, w = (rng.normal(size=(n_train, features)),
                rng.normal(size=(n_valid, features)), rng.normal(size=features))
    return Task.from_arrays(x, (x @ w > 0).astype(float), vx, (vx @ w > 0).astype(float),
                            eval_type="ACCURACY", num_train_epochs=epochs, seed=seed)


def regression_task(features: int, n_train: int, n_valid: int, epochs: int = 2,
                    seed: int = 0) -> Task:
    rng = np.random.default_rng(200 + seed)
    x, vx, w = (rng.normal(size=(n_train, features)),
                rng.normal(size=(n_valid, features)), rng.normal(size=features))
    return Task.from_arrays(x, x @ w, vx, vx @ w, num_train_epochs=epochs, seed=seed)


def softmax_regression(lr: float = 0.05) -> Algorithm:
    """Setup s2 = lr; Predict v2 = m0 v0; Learn m0 += lr * outer(v1 - v2, v0)."""
    return algorithm(
        setup=[const(2, lr)],
        predict=[op("MATRIX_VECTOR_PRODUCT_OP", 2, 0, 0)],
        learn=[op("VECTOR_DIFF_OP", 3, 1, 2), op("SCALAR_VECTOR_PRODUCT_OP", 3, 2, 3),
               op("VECTOR_OUTER_PRODUCT_OP", 1, 3, 0), op("MATRIX_SUM_OP", 0, 0, 1)])


_VECTOR_OUT = [c for c in DETERMINISTIC_OPS if c and OUT_KIND[c] == Kind.VECTOR]
PREDICT, LEARN = 1, 2


def random_multiclass_instruction(rng: np.random.Generator, component: int,
                                  sizes: Sequence[int] = MEMORY.sizes,
                                  logits: bool = False) -> Instruction:
    """A random deterministic instruction (helpers.py) with its addresses
    biased towards the multi-class I/O: vector inputs v0 / v1 / v2, Predict
    writing v2 (always with ``logits``) and sometimes v1, Learn reading s0 and
    sometimes writing v1 / v2."""
    if logits:
        code = int(rng.choice(_VECTOR_OUT))
        ins = random_differential_instruction(rng, sizes)
        while ins.op != code:  # the helper's data for this op
            ins = random_differential_instruction(rng, sizes)
    else:
        ins = random_differential_instruction(rng, sizes)
    code = ins.op
    a, b, o = ins.in1, ins.in2, ins.out
    if IN1_KIND[code] == Kind.VECTOR and rng.random() < 0.5:
        a = int(rng.integers(3))
    if IN2_KIND[code] == Kind.VECTOR and rng.random() < 0.5:
        b = int(rng.integers(3))
    if IN1_KIND[code] == Kind.SCALAR and component == LEARN and rng.random() < 0.3:
        a = 0
    if OUT_KIND[code] == Kind.VECTOR:
        if logits or (component == PREDICT and rng.random() < 0.4):
            o = 2
        elif component in (PREDICT, LEARN) and rng.random() < 0.15:
            o = int(rng.integers(1, 3))
    return Instruction(code, a, b, o, ins.data)


def random_multiclass_program(rng: np.random.Generator) -> Algorithm:
    """40%: the softmax regressor with a few random instructions inserted (they
    often still learn); else random components, 70% of them ending Predict
    with an instruction writing the logits v2."""
    if rng.random() < 0.4:
        base = softmax_regression(float(rng.choice([0.01, 0.05, 0.2, 1.0])))
        parts = [list(c) for c in base.components]
        for c, part in enumerate(parts):
            for _ in range(int(rng.integers(0, 3))):
                part.insert(int(rng.integers(len(part) + 1)),
                            random_multiclass_instruction(rng, c))
        return algorithm(*parts)
    sizes = (int(rng.integers(0, 5)), int(rng.integers(1, 6)), int(rng.integers(0, 8)))
    parts = [[random_multiclass_instruction(rng, c) for _ in range(n)]
             for c, n in enumerate(sizes)]
    if rng.random() < 0.7:
        parts[PREDICT].append(random_multiclass_instruction(rng, PREDICT, logits=True))
    return algorithm(*parts)


def counter_logits(threshold: float) -> Algorithm:
    """Predict counts its calls c in s5 and sets every logit to
    log(threshold - c): finite while c < threshold, -inf at c = threshold
    (all logits -inf: NaN probabilities), NaN after."""
    return algorithm(
        setup=[const(3, 1.0), const(4, threshold)],
        predict=[op("SCALAR_SUM_OP", 5, 5, 3), op("SCALAR_DIFF_OP", 1, 4, 5),
                 op("SCALAR_LOG_OP", 1, 1), op("SCALAR_BROADCAST_OP", 2, 1)])


def constant_logits(features: int, values: dict[int, float]) -> list[Instruction]:
    """Setup instructions setting v5[i] = value (v5 is zero elsewhere)."""
    return [make("VECTOR_CONST_SET_OP", out=5, data=(index_to_float(i, features), x))
            for i, x in values.items()]


# --------------------------------------------------------------------------
# Running and comparing
# --------------------------------------------------------------------------


def run(algs: Sequence[Algorithm], tasks: Sequence[Task] | TaskBatch,
        memory: MemorySpec = MEMORY, record: int = RECORD, **kw) -> ExecutionResult:
    batch = tasks if isinstance(tasks, TaskBatch) else TaskBatch.from_tasks(tasks)
    return execute(list(algs), batch, memory, np.zeros(len(algs), dtype=np.int64),
                   return_memory=True, record_predictions=True, record_errors=record,
                   **kw)


def naive(alg: Algorithm, task: Task, memory: MemorySpec = MEMORY, **kw) -> NaiveRun:
    return naive_run(alg, task, *memory.sizes, **kw)


def expected_predictions(ref: NaiveRun, task: Task, shape: tuple[int, int]) -> np.ndarray:
    """The executor's predictions of one task from a naive run: the last
    validation pass, NaN where none was made (all of a task stopped in
    training); class probabilities in [:, :K], a scalar prediction in [:, 0]."""
    want = np.full(shape, np.nan)
    if ref.train_failed:
        return want
    for i, p in enumerate(ref.predictions):
        if task.eval_type == EvalType.MULTICLASS_ACCURACY:
            want[i, :task.num_classes] = p
        else:
            want[i, 0] = p
    return want


def check_against_naive(algs: Sequence[Algorithm], tasks: Sequence[Task],
                        res: ExecutionResult, lockstep: bool = False,
                        record: int = RECORD, **kw) -> list[list[NaiveRun]]:
    """Every (program, task): fitness, recorded errors, predictions and the
    final memory equal the naive interpreter's (the tolerances of
    test_executor.py), and the summed train steps. In a lockstep group a
    stopped task's lane may keep computing: its memory is not compared."""
    refs = []
    for p, alg in enumerate(algs):
        row = []
        for t, task in enumerate(tasks):
            ref = naive(alg, task, **kw)
            row.append(ref)
            context = f"program {p} on task {t} ({task.eval_type.name}):\n{alg}"
            np.testing.assert_allclose(res.fitness[p, t], ref.fitness, rtol=1e-9,
                                       atol=1e-300, err_msg=context)
            n_train = min(record, len(ref.train_errors))
            n_valid = min(record, len(ref.valid_errors))
            np.testing.assert_array_equal(res.num_errors[p, t], [n_train, n_valid],
                                          err_msg=context)
            np.testing.assert_allclose(res.train_errors[p, t, :n_train],
                                       ref.train_errors[:n_train], rtol=1e-9,
                                       atol=1e-300, err_msg=context)
            np.testing.assert_allclose(res.valid_errors[p, t, :n_valid],
                                       ref.valid_errors[:n_valid], rtol=1e-9,
                                       atol=1e-300, err_msg=context)
            got = res.predictions[p, t, :task.num_valid_examples]
            want = expected_predictions(ref, task, got.shape)
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-300,
                                       equal_nan=True, err_msg=context)
            if not (lockstep and ref.train_failed):
                mem = [res.final_memory[k][p, t] for k in range(3)]
                for g, w in zip(mem, (ref.memory.s, ref.memory.v, ref.memory.m),
                                strict=True):
                    np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-300,
                                               equal_nan=True, err_msg=context)
        refs.append(row)
        assert res.train_steps[p] == sum(r.train_steps for r in row), f"program {p}"
    return refs


# --------------------------------------------------------------------------
# Random programs: the executor against the naive interpreter
# --------------------------------------------------------------------------


def _check_coverage(algs: Sequence[Algorithm]) -> None:
    """The programs use every deterministic op and often touch the I/O
    addresses: Predict reading v1 and writing v1 / v2, Learn reading v1, v2
    and s0."""
    used = {i.op for a in algs for c in a.components for i in c}
    assert used >= set(DETERMINISTIC_OPS) - {0}

    def count(component: int, kind: Kind, address: int, role: str) -> int:
        n = 0
        for a in algs:
            for i in a.components[component]:
                if role == "out":
                    n += OUT_KIND[i.op] == kind and i.out == address
                else:
                    n += ((IN1_KIND[i.op] == kind and i.in1 == address)
                          or (IN2_KIND[i.op] == kind and i.in2 == address))
        return n

    for component, kind, address, role in [
            (PREDICT, Kind.VECTOR, 1, "in"), (PREDICT, Kind.VECTOR, 1, "out"),
            (PREDICT, Kind.VECTOR, 2, "out"), (LEARN, Kind.VECTOR, 1, "in"),
            (LEARN, Kind.VECTOR, 2, "in"), (LEARN, Kind.SCALAR, 0, "in")]:
        assert count(component, kind, address, role) >= 5, (component, address, role)


def _separate_tasks(features: int) -> list[Task]:
    """K = 3 and K = F (and K = 2 at F = 4), each its own schedule (so its own
    group: even a stopped task's memory is compared)."""
    tasks = [multiclass_task(features, 3, 24, 10, seed=1, noise=0.3),
             multiclass_task(features, features, 20, 12, seed=2)]
    if features == 4:
        tasks.append(multiclass_task(features, 2, 16, 8, epochs=3, seed=3))
    return tasks


@pytest.mark.parametrize("features, seed, max_abs_error, budget", [
    (4, 1, 100.0, None), (4, 2, 0.8, None), (4, 4, 100.0, (23, 5, 7)),
    (8, 3, 100.0, None),
], ids=["F4", "F4-threshold0.8", "F4-budget", "F8"])
def test_random_programs_match_the_naive_interpreter(features, seed, max_abs_error,
                                                     budget):
    """Random programs biased to read and write v0, v1, v2 and s0 in both
    Predict and Learn, on multi-class tasks (2 or 3 epochs): fitness, train
    steps, recorded errors, predictions and final memory equal the naive
    interpreter's. With max_abs_error 0.8 a training step also stops when
    p(label) < 0.2 (and a validation pass at the first misclassified example).
    With a budget (as a fingerprint run): 23 training steps (part of an
    epoch, or more than one), 5 validation examples, 7 errors recorded."""
    tasks = _separate_tasks(features)
    assert len(TaskBatch.from_tasks(tasks).groups) == len(tasks)
    rng = np.random.default_rng(seed)
    algs = [random_multiclass_program(rng) for _ in range(150 if features == 4 else 60)]
    kw = {}
    if budget is not None:
        kw = dict(num_train_examples=budget[0], num_valid_examples=budget[1],
                  record=budget[2])
    res = run(algs, tasks, max_abs_error=max_abs_error, **kw)
    _check_coverage(algs)
    assert res.predictions.shape == (len(algs), len(tasks), 12, features)
    refs = check_against_naive(algs, tasks, res, max_abs_error=max_abs_error, **kw)
    runs = [r for row in refs for r in row]
    # Coverage: programs that stop, programs that run to the end with finite
    # probabilities, programs that beat chance by far.
    stopped = sum(r.train_failed for r in runs)
    finite = sum(not r.train_failed and bool(np.isfinite(r.predictions).all())
                 for r in runs)
    learned = sum(r.fitness >= 0.75 for r in runs)
    assert stopped >= 3 and finite >= 0.3 * len(runs) and learned >= 3, (
        stopped, finite, learned, len(runs))


def test_random_programs_in_a_mixed_lockstep_group_match_the_naive_interpreter():
    """Multi-class (K = 2, 3, 4), binary and regression tasks with one schedule
    run in lockstep as one group: each task's results equal the naive
    interpreter's; the binary and regression predictions are in [..., 0]."""
    tasks = [multiclass_task(4, 3, 16, 8, seed=11), binary_task(4, 16, 8, seed=12),
             multiclass_task(4, 4, 16, 8, seed=13, noise=0.5),
             regression_task(4, 16, 8, seed=14), multiclass_task(4, 2, 16, 8, seed=15)]
    batch = TaskBatch.from_tasks(tasks)
    assert len(batch.groups) == 1
    rng = np.random.default_rng(21)
    algs = [random_multiclass_program(rng) for _ in range(80)]
    res = run(algs, batch)
    assert res.predictions.shape == (len(algs), 5, 8, 4)
    check_against_naive(algs, tasks, res, lockstep=True)
    # Nothing in [..., 1:] for the tasks with a scalar prediction, nor past K.
    assert np.isnan(res.predictions[:, [1, 3], :, 1:]).all()
    assert np.isnan(res.predictions[:, 0, :, 3]).all()
    assert np.isnan(res.predictions[:, 4, :, 2:]).all()


# --------------------------------------------------------------------------
# Softmax regression against NumPy
# --------------------------------------------------------------------------


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def numpy_softmax_regression(task: Task, lr: float) -> tuple[np.ndarray, list[float]]:
    """Plain SGD on the cross-entropy of softmax(W x)[:K], examples in the
    task's epoch orders: the final F x F weights (rows K.. stay 0) and the
    validation accuracy after each epoch."""
    k, f = task.num_classes, task.features_size
    w = np.zeros((f, f))
    accuracies = []
    for order in task.epochs:
        for i in order:
            x = task.train_features[i]
            target = np.zeros(f)
            target[int(task.train_labels[i])] = 1.0
            p = np.zeros(f)
            p[:k] = _softmax(w[:k] @ x)
            w += np.outer(lr * (target - p), x)
        predicted = np.argmax(task.valid_features @ w[:k].T, axis=1)
        accuracies.append(float(np.mean(predicted == task.valid_labels)))
    return w, accuracies


@pytest.mark.parametrize("features, classes", [(4, 3), (8, 8)])
def test_softmax_regression_is_sgd_on_the_cross_entropy(features, classes):
    """The hand-built softmax regressor on a separable task learns the same
    weights (m0) as NumPy's SGD, with the same accuracy (the best over the 3
    epochs), well above chance; the naive interpreter agrees too."""
    task = multiclass_task(features, classes, 60, 40, epochs=3, seed=7)
    alg = softmax_regression(0.05)
    res = run([alg], [task])
    w, accuracies = numpy_softmax_regression(task, 0.05)
    np.testing.assert_allclose(res.final_memory[2][0, 0, 0], w, rtol=1e-9, atol=1e-12)
    assert (res.final_memory[2][0, 0, 0, classes:] == 0.0).all()
    assert res.fitness[0, 0] == pytest.approx(max(accuracies), abs=1e-15)
    assert res.fitness[0, 0] >= 0.7  # chance: 1 / K; the largest class: <= 0.4
    assert res.train_steps[0] == 180
    # The last pass's probabilities give its accuracy.
    probs = res.predictions[0, 0]
    assert probs.shape == (40, classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    assert np.mean(np.argmax(probs, axis=1) == task.valid_labels) == accuracies[-1]
    check_against_naive([alg], [task], res)


# --------------------------------------------------------------------------
# The label is hidden from Predict
# --------------------------------------------------------------------------


LEAKS = {
    # v2 = v1 + v3 (v3 stays 0): the one-hot label would be the logits.
    "copy v1": [op("VECTOR_SUM_OP", 2, 1, 3)],
    # v2 = |v1| * 10 + s0: the label as a vector, or as a scalar.
    "v1 and s0": [op("VECTOR_ABS_OP", 4, 1), const(3, 10.0),
                  op("SCALAR_VECTOR_PRODUCT_OP", 4, 3, 4),
                  op("SCALAR_BROADCAST_OP", 5, 0), op("VECTOR_SUM_OP", 2, 4, 5)],
}


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_predict_cannot_see_the_label(leak):
    """A program whose Predict turns v1 (and s0) into the logits sees zeros:
    all logits tie at 0, every validation example is predicted as the last
    class (chance level, not 1.0), every training error is 1 - 1/K and each
    validation error is whether the label differs from K - 1."""
    task = multiclass_task(4, 3, 30, 30, epochs=2, seed=4)
    alg = algorithm(predict=LEAKS[leak])
    res = run([alg], [task])
    y = task.valid_labels
    assert res.fitness[0, 0] == pytest.approx(np.mean(y == 2), abs=1e-15)
    assert 0.1 < res.fitness[0, 0] < 0.6
    np.testing.assert_array_equal(res.num_errors[0, 0], [30, 30])
    np.testing.assert_array_equal(res.train_errors[0, 0, :30], 1.0 - 1.0 / 3.0)
    np.testing.assert_array_equal(res.valid_errors[0, 0, :30], (y != 2).astype(float))
    np.testing.assert_array_equal(res.predictions[0, 0], 1.0 / 3.0)
    check_against_naive([alg], [task], res)


def test_learn_sees_the_one_hot_label_and_the_probabilities():
    """Learn accumulates v1 (the one-hot labels: the class counts over all
    training steps), s0 (0: the label is not a scalar in multi-class tasks)
    and v2 (the probabilities written back after each training Predict,
    zero past K); Predict's writes to v1 are overwritten before Learn."""
    task = multiclass_task(4, 3, 20, 6, epochs=2, seed=5)
    alg = algorithm(
        predict=[op("VECTOR_SUM_OP", 1, 0, 0),  # v1 = 2 x: overwritten
                 op("MATRIX_VECTOR_PRODUCT_OP", 2, 0, 0)],  # logits 0
        learn=[op("VECTOR_SUM_OP", 3, 3, 1), op("SCALAR_SUM_OP", 3, 3, 0),
               op("VECTOR_SUM_OP", 4, 4, 2)])
    res = run([alg], [task])
    s, v = res.final_memory[0][0, 0], res.final_memory[1][0, 0]
    counts = np.bincount(task.train_labels.astype(int), minlength=4) * 2.0
    np.testing.assert_array_equal(v[3], counts)
    assert s[3] == 0.0
    np.testing.assert_allclose(v[4], [40 / 3, 40 / 3, 40 / 3, 0.0], rtol=1e-12)
    # After the last validation Predict: v1 as Predict left it, v2 the logits.
    np.testing.assert_array_equal(v[1], 2 * task.valid_features[-1])
    np.testing.assert_array_equal(v[2], 0.0)
    check_against_naive([alg], [task], res)


# --------------------------------------------------------------------------
# Ties, truncation, NaN and inf logits
# --------------------------------------------------------------------------


def test_tied_logits_predict_the_last_tied_class_and_logits_past_k_are_ignored():
    """Logits (1, 0, 1) with v2[3] = 5 past K = 3: the probabilities are
    (e, 1, e) / (2e + 1), class 2 is predicted, and in training the softmax
    is written back with v2[3] = 0 (Learn copies it to v4)."""
    task = multiclass_task(4, 3, 12, 20, epochs=1, seed=6)
    alg = algorithm(setup=constant_logits(4, {0: 1.0, 2: 1.0, 3: 5.0}),
                    predict=[op("VECTOR_SUM_OP", 2, 5, 3)],
                    learn=[op("VECTOR_SUM_OP", 4, 2, 3)])
    res = run([alg], [task])
    e = math.e
    p = np.array([e, 1.0, e]) / (2 * e + 1)
    assert res.fitness[0, 0] == pytest.approx(np.mean(task.valid_labels == 2), abs=1e-15)
    np.testing.assert_allclose(res.predictions[0, 0], np.tile(p, (20, 1)), rtol=1e-14)
    np.testing.assert_allclose(res.final_memory[1][0, 0, 4], [*p, 0.0], rtol=1e-14)
    np.testing.assert_array_equal(res.final_memory[1][0, 0, 2], [1.0, 0.0, 1.0, 5.0])
    np.testing.assert_allclose(res.train_errors[0, 0, :12],
                               1.0 - p[task.train_labels.astype(int)], rtol=1e-14)
    check_against_naive([alg], [task], res)


@pytest.mark.parametrize("logits, predicted", [
    ({}, 3),  # all 0: the last class
    ({0: 2.0, 1: 2.0}, 1),
    ({0: 2.0, 1: -1.0, 3: 1.0}, 0),
    ({0: -np.inf}, 3),  # -inf in some logits: probability 0, finite others
])
def test_constant_logits_predict_the_last_maximal_class(logits, predicted):
    task = multiclass_task(4, 4, 10, 24, epochs=1, seed=8)
    alg = algorithm(setup=constant_logits(4, logits),
                    predict=[op("VECTOR_SUM_OP", 2, 5, 3)])
    res = run([alg], [task])
    assert res.fitness[0, 0] == pytest.approx(np.mean(task.valid_labels == predicted),
                                              abs=1e-15)
    assert np.isfinite(res.predictions[0, 0]).all()
    check_against_naive([alg], [task], res)


def test_infinite_logits_stop_training_in_the_first_step():
    """v2 = 1 / v3 = +inf: inf - inf gives NaN probabilities, so the first
    training step stops the task: fitness 0, one step, nothing recorded or
    predicted; v2 holds the NaN probabilities."""
    task = multiclass_task(4, 3, 10, 5, seed=9)
    alg = algorithm(predict=[op("VECTOR_RECIPROCAL_OP", 2, 3)])
    res = run([alg], [task])
    assert res.fitness[0, 0] == 0.0
    assert res.train_steps[0] == 1
    np.testing.assert_array_equal(res.num_errors[0, 0], [0, 0])
    assert np.isnan(res.predictions).all()
    v2 = res.final_memory[1][0, 0, 2]
    assert np.isnan(v2[:3]).all() and v2[3] == 0.0
    check_against_naive([alg], [task], res)


def test_nan_logits_in_the_first_epoch_give_fitness_zero():
    """Logits log(5 - c) at the c-th Predict: all -inf at the 5th training
    Predict (-inf - -inf: NaN probabilities), which stops the task."""
    task = multiclass_task(4, 3, 10, 5, epochs=2, seed=10)
    alg = counter_logits(5.0)
    res = run([alg], [task])
    assert res.fitness[0, 0] == 0.0
    assert res.train_steps[0] == 5
    np.testing.assert_array_equal(res.num_errors[0, 0], [4, 0])
    np.testing.assert_array_equal(res.train_errors[0, 0, :4], 1.0 - 1.0 / 3.0)
    assert np.isnan(res.predictions).all()
    assert np.isnan(res.final_memory[1][0, 0, 2, :3]).all()
    check_against_naive([alg], [task], res)


def test_nan_logits_in_the_second_epoch_keep_the_first_epochs_fitness():
    """Predicts 1-10 train, 11-15 validate (equal finite logits: class 2),
    16 trains, 17 has -inf logits: the task stops in its second epoch with the
    first epoch's fitness, and predicts nothing (no last validation pass)."""
    task = multiclass_task(4, 3, 10, 5, epochs=2, seed=13)
    alg = counter_logits(17.0)
    res = run([alg], [task])
    assert res.train_steps[0] == 12
    assert res.fitness[0, 0] == pytest.approx(np.mean(task.valid_labels == 2), abs=1e-15)
    assert res.fitness[0, 0] > 0
    np.testing.assert_array_equal(res.num_errors[0, 0], [10, 5])
    assert np.isnan(res.predictions).all()
    check_against_naive([alg], [task], res)


def test_nan_logits_in_validation_predict_class_zero():
    """Predicts 1-10 train, 11-13 validate with equal finite logits (class 2),
    14 with -inf logits and 15-16 with NaN ones: NaN probabilities, class 0,
    no stop (the 0/1 error is never NaN)."""
    task = multiclass_task(4, 3, 10, 6, epochs=1, seed=12)
    alg = counter_logits(14.0)
    res = run([alg], [task])
    y = task.valid_labels
    predicted = np.array([2, 2, 2, 0, 0, 0])
    assert res.fitness[0, 0] == pytest.approx(np.mean(y == predicted), abs=1e-15)
    assert res.fitness[0, 0] == pytest.approx(0.5, abs=1e-15)  # y = 2 0 2 2 2 0
    assert res.train_steps[0] == 10
    np.testing.assert_array_equal(res.num_errors[0, 0], [10, 6])
    np.testing.assert_array_equal(res.valid_errors[0, 0, :6], (y != predicted) * 1.0)
    np.testing.assert_array_equal(res.predictions[0, 0, :3], 1.0 / 3.0)
    assert np.isnan(res.predictions[0, 0, 3:]).all()
    check_against_naive([alg], [task], res)


# --------------------------------------------------------------------------
# Mixed batches
# --------------------------------------------------------------------------


def test_mixed_batch_equals_each_task_alone():
    """A program that is softmax regression on v2 and logistic regression on
    s1 at once, on multi-class and binary tasks in one lockstep group and in
    groups of their own: the same fitness, steps, errors and predictions as
    running each task alone, and as the naive interpreter."""
    alg = softmax_regression(0.1).replace(
        predict=(op("MATRIX_VECTOR_PRODUCT_OP", 2, 0, 0),
                 op("VECTOR_INNER_PRODUCT_OP", 1, 4, 0)),
        learn=softmax_regression(0.1).learn + (
            op("SCALAR_DIFF_OP", 3, 0, 1), op("SCALAR_PRODUCT_OP", 3, 2, 3),
            op("SCALAR_VECTOR_PRODUCT_OP", 5, 3, 0), op("VECTOR_SUM_OP", 4, 4, 5)))
    tasks = [multiclass_task(4, 3, 30, 10, seed=31), binary_task(4, 30, 10, seed=32),
             multiclass_task(4, 4, 30, 10, seed=33), binary_task(4, 30, 10, seed=34),
             multiclass_task(4, 2, 20, 7, seed=35)]
    together = run([alg], tasks)
    assert len(TaskBatch.from_tasks(tasks).groups) == 2
    for t, task in enumerate(tasks):
        alone = run([alg], [task])
        assert together.fitness[0, t] == alone.fitness[0, 0]
        np.testing.assert_array_equal(together.num_errors[0, t], alone.num_errors[0, 0])
        np.testing.assert_array_equal(together.train_errors[0, t],
                                      alone.train_errors[0, 0])
        np.testing.assert_array_equal(together.valid_errors[0, t],
                                      alone.valid_errors[0, 0])
        k = max(task.num_classes, 1)
        got = together.predictions[0, t, :task.num_valid_examples, :k]
        if task.num_classes:
            np.testing.assert_array_equal(got, alone.predictions[0, 0])
        else:  # a batch without multi-class tasks: (P, T, NV)
            assert alone.predictions.shape == (1, 1, 10)
            np.testing.assert_array_equal(got[:, 0], alone.predictions[0, 0])
        assert together.fitness[0, t] >= 0.6  # chance: 1 / K, 1 / 2
    check_against_naive([alg], tasks, together, lockstep=True)
    # The binary tasks' predictions are the sigmoid of s1 = v4 . x.
    w = together.final_memory[1][0, 1, 4]
    np.testing.assert_allclose(together.predictions[0, 1, :, 0],
                               [sigmoid(float(w @ x)) for x in tasks[1].valid_features],
                               rtol=1e-12)


# --------------------------------------------------------------------------
# Task and memory validation
# --------------------------------------------------------------------------


def _arrays(train_y, valid_y=(0.0, 1.0), features: int = 4):
    return (np.zeros((len(train_y), features)), np.asarray(train_y, dtype=float),
            np.zeros((len(valid_y), features)), np.asarray(valid_y, dtype=float))


@pytest.mark.parametrize("train_y, valid_y, classes, words", [
    ((0.0, 1.5, 2.0), (0.0,), 3, r"train labels must be class ids 0\.\.2, found .*1\.5"),
    ((0.0, 1.0), (0.0, 3.0), 3, r"valid labels must be class ids 0\.\.2, found .*3\.0"),
    ((0.0, 1.0, 2.0), (-1.0,), 3, r"valid labels must be class ids 0\.\.2, found .*-1\.0"),
    ((0.0, 1.0), (1.0,), 1, r"2 <= num_classes <= features_size \(4\).*got 1"),
    ((0.0, 1.0), (1.0,), 0, r"2 <= num_classes <= features_size \(4\).*got 0"),
    ((0.0, 1.0), (1.0,), 5, r"2 <= num_classes <= features_size \(4\).*got 5"),
    ((0.0, 1.0), (1.0,), 2.5, r"2 <= num_classes <= features_size \(4\).*got 2\.5"),
], ids=["non-integer", "too-large", "negative", "K=1", "K-missing", "K>F",
        "K-non-integer"])
def test_bad_multiclass_tasks_name_the_problem(train_y, valid_y, classes, words):
    with pytest.raises(DataError, match=words):
        Task.from_arrays(*_arrays(train_y, valid_y), eval_type="MULTICLASS_ACCURACY",
                         num_classes=classes)


@pytest.mark.parametrize("eval_type", ["ACCURACY", "RMS_ERROR"])
def test_num_classes_only_for_multiclass_tasks(eval_type):
    with pytest.raises(DataError, match=f"num_classes is only for MULTICLASS_ACCURACY "
                                        f"tasks, got 3 for {eval_type}"):
        Task.from_arrays(*_arrays((0.0, 1.0)), eval_type=eval_type, num_classes=3)


def test_a_valid_multiclass_task():
    task = Task.from_arrays(*_arrays((0.0, 3.0, 1.0), (2.0,)),
                            eval_type="MULTICLASS_ACCURACY", num_classes=4)
    assert task.eval_type == EvalType.MULTICLASS_ACCURACY == 5
    assert task.num_classes == 4
    assert binary_task(4, 5, 3).num_classes == 0


def test_multiclass_needs_three_vector_addresses():
    multi = TaskBatch.from_tasks([multiclass_task(4, 3, 6, 3)])
    alg = algorithm(predict=[op("VECTOR_SUM_OP", 1, 0, 0)])
    with pytest.raises(ValueError, match="num_vector_addresses >= 3"):
        execute([alg], multi, MemorySpec(4, 2, 1), [0])
    # Mixed with a binary task: still refused; binary alone runs with 2.
    mixed = TaskBatch.from_tasks([binary_task(4, 6, 3), multiclass_task(4, 3, 6, 3)])
    with pytest.raises(ValueError, match="num_vector_addresses >= 3"):
        execute([alg], mixed, MemorySpec(4, 2, 1), [0])
    res = execute([alg], TaskBatch.from_tasks([binary_task(4, 6, 3)]),
                  MemorySpec(4, 2, 1), [0])
    assert res.fitness.shape == (1, 1)
    with pytest.raises(ValueError, match="3 vector addresses"):
        naive_run(alg, multiclass_task(4, 3, 6, 3), 4, 2, 1)
