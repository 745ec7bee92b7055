"""Hurdles (docs/semantics.md §10): stage 1, the rolling hurdle, counters,
FEC interaction, state and config. Oracles are independent evaluations (an
evaluator on the stage-1 tasks alone, the executor with fewer examples, an
evaluator without hurdles)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from automl_zero.config import config_from_dict, load_config
from automl_zero.engine.evaluator import Evaluator, TrainBudget, combine_fitness
from automl_zero.engine.settings import FECSettings, HurdleSettings
from automl_zero.engine.state import StateError
from automl_zero.errors import ConfigError
from automl_zero.executor import MemorySpec, TaskBatch, execute
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.generator import linear_algorithm, no_op_algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.run import build
from automl_zero.tasks import make_tasks

DEMO = "configs/demo_linear.toml"
MEMORY = MemorySpec(5, 3, 1)
K = 3  # stage-1 tasks of the task-subset variant

WEAK = no_op_algorithm(1, 1, 1)  # predicts 0: far from a linear fit
STRONG = linear_algorithm(0.2)  # solves the linear tasks (fitness ~ 0.99998)


def noisy_linear() -> Algorithm:
    """A linear regressor with random initial weights and Gaussian noise on its
    predictions: its results depend on the seed and on the random draws."""
    base = linear_algorithm(0.05)
    make = Instruction.make
    return Algorithm(
        (make("VECTOR_GAUSSIAN_SET_OP", out=1, data=(0.0, 1.0)), *base.setup),
        (*base.predict, make("SCALAR_GAUSSIAN_SET_OP", out=4, data=(0.0, 0.1)),
         make("SCALAR_SUM_OP", out=1, in1=1, in2=4)),
        base.learn)


@pytest.fixture(scope="module")
def tasks():
    return make_tasks(load_config(DEMO).search_tasks)  # 10 tasks, 100 train examples


def programs():
    return [WEAK, STRONG, linear_algorithm(0.01), noisy_linear(), noisy_linear(),
            no_op_algorithm(2, 0, 3)]


def test_off_is_the_evaluation_without_hurdles(tasks):
    budget = TrainBudget(linear_algorithm(), 2.0)
    fec = FECSettings(10, 10)
    plain = Evaluator(tasks, MEMORY, train_budget=budget, fec=fec, seed=7)
    unset = Evaluator(tasks, MEMORY, train_budget=budget, fec=fec, seed=7,
                      hurdles=HurdleSettings(first_stage_tasks=K))
    assert unset.hurdle is None
    for _ in range(2):  # the second batch sees the same seed stream and cache
        a, b = plain.evaluate_many(programs()), unset.evaluate_many(programs())
        np.testing.assert_array_equal(a.fitness, b.fitness)
        np.testing.assert_array_equal(a.per_task, b.per_task)
        np.testing.assert_array_equal(a.train_steps, b.train_steps)
    assert plain.to_state()["rng"] == unset.to_state()["rng"]
    assert unset.hurdle_stopped == unset.hurdle_passed == unset.hurdle_steps_run == 0
    assert unset.hurdle_savings() == 0.0


@pytest.mark.parametrize("fraction", [1.0, 0.1])
def test_passed_children_keep_their_full_fitness(tasks, fraction):
    """A hurdle nobody fails: every child has the fitness it has without
    hurdles (same seeds, random ops included) and the seed streams agree."""
    k = K if fraction == 1.0 else 0
    plain = Evaluator(tasks, MEMORY, seed=11)
    hurdled = Evaluator(tasks, MEMORY, seed=11,
                        hurdles=HurdleSettings(k, first_stage_train_fraction=fraction))
    for _ in range(2):
        hurdled.hurdle = -1.0
        a, b = plain.evaluate_many(programs()), hurdled.evaluate_many(programs())
        np.testing.assert_array_equal(a.fitness, b.fitness)
        np.testing.assert_array_equal(a.per_task, b.per_task)
    assert plain.to_state()["rng"] == hurdled.to_state()["rng"]
    n = len(programs())
    assert hurdled.hurdle_passed == 2 * n and hurdled.hurdle_stopped == 0
    extra = hurdled.num_train_steps - plain.num_train_steps
    if fraction == 1.0:
        # Stage-1 results of programs without random ops are kept; the two
        # noisy programs run their stage-1 tasks again: 2 x 3 tasks x 100 steps.
        assert extra == 2 * (2 * K * 100)
    else:
        # Every child runs 10 examples on each of the 10 tasks first.
        assert extra == 2 * n * 10 * 10
    assert hurdled.hurdle_steps_run == hurdled.num_train_steps


def test_weak_child_stops_after_the_first_tasks(tasks):
    ev = Evaluator(tasks, MEMORY, seed=3, hurdles=HurdleSettings(first_stage_tasks=K))
    ev.hurdle = 0.9
    out = ev.evaluate_many([WEAK, STRONG])
    # Oracle of the stopped child: an evaluator on the first K tasks alone.
    first = Evaluator(tasks[:K], MEMORY, seed=3).evaluate_many([WEAK])
    full = Evaluator(tasks, MEMORY, seed=3).evaluate_many([WEAK, STRONG])
    assert first.fitness[0] < 0.9 < full.fitness[1]
    assert out.fitness[0] == first.fitness[0] != full.fitness[0]
    np.testing.assert_array_equal(out.per_task[0, :K], first.per_task[0])
    assert np.isnan(out.per_task[0, K:]).all()
    assert out.train_steps[0] == K * 100  # stage 1 only
    # The strong child passes: exactly its fitness without hurdles, and its
    # stage-1 tasks are not run twice.
    assert out.fitness[1] == full.fitness[1]
    np.testing.assert_array_equal(out.per_task[1], full.per_task[1])
    assert out.train_steps[1] == 10 * 100
    assert (ev.hurdle_stopped, ev.hurdle_passed) == (1, 1)
    assert ev.hurdle_steps_saved == (10 - K) * 100
    assert ev.hurdle_steps_run == K * 100 + 10 * 100 == ev.num_train_steps
    assert ev.hurdle_savings() == pytest.approx(700 / (700 + 1300))


def test_stopped_random_programs_use_the_seeds_of_their_full_evaluation(tasks):
    ev = Evaluator(tasks, MEMORY, seed=3, hurdles=HurdleSettings(first_stage_tasks=K))
    ev.hurdle = 1.0  # stops everything short of perfect
    noisy = [noisy_linear(), noisy_linear()]
    out = ev.evaluate_many(noisy)
    assert ev.hurdle_stopped == 2
    # The seeds the evaluator draws for this batch (same stream, same order).
    first = Evaluator(tasks[:K], MEMORY, seed=3).evaluate_many(noisy)
    np.testing.assert_array_equal(out.fitness, first.fitness)
    assert out.fitness[0] != out.fitness[1]  # two seeds, two results
    # The stream goes on as without hurdles.
    plain = Evaluator(tasks, MEMORY, seed=3)
    plain.evaluate_many(noisy)
    ev.hurdle = None
    np.testing.assert_array_equal(ev.evaluate_many(noisy).fitness,
                                  plain.evaluate_many(noisy).fitness)


def test_median_combination_over_the_stage_1_tasks(tasks):
    mode = "MEDIAN_FITNESS_COMBINATION"
    ev = Evaluator(tasks, MEMORY, fitness_combination_mode=mode,
                   hurdles=HurdleSettings(first_stage_tasks=4))
    ev.hurdle = 0.9
    per_task = Evaluator(tasks[:4], MEMORY).evaluate_many([WEAK]).per_task
    assert ev.evaluate(WEAK) == combine_fitness(per_task, mode)[0] == np.sort(
        per_task[0])[2]


def test_fraction_variant_trains_on_fewer_examples(tasks):
    ev = Evaluator(tasks, MEMORY, seed=3,
                   hurdles=HurdleSettings(first_stage_train_fraction=0.1))
    ev.hurdle = 0.5  # STRONG reaches about 0.7 after 10 examples, WEAK 0.39
    out = ev.evaluate_many([WEAK, STRONG])
    # Oracle: the executor on every task with 10 of the 100 examples.
    short = execute([WEAK], TaskBatch.from_tasks(tasks), MEMORY, [0],
                    num_train_examples=10)
    assert out.fitness[0] == short.fitness[0].mean()
    np.testing.assert_array_equal(out.per_task[0], short.fitness[0])
    assert out.train_steps[0] == 10 * 10 == short.train_steps[0]
    full = Evaluator(tasks, MEMORY, seed=3).evaluate_many([STRONG])
    assert out.fitness[1] == full.fitness[0]
    assert out.train_steps[1] == 10 * 10 + 10 * 100  # stage 1, then in full
    assert ev.hurdle_stopped == 1 and ev.hurdle_steps_saved == 1000 - 100


def test_over_budget_children_train_nothing_in_stage_1(tasks):
    # The budget gives STRONG no training (docs/semantics.md §6.3): stage 1
    # keeps 0 examples (not the minimum of 1) and STRONG scores 0.
    tiny = TrainBudget(no_op_algorithm(0, 1, 0), 1.0)
    ev = Evaluator(tasks, MEMORY, train_budget=tiny,
                   hurdles=HurdleSettings(first_stage_train_fraction=0.5))
    ev.hurdle = 0.5
    out = ev.evaluate_many([STRONG])
    assert out.fitness[0] == 0.0 and out.train_steps[0] == 0
    assert ev.hurdle_stopped == 1 and ev.hurdle_steps_saved == 0


def test_fec_keeps_the_stage_1_fitness_of_stopped_children(tasks):
    ev = Evaluator(tasks, MEMORY, fec=FECSettings(10, 10),
                   hurdles=HurdleSettings(first_stage_tasks=K))
    ev.hurdle = 0.9
    stopped = ev.evaluate(WEAK)
    ev.hurdle = None  # even without a hurdle, the cache answers
    again = ev.evaluate_many([WEAK])
    assert again.fitness[0] == stopped and ev.fec.hits == 1
    assert again.train_steps[0] == 10 * 10  # the fingerprint run only
    assert (ev.hurdle_stopped, ev.hurdle_passed) == (1, 0)


def test_fec_keyed_per_task_keeps_the_stage_1_tasks_only(tasks):
    fec = FECSettings(10, 10, keying="TASK")
    ev = Evaluator(tasks, MEMORY, fec=fec, hurdles=HurdleSettings(first_stage_tasks=K))
    ev.hurdle = 0.9
    ev.evaluate(WEAK)
    assert len(ev.fec.to_state()["entries"]) == K
    # Again with the hurdle: stage 1 is all cache hits, nothing is trained.
    again = ev.evaluate_many([WEAK])
    assert again.train_steps[0] == 10 * 10 and ev.hurdle_stopped == 2
    # Without a hurdle the other tasks run in full: the plain fitness.
    ev.hurdle = None
    full = ev.evaluate_many([WEAK])
    plain = Evaluator(tasks, MEMORY).evaluate_many([WEAK])
    assert full.fitness[0] == plain.fitness[0]
    assert full.train_steps[0] == 10 * 10 + (10 - K) * 100


def test_fraction_stage_is_not_cached_per_task(tasks):
    fec = FECSettings(10, 10, keying="TASK")
    ev = Evaluator(tasks, MEMORY, fec=fec,
                   hurdles=HurdleSettings(first_stage_train_fraction=0.1))
    ev.hurdle = 0.9
    ev.evaluate(WEAK)
    assert ev.hurdle_stopped == 1 and ev.fec.to_state()["entries"] == []


def demo_island(*overrides: str):
    cfg = load_config(DEMO, ["population_size=60", *overrides])
    return build.island(cfg, cfg.search_tasks, np.random.SeedSequence(5))


@pytest.mark.parametrize("percentile", [75, 40])
def test_island_sets_the_rolling_hurdle(percentile):
    island = demo_island("hurdles.first_stage_tasks=3",
                         f"hurdles.percentile={percentile}")
    ev = island.evaluator
    island.initialize()
    assert ev.hurdle is None and ev.hurdle_passed == ev.hurdle_stopped == 0
    hits = ev.fec.hits
    for _ in range(3):
        before = island.population.fitness.copy()
        island.step(20)
        assert ev.hurdle == np.percentile(np.unique(before), percentile)
        assert ev.hurdle != np.percentile(before, percentile)  # duplicates count once
    # Every child the cache did not answer met the hurdle.
    assert ev.hurdle_passed + ev.hurdle_stopped == 60 - (ev.fec.hits - hits)
    assert ev.hurdle_stopped > 0 and ev.hurdle_savings() > 0


def test_immigrants_meet_no_hurdle():
    island = demo_island("hurdles.first_stage_tasks=3")
    island.step(20)
    ev = island.evaluator
    ev.hurdle = 0.999  # would stop the immigrant
    counts, hits = (ev.hurdle_stopped, ev.hurdle_passed), ev.fec.hits
    slow = linear_algorithm(0.01)
    island.immigrate([slow])
    assert ev.hurdle == 0.999 and (ev.hurdle_stopped, ev.hurdle_passed) == counts
    assert ev.fec.hits == hits
    tasks = make_tasks(load_config(DEMO).search_tasks)
    full = Evaluator(tasks, MEMORY).evaluate(slow)
    first = Evaluator(tasks[:3], MEMORY).evaluate(slow)
    assert first < 0.999 and first != full
    assert full in island.population.fitness and first not in island.population.fitness


@pytest.mark.parametrize("overrides", [(), ("method=RANDOM_SEARCH",
                                            "hurdles.first_stage_tasks=3")])
def test_no_hurdle_without_hurdles_or_in_random_search(overrides):
    island = demo_island(*overrides)
    for _ in range(2):
        island.step(20)
    assert island.evaluator.hurdle is None
    assert island.evaluator.hurdle_passed == island.evaluator.hurdle_stopped == 0


def test_counters_round_trip_through_state(tasks):
    ev = Evaluator(tasks, MEMORY, hurdles=HurdleSettings(first_stage_tasks=K))
    ev.hurdle = 0.9
    ev.evaluate_many([WEAK, STRONG, WEAK])
    state = json.loads(json.dumps(ev.to_state()))
    other = Evaluator(tasks, MEMORY, hurdles=HurdleSettings(first_stage_tasks=K))
    other.load_state(state)
    names = ("hurdle_stopped", "hurdle_passed", "hurdle_steps_saved", "hurdle_steps_run")
    assert [getattr(other, n) for n in names] == [2, 1, 2 * 700, 2 * 300 + 1000]
    assert other.hurdle_savings() == ev.hurdle_savings() > 0
    old = {k: v for k, v in state.items() if k not in names}  # before hurdles
    other.load_state(old)
    assert [getattr(other, n) for n in names] == [0, 0, 0, 0]
    with pytest.raises(StateError, match=r"evaluator\.hurdle_steps_saved: .*-1"):
        other.load_state({**state, "hurdle_steps_saved": -1})
    with pytest.raises(StateError, match=r"evaluator\.hurdle_passed: expected"):
        other.load_state({**state, "hurdle_passed": "3"})


@pytest.mark.parametrize("kwargs, message", [
    ({"first_stage_tasks": -1}, "first_stage_tasks must be an integer >= 0"),
    ({"first_stage_tasks": 2.0}, "first_stage_tasks must be an integer"),
    ({"first_stage_tasks": 2, "first_stage_train_fraction": 0.0},
     r"first_stage_train_fraction must be a number in \(0, 1\]"),
    ({"first_stage_tasks": 2, "first_stage_train_fraction": 1.5},
     "first_stage_train_fraction must be"),
    ({"first_stage_tasks": 2, "percentile": 100}, r"percentile must be .* \(0, 100\)"),
    ({"first_stage_tasks": 2, "percentile": 0}, "percentile must be"),
    ({}, "stage 1 would be the full evaluation"),
])
def test_bad_hurdle_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HurdleSettings(**kwargs)


def test_evaluator_needs_fewer_stage_1_tasks(tasks):
    with pytest.raises(ValueError, match=r"first_stage_tasks \(10\) must be below "
                                         r"the number of tasks \(10\)"):
        Evaluator(tasks, MEMORY, hurdles=HurdleSettings(first_stage_tasks=10))


BASE = {"num_scalar_addresses": 4,
        "search_tasks": [{"task_type": "scalar_linear_regression_task",
                          "features_size": 4, "num_train_examples": 10,
                          "num_valid_examples": 10, "num_tasks": 3},
                         {"task_type": "scalar_linear_regression_task",
                          "features_size": 4, "num_train_examples": 10,
                          "num_valid_examples": 10, "num_tasks": 2}]}


def test_config_hurdles_table():
    cfg = config_from_dict({**BASE, "hurdles": {"first_stage_tasks": 4}}, "h.toml")
    assert cfg.hurdles.first_stage_tasks == 4 and cfg.hurdles.percentile == 75.0
    assert config_from_dict(cfg.to_dict(), "h.toml") == cfg
    settings = build.hurdle_settings(cfg)
    assert settings == HurdleSettings(4, 1.0, 75.0)
    assert build.search_evaluator(cfg, cfg.search_tasks, 0).hurdles == settings
    assert build.hurdle_settings(config_from_dict(BASE)) is None
    cfg = config_from_dict({**BASE, "hurdles": {"first_stage_train_fraction": 0.25,
                                                "percentile": 50}})
    assert build.hurdle_settings(cfg) == HurdleSettings(0, 0.25, 50.0)


@pytest.mark.parametrize("table, message", [
    ({"first_stage_tasks": 5}, "h.toml: hurdles.first_stage_tasks: must be below the "
                               "number of search tasks (5)"),
    ({}, "h.toml: hurdles: stage 1 would be the full evaluation"),
    ({"first_stage_tasks": -1}, "h.toml: hurdles.first_stage_tasks: must be >= 0"),
    ({"first_stage_tasks": 2, "first_stage_train_fraction": 0},
     "h.toml: hurdles.first_stage_train_fraction: must be > 0"),
    ({"first_stage_tasks": 2, "first_stage_train_fraction": 2},
     "h.toml: hurdles.first_stage_train_fraction: must be <= 1"),
    ({"first_stage_tasks": 2, "percentile": 100}, "h.toml: hurdles.percentile: must be < 100"),
    ({"first_stage_tasks": 2, "percentile": "high"},
     "h.toml: hurdles.percentile: must be a number"),
    ({"first_stage_task": 2}, "h.toml: hurdles: unknown key 'first_stage_task' "
                              "(did you mean 'first_stage_tasks'?)"),
])
def test_bad_config_hurdles_name_the_key(table, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict({**BASE, "hurdles": table}, "h.toml")
    assert message in str(err.value)
