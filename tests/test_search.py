"""The search driver: determinism, events, checkpoint/resume, budgets, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import automl_zero as az
from automl_zero.config import load_config
from automl_zero.engine.evolution import RegularizedEvolution, population_stats
from automl_zero.engine.mutator import Mutator
from automl_zero.language.generator import no_op_algorithm
from automl_zero.run.driver import SearchDriver
from automl_zero.run.rundir import EVENTS, PROGRESS, RunDir

LINEAR = "configs/linear_integration.toml"

# A small, fast variant of the linear integration test.
SMALL = ["population_size=100", "max_individuals=3000", "progress_every=500",
         "select_tasks.0.num_tasks=10", "final_tasks.0.num_tasks=10",
         "select_tasks.0.num_train_examples=1000",
         "final_tasks.0.num_train_examples=1000", "batch_size=50"]


def small_config(*extra: str):
    return load_config(LINEAR, SMALL + list(extra))


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_tournament_and_ageing():
    mutator = Mutator(["IDENTITY_MUTATION_TYPE"], 1.0, ((0,), (), ()))
    evo = RegularizedEvolution(5, 3, mutator)
    algs = [no_op_algorithm(i + 1, 0, 0) for i in range(5)]
    state = evo.init(algs, np.array([0.1, 0.5, 0.3, 0.5, 0.2]))
    rng = np.random.default_rng(0)
    n = 20000
    counts = np.bincount(evo.select(state, rng, n), minlength=5) / n
    # T=3 draws with replacement: the best drawn wins, the first drawn of a tie.
    expected = [1 / 125, 0.392, 27 / 125 - 8 / 125, 0.392, 8 / 125 - 1 / 125]
    np.testing.assert_allclose(counts, expected, atol=0.015)
    draws = np.random.default_rng(1).integers(0, 5, size=(1, 3))
    winner = evo.select(state, np.random.default_rng(1), 1)[0]
    best = max(state.fitness[d] for d in draws[0])
    assert winner == next(d for d in draws[0] if state.fitness[d] == best)
    # children replace the oldest slots in order, cyclically
    evo.tell(state, [no_op_algorithm(9, 0, 0)] * 7, [0.9] * 7)
    assert state.next_slot == 2 and state.num_individuals == 12
    assert all(f == 0.9 for f in state.fitness)
    mean, stdev, best, idx = population_stats(np.array([0.2, 0.4, 0.4]))
    assert best == 0.4 and idx == 1 and mean == pytest.approx(1 / 3)
    assert stdev == pytest.approx(np.std([0.2, 0.4, 0.4]))


def test_same_seed_same_run(tmp_path):
    """Determinism regression: the same config and seed give the same run."""
    a = az.search(small_config(), seed=7, out=tmp_path / "a")
    b = az.search(small_config(), seed=7, out=tmp_path / "b")
    c = az.search(small_config(), seed=8, out=tmp_path / "c")
    assert a.best_algorithm == b.best_algorithm
    assert (a.search_fitness, a.select_fitness, a.final_fitness, a.total_train_steps) \
        == (b.search_fitness, b.select_fitness, b.final_fitness, b.total_train_steps)
    progress_a = lines(tmp_path / "a" / PROGRESS)
    assert [r["best"] for r in progress_a] == [
        r["best"] for r in lines(tmp_path / "b" / PROGRESS)]
    assert a.total_train_steps != c.total_train_steps
    result = json.loads((tmp_path / "a" / "result.json").read_text())
    assert result["seed"] == 7 and "version" in result
    assert (tmp_path / "a" / "best_algorithm.txt").exists()
    # Without a run directory the run is the same, and nothing is written.
    d = az.search(small_config(), seed=7)
    assert d.best_algorithm == a.best_algorithm
    assert d.total_train_steps == a.total_train_steps


def test_events_tell_the_story(tmp_path):
    az.search(small_config("max_experiments=2", "sufficient_fitness=0.99999"), seed=3,
              out=tmp_path)
    events = lines(tmp_path / EVENTS)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "experiment_start" and kinds[-1] == "run_end"
    ends = [e for e in events if e["event"] == "experiment_end"]
    assert [e["experiment"] for e in ends] == [0, 1]
    for end in ends:
        assert end["reason"] == "max_individuals"
        assert end["individuals"] == 3000
        assert 0 <= end["select_fitness"] <= 1
        assert "sufficient_fitness" in end["why"]
    # best_changed events are increasing within an experiment and end at the
    # experiment's best search fitness.
    for exp in (0, 1):
        changes = [e["fitness"] for e in events
                   if e["event"] == "best_changed" and e["experiment"] == exp]
        assert changes == sorted(changes) and len(set(changes)) == len(changes)
        assert changes[-1] == ends[exp]["search_fitness"]
    progress = lines(tmp_path / PROGRESS)
    assert all(r["budget"] == "max_individuals" for r in progress)
    assert all(0 <= r["fec_hit_rate"] <= 1 for r in progress)


def test_fec_off_reports_no_hit_rate(tmp_path):
    cfg = load_config("configs/demo_linear.toml",
                      ["max_individuals=1200", "progress_every=200", "max_experiments=1"])
    cfg = type(cfg)(**{**cfg.__dict__, "fec": None})
    az.search(cfg, seed=1, out=tmp_path)
    assert all(r["fec_hit_rate"] is None for r in lines(tmp_path / PROGRESS))


def test_interrupted_run_resumes_to_the_same_result(tmp_path):
    full = az.search(small_config(), seed=11, out=tmp_path / "full")
    calls = []

    def interrupt(record) -> None:
        calls.append(record)
        if len(calls) == 3:
            driver.request_stop()

    with RunDir.create(tmp_path / "cut") as run_dir:
        driver = SearchDriver(small_config(), run_dir, seed=11, progress=interrupt)
        stopped = driver.run()
    assert stopped.stopped_by == "interrupted"
    assert (tmp_path / "cut" / "best_algorithm.txt").exists()
    assert not (tmp_path / "cut" / "result.json").exists()
    resumed = az.resume(tmp_path / "cut")
    assert resumed.best_algorithm == full.best_algorithm
    assert resumed.final_fitness == full.final_fitness
    assert resumed.total_individuals == full.total_individuals
    assert resumed.total_train_steps == full.total_train_steps

    def comparable(path: Path) -> list[dict]:
        timing = ("elapsed_s", "individuals_per_s")
        return [{k: v for k, v in r.items() if k not in timing} for r in lines(path)]

    assert comparable(tmp_path / "cut" / PROGRESS) == comparable(
        tmp_path / "full" / PROGRESS)
    kinds = [e["event"] for e in lines(tmp_path / "cut" / EVENTS)]
    assert kinds.count("experiment_start") == 1 and kinds.count("run_end") == 1


def test_random_search_uses_the_same_budget(tmp_path):
    cfg = small_config("method=RANDOM_SEARCH", "max_individuals=2000")
    result = az.search(cfg, seed=3, out=tmp_path)
    assert result.total_individuals == 2000
    assert result.best_algorithm is not None
    progress = lines(tmp_path / PROGRESS)
    assert progress[-1]["mean"] is None and progress[-1]["stdev"] is None


def test_max_train_steps_stops_an_experiment(tmp_path):
    cfg = small_config("max_individuals=0", "max_train_steps=2000000")
    result = az.search(cfg, seed=5, out=tmp_path)
    assert result.total_train_steps >= 2_000_000
    assert result.total_train_steps < 2_000_000 + 50 * 10 * 1000  # one batch over


def test_sigkill_then_resume_via_cli(tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "automl_zero", "search", LINEAR, "--out", str(out),
            "--seed", "11", "--checkpoint-every", "0.2"] + [
        a for s in SMALL for a in ("--set", s)]
    env = dict(os.environ, PYTHONPATH=str(Path.cwd()))
    proc = subprocess.Popen(args + ["--set", "max_individuals=150000"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline:
        ckpt = out / "checkpoint.json"
        if ckpt.exists():
            state = json.loads(ckpt.read_text())
            exp = state["experiment"]
            if exp is not None and exp["islands"][0]["individuals"] >= 1000:
                break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "result.json").exists()
    done = subprocess.run([sys.executable, "-m", "automl_zero", "resume", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "final fitness" in done.stdout
    resumed = json.loads((out / "result.json").read_text())
    full = az.search(small_config("max_individuals=150000"), seed=11,
                     out=tmp_path / "full")
    assert resumed["final_fitness"] == full.final_fitness
    assert resumed["total_individuals"] == full.total_individuals


def test_bad_search_arguments(tmp_path):
    from click.testing import CliRunner

    from automl_zero.run.cli import cli

    r = CliRunner().invoke(cli, ["search", LINEAR, "--set", "batch_size=0",
                                 "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--set batch_size=0: batch_size: must be >= 1" in r.output
    r = CliRunner().invoke(cli, ["resume", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "no such run directory" in r.output
    az.search(small_config("max_individuals=200"), seed=1, out=tmp_path / "done")
    r = CliRunner().invoke(cli, ["resume", str(tmp_path / "done")])
    assert r.exit_code == 2 and "has finished" in r.output
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "checkpoint.json").write_text("{not json")
    r = CliRunner().invoke(cli, ["resume", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "checkpoint.json: corrupt" in r.output
    assert len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_ctrl_c_checkpoints_and_prints_the_best(tmp_path, sig):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(Path.cwd()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl_zero", "search", LINEAR, "--out", str(out),
         "--seed", "1", "--set", "progress_every=1000"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "progress.jsonl").exists():
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted" in stdout and "best algorithm so far:" in stdout
    state = json.loads((out / "checkpoint.json").read_text())
    assert state["experiment"]["islands"][0]["individuals"] >= 1000 and not state["done"]
    assert (out / "best_algorithm.txt").exists()
