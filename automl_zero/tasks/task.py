"""Tasks: the data an algorithm is trained and validated on (docs/semantics.md §4.5, §12).

A :class:`Task` holds one epoch of unique training examples, the validation
examples and the per-epoch visiting orders; :func:`generate_epochs` makes the
orders. Task specs (the config side) live in :mod:`automl_zero.tasks.spec`,
task generation in :mod:`automl_zero.tasks.generate`; import everything from
:mod:`automl_zero.tasks`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_zero.errors import ConfigError, DataError, excerpt
from automl_zero.tasks._checks import (
    MAX_FEATURES_SIZE,
    UINT32,
    is_int,
    parse_int,
    parse_positive_int,
)

__all__ = ["EPOCHS_SEED_OFFSET", "EvalType", "Task", "generate_epochs", "parse_eval_type"]

# Epoch orders are drawn from Generator(MT19937((data_seed + this) mod 2**32))
# (the original's task.h).
EPOCHS_SEED_OFFSET = 3274582109


class EvalType(enum.IntEnum):
    """How validation predictions are scored (the original's enum values;
    MULTICLASS_ACCURACY is ours: the original has no multi-class path,
    docs/semantics.md §4.13)."""

    RMS_ERROR = 1
    ACCURACY = 4
    MULTICLASS_ACCURACY = 5


def parse_eval_type(value: Any, where: str) -> EvalType | None:
    """An EvalType from its name (any case), value or itself; None stays None."""
    if value is None or isinstance(value, EvalType):
        return value
    if isinstance(value, str) and value.strip().upper() in EvalType.__members__:
        return EvalType[value.strip().upper()]
    if is_int(value) and int(value) in {e.value for e in EvalType}:
        return EvalType(int(value))
    raise ConfigError(f"{where}: must be 'RMS_ERROR', 'ACCURACY' or "
                      f"'MULTICLASS_ACCURACY', got {excerpt(value)}")


def generator(seed: int, offset: int = 0) -> np.random.Generator:
    """A Generator over MT19937 seeded with ``(seed + offset) mod 2**32``."""
    return np.random.Generator(np.random.MT19937((int(seed) + offset) % UINT32))


def generate_epochs(num_examples: int, num_epochs: int, data_seed: int) -> np.ndarray:
    """Visiting orders of the training examples, shape ``(num_epochs, num_examples)``.

    Row 0 is the identity order; row k is the order after k successive shuffles
    of the index list (docs/semantics.md §4.5). The generator is seeded from
    ``(data_seed + 3274582109) mod 2**32``.
    """
    rng = generator(data_seed, EPOCHS_SEED_OFFSET)
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
    # MULTICLASS_ACCURACY only: K >= 2 classes, labels are the class ids
    # 0..K-1 as floats, K <= F (the one-hot label fills v1[:K]); 0 otherwise.
    num_classes: int = 0

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
        k = self.num_classes
        if self.eval_type == EvalType.MULTICLASS_ACCURACY:
            if not is_int(k) or not 2 <= int(k) <= tx.shape[1]:
                raise DataError(
                    f"{what}: a MULTICLASS_ACCURACY task needs 2 <= num_classes <= "
                    f"features_size ({tx.shape[1]}): the one-hot label fills v1, "
                    f"got {excerpt(k)}")
            k = int(k)
            for split, labels in (("train", ty), ("valid", vy)):
                ok = (labels >= 0) & (labels < k) & (labels == np.floor(labels))
                if not np.all(ok):
                    bad = labels[~ok][0]
                    raise DataError(f"{what}: {split} labels must be class ids 0..{k - 1}, "
                                    f"found {float(bad)!r}")
            object.__setattr__(self, "num_classes", k)
        elif k != 0:
            raise DataError(f"{what}: num_classes is only for MULTICLASS_ACCURACY "
                            f"tasks, got {excerpt(k)} for {self.eval_type.name}")

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
        num_classes: int = 0,
    ) -> Task:
        """Build a task from user arrays, checking them (DataError on bad data).

        ``seed`` plays the part of the data seed: it seeds the epoch orders.
        ACCURACY tasks need labels in {0, 1}; MULTICLASS_ACCURACY tasks need
        ``num_classes`` and labels 0..num_classes-1.
        """
        et = parse_eval_type(eval_type, "eval_type")
        if et is None:
            raise ConfigError("eval_type: must be 'RMS_ERROR', 'ACCURACY' or "
                              "'MULTICLASS_ACCURACY', got None")
        epochs_n = parse_positive_int(num_train_epochs, "num_train_epochs")
        seed_i = parse_int(seed, "seed")
        tx = _checked_array(train_features, "train_features", 2)
        ty = _checked_array(train_labels, "train_labels", 1)
        vx = _checked_array(valid_features, "valid_features", 2)
        vy = _checked_array(valid_labels, "valid_labels", 1)
        if tx.shape[1] != vx.shape[1]:
            raise DataError(
                f"train_features has {tx.shape[1]} columns but valid_features has "
                f"{vx.shape[1]}; both need the same number of features"
            )
        if tx.shape[1] > MAX_FEATURES_SIZE:
            raise DataError(
                f"train_features has {tx.shape[1]} columns; the executor supports at "
                f"most {MAX_FEATURES_SIZE} features (project the data to fewer)"
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
            index=parse_int(index, "index"),
            data_seed=seed_i % UINT32,
            param_seed=0,
            name=name or f"arrays[seed={seed_i}]",
            num_classes=num_classes,
        )


def _checked_array(value: Any, label: str, ndim: int) -> np.ndarray:
    """Convert user data to a C-contiguous float64 array of ``ndim`` dims, or fail."""
    try:
        arr = np.asarray(value)
    except Exception as e:  # ragged lists, objects numpy cannot take
        raise DataError(
            f"{label}: cannot be converted to an array: {str(e)[:200]}"
        ) from None
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
