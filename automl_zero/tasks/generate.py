"""Task generation: the task creators of each task type, and the
instantiation of whole collections from task specs (docs/semantics.md §4.5, §12).

Random numbers come from ``numpy.random.Generator(MT19937(...))`` seeded with
the original's seed offsets (``spec``); the streams are deterministic but not
bit-identical to the C++ ones (not required, docs/semantics.md §4.5).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from automl_zero.errors import ConfigError, DataError, excerpt
from automl_zero.tasks._checks import UINT32, is_int
from automl_zero.tasks._projection import project_and_standardize
from automl_zero.tasks.datasets import load_dataset
from automl_zero.tasks.spec import (
    AFFINE_DATA_SEED_OFFSET,
    AFFINE_PARAM_SEED_OFFSET,
    LINEAR_DATA_SEED_OFFSET,
    LINEAR_PARAM_SEED_OFFSET,
    NN_DATA_SEED_OFFSET,
    NN_PARAM_SEED_OFFSET,
    PROJECTED_MAX_EXAMPLES_PER_CLASS,
    PROJECTED_NUM_CLASSES,
    PROJECTED_PAIR_SALT,
    RANDOMIZE_DATA_SALT,
    RANDOMIZE_PARAM_SALT,
    TASK_TYPES,
    USER_CLASSIFICATION,
    USER_REGRESSION,
    USER_SPLIT_SEED_OFFSET,
    TaskSpec,
)
from automl_zero.tasks.task import Task, generate_epochs, generator
from automl_zero.tasks.user_data import (
    UserData,
    binary_classes,
    load_user_data,
    show_path,
    user_split,
)

__all__ = ["choose_projected_pair", "create_task", "make_tasks", "randomize_task_seeds"]

# --------------------------------------------------------------------------
# Task creators. Each returns (train_x, train_y, valid_x, valid_y, name).
# --------------------------------------------------------------------------

_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]
_PROJECTED = "projected_binary_classification_task"
_PROJECTED_MULTICLASS = "projected_multiclass_classification_task"


def _default_name(spec: TaskSpec, data_seed: int, param_seed: int) -> str:
    return f"{spec.task_type}[data_seed={data_seed},param_seed={param_seed}]"


def _gaussian_inputs(
    spec: TaskSpec, data_seed: int, offset: int
) -> tuple[np.ndarray, np.ndarray]:
    """x ~ N(0,1)^F for every train example, then every valid example."""
    rng = generator(data_seed, offset)
    n_train, n_valid = spec.num_train_examples, spec.num_valid_examples
    x = rng.standard_normal((n_train + n_valid, spec.features_size))
    return np.ascontiguousarray(x[:n_train]), np.ascontiguousarray(x[n_train:])


def _create_linear(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    tx, vx = _gaussian_inputs(spec, data_seed, LINEAR_DATA_SEED_OFFSET)
    w = generator(param_seed, LINEAR_PARAM_SEED_OFFSET).standard_normal(
        spec.features_size
    )
    return tx, tx @ w, vx, vx @ w, _default_name(spec, data_seed, param_seed)


def _create_affine(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    tx, vx = _gaussian_inputs(spec, data_seed, AFFINE_DATA_SEED_OFFSET)
    rng = generator(param_seed, AFFINE_PARAM_SEED_OFFSET)
    u = rng.standard_normal(spec.features_size)
    a = rng.standard_normal()
    return tx, tx @ u + a, vx, vx @ u + a, _default_name(spec, data_seed, param_seed)


def _create_2layer_nn(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    tx, vx = _gaussian_inputs(spec, data_seed, NN_DATA_SEED_OFFSET)
    f = spec.features_size
    rng = generator(param_seed, NN_PARAM_SEED_OFFSET)
    m = rng.standard_normal((f, f))  # row-major fill, as the original
    m[[0, 2], :] = 0.0  # the original's teacher has hidden units 0 and 2 switched off
    u = rng.standard_normal(f)
    u[[0, 2]] = 0.0

    def teacher(x: np.ndarray) -> np.ndarray:
        return np.maximum(x @ m.T, 0.0) @ u

    return tx, teacher(tx), vx, teacher(vx), _default_name(spec, data_seed, param_seed)


def _create_constant(value: float) -> Callable[[TaskSpec, int, int], _Arrays]:
    def create(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
        f, nt, nv = spec.features_size, spec.num_train_examples, spec.num_valid_examples
        return (
            np.full((nt, f), value),
            np.full(nt, value),
            np.full((nv, f), value),
            np.full(nv, value),
            _default_name(spec, data_seed, param_seed),
        )

    return create


def _create_increment(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    def ramp(n: int) -> tuple[np.ndarray, np.ndarray]:
        # Example k: every feature and the label equal k * increment.
        y = np.arange(n, dtype=np.float64) * spec.increment
        return np.ascontiguousarray(
            np.repeat(y[:, None], spec.features_size, axis=1)
        ), y

    tx, ty = ramp(spec.num_train_examples)
    vx, vy = ramp(spec.num_valid_examples)  # validation restarts at 0
    return tx, ty, vx, vy, _default_name(spec, data_seed, param_seed)


def _create_fixed(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    return (
        np.array(spec.train_features, dtype=np.float64),
        np.array(spec.train_labels, dtype=np.float64),
        np.array(spec.valid_features, dtype=np.float64),
        np.array(spec.valid_labels, dtype=np.float64),
        _default_name(spec, data_seed, param_seed),
    )


def choose_projected_pair(spec: TaskSpec, data_seed: int) -> tuple[int, int, int]:
    """(positive_class, negative_class, split_seed) of a projected task (docs/semantics.md §12.5).

    With explicit classes the split/projection seed is
    ``min + data_seed % (max - min)``. Otherwise a generator seeded from
    ``data_seed`` picks a pair uniformly among the 45 pairs (i < j, positive = i)
    minus ``held_out_pairs``, then a seed uniformly in ``[min, max)``.
    """
    lo, hi = spec.min_supported_data_seed, spec.max_supported_data_seed
    if spec.positive_class is not None and spec.negative_class is not None:
        return spec.positive_class, spec.negative_class, lo + data_seed % (hi - lo)
    held_out = set(spec.held_out_pairs)
    pairs = [
        (i, j)
        for i in range(PROJECTED_NUM_CLASSES)
        for j in range(i + 1, PROJECTED_NUM_CLASSES)
        if (i, j) not in held_out
    ]
    rng = np.random.Generator(
        np.random.MT19937(
            np.random.SeedSequence([PROJECTED_PAIR_SALT, data_seed % UINT32])
        )
    )
    pos, neg = pairs[int(rng.integers(0, len(pairs)))]
    return pos, neg, int(rng.integers(lo, hi))


@functools.lru_cache(maxsize=32)
def _projected_data(
    dataset_name: str,
    path: str | None,
    pos: int,
    neg: int,
    seed: int,
    features_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Full projected train/valid splits of one (pair, seed), as generate_datasets.py.

    Returned arrays are read-only (they are cached and shared); callers copy.
    """
    from sklearn.model_selection import train_test_split

    ds = load_dataset(dataset_name, path)
    idx = []
    for cls_id in (pos, neg):  # positive examples first, as the original
        found = np.flatnonzero(ds.labels == cls_id)
        if found.size == 0:
            raise DataError(
                f"data set {ds.name} has no examples of class {cls_id} (it has classes "
                f"{sorted(ds.class_counts())})"
            )
        idx.append(found[:PROJECTED_MAX_EXAMPLES_PER_CLASS])
    x = ds.features[np.concatenate(idx)]
    y = np.concatenate([np.ones(idx[0].size), np.zeros(idx[1].size)])
    # Split sizes of the original for 10000 examples (8000 / 1000 / 1000), kept in
    # proportion for smaller data sets: test = 10%, valid = 1/9 of the rest.
    n = y.size
    n_test = n // 10
    n_valid = (n - n_test) // 9
    n_train = n - n_test - n_valid
    if min(n_test, n_valid, n_train) < 2:
        raise DataError(
            f"data set {ds.name}: classes {pos} and {neg} have only {n} examples in "
            "all, too few to split into train, valid and test sets"
        )
    try:
        x_tv, _, y_tv, _ = train_test_split(
            x, y, train_size=n - n_test, test_size=n_test, random_state=seed, stratify=y
        )
        x_train, x_valid, y_train, y_valid = train_test_split(
            x_tv,
            y_tv,
            train_size=n_train,
            test_size=n_valid,
            random_state=seed,
            stratify=y_tv,
        )
    except ValueError as e:
        raise DataError(
            f"data set {ds.name}: cannot split classes {pos}/{neg} ({n} examples): {e}"
        ) from e
    tx, vx = project_and_standardize(x_train, x_valid, seed, features_size)
    out = (
        tx,
        np.ascontiguousarray(y_train, dtype=np.float64),
        vx,
        np.ascontiguousarray(y_valid, dtype=np.float64),
    )
    for arr in out:
        arr.setflags(write=False)
    return out


def _create_projected(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    pos, neg, seed = choose_projected_pair(spec, data_seed)
    name = (
        f"{_PROJECTED}[{spec.dataset_name},pos={pos},neg={neg},seed={seed},"
        f"dim={spec.features_size},data_seed={data_seed}]"
    )
    # Resolve the path first so that the cache key does not depend on the cwd.
    path = None if spec.path is None else str(Path(spec.path).expanduser().resolve())
    tx, ty, vx, vy = _projected_data(
        spec.dataset_name, path, pos, neg, seed, spec.features_size
    )
    for split, have, want in (
        ("train", ty.size, spec.num_train_examples),
        ("valid", vy.size, spec.num_valid_examples),
    ):
        if want > have:
            raise DataError(
                f"{name}: num_{split}_examples is {want} but only {have} {split} "
                f"examples are available for classes {pos}/{neg} of {spec.dataset_name}"
            )
    nt, nv = spec.num_train_examples, spec.num_valid_examples
    # The first N examples, as the original's reader; copies, so tasks own their data.
    return tx[:nt].copy(), ty[:nt].copy(), vx[:nv].copy(), vy[:nv].copy(), name


@functools.lru_cache(maxsize=8)
def _projected_multiclass_data(
    dataset_name: str, path: str | None, seed: int, features_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train/valid splits of all classes of a data set for one split and
    projection seed: at most 5000 examples per class (as the binary tasks),
    10 % held out as a test set and never used, a ninth of the rest for
    validation, stratified by class; projected to ``features_size`` with the
    seed's Gaussian matrix and standardised on the training split. Labels are
    the class ids. Returned arrays are read-only (cached); callers copy."""
    from sklearn.model_selection import train_test_split

    ds = load_dataset(dataset_name, path)
    idx = [np.flatnonzero(ds.labels == c)[:PROJECTED_MAX_EXAMPLES_PER_CLASS]
           for c in range(PROJECTED_NUM_CLASSES)]
    missing = [c for c, found in enumerate(idx) if found.size < 3]
    if missing:
        raise DataError(f"data set {ds.name}: classes {missing} have fewer than 3 "
                        f"examples; a multi-class task needs all "
                        f"{PROJECTED_NUM_CLASSES} classes")
    order = np.concatenate(idx)
    x, y = ds.features[order], ds.labels[order].astype(np.float64)
    n = y.size
    n_test = max(n // 10, PROJECTED_NUM_CLASSES)
    n_valid = max((n - n_test) // 9, PROJECTED_NUM_CLASSES)
    n_train = n - n_test - n_valid
    try:
        x_tv, _, y_tv, _ = train_test_split(
            x, y, train_size=n - n_test, test_size=n_test, random_state=seed, stratify=y)
        x_train, x_valid, y_train, y_valid = train_test_split(
            x_tv, y_tv, train_size=n_train, test_size=n_valid, random_state=seed,
            stratify=y_tv)
    except ValueError as e:
        raise DataError(f"data set {ds.name}: cannot split its {n} examples into "
                        f"stratified train, valid and test sets: {e}") from e
    tx, vx = project_and_standardize(x_train, x_valid, seed, features_size)
    out = (tx, np.ascontiguousarray(y_train), vx, np.ascontiguousarray(y_valid))
    for arr in out:
        arr.setflags(write=False)
    return out


def _create_projected_multiclass(spec: TaskSpec, data_seed: int,
                                 param_seed: int) -> _Arrays:
    lo, hi = spec.min_supported_data_seed, spec.max_supported_data_seed
    seed = lo + data_seed % (hi - lo)
    name = (f"{_PROJECTED_MULTICLASS}[{spec.dataset_name},seed={seed},"
            f"dim={spec.features_size},data_seed={data_seed}]")
    path = None if spec.path is None else str(Path(spec.path).expanduser().resolve())
    tx, ty, vx, vy = _projected_multiclass_data(spec.dataset_name, path, seed,
                                                spec.features_size)
    for split, have, want in (("train", ty.size, spec.num_train_examples),
                              ("valid", vy.size, spec.num_valid_examples)):
        if want > have:
            raise DataError(f"{name}: num_{split}_examples is {want} but only {have} "
                            f"{split} examples are available in {spec.dataset_name}")
    nt, nv = spec.num_train_examples, spec.num_valid_examples
    return tx[:nt].copy(), ty[:nt].copy(), vx[:nv].copy(), vy[:nv].copy(), name


def user_task_name(task_type: str, data: UserData, data_seed: int,
                   features_size: int) -> str:
    """``task_type[file,data_seed=S(,dim=F)(,labels=a->0,b->1)]``: the file, the
    seed, the projected size (when projected) and the label mapping (classes)."""
    parts = [data.name, f"data_seed={data_seed}"]
    if features_size < data.num_features:
        parts.append(f"dim={features_size}")
    if task_type == USER_CLASSIFICATION:
        low, high = binary_classes(data.labels, show_path(data.source))
        parts.append(f"labels={low:g}->0,{high:g}->1")
    return f"{task_type}[{','.join(parts)}]"


def user_task_arrays(data: UserData, task_type: str, num_train: int, num_valid: int,
                     features_size: int, data_seed: int,
                     standardize: bool = True) -> _Arrays:
    """One task of user data (docs/user_data.md): the split of ``data_seed``,
    projected when the data is wider than ``features_size``, standardised.
    Shared by the spec path and ``tasks_from_arrays``."""
    tx, ty, vx, vy = user_split(
        data, classification=task_type == USER_CLASSIFICATION, num_train=num_train,
        num_valid=num_valid, features_size=features_size, seed=data_seed,
        split_seed=(data_seed + USER_SPLIT_SEED_OFFSET) % UINT32,
        standardize=standardize)
    return tx, ty, vx, vy, user_task_name(task_type, data, data_seed, features_size)


def _create_user(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    assert spec.path is not None  # TaskSpec validation requires it
    data = load_user_data(spec.path, spec.label_column)
    return user_task_arrays(data, spec.task_type, spec.num_train_examples,
                            spec.num_valid_examples, spec.features_size, data_seed,
                            spec.standardize_features)


_CREATORS: dict[str, Callable[[TaskSpec, int, int], _Arrays]] = {
    "scalar_linear_regression_task": _create_linear,
    "scalar_affine_regression_task": _create_affine,
    "scalar_2layer_nn_regression_task": _create_2layer_nn,
    _PROJECTED: _create_projected,
    _PROJECTED_MULTICLASS: _create_projected_multiclass,
    "unit_test_zeros_task": _create_constant(0.0),
    "unit_test_ones_task": _create_constant(1.0),
    "unit_test_increment_task": _create_increment,
    "unit_test_fixed_task": _create_fixed,
    USER_REGRESSION: _create_user,
    USER_CLASSIFICATION: _create_user,
}
assert set(_CREATORS) == set(TASK_TYPES)


def create_task(
    spec: TaskSpec, data_seed: int, param_seed: int, index: int = 0
) -> Task:
    """Instantiate one task of ``spec`` with the given seeds (the C++ CreateTask)."""
    tx, ty, vx, vy, name = _CREATORS[spec.task_type](spec, data_seed, param_seed)
    return Task(
        train_features=np.ascontiguousarray(tx, dtype=np.float64),
        train_labels=np.ascontiguousarray(ty, dtype=np.float64),
        valid_features=np.ascontiguousarray(vx, dtype=np.float64),
        valid_labels=np.ascontiguousarray(vy, dtype=np.float64),
        eval_type=spec.eval_type,  # never None after TaskSpec.__post_init__
        epochs=generate_epochs(
            spec.num_train_examples, spec.num_train_epochs, data_seed
        ),
        index=index,
        data_seed=data_seed,
        param_seed=param_seed,
        name=name,
        num_classes=spec.num_classes,
    )


def make_tasks(specs: Sequence[TaskSpec]) -> list[Task]:
    """Instantiate all tasks of a collection, in order.

    ``Task.index`` runs across all specs (it is part of the FEC key).
    """
    tasks: list[Task] = []
    for spec in specs:
        for data_seed, param_seed in spec.task_seeds():
            tasks.append(create_task(spec, data_seed, param_seed, index=len(tasks)))
    return tasks


def randomize_task_seeds(specs: Sequence[TaskSpec], seed: int) -> list[TaskSpec]:
    """New specs with ``num_tasks`` fresh param and data seeds each (docs/semantics.md §12.1).

    Two generators, one for param seeds and one for data seeds, are seeded from
    ``seed`` (mixed with the original's salts through numpy's SeedSequence) and
    run across the specs in order. Deterministic for a given ``seed``.
    """
    if not is_int(seed):
        raise ConfigError(f"seed: must be an integer, got {excerpt(seed)}")
    entropy = int(seed) % 2**64

    def gen(salt: int) -> np.random.Generator:
        return np.random.Generator(
            np.random.MT19937(np.random.SeedSequence([salt, entropy]))
        )

    param_gen, data_gen = gen(RANDOMIZE_PARAM_SALT), gen(RANDOMIZE_DATA_SALT)
    out = []
    for spec in specs:
        param_seeds = tuple(
            int(s) for s in param_gen.integers(1, UINT32, spec.num_tasks)
        )
        data_seeds = tuple(
            int(s) for s in data_gen.integers(1, UINT32, spec.num_tasks)
        )
        out.append(
            dataclasses.replace(spec, param_seeds=param_seeds, data_seeds=data_seeds)
        )
    return out
