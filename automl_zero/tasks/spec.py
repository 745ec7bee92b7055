"""Task specs: a family of ``num_tasks`` tasks of one type as written in
configs (the original's ``TaskSpec`` proto, flattened for TOML), their field
parsing and validation, the task seeds and the seed constants (docs/semantics.md §12).

Task types (docs/semantics.md §12.2-§12.6, paper §4.1):

* ``scalar_linear_regression_task``: ``y = w . x``.
* ``scalar_affine_regression_task``: ``y = u . x + a`` (paper only).
* ``scalar_2layer_nn_regression_task``: ``y = u . relu(M x)`` with rows 0 and 2
  of ``M`` and entries 0 and 2 of ``u`` zeroed, as in the code.
* ``projected_binary_classification_task``: two classes of a real data set,
  randomly projected to ``features_size`` dimensions and standardised, built in
  memory the way the original's ``generate_datasets.py`` builds its files.
* ``projected_multiclass_classification_task``: all 10 classes of a real data
  set, projected and standardised the same way (paper §4.3; not in the
  original code): MULTICLASS_ACCURACY, one-hot labels in v1, predictions in
  v2 (docs/semantics.md §4.13); needs ``features_size`` >= 10.
* ``unit_test_{zeros,ones,increment,fixed}_task``: tiny deterministic tasks.
* ``user_regression_task`` and ``user_binary_classification_task``: random
  train/validation splits of a user's ``.npz`` or ``.csv`` file
  (docs/user_data.md; :mod:`automl_zero.tasks.user_data`). Their specs read
  the file when they are made, to check it against the spec and to fill in
  the sizes a config leaves out (``TaskSpec.from_dict``).

Bad values raise ConfigError naming the key path; so does a spec whose tasks
could not fit in memory (``features_size`` is also bounded by the executor:
``MAX_FEATURES_SIZE``). Task generation is in :mod:`automl_zero.tasks.generate`.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero.errors import ConfigError, DataError, excerpt
from automl_zero.tasks._checks import (
    MAX_FEATURES_SIZE,
    UINT32,
    check_memory,
    is_int,
    parse_float,
    parse_nonneg_int,
    parse_positive_int,
    parse_sequence,
)
from automl_zero.tasks.datasets import DATASET_NAMES
from automl_zero.tasks.task import EvalType, parse_eval_type
from automl_zero.tasks.user_data import (
    USER_FILE_SUFFIXES,
    LabelColumnError,
    UserData,
    binary_classes,
    load_user_data,
    show_path,
    split_sizes,
)

__all__ = [
    "DEFAULT_DATA_SEEDS",
    "DEFAULT_PARAM_SEEDS",
    "MAX_FEATURES_SIZE",
    "TASK_TYPES",
    "USER_TASK_TYPES",
    "TaskSpec",
    "task_seeds",
]

# Seed offsets (docs/semantics.md §12). Every generator is
# Generator(MT19937((seed + OFFSET) mod 2**32)); the epoch orders' offset is
# task.EPOCHS_SEED_OFFSET.
LINEAR_DATA_SEED_OFFSET = 939723201
LINEAR_PARAM_SEED_OFFSET = 997958712
# The affine task is not in the C++ code; these two offsets are our own choice,
# distinct from every other offset so that an affine task never shares a stream
# with a linear task of the same seeds.
AFFINE_DATA_SEED_OFFSET = 418027263
AFFINE_PARAM_SEED_OFFSET = 752390481
NN_DATA_SEED_OFFSET = 865546086
NN_PARAM_SEED_OFFSET = 174299604
# Salts standing in for the original's HashMix(salt, seed) (docs/semantics.md §12.1, §12.5).
PROJECTED_PAIR_SALT = 856572777
RANDOMIZE_PARAM_SALT = 85652777
RANDOMIZE_DATA_SALT = 38272328
# The row shuffles of user data tasks (our own; distinct from every other offset).
USER_SPLIT_SEED_OFFSET = 610395627

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

USER_REGRESSION = "user_regression_task"
USER_CLASSIFICATION = "user_binary_classification_task"
USER_TASK_TYPES: tuple[str, ...] = (USER_REGRESSION, USER_CLASSIFICATION)

TASK_TYPES: tuple[str, ...] = (
    "scalar_linear_regression_task",
    "scalar_affine_regression_task",
    "scalar_2layer_nn_regression_task",
    "projected_binary_classification_task",
    "projected_multiclass_classification_task",
    "unit_test_zeros_task",
    "unit_test_ones_task",
    "unit_test_increment_task",
    "unit_test_fixed_task",
    *USER_TASK_TYPES,
)

_REGRESSION_TYPES = frozenset(
    {
        "scalar_linear_regression_task",
        "scalar_affine_regression_task",
        "scalar_2layer_nn_regression_task",
        USER_REGRESSION,
    }
)
_PROJECTED = "projected_binary_classification_task"
_PROJECTED_MULTICLASS = "projected_multiclass_classification_task"
_CLASSIFICATION_TYPES = frozenset({_PROJECTED, USER_CLASSIFICATION})
_MULTICLASS_TYPES = frozenset({_PROJECTED_MULTICLASS})
_NN_MIN_FEATURES = 3


# --------------------------------------------------------------------------
# Field parsers. Each takes the key path used in error messages.
# --------------------------------------------------------------------------


def _parse_features_size(value: Any, where: str) -> int:
    size = parse_positive_int(value, where)
    if size > MAX_FEATURES_SIZE:
        raise ConfigError(
            f"{where}: {size} is more than the executor supports: at most "
            f"{MAX_FEATURES_SIZE} (it compiles one kernel per feature size, and numba "
            f"limits the size tuple to {MAX_FEATURES_SIZE} elements)"
        )
    return size


def _parse_seeds(value: Any, where: str) -> tuple[int, ...]:
    if is_int(value):  # a single seed, like proto text format's `data_seeds: 3`
        value = [value]
    items = parse_sequence(value, where)
    return tuple(
        parse_nonneg_int(s, f"{where}[{i}]", UINT32) for i, s in enumerate(items)
    )


def _parse_class_id(value: Any, where: str) -> int | None:
    if value is None:
        return None
    return parse_nonneg_int(value, where)


def _parse_pairs(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    pairs: list[tuple[int, int]] = []
    for i, pair in enumerate(parse_sequence(value, where)):
        p = f"{where}[{i}]"
        items = parse_sequence(pair, p)
        if len(items) != 2:
            raise ConfigError(f"{p}: must be a pair of two class ids, got {excerpt(pair)}")
        a = parse_nonneg_int(items[0], f"{p}[0]", PROJECTED_NUM_CLASSES)
        b = parse_nonneg_int(items[1], f"{p}[1]", PROJECTED_NUM_CLASSES)
        if a == b:
            raise ConfigError(f"{p}: the two classes must differ, got {excerpt(pair)}")
        normalized = (min(a, b), max(a, b))  # pairs are unordered, as in the original
        if normalized not in pairs:
            pairs.append(normalized)
    return tuple(pairs)


def _parse_path(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigError(f"{where}: must be a path string, got {excerpt(value)}")
    text = os.fspath(value)
    if not isinstance(text, str) or not text:
        raise ConfigError(f"{where}: must be a non-empty path string, got {excerpt(value)}")
    if "\x00" in text:
        raise ConfigError(f"{where}: a path cannot contain NUL characters, got "
                          f"{excerpt(text)}")
    return text


def _parse_label_column(value: Any, where: str) -> int | str | None:
    if value is None:
        return None
    if is_int(value):
        return int(value)
    if isinstance(value, str) and value.strip() and "\x00" not in value:
        return value.strip()
    raise ConfigError(f"{where}: must be a column index (0 = the first column, -1 = "
                      f"the last) or a column name of the CSV header, got "
                      f"{excerpt(value)}")


def _parse_bool(value: Any, where: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{where}: must be true or false, got {excerpt(value)}")
    return bool(value)


def _parse_dataset_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in DATASET_NAMES:
        raise ConfigError(
            f"{where}: must be one of {', '.join(map(repr, DATASET_NAMES))}, "
            f"got {excerpt(value)}"
        )
    return value


def _parse_task_type(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in TASK_TYPES:
        raise ConfigError(
            f"{where}: unknown task type {excerpt(value)}; "
            f"expected one of {', '.join(TASK_TYPES)}"
        )
    return value


def _parse_rows(value: Any, where: str) -> tuple[tuple[float, ...], ...]:
    rows = []
    for i, row in enumerate(parse_sequence(value, where)):
        items = parse_sequence(row, f"{where}[{i}]")
        rows.append(
            tuple(parse_float(v, f"{where}[{i}][{j}]") for j, v in enumerate(items))
        )
    return tuple(rows)


def _parse_labels(value: Any, where: str) -> tuple[float, ...]:
    labels = []
    for i, item in enumerate(parse_sequence(value, where)):
        if isinstance(item, (list, tuple)):  # the original's one-element label vector
            if len(item) != 1:
                raise ConfigError(
                    f"{where}[{i}]: a label must have exactly one element, got {excerpt(item)}"
                )
            item = item[0]
        labels.append(parse_float(item, f"{where}[{i}]"))
    return tuple(labels)


_FIELD_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "task_type": _parse_task_type,
    "features_size": _parse_features_size,
    "num_train_examples": parse_positive_int,
    "num_valid_examples": parse_positive_int,
    "num_tasks": parse_positive_int,
    "num_train_epochs": parse_positive_int,
    "eval_type": parse_eval_type,
    "data_seeds": _parse_seeds,
    "param_seeds": _parse_seeds,
    "dataset_name": _parse_dataset_name,
    "path": _parse_path,
    "label_column": _parse_label_column,
    "standardize_features": _parse_bool,
    "positive_class": _parse_class_id,
    "negative_class": _parse_class_id,
    "held_out_pairs": _parse_pairs,
    "min_supported_data_seed": lambda v, w: parse_nonneg_int(v, w, UINT32),
    "max_supported_data_seed": lambda v, w: parse_nonneg_int(v, w, UINT32),
    "increment": parse_float,
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
    _PROJECTED_MULTICLASS: frozenset(
        {"dataset_name", "path", "min_supported_data_seed", "max_supported_data_seed"}
    ),
    "unit_test_increment_task": frozenset({"increment"}),
    "unit_test_fixed_task": frozenset(
        {"train_features", "train_labels", "valid_features", "valid_labels"}
    ),
    **{
        user_type: frozenset({"path", "label_column", "standardize_features"})
        for user_type in USER_TASK_TYPES
    },
}
# Key -> the task types that accept it, in TASK_TYPES order.
_KEY_OWNERS: dict[str, tuple[str, ...]] = {
    key: tuple(t for t in TASK_TYPES if key in _TYPE_SPECIFIC_KEYS.get(t, ()))
    for keys in _TYPE_SPECIFIC_KEYS.values()
    for key in keys
}
_REQUIRED_KEYS = ("features_size", "num_train_examples", "num_valid_examples")


def _default_eval_type(task_type: str) -> EvalType:
    if task_type in _MULTICLASS_TYPES:
        return EvalType.MULTICLASS_ACCURACY
    return EvalType.ACCURACY if task_type in _CLASSIFICATION_TYPES else EvalType.RMS_ERROR


def _not_owned(key: str, task_type: str, where: str) -> ConfigError:
    return ConfigError(f"{where}.{key}: only valid for "
                       f"{', '.join(_KEY_OWNERS[key])}, not for {task_type}")


def _validate_spec_values(
    values: dict[str, Any], defaults: Mapping[str, Any], where: str
) -> None:
    """Cross-field checks on parsed TaskSpec values; fills in eval_type's default.

    ``values`` holds every field, already parsed; errors name ``where.key``.
    """
    task_type = values["task_type"]
    for key, owners in _KEY_OWNERS.items():
        if task_type not in owners and values[key] != defaults[key]:
            raise _not_owned(key, task_type, where)
    if values["eval_type"] is None:
        values["eval_type"] = _default_eval_type(task_type)
    eval_type = values["eval_type"]
    why = "" if task_type in USER_TASK_TYPES else " (as in the original)"
    if task_type in _REGRESSION_TYPES and eval_type != EvalType.RMS_ERROR:
        raise ConfigError(
            f"{where}.eval_type: {task_type} must use RMS_ERROR{why}, "
            f"got {eval_type.name}"
        )
    if task_type in _CLASSIFICATION_TYPES and eval_type != EvalType.ACCURACY:
        raise ConfigError(
            f"{where}.eval_type: {task_type} must use ACCURACY{why}, "
            f"got {eval_type.name}"
        )
    if task_type in _MULTICLASS_TYPES:
        if eval_type != EvalType.MULTICLASS_ACCURACY:
            raise ConfigError(f"{where}.eval_type: {task_type} must use "
                              f"MULTICLASS_ACCURACY, got {eval_type.name}")
        if values["features_size"] < PROJECTED_NUM_CLASSES:
            raise ConfigError(
                f"{where}.features_size: {task_type} needs features_size >= "
                f"{PROJECTED_NUM_CLASSES} (the one-hot label of its "
                f"{PROJECTED_NUM_CLASSES} classes fills v1), got {values['features_size']}")
    elif eval_type == EvalType.MULTICLASS_ACCURACY:
        raise ConfigError(f"{where}.eval_type: MULTICLASS_ACCURACY is only for "
                          f"{', '.join(sorted(_MULTICLASS_TYPES))}, not {task_type}")
    if task_type == "scalar_2layer_nn_regression_task" and (
        values["features_size"] < _NN_MIN_FEATURES
    ):
        raise ConfigError(
            f"{where}.features_size: {task_type} needs features_size >= "
            f"{_NN_MIN_FEATURES} (it zeroes hidden units 0 and 2), "
            f"got {values['features_size']}"
        )
    if task_type in (_PROJECTED, _PROJECTED_MULTICLASS):
        _validate_projected(values, where)
    if task_type == "unit_test_fixed_task":
        _validate_fixed(values, where)
    if task_type in USER_TASK_TYPES:
        _validate_user(values, where)
    check_memory(
        _data_bytes(values), where,
        f"{values['num_tasks']} task(s) of {values['num_train_examples']} train "
        f"examples x {values['num_train_epochs']} epoch(s) + "
        f"{values['num_valid_examples']} valid examples of {values['features_size']} "
        f"features",
        "lower num_tasks, num_train_examples, num_train_epochs, num_valid_examples or "
        "features_size",
    )


def _data_bytes(values: Mapping[str, Any]) -> int:
    """Bytes of the arrays the spec's tasks hold once made (``Task``: features,
    labels, epoch orders) and packed for the executor (``TaskBatch``: the
    training examples in visiting order and the validation examples): a lower
    bound of what ``make_tasks`` and the evaluator allocate."""
    f1 = values["features_size"] + 1  # features and the label
    n_train, n_valid = values["num_train_examples"], values["num_valid_examples"]
    steps = n_train * values["num_train_epochs"]
    per_task = 8 * (n_train + n_valid) * f1 + 4 * steps + 8 * (steps + n_valid) * f1
    return values["num_tasks"] * per_task


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


def _user_data(values: Mapping[str, Any], where: str) -> UserData:
    """The data file of a user task spec, loaded (cached); every problem is a
    ConfigError naming ``where.path`` or ``where.label_column`` and the file."""
    path, task_type = values["path"], values["task_type"]
    if path is None:
        raise ConfigError(f"{where}.path: {task_type} needs a path: a .npz file "
                          f"(arrays x and y) or a .csv file")
    if Path(path).suffix.lower() not in USER_FILE_SUFFIXES:
        raise ConfigError(f"{where}.path: must name a .npz or .csv file, got "
                          f"{excerpt(path)}")
    try:
        return load_user_data(path, values["label_column"])
    except LabelColumnError as e:
        raise ConfigError(f"{where}.label_column: {e}") from None
    except DataError as e:
        raise ConfigError(f"{where}.path: {e}") from None


def _infer_user_sizes(values: dict[str, Any], where: str) -> None:
    """Fill in the sizes a user task spec leaves out: ``features_size`` = the
    data's feature columns, the example counts as ``user_data.split_sizes``."""
    data = _user_data(values, where)
    if values["features_size"] is None:
        d = data.num_features
        if d > MAX_FEATURES_SIZE:
            raise ConfigError(
                f"{where}.features_size: required here: {show_path(data.source)} has "
                f"{d} feature columns, more than the executor supports "
                f"({MAX_FEATURES_SIZE}); set features_size to at most "
                f"{MAX_FEATURES_SIZE} to project them")
        values["features_size"] = d
    values["num_train_examples"], values["num_valid_examples"] = split_sizes(
        data.num_examples, values["num_train_examples"], values["num_valid_examples"],
        f"{where}.", show_path(data.source))


def _validate_user(values: dict[str, Any], where: str) -> None:
    """A user task spec against its data: features_size at most the columns,
    the counts within the rows, two classes for classification."""
    data = _user_data(values, where)
    f, d = values["features_size"], data.num_features
    if f > d:
        raise ConfigError(
            f"{where}.features_size: {f} is more than the {d} feature column(s) of "
            f"{show_path(data.source)}; use at most {d} (wider data is projected down "
            f"to features_size; narrower data is never padded)")
    split_sizes(data.num_examples, values["num_train_examples"],
                values["num_valid_examples"], f"{where}.", show_path(data.source))
    if values["task_type"] == USER_CLASSIFICATION:
        try:
            binary_classes(data.labels, show_path(data.source))
        except DataError as e:
            raise ConfigError(f"{where}.path: {e}") from None


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
    # projected: directory (cifar10, mnist) or .npz file, not for digits;
    # user types: the .npz or .csv data file (required).
    path: str | None = None
    positive_class: int | None = None  # both or neither; neither = random pair
    negative_class: int | None = None
    held_out_pairs: tuple[tuple[int, int], ...] = ()  # never chosen at random
    min_supported_data_seed: int = 0  # data split/projection seeds lie in [min, max)
    max_supported_data_seed: int = 10
    # user_regression_task and user_binary_classification_task (and path above):
    label_column: int | str | None = None  # CSV only: index or header name; None: last
    standardize_features: bool = True  # with the train split's mean and deviation
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
                short = isinstance(key, str) and key.isidentifier() and len(key) <= 60
                close = difflib.get_close_matches(key, list(_FIELD_PARSERS), n=1) \
                    if short else []
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                path = f"{where}.{key}: unknown key" if short else \
                    f"{where}: unknown key {excerpt(key)}"
                raise ConfigError(
                    f"{path}{hint}; valid keys are {', '.join(_FIELD_PARSERS)}"
                )
        if "task_type" not in d:
            raise ConfigError(f"{where}.task_type: required key is missing")
        task_type = _parse_task_type(d["task_type"], f"{where}.task_type")
        for key in d:
            owners = _KEY_OWNERS.get(key)
            if owners is not None and task_type not in owners:
                raise _not_owned(key, task_type, where)
        values = _spec_defaults()
        for key, raw in d.items():
            values[key] = _FIELD_PARSERS[key](raw, f"{where}.{key}")
        path = values["path"]
        if path is not None and base_dir is not None:
            try:
                p = Path(path).expanduser()
            except RuntimeError as e:  # ~user of an unknown user
                raise ConfigError(f"{where}.path: cannot expand {excerpt(path)} "
                                  f"({e})") from None
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
        if task_type in USER_TASK_TYPES:
            _infer_user_sizes(values, where)
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

    @property
    def num_classes(self) -> int:
        """Classes of a MULTICLASS_ACCURACY task (0 for other tasks)."""
        if self.eval_type == EvalType.MULTICLASS_ACCURACY:
            return PROJECTED_NUM_CLASSES
        return 0

    def data_bytes(self) -> int:
        """Bytes of the arrays of its tasks, made and packed for the executor (a
        lower bound of the memory they take)."""
        return _data_bytes(dataclasses.asdict(self))

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

    An empty ``seeds`` means ``defaults`` (docs/semantics.md §12.1). Arithmetic is mod 2**32.
    """
    given = list(seeds) if seeds else list(defaults)
    out: list[int] = []
    for i in range(num_tasks):
        out.append(given[i] % UINT32 if i < len(given) else (out[-1] + 1) % UINT32)
    return out

