"""Run directories that nothing can corrupt: one process at a time, stale
files refused, OS errors as one line with the last good checkpoint kept,
checkpoints validated in full, the user's umask."""

from __future__ import annotations

import copy
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import automl_zero as az
from automl_zero.config import load_config
from automl_zero.errors import AutoMLZeroError
from automl_zero.run.cli import cli
from automl_zero.run.driver import SearchDriver
from automl_zero.run.rundir import CHECKPOINT, RunDir, RunDirError

LINEAR = "configs/linear_integration.toml"
SMALL = ["population_size=50", "max_individuals=600", "progress_every=200",
         "select_tasks.0.num_tasks=5", "final_tasks.0.num_tasks=5",
         "select_tasks.0.num_train_examples=500", "final_tasks.0.num_train_examples=500",
         "batch_size=50"]


def small_config(*extra: str):
    return load_config(LINEAR, SMALL + list(extra))


def interrupted_run(path: Path, after: int = 2) -> dict:
    """A run stopped after ``after`` progress records; returns its checkpoint."""
    calls = []

    def stop(record) -> None:
        calls.append(record)
        if len(calls) == after:
            driver.request_stop()

    with RunDir.create(path) as run_dir:
        driver = SearchDriver(small_config(), run_dir, seed=2, progress=stop)
        assert driver.run().stopped_by == "interrupted"
    return json.loads((path / CHECKPOINT).read_text())


def test_a_run_directory_is_held_by_one_process(tmp_path):
    with RunDir.create(tmp_path / "run"):
        with pytest.raises(RunDirError, match="in use by another search"):
            RunDir.create(tmp_path / "run")
        # Another process is refused at once too, with exit status 2.
        r = subprocess.run([sys.executable, "-m", "automl_zero", "search", LINEAR,
                            "--out", str(tmp_path / "run")], capture_output=True,
                           text=True, timeout=120,
                           env=dict(os.environ, PYTHONPATH=str(Path.cwd())))
        assert r.returncode == 2
        assert f"{tmp_path / 'run'} is in use by another search (process " \
            f"{os.getpid()})" in r.stderr
        assert "Traceback" not in r.stderr
    RunDir.create(tmp_path / "run").close()  # released


def test_resume_while_running_is_refused(tmp_path):
    interrupted_run(tmp_path / "run")
    with RunDir.open(tmp_path / "run"):
        r = CliRunner().invoke(cli, ["resume", str(tmp_path / "run")])
        assert r.exit_code == 2 and "in use by another search" in r.output


def test_stale_files_without_a_checkpoint_are_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "progress.jsonl").write_text('{"experiment": 0}\n')
    r = CliRunner().invoke(cli, ["search", LINEAR, "--out", str(out)])
    assert r.exit_code == 2
    assert "holds files of another run (progress.jsonl)" in r.output
    assert (out / "progress.jsonl").read_text() == '{"experiment": 0}\n'


def test_a_finished_or_running_run_is_not_overwritten(tmp_path):
    az.search(small_config(), seed=1, out=tmp_path / "run")
    before = (tmp_path / "run" / "result.json").read_text()
    with pytest.raises(RunDirError, match="already holds a run"):
        az.search(small_config(), seed=2, out=tmp_path / "run")
    assert (tmp_path / "run" / "result.json").read_text() == before


@pytest.mark.parametrize("command", ["search", "resume"])
def test_os_errors_are_one_line(tmp_path, command):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    args = ["search", LINEAR, "--out", str(a_file)] if command == "search" else [
        "resume", str(a_file)]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2
    assert str(a_file) in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_a_full_disk_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run"
    good = interrupted_run(path)
    before = (path / CHECKPOINT).read_text()

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with RunDir.open(path) as run_dir:
        driver = SearchDriver.resume(run_dir)
        monkeypatch.setattr(os, "fsync", no_space)
        with pytest.raises(RunDirError, match="checkpoint.json: cannot write "
                                              r"\(No space left on device\)"):
            driver._checkpoint()
    assert (path / CHECKPOINT).read_text() == before
    assert json.loads(before) == good
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    assert az.resume(path).stopped_by != "interrupted"


def test_output_files_get_the_users_umask(tmp_path):
    old = os.umask(0o027)
    try:
        az.search(small_config(), seed=1, out=tmp_path / "run")
    finally:
        os.umask(old)
    for name in ("checkpoint.json", "result.json", "config.json", "best_algorithm.txt"):
        mode = stat.S_IMODE((tmp_path / "run" / name).stat().st_mode)
        assert mode == 0o640, (name, oct(mode))


# --------------------------------------------------------------------------
# Checkpoint validation
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> dict:
    return interrupted_run(tmp_path_factory.mktemp("ckpt") / "run")


def resume_with(tmp_path: Path, state: dict | str) -> CliRunner:
    path = tmp_path / "run"
    path.mkdir(exist_ok=True)
    text = state if isinstance(state, str) else json.dumps(state)
    (path / CHECKPOINT).write_text(text)
    return CliRunner().invoke(cli, ["resume", str(path)])


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.update(format_version=99), "format_version: 99 is not supported"),
    (lambda s: s.update(format="other"), "not an automl_zero checkpoint"),
    (lambda s: s.update(seed="x"), "seed: expected an integer"),
    (lambda s: s.update(total_individuals=-4), r"total_individuals: -4 is outside"),
    (lambda s: s["config"].update(population_size="big"), "population_size"),
    (lambda s: s["experiment"]["islands"][0]["population"]["algorithms"][0]["learn"][0]
     .update(out=65000), r"experiment.islands\[0\].population.algorithms\[0\]"),
    (lambda s: s["experiment"]["islands"][0]["population"]["algorithms"][1]["setup"][0]
     .update(op="NOT_AN_OP"), r"algorithms\[1\]"),
    (lambda s: s["experiment"]["islands"][0]["population"]["fitness"].__setitem__(0, None),
     r"fitness\[0\]: expected a number, got nothing"),
    (lambda s: s["experiment"]["islands"][0]["evaluator"]["fec"]["entries"].append(
        ["00", 0.5, 1]), "a key has 16 bytes"),
    (lambda s: s["experiment"].update(group_specs=[[{"task_type": "nope"}]]),
     r"group_specs\[0\]"),
    (lambda s: s["experiment"].update(islands=[]), r"experiment.islands: expected 1"),
])
def test_bad_checkpoints_are_refused_naming_file_and_key(tmp_path, checkpoint, edit,
                                                         message):
    state = copy.deepcopy(checkpoint)
    edit(state)
    r = resume_with(tmp_path, state)
    assert r.exit_code == 2, r.output
    assert "checkpoint.json" in r.output
    assert re.search(message, r.output), r.output
    assert len(r.output.strip().splitlines()) == 1


def _paths(obj, prefix=()):
    """Every leaf path of a JSON value."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list) and obj:
        for i in sorted({0, len(obj) - 1}):
            yield from _paths(obj[i], (*prefix, i))
    else:
        yield prefix


_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                  st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                       st.integers(),
                                                                       max_size=2))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_checkpoints_give_only_the_packages_errors(tmp_path, checkpoint, data):
    state = copy.deepcopy(checkpoint)
    paths = list(_paths(state))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = state
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = data.draw(_JUNK)
        except (KeyError, IndexError, TypeError):
            continue
    run_dir = Path(tempfile.mkdtemp(dir=tmp_path))
    (run_dir / CHECKPOINT).write_text(json.dumps(state))
    try:
        with RunDir.open(run_dir) as directory:
            driver = SearchDriver.resume(directory)
    except AutoMLZeroError as err:
        assert "checkpoint.json" in str(err)
        return
    # Accepted: every value was valid (e.g. a count or a fitness changed).
    assert driver.exp is None or driver.exp.states is not None
