"""Predictions: what an algorithm predicts, exactly as the executor computes it
(docs/semantics.md §4.12, §4.13).

The executor scores an algorithm from its predictions on a task's validation
examples after training; :func:`predict` returns those predictions instead of
the score. One kernel run per call: memory zeroed, Setup, training over the
task's epochs (with the validation passes between epochs, as always), then the
last validation pass, whose predictions are returned: ``s1`` for regression
(RMS_ERROR) tasks, ``sigmoid(s1)`` — the probability of class 1 — for
binary classification (ACCURACY) tasks, and the class probabilities
``softmax(v2[:K])`` for multi-class (MULTICLASS_ACCURACY) tasks. The label is
hidden during every Predict, as in the executor (``s0 = 0``; for multi-class
tasks also ``v1 = 0``).

NaN marks what the executor does not predict: every example of a task stopped
in training (a prediction further than ``max_abs_error`` from its label, or
NaN), and the examples after the one where a validation pass stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from automl_zero.executor.executor import (
    DEFAULT_MAX_ABS_ERROR,
    MemorySpec,
    TaskBatch,
    execute_packed,
    pack_algorithms,
)
from automl_zero.language.algorithm import Algorithm
from automl_zero.tasks.task import EvalType, Task

__all__ = ["predict"]

_EVAL_TYPES = {False: EvalType.RMS_ERROR, "regression": EvalType.RMS_ERROR,
               True: EvalType.ACCURACY, "binary": EvalType.ACCURACY,
               "multiclass": EvalType.MULTICLASS_ACCURACY}


def _eval_type(classification: Any) -> EvalType:
    """The eval type of an arrays call: a kind's name, else true or false."""
    if not isinstance(classification, str):
        return _EVAL_TYPES[bool(classification)]
    if classification in _EVAL_TYPES:
        return _EVAL_TYPES[classification]
    raise ValueError(f"predict: classification must be False, True, 'regression', "
                     f"'binary' or 'multiclass', got {classification!r}")


def predict(algorithm: Algorithm, task: Task | Sequence[Task] | tuple, X: Any = None, *,
            classification: bool | str = False, num_classes: int | None = None,
            epochs: int = 1, memory: MemorySpec | None = None, seed: int = 0,
            max_abs_error: float = DEFAULT_MAX_ABS_ERROR) -> np.ndarray:
    """Predictions of ``algorithm`` after training, as the executor makes them.

    ``task``: a :class:`Task` (returns one prediction per validation example:
    shape ``(n,)``, or ``(n, K)`` class probabilities for a multi-class task),
    a sequence of tasks (returns ``(num_tasks, max validation examples)``,
    NaN-padded; with a multi-class task among them ``(num_tasks, max
    validation examples, K)``, K the most classes of a task: a task's class
    probabilities in ``[t, :, :its K]``, the prediction of a regression or
    binary task in ``[t, :, 0]``, NaN elsewhere), or arrays ``(X_train,
    y_train)`` together with ``X``, the examples to predict (``epochs`` passes
    over the training examples; the examples of ``X`` have no labels, so
    their predictions never stop). With a task, ``X`` replaces its validation
    examples the same way.

    ``classification`` (arrays only; a task has its own eval type): False or
    "regression" (``y_train`` any numbers; returns ``s1``), True or "binary"
    (labels in {0, 1}; returns ``sigmoid(s1)``, the probability of class 1),
    "multiclass" (labels are class ids 0..K-1; returns ``(len(X), K)`` class
    probabilities). ``num_classes``: K with "multiclass" (default: the
    largest label + 1, at least 2); K <= the number of features, as the
    one-hot label fills v1.

    ``memory``: addresses (default: what the algorithm uses, and at least 3
    vectors with multi-class tasks: v1 holds the label, v2 the predictions);
    ``seed``: the random-init ops' seed (only used if the algorithm has random
    ops).
    """
    single = True
    if isinstance(task, tuple):
        if len(task) != 2:
            raise ValueError("predict: arrays are given as (X_train, y_train)")
        if X is None:
            raise ValueError("predict: give X, the examples to predict, with "
                             "(X_train, y_train)")
        x_train, y_train = task
        et = _eval_type(classification)
        k = _num_classes(num_classes, et, y_train)
        tasks = [_with_valid(Task.from_arrays(
            x_train, y_train, np.asarray(X, dtype=np.float64)[:1],
            np.zeros(1), et, num_train_epochs=epochs, seed=seed, num_classes=k), X)]
        labelled = False
    else:
        if isinstance(task, Task):
            tasks = [task]
        else:
            tasks = list(task)
            single = False
            if not tasks or not all(isinstance(t, Task) for t in tasks):
                raise TypeError("predict: task must be a Task, a sequence of Tasks "
                                "or a tuple (X_train, y_train)")
        if num_classes is not None:
            raise ValueError("predict: num_classes is for arrays (X_train, y_train); "
                             "a task has its own num_classes")
        labelled = X is None
        if X is not None:
            tasks = [_with_valid(t, X) for t in tasks]
    multiclass = any(t.num_classes > 0 for t in tasks)
    if memory is None:
        memory = MemorySpec(2, 3 if multiclass else 1, 0).covering(algorithm)
    algorithm.check_memory(*memory.sizes)
    batch = TaskBatch.from_tasks(tasks)
    result = execute_packed(pack_algorithms([algorithm]), batch, memory, [seed],
                            max_abs_error, record_predictions=True,
                            valid_max_abs_error=max_abs_error if labelled else np.inf)
    out = result.predictions[0]
    if not single:
        return out
    out = out[0, :tasks[0].num_valid_examples]
    return out[:, :tasks[0].num_classes] if multiclass else out


def _num_classes(num_classes: Any, et: EvalType, y_train: Any) -> int:
    """K of a multi-class arrays call (0 otherwise)."""
    if et != EvalType.MULTICLASS_ACCURACY:
        if num_classes is not None:
            raise ValueError("predict: num_classes is only for "
                             "classification='multiclass'")
        return 0
    if num_classes is not None:
        if isinstance(num_classes, (bool, np.bool_)) or not isinstance(
                num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"predict: num_classes must be an integer >= 2, got "
                             f"{num_classes!r}")
        return int(num_classes)
    y = np.asarray(y_train)
    numeric = np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
    if y.size == 0 or not numeric or not np.isfinite(y).all():
        # Task.from_arrays names the problem.
        return 2
    return max(int(np.max(y)) + 1, 2)


def _with_valid(task: Task, X: Any) -> Task:
    """``task`` with ``X`` as its validation examples (labels unknown: zeros)."""
    x = np.ascontiguousarray(X, dtype=np.float64)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != task.features_size:
        raise ValueError(f"predict: X must have shape (n, {task.features_size}), "
                         f"got {np.shape(X)}")
    if not np.isfinite(x).all():
        raise ValueError("predict: X has NaN or infinite values")
    return Task(task.train_features, task.train_labels, x, np.zeros(len(x)),
                task.eval_type, task.epochs, task.index, task.data_seed,
                task.param_seed, task.name, task.num_classes)
