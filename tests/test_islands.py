"""Islands, migration, workers and their failures (docs/semantics.md §11).

Oracles: uninterrupted runs (the result must not depend on the backend, the
worker count or a failure), independent evaluators on the same tasks, and
counts computed from the config.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from helpers import SMALL_SEARCH as SMALL
from helpers import comparable, outcome
from helpers import jsonl as lines
from helpers import small_search_config as small_config

import automl_zero as az
from automl_zero.config import config_from_dict, island_groups_of, load_config
from automl_zero.engine.evaluator import Evaluator
from automl_zero.engine.migration import migrants_per_island, migrate
from automl_zero.errors import ConfigError
from automl_zero.language.generator import linear_algorithm
from automl_zero.run import build
from automl_zero.run.driver import SearchDriver
from automl_zero.run.rundir import EVENTS, PROGRESS, RunDir
from automl_zero.run.workers import InProcessBackend, LocalBackend
from automl_zero.tasks import make_tasks

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LINEAR = str(ROOT / "configs" / "linear_integration.toml")

def plain_evaluator(cfg, tasks) -> Evaluator:
    """An evaluator independent of any island: the config's combination mode
    and error bound, no FEC, no hurdles (its seed only matters for programs
    with random ops, and the linear search space has none)."""
    return Evaluator(tasks, cfg.memory,
                     fitness_combination_mode=cfg.fitness_combination_mode,
                     max_abs_error=cfg.max_abs_error)


# --------------------------------------------------------------------------
# The pool's rule (engine/migration.py)
# --------------------------------------------------------------------------

@pytest.mark.parametrize(("population", "fraction", "expected"), [
    (100, 0.5, 50),     # the paper's half
    (100, 0.0, 0),      # no migration
    (100, 0.004, 1),    # 0.4 rounds to 0, but a positive fraction sends one
    (100, 0.001, 1),
    (100, 1.0, 100),    # the whole population
    (7, 3.0, 7),        # never more than the population
    (10, 0.26, 3),      # 2.6 -> 3
    (10, 0.24, 2),      # 2.4 -> 2
    (3, 0.9, 3),        # 2.7 -> 3
    (1000, 0.123, 123),
])
def test_migrants_per_island(population, fraction, expected):
    assert migrants_per_island(population, fraction) == expected


def _sent(sizes: list[int]) -> list[list[tuple[int, int]]]:
    """Island i's emigrants, labelled (i, j)."""
    return [[(i, j) for j in range(k)] for i, k in enumerate(sizes)]


@pytest.mark.parametrize("sizes", [[5, 5], [4, 4, 4], [3, 3, 3, 3, 3], [10, 1, 6]])
def test_migrate_sends_each_island_as_many_as_it_sent_from_the_others(sizes):
    sent = _sent(sizes)
    seen_sources: list[set[int]] = [set() for _ in sizes]
    for seed in range(30):
        arrivals = migrate(sent, np.random.default_rng(seed))
        assert len(arrivals) == len(sizes)
        for i, got in enumerate(arrivals):
            assert len(got) == sizes[i]
            assert all(src != i for src, _ in got)  # never its own
            pool = [m for j, s in enumerate(sent) if j != i for m in s]
            assert all(m in pool for m in got)
            if len(pool) >= sizes[i]:  # the pool lasts: no member twice
                assert len(set(got)) == len(got)
            seen_sources[i].update(src for src, _ in got)
    # Over many draws every other island contributes (the pool is all of them).
    for i in range(len(sizes)):
        assert seen_sources[i] == set(range(len(sizes))) - {i}


def test_migrate_is_deterministic_for_a_seeded_stream():
    sent = _sent([20, 20, 20])
    a = migrate(sent, np.random.default_rng(123))
    b = migrate(sent, np.random.default_rng(123))
    c = migrate(sent, np.random.default_rng(124))
    assert a == b
    assert a != c
    # The stream advances: two migrations in a row differ.
    rng = np.random.default_rng(5)
    assert migrate(sent, rng) != migrate(sent, rng)


def test_migrate_one_island_or_nothing_sent_means_no_arrivals():
    assert migrate(_sent([7]), np.random.default_rng(0)) == [[]]
    assert migrate([], np.random.default_rng(0)) == []
    # An island that sends nothing receives nothing; the others still trade.
    arrivals = migrate(_sent([0, 3, 3]), np.random.default_rng(0))
    assert arrivals[0] == []
    assert sorted(src for src, _ in arrivals[1]) == [2, 2, 2]
    assert sorted(src for src, _ in arrivals[2]) == [1, 1, 1]
    # Nobody else sent anything: nothing arrives (not the island's own).
    assert migrate(_sent([4, 0]), np.random.default_rng(0)) == [[], []]


def test_migrate_uses_the_whole_pool_before_repeating():
    sent = _sent([3, 2])  # island 0 wants 3, the others sent only 2
    for seed in range(20):
        got = migrate(sent, np.random.default_rng(seed))[0]
        assert len(got) == 3
        assert set(got) == {(1, 0), (1, 1)}, f"seed {seed}: {got}"


# --------------------------------------------------------------------------
# The island's hooks (engine/island.py)
# --------------------------------------------------------------------------

def _island(seed: int):
    cfg = small_config()
    tasks = make_tasks(cfg.search_tasks)
    island = build.island_on_tasks(cfg, tasks, np.random.SeedSequence(seed))
    island.initialize()
    island.step(100)
    return island, cfg, tasks


def _members(island) -> list:
    return [island.population.algorithm(i) for i in range(len(island.population.fitness))]


def test_emigrants_are_distinct_members_that_stay():
    island, cfg, _ = _island(4)
    before = _members(island)
    fitness = island.population.fitness.copy()
    individuals, steps = island.individuals, island.train_steps
    out = island.emigrants(30)
    assert len(out) == 30
    # A sub-multiset of the population: 30 distinct members (slots), not one
    # member drawn twice.
    assert not Counter(out) - Counter(before)
    # They stay: the population, its fitness and the counters are unchanged.
    assert _members(island) == before
    np.testing.assert_array_equal(island.population.fitness, fitness)
    assert (island.individuals, island.train_steps) == (individuals, steps)
    # More than the population: the whole population, once each.
    everyone = island.emigrants(cfg.population_size + 50)
    assert Counter(everyone) == Counter(before)


def test_immigrants_take_distinct_random_slots_with_fitness_from_this_island():
    island, cfg, tasks = _island(5)
    before = _members(island)
    fitness = island.population.fitness.copy()
    individuals = island.individuals
    arrivals = [linear_algorithm(lr) for lr in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)]
    assert not set(arrivals) & set(before)
    island.immigrate(arrivals)
    after = _members(island)
    changed = [i for i in range(len(before)) if after[i] != before[i]]
    assert len(changed) == len(arrivals)  # k distinct slots
    assert Counter(after[i] for i in changed) == Counter(arrivals)
    # The rest of the population is untouched, fitness included.
    keep = np.setdiff1d(np.arange(len(before)), changed)
    np.testing.assert_array_equal(island.population.fitness[keep], fitness[keep])
    # Each arrival's fitness is its fitness on this island's tasks, as an
    # independent evaluator on the same tasks finds it.
    oracle = plain_evaluator(cfg, tasks)
    for i in changed:
        assert island.population.fitness[i] == pytest.approx(
            oracle.evaluate(after[i]), rel=1e-12, abs=1e-12)
    # Arrivals are not new individuals.
    assert island.individuals == individuals
    # The slots are random (the island's own stream), not fixed ones.
    other, _, _ = _island(6)
    old = _members(other)
    other.immigrate(arrivals)
    assert [i for i, a in enumerate(_members(other)) if a != old[i]] != changed


# --------------------------------------------------------------------------
# Runs of several islands
# --------------------------------------------------------------------------

def expected_migrations(cfg) -> int:
    """Migration j happens once each island has had j * migration_every
    children, rounded up to a whole batch, if the islands still search then
    (none does after the batch that ends the experiment)."""
    children = cfg.max_individuals - cfg.population_size
    m, b = cfg.migration_every, cfg.batch_size
    j = 0
    while -(-(j + 1) * m // b) * b < children:
        j += 1
    return j


@pytest.mark.parametrize(("max_individuals", "every", "expected"), [
    (2000, 500, 3),   # 1900 children: after 500, 1000, 1500
    (2100, 500, 3),   # 2000 children: at 2000 no island searches any more
    (2125, 500, 4),   # 2025 children: the last batch has 25
    (2000, 475, 3),   # rounded up to whole batches: 500, 950, 1450
    (2000, 5000, 0),  # never within the budget
])
def test_migrations_happen_every_migration_every_children(max_individuals, every,
                                                          expected):
    cfg = small_config("islands=2", f"max_individuals={max_individuals}",
                       f"migration_every={every}")
    assert expected_migrations(cfg) == expected
    records, events = [], []
    SearchDriver(cfg, None, 3, progress=records.append, on_event=events.append).run()
    assert records[-1].migrations == expected
    assert [e["migrations"] for e in events if e["event"] == "experiment_end"] == [
        expected]
    # The count grows by one at a time, at the points above.
    counts = [r.migrations for r in records]
    assert counts == sorted(counts) and set(counts) <= set(range(expected + 1))


def test_islands_run_the_same_in_process_and_on_local_workers(tmp_path):
    cfg = small_config("islands=3", "migration_every=500")
    assert expected_migrations(cfg) == 3  # 1900 children per island
    one = az.search(cfg, seed=7, out=tmp_path / "one", workers=1)
    two = az.search(cfg, seed=7, out=tmp_path / "two", workers=2)
    assert (one.backend, one.workers) == ("in-process", 1)
    assert (two.backend, two.workers) == ("local", 2)
    assert outcome(one) == outcome(two)
    assert comparable(tmp_path / "one" / PROGRESS) == comparable(tmp_path / "two" / PROGRESS)
    last = lines(tmp_path / "one" / PROGRESS)[-1]
    assert last["islands"] == 3
    assert last["migrations"] == expected_migrations(cfg)
    ends = [e for e in lines(tmp_path / "two" / EVENTS) if e["event"] == "experiment_end"]
    assert [e["migrations"] for e in ends] == [expected_migrations(cfg)]
    assert ends[0]["island"] in range(3)
    # Migration changes the run (arrivals are evaluated: more train steps,
    # other populations), so the comparison above did cover it.
    alone = az.search(small_config("islands=3"), seed=7, workers=1)
    assert alone.total_train_steps != one.total_train_steps
    assert alone.total_individuals == one.total_individuals


def test_one_island_is_the_run_without_islands(tmp_path):
    plain = az.search(small_config(), seed=3, out=tmp_path / "plain")
    one = az.search(small_config("islands=1", "migration_every=500"), seed=3,
                    out=tmp_path / "one")
    assert outcome(one) == outcome(plain)
    assert comparable(tmp_path / "one" / PROGRESS) == comparable(
        tmp_path / "plain" / PROGRESS)
    records = lines(tmp_path / "one" / PROGRESS)
    assert records and all(r["islands"] == 1 and r["migrations"] == 0 for r in records)


def test_budgets_are_per_island():
    m = 2000
    cfg = small_config("islands=3", f"max_individuals={m}", "migration_every=700")
    backend = InProcessBackend()  # stays open: its islands can be inspected
    records = []
    result = SearchDriver(cfg, None, 9, progress=records.append, backend=backend).run()
    assert result.total_individuals == 3 * m
    assert [i.individuals for _, i in sorted(backend.host.islands.items())] == [m] * 3
    assert records[-1].individuals == 3 * m
    assert records[-1].budget == "max_individuals" and records[-1].budget_used == 1.0
    assert records[-1].migrations == expected_migrations(cfg) == 2


def test_train_step_budget_is_per_island_and_island_zero_is_the_lone_island():
    """Island i is seeded with child i of SeedSequence([seed, 2, e]).spawn(W);
    child 0 does not depend on W, so without migration island 0 of a 2-island
    run is exactly the lone island of a 1-island run."""
    steps = 1_500_000
    base = ("max_individuals=0", f"max_train_steps={steps}")
    lone_backend, pair_backend = InProcessBackend(), InProcessBackend()
    lone = SearchDriver(small_config(*base), None, 4, backend=lone_backend).run()
    pair = SearchDriver(small_config(*base, "islands=2"), None, 4,
                        backend=pair_backend).run()
    islands = [pair_backend.host.islands[i] for i in (0, 1)]
    alone = lone_backend.host.islands[0]
    for island in islands:
        assert island.train_steps >= steps
    assert (islands[0].individuals, islands[0].train_steps) == (
        alone.individuals, alone.train_steps)
    assert islands[0].best()[1] == alone.best()[1]
    assert lone.total_train_steps == alone.train_steps
    assert pair.total_train_steps == sum(i.train_steps for i in islands)
    assert pair.total_individuals == sum(i.individuals for i in islands)


def test_a_finished_islands_report_carries_its_best_member():
    """A finished island's last report stands in for its later progress
    points; it must carry the best member like the reports taken at points,
    or T_select checks would depend on which report the driver happened to
    get (a worker's round length: timing)."""
    cfg = small_config("islands=2", "max_individuals=0", "max_train_steps=300000")
    backend = InProcessBackend()
    SearchDriver(cfg, None, 4, backend=backend).run()
    reports = backend.host.reports()
    assert all(r.done for r in reports)
    for r in reports:
        best = backend.host.islands[r.island].best()
        assert r.best_algorithm is not None and r.best_algorithm == best[1]


def test_progress_records_stop_when_every_island_has_finished():
    """Islands that spent their budgets report their last state for later
    points; once all have, no more records repeat that state."""
    cfg = small_config("islands=3", "max_individuals=0", "max_train_steps=400000",
                       "progress_every=100")
    records = []
    SearchDriver(cfg, None, 4, progress=records.append, backend=InProcessBackend()).run()
    points = [(r.experiment, r.individuals) for r in records]
    assert len(points) == len(set(points)), points


# --------------------------------------------------------------------------
# Island groups (mixed task collections)
# --------------------------------------------------------------------------

def _linear_dict() -> dict:
    with open(LINEAR, "rb") as f:
        data = tomllib.load(f)
    data.update(population_size=100, max_individuals=1500, progress_every=500,
                batch_size=50)
    for name in ("select_tasks", "final_tasks"):
        data[name][0].update(num_tasks=10, num_train_examples=1000)
    return data


def _grouped_dict(islands: int = 4) -> dict:
    data = _linear_dict()
    linear = data.pop("search_tasks")[0]
    affine = dict(linear, task_type="scalar_affine_regression_task", num_tasks=8)
    data.update(islands=islands, migration_every=500, island_groups=[
        {"fraction": 0.5, "search_tasks": [linear]},
        {"fraction": 0.5, "search_tasks": [affine]}])
    return data


def test_island_groups_search_their_own_tasks_and_select_on_t_select():
    data = _grouped_dict()
    data.pop("fec")  # search fitness then equals a plain evaluation exactly
    cfg = config_from_dict(data)
    assert cfg.island_group_of() == (0, 0, 1, 1)
    backend = InProcessBackend()
    events = []
    result = SearchDriver(cfg, None, 21, on_event=events.append, backend=backend).run()
    assert result.total_individuals == 4 * 1500
    group_tasks = [make_tasks(g) for g in cfg.search_groups()]
    bests = [backend.host.islands[i].best() for i in range(4)]
    differs = False
    for i, (fitness, alg) in enumerate(bests):
        own, other = group_tasks[cfg.island_group_of()[i]], group_tasks[
            1 - cfg.island_group_of()[i]]
        # Each island's fitness is measured on its own group's tasks ...
        assert fitness == pytest.approx(plain_evaluator(cfg, own).evaluate(alg),
                                        rel=1e-12, abs=1e-12)
        differs |= fitness != plain_evaluator(cfg, other).evaluate(alg)
    assert differs  # ... which are not the other group's
    # The candidate: the islands' bests, the best of them on T_select.
    select = plain_evaluator(cfg, make_tasks(cfg.select_tasks))
    scores = [select.evaluate(alg) for _, alg in bests]
    winner = int(np.argmax(scores))
    (end,) = [e for e in events if e["event"] == "experiment_end"]
    assert end["island"] == winner
    assert end["select_fitness"] == pytest.approx(scores[winner], rel=1e-12)
    assert end["search_fitness"] == bests[winner][0]
    assert result.best_algorithm == bests[winner][1]
    assert end["migrations"] == expected_migrations(cfg)


def test_island_groups_partition_the_islands():
    assert island_groups_of(4, [0.5, 0.5]) == (0, 0, 1, 1)
    assert island_groups_of(3, [0.5, 0.5]) in ((0, 0, 1), (0, 1, 1))
    assert island_groups_of(4, [0.25, 0.75]) == (0, 1, 1, 1)
    assert island_groups_of(3, [0.1, 0.9]) == (0, 1, 1)  # at least one each
    assert island_groups_of(10, [0.05, 0.05, 0.9]) == (0, 1) + (2,) * 8
    assert island_groups_of(1, [1.0]) == (0,)
    with pytest.raises(ValueError, match="cannot hold"):
        island_groups_of(1, [0.5, 0.5])


def _refused(data: dict, *words: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict(data, "grouped.toml")
    message = str(err.value)
    assert message.startswith("grouped.toml")
    for word in words:
        assert word in message, message


def test_island_group_config_errors_name_the_key():
    config_from_dict(_grouped_dict())  # the base is valid
    data = _grouped_dict()
    data["island_groups"][1]["fraction"] = 0.4
    _refused(data, "island_groups", "add up to 1", "0.9")
    data = _grouped_dict()
    data["search_tasks"] = copy.deepcopy(data["island_groups"][0]["search_tasks"])
    _refused(data, "search_tasks", "island_groups")
    _refused(_grouped_dict(islands=1), "islands", "island_groups")
    data = _grouped_dict()
    data["island_groups"][1]["search_tasks"][0]["features_size"] = 8
    _refused(data, "island_groups", "features_size")
    data = _grouped_dict()
    del data["island_groups"][0]["fraction"]
    _refused(data, "island_groups[0]", "fraction")
    data = _grouped_dict()
    data["island_groups"][1]["search_tasks"] = []
    _refused(data, "island_groups[1].search_tasks")
    data = _grouped_dict()
    data["island_groups"][0]["fraction"] = 0.0
    _refused(data, "island_groups[0].fraction")
    data = _linear_dict()
    data["islands"] = 0
    _refused(data, "islands")
    data = _linear_dict()
    data["migration_fraction"] = 1.5
    _refused(data, "migration_fraction")


# --------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------

def test_a_killed_worker_is_replaced_and_the_result_is_unchanged(tmp_path):
    cfg = small_config("islands=2", "max_individuals=20000", "migration_every=1500")
    full = az.search(cfg, seed=13, out=tmp_path / "full", workers=1)
    backend = LocalBackend(2)
    killed: list[int] = []
    events: list[dict] = []
    records = []

    def kill_once(record) -> None:
        records.append(record)
        if len(records) == 2 and not killed:
            killed.append(backend.pids[0])
            os.kill(killed[0], signal.SIGKILL)

    try:
        with RunDir.create(tmp_path / "cut") as run_dir:
            result = SearchDriver(cfg, run_dir, 13, progress=kill_once,
                                  on_event=events.append, checkpoint_every_s=0.2,
                                  backend=backend).run()
        assert killed and killed[0] not in backend.pids  # replaced
        assert all(_alive(p) for p in backend.pids)
    finally:
        backend.close()
    restarts = [e for e in events if e["event"] == "worker_restarted"]
    assert len(restarts) == 1 and restarts[0]["workers"] == [0]
    on_disk = [e for e in lines(tmp_path / "cut" / EVENTS)
               if e["event"] == "worker_restarted"]
    assert len(on_disk) == 1
    assert outcome(result) == outcome(full)
    assert comparable(tmp_path / "cut" / PROGRESS) == comparable(
        tmp_path / "full" / PROGRESS)
    kinds = [e["event"] for e in lines(tmp_path / "cut" / EVENTS)]
    assert kinds.count("experiment_end") == 1 and kinds.count("run_end") == 1
    assert result.stopped_by == full.stopped_by == "max_experiments"
    assert not any(_alive(p) for p in killed)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)] = stat[1]
    out: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - out
        out |= frontier
    return out


def test_killed_driver_resumes_to_the_same_result_on_other_workers(tmp_path):
    out = tmp_path / "run"
    extra = ["max_individuals=50000", "migration_every=2000"]
    args = [sys.executable, "-m", "automl_zero", "search", LINEAR, "--out", str(out),
            "--seed", "11", "--checkpoint-every", "0.2", "--islands", "2",
            "--workers", "2"] + [a for s in SMALL + extra for a in ("--set", s)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    workers: set[int] = set()
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            workers |= _descendants(proc.pid)
            ckpt = out / "checkpoint.json"
            if ckpt.exists():
                try:
                    state = json.loads(ckpt.read_text())
                except ValueError:  # being replaced
                    state = {}
                exp = state.get("experiment")
                if exp and exp["islands"][1]["individuals"] >= 3000:
                    break
            time.sleep(0.05)
        workers |= _descendants(proc.pid)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert len(workers) >= 2  # the two worker processes were seen
        # The workers notice their driver is gone and end.
        deadline = time.time() + 15
        while time.time() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        orphans = sorted(p for p in workers if _alive(p))
        assert not orphans, f"worker processes survived their driver: {orphans}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
        for pid in workers:  # never leave them behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert not (out / "result.json").exists()
    resumed = az.resume(out, workers=1)
    assert resumed.workers == 1
    full = az.search(small_config("islands=2", *extra), seed=11,
                     out=tmp_path / "full", workers=2)
    assert outcome(resumed) == outcome(full)
    assert comparable(out / PROGRESS) == comparable(tmp_path / "full" / PROGRESS)
    saved = json.loads((out / "result.json").read_text())
    assert saved["total_individuals"] == 2 * 50000 == full.total_individuals


# --------------------------------------------------------------------------
# The CLI's options
# --------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "words"), [
    (["search", LINEAR, "--islands", "0"], ["--islands", "0"]),
    (["search", LINEAR, "--workers", "0"], ["--workers", "0"]),
    (["search", LINEAR, "--backend", "nope"], ["--backend", "nope", "local", "ray"]),
    (["search", LINEAR, "--address", "127.0.0.1:1"], ["--address", "ray"]),
    (["resume", "RUN", "--workers", "0"], ["--workers", "0"]),
    (["resume", "RUN", "--backend", "nope"], ["--backend", "nope"]),
], ids=["islands0", "workers0", "backend", "address-without-ray", "resume-workers0",
        "resume-backend"])
def test_cli_refuses_bad_island_and_worker_options(tmp_path, args, words):
    from click.testing import CliRunner

    from automl_zero.run.cli import cli

    args = [str(tmp_path / "run") if a == "RUN" else a for a in args]
    if args[0] == "search":
        args += ["--out", str(tmp_path / "out")]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2, r.output
    for word in words:
        assert word in r.output, r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "out" / "progress.jsonl").exists()


def test_select_every_ends_the_experiment_at_the_passing_point(tmp_path):
    # The demo (4 islands, T_select checked every 10,000 individuals): seed 6
    # finds linear regression early. The run stops at the first passing check,
    # with the counts of that point, the same on 1 and 2 workers.
    cfg = load_config("configs/demo_linear.toml", ["max_experiments=2"])
    assert cfg.islands == 4 and cfg.select_every == 10000
    runs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        runs.append(az.search(cfg, seed=6, out=out, workers=workers))
        events = lines(out / EVENTS)
        checks = [e for e in events if e["event"] == "select_check"]
        end = [e for e in events if e["event"] == "experiment_end"]
        assert checks and checks[-1]["passed"]
        assert not any(c["passed"] for c in checks[:-1])
        assert end[-1]["reason"] == "sufficient_fitness" and end[-1]["passed"]
        # ended at the check's point, not where the workers had got to
        assert end[-1]["individuals"] == checks[-1]["individuals"]
        # checks fall on progress records: initial populations + whole records
        initial = cfg.islands * cfg.population_size
        assert all((c["individuals"] - initial) % cfg.progress_every == 0 for c in checks)
        # an island budget of 5e7 train steps was not spent
        assert end[-1]["train_steps"] < cfg.islands * cfg.max_train_steps
    assert runs[0].stopped_by == "sufficient_fitness"
    assert outcome(runs[0]) == outcome(runs[1])
    assert comparable(tmp_path / "w1" / PROGRESS) == comparable(
        tmp_path / "w2" / PROGRESS)
