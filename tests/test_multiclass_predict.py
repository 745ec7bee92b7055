"""Multi-class predictions (docs/semantics.md §4.13, docs/export.md §6):
``automl_zero.predict`` on MULTICLASS_ACCURACY tasks and with
``classification="multiclass"`` returns the class probabilities the executor
scores, checked against plain-NumPy softmax regression, the reference
interpreter (``naive.py``) on random programs and the executor's fitness."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import algorithm, const, op, random_differential_instruction
from naive import naive_run

import automl_zero as az
from automl_zero.executor.executor import MemorySpec, TaskBatch, execute
from automl_zero.export.runtime import argmax_last
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.generator import linear_algorithm
from automl_zero.language.text_format import parse_algorithm
from automl_zero.tasks import Task

F, K = 4, 3
MEMORY = MemorySpec(6, 6, 3)
SOFTMAX_TEXT = """\
def Setup():
  s2 = 0.05
def Predict():
  v2 = dot(m0, v0)
def Learn():
  v3 = v1 - v2
  v3 = s2 * v3
  m1 = outer(v3, v0)
  m0 = m0 + m1
"""
SOFTMAX = parse_algorithm(SOFTMAX_TEXT)
LEARNING_RATE = SOFTMAX.setup[0].data[0]  # the stored constant, exactly


def _blobs(seed: int, n: int, n_valid: int, k: int = K, f: int = F):
    """Linearly separable classes: the label is the argmax of k linear scores."""
    r = np.random.default_rng(seed)
    w = r.normal(size=(k, f))
    x, xv = r.normal(size=(n, f)), r.normal(size=(n_valid, f))
    return (x, np.argmax(x @ w.T, axis=1).astype(float),
            xv, np.argmax(xv @ w.T, axis=1).astype(float))


def _task(seed: int = 0, epochs: int = 1, n: int = 80, n_valid: int = 25,
          k: int = K) -> Task:
    x, y, xv, yv = _blobs(seed, n, n_valid, k)
    return Task.from_arrays(x, y, xv, yv, "MULTICLASS_ACCURACY", num_train_epochs=epochs,
                            seed=seed, num_classes=k)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_regression(x, y, orders, x_new, k: int, lr: float = LEARNING_RATE):
    """Plain NumPy softmax regression by SGD on the cross-entropy, the update
    the softmax program makes: W += lr * outer(one-hot(y) - p, x), with the
    logits W @ x cut to their first k entries."""
    f = x.shape[1]
    w = np.zeros((f, f))
    for order in orders:
        for i in order:
            g = np.zeros(f)
            g[:k] = -_softmax(w[:k] @ x[i])
            g[int(y[i])] += 1.0
            w += np.outer(lr * g, x[i])
    return _softmax(x_new @ w[:k].T)


# --------------------------------------------------------------------------
# Against independent oracles.
# --------------------------------------------------------------------------


@pytest.mark.parametrize("epochs", [1, 3])
def test_softmax_regression_predicts_as_numpy(epochs: int) -> None:
    """Validation passes between epochs leave the weights alone (Predict
    writes only v2), so any number of epochs matches the NumPy oracle."""
    task = _task(seed=epochs, epochs=epochs)
    got = az.predict(SOFTMAX, task)
    assert got.shape == (task.num_valid_examples, K)
    want = softmax_regression(task.train_features, task.train_labels, task.epochs,
                              task.valid_features, K)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-12)
    assert np.mean(argmax_last(got) == task.valid_labels) > 0.7  # it learns


def test_fitness_is_the_accuracy_of_the_predictions_ties_to_the_last_class() -> None:
    task = _task(seed=5, n_valid=40)
    constant = algorithm(setup=[const(1, 2.0)])  # v2 stays 0: every class 1/K
    result = execute([SOFTMAX, constant], TaskBatch.from_tasks([task]), MEMORY,
                     seeds=[0, 0], record_predictions=True)
    probs = result.predictions[:, 0]
    assert probs.shape == (2, task.num_valid_examples, K)
    for p in range(2):
        accuracy = np.mean(argmax_last(probs[p]) == task.valid_labels)
        assert result.fitness[p, 0] == pytest.approx(accuracy, abs=1e-12)
    np.testing.assert_array_equal(probs[1], 1.0 / K)
    # Ties go to the last class (as the executor's argmax).
    assert result.fitness[1, 0] == pytest.approx(np.mean(task.valid_labels == K - 1))
    np.testing.assert_array_equal(az.predict(constant, task, memory=MEMORY), probs[1])


def _random_program_around_softmax(rng: np.random.Generator) -> Algorithm:
    """A random deterministic program: the softmax program on random
    addresses with random instructions spliced in (70%), else random code."""
    parts: list[list] = [[random_differential_instruction(rng, MEMORY.sizes)
                          for _ in range(int(rng.integers(0, n)))] for n in (3, 3, 4)]
    if rng.random() < 0.7:
        w, t = int(rng.integers(0, 3)), int(rng.integers(0, 3))
        g, lr = int(rng.integers(3, 6)), int(rng.integers(2, 6))
        core = ([const(lr, float(rng.choice([0.02, 0.1, 0.5])))],
                [op("MATRIX_VECTOR_PRODUCT_OP", 2, w, 0)],
                [op("VECTOR_DIFF_OP", g, 1, 2), op("SCALAR_VECTOR_PRODUCT_OP", g, lr, g),
                 op("VECTOR_OUTER_PRODUCT_OP", t, g, 0), op("MATRIX_SUM_OP", w, w, t)])
        for part, instructions in zip(parts, core, strict=True):
            for ins in instructions:
                part.insert(int(rng.integers(len(part) + 1)), ins)
    return algorithm(*parts)


def test_random_programs_predict_as_the_reference_interpreter() -> None:
    """Random deterministic programs on a 3-class and a 4-class task (2
    epochs): the class probabilities of the last validation pass equal the
    naive interpreter's, NaN exactly where it made none."""
    tasks = [_task(seed=7, epochs=2, n=30, n_valid=12),
             _task(seed=8, epochs=2, n=30, n_valid=12, k=4)]
    rng = np.random.default_rng(3)
    compared = varied = learned = 0
    for _ in range(40):
        alg = _random_program_around_softmax(rng)
        got = az.predict(alg, tasks, memory=MEMORY)
        assert got.shape == (2, 12, 4)
        for t, task in enumerate(tasks):
            ref = naive_run(alg, task, *MEMORY.sizes)
            k = task.num_classes
            want = np.full((task.num_valid_examples, 4), np.nan)
            if not ref.train_failed:
                want[:len(ref.predictions), :k] = ref.predictions
            np.testing.assert_allclose(got[t], want, rtol=1e-9, atol=1e-300,
                                       equal_nan=True, err_msg=str(alg))
            compared += 1
            probs = want[:, :k]
            varied += bool(np.isfinite(probs).all() and np.ptp(probs, axis=0).max() > 1e-3)
            learned += bool(np.isfinite(probs).all()
                            and np.mean(argmax_last(probs) == task.valid_labels) > 0.6)
    # The comparison means something: many programs predict from the data.
    assert varied >= 0.4 * compared and learned >= 0.1 * compared, (varied, learned)


# --------------------------------------------------------------------------
# The forms of the call.
# --------------------------------------------------------------------------


def test_arrays_predict_new_examples() -> None:
    x, y, _, _ = _blobs(11, 120, 1)
    x_new = 50.0 * np.random.default_rng(1).normal(size=(30, F))  # no labels: no stop
    got = az.predict(SOFTMAX, (x, y), x_new, classification="multiclass", epochs=2)
    assert got.shape == (30, K)  # K: the largest label + 1
    task = Task.from_arrays(x, y, x_new, np.zeros(30), "MULTICLASS_ACCURACY",
                            num_train_epochs=2, num_classes=K)
    np.testing.assert_array_equal(got, az.predict(SOFTMAX, task))
    np.testing.assert_allclose(got, softmax_regression(x, y, task.epochs, x_new, K),
                               rtol=1e-9, atol=1e-12)
    # X replaces a task's validation examples the same way.
    labelled = Task.from_arrays(x, y, x[:5], y[:5], "MULTICLASS_ACCURACY",
                                num_train_epochs=2, num_classes=K)
    np.testing.assert_array_equal(got, az.predict(SOFTMAX, labelled, x_new))
    # More classes than the labels show: a column for each, learned as absent.
    wide = az.predict(SOFTMAX, (x, y), x_new, classification="multiclass",
                      num_classes=4)
    assert wide.shape == (30, 4)
    np.testing.assert_allclose(
        wide, softmax_regression(x, y, task.epochs[:1], x_new, 4), rtol=1e-9, atol=1e-12)


def test_a_sequence_of_mixed_tasks() -> None:
    """A 3-class, a 2-class, a binary and a regression task in one call:
    (tasks, examples, most classes), each task's predictions as alone."""
    r = np.random.default_rng(4)
    x, xv = r.normal(size=(40, F)), r.normal(size=(10, F))
    w = r.normal(size=F)
    tasks = [_task(seed=1, n=40, n_valid=10),
             Task.from_arrays(x, (x @ w > 0).astype(float), xv, (xv @ w > 0).astype(float),
                              "MULTICLASS_ACCURACY", num_classes=2),
             Task.from_arrays(x, (x @ w > 0).astype(float), xv, (xv @ w > 0).astype(float),
                              "ACCURACY"),
             Task.from_arrays(x, x @ w, xv, xv @ w)]
    programs = [SOFTMAX, linear_algorithm(0.05)]
    for alg in programs:
        got = az.predict(alg, tasks, memory=MEMORY)
        assert got.shape == (4, 10, 3)
        for t, task in enumerate(tasks):
            alone = az.predict(alg, task, memory=MEMORY)
            k = task.num_classes
            if k:
                assert alone.shape == (10, k)
                np.testing.assert_array_equal(got[t, :, :k], alone)
                assert np.isnan(got[t, :, k:]).all()
            else:
                assert alone.shape == (10,)
                np.testing.assert_array_equal(got[t, :, 0], alone)
                assert np.isnan(got[t, :, 1:]).all()


def test_a_task_stopped_in_training_predicts_nan_rows() -> None:
    # v1 is 0 in Predict: v2 = v0 / 0 is +-inf or NaN, and so the probabilities.
    diverging = parse_algorithm("def Predict():\n  v2 = v0 / v1\n")
    got = az.predict(diverging, _task(seed=3))
    assert got.shape == (25, K) and np.isnan(got).all()


def test_binary_and_regression_arrays_keep_their_shapes() -> None:
    x, y, xv, _ = _blobs(2, 60, 9, k=2)
    memory = MemorySpec(4, 3, 0)
    binary = az.predict(linear_algorithm(0.5), (x, y), xv, classification=True,
                        memory=memory)
    assert binary.shape == (9,) and ((binary > 0) & (binary < 1)).all()
    np.testing.assert_array_equal(
        binary, az.predict(linear_algorithm(0.5), (x, y), xv, classification="binary",
                           memory=memory))
    regression = az.predict(linear_algorithm(), (x, y), xv, memory=memory)
    assert regression.shape == (9,)
    np.testing.assert_array_equal(
        regression, az.predict(linear_algorithm(), (x, y), xv,
                               classification="regression", memory=memory))


@pytest.mark.parametrize("kwargs, words", [
    (dict(classification="multi"), "'multiclass'"),
    (dict(classification=True, num_classes=3), "only for classification='multiclass'"),
    (dict(classification="multiclass", num_classes=1), "integer >= 2"),
    (dict(classification="multiclass", num_classes=5), "num_classes <= features_size"),
    (dict(classification="multiclass", y=np.arange(20) % 3 + 0.5), "class ids"),
    (dict(classification="multiclass", y=np.arange(20) % 3 - 1.0), "class ids"),
    (dict(classification="multiclass", memory=MemorySpec(4, 2, 0),
          program=algorithm(setup=[const(1, 2.0)])), "num_vector_addresses >= 3"),
])
def test_bad_arrays_inputs_name_the_problem(kwargs: dict, words: str) -> None:
    x = np.random.default_rng(0).normal(size=(20, F))
    y = kwargs.pop("y", (np.arange(20) % 3).astype(float))
    program = kwargs.pop("program", SOFTMAX)
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        az.predict(program, (x, y), x, **kwargs)


def test_num_classes_belongs_to_arrays_only() -> None:
    with pytest.raises(ValueError, match="a task has its own num_classes"):
        az.predict(SOFTMAX, _task(), num_classes=3)
