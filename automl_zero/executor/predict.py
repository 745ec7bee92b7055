"""Predictions: what an algorithm predicts, exactly as the executor computes it
(docs/semantics.md §4.12).

The executor scores an algorithm from its predictions on a task's validation
examples after training; :func:`predict` returns those predictions instead of
the score. One kernel run per call: memory zeroed, Setup, training over the
task's epochs (with the validation passes between epochs, as always), then the
last validation pass, whose predictions are returned: ``s1`` for regression
(RMS_ERROR) tasks, ``sigmoid(s1)`` — the probability of class 1 — for
classification (ACCURACY) tasks. The label is hidden (``s0 = 0``) during every
Predict, as in the executor.

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


def predict(algorithm: Algorithm, task: Task | Sequence[Task] | tuple, X: Any = None, *,
            classification: bool = False, epochs: int = 1,
            memory: MemorySpec | None = None, seed: int = 0,
            max_abs_error: float = DEFAULT_MAX_ABS_ERROR) -> np.ndarray:
    """Predictions of ``algorithm`` after training, as the executor makes them.

    ``task``: a :class:`Task` (returns one prediction per validation example),
    a sequence of tasks (returns an array ``(num_tasks, max validation
    examples)``, NaN-padded), or arrays ``(X_train, y_train)`` together with
    ``X``, the examples to predict (``classification``: labels in {0, 1} and
    probabilities returned; ``epochs`` passes over the training examples; the
    examples of ``X`` have no labels, so their predictions never stop). With a
    task, ``X`` replaces its validation examples the same way.

    ``memory``: addresses (default: what the algorithm uses); ``seed``: the
    random-init ops' seed (only used if the algorithm has random ops).
    """
    single = True
    if isinstance(task, tuple):
        if len(task) != 2:
            raise ValueError("predict: arrays are given as (X_train, y_train)")
        if X is None:
            raise ValueError("predict: give X, the examples to predict, with "
                             "(X_train, y_train)")
        x_train, y_train = task
        et = EvalType.ACCURACY if classification else EvalType.RMS_ERROR
        tasks = [_with_valid(Task.from_arrays(
            x_train, y_train, np.asarray(X, dtype=np.float64)[:1],
            np.zeros(1), et, num_train_epochs=epochs, seed=seed), X)]
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
        labelled = X is None
        if X is not None:
            tasks = [_with_valid(t, X) for t in tasks]
    if memory is None:
        memory = MemorySpec(2, 1, 0).covering(algorithm)
    algorithm.check_memory(*memory.sizes)
    batch = TaskBatch.from_tasks(tasks)
    result = execute_packed(pack_algorithms([algorithm]), batch, memory, [seed],
                            max_abs_error, record_predictions=True,
                            valid_max_abs_error=max_abs_error if labelled else np.inf)
    out = result.predictions[0]
    return out[0, :tasks[0].num_valid_examples] if single else out


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
                task.param_seed, task.name)
