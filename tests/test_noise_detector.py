"""Noise detector (automl_zero/analysis/noise.py, docs/analysis.md §3): noise
injected into hidden activations (paper §4.3, Figure S2a), input noise and
noisy predictions, statically on the effective program; the `noise` command.
Hand-built programs with known answers; nothing is executed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from automl_zero.analysis.noise import NoiseReport, Site, detect_noise
from automl_zero.language.algorithm_io import save_algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.text_format import parse_algorithm
from automl_zero.run.cli import cli

RAW_BEST = Path("docs/results/fashion/best_evolved_cifar10_raw.txt")

# Figure S2a-like: v1 and v5 re-drawn in every Learn; v1 added to the hidden
# vector v3 = dot(m0, v0), v7 = v5 - v0 maxed into it.
S2A = """
def Setup():
  m0 = gaussian(0.0, 0.1)
  v2 = gaussian(0.0, 0.1)
def Predict():
  v7 = v5 - v0
  v3 = dot(m0, v0)
  v3 = v3 + v1
  v4 = maximum(v3, v7)
  s1 = dot(v4, v2)
def Learn():
  v1 = gaussian(-0.50, 0.41)
  v5 = gaussian(-0.48, 0.48)
  s2 = s0 - s1
  v6 = s2 * v4
  v2 = v2 + v6
"""

# The same with the random ops in Setup: drawn once, an initialisation.
S2A_SETUP = """
def Setup():
  m0 = gaussian(0.0, 0.1)
  v2 = gaussian(0.0, 0.1)
  v1 = gaussian(-0.50, 0.41)
  v5 = gaussian(-0.48, 0.48)
def Predict():
  v7 = v5 - v0
  v3 = dot(m0, v0)
  v3 = v3 + v1
  v4 = maximum(v3, v7)
  s1 = dot(v4, v2)
def Learn():
  s2 = s0 - s1
  v6 = s2 * v4
  v2 = v2 + v6
"""

# The paper's Figure 5 (a two-layer network with backpropagation; v5 = 0).
FIGURE_5 = """
def Setup():
  m1 = gaussian(-1e-10, 9e-09)
  s3 = 4.1
  v4 = gaussian(-0.033, 0.01)
def Predict():
  v6 = dot(m1, v0)
  v7 = maximum(v6, v5)
  s1 = dot(v7, v4)
def Learn():
  v3 = heaviside(v6, 1.0)
  s1 = s0 - s1
  s2 = s1 * s3
  v2 = s2 * v3
  v3 = v2 * v4
  m0 = outer(v3, v0)
  m1 = m1 + m0
  v4 = v2 + v4
"""


def noise(text: str) -> NoiseReport:
    return detect_noise(parse_algorithm(text))


def texts(sites: tuple[Site, ...]) -> list[str]:
    return [str(s) for s in sites]


def network(predict: str, learn: str = "", setup: str = "") -> str:
    """A one-hidden-layer program around the given lines (indented 2)."""
    return (f"def Setup():\n  m0 = gaussian(0.0, 0.1)\n{setup}"
            f"def Predict():\n{predict}def Learn():\n{learn}"
            "  s2 = s0 - s1\n  v6 = s2 * v4\n  v2 = v2 + v6\n")


# ---------------------------------------------------------------- the paper


def test_figure_s2a_injects_noise_into_hidden_activations():
    r = noise(S2A)
    assert r.hidden_noise and r.input_noise and r.noisy_prediction
    assert texts(r.hidden_triggers) == ["Predict 3: v3 = v3 + v1",
                                        "Predict 4: v4 = maximum(v3, v7)"]
    assert texts(r.input_triggers) == ["Predict 1: v7 = v5 - v0"]
    assert texts(r.sources) == ["Learn 1: v1 = gaussian(-0.5, 0.41)",
                                "Learn 2: v5 = gaussian(-0.48, 0.48)"]
    assert r.prediction_sources == r.sources
    assert r.summary() == (
        "hidden-activation noise: yes (Predict 3: v3 = v3 + v1, "
        "Predict 4: v4 = maximum(v3, v7)); input noise: yes (Predict 1: "
        "v7 = v5 - v0); noisy prediction: yes")


def test_random_ops_in_setup_are_initialisation_not_noise():
    r = noise(S2A_SETUP)
    assert r == NoiseReport()
    assert not (r.hidden_noise or r.input_noise or r.noisy_prediction)
    assert r.summary() == ("hidden-activation noise: no; input noise: no; "
                           "noisy prediction: no")


def test_figure_5_network_has_no_noise():
    r = noise(FIGURE_5)
    assert r == NoiseReport()


def test_raw_best_algorithm_has_input_noise_only():
    # Figure S1a: v9 re-drawn in Learn, added to and subtracted from the
    # features; the hidden vector v6 = dot(m1, v5) is noisy only through its
    # input (and its noisy weights), and meets v1 only in the scalar s1.
    r = detect_noise(parse_algorithm(RAW_BEST.read_text()))
    assert r.input_noise and not r.hidden_noise and r.noisy_prediction
    assert texts(r.input_triggers) == ["Predict 1: v1 = v0 - v9",
                                       "Predict 2: v5 = v0 + v9"]
    assert [s.text for s in r.sources] == ["v9 = uniform(0.002, 0.7)"]


def test_figure_6_cleaned_best_algorithm_has_input_noise_only():
    r = detect_noise(parse_algorithm(Path("examples/best_evolved_cifar10.txt").read_text()))
    assert r.input_noise and not r.hidden_noise and r.noisy_prediction


# ---------------------------------------------------------------- dead code


def test_dead_noise_does_not_count():
    # v9 = v3 + v8 would inject noise, but nothing reads v9.
    r = noise(network("  v3 = dot(m0, v0)\n  v8 = gaussian(0.0, 1.0)\n"
                      "  v9 = v3 + v8\n  v4 = maximum(v3, v5)\n  s1 = dot(v4, v2)\n"))
    assert r == NoiseReport()


def test_noise_overwritten_before_any_read_is_dead_and_does_not_count():
    alg = parse_algorithm(network(
        "  v3 = dot(m0, v0)\n  v4 = v3 + v1\n  s1 = dot(v4, v2)\n",
        learn="  v1 = gaussian(0.0, 1.0)\n  v1 = abs(v2)\n"))
    assert "gaussian(0.0, 1.0)" in alg.to_text()
    assert "gaussian(0.0, 1.0)" not in effective_algorithm(alg).to_text()
    assert detect_noise(alg) == NoiseReport()


def test_indices_are_positions_in_the_effective_program():
    r = noise(network("  v8 = gaussian(0.0, 1.0)\n  v9 = abs(v8)\n"
                      "  v3 = dot(m0, v0)\n  v4 = v3 * v1\n  s1 = dot(v4, v2)\n",
                      learn="  v1 = uniform(0.0, 2.0)\n"))
    assert r.hidden_triggers == (Site("predict", 1, "v4 = v3 * v1"),)
    assert r.sources == (Site("learn", 0, "v1 = uniform(0.0, 2.0)"),)


# ---------------------------------------------------------------- dataflow


def test_noise_carried_from_learn_through_another_value():
    # The noise reaches Predict as v8 = s3 * v1, computed in Learn.
    r = noise(network("  v3 = dot(m0, v0)\n  v4 = v3 + v8\n  s1 = dot(v4, v2)\n",
                      learn="  v1 = gaussian(0.0, 1.0)\n  v8 = s3 * v1\n",
                      setup="  s3 = 0.5\n"))
    assert texts(r.hidden_triggers) == ["Predict 2: v4 = v3 + v8"]
    assert texts(r.sources) == ["Learn 1: v1 = gaussian(0.0, 1.0)"]


def test_noise_reaching_the_hidden_vector_only_after_two_loop_iterations():
    # Predict's first read of v8 precedes its write v8 = v1 + v9; v1 is noise
    # drawn in Learn: the next Predict's v4 = v3 * v8 multiplies noise into
    # the hidden vector (found only by iterating the loop to a fixed point).
    r = noise(network("  v3 = dot(m0, v0)\n  v4 = v3 * v8\n  s1 = dot(v4, v2)\n"
                      "  v8 = v1 + v9\n",
                      learn="  v1 = gaussian(1.0, 0.5)\n",
                      setup="  v9 = gaussian(0.0, 0.1)\n"))
    assert texts(r.hidden_triggers) == ["Predict 2: v4 = v3 * v8"]
    assert not r.input_noise


def test_noise_drawn_in_predict_counts():
    r = noise(network("  s5 = uniform(0.0, 2.0)\n  v3 = dot(m0, v0)\n"
                      "  v4 = s5 * v3\n  s1 = dot(v4, v2)\n"))
    assert texts(r.hidden_triggers) == ["Predict 3: v4 = s5 * v3"]
    assert texts(r.sources) == ["Predict 1: s5 = uniform(0.0, 2.0)"]


def test_an_overwrite_in_predict_clears_the_taint():
    lines = ("  v1 = gaussian(0.0, 1.0)\n  s4 = mean(v1)\n{overwrite}"
             "  v3 = dot(m0, v0)\n  v4 = v3 + v1\n  s1 = dot(v4, v2)\n"
             "  s1 = s1 + s4\n")
    cleared = noise(network(lines.format(overwrite="  v1 = bcast(s3)\n"),
                            setup="  s3 = 0.1\n"))
    assert not cleared.hidden_noise and cleared.noisy_prediction
    kept = noise(network(lines.format(overwrite=""), setup="  s3 = 0.1\n"))
    assert texts(kept.hidden_triggers) == ["Predict 4: v4 = v3 + v1"]


def test_an_overwrite_in_learn_clears_the_taint():
    # Learn draws v1, uses it for s5 (read by Predict), then overwrites v1
    # with a clean value: the v1 Predict adds to the hidden vector is clean.
    r = noise(network("  v3 = dot(m0, v0)\n  v4 = v3 + v1\n  s1 = dot(v4, v2)\n"
                      "  s1 = s1 + s5\n",
                      learn="  v1 = gaussian(0.0, 1.0)\n  s5 = mean(v1)\n"
                            "  v1 = bcast(s3)\n",
                      setup="  s3 = 0.1\n"))
    assert not r.hidden_noise and r.noisy_prediction
    assert texts(r.prediction_sources) == ["Learn 1: v1 = gaussian(0.0, 1.0)"]


def test_an_element_write_keeps_the_taint():
    r = noise(network("  v1[0] = 1.0\n  v3 = dot(m0, v0)\n  v4 = v3 + v1\n"
                      "  s1 = dot(v4, v2)\n",
                      learn="  v1 = gaussian(0.0, 1.0)\n"))
    assert texts(r.hidden_triggers) == ["Predict 3: v4 = v3 + v1"]


def test_s0_and_v0_are_clean_at_every_component_start():
    # Learn leaves noise in v0 and s0; the executor overwrites both before
    # Predict, so v4 = v3 + v0 adds the features and v4 = s0 * v4 scales by
    # 0, not by noise. Within Learn the noisy s0 is read by s2 = s0 - s1, so
    # the weights v2 and the prediction are noisy.
    r = noise(network("  v3 = dot(m0, v0)\n  v4 = v3 + v0\n  v4 = s0 * v4\n"
                      "  s1 = dot(v4, v2)\n",
                      learn="  v0 = gaussian(0.0, 1.0)\n  s0 = mean(v0)\n"))
    assert not r.hidden_noise and not r.input_noise
    assert texts(r.prediction_sources) == ["Learn 1: v0 = gaussian(0.0, 1.0)"]


# ------------------------------------------------- what counts as injection


def test_noisy_weights_are_not_noise_injected_into_activations():
    # m0 and m1 are updated from noise drawn in Learn, so both layers' outputs
    # are noisy, but no noise is added to a hidden vector: the only other
    # input, heaviside(v3), is noisy only through v3 itself.
    r = noise("""
def Setup():
  m0 = gaussian(0.0, 0.1)
  m1 = gaussian(0.0, 0.1)
def Predict():
  v3 = dot(m0, v0)
  v5 = heaviside(v3, 1.0)
  v4 = v3 * v5
  v6 = dot(m1, v4)
  s1 = dot(v6, v2)
def Learn():
  v1 = gaussian(0.0, 1.0)
  m2 = outer(v1, v0)
  m0 = m0 + m2
  m1 = m1 + m2
""")
    assert not r.hidden_noise and not r.input_noise and r.noisy_prediction


def test_noise_through_a_reduction_of_the_hidden_vector_counts():
    # s5 = dot(v3, v1) depends on v3, but its noise comes from v1, not from v3.
    r = noise(network("  v3 = dot(m0, v0)\n  s5 = dot(v3, v1)\n  v4 = s5 * v3\n"
                      "  s1 = dot(v4, v2)\n",
                      learn="  v1 = gaussian(0.0, 1.0)\n"))
    assert texts(r.hidden_triggers) == ["Predict 3: v4 = s5 * v3"]


def test_a_derived_hidden_vector_carries_noise_on():
    # v5 = abs(v3) is hidden too; noise maxed into it counts.
    r = noise(network("  v3 = dot(m0, v0)\n  v5 = abs(v3)\n  v4 = minimum(v5, v1)\n"
                      "  s1 = dot(v4, v2)\n",
                      learn="  v1 = uniform(0.5, 1.0)\n"))
    assert texts(r.hidden_triggers) == ["Predict 3: v4 = minimum(v5, v1)"]


def test_a_product_with_no_feature_input_is_not_hidden():
    # dot(m0, v8) with v8 not computed from the features is not a hidden
    # activation: the noise added to it is neither hidden nor input noise.
    r = noise(network("  v8 = bcast(s3)\n  v3 = dot(m0, v8)\n  v4 = v3 + v1\n"
                      "  s1 = dot(v4, v0)\n  v2 = v2 + v4\n",
                      learn="  v1 = gaussian(0.0, 1.0)\n", setup="  s3 = 0.1\n"))
    assert not r.hidden_noise and not r.input_noise and r.noisy_prediction


def test_to_dict():
    d = noise(S2A).to_dict()
    assert d["hidden_noise"] is True and d["input_noise"] is True
    assert d["hidden_triggers"][0] == {"component": "predict", "index": 2,
                                       "instruction": "v3 = v3 + v1"}
    assert len(d["prediction_sources"]) == len(d["sources"]) == 2
    json.dumps(d)


# ---------------------------------------------------------------- the command


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_cli_one_line_per_program(tmp_path):
    s2a = tmp_path / "s2a.txt"
    s2a.write_text(S2A)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_algorithm(parse_algorithm(FIGURE_5), run_dir / "best_algorithm.json", "json")
    result = run("noise", str(s2a), str(run_dir), str(RAW_BEST))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{s2a}: hidden-activation noise: yes (Predict 3: v3 = v3 + v1, "
        "Predict 4: v4 = maximum(v3, v7)); input noise: yes (Predict 1: "
        "v7 = v5 - v0); noisy prediction: yes",
        f"{run_dir / 'best_algorithm.json'}: hidden-activation noise: no; "
        "input noise: no; noisy prediction: no",
        f"{RAW_BEST}: hidden-activation noise: no; input noise: yes (Predict 1: "
        "v1 = v0 - v9, Predict 2: v5 = v0 + v9); noisy prediction: yes"]


def test_cli_json(tmp_path):
    s2a = tmp_path / "s2a.txt"
    s2a.write_text(S2A)
    result = run("noise", "--json", str(s2a))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["programs"][0]["program"] == str(s2a)
    assert doc["programs"][0]["hidden_noise"] is True
    assert doc["programs"][0]["input_triggers"][0]["instruction"] == "v7 = v5 - v0"


def test_cli_bad_input(tmp_path):
    result = run("noise", str(tmp_path / "missing.txt"))
    assert result.exit_code == 2
    assert "missing.txt" in result.output
    assert run("noise", str(tmp_path)).exit_code == 2  # no best_algorithm.json
    assert run("noise").exit_code == 2  # PROGRAM is required
