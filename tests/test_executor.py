"""Executor semantics (docs/semantics.md §4, §5.3): hand-built algorithms in the spirit of the
original's executor_test.cc, and a differential test of the numba kernel
against the reference interpreter ``naive.py`` on random programs.

Kernel variants compiled here: F=4 and F=16 (one per feature size, whatever the
number of tasks). Tasks with different schedules run in separate groups.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from helpers import (
    DETERMINISTIC_OPS,
    algorithm,
    const,
    make,
    op,
    random_differential_program,
)
from naive import NaiveMemory, flip_and_squash, naive_evaluate, naive_run, sigmoid

from automl_zero.engine.evaluator import Evaluator
from automl_zero.executor.executor import (
    ExecutionResult,
    MemorySpec,
    TaskBatch,
    execute,
)
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.generator import linear_algorithm
from automl_zero.language.instruction import index_to_float
from automl_zero.tasks import EvalType, Task, TaskSpec, make_tasks

MEMORY = MemorySpec(10, 10, 3)
SIZES = MEMORY.sizes
LARGE_MAX_ABS_ERROR = 1e9  # the original's kLargeMaxAbsError
N_TRAIN, N_VALID = 1000, 100  # the original's kNumTrainExamples / kNumValidExamples


# --------------------------------------------------------------------------
# Builders (const, op, algorithm and the random programs: helpers.py).
# --------------------------------------------------------------------------


def unit_task(kind: str, n_train: int = N_TRAIN, n_valid: int = N_VALID,
              eval_type: str = "RMS_ERROR", epochs: int = 1, **kw) -> Task:
    spec = TaskSpec(task_type=f"unit_test_{kind}_task", features_size=4,
                    num_train_examples=n_train, num_valid_examples=n_valid,
                    num_train_epochs=epochs, eval_type=eval_type, **kw)
    (task,) = make_tasks([spec])
    return task


def fixed_task(train_y: Sequence[float], valid_y: Sequence[float],
               train_x=None, valid_x=None, eval_type: str = "RMS_ERROR",
               epochs: int = 1) -> Task:
    """A task with given labels; features default to zeros (F = 4)."""
    if train_x is None:
        train_x = np.zeros((len(train_y), 4))
    if valid_x is None:
        valid_x = np.zeros((len(valid_y), 4))
    return Task.from_arrays(train_x, np.asarray(train_y, dtype=float), valid_x,
                            np.asarray(valid_y, dtype=float), eval_type=eval_type,
                            num_train_epochs=epochs)


def run(algorithms: Sequence[Algorithm], tasks: Sequence[Task] | TaskBatch,
        seeds=None, memory: MemorySpec = MEMORY, **kw) -> ExecutionResult:
    batch = tasks if isinstance(tasks, TaskBatch) else TaskBatch.from_tasks(tasks)
    if seeds is None:
        seeds = np.zeros(len(algorithms), dtype=np.int64)
    return execute(list(algorithms), batch, memory, seeds, return_memory=True, **kw)


def run1(alg: Algorithm, task: Task, seed: int = 0, **kw):
    """(fitness, train steps, memory) of one algorithm on one task."""
    res = run([alg], [task], seeds=[seed], **kw)
    s, v, m = res.final_memory
    return (float(res.fitness[0, 0]), int(res.train_steps[0]),
            NaiveMemory(s[0, 0], v[0, 0], m[0, 0]))


def naive(alg: Algorithm, task: Task, memory: MemorySpec = MEMORY, **kw):
    return naive_run(alg, task, *memory.sizes, **kw)


# The original's LINEAR_ALGORITHM, LinearModel(lr) (docs/semantics.md §2.4): plain SGD.
linear_regressor = linear_algorithm


# The original's NEURAL_NET_ALGORITHM, NeuralNet(lr, 0.1, 0.1) (docs/semantics.md §2.4):
# random (gaussian) initialisation in Setup.
def neural_net(lr: float = 0.01) -> Algorithm:
    return algorithm(
        setup=[make("VECTOR_GAUSSIAN_SET_OP", out=2, data=(0.0, 0.1)),
               make("MATRIX_GAUSSIAN_SET_OP", out=0, data=(0.0, 0.1)),
               const(3, lr)],
        predict=[op("MATRIX_VECTOR_PRODUCT_OP", 3, 0, 0), op("VECTOR_SUM_OP", 3, 3, 1),
                 op("VECTOR_MAX_OP", 4, 3, 5), op("VECTOR_INNER_PRODUCT_OP", 1, 4, 2),
                 op("SCALAR_SUM_OP", 1, 1, 2)],
        learn=[op("SCALAR_DIFF_OP", 4, 0, 1), op("SCALAR_PRODUCT_OP", 4, 3, 4),
               op("SCALAR_SUM_OP", 2, 2, 4), op("SCALAR_VECTOR_PRODUCT_OP", 6, 4, 4),
               op("VECTOR_SUM_OP", 2, 2, 6), op("SCALAR_VECTOR_PRODUCT_OP", 7, 4, 2),
               op("VECTOR_HEAVYSIDE_OP", 8, 3), op("VECTOR_PRODUCT_OP", 7, 8, 7),
               op("VECTOR_SUM_OP", 1, 1, 7), op("VECTOR_OUTER_PRODUCT_OP", 1, 7, 0),
               op("MATRIX_SUM_OP", 0, 0, 1)])


def counter_blowup(threshold: float) -> Algorithm:
    """Predict counts its calls c in s5 and predicts s1 = 1 / (threshold - c):
    inf (an early stop) exactly at the call where c == threshold."""
    return algorithm(
        setup=[const(3, 1.0), const(4, threshold)],
        predict=[op("SCALAR_SUM_OP", 5, 5, 3), op("SCALAR_DIFF_OP", 6, 4, 5),
                 op("SCALAR_DIVISION_OP", 1, 3, 6)])


_LINEAR_TASKS: list[Task] = []


def linear_tasks() -> list[Task]:
    """10 scalar linear regression tasks, F = 4, default seeds, 1000 / 100."""
    if not _LINEAR_TASKS:
        spec = TaskSpec(task_type="scalar_linear_regression_task", features_size=4,
                        num_train_examples=N_TRAIN, num_valid_examples=N_VALID,
                        num_tasks=10)
        _LINEAR_TASKS.extend(make_tasks([spec]))
    return _LINEAR_TASKS


# --------------------------------------------------------------------------
# Counting examples (executor_test.cc: PredictComponentFunctionRuns etc.).
# --------------------------------------------------------------------------


@pytest.mark.parametrize("epochs", [1, 2])
def test_predict_runs_once_per_train_and_valid_example(epochs):
    """Predict `s2 = s2 + s3` with Setup `s3 = 1` counts n_train + n_valid per
    epoch; the original's version counts in the prediction s1 itself."""
    task = unit_task("ones", epochs=epochs)
    counter = algorithm(setup=[const(3, 1.0)], predict=[op("SCALAR_SUM_OP", 2, 2, 3)])
    in_s1 = algorithm(predict=[const(2, 1.0), op("SCALAR_SUM_OP", 1, 2, 1)])
    res = run([counter, in_s1], [task], max_abs_error=LARGE_MAX_ABS_ERROR)
    s = res.final_memory[0]
    assert s[0, 0, 2] == epochs * (N_TRAIN + N_VALID)
    assert s[1, 0, 1] == epochs * (N_TRAIN + N_VALID)
    assert s[0, 0, 3] == 1.0  # Setup ran once
    np.testing.assert_array_equal(res.train_steps, [epochs * N_TRAIN] * 2)


def test_learn_runs_once_per_train_example():
    task = unit_task("ones", epochs=2)
    counter = algorithm(setup=[const(3, 1.0)], learn=[op("SCALAR_SUM_OP", 2, 2, 3)])
    in_s1 = algorithm(learn=[const(2, 1.0), op("SCALAR_SUM_OP", 1, 2, 1)])
    res = run([counter, in_s1], [task], max_abs_error=LARGE_MAX_ABS_ERROR)
    s = res.final_memory[0]
    assert s[0, 0, 2] == 2 * N_TRAIN
    assert s[1, 0, 1] == 2 * N_TRAIN


def test_setup_runs_once():
    task = unit_task("ones", 10, 5, epochs=3)
    alg = algorithm(setup=[const(3, 1.0), op("SCALAR_SUM_OP", 2, 2, 3)])
    _, steps, mem = run1(alg, task)
    assert mem.s[2] == 1.0
    assert steps == 30


def test_iterates_through_features():
    """Predict accumulates mean(v0): sum of 0..999 plus 0..99 = 504450."""
    alg = algorithm(predict=[op("VECTOR_MEAN_OP", 2, 0), op("SCALAR_SUM_OP", 1, 2, 1)])
    _, _, mem = run1(alg, unit_task("increment"), max_abs_error=LARGE_MAX_ABS_ERROR)
    assert mem.s[1] == 504450.0


def test_iterates_through_labels_during_training():
    """Learn accumulates s0 (the label): sum of 0..999 = 499500."""
    alg = algorithm(learn=[op("SCALAR_SUM_OP", 1, 0, 1)])
    _, _, mem = run1(alg, unit_task("increment"), max_abs_error=LARGE_MAX_ABS_ERROR)
    assert mem.s[1] == 499500.0


def test_iterates_through_labels_during_validation():
    task = unit_task("increment", increment=0.1)
    fitness, _, _ = run1(algorithm(), task, max_abs_error=LARGE_MAX_ABS_ERROR)
    assert abs(fitness - flip_and_squash(5.7301812)) < 1e-4
    rmse = math.sqrt(np.mean(np.square(np.arange(N_VALID) * 0.1)))
    assert fitness == pytest.approx(flip_and_squash(rmse), rel=1e-12)


def test_reports_first_epoch_errors():
    """executor_test.cc ReportsErrors: |y - s1| per example, no-op program."""
    task = unit_task("increment", 11, 9, epochs=2)
    res = run([algorithm()], [task], record_errors=20,
              max_abs_error=LARGE_MAX_ABS_ERROR)
    np.testing.assert_array_equal(res.num_errors[0, 0], [11, 9])
    np.testing.assert_array_equal(res.train_errors[0, 0, :11], np.arange(11.0))
    np.testing.assert_array_equal(res.valid_errors[0, 0, :9], np.arange(9.0))


# --------------------------------------------------------------------------
# Labels are hidden from Predict.
# --------------------------------------------------------------------------


def test_validation_does_not_see_labels():
    """s0 is 0 in every Predict. Learn resets s2, so after the run s2 holds only
    what the validation Predicts added to it: 0. If s0 kept the last training
    label or got the validation label, s2 would be > 0 (labels 1..99)."""
    task = unit_task("increment", 50, 20, epochs=2)
    alg = algorithm(
        predict=[op("SCALAR_SUM_OP", 2, 2, 0),  # validation-only accumulator
                 op("SCALAR_SUM_OP", 4, 4, 0)],  # all Predicts
        learn=[const(2, 0.0),
               op("SCALAR_SUM_OP", 3, 3, 0)])  # Learn does see the labels
    fitness, _, mem = run1(alg, task)
    assert mem.s[2] == 0.0
    assert mem.s[4] == 0.0
    assert mem.s[3] == 2 * sum(range(50))
    assert fitness > 0.0
    # The original's version: Predict accumulates s0 into the prediction s1.
    orig = algorithm(predict=[op("SCALAR_SUM_OP", 1, 0, 1)])
    _, _, mem = run1(orig, unit_task("increment"), max_abs_error=LARGE_MAX_ABS_ERROR)
    assert mem.s[1] == 0.0


# --------------------------------------------------------------------------
# Early stopping (docs/semantics.md §4.6).
# --------------------------------------------------------------------------

_SET_ONE = const(2, 1.0)
_INF_TO_S1 = op("SCALAR_DIVISION_OP", 1, 2, 3)  # s1 = 1 / 0
_NAN_TO_S1 = op("SCALAR_DIVISION_OP", 1, 3, 3)  # s1 = 0 / 0
_LARGE_TO_S1 = const(1, 110.0)  # error 109 or 110 > 100


@pytest.mark.parametrize("where", ["setup", "predict", "learn"])
@pytest.mark.parametrize("value", ["large", "inf", "nan"])
def test_stops_early_on_bad_prediction(where, value):
    """A large error, inf or NaN produced in Setup, Predict or Learn that
    reaches s1 stops training in the first epoch: fitness 0."""
    ins = {"large": _LARGE_TO_S1, "inf": _INF_TO_S1, "nan": _NAN_TO_S1}[value]
    parts = {"setup": [_SET_ONE], "predict": [], "learn": []}
    parts[where].append(ins)
    alg = algorithm(**parts)
    task = unit_task("ones", epochs=2)
    fitness, steps, _ = run1(alg, task)
    assert fitness == 0.0
    # Setup / Predict: the first prediction is bad; Learn: the second one (the
    # first Predict leaves s1 = 0, error 1).
    assert steps == (2 if where == "learn" else 1)
    assert naive(alg, task).train_steps == steps


def test_nan_in_learn_reaches_s1_at_the_next_predict():
    """Learn writes NaN to s3; Predict copies s3 to s1: stop at step 2."""
    alg = algorithm(predict=[op("SCALAR_SUM_OP", 1, 3, 4)],
                    learn=[op("SCALAR_DIVISION_OP", 3, 4, 4)])
    fitness, steps, mem = run1(alg, unit_task("zeros"))
    assert (fitness, steps) == (0.0, 2)
    assert math.isnan(mem.s[1])


def test_bad_values_that_never_reach_s1_do_not_stop():
    """NaN / inf in Setup, Predict or Learn memory other than s1 is not checked."""
    alg = algorithm(
        setup=[op("SCALAR_DIVISION_OP", 3, 4, 4),  # s3 = NaN
               op("VECTOR_RECIPROCAL_OP", 3, 4),  # v3 = inf
               op("MATRIX_RECIPROCAL_OP", 1, 2)],  # m1 = inf
        predict=[op("SCALAR_LOG_OP", 5, 4)],  # s5 = -inf
        learn=[op("SCALAR_DIVISION_OP", 6, 4, 4)])  # s6 = NaN
    task = unit_task("ones", 100, 10)
    fitness, steps, mem = run1(alg, task)
    assert fitness == pytest.approx(flip_and_squash(1.0), rel=1e-15)  # s1 = 0, y = 1
    assert steps == 100
    assert math.isnan(mem.s[3]) and np.all(np.isinf(mem.v[3]))
    assert np.all(np.isinf(mem.m[1])) and mem.s[5] == -math.inf


def test_stops_early_if_error_too_large():
    """A training label of 1000 at step 3 (no-op prediction 0): stop, fitness 0,
    the failing step counted."""
    train_y = [0.0] * 10
    train_y[2] = 1000.0
    task = fixed_task(train_y, [0.0] * 10)
    fitness, steps, _ = run1(algorithm(), task)
    assert (fitness, steps) == (0.0, 3)
    ok, _, _ = run1(algorithm(), fixed_task([0.0] * 10, [0.0] * 10))
    assert ok == 1.0  # DoesNotStopIfErrorNotLargeEnough: RMSE 0


def test_stops_if_problem_during_validation():
    valid_y = [0.0] * 10
    valid_y[2] = 1000.0
    fitness, steps, _ = run1(algorithm(), fixed_task([0.0] * 10, valid_y))
    assert (fitness, steps) == (0.0, 10)


@pytest.mark.parametrize(("prediction", "stops"), [(100.0, False), (100.5, True),
                                                    (-100.0, False), (-101.0, True)])
def test_max_abs_error_threshold_is_strict(prediction, stops):
    """Stop iff |y - s1| > max_abs_error (an error of exactly 100 is fine)."""
    fitness, steps, _ = run1(algorithm(predict=[const(1, prediction)]),
                             unit_task("zeros", 10, 5))
    if stops:
        assert (fitness, steps) == (0.0, 1)
    else:
        assert steps == 10
        assert fitness == pytest.approx(flip_and_squash(100.0), rel=1e-15)


def test_custom_max_abs_error():
    alg = algorithm(predict=[const(1, 3.0)])
    task = unit_task("zeros", 10, 5)
    assert run1(alg, task, max_abs_error=2.5)[:2] == (0.0, 1)
    assert run1(alg, task, max_abs_error=3.5)[0] == pytest.approx(flip_and_squash(3.0))


# --------------------------------------------------------------------------
# Epochs: best validation fitness; first-epoch vs later failures (docs/semantics.md §4).
# --------------------------------------------------------------------------


def _rmse(predictions: Sequence[float]) -> float:
    return math.sqrt(sum(p * p for p in predictions) / len(predictions))


def test_first_epoch_failure_gives_zero():
    task = unit_task("zeros", 10, 5, epochs=2)
    fitness, steps, mem = run1(counter_blowup(5.0), task)
    assert (fitness, steps) == (0.0, 5)
    assert mem.s[5] == 5.0
    result = naive(counter_blowup(5.0), task)
    assert (result.fitness, result.train_steps) == (0.0, 5)


def test_later_epoch_failure_keeps_the_best_earlier_epoch():
    """Predict call 18 (the third training example of epoch 2) predicts 1/0.
    Epoch 1 validated on calls 11..15, predictions 1/7 .. 1/3 (labels 0)."""
    task = unit_task("zeros", 10, 5, epochs=2)
    fitness, steps, mem = run1(counter_blowup(18.0), task)
    expected = flip_and_squash(_rmse([1 / (18 - c) for c in range(11, 16)]))
    assert fitness == pytest.approx(expected, rel=1e-14)
    assert steps == 13  # 10 + 3: the failing step is counted
    assert mem.s[5] == 18.0
    result = naive(counter_blowup(18.0), task)
    assert result.fitness == pytest.approx(expected, rel=1e-14)
    # Epoch 1 is the only one validated (epoch 2 stops in training), with the
    # hand-computed fitness; the fitness kept is that epoch's.
    assert result.train_steps == 13 and result.train_failed
    assert result.epoch_fitness == [pytest.approx(expected, rel=1e-14)]


def test_fitness_is_the_best_epoch():
    """With 2 epochs the fitness is the max over the per-epoch validations: the
    linear regressor with a tiny learning rate is better after epoch 2; a
    program whose predictions get worse keeps its epoch-1 fitness."""
    (task,) = make_tasks([TaskSpec(task_type="scalar_linear_regression_task",
                                   features_size=4, num_train_examples=20,
                                   num_valid_examples=10, num_train_epochs=2)])
    improving = linear_regressor(0.001)
    worsening = algorithm(setup=[const(3, 0.05)],
                          predict=[op("SCALAR_SUM_OP", 1, 1, 3)])  # drifts away
    for alg in (improving, worsening):
        fitness, _, _ = run1(alg, task)
        result = naive(alg, task)
        assert len(result.epoch_fitness) == 2
        assert fitness == pytest.approx(max(result.epoch_fitness), rel=1e-12)
    assert naive(improving, task).epoch_fitness[1] > naive(improving,
                                                           task).epoch_fitness[0]
    assert naive(worsening, task).epoch_fitness[0] > naive(worsening,
                                                           task).epoch_fitness[1]


def test_validation_failure_does_not_stop_training():
    """Predict call 13 (validation example 3 of epoch 1) predicts 1/0: epoch 1
    scores 0, but training continues and epoch 2 is scored."""
    task = unit_task("zeros", 10, 5, epochs=2)
    fitness, steps, _ = run1(counter_blowup(13.0), task)
    assert steps == 20
    assert fitness > 0.9
    result = naive(counter_blowup(13.0), task)
    assert result.epoch_fitness[0] == 0.0 and result.failed_validations == [0]
    assert result.train_steps == 20


def test_validation_stops_at_the_failing_example():
    """Same program as above. Per docs/semantics.md §4 the failing validation ends at call
    13, epoch 2 trains on calls 14..23 and validates on calls 24..28."""
    task = unit_task("zeros", 10, 5, epochs=2)
    expected = flip_and_squash(_rmse([1 / (13 - c) for c in range(24, 29)]))
    result = naive(counter_blowup(13.0), task)
    assert result.fitness == pytest.approx(expected, rel=1e-14)
    assert result.memory.s[5] == 28.0
    fitness, _, mem = run1(counter_blowup(13.0), task)
    assert mem.s[5] == 28.0  # the kernel gives 30: two extra validation Predicts
    assert fitness == pytest.approx(expected, rel=1e-14)


def test_partial_epoch_budget():
    """num_train_examples = 15 with 10 examples per epoch: epoch 2 trains on 5
    examples, then validates; 0 examples: Setup only, fitness 0."""
    task = unit_task("increment", 10, 5, epochs=3)
    alg = algorithm(setup=[const(3, 1.0)], predict=[op("SCALAR_SUM_OP", 2, 2, 3)],
                    learn=[op("SCALAR_SUM_OP", 4, 4, 3)])
    fitness, steps, mem = run1(alg, task, num_train_examples=15)
    assert steps == 15
    assert mem.s[2] == 15 + 2 * 5 and mem.s[4] == 15
    assert fitness == pytest.approx(naive(alg, task, num_train_examples=15).fitness,
                                    rel=1e-14)
    fitness, steps, mem = run1(alg, task, num_train_examples=0)
    assert (fitness, steps, mem.s[2], mem.s[3]) == (0.0, 0, 0.0, 1.0)
    _, steps, _ = run1(alg, task, num_train_examples=10**6)  # capped at E * N
    assert steps == 30


# --------------------------------------------------------------------------
# Fitness of RMS_ERROR and ACCURACY tasks (docs/semantics.md §4, §5, §5.4).
# --------------------------------------------------------------------------


def test_rmse_of_one_tenth_gives_0_936549():
    expected = 1.0 - (2.0 / math.pi) * math.atan(0.1)
    assert expected == pytest.approx(0.936549, abs=1e-6)
    # A fixed task on which the no-op prediction 0 has errors of exactly +-0.1.
    task = fixed_task([0.5, -0.5] * 5, [0.1, -0.1, 0.1, -0.1])
    fitness, _, _ = run1(algorithm(), task)
    assert fitness == pytest.approx(expected, rel=1e-14)
    # executor_test.cc ComputesLossCorrectly: prediction 0.9 on the ones task.
    fitness, _, _ = run1(algorithm(predict=[const(1, 0.9)]), unit_task("ones"),
                         max_abs_error=LARGE_MAX_ABS_ERROR)
    assert fitness == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("logit", "expected"), [(3.0, 1.0), (-3.0, 0.0),
                                                 (math.inf, 1.0), (-math.inf, 0.0)])
def test_accuracy_of_constant_logits_on_the_ones_task(logit, expected):
    """+-3 give accuracy 1 / 0; +inf counts as positive, -inf as negative."""
    task = unit_task("ones", eval_type="ACCURACY")
    fitness, steps, mem = run1(algorithm(predict=[const(1, logit)]), task)
    assert fitness == expected
    assert steps == N_TRAIN  # a probability error is at most 1: no early stop
    assert mem.s[1] == logit  # the validation sigmoid is not written back


@pytest.mark.parametrize(("valid_y", "expected"), [([0.0] * 4, 1.0),
                                                   ([1.0] * 4, 0.0),
                                                   ([0.0, 1.0, 0.0, 1.0, 1.0], 0.4)])
def test_nan_logit_in_validation_counts_as_negative(valid_y, expected):
    """Predict s1 = mean(v0) / mean(v0): 1 on the training features (ones), NaN
    on the validation features (zeros). NaN is 'negative' and does not stop."""
    train_x = np.ones((6, 4))
    task = fixed_task([1.0, 0.0] * 3, valid_y, train_x=train_x, eval_type="ACCURACY")
    alg = algorithm(predict=[op("VECTOR_MEAN_OP", 3, 0), op("SCALAR_DIVISION_OP", 1, 3, 3)])
    fitness, steps, mem = run1(alg, task)
    assert math.isnan(mem.s[1])
    assert steps == 6
    assert fitness == pytest.approx(expected, abs=1e-15)
    assert naive(alg, task).fitness == pytest.approx(expected, abs=1e-15)


def test_nan_logit_in_training_stops():
    """In training the error |y - sigmoid(NaN)| is NaN: early stop."""
    task = unit_task("zeros", 10, 5, eval_type="ACCURACY")
    fitness, steps, _ = run1(algorithm(predict=[op("SCALAR_DIVISION_OP", 1, 2, 2)]),
                             task)
    assert (fitness, steps) == (0.0, 1)


def test_sigmoid_is_written_back_in_training_only():
    """ACCURACY: after Predict, s1 = sigmoid(s1) in memory, so Learn (and the
    next Predict) see the probability; validation scores sigmoid(s1) without
    writing it back. Predict: s1 = s1 + s2 (s2 = 1); Learn copies s1 to s3."""
    n_train, n_valid = 5, 3
    alg = algorithm(setup=[const(2, 1.0)], predict=[op("SCALAR_SUM_OP", 1, 1, 2)],
                    learn=[op("SCALAR_SUM_OP", 3, 1, 4), op("SCALAR_SUM_OP", 5, 5, 1)])
    x, learn_sum, last_seen = 0.0, 0.0, 0.0
    for _ in range(n_train):
        x = sigmoid(x + 1.0)
        learn_sum += x
        last_seen = x
    final = x + n_valid  # validation: no sigmoid written back
    _, _, mem = run1(alg, unit_task("ones", n_train, n_valid, eval_type="ACCURACY"))
    assert mem.s[3] == pytest.approx(last_seen, rel=1e-15)
    assert mem.s[5] == pytest.approx(learn_sum, rel=1e-15)
    assert mem.s[1] == pytest.approx(final, rel=1e-15)
    # RMS_ERROR: no sigmoid anywhere.
    _, _, mem = run1(alg, unit_task("ones", n_train, n_valid))
    assert (mem.s[3], mem.s[5], mem.s[1]) == (5.0, 15.0, 8.0)


# --------------------------------------------------------------------------
# v0 and memory persistence (docs/semantics.md §1.2, §4.7).
# --------------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [
    op("VECTOR_DIFF_OP", 0, 0, 0),  # v0 = 0
    make("VECTOR_CONST_SET_OP", out=0, data=(index_to_float(1, 4), 100.0)),  # one entry
    op("SCALAR_BROADCAST_OP", 0, 9),  # v0 = bcast(s9 = 0)
    make("VECTOR_UNIFORM_SET_OP", out=0, data=(50.0, 60.0)),  # random
], ids=["diff", "const_set", "broadcast", "uniform"])
def test_features_are_rewritten_before_learn(overwrite):
    """Predict overwrites v0; Learn still reads the example's features."""
    n_train, n_valid = 10, 5
    alg = algorithm(predict=[overwrite],
                    learn=[op("VECTOR_MEAN_OP", 3, 0), op("SCALAR_SUM_OP", 4, 4, 3)])
    _, _, mem = run1(alg, unit_task("increment", n_train, n_valid), seed=5)
    assert mem.s[4] == sum(range(n_train))  # mean of example k's features is k


def test_features_written_by_learn_do_not_leak_into_predict():
    alg = algorithm(setup=[const(9, 100.0)],
                    predict=[op("VECTOR_MEAN_OP", 5, 0), op("SCALAR_SUM_OP", 6, 6, 5)],
                    learn=[op("SCALAR_BROADCAST_OP", 0, 9)])
    _, _, mem = run1(alg, unit_task("increment", 10, 5))
    assert mem.s[6] == sum(range(10)) + sum(range(5))


def test_memory_persists_across_examples_epochs_and_validation():
    """Learn counts in s5; every Predict adds s5 to s6. Epoch 1 trains with
    s5 = 0..9, validates with 10; epoch 2 trains with 10..19, validates with 20."""
    alg = algorithm(setup=[const(2, 1.0)],
                    predict=[op("SCALAR_SUM_OP", 6, 6, 5)],
                    learn=[op("SCALAR_SUM_OP", 5, 5, 2)])
    task = unit_task("zeros", 10, 5, epochs=2)
    _, _, mem = run1(alg, task)
    assert mem.s[5] == 20.0
    assert mem.s[6] == sum(range(10)) + 5 * 10 + sum(range(10, 20)) + 5 * 20
    np.testing.assert_array_equal(naive(alg, task).memory.s, mem.s)


# --------------------------------------------------------------------------
# Validation size, several tasks, several algorithms.
# --------------------------------------------------------------------------


def test_num_valid_examples_limits_validation_but_not_the_divisor():
    """docs/semantics.md §4: the loss of the first n examples is divided by all of them."""
    rms = fixed_task([0.0] * 5, [1.0] * 4)
    assert run1(algorithm(), rms, num_valid_examples=1)[0] == pytest.approx(
        flip_and_squash(math.sqrt(1 / 4)), rel=1e-15)
    assert run1(algorithm(), rms, num_valid_examples=3)[0] == pytest.approx(
        flip_and_squash(math.sqrt(3 / 4)), rel=1e-15)
    assert run1(algorithm(), rms, num_valid_examples=99)[0] == pytest.approx(
        flip_and_squash(1.0), rel=1e-15)
    acc = fixed_task([0.0] * 5, [1.0] * 4, eval_type="ACCURACY")
    wrong = algorithm(predict=[const(1, -3.0)])
    assert run1(wrong, acc, num_valid_examples=1)[0] == 0.75
    assert run1(wrong, acc)[0] == 0.0
    for n in (1, 3):
        assert run1(algorithm(), rms, num_valid_examples=n)[0] == pytest.approx(
            naive(algorithm(), rms, num_valid_examples=n).fitness, rel=1e-15)


def _mixed_schedule_tasks() -> list[Task]:
    """Three tasks with three schedules (so three one-task groups)."""
    rng = np.random.default_rng(3)
    w = rng.normal(size=4)

    def linear(n_train, n_valid, epochs, seed):
        x, vx = rng.normal(size=(n_train, 4)), rng.normal(size=(n_valid, 4))
        return Task.from_arrays(x, x @ w, vx, vx @ w, num_train_epochs=epochs,
                                seed=seed)

    x, vx = rng.normal(size=(14, 4)), rng.normal(size=(7, 4))
    accuracy = Task.from_arrays(x, (x @ w > 0).astype(float), vx,
                                (vx @ w > 0).astype(float), eval_type="ACCURACY",
                                num_train_epochs=2, seed=9)
    return [linear(12, 6, 1, 1), linear(8, 4, 2, 2), accuracy]


def test_tasks_with_different_schedules_match_running_each_alone():
    """Tasks with different (examples, epochs, valid) schedules are separate
    groups of one batch; each gets the fitness, memory and train steps it gets
    when evaluated alone (a random algorithm too: every group is seeded)."""
    tasks = _mixed_schedule_tasks()
    batch = TaskBatch.from_tasks(tasks)
    assert len(batch.groups) == 3
    algs = [linear_regressor(0.05), neural_net(0.05)]
    together = run(algs, batch, seeds=[0, 17])
    steps = np.zeros(2, dtype=np.int64)
    for t, task in enumerate(tasks):
        alone = run(algs, [task], seeds=[0, 17])
        np.testing.assert_array_equal(together.fitness[:, t], alone.fitness[:, 0])
        for k in range(3):
            np.testing.assert_array_equal(together.final_memory[k][:, t],
                                          alone.final_memory[k][:, 0])
        steps += alone.train_steps
        assert together.fitness[0, t] == pytest.approx(
            naive_evaluate(algs[0], task, *SIZES), rel=1e-12)
        assert together.fitness[0, t] > 0.0
    np.testing.assert_array_equal(together.train_steps, steps)
    assert steps[0] == 12 + 16 + 28


def test_batched_algorithms_match_running_each_alone():
    """P algorithms in one call give the same per-algorithm results as P calls
    (deterministic ones, and random ones given the same seed)."""
    tasks = _mixed_schedule_tasks()
    rng = np.random.default_rng(11)
    algs = [random_program(rng) for _ in range(5)]
    algs += [neural_net(0.05), neural_net(0.05), linear_regressor(0.05), neural_net(),
             neural_net(0.05)]
    seeds = [0, 0, 0, 0, 0, 17, 18, 0, 17, 17]
    together = run(algs, tasks, seeds=seeds)
    for p, (alg, seed) in enumerate(zip(algs, seeds, strict=True)):
        alone = run([alg], tasks, seeds=[seed])
        np.testing.assert_array_equal(together.fitness[p], alone.fitness[0])
        assert together.train_steps[p] == alone.train_steps[0]
        for k in range(3):
            np.testing.assert_array_equal(together.final_memory[k][p],
                                          alone.final_memory[k][0])
    # Random algorithms: same seed -> same result, different seed -> different.
    np.testing.assert_array_equal(together.fitness[5], together.fitness[9])
    assert not np.array_equal(together.fitness[5], together.fitness[6])


# --------------------------------------------------------------------------
# The hand-designed linear regressor on 10 linear tasks (F = 4, T = 10).
# --------------------------------------------------------------------------


def test_linear_regressor_solves_linear_tasks():
    """LINEAR_ALGORITHM (lr 0.01, docs/semantics.md §2.4) reaches fitness >= 0.9999 on each
    of 10 default-seed scalar_linear_regression tasks (1000 / 100 examples)."""
    tasks = linear_tasks()
    res = run([linear_regressor(0.01), algorithm()], tasks)
    assert res.fitness.shape == (2, 10)
    assert np.all(res.fitness[0] >= 0.9999), res.fitness[0]
    # Combined over the tasks by the evaluator (the default mean, docs/semantics.md §5.3).
    combined = Evaluator(tasks, MEMORY).evaluate(linear_regressor(0.01))
    assert combined == pytest.approx(np.mean(res.fitness[0]), rel=1e-12)
    assert combined >= 0.9999
    assert np.all(res.fitness[1] < 0.7)  # the no-op predicts 0
    np.testing.assert_array_equal(res.train_steps, [10 * N_TRAIN] * 2)
    for t in (0, 9):
        assert res.fitness[0, t] == pytest.approx(
            naive_evaluate(linear_regressor(0.01), tasks[t], *SIZES), rel=1e-9)


def test_lockstep_tasks_stop_independently():
    """In a 10-task group, tasks that stop early (error > 2.5 before the
    regressor has converged) do not disturb the others: per-task fitness and
    the summed train steps equal the naive interpreter's, task by task."""
    tasks = linear_tasks()
    algs = [linear_regressor(0.01), linear_regressor(0.3), algorithm()]
    res = run(algs, tasks, max_abs_error=2.5, num_train_examples=60)
    for p, alg in enumerate(algs):
        runs = [naive(alg, t, max_abs_error=2.5, num_train_examples=60) for t in tasks]
        np.testing.assert_allclose(res.fitness[p], [r.fitness for r in runs],
                                   rtol=1e-9, atol=1e-15)
        assert res.train_steps[p] == sum(r.train_steps for r in runs)
        # A task stops (fitness 0, fewer steps) exactly where the naive run does.
        failed = [r.train_failed for r in runs]
        np.testing.assert_array_equal(res.fitness[p] == 0.0, failed)
        assert all((r.train_steps < 60) == r.train_failed for r in runs)
    stopped = res.fitness[:2] == 0.0
    assert stopped.any() and not stopped.all()  # some stop, some do not


# --------------------------------------------------------------------------
# Differential test: random deterministic programs, kernel vs naive.
# --------------------------------------------------------------------------

DIFF_MEMORY = MemorySpec(6, 6, 3)


def random_program(rng: np.random.Generator) -> Algorithm:
    """A random deterministic program over DIFF_MEMORY (helpers.py)."""
    return random_differential_program(rng, DIFF_MEMORY.sizes)


def _differential_tasks() -> list[Task]:
    """Regression and accuracy, 2 epochs each, three different schedules."""
    (linear,) = make_tasks([TaskSpec(
        task_type="scalar_linear_regression_task", features_size=4,
        num_train_examples=12, num_valid_examples=6, num_train_epochs=2)])
    rng = np.random.default_rng(5)
    x, vx = rng.normal(size=(10, 4)), rng.normal(size=(8, 4))
    w = rng.normal(size=4)
    accuracy = Task.from_arrays(x, (x @ w > 0).astype(float), vx,
                                (vx @ w > 0).astype(float), eval_type="ACCURACY",
                                num_train_epochs=2, seed=4)
    increment = unit_task("increment", 8, 5, epochs=2, increment=5.0)
    return [linear, accuracy, increment]


def _check_against_naive(algs: Sequence[Algorithm], tasks: Sequence[Task],
                         res: ExecutionResult, budget=None,
                         lockstep: bool = False) -> tuple[int, int]:
    """Compare every (program, task) with the naive interpreter: fitness,
    final memory and the summed train steps. Returns (compared, positive).

    Runs whose validation failed are compared too: a task's validation ends at
    its failing example (test_validation_stops_at_the_failing_example).
    """
    compared = positive = 0
    for p, alg in enumerate(algs):
        steps = 0
        for t, task in enumerate(tasks):
            n_train = None if budget is None else budget[t]
            ref = naive(alg, task, memory=DIFF_MEMORY, num_train_examples=n_train)
            steps += ref.train_steps
            context = f"program {p} on task {t}:\n{alg}"
            compared += 1
            positive += ref.fitness > 0
            np.testing.assert_allclose(res.fitness[p, t], ref.fitness, rtol=1e-9,
                                       atol=1e-300, err_msg=context)
            if lockstep and ref.train_failed:
                continue  # in a task group, a stopped task keeps computing
            got = [res.final_memory[k][p, t].copy() for k in range(3)]
            want = [ref.memory.s.copy(), ref.memory.v, ref.memory.m]
            if ref.train_failed:
                got[0][0] = want[0][0] = 0.0  # the kernel has already set s0 = y
            for g, w in zip(got, want, strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-300,
                                           equal_nan=True, err_msg=context)
        assert res.train_steps[p] == steps, f"program {p}"
    return compared, positive


@pytest.mark.parametrize("budget", [None, (17, 13, 9)], ids=["full", "partial"])
def test_random_programs_match_the_naive_interpreter(budget):
    """~100 random programs over every deterministic op (memory 6/6/3, F = 4)
    on a regression, an accuracy and an increment task (2 epochs each, full or
    partial training budget): fitness, train steps and final memory equal the
    naive interpreter's."""
    tasks = _differential_tasks()
    assert [t.eval_type for t in tasks] == [EvalType.RMS_ERROR, EvalType.ACCURACY,
                                            EvalType.RMS_ERROR]
    rng = np.random.default_rng(2024)
    algs = [random_program(rng) for _ in range(110)]
    res = run(algs, tasks, memory=DIFF_MEMORY, num_train_examples=budget)
    used = {i.op for a in algs for c in a.components for i in c}
    assert used >= set(DETERMINISTIC_OPS) - {0}
    compared, positive = _check_against_naive(algs, tasks, res, budget)
    assert compared >= 0.9 * len(algs) * len(tasks)
    assert positive >= 0.2 * compared, (positive, compared)


def test_random_programs_in_a_mixed_lockstep_group_match_the_naive_interpreter():
    """10 tasks with one schedule (5 regression, 5 accuracy; 2 epochs) run in
    lockstep as one group: per-task results equal the naive interpreter's."""
    linear = make_tasks([TaskSpec(
        task_type="scalar_linear_regression_task", features_size=4,
        num_train_examples=16, num_valid_examples=8, num_train_epochs=2,
        num_tasks=5)])
    rng = np.random.default_rng(8)
    accuracy = []
    for k in range(5):
        x, vx, w = rng.normal(size=(16, 4)), rng.normal(size=(8, 4)), rng.normal(size=4)
        accuracy.append(Task.from_arrays(x, (x @ w > 0).astype(float), vx,
                                         (vx @ w > 0).astype(float),
                                         eval_type="ACCURACY", num_train_epochs=2,
                                         seed=k))
    tasks = [t for pair in zip(linear, accuracy, strict=True) for t in pair]
    batch = TaskBatch.from_tasks(tasks)
    assert len(batch.groups) == 1
    algs = [random_program(rng) for _ in range(60)]
    res = run(algs, batch, memory=DIFF_MEMORY)
    compared, positive = _check_against_naive(algs, tasks, res, lockstep=True)
    assert compared >= 0.9 * len(algs) * len(tasks)
    assert positive >= 0.2 * compared, (positive, compared)


def _f16_tasks(num_train: int = 8, num_valid: int = 4) -> list[Task]:
    """F = 16: 4 regression and 3 accuracy tasks with one schedule, so 7 tasks
    share one group and its last block of lanes is partial."""
    linear = make_tasks([TaskSpec(
        task_type="scalar_linear_regression_task", features_size=16,
        num_train_examples=num_train, num_valid_examples=num_valid,
        num_train_epochs=2, num_tasks=4)])
    rng = np.random.default_rng(16)
    accuracy = []
    for k in range(3):
        x, vx = rng.normal(size=(num_train, 16)), rng.normal(size=(num_valid, 16))
        w = rng.normal(size=16)
        accuracy.append(Task.from_arrays(x, (x @ w > 0).astype(float), vx,
                                         (vx @ w > 0).astype(float),
                                         eval_type="ACCURACY", num_train_epochs=2,
                                         seed=k))
    return [linear[0], accuracy[0], linear[1], accuracy[1], linear[2], accuracy[2],
            linear[3]]


def test_random_programs_at_f16_in_lockstep_match_the_naive_interpreter():
    """A 7-task lockstep group at F = 16: fitness, train steps
    and the final memory of every task that ran to the end equal the naive
    interpreter's, with tasks stopping early at different steps."""
    tasks = _f16_tasks()
    batch = TaskBatch.from_tasks(tasks)
    assert len(batch.groups) == 1
    rng = np.random.default_rng(17)
    algs = [random_program(rng) for _ in range(24)]
    res = run(algs, batch, memory=DIFF_MEMORY)
    compared, positive = _check_against_naive(algs, tasks, res, lockstep=True)
    assert compared == len(algs) * len(tasks)
    assert positive >= 0.2 * compared, (positive, compared)


def test_stopped_tasks_leave_the_running_lanes_without_changing_results():
    """Gradient descent at F = 16 with learning rates around the divergence
    threshold: tasks stop at different steps and their lanes are swapped out
    of the running blocks; every task's fitness and the summed steps equal
    running each task alone, and the tasks that ran to the end keep their own
    memory."""
    tasks = _f16_tasks(num_train=30, num_valid=6)[::2]  # the 4 regression tasks
    algs = [linear_regressor(lr) for lr in (0.2, 0.12, 0.1, 0.05)]
    together = run(algs, TaskBatch.from_tasks(tasks), max_abs_error=20.0)
    alone = run(algs, TaskBatch.from_tasks(tasks, task_chunk=1), max_abs_error=20.0)
    np.testing.assert_array_equal(together.fitness, alone.fitness)
    np.testing.assert_array_equal(together.train_steps, alone.train_steps)
    ran_to_end = together.fitness > 0
    assert 0 < ran_to_end.sum() < ran_to_end.size  # some stop, some do not
    for p in range(len(algs)):
        for t in range(len(tasks)):
            if not ran_to_end[p, t]:
                continue
            for k in range(3):
                np.testing.assert_array_equal(together.final_memory[k][p, t],
                                              alone.final_memory[k][p, t])
