"""Tasks of in-memory data (docs/user_data.md): :func:`tasks_from_arrays` makes
the tasks directly, :func:`user_task_spec` saves the arrays to an ``.npz``
file and returns a task spec reading it, for configs and searches (which
store task specs, not tasks: checkpoints, resumed runs and the final
evaluation remake tasks from specs).

Both follow the rules of the ``user_regression_task`` and
``user_binary_classification_task`` specs (the same code makes the splits):
for equal arguments, ``tasks_from_arrays(x, y, seed=s)`` and
``make_tasks([user_task_spec(x, y, directory, seed=s)])`` hold the same data.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero.errors import ConfigError, excerpt
from automl_zero.tasks._checks import (
    MAX_FEATURES_SIZE,
    UINT32,
    parse_nonneg_int,
    parse_positive_int,
)
from automl_zero.tasks.generate import user_task_arrays
from automl_zero.tasks.spec import (
    USER_CLASSIFICATION,
    USER_REGRESSION,
    TaskSpec,
    task_seeds,
)
from automl_zero.tasks.task import EvalType, Task, generate_epochs
from automl_zero.tasks.user_data import (
    UserData,
    binary_classes,
    split_sizes,
    user_data_from_arrays,
)

__all__ = ["save_user_data", "tasks_from_arrays", "user_task_spec"]

_TASK_KINDS = {
    "regression": USER_REGRESSION,
    "classification": USER_CLASSIFICATION,
    USER_REGRESSION: USER_REGRESSION,
    USER_CLASSIFICATION: USER_CLASSIFICATION,
}


def _task_type(task: Any) -> str:
    if not isinstance(task, str) or task not in _TASK_KINDS:
        raise ConfigError(f"task: must be 'regression' or 'classification', got "
                          f"{excerpt(task)}")
    return _TASK_KINDS[task]


def _sizes(data: UserData, features_size: Any, num_train: Any, num_valid: Any
           ) -> tuple[int, int, int]:
    """(features_size, num_train_examples, num_valid_examples), defaults filled
    in as for a spec; ConfigError naming the argument."""
    d = data.num_features
    if features_size is None:
        if d > MAX_FEATURES_SIZE:
            raise ConfigError(f"features_size: required: x has {d} columns, more than "
                              f"the executor supports ({MAX_FEATURES_SIZE}); give at "
                              f"most {MAX_FEATURES_SIZE} to project them")
        f = d
    else:
        f = parse_positive_int(features_size, "features_size")
        most = min(d, MAX_FEATURES_SIZE)
        if f > most:
            raise ConfigError(f"features_size: must be at most {most} (x has {d} "
                              f"columns; wider data is projected down, narrower data "
                              f"is never padded), got {f}")
    nt = None if num_train is None else parse_positive_int(num_train,
                                                           "num_train_examples")
    nv = None if num_valid is None else parse_positive_int(num_valid,
                                                           "num_valid_examples")
    nt, nv = split_sizes(data.num_examples, nt, nv, "", "x", data_key="x")
    return f, nt, nv


def _check_bool(value: Any, where: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{where}: must be True or False, got {excerpt(value)}")
    return bool(value)


def tasks_from_arrays(
    x: Any,
    y: Any,
    *,
    task: str = "regression",
    num_tasks: int = 1,
    features_size: int | None = None,
    num_train_examples: int | None = None,
    num_valid_examples: int | None = None,
    num_train_epochs: int = 1,
    seed: int = 0,
    standardize_features: bool = True,
) -> list[Task]:
    """``num_tasks`` tasks of the data ``x`` (n, d) and ``y`` (n,): random
    train/validation splits of the rows, task i drawn from data seed
    ``seed + i`` (docs/user_data.md).

    ``task``: "regression" (RMS_ERROR, labels as given) or "classification"
    (ACCURACY; ``y`` must hold exactly two values, mapped to 0 (the smaller)
    and 1). ``features_size`` (default d): with fewer than d, the features are
    randomly projected (a Gaussian matrix of the task's seed); more than d is
    an error. ``num_train_examples`` / ``num_valid_examples`` default to 4/5
    and 1/5 of the rows (one given: the other takes the rest). Features are
    standardised with the training split's statistics unless
    ``standardize_features`` is False.

    Raises DataError for bad data, ConfigError for bad arguments.
    """
    task_type = _task_type(task)
    data = user_data_from_arrays(x, y)
    f, nt, nv = _sizes(data, features_size, num_train_examples, num_valid_examples)
    n_tasks = parse_positive_int(num_tasks, "num_tasks")
    n_epochs = parse_positive_int(num_train_epochs, "num_train_epochs")
    first = parse_nonneg_int(seed, "seed", UINT32)
    standardize = _check_bool(standardize_features, "standardize_features")
    classification = task_type == USER_CLASSIFICATION
    if classification:
        binary_classes(data.labels, "y")
    tasks = []
    for i, data_seed in enumerate(task_seeds((first,), (), n_tasks)):
        tx, ty, vx, vy, name = user_task_arrays(data, task_type, nt, nv, f, data_seed,
                                                standardize)
        tasks.append(Task(
            train_features=tx, train_labels=ty, valid_features=vx, valid_labels=vy,
            eval_type=EvalType.ACCURACY if classification else EvalType.RMS_ERROR,
            epochs=generate_epochs(nt, n_epochs, data_seed), index=i,
            data_seed=data_seed, param_seed=0, name=name))
    return tasks


def save_user_data(x: Any, y: Any, directory: str | os.PathLike[str]) -> Path:
    """Save checked data (``x`` (n, d), ``y`` (n,), float64) to
    ``directory/user_data_<hash>.npz`` and return the file's resolved path.

    The name is the SHA-256 of the contents: saving the same data again reuses
    the file, different data never overwrites it. Written to a temporary file
    first, then renamed (readers never see a partial file).
    """
    data = user_data_from_arrays(x, y)
    digest = hashlib.sha256()
    for arr in (data.features, data.labels):
        digest.update(repr(arr.shape).encode())
        digest.update(arr.tobytes())
    folder = Path(directory).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"user_data_{digest.hexdigest()[:24]}.npz"
    if not target.is_file():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".user_data_", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, x=data.features, y=data.labels)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target


def user_task_spec(
    x: Any,
    y: Any,
    directory: str | os.PathLike[str],
    *,
    task: str = "regression",
    num_tasks: int = 1,
    features_size: int | None = None,
    num_train_examples: int | None = None,
    num_valid_examples: int | None = None,
    num_train_epochs: int = 1,
    seed: int = 0,
    standardize_features: bool = True,
) -> TaskSpec:
    """A task spec of the data ``x``, ``y``, saved with :func:`save_user_data`
    in ``directory``: its tasks are those of :func:`tasks_from_arrays` with the
    same arguments (``seed`` becomes ``data_seeds = [seed]``).

    Use it in a Config (``config_from_dict({... "search_tasks":
    [spec.to_dict()]})``); the file must stay while the config is used.
    """
    task_type = _task_type(task)
    data = user_data_from_arrays(x, y)
    f, nt, nv = _sizes(data, features_size, num_train_examples, num_valid_examples)
    path = save_user_data(data.features, data.labels, directory)
    return TaskSpec(
        task_type=task_type, features_size=f, num_train_examples=nt,
        num_valid_examples=nv,
        num_tasks=parse_positive_int(num_tasks, "num_tasks"),
        num_train_epochs=parse_positive_int(num_train_epochs, "num_train_epochs"),
        data_seeds=(parse_nonneg_int(seed, "seed", UINT32),),
        path=str(path),
        standardize_features=_check_bool(standardize_features, "standardize_features"),
    )
