"""Integration: a search finds it (slow: ``pytest -m slow``, which CI runs).

Each test runs the search of a shipped config with several seeds and asserts
that at least k of n succeed: whether one seed succeeds is a property of the
random streams (any change to them moves it), k of n is a property of the
method. k and n come from measured per-seed success rates (in each test's
docstring), so that a correct implementation fails with a probability of
about 0.1% at the measured rate and still below about 1% at a clearly lower
one. Seeds are started in order, one worker process per CPU
(``helpers.search_workers``); the test stops as soon as k succeeded or k is
out of reach, so a passing run takes a fraction of the worst case.

Measurements: 2-vCPU VM, numba code cached, two seeds at a time, while other
processes shared the machine (times are upper estimates).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import k_of_n_searches

import automl_zero as az

pytestmark = pytest.mark.slow

DEMO = "configs/demo_linear.toml"
LINEAR = "configs/linear_integration.toml"
NONLINEAR = "configs/nonlinear_integration.toml"
QUIET = "progress_every=1000000000"


def _check(ok: bool, lines: list[str]) -> None:
    report = "\n".join(lines)
    print(report)  # shown with -s or -rP: the per-seed record of a pass too
    assert ok, report


DEMO_TIME_LIMIT_S = 60  # per seed
DEMO_SEEDS = range(1, 8)
DEMO_K = 2


def test_demo_finds_an_algorithm_passing_t_select(tmp_path):
    """run_demo.sh: regularized evolution from random programs, experiments
    (2e8 train steps each, ~6-10 s, fresh tasks) until the best algorithm's
    T_select fitness exceeds 0.9999 (linear regression by gradient descent);
    it must then reach 0.999 on T_final (100 unseen tasks; 0.9999 is the
    selection threshold, not a promise about other tasks).

    Measured: about 1 experiment in 4 succeeds; time to T_select over 36
    seeds: median 28 s, 6-104 s, one over 120 s; within 60 s: 81% (79% of 24
    seeds with the current engine, 83% of 12 with the previous one). 2 of 7
    seeds with 60 s each fail with probability 0.04% at 80%, 0.9% at 65%.
    Typical run ~30 s; worst (a failure) 7 x 60 s / workers."""
    def success(r):
        # A time limit hit mid-experiment selects that experiment's best: it
        # counts too if it passes T_select.
        ok = (r.select_fitness > 0.9999 and r.final_fitness is not None
              and r.final_fitness >= 0.999)
        return ok, ""

    _check(*k_of_n_searches(DEMO, DEMO_SEEDS, DEMO_K, success, tmp_path,
                            [QUIET, f"time_limit_seconds={DEMO_TIME_LIMIT_S}"]))


LINEAR_SEEDS = range(1, 49)
LINEAR_K = 1


def test_linear_integration_finds_linear_regression(tmp_path):
    """run_integration_test_linear.sh: one experiment of 1e8 train steps
    (~330k individuals, ~4 s) from random 5/1/4-instruction programs over the
    four ops of SGD linear regression; success is linear regression by SGD,
    T_final fitness >= 0.9999 (the original reports 1.000000).

    The space is a needle in a haystack: one experiment finds it for 16 of
    120 seeds measured (13%: 11 of 80 with the current engine, 5 of 40 with
    the previous one). 1 of 48 seeds fails with probability 0.1% at 13%, 1.1% at
    9%. Typical run ~15-30 s; worst (a failure) 48 x 4 s / workers."""
    def success(r):
        return r.final_fitness is not None and r.final_fitness >= 0.9999, ""

    _check(*k_of_n_searches(LINEAR, LINEAR_SEEDS, LINEAR_K, success, tmp_path, [QUIET]))


NONLINEAR_SEEDS = range(1, 9)
NONLINEAR_K = 2
NONLINEAR_INITS = 20  # random initialisations the found algorithm is trained from
NONLINEAR_MEDIAN = 0.98


def test_nonlinear_integration_reinvents_the_initialisation(tmp_path):
    """run_integration_test_nonlinear.sh: the hand-designed 2-layer network
    with its weight initialisation removed; only Setup mutates (Gaussian
    initialisation ops), so evolution has to re-invent the initialisation
    (one experiment, ~10 s).

    T_select and T_final each train the found algorithm from one random
    initialisation, which diverges for some draws even when the algorithm is
    good: a single draw of T_final >= 0.99 held for 21 of 40 seeds (the old
    single-seed test needed a seed whose draws happened to work). Success
    here: trained from NONLINEAR_INITS random initialisations on the T_final
    task, the median fitness is >= NONLINEAR_MEDIAN. That is bimodal: the
    medians are 0.983-0.997 or 0.0; >= 0.98 for 52 of 70 seeds (74%: 32 of 40
    with the current engine, 20 of 30 with the previous one). 2 of 8 seeds
    fail with probability 0.05% at 74%, 0.85% at 60%. Typical run ~12 s;
    worst 8 x 10 s / workers."""
    cfg = az.load_config(NONLINEAR)
    tasks = az.make_tasks(cfg.final_tasks)

    def success(r):
        fitness = [az.Evaluator(tasks, cfg.memory, max_abs_error=cfg.max_abs_error,
                                seed=1000 + i).evaluate(r.best_algorithm)
                   for i in range(NONLINEAR_INITS)]
        median = float(np.median(fitness))
        trained = sum(f >= 0.9 for f in fitness)
        return (median >= NONLINEAR_MEDIAN,
                f"T_final over {NONLINEAR_INITS} initialisations: median "
                f"{median:.4f}, {trained} >= 0.9")

    _check(*k_of_n_searches(NONLINEAR, NONLINEAR_SEEDS, NONLINEAR_K, success, tmp_path,
                            [QUIET]))
