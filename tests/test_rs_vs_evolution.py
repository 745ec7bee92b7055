"""Evolution against random search (automl_zero/run/experiments/rs_vs_evolution.py,
docs/results.md): the acceptability rule, determinism, the evolution
experiment's stop and count, the statistics and the CLI."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from automl_zero.engine.packed_evolution import PackedPopulation, unpack
from automl_zero.language.text_format import parse_algorithm
from automl_zero.run import build
from automl_zero.run.cli import cli
from automl_zero.run.experiments import rs_vs_evolution as rve

# Evolution experiments of the initial population plus four batches: fast.
SMALL = ("max_individuals=1400",)


@pytest.fixture(scope="module")
def linear_learn() -> rve.Space:
    return rve.load_space("linear_learn", overrides=SMALL)


def _evaluator(space: rve.Space):
    return build.search_evaluator_on_tasks(space.cfg, space.tasks,
                                           np.random.SeedSequence(0))


# ------------------------------------------------------------------ the rule

@pytest.mark.parametrize("setting", rve.SETTING_NAMES)
def test_the_reference_is_not_acceptable_and_a_better_tuned_one_is(setting):
    space = rve.load_space(setting)
    affine = rve.SETTINGS[setting].affine
    evaluator = _evaluator(space)
    reference = evaluator.evaluate(rve.reference_algorithm(affine))
    assert reference == space.threshold and 0.999 < reference < 1.0
    assert not rve.is_acceptable(reference, space.threshold)
    tuned = evaluator.evaluate(rve.reference_algorithm(affine, 0.05))
    assert rve.is_acceptable(tuned, space.threshold)
    # A worse-tuned one is not, nor is a program that never learns.
    assert not rve.is_acceptable(
        evaluator.evaluate(rve.reference_algorithm(affine, 0.005)), space.threshold)
    known = rve.known_solution(affine)
    assert not rve.is_acceptable(evaluator.evaluate(known.replace(learn=())),
                                 space.threshold)
    assert not rve.is_acceptable(np.nan, space.threshold)


def test_learn_only_settings_fix_setup_and_predict_to_the_known_solution():
    for setting in ("linear_learn", "affine_learn"):
        space = rve.load_space(setting)
        known = rve.known_solution(rve.SETTINGS[setting].affine)
        assert space.template.setup == known.setup
        assert space.template.predict == known.predict
        assert all(ins.op == 0 for ins in space.template.learn)
        assert len(space.template.learn) == space.cfg.learn_size_init
        # The known solution itself (Learn included) is acceptable.
        assert rve.is_acceptable(_evaluator(space).evaluate(known), space.threshold)
    assert rve.load_space("linear").template is None


def test_random_programs_keep_the_fixed_functions(linear_learn):
    block = rve._island(linear_learn, "RANDOM_SEARCH", np.random.SeedSequence(3))
    blank = PackedPopulation.from_algorithms([block.template], np.zeros(1),
                                                 block.layout)
    children = block.engine.randomize(blank, np.random.default_rng(0), 50)
    algs = [unpack(children.code[i], children.data[i], children.sizes[i],
                       block.layout) for i in range(50)]
    assert all(a.setup == linear_learn.template.setup
               and a.predict == linear_learn.template.predict for a in algs)
    assert len({a.learn for a in algs}) == 50
    assert all(len(a.learn) == 4 and all(i.op in (2, 3, 18, 23) for i in a.learn)
               for a in algs)


# ------------------------------------------------------------ random search

def test_random_search_is_deterministic_under_a_seed(linear_learn):
    a = rve.random_search(linear_learn, 12_000, seed=4)
    b = rve.random_search(linear_learn, 12_000, seed=4)
    c = rve.random_search(linear_learn, 12_000, seed=5)
    assert a.programs == 12_000 and a.acceptable == 0  # rarer than 1 in 10^5
    assert dataclasses.replace(a, seconds=0) == dataclasses.replace(b, seconds=0)
    assert a.best_fitness != c.best_fitness
    # With a lower bar there are successes; the counts are still reproducible,
    # and the rate is acceptable / programs.
    low = dataclasses.replace(linear_learn, threshold=0.3)
    x = rve.random_search(low, 12_000, seed=4, evaluate_all=True)
    y = rve.random_search(low, 12_000, seed=4, evaluate_all=True)
    assert x.acceptable > 0 and x.acceptable == y.acceptable
    assert x.rate == x.acceptable / 12_000 and x.run == 12_000


def test_label_blind_programs_cannot_be_acceptable(linear_learn):
    # The skip only saves time: evaluating everything gives the same counts,
    # and no label-blind program comes near the reference.
    fast = rve.random_search(linear_learn, 20_000, seed=2)
    full = rve.random_search(linear_learn, 20_000, seed=2, evaluate_all=True)
    assert fast.acceptable == full.acceptable
    assert fast.label_blind == full.label_blind > 10_000
    assert fast.run == 10_000 + (10_000 - (fast.label_blind - fast.label_blind_checked))
    assert full.run == 20_000 and full.label_blind_checked == full.label_blind
    assert full.label_blind_best_fitness < 0.5 < linear_learn.threshold
    assert fast.best_fitness <= full.best_fitness


# ------------------------------------------------------------------ evolution

def _initial_and_children(space: rve.Space, seed: int, index: int, batches: int):
    """Fitness in evaluation order of the experiment's island, stepped by hand."""
    island = rve._island(space, "REGULARIZED_EVOLUTION",
                         np.random.SeedSequence([seed, 1, index]))
    island.initialize()
    order = [island.population.fitness.copy()]
    for _ in range(batches):
        order.append(island.step(space.cfg.batch_size))
    return np.concatenate(order)


def test_evolution_stops_at_the_first_acceptable_algorithm(linear_learn):
    seen = _initial_and_children(linear_learn, 7, 0, 4)
    assert len(seen) == 1400
    # A bar that nothing in the initial population passes but a child does.
    bar = float(np.sort(seen[:1000])[-1])
    later = np.flatnonzero(seen > bar)
    assert len(later) and later[0] >= 1000
    space = dataclasses.replace(linear_learn, threshold=bar)
    out = rve.evolution_experiment(space, 7, 0)
    assert out.found and out.evaluations == later[0] + 1
    # The reported algorithm is that child: it passes the bar again.
    assert _evaluator(space).evaluate(parse_algorithm(out.algorithm)) == seen[later[0]]
    # A bar the first individual passes: one evaluation.
    first = dataclasses.replace(linear_learn, threshold=float(seen[0]) - 1e-9)
    assert rve.evolution_experiment(first, 7, 0).evaluations == 1
    # An impossible bar: the whole budget, no success.
    never = dataclasses.replace(linear_learn, threshold=1.0)
    out = rve.evolution_experiment(never, 7, 0)
    assert not out.found and out.evaluations == 1400 and out.algorithm is None
    assert out.best_fitness == seen.max()


def test_evolution_counts_successes_per_evaluation(linear_learn):
    space = dataclasses.replace(linear_learn, threshold=0.3)
    result = rve.evolution(space, 3, seed=1)
    assert [e.index for e in result.experiments] == [0, 1, 2]
    assert result.successes == sum(e.found for e in result.experiments)
    assert result.evaluations == sum(e.evaluations for e in result.experiments)
    assert result.rate == result.successes / result.evaluations
    assert all(e.evaluations <= 1400 for e in result.experiments)
    again = rve.evolution(space, 3, seed=1)
    assert [dataclasses.astuple(e) for e in again.experiments] == \
        [dataclasses.astuple(e) for e in result.experiments]


# ------------------------------------------------------------------ statistics

def test_intervals():
    lo, hi = rve.wilson_interval(0, 20_000)
    assert lo == 0 and hi == pytest.approx(1.96**2 / (20_000 + 1.96**2), rel=1e-3)
    lo, hi = rve.wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    lo, hi = rve.poisson_rate_interval(0, 1000)
    assert lo == 0 and hi == pytest.approx(3.689 / 1000, rel=1e-3)
    lo, hi = rve.poisson_rate_interval(10, 1e6)
    assert lo == pytest.approx(4.795e-6, rel=1e-3) and hi == pytest.approx(1.839e-5,
                                                                         rel=1e-3)
    lo, hi = rve.rate_ratio_interval(20, 1e6, 20, 1e6)
    assert lo < 1 < hi and lo == pytest.approx(1 / hi, rel=1e-9)
    lo, hi = rve.rate_ratio_interval(5, 1e6, 0, 1e7)
    assert lo > 0 and math.isinf(hi)
    assert rve.rate_ratio_interval(0, 1e6, 0, 1e6) == (0.0, math.inf)


# ------------------------------------------------------------------ the CLI

def test_cli_settings_are_the_modules():
    command = cli.commands["experiment"].commands["rs-vs-evolution"]
    option = next(p for p in command.params if p.name == "setting")
    assert tuple(option.type.choices) == rve.SETTING_NAMES


def test_cli_runs_a_tiny_budget_and_prints_the_table():
    args = ["experiment", "rs-vs-evolution", "--setting", "linear_learn",
            "--experiments", "2", "--evaluations", "10000", "--seed", "3",
            "--set", "max_individuals=1000"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    for text in ("setting linear_learn", "random search", "evolution",
                 "95% interval", "evolution / random search", "difficulty",
                 "10,000", "2,000"):
        assert text in result.output, text
    result = CliRunner().invoke(cli, args + ["--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["setting"] == "linear_learn" and data["seed"] == 3
    assert data["random_search"]["programs"] == 10_000
    assert data["evolution"]["evaluations"] == 2000
    assert data["evolution"]["experiments"] == 2
    assert data["reference"]["learning_rate"] == 0.01
    assert data["random_search"]["interval"][0] == 0.0


@pytest.mark.parametrize(("args", "words"), [
    (["--setting", "bogus"], ["--setting", "bogus"]),
    (["--experiments", "0"], ["--experiments", "0"]),
    (["--evaluations", "-5"], ["--evaluations"]),
    (["--workers", "0"], ["--workers"]),
    (["--seed", "-1"], ["--seed"]),
    (["--config", "nope.toml"], ["nope.toml", "not found"]),
    (["--set", "max_individuals=10"], ["--set max_individuals=10", "population_size"]),
    (["--set", "population_size=x"], ["population_size", "integer"]),
    (["--setting", "affine", "--config", "configs/rs_vs_evolution.toml"],
     ["scalar_affine_regression_task"]),
    (["--setting", "linear_learn", "--config", "configs/rs_vs_evolution.toml"],
     ["Learn only", "setup_ops"]),
], ids=["setting", "experiments", "evaluations", "workers", "seed", "config",
        "max-individuals", "bad-value", "affine-on-linear", "learn-on-full"])
def test_cli_bad_options_give_one_line_errors(args, words):
    result = CliRunner().invoke(cli, ["experiment", "rs-vs-evolution", *args])
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1


def test_results_do_not_depend_on_the_worker_count():
    # Two spawned workers: the same blocks and experiments, in the same order.
    kwargs = dict(experiments=2, evaluations=20_000, seed=9,
                  overrides=("max_individuals=1000",))
    one = rve.run("linear", workers=1, **kwargs).to_dict()
    two = rve.run("linear", workers=2, **kwargs).to_dict()
    for d in (one, two):
        d.pop("workers")
        d["random_search"].pop("seconds")
        d["evolution"].pop("seconds")
    assert one == two
