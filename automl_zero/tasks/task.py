"""Tasks: the data an algorithm is trained and validated on (SPEC §5.5, §10).

A :class:`Task` holds one epoch of unique training examples, the validation
examples and the per-epoch visiting orders. A :class:`TaskSpec` describes a
family of ``num_tasks`` tasks of one type (the original's ``TaskSpec`` proto,
flattened for TOML), and :func:`make_tasks` instantiates a whole collection.

Task types (SPEC §10.2-10.5, paper §4.1):

* ``scalar_linear_regression_task``: ``y = w . x``.
* ``scalar_affine_regression_task``: ``y = u . x + a`` (paper only).
* ``scalar_2layer_nn_regression_task``: ``y = u . relu(M x)`` with rows 0 and 2
  of ``M`` and entries 0 and 2 of ``u`` zeroed, as in the code.
* ``projected_binary_classification_task``: two classes of a real data set,
  randomly projected to ``features_size`` dimensions and standardised, built in
  memory the way the original's ``generate_datasets.py`` builds its files.
* ``unit_test_{zeros,ones,increment,fixed}_task``: tiny deterministic tasks.

Random numbers come from ``numpy.random.Generator(MT19937(...))`` seeded with
the original's seed offsets; the streams are deterministic but not bit-identical
to the C++ ones (not required, SPEC §5.5 [REC]).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero.errors import ConfigError, DataError
from automl_zero.tasks.datasets import DATASET_NAMES, load_dataset

__all__ = [
    "DEFAULT_DATA_SEEDS",
    "DEFAULT_PARAM_SEEDS",
    "TASK_TYPES",
    "EvalType",
    "Task",
    "TaskSpec",
    "choose_projected_pair",
    "create_task",
    "generate_epochs",
    "make_tasks",
    "randomize_task_seeds",
    "task_seeds",
]

_UINT32 = 2**32

# Seed offsets (SPEC §10). Every generator is
# Generator(MT19937((seed + OFFSET) mod 2**32)).
EPOCHS_SEED_OFFSET = 3274582109  # epoch orders, from the data seed (task.h)
LINEAR_DATA_SEED_OFFSET = 939723201
LINEAR_PARAM_SEED_OFFSET = 997958712
# The affine task is not in the C++ code; these two offsets are our own choice,
# distinct from every other offset so that an affine task never shares a stream
# with a linear task of the same seeds.
AFFINE_DATA_SEED_OFFSET = 418027263
AFFINE_PARAM_SEED_OFFSET = 752390481
NN_DATA_SEED_OFFSET = 865546086
NN_PARAM_SEED_OFFSET = 174299604
# Salts standing in for the original's HashMix(salt, seed) (SPEC §10.1, §10.4).
PROJECTED_PAIR_SALT = 856572777
RANDOMIZE_PARAM_SALT = 85652777
RANDOMIZE_DATA_SALT = 38272328

DEFAULT_PARAM_SEEDS: tuple[int, ...] = (1001, 1012, 1010, 1000, 1006, 1008, 1007, 1003)
DEFAULT_DATA_SEEDS: tuple[int, ...] = (
    11001,
    11012,
    11010,
    11000,
    11006,
    11008,
    11007,
    11003,
)

# generate_datasets.py keeps at most num_samples / 2 = 5000 examples per class.
PROJECTED_MAX_EXAMPLES_PER_CLASS = 5000
# Class ids among which projected_binary_classification_task picks its pairs.
PROJECTED_NUM_CLASSES = 10
_NUM_PAIRS = PROJECTED_NUM_CLASSES * (PROJECTED_NUM_CLASSES - 1) // 2  # 45


class EvalType(enum.IntEnum):
    """How validation predictions are scored (the original's enum values)."""

    RMS_ERROR = 1
    ACCURACY = 4


TASK_TYPES: tuple[str, ...] = (
    "scalar_linear_regression_task",
    "scalar_affine_regression_task",
    "scalar_2layer_nn_regression_task",
    "projected_binary_classification_task",
    "unit_test_zeros_task",
    "unit_test_ones_task",
    "unit_test_increment_task",
    "unit_test_fixed_task",
)

_REGRESSION_TYPES = frozenset(
    {
        "scalar_linear_regression_task",
        "scalar_affine_regression_task",
        "scalar_2layer_nn_regression_task",
    }
)
_PROJECTED = "projected_binary_classification_task"
_NN_MIN_FEATURES = 3


def _generator(seed: int, offset: int = 0) -> np.random.Generator:
    """A Generator over MT19937 seeded with ``(seed + offset) mod 2**32``."""
    return np.random.Generator(np.random.MT19937((int(seed) + offset) % _UINT32))


def generate_epochs(num_examples: int, num_epochs: int, data_seed: int) -> np.ndarray:
    """Visiting orders of the training examples, shape ``(num_epochs, num_examples)``.

    Row 0 is the identity order; row k is the order after k successive shuffles
    of the index list (SPEC §5.5). The generator is seeded from
    ``(data_seed + 3274582109) mod 2**32``.
    """
    rng = _generator(data_seed, EPOCHS_SEED_OFFSET)
    order = np.arange(num_examples, dtype=np.int32)
    epochs = np.empty((num_epochs, num_examples), dtype=np.int32)
    for k in range(num_epochs):
        epochs[k] = order
        rng.shuffle(order)  # as the original, one shuffle is spent after the last row
    return epochs


# --------------------------------------------------------------------------
# Task
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Task:
    """One task: one epoch of training examples, validation examples, epoch orders.

    Invariants (checked on construction): features are float64 C-contiguous 2-D
    arrays with the same number of columns F >= 1; labels are float64 1-D with one
    entry per example; there is at least one train and one valid example;
    ``epochs`` is int32 ``(num_train_epochs, n_train)``, each row a permutation of
    ``0..n_train-1`` and row 0 the identity. The arrays are never modified after
    construction: treat them as read-only (they are left writeable only so that
    numba kernels with plain array signatures accept them).
    """

    train_features: np.ndarray  # float64 (n_train, F), one epoch of unique examples
    train_labels: np.ndarray  # float64 (n_train,)
    valid_features: np.ndarray  # float64 (n_valid, F)
    valid_labels: np.ndarray  # float64 (n_valid,)
    eval_type: EvalType
    epochs: np.ndarray  # int32 (num_train_epochs, n_train)
    index: int = 0  # position in its task collection (part of the FEC key)
    data_seed: int = 0
    param_seed: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        what = self.name or "task"
        tx, ty = self.train_features, self.train_labels
        vx, vy = self.valid_features, self.valid_labels
        for label, arr, ndim, dtype in (
            ("train_features", tx, 2, np.float64),
            ("train_labels", ty, 1, np.float64),
            ("valid_features", vx, 2, np.float64),
            ("valid_labels", vy, 1, np.float64),
            ("epochs", self.epochs, 2, np.int32),
        ):
            if (
                not isinstance(arr, np.ndarray)
                or arr.ndim != ndim
                or arr.dtype != dtype
            ):
                raise DataError(
                    f"{what}: {label} must be a {ndim}-D {np.dtype(dtype).name} array"
                )
            if not arr.flags.c_contiguous:
                raise DataError(f"{what}: {label} must be C-contiguous")
        if tx.shape[0] == 0 or vx.shape[0] == 0:
            raise DataError(f"{what}: needs at least one train and one valid example")
        if tx.shape[1] == 0 or tx.shape[1] != vx.shape[1]:
            raise DataError(
                f"{what}: train and valid features must have the same number (>= 1) "
                f"of columns, got {tx.shape[1]} and {vx.shape[1]}"
            )
        if ty.shape[0] != tx.shape[0] or vy.shape[0] != vx.shape[0]:
            raise DataError(f"{what}: one label per example is needed")
        if self.epochs.shape[0] < 1 or self.epochs.shape[1] != tx.shape[0]:
            raise DataError(
                f"{what}: epochs must have shape "
                f"(num_train_epochs >= 1, {tx.shape[0]}), got {self.epochs.shape}"
            )
        object.__setattr__(self, "eval_type", EvalType(self.eval_type))

    @property
    def features_size(self) -> int:
        """Number of features F."""
        return int(self.train_features.shape[1])

    @property
    def num_train_examples(self) -> int:
        """Number of unique training examples (one epoch)."""
        return int(self.train_features.shape[0])

    @property
    def num_valid_examples(self) -> int:
        """Number of validation examples."""
        return int(self.valid_features.shape[0])

    @property
    def num_train_epochs(self) -> int:
        """Number of passes over the training examples."""
        return int(self.epochs.shape[0])

    @property
    def max_train_examples(self) -> int:
        """Training steps of a full run: examples per epoch times epochs."""
        return self.num_train_examples * self.num_train_epochs

    @classmethod
    def from_arrays(
        cls,
        train_features: Any,
        train_labels: Any,
        valid_features: Any,
        valid_labels: Any,
        eval_type: EvalType | str | int = EvalType.RMS_ERROR,
        num_train_epochs: int = 1,
        seed: int = 0,
        index: int = 0,
        name: str = "",
    ) -> Task:
        """Build a task from user arrays, checking them (DataError on bad data).

        ``seed`` plays the part of the data seed: it seeds the epoch orders.
        ACCURACY tasks need labels in {0, 1}.
        """
        et = _parse_eval_type(eval_type, "eval_type")
        if et is None:
            raise ConfigError("eval_type: must be 'RMS_ERROR' or 'ACCURACY', got None")
        epochs_n = _parse_positive_int(num_train_epochs, "num_train_epochs")
        seed_i = _parse_int(seed, "seed")
        tx = _checked_array(train_features, "train_features", 2)
        ty = _checked_array(train_labels, "train_labels", 1)
        vx = _checked_array(valid_features, "valid_features", 2)
        vy = _checked_array(valid_labels, "valid_labels", 1)
        if tx.shape[1] != vx.shape[1]:
            raise DataError(
                f"train_features has {tx.shape[1]} columns but valid_features has "
                f"{vx.shape[1]}; both need the same number of features"
            )
        for fx, fy, split in ((tx, ty, "train"), (vx, vy, "valid")):
            if fx.shape[0] != fy.shape[0]:
                raise DataError(
                    f"{split}_features has {fx.shape[0]} rows but {split}_labels has "
                    f"{fy.shape[0]} entries; one label per example is needed"
                )
        if et == EvalType.ACCURACY:
            for fy, split in ((ty, "train"), (vy, "valid")):
                if not np.all((fy == 0.0) | (fy == 1.0)):
                    raise DataError(
                        f"{split}_labels: ACCURACY tasks need labels 0 or 1, found "
                        f"other values"
                    )
        return cls(
            train_features=tx,
            train_labels=ty,
            valid_features=vx,
            valid_labels=vy,
            eval_type=et,
            epochs=generate_epochs(tx.shape[0], epochs_n, seed_i),
            index=_parse_int(index, "index"),
            data_seed=seed_i % _UINT32,
            param_seed=0,
            name=name or f"arrays[seed={seed_i}]",
        )


def _checked_array(value: Any, label: str, ndim: int) -> np.ndarray:
    """Convert user data to a C-contiguous float64 array of ``ndim`` dims, or fail."""
    try:
        arr = np.asarray(value)
    except Exception as e:
        raise DataError(f"{label}: cannot be converted to an array: {e}") from e
    if not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise DataError(f"{label}: must be numeric, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        shape = "(examples, features)" if ndim == 2 else "(examples,)"
        raise DataError(f"{label}: must be {ndim}-D {shape}, got shape {arr.shape}")
    if arr.shape[0] == 0 or (ndim == 2 and arr.shape[1] == 0):
        raise DataError(f"{label}: must not be empty, got shape {arr.shape}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise DataError(f"{label}: holds NaN or infinite values")
    return out


# --------------------------------------------------------------------------
# TaskSpec parsing helpers. Each takes the key path used in error messages.
# --------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _parse_int(value: Any, where: str) -> int:
    if not _is_int(value):
        raise ConfigError(f"{where}: must be an integer, got {value!r}")
    return int(value)


def _parse_positive_int(value: Any, where: str) -> int:
    if not _is_int(value) or value < 1:
        raise ConfigError(f"{where}: must be a positive integer, got {value!r}")
    return int(value)


def _parse_nonneg_int(value: Any, where: str, upper: int | None = None) -> int:
    if not _is_int(value) or value < 0 or (upper is not None and value >= upper):
        bound = f" below {upper}" if upper is not None else ""
        raise ConfigError(
            f"{where}: must be a non-negative integer{bound}, got {value!r}"
        )
    return int(value)


def _parse_float(value: Any, where: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ConfigError(f"{where}: must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ConfigError(f"{where}: must be finite, got {value!r}")
    return float(value)


def _parse_eval_type(value: Any, where: str) -> EvalType | None:
    if value is None or isinstance(value, EvalType):
        return value
    if isinstance(value, str) and value.strip().upper() in EvalType.__members__:
        return EvalType[value.strip().upper()]
    if _is_int(value) and int(value) in {e.value for e in EvalType}:
        return EvalType(int(value))
    raise ConfigError(f"{where}: must be 'RMS_ERROR' or 'ACCURACY', got {value!r}")


def _parse_sequence(value: Any, where: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: must be a list, got {value!r}")
    return value


def _parse_seeds(value: Any, where: str) -> tuple[int, ...]:
    if _is_int(value):  # a single seed, like proto text format's `data_seeds: 3`
        value = [value]
    items = _parse_sequence(value, where)
    return tuple(
        _parse_nonneg_int(s, f"{where}[{i}]", _UINT32) for i, s in enumerate(items)
    )


def _parse_class_id(value: Any, where: str) -> int | None:
    if value is None:
        return None
    return _parse_nonneg_int(value, where)


def _parse_pairs(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    pairs: list[tuple[int, int]] = []
    for i, pair in enumerate(_parse_sequence(value, where)):
        p = f"{where}[{i}]"
        items = _parse_sequence(pair, p)
        if len(items) != 2:
            raise ConfigError(f"{p}: must be a pair of two class ids, got {pair!r}")
        a = _parse_nonneg_int(items[0], f"{p}[0]", PROJECTED_NUM_CLASSES)
        b = _parse_nonneg_int(items[1], f"{p}[1]", PROJECTED_NUM_CLASSES)
        if a == b:
            raise ConfigError(f"{p}: the two classes must differ, got {pair!r}")
        normalized = (min(a, b), max(a, b))  # pairs are unordered, as in the original
        if normalized not in pairs:
            pairs.append(normalized)
    return tuple(pairs)


def _parse_path(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(f"{where}: must be a non-empty path string, got {value!r}")
    return str(value)


def _parse_dataset_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in DATASET_NAMES:
        raise ConfigError(
            f"{where}: must be one of {', '.join(map(repr, DATASET_NAMES))}, "
            f"got {value!r}"
        )
    return value


def _parse_task_type(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in TASK_TYPES:
        raise ConfigError(
            f"{where}: unknown task type {value!r}; "
            f"expected one of {', '.join(TASK_TYPES)}"
        )
    return value


def _parse_rows(value: Any, where: str) -> tuple[tuple[float, ...], ...]:
    rows = []
    for i, row in enumerate(_parse_sequence(value, where)):
        items = _parse_sequence(row, f"{where}[{i}]")
        rows.append(
            tuple(_parse_float(v, f"{where}[{i}][{j}]") for j, v in enumerate(items))
        )
    return tuple(rows)


def _parse_labels(value: Any, where: str) -> tuple[float, ...]:
    labels = []
    for i, item in enumerate(_parse_sequence(value, where)):
        if isinstance(item, (list, tuple)):  # the original's one-element label vector
            if len(item) != 1:
                raise ConfigError(
                    f"{where}[{i}]: a label must have exactly one element, got {item!r}"
                )
            item = item[0]
        labels.append(_parse_float(item, f"{where}[{i}]"))
    return tuple(labels)


_FIELD_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "task_type": _parse_task_type,
    "features_size": _parse_positive_int,
    "num_train_examples": _parse_positive_int,
    "num_valid_examples": _parse_positive_int,
    "num_tasks": _parse_positive_int,
    "num_train_epochs": _parse_positive_int,
    "eval_type": _parse_eval_type,
    "data_seeds": _parse_seeds,
    "param_seeds": _parse_seeds,
    "dataset_name": _parse_dataset_name,
    "path": _parse_path,
    "positive_class": _parse_class_id,
    "negative_class": _parse_class_id,
    "held_out_pairs": _parse_pairs,
    "min_supported_data_seed": lambda v, w: _parse_nonneg_int(v, w, _UINT32),
    "max_supported_data_seed": lambda v, w: _parse_nonneg_int(v, w, _UINT32),
    "increment": _parse_float,
    "train_features": _parse_rows,
    "train_labels": _parse_labels,
    "valid_features": _parse_rows,
    "valid_labels": _parse_labels,
}

# Keys that only one task type accepts.
_TYPE_SPECIFIC_KEYS: dict[str, frozenset[str]] = {
    _PROJECTED: frozenset(
        {
            "dataset_name",
            "path",
            "positive_class",
            "negative_class",
            "held_out_pairs",
            "min_supported_data_seed",
            "max_supported_data_seed",
        }
    ),
    "unit_test_increment_task": frozenset({"increment"}),
    "unit_test_fixed_task": frozenset(
        {"train_features", "train_labels", "valid_features", "valid_labels"}
    ),
}
_KEY_OWNER: dict[str, str] = {
    key: owner for owner, keys in _TYPE_SPECIFIC_KEYS.items() for key in keys
}
_REQUIRED_KEYS = ("features_size", "num_train_examples", "num_valid_examples")


def _default_eval_type(task_type: str) -> EvalType:
    return EvalType.ACCURACY if task_type == _PROJECTED else EvalType.RMS_ERROR


def _validate_spec_values(
    values: dict[str, Any], defaults: Mapping[str, Any], where: str
) -> None:
    """Cross-field checks on parsed TaskSpec values; fills in eval_type's default.

    ``values`` holds every field, already parsed; errors name ``where.key``.
    """
    task_type = values["task_type"]
    for key, owner in _KEY_OWNER.items():
        if owner != task_type and values[key] != defaults[key]:
            raise ConfigError(
                f"{where}.{key}: only valid for {owner}, not for {task_type}"
            )
    if values["eval_type"] is None:
        values["eval_type"] = _default_eval_type(task_type)
    eval_type = values["eval_type"]
    if task_type in _REGRESSION_TYPES and eval_type != EvalType.RMS_ERROR:
        raise ConfigError(
            f"{where}.eval_type: {task_type} must use RMS_ERROR (as in the original), "
            f"got {eval_type.name}"
        )
    if task_type == _PROJECTED and eval_type != EvalType.ACCURACY:
        raise ConfigError(
            f"{where}.eval_type: {task_type} must use ACCURACY (as in the original), "
            f"got {eval_type.name}"
        )
    if task_type == "scalar_2layer_nn_regression_task" and (
        values["features_size"] < _NN_MIN_FEATURES
    ):
        raise ConfigError(
            f"{where}.features_size: {task_type} needs features_size >= "
            f"{_NN_MIN_FEATURES} (it zeroes hidden units 0 and 2), "
            f"got {values['features_size']}"
        )
    if task_type == _PROJECTED:
        _validate_projected(values, where)
    if task_type == "unit_test_fixed_task":
        _validate_fixed(values, where)


def _validate_projected(values: dict[str, Any], where: str) -> None:
    name, path = values["dataset_name"], values["path"]
    if name == "digits" and path is not None:
        raise ConfigError(
            f"{where}.path: dataset_name 'digits' is bundled with scikit-learn and "
            "takes no path"
        )
    if name != "digits" and path is None:
        what = "a .npz file" if name == "npz" else "the data set's directory"
        raise ConfigError(f"{where}.path: dataset_name {name!r} needs a path ({what})")
    pos, neg = values["positive_class"], values["negative_class"]
    if (pos is None) != (neg is None):
        missing = "negative_class" if neg is None else "positive_class"
        raise ConfigError(
            f"{where}.{missing}: give both positive_class and negative_class or neither"
        )
    if pos is not None:
        if pos == neg:
            raise ConfigError(
                f"{where}.negative_class: must differ from positive_class ({pos})"
            )
        if name != "npz":
            for key in ("positive_class", "negative_class"):
                if values[key] >= PROJECTED_NUM_CLASSES:
                    raise ConfigError(
                        f"{where}.{key}: {name} has class ids 0..9, got {values[key]}"
                    )
        if (min(pos, neg), max(pos, neg)) in values["held_out_pairs"]:
            raise ConfigError(
                f"{where}.held_out_pairs: holds out the explicitly chosen pair "
                f"({pos}, {neg})"
            )
    elif len(values["held_out_pairs"]) >= _NUM_PAIRS:
        raise ConfigError(
            f"{where}.held_out_pairs: holds out all {_NUM_PAIRS} class pairs, "
            "leaving none to choose from"
        )
    lo, hi = values["min_supported_data_seed"], values["max_supported_data_seed"]
    if hi <= lo:
        raise ConfigError(
            f"{where}.max_supported_data_seed: must be greater than "
            f"min_supported_data_seed ({lo}), got {hi}"
        )


def _validate_fixed(values: dict[str, Any], where: str) -> None:
    f = values["features_size"]
    for split in ("train", "valid"):
        rows, labels = values[f"{split}_features"], values[f"{split}_labels"]
        count = values[f"num_{split}_examples"]
        if not rows:
            raise ConfigError(
                f"{where}.{split}_features: required for unit_test_fixed_task"
            )
        for i, row in enumerate(rows):
            if len(row) != f:
                raise ConfigError(
                    f"{where}.{split}_features[{i}]: has {len(row)} elements, "
                    f"features_size is {f}"
                )
        if len(rows) != count:
            raise ConfigError(
                f"{where}.num_{split}_examples: is {count} but {split}_features has "
                f"{len(rows)} rows"
            )
        if len(labels) != count:
            raise ConfigError(
                f"{where}.{split}_labels: has {len(labels)} labels, expected {count} "
                f"(one per row of {split}_features)"
            )


# --------------------------------------------------------------------------
# TaskSpec
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSpec:
    """A family of ``num_tasks`` tasks of one type (the original's TaskSpec, §10.1).

    Fields are validated and normalised on construction (lists become tuples,
    ``eval_type`` gets its per-type default); bad values raise ConfigError
    naming the field. Type-specific fields must keep their defaults on other
    task types.
    """

    task_type: str
    features_size: int
    num_train_examples: int
    num_valid_examples: int
    num_tasks: int = 1
    num_train_epochs: int = 1
    # Default per type: RMS_ERROR for regression/unit tests, ACCURACY for projected.
    eval_type: EvalType | None = None
    # Seeds for the first tasks; later tasks increment from the last one given.
    # Empty means DEFAULT_DATA_SEEDS / DEFAULT_PARAM_SEEDS.
    data_seeds: tuple[int, ...] = ()
    param_seeds: tuple[int, ...] = ()
    # projected_binary_classification_task only:
    dataset_name: str = "digits"  # "digits" | "cifar10" | "mnist" | "npz"
    path: str | None = None  # directory (cifar10, mnist) or .npz file; not for digits
    positive_class: int | None = None  # both or neither; neither = random pair
    negative_class: int | None = None
    held_out_pairs: tuple[tuple[int, int], ...] = ()  # never chosen at random
    min_supported_data_seed: int = 0  # data split/projection seeds lie in [min, max)
    max_supported_data_seed: int = 10
    # unit_test_increment_task only:
    increment: float = 1.0
    # unit_test_fixed_task only (sizes must match features_size / num_*_examples):
    train_features: tuple[tuple[float, ...], ...] = ()
    train_labels: tuple[float, ...] = ()
    valid_features: tuple[tuple[float, ...], ...] = ()
    valid_labels: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        where = "TaskSpec"
        values = {
            f.name: _FIELD_PARSERS[f.name](getattr(self, f.name), f"{where}.{f.name}")
            for f in dataclasses.fields(self)
        }
        _validate_spec_values(values, _spec_defaults(), where)
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any], where: str, base_dir: Path | None = None
    ) -> TaskSpec:
        """Parse one task spec table (e.g. from TOML); errors name ``where.key``.

        A relative ``path`` is resolved against ``base_dir`` (the config file's
        directory). For ``unit_test_fixed_task`` the sizes may be left out: they
        are then taken from the lists.
        """
        if not isinstance(d, Mapping):
            raise ConfigError(
                f"{where}: must be a table of task settings, got {type(d).__name__}"
            )
        for key in d:
            if key not in _FIELD_PARSERS:
                raise ConfigError(
                    f"{where}.{key}: unknown key; valid keys are "
                    f"{', '.join(_FIELD_PARSERS)}"
                )
        if "task_type" not in d:
            raise ConfigError(f"{where}.task_type: required key is missing")
        task_type = _parse_task_type(d["task_type"], f"{where}.task_type")
        for key in d:
            owner = _KEY_OWNER.get(key)
            if owner is not None and owner != task_type:
                raise ConfigError(
                    f"{where}.{key}: only valid for {owner}, not for {task_type}"
                )
        values = _spec_defaults()
        for key, raw in d.items():
            values[key] = _FIELD_PARSERS[key](raw, f"{where}.{key}")
        path = values["path"]
        if path is not None and base_dir is not None:
            p = Path(path).expanduser()
            values["path"] = str(p if p.is_absolute() else Path(base_dir) / p)
        if task_type == "unit_test_fixed_task":
            # Sizes default to those of the lists (the original reads them there).
            inferred = {
                "num_train_examples": len(values["train_features"]),
                "num_valid_examples": len(values["valid_features"]),
                "features_size": len(values["train_features"][0])
                if values["train_features"]
                else None,
            }
            for key, size in inferred.items():
                if key not in d and size:
                    values[key] = size
        for key in _REQUIRED_KEYS:
            if values[key] is None:
                raise ConfigError(f"{where}.{key}: required key is missing")
        _validate_spec_values(values, _spec_defaults(), where)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The inverse of :meth:`from_dict`: only non-default keys, TOML/JSON-ready."""
        defaults = _spec_defaults()
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            always = f.name in ("task_type", "eval_type", *_REQUIRED_KEYS)
            if value is None or (not always and value == defaults[f.name]):
                continue
            out[f.name] = _to_plain(value)
        return out

    def task_seeds(self) -> list[tuple[int, int]]:
        """(data_seed, param_seed) of each of the ``num_tasks`` tasks, in order."""
        return list(
            zip(
                task_seeds(self.data_seeds, DEFAULT_DATA_SEEDS, self.num_tasks),
                task_seeds(self.param_seeds, DEFAULT_PARAM_SEEDS, self.num_tasks),
                strict=True,
            )
        )


def _spec_defaults() -> dict[str, Any]:
    """Field name -> default (None for the required fields)."""
    return {
        f.name: (None if f.default is dataclasses.MISSING else f.default)
        for f in dataclasses.fields(TaskSpec)
    }


def _to_plain(value: Any) -> Any:
    """Tuples -> lists, enums -> names: a TOML/JSON-serialisable value."""
    if isinstance(value, EvalType):
        return value.name
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    return value


def task_seeds(
    seeds: Sequence[int], defaults: Sequence[int], num_tasks: int
) -> list[int]:
    """Seed of each task: ``seeds[i]`` while given, then the previous seed + 1.

    An empty ``seeds`` means ``defaults`` (SPEC §10.1). Arithmetic is mod 2**32.
    """
    given = list(seeds) if seeds else list(defaults)
    out: list[int] = []
    for i in range(num_tasks):
        out.append(given[i] % _UINT32 if i < len(given) else (out[-1] + 1) % _UINT32)
    return out


# --------------------------------------------------------------------------
# Task creators. Each returns (train_x, train_y, valid_x, valid_y, name).
# --------------------------------------------------------------------------

_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]


def _default_name(spec: TaskSpec, data_seed: int, param_seed: int) -> str:
    return f"{spec.task_type}[data_seed={data_seed},param_seed={param_seed}]"


def _gaussian_inputs(
    spec: TaskSpec, data_seed: int, offset: int
) -> tuple[np.ndarray, np.ndarray]:
    """x ~ N(0,1)^F for every train example, then every valid example."""
    rng = _generator(data_seed, offset)
    n_train, n_valid = spec.num_train_examples, spec.num_valid_examples
    x = rng.standard_normal((n_train + n_valid, spec.features_size))
    return np.ascontiguousarray(x[:n_train]), np.ascontiguousarray(x[n_train:])


def _create_linear(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    tx, vx = _gaussian_inputs(spec, data_seed, LINEAR_DATA_SEED_OFFSET)
    w = _generator(param_seed, LINEAR_PARAM_SEED_OFFSET).standard_normal(
        spec.features_size
    )
    return tx, tx @ w, vx, vx @ w, _default_name(spec, data_seed, param_seed)


def _create_affine(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    tx, vx = _gaussian_inputs(spec, data_seed, AFFINE_DATA_SEED_OFFSET)
    rng = _generator(param_seed, AFFINE_PARAM_SEED_OFFSET)
    u = rng.standard_normal(spec.features_size)
    a = rng.standard_normal()
    return tx, tx @ u + a, vx, vx @ u + a, _default_name(spec, data_seed, param_seed)


def _create_2layer_nn(spec: TaskSpec, data_seed: int, param_seed: int) -> _Arrays:
    tx, vx = _gaussian_inputs(spec, data_seed, NN_DATA_SEED_OFFSET)
    f = spec.features_size
    rng = _generator(param_seed, NN_PARAM_SEED_OFFSET)
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
    """(positive_class, negative_class, split_seed) of a projected task (SPEC §10.4).

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
            np.random.SeedSequence([PROJECTED_PAIR_SALT, data_seed % _UINT32])
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
    from sklearn.preprocessing import StandardScaler

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
    projection = np.random.RandomState(seed).randn(x.shape[1], features_size)
    scaler = StandardScaler().fit(x_train @ projection)  # fit on train only
    out = (
        np.ascontiguousarray(scaler.transform(x_train @ projection), dtype=np.float64),
        np.ascontiguousarray(y_train, dtype=np.float64),
        np.ascontiguousarray(scaler.transform(x_valid @ projection), dtype=np.float64),
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


_CREATORS: dict[str, Callable[[TaskSpec, int, int], _Arrays]] = {
    "scalar_linear_regression_task": _create_linear,
    "scalar_affine_regression_task": _create_affine,
    "scalar_2layer_nn_regression_task": _create_2layer_nn,
    _PROJECTED: _create_projected,
    "unit_test_zeros_task": _create_constant(0.0),
    "unit_test_ones_task": _create_constant(1.0),
    "unit_test_increment_task": _create_increment,
    "unit_test_fixed_task": _create_fixed,
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
    """New specs with ``num_tasks`` fresh param and data seeds each (SPEC §10.1).

    Two generators, one for param seeds and one for data seeds, are seeded from
    ``seed`` (mixed with the original's salts through numpy's SeedSequence) and
    run across the specs in order. Deterministic for a given ``seed``.
    """
    if not _is_int(seed):
        raise ConfigError(f"seed: must be an integer, got {seed!r}")
    entropy = int(seed) % 2**64

    def gen(salt: int) -> np.random.Generator:
        return np.random.Generator(
            np.random.MT19937(np.random.SeedSequence([salt, entropy]))
        )

    param_gen, data_gen = gen(RANDOMIZE_PARAM_SALT), gen(RANDOMIZE_DATA_SALT)
    out = []
    for spec in specs:
        param_seeds = tuple(
            int(s) for s in param_gen.integers(1, _UINT32, spec.num_tasks)
        )
        data_seeds = tuple(
            int(s) for s in data_gen.integers(1, _UINT32, spec.num_tasks)
        )
        out.append(
            dataclasses.replace(spec, param_seeds=param_seeds, data_seeds=data_seeds)
        )
    return out
