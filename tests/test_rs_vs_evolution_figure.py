"""`automl-zero experiment rs-vs-evolution-figure`: the figure of the
experiment's --json results, from the committed results and from bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from automl_zero.run.cli import cli
from automl_zero.run.experiments.rs_vs_evolution_figure import (
    FigureError,
    load_result,
    plot_results,
)

RESULTS = Path("docs/results/rs_vs_evolution")


def test_committed_results_load_with_their_rates_and_intervals():
    r = load_result(RESULTS / "linear_learn.json")
    assert r["setting"] == "linear_learn"
    rate, lo, hi, n = r["random_search"]
    assert n == 40_000_000 and lo < rate < hi and rate == pytest.approx(25 / n)
    assert r["ratio"] == pytest.approx(1.07, abs=0.01)
    assert r["ratio_interval"][0] < r["ratio"] < r["ratio_interval"][1]
    none = load_result(RESULTS / "affine.json")  # no success on either side
    assert none["random_search"][0] == 0 and none["random_search"][2] > 0
    assert none["ratio"] is None


def test_figure_is_written_as_png(tmp_path):
    out = plot_results([RESULTS / "linear_learn.json", RESULTS / "affine.json"],
                       tmp_path / "fig.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_writes_the_figure_and_refuses_bad_files(tmp_path):
    runner = CliRunner()
    out = tmp_path / "f.png"
    res = runner.invoke(cli, ["experiment", "rs-vs-evolution-figure",
                              str(RESULTS / "linear.json"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.exists()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"experiment": "something else"}))
    res = runner.invoke(cli, ["experiment", "rs-vs-evolution-figure", str(bad),
                              "-o", str(out)])
    assert res.exit_code != 0 and "not an `automl-zero experiment" in res.output
    broken = tmp_path / "broken.json"
    data = json.loads((RESULTS / "linear.json").read_text())
    del data["evolution"]["interval"]
    broken.write_text(json.dumps(data))
    with pytest.raises(FigureError, match="evolution: needs rate"):
        load_result(broken)
    assert "Traceback" not in res.output
