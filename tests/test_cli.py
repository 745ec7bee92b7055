"""The command-line interface, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from automl_zero.language.algorithm_io import load_algorithm
from automl_zero.run.cli import cli

DEMO = "configs/demo_linear.toml"
LINEAR = "examples/linear_regressor.txt"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_evaluate_readme_regressor_on_final_tasks():
    result = run("evaluate", LINEAR, "--config", DEMO, "--tasks", "final")
    assert result.exit_code == 0, result.output
    fitness = float(result.output.split("fitness = ")[1].split()[0])
    assert fitness >= 0.9999


def test_evaluate_json_has_fitness_and_per_task():
    result = run("evaluate", LINEAR, "--config", DEMO, "--json", "--seed", "3")
    assert result.exit_code == 0, result.output
    line = [ln for ln in result.output.splitlines() if ln.startswith("{")][0]
    data = json.loads(line)
    assert len(data["per_task"]) == 10 and data["tasks"] == "search"
    assert data["fitness"] == pytest.approx(sum(data["per_task"]) / 10)
    assert data["seed"] == 3


def test_show_prints_the_paper_algorithm_back(tmp_path):
    result = run("show", "examples/best_evolved_cifar10.txt")
    assert result.exit_code == 0, result.output
    assert "  s1 = dot(v3, v4)" in result.output
    assert "  v1 = uniform(0.0024, 0.67)" in result.output
    out = tmp_path / "back.txt"
    out.write_text(result.output)
    assert load_algorithm(out) == load_algorithm("examples/best_evolved_cifar10.txt")
    as_json = run("show", "examples/best_evolved_cifar10.txt", "--json")
    (tmp_path / "a.json").write_text(as_json.output)
    assert load_algorithm(tmp_path / "a.json") == load_algorithm(out)


def test_example_and_ops():
    result = run("example", "linear", "--learning-rate", "0.2")
    assert result.exit_code == 0 and "s2 = 0.2" in result.output
    ops = run("ops")
    lines = ops.output.splitlines()
    assert ops.exit_code == 0 and len(lines) == 65 + 2  # header, 65 ops, legend
    assert lines[0].split()[:2] == ["code", "name"] and lines[-1].startswith("code =")


@pytest.mark.parametrize("args, message", [
    (("evaluate", "nope.txt", "--config", DEMO), "nope.txt"),
    (("evaluate", LINEAR, "--config", "nope.toml"), "config file not found"),
    (("evaluate", LINEAR, "--config", DEMO, "--set", "population_size=x y"),
     "population_size: must be an integer"),
    (("evaluate", LINEAR, "--config", DEMO, "--tasks", "test"), "Invalid value"),
])
def test_bad_arguments_give_one_clear_error(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_program_names_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("def Setup():\n  s2 = 0.1\ndef Predict():\n  s1 = frobnicate(v0)\n")
    result = run("evaluate", str(bad), "--config", DEMO)
    assert result.exit_code == 2
    assert "line 4" in result.output and "Traceback" not in result.output


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "automl_zero", "--help"],
                          capture_output=True, text=True, check=True)
    assert "evaluate" in proc.stdout and "show" in proc.stdout
