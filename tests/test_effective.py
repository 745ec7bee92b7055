"""Dead-code removal (automl_zero/effective.py): hand-built cases and a
differential test: the effective algorithm has the original's fitness and train
steps on every task.

Kernel variants compiled here: F=4 only (tasks run one per group, task_chunk=1).
"""

from __future__ import annotations

import numpy as np
from helpers import (
    algorithm,
    const,
    make,
    op,
    random_instruction_any_output,
    random_program_around_sgd,
)

from automl_zero.executor.executor import MemorySpec, TaskBatch, execute
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.effective import (
    effective_algorithm,
    effective_fraction,
    is_effectively_random,
)
from automl_zero.language.generator import (
    linear_algorithm,
    neural_net_algorithm,
    pad_algorithm,
)
from automl_zero.language.instruction import Instruction
from automl_zero.tasks import Task

MEMORY = MemorySpec(6, 6, 3)
SIZES = MEMORY.sizes
NO_OP = Instruction(0)

# The original's LINEAR_ALGORITHM, LinearModel(lr) (docs/semantics.md §2.4): plain SGD.
linear_regressor = linear_algorithm


_TASKS: list[TaskBatch] = []


def tasks() -> TaskBatch:
    """Three small F=4 tasks, 2 epochs, each in its own group: linear
    regression, binary classification, and a regression with large labels (early
    stops at max_abs_error)."""
    if not _TASKS:
        rng = np.random.default_rng(7)
        w = rng.normal(size=4)
        x, vx = rng.normal(size=(12, 4)), rng.normal(size=(6, 4))
        reg = Task.from_arrays(x, x @ w, vx, vx @ w, num_train_epochs=2, seed=1)
        x, vx = rng.normal(size=(11, 4)), rng.normal(size=(7, 4))
        cls = Task.from_arrays(x, (x @ w > 0) * 1.0, vx, (vx @ w > 0) * 1.0,
                               eval_type="ACCURACY", num_train_epochs=2, seed=2)
        x, vx = rng.normal(size=(9, 4)), rng.normal(size=(5, 4))
        big = Task.from_arrays(x, 30 * x @ w, vx, 30 * vx @ w, num_train_epochs=2,
                               seed=3)
        _TASKS.append(TaskBatch.from_tasks([reg, cls, big], task_chunk=1))
    return _TASKS[0]


def run(algs: list[Algorithm]):
    res = execute(algs, tasks(), MEMORY, np.zeros(len(algs), dtype=np.int64))
    return res.fitness, res.train_steps


def assert_same_behaviour(alg: Algorithm) -> Algorithm:
    eff = effective_algorithm(alg)
    fitness, steps = run([alg, eff])
    np.testing.assert_array_equal(fitness[0], fitness[1])
    assert steps[0] == steps[1]
    return eff


def ops_of(component) -> list[int]:
    return [ins.op for ins in component]


# --------------------------------------------------------------------------
# Hand-built cases.
# --------------------------------------------------------------------------


def test_linear_regressor_is_fully_live():
    lin = linear_regressor()
    assert effective_algorithm(lin) is lin
    assert effective_fraction(lin) == 1.0
    assert_same_behaviour(lin)


def test_no_ops_are_removed():
    lin = linear_regressor()
    padded = pad_algorithm(lin, (10, 2, 8))
    assert len(padded) == 20
    eff = assert_same_behaviour(padded)
    assert eff == lin
    assert effective_fraction(padded) == 6 / 20
    assert effective_algorithm(algorithm([NO_OP], [NO_OP], [NO_OP])) == algorithm()


def test_write_to_unread_address_is_removed():
    lin = linear_regressor()
    alg = lin.replace(predict=lin.predict + (op("SCALAR_SUM_OP", 4, 2, 3),),
                      setup=(op("VECTOR_SUM_OP", 5, 1, 1),) + lin.setup)
    assert assert_same_behaviour(alg) == lin


def test_write_overwritten_before_read_is_removed():
    lin = linear_regressor()
    alg = lin.replace(setup=(const(2, 5.0),) + lin.setup,
                      learn=(op("SCALAR_PRODUCT_OP", 3, 0, 0),) + lin.learn)
    assert assert_same_behaviour(alg) == lin


def test_values_feeding_only_dead_code_are_removed():
    """Strong liveness: s4 is read, but only by the dead write to s5; a cycle
    s5 = s5 + s0 that never reaches s1 is dead too."""
    lin = linear_regressor()
    alg = lin.replace(learn=lin.learn + (op("SCALAR_SUM_OP", 4, 0, 1),
                                         op("SCALAR_PRODUCT_OP", 5, 4, 4),
                                         op("SCALAR_SUM_OP", 5, 5, 0)))
    assert assert_same_behaviour(alg) == lin


def test_value_written_in_learn_and_read_by_next_predict_is_kept():
    alg = algorithm(setup=[const(2, 0.5), const(3, 2.0)],
                    predict=[op("SCALAR_SUM_OP", 1, 4, 3)],
                    learn=[op("SCALAR_PRODUCT_OP", 4, 0, 2),
                           op("SCALAR_SUM_OP", 5, 0, 0)])  # s5: never read
    eff = assert_same_behaviour(alg)
    assert eff.setup == alg.setup
    assert eff.predict == alg.predict
    assert eff.learn == alg.learn[:1]


def test_value_written_in_predict_after_use_is_kept():
    """Predict -> Predict (validation) and Predict -> Learn -> Predict: a counter
    updated after the prediction is read by the next Predict."""
    alg = algorithm(setup=[const(3, 0.25)],
                    predict=[op("SCALAR_SUM_OP", 1, 4, 3), op("SCALAR_SUM_OP", 4, 4, 3),
                             op("SCALAR_SUM_OP", 5, 4, 3)])  # s5: never read
    eff = assert_same_behaviour(alg)
    assert eff.predict == alg.predict[:2]
    assert eff.setup == alg.setup


def test_setup_writes_to_s0_and_v0_are_dead():
    """The executor overwrites s0 (0 or the label) and v0 (features) before
    every Predict and Learn."""
    alg = algorithm(setup=[const(2, 3.0), op("SCALAR_BROADCAST_OP", 0, 2),
                           const(0, 1.0)],
                    predict=[op("VECTOR_MEAN_OP", 3, 0), op("SCALAR_SUM_OP", 1, 3, 0)])
    eff = assert_same_behaviour(alg)
    assert eff.setup == ()
    assert eff.predict == alg.predict


def test_s0_and_v0_across_predict_and_learn():
    """Predict's write to s0 is live inside Predict but not into Learn (s0 = y
    there); Learn's writes to s0/v0 are dead (rewritten before Predict)."""
    alg = algorithm(
        setup=[const(2, 0.5)],
        predict=[op("SCALAR_SUM_OP", 0, 2, 2), op("SCALAR_SUM_OP", 1, 0, 4),
                 op("SCALAR_SUM_OP", 0, 2, 1)],  # dead: Learn sees the label
        learn=[op("SCALAR_PRODUCT_OP", 4, 0, 0), const(0, 3.0),
               op("SCALAR_BROADCAST_OP", 0, 2)])
    eff = assert_same_behaviour(alg)
    assert eff.predict == alg.predict[:2]
    assert eff.learn == alg.learn[:1]
    assert eff.setup == alg.setup


def test_predict_writing_features_keeps_learn_reading_the_example():
    """v0 written in Predict: Learn still reads the example's features."""
    alg = algorithm(
        setup=[const(2, 0.1)],
        predict=[op("VECTOR_INNER_PRODUCT_OP", 1, 1, 0), op("SCALAR_BROADCAST_OP", 0, 1)],
        learn=[op("SCALAR_DIFF_OP", 3, 0, 1), op("SCALAR_PRODUCT_OP", 3, 2, 3),
               op("SCALAR_VECTOR_PRODUCT_OP", 2, 3, 0), op("VECTOR_SUM_OP", 1, 1, 2)])
    eff = assert_same_behaviour(alg)
    assert eff.predict == alg.predict[:1]
    assert eff.learn == alg.learn


def test_element_const_set_keeps_earlier_writes_live():
    vset = make("VECTOR_CONST_SET_OP", out=3, data=(0.1, 5.0))
    mset = make("MATRIX_CONST_SET_OP", out=1, data=(0.6, 0.3, -2.0))
    alg = algorithm(setup=[const(2, 3.0), op("SCALAR_BROADCAST_OP", 3, 2), vset,
                           op("VECTOR_COLUMN_BROADCAST_OP", 1, 3), mset],
                    predict=[op("VECTOR_MEAN_OP", 4, 3), op("MATRIX_MEAN_OP", 5, 1),
                             op("SCALAR_SUM_OP", 1, 4, 5)])
    assert assert_same_behaviour(alg) is alg
    # A whole-value write after the element write kills both earlier writes.
    killed = alg.replace(setup=alg.setup[:3] + (op("VECTOR_ABS_OP", 3, 4),)
                         + alg.setup[3:])
    eff = assert_same_behaviour(killed)
    assert ops_of(eff.setup) == ops_of(killed.setup[3:])
    # An element write to an unread address is dead.
    unread = alg.replace(setup=alg.setup + (make("VECTOR_CONST_SET_OP", out=5,
                                                 data=(0.1, 1.0)),))
    assert assert_same_behaviour(unread) == alg


def test_addresses_beyond_the_tables():
    alg = algorithm(setup=[const(70, 2.0), const(71, 1.0), const(71, 3.0)],
                    predict=[op("SCALAR_SUM_OP", 1, 70, 71), op("SCALAR_SUM_OP", 90, 1, 1)])
    eff = effective_algorithm(alg)
    assert eff.setup == (alg.setup[0], alg.setup[2])
    assert eff.predict == alg.predict[:1]


def test_effective_randomness():
    net = neural_net_algorithm()
    assert is_effectively_random(net)
    lin = linear_regressor()
    dead_random = lin.replace(setup=lin.setup + (
        make("VECTOR_GAUSSIAN_SET_OP", out=5, data=(0.0, 1.0)),
        make("VECTOR_UNIFORM_SET_OP", out=1, data=(0.0, 1.0)),  # live: v1 weights
    ))
    assert is_effectively_random(dead_random)
    assert not is_effectively_random(dead_random.replace(setup=dead_random.setup[:2]))
    assert not is_effectively_random(lin)


def test_result_is_cached_and_idempotent():
    lin = linear_regressor()
    alg = pad_algorithm(lin, (3, 3, 5))
    eff = effective_algorithm(alg)
    assert effective_algorithm(alg) is eff
    assert effective_algorithm(eff) is eff
    assert eff == effective_algorithm(lin)
    fresh = Algorithm(eff.setup, eff.predict, eff.learn)
    assert effective_algorithm(fresh) is fresh


# --------------------------------------------------------------------------
# Random programs: same fitness and train steps before and after.
# --------------------------------------------------------------------------


def _random_ins(rng: np.random.Generator) -> Instruction:
    """A random deterministic instruction over SIZES (helpers.py)."""
    return random_instruction_any_output(rng, SIZES)


def random_program(rng: np.random.Generator) -> Algorithm:
    """Random code around a linear-regression-like core (helpers.py)."""
    return random_program_around_sgd(rng, SIZES)


def test_random_programs_keep_fitness_and_train_steps():
    rng = np.random.default_rng(2024)
    algs = [random_program(rng) for _ in range(300)]
    effs = [effective_algorithm(a) for a in algs]
    f0, s0 = run(algs)
    f1, s1 = run(effs)
    np.testing.assert_array_equal(f0, f1)
    np.testing.assert_array_equal(s0, s1)
    # The test is meaningful: many programs do more than the empty program...
    f_empty, s_empty = run([algorithm()])
    nontrivial = np.any(f0 != f_empty, axis=1)
    assert nontrivial.mean() > 0.3, nontrivial.mean()
    assert np.mean(s0 != s_empty[0]) > 0.05  # early stops happen
    assert np.mean(f0 > 0.0) > 0.5
    # ... and much of their code is dead.
    kept = np.mean([effective_fraction(a) for a in algs if len(a)])
    assert kept < 0.6, kept
    assert sum(e is not a for e, a in zip(effs, algs, strict=True)) > 200


