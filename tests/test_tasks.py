"""Tests of tasks, task specs and task creators (docs/semantics.md §4.5, §12)."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pytest

from automl_zero.errors import ConfigError, DataError
from automl_zero.tasks import (
    DEFAULT_DATA_SEEDS,
    DEFAULT_PARAM_SEEDS,
    TASK_TYPES,
    USER_TASK_TYPES,
    EvalType,
    Task,
    TaskSpec,
    choose_projected_pair,
    create_task,
    generate_epochs,
    make_tasks,
    randomize_task_seeds,
)

LINEAR = "scalar_linear_regression_task"
AFFINE = "scalar_affine_regression_task"
NN = "scalar_2layer_nn_regression_task"
PROJECTED = "projected_binary_classification_task"
# The 9 pairs the original recommends holding out of the search (docs/semantics.md §12.5).
HELD_OUT = ((4, 6), (3, 5), (8, 9), (3, 8), (0, 9), (2, 9), (1, 8), (3, 6), (0, 5))


def _spec(task_type: str = LINEAR, **kw) -> TaskSpec:
    base = {"features_size": 4, "num_train_examples": 20, "num_valid_examples": 10}
    base.update(kw)
    return TaskSpec(task_type=task_type, **base)


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares coefficients and the largest absolute residual."""
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return coef, float(np.max(np.abs(x @ coef - y)))


def _assert_same_task(a: Task, b: Task) -> None:
    for field in (
        "train_features",
        "train_labels",
        "valid_features",
        "valid_labels",
        "epochs",
    ):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.name, a.index, a.eval_type) == (b.name, b.index, b.eval_type)


# --------------------------------------------------------------------------
# Seeds, epochs, Task invariants.
# --------------------------------------------------------------------------


def test_default_seeds_increment_after_the_list():
    tasks = make_tasks([_spec(num_tasks=10)])
    assert [t.data_seed for t in tasks] == [*DEFAULT_DATA_SEEDS, 11004, 11005]
    assert [t.param_seed for t in tasks] == [*DEFAULT_PARAM_SEEDS, 1004, 1005]
    assert [t.index for t in tasks] == list(range(10))
    assert tasks[0].name == f"{LINEAR}[data_seed=11001,param_seed=1001]"


def test_given_seeds_then_increment_mod_2_32():
    spec = _spec(num_tasks=3, data_seeds=(2**32 - 2,), param_seeds=(5, 9))
    assert spec.task_seeds() == [(2**32 - 2, 5), (2**32 - 1, 9), (0, 10)]


def test_index_runs_across_specs():
    tasks = make_tasks([_spec(num_tasks=2), _spec("unit_test_ones_task", num_tasks=3)])
    assert [t.index for t in tasks] == [0, 1, 2, 3, 4]
    assert tasks[2].data_seed == DEFAULT_DATA_SEEDS[0]  # each spec starts its own seeds


def test_epochs_identity_then_permutations():
    task = make_tasks([_spec(num_train_examples=50, num_train_epochs=4)])[0]
    assert task.epochs.dtype == np.int32 and task.epochs.shape == (4, 50)
    assert task.num_train_epochs == 4 and task.max_train_examples == 200
    np.testing.assert_array_equal(task.epochs[0], np.arange(50))
    for row in task.epochs[1:]:
        np.testing.assert_array_equal(np.sort(row), np.arange(50))
    assert len({tuple(row) for row in task.epochs}) == 4
    # Epoch orders depend on the data seed only.
    np.testing.assert_array_equal(task.epochs, generate_epochs(50, 4, task.data_seed))


def test_task_arrays_layout():
    task = make_tasks(
        [_spec(features_size=3, num_train_examples=7, num_valid_examples=5)]
    )[0]
    assert task.train_features.shape == (7, 3) and task.valid_features.shape == (5, 3)
    assert task.train_labels.shape == (7,) and task.valid_labels.shape == (5,)
    for arr in (
        task.train_features,
        task.train_labels,
        task.valid_features,
        task.valid_labels,
    ):
        assert arr.dtype == np.float64 and arr.flags.c_contiguous
    assert (task.features_size, task.num_train_examples, task.num_valid_examples) == (
        3,
        7,
        5,
    )
    assert task.eval_type is EvalType.RMS_ERROR


def test_task_rejects_inconsistent_arrays():
    good = np.zeros((3, 2))
    with pytest.raises(DataError, match="same number"):
        Task(
            good,
            np.zeros(3),
            np.zeros((2, 5)),
            np.zeros(2),
            EvalType.RMS_ERROR,
            generate_epochs(3, 1, 0),
        )
    with pytest.raises(DataError, match="epochs must have shape"):
        Task(
            good,
            np.zeros(3),
            good,
            np.zeros(3),
            EvalType.RMS_ERROR,
            generate_epochs(4, 1, 0),
        )


# --------------------------------------------------------------------------
# Synthetic regression tasks.
# --------------------------------------------------------------------------


def test_linear_labels_are_an_exact_linear_function():
    task = make_tasks(
        [_spec(features_size=8, num_train_examples=100, num_valid_examples=30)]
    )[0]
    w, residual = _fit(task.train_features, task.train_labels)
    assert residual < 1e-10
    np.testing.assert_allclose(task.valid_features @ w, task.valid_labels, atol=1e-10)
    # Features are N(0, 1).
    assert (
        abs(task.train_features.mean()) < 0.2
        and abs(task.train_features.std() - 1) < 0.1
    )


def test_linear_param_and_data_seeds_are_separate():
    t_a, t_b, t_c = make_tasks(
        [
            _spec(data_seeds=(1,), param_seeds=(7,)),
            _spec(data_seeds=(2,), param_seeds=(7,)),
            _spec(data_seeds=(1,), param_seeds=(8,)),
        ]
    )
    w_a, _ = _fit(t_a.train_features, t_a.train_labels)
    w_b, _ = _fit(t_b.train_features, t_b.train_labels)
    w_c, _ = _fit(t_c.train_features, t_c.train_labels)
    assert not np.array_equal(t_a.train_features, t_b.train_features)
    np.testing.assert_allclose(w_a, w_b, atol=1e-10)  # same param seed, same weights
    np.testing.assert_array_equal(t_a.train_features, t_c.train_features)
    assert not np.allclose(w_a, w_c)  # different param seed, different weights


def test_tasks_are_deterministic():
    specs = [
        _spec(num_tasks=3, num_train_epochs=2),
        _spec(NN, num_tasks=2),
        _spec(AFFINE),
    ]
    for a, b in zip(make_tasks(specs), make_tasks(specs), strict=True):
        _assert_same_task(a, b)


def test_affine_labels_have_an_intercept():
    task = make_tasks([_spec(AFFINE, features_size=8, num_train_examples=60)])[0]
    x1 = np.hstack([task.train_features, np.ones((60, 1))])
    coef, residual = _fit(x1, task.train_labels)
    assert residual < 1e-10 and abs(coef[-1]) > 1e-6
    _, residual_linear = _fit(task.train_features, task.train_labels)
    assert residual_linear > 1e-3
    # Affine tasks use their own streams: not the linear task's inputs.
    linear = make_tasks([_spec(features_size=8, num_train_examples=60)])[0]
    assert not np.array_equal(task.train_features, linear.train_features)


def test_2layer_nn_labels():
    task = make_tasks([_spec(NN, features_size=4, num_train_examples=200)])[0]
    assert np.any(task.train_labels != 0) and np.any(task.valid_labels != 0)
    _, residual = _fit(task.train_features, task.train_labels)
    assert residual > 1e-3  # not a linear function of x


def test_2layer_nn_needs_three_features():
    with pytest.raises(ConfigError, match=r"TaskSpec\.features_size: .*>= 3"):
        _spec(NN, features_size=2)
    with pytest.raises(ConfigError, match=r"search_tasks\[1\]\.features_size"):
        TaskSpec.from_dict(
            {
                "task_type": NN,
                "features_size": 2,
                "num_train_examples": 5,
                "num_valid_examples": 5,
            },
            "search_tasks[1]",
        )


# --------------------------------------------------------------------------
# Unit-test tasks (docs/semantics.md §12.6).
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task_type", "value"),
    [("unit_test_zeros_task", 0.0), ("unit_test_ones_task", 1.0)],
)
def test_constant_unit_tasks(task_type, value):
    task = make_tasks(
        [_spec(task_type, features_size=3, num_train_examples=4, num_valid_examples=2)]
    )[0]
    np.testing.assert_array_equal(task.train_features, np.full((4, 3), value))
    np.testing.assert_array_equal(task.train_labels, np.full(4, value))
    np.testing.assert_array_equal(task.valid_features, np.full((2, 3), value))
    np.testing.assert_array_equal(task.valid_labels, np.full(2, value))


def test_increment_unit_task():
    spec = _spec(
        "unit_test_increment_task",
        features_size=2,
        num_train_examples=4,
        num_valid_examples=3,
        increment=0.5,
    )
    task = make_tasks([spec])[0]
    np.testing.assert_array_equal(
        task.train_features, [[0, 0], [0.5, 0.5], [1, 1], [1.5, 1.5]]
    )
    np.testing.assert_array_equal(task.train_labels, [0, 0.5, 1, 1.5])
    np.testing.assert_array_equal(task.valid_features, [[0, 0], [0.5, 0.5], [1, 1]])
    np.testing.assert_array_equal(task.valid_labels, [0, 0.5, 1])
    assert (
        make_tasks([dataclasses.replace(spec, increment=1.0)])[0].train_labels[3] == 3.0
    )


def test_fixed_unit_task():
    d = {
        "task_type": "unit_test_fixed_task",
        "train_features": [[1, 2], [3, 4], [5, 6]],
        "train_labels": [[7], [8], [9]],  # the original's one-element label vectors
        "valid_features": [[0.5, -1]],
        "valid_labels": [2.5],
        "eval_type": "ACCURACY",
    }
    spec = TaskSpec.from_dict(d, "t")
    assert (spec.features_size, spec.num_train_examples, spec.num_valid_examples) == (
        2,
        3,
        1,
    )
    task = make_tasks([spec])[0]
    np.testing.assert_array_equal(task.train_features, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(task.train_labels, [7, 8, 9])
    np.testing.assert_array_equal(task.valid_features, [[0.5, -1]])
    np.testing.assert_array_equal(task.valid_labels, [2.5])
    assert task.eval_type is EvalType.ACCURACY
    with pytest.raises(
        ConfigError, match=r"t\.num_train_examples: is 2 but train_features has 3"
    ):
        TaskSpec.from_dict({**d, "num_train_examples": 2}, "t")
    with pytest.raises(ConfigError, match=r"t\.valid_labels: has 2 labels, expected 1"):
        TaskSpec.from_dict({**d, "valid_labels": [1, 2]}, "t")
    with pytest.raises(ConfigError, match=r"t\.train_features\[1\]: has 1 elements"):
        TaskSpec.from_dict({**d, "train_features": [[1, 2], [3], [5, 6]]}, "t")
    with pytest.raises(
        ConfigError, match=r"t\.train_labels\[0\]: a label must have exactly one"
    ):
        TaskSpec.from_dict({**d, "train_labels": [[1, 2], [3], [4]]}, "t")


# --------------------------------------------------------------------------
# Projected binary classification.
# --------------------------------------------------------------------------


def _projected(**kw) -> TaskSpec:
    base = {"features_size": 16, "num_train_examples": 100, "num_valid_examples": 20}
    base.update(kw)
    return TaskSpec(task_type=PROJECTED, **base)


def test_projected_digits_task():
    # Digits classes 0 and 1 have 178 + 182 = 360 examples: 288 train / 36 valid / 36 test.
    spec = _projected(
        positive_class=0,
        negative_class=1,
        num_train_examples=288,
        num_valid_examples=36,
        data_seeds=(13,),
    )
    task = make_tasks([spec])[0]
    assert task.eval_type is EvalType.ACCURACY
    assert task.train_features.shape == (288, 16) and task.valid_features.shape == (
        36,
        16,
    )
    for labels in (task.train_labels, task.valid_labels):
        assert set(np.unique(labels)) == {0.0, 1.0}
    # Stratified: the class balance of the pair (178 vs 182) is kept.
    assert int(task.train_labels.sum()) in (142, 143)
    # Standardised on the training examples.
    np.testing.assert_allclose(task.train_features.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(task.train_features.std(axis=0), 1.0, atol=1e-10)
    assert np.abs(task.valid_features.mean(axis=0)).max() < 1.0
    # Explicit classes: split seed = min + data_seed % (max - min) = 0 + 13 % 10.
    assert choose_projected_pair(spec, 13) == (0, 1, 3)
    assert "pos=0,neg=1,seed=3" in task.name
    _assert_same_task(task, make_tasks([spec])[0])


def test_projected_first_examples_are_taken():
    small = make_tasks(
        [_projected(positive_class=2, negative_class=7, num_train_examples=50)]
    )[0]
    big = make_tasks(
        [_projected(positive_class=2, negative_class=7, num_train_examples=200)]
    )[0]
    np.testing.assert_array_equal(small.train_features, big.train_features[:50])
    np.testing.assert_array_equal(small.valid_features, big.valid_features)


def test_projected_too_many_examples_names_the_number_available():
    with pytest.raises(
        DataError, match=r"num_train_examples is 289 but only 288 train"
    ):
        make_tasks(
            [_projected(positive_class=0, negative_class=1, num_train_examples=289)]
        )
    with pytest.raises(DataError, match=r"num_valid_examples is 37 but only 36 valid"):
        make_tasks(
            [_projected(positive_class=0, negative_class=1, num_valid_examples=37)]
        )


def test_projected_random_pairs_avoid_held_out_pairs():
    spec = _projected(
        held_out_pairs=HELD_OUT, min_supported_data_seed=5, max_supported_data_seed=25
    )
    chosen = [choose_projected_pair(spec, s) for s in range(400)]
    pairs = {(p, n) for p, n, _ in chosen}
    assert not pairs & set(HELD_OUT)
    assert all(p < n for p, n in pairs)  # positive is the smaller class id
    assert len(pairs) >= 30  # spread over the 36 search pairs
    seeds = {s for _, _, s in chosen}
    assert min(seeds) >= 5 and max(seeds) < 25 and len(seeds) > 10
    assert chosen == [
        choose_projected_pair(spec, s) for s in range(400)
    ]  # deterministic
    # Holding out the other 36 pairs leaves exactly the 9 meta-validation pairs.
    others = tuple(
        (i, j) for i in range(10) for j in range(i + 1, 10) if (i, j) not in HELD_OUT
    )
    final = _projected(held_out_pairs=others)
    assert {choose_projected_pair(final, s)[:2] for s in range(300)} == set(HELD_OUT)


def test_projected_tasks_over_random_pairs():
    tasks = make_tasks(
        [_projected(held_out_pairs=HELD_OUT, num_tasks=4, features_size=8)]
    )
    for task in tasks:
        assert task.features_size == 8
        assert set(np.unique(task.train_labels)) == {0.0, 1.0}
        pos, neg = (int(v.split("=")[1]) for v in task.name.split(",")[1:3])
        assert (min(pos, neg), max(pos, neg)) not in HELD_OUT


def test_projected_positive_class_gets_label_one(tmp_path):
    # One raw feature: 1 for class 3, 0 for class 7. After the projection x @ R
    # (R = RandomState(seed).randn(1, F)) and standardisation, label-1 examples
    # sit on the side of sign(R[0, j]) in every column j.
    n = 40
    x = np.concatenate([np.ones(n), np.zeros(n), np.full(n, 5.0)])[:, None]
    y = np.concatenate([np.full(n, 3), np.full(n, 7), np.full(n, 1)])
    np.savez(tmp_path / "d.npz", x=x, y=y)
    spec = TaskSpec.from_dict(
        {
            "task_type": PROJECTED,
            "dataset_name": "npz",
            "path": "d.npz",
            "positive_class": 3,
            "negative_class": 7,
            "features_size": 4,
            "num_train_examples": 64,
            "num_valid_examples": 8,
            "data_seeds": [4],
        },
        "t",
        base_dir=tmp_path,
    )
    assert spec.path == str(tmp_path / "d.npz")
    task = make_tasks([spec])[0]
    r = np.random.RandomState(4).randn(1, 4)[0]
    for x_split, y_split in (
        (task.train_features, task.train_labels),
        (task.valid_features, task.valid_labels),
    ):
        signs = np.sign(x_split) * np.sign(r)  # +1 where the example looks like class 3
        np.testing.assert_array_equal(signs[y_split == 1.0], 1.0)
        np.testing.assert_array_equal(signs[y_split == 0.0], -1.0)
    assert int(task.train_labels.sum()) == 32  # stratified split of 40 + 40


def test_projected_from_cifar_binary_files(tmp_path):
    rng = np.random.default_rng(0)
    directory = tmp_path / "cifar-10-batches-bin"
    directory.mkdir()
    for b in range(1, 6):
        labels = np.array([0, 1, 2] * 8, dtype=np.uint8)
        images = rng.integers(0, 256, (24, 3072), dtype=np.uint8)
        records = np.concatenate([labels[:, None], images], axis=1)
        (directory / f"data_batch_{b}.bin").write_bytes(records.tobytes())
    # 40 + 40 examples of classes 0 and 1: 64 train / 8 valid / 8 test.
    spec = _projected(
        dataset_name="cifar10",
        path=str(tmp_path),
        positive_class=0,
        negative_class=1,
        num_train_examples=64,
        num_valid_examples=8,
    )
    task = make_tasks([spec])[0]
    assert task.train_features.shape == (64, 16)
    np.testing.assert_allclose(task.train_features.mean(axis=0), 0.0, atol=1e-10)
    with pytest.raises(DataError, match="no examples of class 5"):
        make_tasks([dataclasses.replace(spec, negative_class=5)])


def test_projected_missing_data_raises_data_error(tmp_path):
    spec = _projected(dataset_name="mnist", path=str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="nowhere"):
        make_tasks([spec])


# --------------------------------------------------------------------------
# TaskSpec.from_dict / to_dict.
# --------------------------------------------------------------------------

_GOOD = {
    "task_type": LINEAR,
    "features_size": 4,
    "num_train_examples": 100,
    "num_valid_examples": 10,
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"foo": 1}, r"search_tasks\[0\]\.foo: unknown key"),
        (
            {"features_size": "4"},
            r"search_tasks\[0\]\.features_size: must be a positive integer, got '4'",
        ),
        (
            {"features_size": 4.0},
            r"search_tasks\[0\]\.features_size: must be a positive integer",
        ),
        (
            {"num_train_examples": -3},
            r"^search_tasks\[0\]\.num_train_examples: must be a positive integer, got -3$",
        ),
        (
            {"num_valid_examples": 0},
            r"search_tasks\[0\]\.num_valid_examples: must be a positive integer",
        ),
        (
            {"num_tasks": True},
            r"search_tasks\[0\]\.num_tasks: must be a positive integer",
        ),
        ({"num_train_epochs": None}, r"search_tasks\[0\]\.num_train_epochs"),
        (
            {"eval_type": "ACCURACY"},
            r"search_tasks\[0\]\.eval_type: scalar_linear_regression_task must use RMS_ERROR",
        ),
        (
            {"eval_type": "F1"},
            r"search_tasks\[0\]\.eval_type: must be 'RMS_ERROR', 'ACCURACY' or 'MULTICLASS_ACCURACY'",
        ),
        (
            {"increment": 2.0},
            r"search_tasks\[0\]\.increment: only valid for unit_test_increment_task",
        ),
        (
            {"dataset_name": "mnist"},
            r"search_tasks\[0\]\.dataset_name: only valid for projected_binary",
        ),
        (
            {"train_labels": [1.0]},
            r"search_tasks\[0\]\.train_labels: only valid for unit_test_fixed_task",
        ),
        (
            {"task_type": "quadratic_task"},
            r"search_tasks\[0\]\.task_type: unknown task type 'quadratic_task'",
        ),
        (
            {"data_seeds": [1, -2]},
            r"search_tasks\[0\]\.data_seeds\[1\]: must be a non-negative integer",
        ),
        ({"param_seeds": [2**32]}, r"search_tasks\[0\]\.param_seeds\[0\]"),
        ({"param_seeds": "1,2"}, r"search_tasks\[0\]\.param_seeds: must be a list"),
    ],
)
def test_from_dict_errors_name_the_key(changes, message):
    with pytest.raises(ConfigError, match=message):
        TaskSpec.from_dict({**_GOOD, **changes}, "search_tasks[0]")


@pytest.mark.parametrize(
    "key", ["features_size", "num_train_examples", "num_valid_examples", "task_type"]
)
def test_from_dict_missing_required_key(key):
    d = {k: v for k, v in _GOOD.items() if k != key}
    with pytest.raises(
        ConfigError, match=rf"final_tasks\[2\]\.{key}: required key is missing"
    ):
        TaskSpec.from_dict(d, "final_tasks[2]")


def test_from_dict_rejects_non_mapping():
    with pytest.raises(ConfigError, match=r"search_tasks\[0\]: must be a table"):
        TaskSpec.from_dict([1, 2], "search_tasks[0]")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"eval_type": "RMS_ERROR"},
            r"p\.eval_type: projected_binary_classification_task must use ACCURACY",
        ),
        ({"dataset_name": "cifar10"}, r"p\.path: dataset_name 'cifar10' needs a path"),
        ({"dataset_name": "svhn"}, r"p\.dataset_name: must be one of"),
        ({"path": "/data"}, r"p\.path: dataset_name 'digits' .* takes no path"),
        ({"positive_class": 1}, r"p\.negative_class: give both"),
        ({"positive_class": 1, "negative_class": 1}, r"p\.negative_class: must differ"),
        (
            {"positive_class": 1, "negative_class": 10},
            r"p\.negative_class: digits has class ids 0\.\.9",
        ),
        (
            {"positive_class": -1, "negative_class": 2},
            r"p\.positive_class: must be a non-negative integer",
        ),
        ({"held_out_pairs": [[0, 1], [2]]}, r"p\.held_out_pairs\[1\]: must be a pair"),
        ({"held_out_pairs": [[0, 1], [2, 12]]}, r"p\.held_out_pairs\[1\]\[1\]"),
        (
            {"held_out_pairs": [[3, 3]]},
            r"p\.held_out_pairs\[0\]: the two classes must differ",
        ),
        (
            {"held_out_pairs": [[i, j] for i in range(10) for j in range(i + 1, 10)]},
            r"p\.held_out_pairs: holds out all 45",
        ),
        (
            {"held_out_pairs": [[7, 2]], "positive_class": 2, "negative_class": 7},
            r"p\.held_out_pairs: holds out the explicitly chosen pair",
        ),
        (
            {"min_supported_data_seed": 5, "max_supported_data_seed": 5},
            r"p\.max_supported_data_seed: must be greater",
        ),
        ({"increment": 1.0}, r"p\.increment: only valid for unit_test_increment_task"),
    ],
)
def test_from_dict_projected_errors(changes, message):
    d = {
        "task_type": PROJECTED,
        "features_size": 16,
        "num_train_examples": 100,
        "num_valid_examples": 10,
        **changes,
    }
    with pytest.raises(ConfigError, match=message):
        TaskSpec.from_dict(d, "p")


def test_from_dict_normalises_values(tmp_path):
    spec = TaskSpec.from_dict(
        {
            "task_type": PROJECTED,
            "features_size": 16,
            "num_train_examples": 100,
            "num_valid_examples": 10,
            "held_out_pairs": [[6, 4], [3, 5], [4, 6]],
            "eval_type": "accuracy",
            "data_seeds": 3,
            "dataset_name": "mnist",
            "path": "data/mnist",
        },
        "p",
        base_dir=tmp_path,
    )
    assert spec.held_out_pairs == ((4, 6), (3, 5))
    assert spec.eval_type is EvalType.ACCURACY
    assert spec.data_seeds == (3,)
    assert spec.path == str(tmp_path / "data" / "mnist")
    absolute = TaskSpec.from_dict(
        {**_GOOD, "task_type": PROJECTED, "dataset_name": "npz", "path": "/abs/d.npz"},
        "p",
        base_dir=tmp_path,
    )
    assert absolute.path == "/abs/d.npz"
    assert TaskSpec.from_dict(_GOOD, "x").eval_type is EvalType.RMS_ERROR
    assert hash(spec) == hash(TaskSpec.from_dict(spec.to_dict(), "p"))


@pytest.mark.parametrize(
    "d",
    [
        _GOOD,
        {
            **_GOOD,
            "num_tasks": 10,
            "num_train_epochs": 3,
            "data_seeds": [1, 2],
            "param_seeds": [5],
        },
        {**_GOOD, "task_type": NN, "eval_type": "RMS_ERROR"},
        {
            **_GOOD,
            "task_type": "unit_test_increment_task",
            "increment": 0.25,
            "eval_type": "ACCURACY",
        },
        {
            "task_type": "unit_test_fixed_task",
            "features_size": 1,
            "num_train_examples": 1,
            "num_valid_examples": 1,
            "train_features": [[1.0]],
            "train_labels": [2.0],
            "valid_features": [[3.0]],
            "valid_labels": [4.0],
        },
        {
            "task_type": PROJECTED,
            "features_size": 16,
            "num_train_examples": 8000,
            "num_valid_examples": 1000,
            "dataset_name": "cifar10",
            "path": "/data/cifar",
            "held_out_pairs": [list(p) for p in HELD_OUT],
            "max_supported_data_seed": 100,
        },
        {
            "task_type": PROJECTED,
            "features_size": 16,
            "num_train_examples": 8000,
            "num_valid_examples": 1000,
            "positive_class": 7,
            "negative_class": 2,
        },
    ],
)
def test_to_dict_round_trip(d):
    spec = TaskSpec.from_dict(d, "x")
    plain = spec.to_dict()
    assert json.loads(json.dumps(plain)) == plain  # serialisable
    assert TaskSpec.from_dict(plain, "x") == spec
    assert plain["task_type"] == d["task_type"]
    assert "increment" not in plain or d["task_type"] == "unit_test_increment_task"


def test_every_task_type_builds():
    for task_type in TASK_TYPES:
        if task_type in USER_TASK_TYPES:
            continue  # they need a data file: tests/test_user_data.py
        if task_type == "unit_test_fixed_task":
            spec = TaskSpec(
                task_type,
                1,
                1,
                1,
                train_features=((1.0,),),
                train_labels=(1.0,),
                valid_features=((2.0,),),
                valid_labels=(2.0,),
            )
        elif task_type == PROJECTED:
            spec = _projected(num_train_examples=20, num_valid_examples=5)
        elif task_type == "projected_multiclass_classification_task":
            spec = TaskSpec(task_type, 16, 50, 20)
        else:
            spec = _spec(task_type)
        task = create_task(spec, 11001, 1001, index=3)
        assert task.index == 3 and task.name.startswith(task_type)


def test_direct_construction_is_validated():
    with pytest.raises(ConfigError, match=r"TaskSpec\.increment: only valid for"):
        _spec(increment=3.0)
    with pytest.raises(
        ConfigError, match=r"TaskSpec\.num_tasks: must be a positive integer, got 0"
    ):
        _spec(num_tasks=0)
    spec = _spec(data_seeds=[1, 2], eval_type="RMS_ERROR")  # type: ignore[arg-type]
    assert spec.data_seeds == (1, 2) and spec.eval_type is EvalType.RMS_ERROR


# --------------------------------------------------------------------------
# randomize_task_seeds.
# --------------------------------------------------------------------------


def test_randomize_task_seeds():
    specs = [
        _spec(num_tasks=3, data_seeds=(1,)),
        _spec("unit_test_ones_task", num_tasks=2),
    ]
    a = randomize_task_seeds(specs, 123)
    b = randomize_task_seeds(specs, 123)
    c = randomize_task_seeds(specs, 124)
    assert a == b and a != c
    for spec, orig in zip(a, specs, strict=True):
        assert len(spec.data_seeds) == orig.num_tasks == len(spec.param_seeds)
        assert all(0 <= s < 2**32 for s in spec.data_seeds + spec.param_seeds)
        assert dataclasses.replace(
            spec, data_seeds=(), param_seeds=()
        ) == dataclasses.replace(orig, data_seeds=(), param_seeds=())
    assert len(set(a[0].data_seeds + a[1].data_seeds)) == 5
    assert specs[0].data_seeds == (1,)  # inputs untouched
    tasks = make_tasks(a)
    assert [t.data_seed for t in tasks] == [*a[0].data_seeds, *a[1].data_seeds]
    with pytest.raises(ConfigError, match="seed: must be an integer"):
        randomize_task_seeds(specs, "7")  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Task.from_arrays.
# --------------------------------------------------------------------------


def test_from_arrays():
    task = Task.from_arrays(
        [[1, 2], [3, 4], [5, 6]],
        [1, 0, 1],
        [[0, 0]],
        [0],
        eval_type="ACCURACY",
        num_train_epochs=2,
        seed=9,
        index=4,
    )
    assert (
        task.train_features.dtype == np.float64
        and task.train_features.flags.c_contiguous
    )
    assert task.eval_type is EvalType.ACCURACY and task.index == 4
    np.testing.assert_array_equal(task.epochs, generate_epochs(3, 2, 9))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (
            ([[1.0, 2.0]], [1.0], [[1.0]], [1.0]),
            {},
            DataError,
            "2 columns but valid_features has 1",
        ),
        (
            ([[1.0, 2.0]], [1.0, 2.0], [[1.0, 2.0]], [1.0]),
            {},
            DataError,
            "train_labels has 2 entries",
        ),
        (
            ([1.0, 2.0], [1.0, 2.0], [[1.0]], [1.0]),
            {},
            DataError,
            "train_features: must be 2-D",
        ),
        (
            ([[np.nan]], [1.0], [[1.0]], [1.0]),
            {},
            DataError,
            "train_features: holds NaN",
        ),
        (
            ([[1.0]], [np.inf], [[1.0]], [1.0]),
            {},
            DataError,
            "train_labels: holds NaN or infinite",
        ),
        (
            (np.zeros((0, 2)), [], [[1.0, 1.0]], [1.0]),
            {},
            DataError,
            "must not be empty",
        ),
        (([["a"]], [1.0], [[1.0]], [1.0]), {}, DataError, "must be numeric"),
        (
            ([[1.0]], [0.5], [[1.0]], [1.0]),
            {"eval_type": "ACCURACY"},
            DataError,
            "labels 0 or 1",
        ),
        (
            ([[1.0]], [1.0], [[1.0]], [1.0]),
            {"eval_type": "MSE"},
            ConfigError,
            "eval_type",
        ),
        (
            ([[1.0]], [1.0], [[1.0]], [1.0]),
            {"num_train_epochs": 0},
            ConfigError,
            "num_train_epochs",
        ),
    ],
)
def test_from_arrays_errors(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        Task.from_arrays(*args, **kwargs)


def test_task_pickles():
    task = make_tasks([_spec(num_train_epochs=2)])[0]
    _assert_same_task(task, pickle.loads(pickle.dumps(task)))


# --------------------------------------------------------------------------
# Module layout: task (Task), spec (TaskSpec), generate (creators); public
# names from automl_zero.tasks; no import cycles whichever module comes first.


@pytest.mark.parametrize("first", ["automl_zero.tasks.task", "automl_zero.tasks.spec",
                                   "automl_zero.tasks.generate", "automl_zero.tasks",
                                   "automl_zero.config"])
def test_task_modules_import_in_any_order(first):
    import subprocess
    import sys

    code = (f"import {first}\n"
            "from automl_zero.tasks import TaskSpec, Task, make_tasks, EvalType\n"
            "from automl_zero.tasks.spec import TaskSpec as S\n"
            "from automl_zero.tasks.generate import make_tasks as m\n"
            "assert S is TaskSpec and m is make_tasks\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names_live_in_their_modules():
    import automl_zero.tasks as tasks
    from automl_zero.tasks import generate, spec, task

    assert tasks.Task is task.Task and tasks.EvalType is task.EvalType
    assert tasks.TaskSpec is spec.TaskSpec and tasks.task_seeds is spec.task_seeds
    assert tasks.make_tasks is generate.make_tasks
    with pytest.raises(AttributeError):
        task.no_such_name  # noqa: B018


def test_features_size_is_bounded_by_the_executor():
    from automl_zero.tasks import MAX_FEATURES_SIZE

    assert MAX_FEATURES_SIZE == 1000  # numba's limit on the size tuple's length
    _spec(features_size=MAX_FEATURES_SIZE)
    with pytest.raises(ConfigError, match=r"TaskSpec\.features_size: 1001 is more than "
                                          r"the executor supports: at most 1000"):
        _spec(features_size=MAX_FEATURES_SIZE + 1)
    with pytest.raises(ConfigError, match="at most 1000"):
        TaskSpec.from_dict({"task_type": LINEAR, "features_size": 10**30,
                            "num_train_examples": 1, "num_valid_examples": 1}, "t")
    x = np.zeros((2, MAX_FEATURES_SIZE + 1))
    with pytest.raises(DataError, match="at most 1000 features"):
        Task.from_arrays(x, np.zeros(2), x, np.zeros(2))


@pytest.mark.parametrize("changes, message", [
    ({"num_tasks": 10**12}, "1000000000000 task(s) of 20 train examples"),
    ({"num_train_examples": 10**15}, "of 1000000000000000 train examples"),
    ({"num_train_epochs": 10**15}, "x 1000000000000000 epoch(s)"),
    ({"num_valid_examples": 10**15}, "+ 1000000000000000 valid examples"),
])
def test_specs_whose_tasks_cannot_fit_are_refused(changes, message):
    with pytest.raises(ConfigError) as err:
        _spec(**changes)
    text = str(err.value)
    assert text.startswith("TaskSpec: ") and message in text
    assert "would need" in text and "of memory, more than the" in text
    spec = _spec(num_tasks=3, num_train_epochs=2)
    # 3 tasks x (30 examples x 5 values + 2 x 20 epoch indices + 50 packed rows x 5)
    assert spec.data_bytes() == 3 * (8 * 30 * 5 + 4 * 40 + 8 * 50 * 5)


def test_paths_with_nul_characters_are_refused():
    with pytest.raises(ConfigError, match="cannot contain NUL"):
        TaskSpec.from_dict({"task_type": PROJECTED, "features_size": 4,
                            "num_train_examples": 1, "num_valid_examples": 1,
                            "dataset_name": "npz", "path": "a\x00b"}, "t")


def test_unknown_task_keys_are_excerpted_and_suggested():
    base = {"task_type": LINEAR, "features_size": 4, "num_train_examples": 1,
            "num_valid_examples": 1}
    with pytest.raises(ConfigError, match=r"t\.num_taks: unknown key \(did you mean "
                                          r"'num_tasks'\?\)"):
        TaskSpec.from_dict({**base, "num_taks": 3}, "t")
    with pytest.raises(ConfigError) as err:
        TaskSpec.from_dict({**base, "k" * 10**5: 3}, "t")
    assert str(err.value).startswith("t: unknown key 'kkk") and len(str(err.value)) < 600
