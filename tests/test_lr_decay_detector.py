"""Learning-rate decay detector (automl_zero/analysis/lr_decay.py,
docs/analysis.md §4): the paper's fast-training discovery (§4.3, Learn
``s3 = arctan(s3)`` on the learning rate s3 = 0.37) decided by static
conditions on the effective program and a simulation of the learning rate's
own map; the `lr-decay` command. Hand-built programs with known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from automl_zero.analysis.lr_decay import LRDecayReport, detect_lr_decay
from automl_zero.analysis.noise import Site
from automl_zero.language.algorithm_io import save_algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.text_format import parse_algorithm
from automl_zero.run.cli import cli

# The paper's Figure 5 network (v5 = 0) with the learning rate s3 set in
# Setup ({lr}) and extra Learn instructions at the end ({extra}).
FIGURE_5 = """
def Setup():
  m1 = gaussian(-1e-10, 9e-09)
  s3 = {lr}
  v4 = gaussian(-0.033, 0.01)
{setup}def Predict():
  v6 = dot(m1, v0)
  v7 = maximum(v6, v5)
  s1 = dot(v7, v4)
def Learn():
{head}  v3 = heaviside(v6, 1.0)
  s1 = s0 - s1
  s2 = s1 * s3
  v2 = s2 * v3
  v3 = v2 * v4
  m0 = outer(v3, v0)
  m1 = m1 + m0
  v4 = v2 + v4
{extra}"""


def figure5(extra: str = "", lr: str = "0.37", setup: str = "", head: str = "") -> str:
    return FIGURE_5.format(lr=lr, extra=extra, setup=setup, head=head)


def decay(text: str, steps: int = 8000, **kwargs) -> LRDecayReport:
    return detect_lr_decay(parse_algorithm(text), steps, **kwargs)


def iterate(f, x: float, n: int) -> float:
    for _ in range(n):
        x = f(x)
    return x


ARCTAN = figure5("  s3 = arctan(s3)\n")
# arctan iterated from 0.37: the step size of the last of 8000 steps has
# been through 7999 maps.
ARCTAN_FINAL = iterate(math.atan, 0.37, 7999)


# ---------------------------------------------------------------- the paper


def test_fast_training_arctan_decay_on_figure_5():
    r = decay(ARCTAN)
    assert r.decays and r.fixed_map and r.reason == ""
    assert r.scalar == "s3" and not r.inverse
    assert [str(s) for s in r.uses] == ["Learn 3: s2 = s1 * s3"]
    assert r.parameters == ("v4", "m1")
    assert r.state == ("s3",)
    assert [str(s) for s in r.map_instructions] == ["Learn 9: s3 = arctan(s3)"]
    assert [str(s) for s in r.setup_instructions] == ["Setup 2: s3 = 0.37"]
    assert r.initial == 0.37
    assert r.final == pytest.approx(ARCTAN_FINAL, rel=1e-12)
    assert 0.0136 < r.final < 0.0138  # ~ sqrt(3 / (2 * 8000))
    assert r.decay_step == 1 + next(n for n in range(100)
                                    if iterate(math.atan, 0.37, n) <= 0.185)
    assert r.step_sizes == ("s1", "s3", "s2")
    assert r.summary() == (
        "learning-rate decay: yes (s3; map Learn 9: s3 = arctan(s3); "
        f"|s3| 0.37 -> 0.0137 over 8000 steps, /2 by step {r.decay_step})")


def test_paper_raw_code_pattern_on_a_linear_model():
    # Setup s3 = 0.37; Learn s4 = s0 - s1; s4 = s3 * s4; ...; s3 = arctan(s3).
    r = decay("""
def Setup():
  s3 = 0.37
def Predict():
  s1 = dot(v0, v1)
def Learn():
  s4 = s0 - s1
  s4 = s3 * s4
  v2 = s4 * v0
  v1 = v1 + v2
  s3 = arctan(s3)
""")
    assert r.decays and r.scalar == "s3" and r.parameters == ("v1",)
    assert r.final == pytest.approx(ARCTAN_FINAL, rel=1e-12)


def test_figure_5_alone_has_a_constant_learning_rate():
    r = decay(figure5())
    assert not r.decays and not r.fixed_map and r.scalar == "s3"
    assert r.reason == "s3 is constant: Learn does not rewrite it"
    assert r.initial is None and r.final is None


# ------------------------------------------------- maps that do not decay


def test_fixed_point_map_is_not_decay():
    r = decay(figure5("  s3 = abs(s3)\n"))
    assert r.fixed_map and not r.decays
    assert r.initial == r.final == 0.37
    assert r.reason == "the step size does not change"


def test_growing_map_is_not_decay():
    r = decay(figure5("  s3 = s3 + s3\n"))
    assert r.fixed_map and not r.decays
    assert r.reason == "the step size grows without bound"
    assert r.final == math.inf and r.nonfinite_step == 1027  # 0.37 * 2**1026 overflows
    short = decay(figure5("  s3 = s3 + s3\n"), steps=10)
    assert not short.decays and short.final == pytest.approx(0.37 * 2**9)
    assert short.reason == "the step size grows"


def test_map_reaching_nan_is_not_decay():
    # log(0.37) < 0, log of a negative number is NaN.
    r = decay(figure5("  s3 = log(s3)\n"))
    assert r.fixed_map and not r.decays and r.nonfinite_step == 3
    assert r.reason == "the step size becomes NaN"
    assert r.to_dict()["final"] is None


def test_slow_shrinking_is_not_decay_and_steps_matter():
    slow = decay(figure5("  s3 = s3 * s5\n", setup="  s5 = 0.99999\n"))
    assert slow.fixed_map and not slow.decays
    assert slow.reason == "the step size shrinks by less than 2x"
    assert decay(ARCTAN, steps=100).decays  # 0.37 -> ~0.12
    few = decay(ARCTAN, steps=10)  # 0.37 -> ~0.27
    assert not few.decays and few.reason == "the step size shrinks by less than 2x"
    assert decay(ARCTAN, steps=10, factor=1.2).decays


def test_step_size_starting_at_zero_is_not_decay():
    r = decay(figure5("  s3 = arctan(s3)\n", lr="0.0"))
    assert r.fixed_map and not r.decays and r.reason == "the step size starts at 0"


# ------------------------------------------------------ not a fixed map


def test_error_dependent_learning_rate_is_not_a_fixed_map():
    r = decay(figure5("  s4 = s0 - s1\n  s3 = s3 * s4\n"))
    assert not r.decays and not r.fixed_map and r.scalar == "s3"
    assert r.reason == "s3 depends on the label s0: not a fixed map"
    assert r.map_instructions == ()


def test_learning_rate_depending_on_a_predict_value_is_not_a_fixed_map():
    r = decay(figure5("  s4 = mean(v6)\n  s3 = s3 * s4\n"))
    assert not r.decays and r.scalar == "s3"
    assert r.reason == "s3 depends on v6, written by Predict: not a fixed map"


def test_random_learning_rate_is_not_a_fixed_map():
    r = decay(figure5("  s5 = uniform(0.5, 0.9)\n  s3 = s3 * s5\n"))
    assert not r.decays and r.scalar == "s3"
    assert r.reason == ("s3 depends on a random op (Learn 9: s5 = uniform(0.5, 0.9)): "
                        "not a fixed map")


def test_learning_rate_written_by_predict_is_not_a_fixed_map():
    text = figure5("  s3 = arctan(s3)\n").replace(
        "  s1 = dot(v7, v4)\n", "  s1 = dot(v7, v4)\n  s3 = abs(s3)\n")
    r = decay(text)
    assert not r.decays
    assert r.reason == "s3 depends on s3, written by Predict: not a fixed map"


# ---------------------------------------------------------- decaying maps


def test_multiplicative_decay_by_a_setup_constant():
    r = decay(figure5("  s3 = s3 * s5\n", setup="  s5 = 0.999\n"))
    assert r.decays and r.state == ("s3",)
    assert [str(s) for s in r.map_instructions] == ["Learn 9: s3 = s3 * s5"]
    assert [str(s) for s in r.setup_instructions] == ["Setup 2: s3 = 0.37",
                                                      "Setup 4: s5 = 0.999"]
    assert r.final == pytest.approx(0.37 * 0.999**7999, rel=1e-9)


def test_decay_factor_drawn_at_random_in_setup_is_a_fixed_map():
    r = decay(figure5("  s3 = s3 * s5\n", setup="  s5 = uniform(0.9, 0.99)\n"))
    assert r.decays and r.fixed_map


def test_learning_rate_rewritten_before_its_use():
    # The step of training step t uses arctan^t(0.37).
    r = decay(figure5(head="  s3 = arctan(s3)\n"))
    assert r.decays and [str(s) for s in r.map_instructions] == [
        "Learn 1: s3 = arctan(s3)"]
    assert r.initial == pytest.approx(math.atan(0.37), rel=1e-15)
    assert r.final == pytest.approx(iterate(math.atan, 0.37, 8000), rel=1e-12)


def test_map_with_a_two_address_state():
    # s5 decays (x 0.999) and s3 is multiplied by it: s3 shrinks faster.
    r = decay(figure5("  s3 = s3 * s5\n  s5 = s5 * s6\n",
                      setup="  s5 = 0.9999\n  s6 = 0.999\n"))
    assert r.decays and r.state == ("s3", "s5")
    assert len(r.map_instructions) == 2 and len(r.setup_instructions) == 3


def test_map_over_a_vector_state():
    # s3 = mean(v9) with v9 shrinking by 0.999 per step from a random Setup
    # vector: the state is {s3, v9}; F = features_size matters for the draw.
    text = figure5("  v9 = s5 * v9\n  s3 = mean(v9)\n", lr="0.5",
                   setup="  v9 = uniform(0.4, 0.6)\n  s5 = 0.999\n")
    r = decay(text)
    assert r.decays and r.state == ("s3", "v9") and r.initial == 0.5
    assert [str(s) for s in r.map_instructions] == ["Learn 9: v9 = s5 * v9",
                                                    "Learn 10: s3 = mean(v9)"]
    assert 0.4 * 0.999**7999 < r.final < 0.6 * 0.999**7999
    assert decay(text, features_size=3).final != r.final


def test_growing_divisor_is_a_decaying_step():
    # s4 = s1 / s3 with s3 = 1, 2, 3, ...: the step 1/s3 decays like 1/t.
    r = decay(figure5("  s3 = s3 + s5\n", lr="1.0", setup="  s5 = 1.0\n")
              .replace("  s2 = s1 * s3\n", "  s2 = s1 / s3\n"))
    assert r.decays and r.inverse and r.scalar == "s3"
    assert r.initial == 1.0 and r.final == pytest.approx(1 / 8000)
    assert "1/|s3| 1 -> 0.000125" in r.summary()
    # ... and a shrinking divisor is a growing step.
    grow = decay(figure5("  s3 = arctan(s3)\n").replace("  s2 = s1 * s3\n",
                                                         "  s2 = s1 / s3\n"))
    assert grow.fixed_map and not grow.decays and grow.reason == "the step size grows"


def test_scalar_matrix_product_step():
    r = decay("""
def Setup():
  s3 = 0.5
def Predict():
  v1 = dot(m1, v0)
  s1 = mean(v1)
def Learn():
  s4 = s0 - s1
  m2 = outer(v0, v0)
  m2 = s4 * m2
  m2 = s3 * m2
  m1 = m1 + m2
  s3 = arctan(s3)
""")
    assert r.decays and r.scalar == "s3" and r.parameters == ("m1",)
    assert [str(s) for s in r.uses] == ["Learn 4: m2 = s3 * m2"]


# ------------------------------------------ not a step size / dead code


def test_dead_decaying_scalar_does_not_count():
    text = figure5("  s6 = arctan(s6)\n", setup="  s6 = 0.37\n")
    assert "arctan" not in effective_algorithm(parse_algorithm(text)).to_text()
    r = decay(text)
    assert not r.decays and r.scalar == "s3" and "s6" not in r.step_sizes


def test_decaying_scalar_not_used_as_a_step_size_does_not_count():
    # s6 decays and reaches the prediction as a bias, not through an update.
    text = figure5("  s6 = arctan(s6)\n", setup="  s6 = 0.37\n").replace(
        "  s1 = dot(v7, v4)\n", "  s1 = dot(v7, v4)\n  s1 = s1 + s6\n")
    r = decay(text)
    assert not r.decays and "s6" not in r.step_sizes


def test_step_into_a_value_that_is_not_a_persistent_parameter():
    # s5 decays and scales v8, which Predict reads, but Learn recomputes v8
    # from scratch every time: v8 is not a parameter updated from itself.
    r = decay("""
def Setup():
  s5 = 0.37
  v1 = gaussian(0.0, 0.1)
def Predict():
  s1 = dot(v0, v1)
  s2 = dot(v0, v8)
  s1 = s1 + s2
def Learn():
  s4 = s0 - s1
  v8 = s5 * v0
  s5 = arctan(s5)
  v2 = s4 * v0
  v1 = v1 + v2
""")
    assert not r.decays and "s5" not in r.step_sizes
    assert r.step_sizes == ("s4",)


def test_no_learn_no_step_size():
    r = decay("def Setup():\n  s3 = 0.5\ndef Predict():\n  s1 = s3 * s3\n"
              "def Learn():\n")
    assert r == LRDecayReport()
    assert r.summary() == "learning-rate decay: no (no step-size scalar)"


def test_indices_are_positions_in_the_effective_program():
    text = figure5(head="  s7 = cos(s8)\n  s9 = s7 * s7\n  s3 = arctan(s3)\n")
    r = decay(text)
    assert r.map_instructions == (Site("learn", 0, "s3 = arctan(s3)"),)


def test_bad_arguments():
    alg = parse_algorithm(ARCTAN)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="steps"):
            detect_lr_decay(alg, bad)
    for bad in (1.0, 0.5, math.inf, math.nan):
        with pytest.raises(ValueError, match="factor"):
            detect_lr_decay(alg, factor=bad)


def test_to_dict():
    d = decay(ARCTAN).to_dict()
    assert d["decays"] is True and d["scalar"] == "s3" and d["inverse"] is False
    assert d["map"] == [{"component": "learn", "index": 8,
                         "instruction": "s3 = arctan(s3)"}]
    assert d["initial"] == 0.37 and d["final"] == pytest.approx(ARCTAN_FINAL)
    assert d["parameters"] == ["v4", "m1"] and d["steps"] == 8000
    json.dumps(d, allow_nan=False)


# ---------------------------------------------------------------- the command


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_cli_one_line_per_program(tmp_path):
    fast = tmp_path / "fast.txt"
    fast.write_text(ARCTAN)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_algorithm(parse_algorithm(figure5()), run_dir / "best_algorithm.json", "json")
    result = run("lr-decay", str(fast), str(run_dir))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{fast}: learning-rate decay: yes (s3; map Learn 9: "
                               "s3 = arctan(s3); |s3| 0.37 -> 0.0137 over 8000 steps")
    assert lines[1] == (f"{run_dir / 'best_algorithm.json'}: learning-rate decay: no "
                        "(s3; s3 is constant: Learn does not rewrite it)")
    assert len(lines) == 2


def test_cli_steps_factor_and_json(tmp_path):
    fast = tmp_path / "fast.txt"
    fast.write_text(ARCTAN)
    result = run("lr-decay", "--json", "--steps", "10", str(fast))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["programs"][0]["program"] == str(fast)
    assert doc["programs"][0]["decays"] is False and doc["programs"][0]["steps"] == 10
    result = run("lr-decay", "--json", "--steps", "10", "--factor", "1.2", str(fast))
    assert json.loads(result.output)["programs"][0]["decays"] is True


def test_cli_bad_input(tmp_path):
    result = run("lr-decay", str(tmp_path / "missing.txt"))
    assert result.exit_code == 2
    assert "missing.txt" in result.output
    assert run("lr-decay", str(tmp_path)).exit_code == 2  # no best_algorithm.json
    assert run("lr-decay").exit_code == 2  # PROGRAM is required
    fast = tmp_path / "fast.txt"
    fast.write_text(ARCTAN)
    assert run("lr-decay", "--steps", "0", str(fast)).exit_code == 2
    assert run("lr-decay", "--factor", "1", str(fast)).exit_code == 2


def test_shipped_examples_do_not_decay():
    for path in ("examples/figure5_nn.txt", "examples/linear_regressor.txt",
                 "examples/best_evolved_cifar10.txt"):
        assert not detect_lr_decay(parse_algorithm(Path(path).read_text())).decays
