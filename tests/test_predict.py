"""Predictions (docs/semantics.md §4.12): ``automl_zero.predict`` returns the
predictions the executor scores, checked against the reference interpreter
(``naive.py``) on random programs and against the executor's own fitness."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import algorithm, const, op, random_differential_program
from naive import flip_and_squash, naive_run

import automl_zero as az
from automl_zero.engine.evaluator import Evaluator
from automl_zero.executor.executor import MemorySpec
from automl_zero.language.generator import linear_algorithm, neural_net_algorithm
from automl_zero.tasks import EvalType, Task, TaskSpec, make_tasks

MEMORY = MemorySpec(6, 6, 3)


def _linear_tasks(n: int = 3, epochs: int = 1) -> list[Task]:
    return make_tasks([TaskSpec(task_type="scalar_linear_regression_task",
                                features_size=4, num_train_examples=200,
                                num_valid_examples=30, num_train_epochs=epochs,
                                num_tasks=n)])


def _accuracy_task(epochs: int = 2, seed: int = 3) -> Task:
    rng = np.random.default_rng(seed)
    x, vx, w = rng.normal(size=(40, 4)), rng.normal(size=(12, 4)), rng.normal(size=4)
    return Task.from_arrays(x, (x @ w > 0).astype(float), vx, (vx @ w > 0).astype(float),
                            eval_type="ACCURACY", num_train_epochs=epochs, seed=seed)


def _fitness_from(predictions: np.ndarray, task: Task) -> float:
    """The executor's fitness of one validation pass, from its predictions."""
    y = task.valid_labels
    if task.eval_type == EvalType.ACCURACY:
        return float(np.mean((predictions > 0.5) == (y > 0.5)))
    return flip_and_squash(math.sqrt(float(np.mean((y - predictions) ** 2))))


def test_random_programs_predict_as_the_reference_interpreter():
    """~100 random deterministic programs on a regression and an accuracy task
    (2 epochs each): the last validation pass's predictions equal the naive
    interpreter's, NaN exactly where it made none."""
    tasks = [_linear_tasks(1, epochs=2)[0], _accuracy_task()]
    rng = np.random.default_rng(11)
    compared = finite = 0
    for _ in range(100):
        alg = random_differential_program(rng, MEMORY.sizes)
        got = az.predict(alg, tasks, memory=MEMORY)
        for t, task in enumerate(tasks):
            ref = naive_run(alg, task, *MEMORY.sizes)
            want = np.full(task.num_valid_examples, np.nan)
            if not ref.train_failed:
                want[:len(ref.predictions)] = ref.predictions
            np.testing.assert_allclose(got[t, :task.num_valid_examples], want,
                                       rtol=1e-9, atol=1e-300, equal_nan=True,
                                       err_msg=str(alg))
            compared += 1
            finite += bool(np.isfinite(want).all())
    assert finite >= 0.3 * compared, (finite, compared)


@pytest.mark.parametrize("epochs", [1, 3])
def test_linear_regression_predictions_give_the_executors_fitness(epochs):
    tasks = _linear_tasks(3, epochs)
    alg = linear_algorithm()
    memory = MemorySpec(4, 3, 0)
    fitness = Evaluator(tasks, memory).evaluate_many([alg]).per_task[0]
    preds = az.predict(alg, tasks, memory=memory)
    assert preds.shape == (3, 30)
    for t, task in enumerate(tasks):
        got = _fitness_from(preds[t], task)
        if epochs == 1:  # the fitness is this pass's; with epochs, the best pass's
            assert got == pytest.approx(fitness[t], rel=1e-12)
        else:
            assert got <= fitness[t] + 1e-12
    # trained on the data: following the labels
    labels = np.stack([t.valid_labels for t in tasks])
    assert np.corrcoef(preds.ravel(), labels.ravel())[0, 1] > 0.95


def test_classification_predictions_are_probabilities_with_the_executors_accuracy():
    task = _accuracy_task(epochs=1)
    alg = neural_net_algorithm(0.1)
    memory = MemorySpec(5, 9, 2).covering(alg)
    fitness = Evaluator([task], memory, seed=4).evaluate_many([alg])
    # The evaluator draws the random ops' seed; predict takes it directly, so
    # compare with a run of the same seed through predict's own fitness.
    preds = az.predict(alg, task, memory=memory, seed=7)
    assert preds.shape == (12,)
    assert ((preds > 0) & (preds < 1)).all()
    assert 0.0 <= _fitness_from(preds, task) <= 1.0
    assert fitness.fitness.shape == (1,)
    lin = linear_algorithm(0.5)
    p = az.predict(lin, task, memory=MemorySpec(4, 3, 0))
    f = Evaluator([task], MemorySpec(4, 3, 0)).evaluate_many([lin]).per_task[0, 0]
    assert _fitness_from(p, task) == pytest.approx(f)


def counter(threshold: float):
    """Predict counts its calls c in s5 and predicts s1 = 1 / (threshold - c)."""
    return algorithm(
        setup=[const(3, 1.0), const(4, threshold)],
        predict=[op("SCALAR_SUM_OP", 5, 5, 3), op("SCALAR_DIFF_OP", 6, 4, 5),
                 op("SCALAR_DIVISION_OP", 1, 3, 6)])


def _zeros_task(n_train: int, n_valid: int) -> Task:
    return Task.from_arrays(np.zeros((n_train, 4)), np.zeros(n_train),
                            np.zeros((n_valid, 4)), np.zeros(n_valid))


def test_a_task_stopped_in_training_predicts_nothing():
    # 1 / (3 - c) is inf at the 3rd training Predict: the task stops.
    preds = az.predict(counter(3.0), _zeros_task(5, 4))
    assert np.isnan(preds).all()


def test_a_stopped_validation_predicts_up_to_its_failing_example():
    # 5 training Predicts, then c = 6, 7, 8...: 1 / (7.5 - c) = 0.67, 2, -2,
    # -0.67... with max_abs_error 1.5 the 2nd validation example stops it.
    preds = az.predict(counter(7.5), _zeros_task(5, 5),
                       max_abs_error=1.5)
    np.testing.assert_allclose(preds[:2], [1 / 1.5, 1 / 0.5])
    assert np.isnan(preds[2:]).all()


def test_arrays_predict_new_examples_without_labels():
    """(X_train, y_train) and X: the same as a task whose validation examples
    are X, except that unlabelled examples never stop the pass."""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(300, 4)), rng.normal(size=4)
    x_new = 1000.0 * rng.normal(size=(20, 4))  # predictions far beyond 100
    alg = linear_algorithm()
    memory = MemorySpec(4, 3, 0)
    preds = az.predict(alg, (x, x @ w), x_new, memory=memory)
    assert np.isfinite(preds).all()
    assert np.corrcoef(preds, x_new @ w)[0, 1] > 0.99
    # with labels (a task), the same predictions up to where validation stops
    task = Task.from_arrays(x, x @ w, x_new[:3] / 1000.0, (x_new[:3] / 1000.0) @ w)
    np.testing.assert_allclose(az.predict(alg, task, memory=memory),
                               az.predict(alg, (x, x @ w), x_new[:3] / 1000.0,
                                          memory=memory))


def test_classification_arrays_give_probabilities():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(200, 4)), rng.normal(size=4)
    p = az.predict(linear_algorithm(0.5), (x, (x @ w > 0).astype(float)), x,
                   classification=True, memory=MemorySpec(4, 3, 0))
    assert ((p >= 0) & (p <= 1)).all()
    assert np.mean((p > 0.5) == (x @ w > 0)) > 0.9


@pytest.mark.parametrize("bad, words", [
    (dict(X=np.zeros((3, 5))), "shape (n, 4)"),
    (dict(X=np.array([[np.nan, 0, 0, 0]])), "NaN"),
])
def test_bad_inputs_name_the_problem(bad, words):
    task = _zeros_task(3, 2)
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        az.predict(linear_algorithm(), task, **bad)


def test_arrays_need_x():
    with pytest.raises(ValueError, match="give X"):
        az.predict(linear_algorithm(), (np.zeros((3, 4)), np.zeros(3)))
