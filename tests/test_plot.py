"""``automl-zero plot``: images of search progress, overlays, bad input."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import small_search_config

from automl_zero.run.cli import cli
from automl_zero.run.driver import ProgressRecord
from automl_zero.run.plot import PlotError, load_run, plot_runs

pytest.importorskip("matplotlib")


def record(experiment: int, individuals: int, base: int, best: float,
           mean: float | None = 0.3, **changes) -> dict:
    """A progress.jsonl line as the driver writes it."""
    r = ProgressRecord(experiment, individuals, base + individuals, individuals * 300,
                       elapsed_s=0.001 * (base + individuals), mean=mean,
                       stdev=None if mean is None else 0.05, best=best,
                       fec_hit_rate=0.5, individuals_per_s=1000.0,
                       budget_used=individuals / 5000, budget="max_train_steps")
    return {**dataclasses.asdict(r), **changes}


def write_run(path: Path, shift: float = 0.0, method: str = "REGULARIZED_EVOLUTION",
              eval_type: str = "RMS_ERROR", finished: bool = True) -> Path:
    """A two-experiment run directory: the second experiment passes T_select."""
    path.mkdir(parents=True)
    lines, events = [], []
    base = 0
    for exp, size in ((0, 4000), (1, 3000)):
        events.append({"event": "experiment_start", "elapsed_s": 0.001 * base,
                       "experiment": exp, "search_tasks": 10, "islands": 1,
                       "workers": 1})
        best = 0.3
        for n in range(1000, size + 1, 500):
            new = min(0.95, 0.3 + shift + 0.1 * np.log2(n / 1000) + 0.1 * exp)
            if new > best:
                best = new
                events.append({"event": "best_changed", "elapsed_s": 0.001 * (base + n),
                               "experiment": exp, "island": 0, "individuals": n,
                               "total_individuals": base + n, "fitness": best})
            lines.append(record(exp, n, base, best, mean=best - 0.2))
            if n % 1000 == 0:
                events.append({"event": "select_check", "elapsed_s": 0.001 * (base + n),
                               "experiment": exp, "individuals": n,
                               "select_fitness": best - 0.01,
                               "passed": exp == 1 and n == size})
        events.append({"event": "experiment_end", "elapsed_s": 0.001 * (base + size),
                       "experiment": exp, "reason": "max_train_steps",
                       "search_fitness": best, "select_fitness": best - 0.01,
                       "passed": exp == 1, "why": "", "island": 0,
                       "individuals": size, "train_steps": size * 300, "migrations": 0,
                       "migration_s": 0.0})
        base += size
    lines.append(lines[-1])  # the driver repeats the last point
    (path / "progress.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (path / "events.jsonl").write_text("".join(json.dumps(x) + "\n" for x in events))
    (path / "config.json").write_text(json.dumps({
        "method": method, "search_tasks": [{"task_type": "t", "eval_type": eval_type}]}))
    if finished:
        (path / "result.json").write_text(json.dumps({
            "experiments": 2, "total_individuals": base, "stopped_by":
            "sufficient_fitness", "select_fitness": 0.94, "final_fitness": 0.93}))
    return path


def pixels(path: Path) -> np.ndarray:
    from matplotlib.image import imread

    return imread(str(path))


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_plot_writes_a_png_that_follows_the_data(tmp_path):
    a = write_run(tmp_path / "a")
    b = write_run(tmp_path / "b", shift=0.15)
    result = run("plot", a)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {a / 'progress.png'}"
    png_a = a / "progress.png"
    assert png_a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out_b = plot_runs([b], tmp_path / "b.png", title="Search progress: a")
    img_a, img_b = pixels(png_a), pixels(out_b)
    assert img_a.shape == img_b.shape and img_a.shape[0] > 500
    changed = np.any(np.abs(img_a - img_b) > 0.05, axis=-1).mean()
    assert changed > 0.002  # the curves moved
    # The same data give the same image.
    again = plot_runs([a], tmp_path / "again.png")
    assert np.array_equal(pixels(again), img_a)


def test_records_are_read_deduplicated_with_bases(tmp_path):
    run_ = load_run(write_run(tmp_path / "r"))
    assert run_.experiments == [0, 1]
    assert run_.bases == {0: (0, 0), 1: (4000, 4000 * 300)}
    points = [(r["experiment"], r["individuals"]) for r in run_.records]
    assert len(points) == len(set(points))
    assert run_.records[-1]["total_steps"] == 4000 * 300 + 3000 * 300


@pytest.mark.parametrize("x", ["individuals", "train_steps", "time"])
def test_overlay_of_several_runs(tmp_path, x):
    evolution = write_run(tmp_path / "evolution")
    random = write_run(tmp_path / "random", shift=-0.1, method="RANDOM_SEARCH",
                       finished=False)
    out = tmp_path / f"overlay-{x}.png"
    result = run("plot", evolution, random, "-o", out, "--x", x,
                 "--label", "evolution", "--label", "random search")
    assert result.exit_code == 0, result.output
    single = plot_runs([evolution], tmp_path / "single.png", x=x)
    assert pixels(out).shape == pixels(single).shape
    assert not np.array_equal(pixels(out), pixels(single))


def test_other_image_types(tmp_path):
    a = write_run(tmp_path / "a")
    assert plot_runs([a], tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert plot_runs([a], tmp_path / "a.pdf").read_bytes()[:4] == b"%PDF"


def test_a_real_search_can_be_plotted(tmp_path):
    import automl_zero

    cfg = small_search_config("max_individuals=1000", "progress_every=200",
                              "sufficient_fitness=0.9999", "select_every=200")
    automl_zero.search(cfg, seed=3, out=tmp_path / "run")
    out = plot_runs([tmp_path / "run"], x="train_steps")
    assert out == tmp_path / "run" / "progress.png" and out.stat().st_size > 10_000


def corrupt(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "bad"
    d.mkdir()
    (d / "progress.jsonl").write_text(text)
    return d


def good_line(**changes) -> str:
    return json.dumps({**record(0, 1000, 0, 0.5), **changes}) + "\n"


@pytest.mark.parametrize("text, message", [
    ("", "progress.jsonl: no progress records yet"),
    ("\n\n", "progress.jsonl: no progress records yet"),
    ("{nope\n" + good_line(), "progress.jsonl: line 1 is not JSON"),
    (good_line() + "[1, 2]\n", "progress.jsonl: line 2 is not a JSON object"),
    (good_line(best="high"), "progress.jsonl: line 1: 'best' must be a number"),
    (good_line(individuals=-3), "line 1: 'individuals' must be an integer >= 0"),
    (json.dumps(record(1, 1000, 5000, 0.5)) + "\n" + good_line(),
     "line 2: the file mixes records of different runs (experiment 0 after "
     "experiment 1)"),
    (json.dumps(record(0, 2000, 0, 0.5)) + "\n" + good_line(),
     "line 2: the file mixes records of different runs (total_individuals goes "
     "back"),
])
def test_bad_progress_files_give_one_line_errors(tmp_path, text, message):
    d = corrupt(tmp_path, text)
    result = run("plot", d)
    assert result.exit_code == 2
    assert message in result.output and str(d / "progress.jsonl") in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_unfinished_last_line_is_ignored(tmp_path):
    d = corrupt(tmp_path, good_line() + good_line(individuals=2000,
                                                   total_individuals=2000)[:40])
    assert len(load_run(d).records) == 1


def test_bad_events_name_the_file_and_line(tmp_path):
    d = write_run(tmp_path / "a")
    with open(d / "events.jsonl", "a") as f:
        f.write(json.dumps({"event": "best_changed", "experiment": 0}) + "\n")
    with pytest.raises(PlotError, match=r"events.jsonl: line \d+ \(best_changed\): "
                                        r"'total_individuals' must be"):
        load_run(d)


def test_bad_arguments_give_one_line_errors(tmp_path):
    a = write_run(tmp_path / "a")
    b = write_run(tmp_path / "b", eval_type="ACCURACY")
    file = tmp_path / "file.txt"
    file.write_text("x")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (("plot", tmp_path / "nope"), "no such run directory"),
        (("plot", file), "not a run directory (it is a file)"),
        (("plot", empty), "progress.jsonl is missing"),
        (("plot", a, a, "-o", tmp_path / "x.png"), "given twice"),
        (("plot", a, write_run(tmp_path / "c")), "name the image file with -o"),
        (("plot", a, "--label", "one", "--label", "two"), "give one --label per run"),
        (("plot", a, "-o", tmp_path / "x.bmpx"), "unknown image type '.bmpx'"),
        (("plot", a, b, "-o", tmp_path / "x.png"), "measure different fitnesses"),
        (("plot", a, "-o", tmp_path / "no" / "dir" / "x.png"), "cannot write"),
        (("plot", a, "--x", "steps"), "Invalid value"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
        if "Invalid value" not in message:
            assert len(result.output.strip().splitlines()) == 1, result.output


def test_without_matplotlib_the_error_says_what_to_install(tmp_path, monkeypatch):
    a = write_run(tmp_path / "a")
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run("plot", a)
    assert result.exit_code == 2
    assert 'pip install "automl-zero[plot]"' in result.output
    assert len(result.output.strip().splitlines()) == 1
