"""Ablation (automl_zero/analysis/ablate.py, docs/analysis.md §2): knockouts
of the effective program, roles from dataflow, the `ablate` command.
Kernel: F = 4 only."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from automl_zero.analysis.ablate import (
    ROLE_ERROR,
    ROLE_FORWARD,
    ROLE_HELPER,
    ROLE_INITIALISATION,
    ROLE_LEARNING_RULE,
    ablate,
    instruction_roles,
)
from automl_zero.analysis.simplify import common_seed
from automl_zero.config import load_config
from automl_zero.engine.evaluator import Evaluator
from automl_zero.executor import MemorySpec
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.generator import linear_algorithm, neural_net_algorithm
from automl_zero.language.text_format import parse_algorithm
from automl_zero.run.cli import cli, make_evaluator

CONFIG = "configs/linear_integration.toml"
SMALL = ("search_tasks.0.num_tasks=4", "search_tasks.0.num_train_examples=100",
         "search_tasks.0.num_valid_examples=30")
MEMORY = MemorySpec(6, 9, 2)


def make_linear_evaluator(seed: int = 0, overrides=SMALL) -> Evaluator:
    return make_evaluator(load_config(CONFIG, overrides), "search", seed, MEMORY)


def test_linear_regressor_weight_update_is_an_essential_learning_rule():
    rows = ablate(linear_algorithm(), make_linear_evaluator())
    assert len(rows) == 6
    by_text = {str(a.instruction): a for a in rows}
    update = by_text["v1 = v1 + v2"]
    assert update.role == ROLE_LEARNING_RULE and update.essential
    assert update.fitness_change < -0.1
    assert by_text["s2 = 0.01"].role == ROLE_INITIALISATION
    assert by_text["s1 = dot(v1, v0)"].role == ROLE_FORWARD
    assert by_text["s3 = s0 - s1"].role == ROLE_ERROR
    assert by_text["s3 = s2 * s3"].role == ROLE_HELPER
    assert by_text["v2 = s3 * v0"].role == ROLE_HELPER
    assert all(a.essential for a in rows)  # linear regression needs every line
    changes = [a.fitness_change for a in rows]
    assert changes == sorted(changes)  # largest drop first


def test_on_the_demo_config_too():
    cfg = load_config("configs/demo_linear.toml", ["final_tasks.0.num_tasks=5"])
    rows = ablate(linear_algorithm(), make_evaluator(cfg, "final", 0, MEMORY))
    update = next(a for a in rows if str(a.instruction) == "v1 = v1 + v2")
    assert update.role == ROLE_LEARNING_RULE and update.essential


def test_knockouts_are_the_effective_program_without_one_instruction():
    noisy = parse_algorithm("""
def Setup():
  s5 = 3.0
  s2 = 0.05
def Predict():
  s4 = s5 * s5
  s1 = dot(v1, v0)
def Learn():
  s3 = s0 - s1
  s4 = s3 * s3
  s3 = s2 * s3
  v2 = s3 * v0
  v1 = v1 + v2
""")
    ev = make_linear_evaluator(seed=3)
    rows = ablate(noisy, ev)
    eff = effective_algorithm(noisy)
    assert len(rows) == len(eff) == 6
    positions = {(a.component, a.original_index) for a in rows}
    assert positions == {("setup", 1), ("predict", 1), ("learn", 0), ("learn", 2),
                         ("learn", 3), ("learn", 4)}
    # Each knockout's fitness is that program's fitness (no random ops).
    for a in rows:
        comp = getattr(eff, a.component)
        knockout = eff.replace(**{a.component: comp[:a.index] + comp[a.index + 1:]})
        assert make_linear_evaluator(seed=3).evaluate(knockout) == a.fitness
        assert a.fitness_before == make_linear_evaluator(seed=3).evaluate(noisy)
        assert a.essential == (a.fitness_change < -0.01)


def test_threshold_and_empty_programs():
    rows = ablate(linear_algorithm(), make_linear_evaluator(), threshold=10.0)
    assert not any(a.essential for a in rows)
    empty = parse_algorithm("def Setup():\n  s3 = 1.0\ndef Predict():\ndef Learn():\n")
    assert ablate(empty, make_linear_evaluator()) == []
    with pytest.raises(ValueError, match="threshold"):
        ablate(linear_algorithm(), make_linear_evaluator(), threshold=-1)


def test_roles_of_the_neural_net():
    setup, predict, learn = instruction_roles(effective_algorithm(neural_net_algorithm()))
    assert setup == (ROLE_INITIALISATION,) * 3
    assert predict == (ROLE_FORWARD,) * 5
    expected = {
        "s4 = s0 - s1": ROLE_ERROR,
        "s4 = s3 * s4": ROLE_HELPER,
        "s2 = s2 + s4": ROLE_LEARNING_RULE,  # output bias, read by Predict
        "v6 = s4 * v4": ROLE_HELPER,
        "v2 = v2 + v6": ROLE_LEARNING_RULE,
        "v7 = s4 * v2": ROLE_HELPER,
        "v8 = heaviside(v3, 1.0)": ROLE_HELPER,
        "v7 = v8 * v7": ROLE_HELPER,
        "v1 = v1 + v7": ROLE_LEARNING_RULE,
        "m1 = outer(v7, v0)": ROLE_HELPER,
        "m0 = m0 + m1": ROLE_LEARNING_RULE,
    }
    learn_text = [str(i) for i in neural_net_algorithm().learn]
    assert dict(zip(learn_text, learn, strict=True)) == expected


def test_roles_from_dataflow():
    alg = parse_algorithm("""
def Setup():
  s2 = 0.1
def Predict():
  s4 = mean(v0)
  s1 = dot(v1, v0)
  s5 = s1 * s4
def Learn():
  s3 = s0 - s1
  s3 = s3 * s5
  v2 = s3 * v0
  v3 = s2 * v2
  v1 = v1 + v3
  v1 = v1 + v2
""")
    assert effective_algorithm(alg) == alg
    setup, predict, learn = instruction_roles(alg)
    assert setup == (ROLE_INITIALISATION,)
    # s4 and s5: computed in Predict, off the path to s1, for Learn.
    assert predict == (ROLE_HELPER, ROLE_FORWARD, ROLE_HELPER)
    # v1 = v1 + v3 is overwritten later in Learn: only the last write is the rule.
    assert learn == (ROLE_ERROR, ROLE_HELPER, ROLE_HELPER, ROLE_HELPER, ROLE_HELPER,
                     ROLE_LEARNING_RULE)


def test_random_programs_use_one_seed():
    """Baseline and knockouts share one seed: the one `evaluate` would use."""
    ev = make_linear_evaluator(seed=5)
    rows = ablate(neural_net_algorithm(), ev)
    with common_seed(make_linear_evaluator(seed=5)) as seed:
        assert seed is not None
    base = make_linear_evaluator(seed=5).evaluate(neural_net_algorithm())
    assert all(a.fitness_before == base for a in rows)
    assert np.isfinite([a.fitness for a in rows]).all()


# --------------------------------------------------------------------------
# Command line.

def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_cli_table_and_json():
    sets = sum((["--set", s] for s in SMALL), [])
    result = run("ablate", "examples/linear_regressor.txt", "--config", CONFIG, *sets)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("needs memory" in ln for ln in lines)  # s4: memory extended
    row = next(ln for ln in lines if "v1 = v1 + v2" in ln)
    assert "learning rule" in row and row.rstrip().endswith("*")
    header = next(k for k, ln in enumerate(lines) if ln.lstrip().startswith("rank"))
    assert len(lines) - header - 1 == 6
    result = run("ablate", "examples/linear_regressor.txt", "--config", CONFIG, *sets,
                 "--json", "--threshold", "0.5")
    assert result.exit_code == 0, result.output
    data = json.loads([ln for ln in result.output.splitlines() if ln.startswith("{")][0])
    assert data["threshold"] == 0.5 and data["effective_instructions"] == 6
    update = next(a for a in data["ablations"] if a["instruction"] == "v1 = v1 + v2")
    assert update["role"] == "learning rule"
    assert update["essential"] == (update["fitness_change"] < -0.5)


@pytest.mark.parametrize("args, message", [
    (("ablate", "examples/linear_regressor.txt"), "needs --config"),
    (("ablate", "nope.txt", "--config", CONFIG), "nope.txt: algorithm file not found"),
    (("ablate", "BAD", "--config", CONFIG), "line 2"),
    (("ablate", "examples/linear_regressor.txt", "--config", CONFIG, "--threshold", "x"),
     "--threshold"),
    (("ablate", "examples/linear_regressor.txt", "--config", CONFIG, "--threshold",
      "-0.5"), "--threshold"),
    (("ablate", "examples/linear_regressor.txt", "--config", "nope.toml"),
     "config file not found"),
])
def test_cli_errors_are_one_line(tmp_path, args, message):
    bad = tmp_path / "bad.txt"
    bad.write_text("def Setup():\n  s2 = 0.1 +\n")
    result = run(*(str(bad) if a == "BAD" else a for a in args))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
