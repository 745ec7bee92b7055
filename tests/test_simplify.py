"""Simplification (automl_zero/analysis/simplify.py, docs/analysis.md §1):
hand-built cases, exactness of folding and no-ops against the executor, and
property tests over random programs: static simplification never changes the
fitness, fitness-guided simplification stays within its tolerance, both are
idempotent. Kernel: F = 4 only.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from automl_zero.analysis.simplify import (
    REASON_DEAD,
    REASON_FOLDED,
    REASON_NO_OP,
    REASON_TOLERANCE,
    _fold_value,
    common_seed,
    simplify,
    static_simplify,
)
from automl_zero.config import load_config
from automl_zero.engine.evaluator import Evaluator, TrainBudget, compute_cost
from automl_zero.executor import MemorySpec
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.algorithm_io import load_algorithm
from automl_zero.language.generator import (
    linear_algorithm,
    neural_net_algorithm,
    random_algorithm,
)
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OP_BY_NAME, OPS
from automl_zero.language.text_format import parse_algorithm
from automl_zero.run.cli import cli, make_evaluator
from automl_zero.tasks import make_tasks
from automl_zero.tasks.spec import TaskSpec

CONFIG = "configs/linear_integration.toml"
SMALL = ("search_tasks.0.num_tasks=3", "search_tasks.0.num_train_examples=60",
         "search_tasks.0.num_valid_examples=30")
MEMORY = MemorySpec(6, 9, 2)  # covers the neural net
GEN_SIZES = (6, 4, 2)  # memory of the random programs: small, so they interact


def make_linear_evaluator(seed: int = 0, memory: MemorySpec = MEMORY) -> Evaluator:
    return make_evaluator(load_config(CONFIG, SMALL), "search", seed, memory)


def make_mixed_evaluator(seed: int = 0, budget: TrainBudget | None = None) -> Evaluator:
    """Two regression tasks and one classification task (ACCURACY rewrites s1)."""
    specs = [TaskSpec("scalar_linear_regression_task", 4, 40, 20, num_tasks=2),
             TaskSpec("projected_binary_classification_task", 4, 40, 20,
                      dataset_name="digits")]
    return Evaluator(make_tasks(specs), MEMORY, train_budget=budget, seed=seed)


def fitness_same_seed(evaluator: Evaluator, algorithms) -> np.ndarray:
    with common_seed(evaluator):
        return evaluator.evaluate_many(list(algorithms)).per_task


def bits(x: float) -> int:
    return int(np.float64(x).view(np.int64))


def prog(text: str) -> Algorithm:
    return parse_algorithm(text)


# --------------------------------------------------------------------------
# Hand-built cases.

NOISY_LINEAR = """
def Setup():
  s3 = 2.0
  s2 = 0.1
  s5 = 1.0
  s2 = s2 * s2
  s3 = s3 * s3
  s4 = 0.0
  no_op
def Predict():
  s4 = s3 + s3
  s1 = dot(v1, v0)
  s1 = s1 * s5
  s1 = minimum(s1, s1)
def Learn():
  s3 = s0 - s1
  s3 = s3 * s3
  s3 = s0 - s1
  s3 = s2 * s3
  v2 = s3 * v0
  s4 = s4 * s4
  v1 = v1 + v2
  s5 = 1.0
  s4 = s4 + s3
"""


def test_noisy_linear_regressor_simplifies_to_the_clean_one():
    noisy = prog(NOISY_LINEAR)
    clean = linear_algorithm(0.1 * 0.1)
    result = simplify(noisy)
    assert result.simplified == clean
    assert result.fitness_before is None and result.fitness_after is None
    reasons = {(c.component, c.index): c.reason for c in result.removed}
    assert reasons[("setup", 3)] == REASON_FOLDED  # s2 = s2 * s2 -> s2 = 0.010000000000000002
    assert reasons[("setup", 1)] == REASON_DEAD  # s2 = 0.1, only feeding the fold
    assert reasons[("setup", 6)] == REASON_NO_OP  # no_op
    assert reasons[("predict", 2)] == REASON_NO_OP  # s1 = s1 * s5, s5 = 1.0
    assert reasons[("predict", 3)] == REASON_NO_OP  # minimum(s1, s1)
    assert reasons[("learn", 1)] == REASON_DEAD  # overwritten
    assert reasons[("learn", 7)] == REASON_NO_OP  # s5 = 1.0 again
    assert ("predict", 1) not in reasons and ("learn", 6) not in reasons
    assert len(result.removed) == len(noisy) - len(clean) + 1  # + the folded one
    # With tasks: the same program, the same fitness bit for bit.
    guided = simplify(noisy, make_linear_evaluator())
    assert guided.simplified == clean
    assert guided.fitness_after == guided.fitness_before


def test_fold_of_setup_constants():
    result = simplify(prog("""
def Setup():
  s2 = 0.5
  s3 = s2 * s2
def Predict():
  s1 = s3 * s1
def Learn():
"""))
    assert result.simplified.setup == (Instruction.make("SCALAR_CONST_SET_OP", out=3,
                                                        data=(0.25,)),)
    # s2 still needed: both stay, the product folded.
    result = simplify(prog("""
def Setup():
  s2 = 0.5
  s3 = s2 * s2
def Predict():
  s1 = dot(v1, v0)
  s1 = s1 * s3
  s1 = s1 + s2
def Learn():
  v1 = v0 + v1
"""))
    assert [str(i) for i in result.simplified.setup] == ["s2 = 0.5", "s3 = 0.25"]
    # All inputs known in Predict too: folded there.
    result = simplify(prog("""
def Setup():
  s2 = 0.5
  s3 = s2 * s2
def Predict():
  s1 = s3 * s2
  s1 = s1 * s1
def Learn():
"""))
    assert [str(i) for i in result.simplified.setup] == []
    assert [str(i) for i in result.simplified.predict] == ["s1 = 0.015625"]


def test_constants_across_component_functions():
    # Predict's s2 * s2 folds: nothing after Setup writes s2.
    ok = simplify(prog("""
def Setup():
  s2 = 3.0
def Predict():
  s4 = s2 * s2
  s1 = dot(v1, v0)
  s1 = s1 + s4
def Learn():
  v1 = v0 + v1
"""))
    assert str(ok.simplified.predict[0]) == "s4 = 9.0"
    # Learn writes s2: not a constant in Predict (and nothing folds).
    text = """
def Setup():
  s2 = 3.0
def Predict():
  s4 = s2 * s2
  s1 = dot(v1, v0)
  s1 = s1 + s4
def Learn():
  s2 = s0 - s1
"""
    assert simplify(prog(text)).simplified == prog(text)
    # Predict writes s2 after reading it: the second Predict sees 4.0.
    text = """
def Setup():
  s2 = 3.0
def Predict():
  s1 = s2 * s2
  s2 = 4.0
def Learn():
"""
    assert simplify(prog(text)).simplified == prog(text)
    # s0 is 0 in Setup and in every Predict, the label in Learn.
    result = simplify(prog("""
def Setup():
  s3 = s0 + s0
def Predict():
  s1 = s0 - s3
def Learn():
  s4 = s0 - s1
"""))
    assert [str(i) for i in result.simplified.setup] == []  # writes the 0.0 s3 holds
    assert [str(i) for i in result.simplified.predict] == ["s1 = 0.0"]
    assert [str(i) for i in result.simplified.learn] == []  # s4 is never read


def test_no_ops_are_exact_identities_only():
    def kept(body: str) -> bool:
        text = f"""
def Setup():
  s2 = 1.0
  s3 = -0.0
  s4 = 0.0
def Predict():
  s1 = dot(v1, v0)
  {body}
def Learn():
  v1 = v0 + v1
  m1 = outer(v1, v1)
"""
        return len(simplify(prog(text)).simplified.predict) == 2

    assert not kept("s1 = s1 * s2")  # x * 1.0
    assert not kept("s1 = s2 * s1")
    assert not kept("s1 = s1 / s2")  # x / 1.0
    assert not kept("s1 = s1 - s4")  # x - (+0.0)
    assert not kept("s1 = s1 + s3")  # x + (-0.0)
    assert not kept("s1 = s3 + s1")
    assert not kept("s1 = minimum(s1, s1)")
    assert not kept("s1 = maximum(s1, s1)")
    assert not kept("v1 = s2 * v1")
    assert kept("s1 = s1 + s4")  # -0.0 + 0.0 is +0.0
    assert kept("s1 = s1 - s3")  # -0.0 - (-0.0) is +0.0
    assert kept("s1 = s2 / s1")
    assert kept("s1 = s1 * s3")
    assert kept("s1 = abs(s1)")
    assert kept("s1 = minimum(s1, s2)")
    assert kept("v1 = s3 * v1")


def test_the_identities_hold_for_special_values():
    values = [0.0, -0.0, 1.5, -2.5, 5e-324, -5e-324, 1e308, math.inf, -math.inf, math.nan]
    for x in values:
        for y in (x * 1.0, 1.0 * x, x / 1.0, x - 0.0, x + -0.0, -0.0 + x):
            assert (math.isnan(x) and math.isnan(y)) or bits(x) == bits(y)
        for code in (OP_BY_NAME["SCALAR_MIN_OP"].code, OP_BY_NAME["SCALAR_MAX_OP"].code):
            y = _fold_value(code, x, x)
            assert (math.isnan(x) and math.isnan(y)) or bits(x) == bits(y)


def test_redundant_writes_are_no_ops():
    result = simplify(prog("""
def Setup():
  s3 = 0.0
  s2 = 0.5
  s2 = 0.5
def Predict():
  s2 = 0.5
  s1 = s2 + s3
def Learn():
  s2 = 0.5
"""))
    assert [str(i) for i in result.simplified.setup] == []
    assert [str(i) for i in result.simplified.predict] == ["s1 = 0.5"]


def test_uniform_with_an_empty_range_folds_and_random_ops_stay():
    result = simplify(prog("""
def Setup():
  s2 = uniform(0.5, 0.25)
  s3 = uniform(0.25, 0.5)
  s4 = gaussian(1.0, 0.0)
def Predict():
  s1 = s2 + s3
  s1 = s1 + s4
def Learn():
"""))
    assert [str(i) for i in result.simplified.setup] == [
        "s2 = 0.5", "s3 = uniform(0.25, 0.5)", "s4 = gaussian(1.0, 0.0)"]


def test_fold_values_are_the_executors():
    """Each folded transcendental value is the learning rate of a linear
    regressor: a last-bit difference would change the fitness."""
    names = ["SCALAR_SIN_OP", "SCALAR_COS_OP", "SCALAR_TAN_OP", "SCALAR_ARCSIN_OP",
             "SCALAR_ARCCOS_OP", "SCALAR_ARCTAN_OP", "SCALAR_EXP_OP", "SCALAR_LOG_OP",
             "SCALAR_RECIPROCAL_OP", "SCALAR_DIVISION_OP"]
    rng = np.random.default_rng(5)
    originals = []
    for name in names:
        low, high = (1.05, 2.5) if name == "SCALAR_LOG_OP" else (0.05, 0.95)
        for x in rng.uniform(low, high, size=6):
            fn = Instruction.make(name, out=2, in1=2, in2=3)
            scale = Instruction.make("SCALAR_CONST_SET_OP", out=4, data=(0.01,))
            setup = (Instruction.make("SCALAR_CONST_SET_OP", out=2, data=(float(x),)),
                     Instruction.make("SCALAR_CONST_SET_OP", out=3, data=(3.0,)), fn, scale,
                     Instruction.make("SCALAR_PRODUCT_OP", out=2, in1=2, in2=4))
            base = linear_algorithm()
            originals.append(base.replace(setup=setup))
    simplified = [static_simplify(a) for a in originals]
    for s in simplified:
        assert len(s.setup) == 1 and s.setup[0].op == OP_BY_NAME["SCALAR_CONST_SET_OP"].code
    fit = fitness_same_seed(make_linear_evaluator(), originals + simplified)
    n = len(originals)
    assert np.array_equal(fit[:n], fit[n:])
    # -0.0 keeps its sign: 1 / -0.0 is -inf.
    assert _fold_value(OP_BY_NAME["SCALAR_RECIPROCAL_OP"].code, -0.0, None) == -math.inf
    assert _fold_value(OP_BY_NAME["SCALAR_HEAVYSIDE_OP"].code, -0.0, None) == 1.0
    assert math.isnan(_fold_value(OP_BY_NAME["SCALAR_LOG_OP"].code, -1.0, None))


def test_folding_never_raises_a_component_cost():
    # abs is cheaper than SCALAR_CONST_SET_OP: folding it in Predict would
    # raise Predict's cost (s2 stays needed), so it stays.
    text = """
def Setup():
  s2 = -0.5
def Predict():
  s3 = abs(s2)
  s1 = dot(v1, v0)
  s1 = s1 * s3
  s1 = s1 + s2
def Learn():
  v1 = v1 + v0
"""
    alg = prog(text)
    out = static_simplify(alg)
    assert out == alg
    # In Setup the fold pays for itself: s2 = -0.5 dies with it.
    alg2 = prog(text.replace("  s3 = abs(s2)\n", "").replace("s2 = -0.5",
                                                             "s2 = -0.5\n  s3 = abs(s2)")
                .replace("  s1 = s1 + s2\n", ""))
    assert [str(i) for i in static_simplify(alg2).setup] == ["s3 = 0.5"]


def test_bad_tolerance():
    for bad in (-0.1, math.nan, math.inf, "x"):
        with pytest.raises(ValueError, match="tolerance"):
            simplify(linear_algorithm(), None, bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Random programs.

SCALAR_OPS = [c for c in range(1, 16)] + [44, 47, 56, 56, 56, 59]
LINEAR_OPS = [27, 2, 3, 18, 23, 56]
OTHER_OPS = [19, 21, 22, 24, 25, 28, 31, 32, 41, 45, 48, 50, 54, 57]
RANDOM_OPS = [59, 60, 62, 63, 64]


def nudge(rng: np.random.Generator, ins: Instruction) -> Instruction:
    """Make near-identities frequent: constants 1.0, +-0.0, and in-place ops."""
    spec = OPS[ins.op]
    if ins.op == OP_BY_NAME["SCALAR_CONST_SET_OP"].code and rng.random() < 0.5:
        return Instruction.make(ins.op, out=ins.out,
                                data=(float(rng.choice([1.0, 0.0, -0.0, 2.0])),))
    if spec.num_inputs == 2 and spec.in1 == spec.out and rng.random() < 0.4:
        return Instruction(ins.op, ins.in1, ins.in2, ins.in1, ins.data)
    return ins


def random_program(rng: np.random.Generator, with_random: bool = False) -> Algorithm:
    """Scalar-heavy random programs (so that constants fold), half of them
    spliced around the linear regressor (so that they learn something)."""
    ops = SCALAR_OPS + LINEAR_OPS + OTHER_OPS + (RANDOM_OPS if with_random else [])
    sizes = (int(rng.integers(1, 9)), int(rng.integers(1, 5)), int(rng.integers(0, 9)))
    junk = random_algorithm(sizes, (ops, ops, ops), GEN_SIZES, rng)
    junk = Algorithm(*(tuple(nudge(rng, ins) for ins in comp) for comp in junk.components))
    if rng.random() < 0.5:
        return junk
    base = linear_algorithm(float(rng.choice([0.01, 0.05, 0.1])))
    parts = []
    for core, extra in zip(base.components, junk.components, strict=True):
        out = list(core)
        for ins in extra:
            out.insert(int(rng.integers(len(out) + 1)), ins)
        parts.append(tuple(out))
    return Algorithm(*parts)


def test_static_simplification_keeps_the_fitness_bit_for_bit():
    rng = np.random.default_rng(1)
    originals = [random_program(rng) for _ in range(150)]
    originals += [linear_algorithm(), neural_net_algorithm(), prog(NOISY_LINEAR)]
    results = [simplify(a) for a in originals]
    simplified = [r.simplified for r in results]
    folded = sum(any(c.reason == REASON_FOLDED for c in r.removed) for r in results)
    no_ops = sum(any(c.reason == REASON_NO_OP and c.instruction.op != 0
                     for c in r.removed) for r in results)
    assert folded >= 20 and no_ops >= 5  # the cases are exercised
    for a, s in zip(originals, simplified, strict=True):
        for c in range(3):  # costs never rise
            assert compute_cost(s.components[c]) <= compute_cost(a.components[c])
        assert static_simplify(s) == s  # idempotent
    ev = make_mixed_evaluator()
    fit = fitness_same_seed(ev, originals + simplified)
    n = len(originals)
    assert np.array_equal(fit[:n], fit[n:])
    assert len({round(float(f), 12) for f in fit[:n].mean(axis=1)}) > 20  # varied


def test_static_simplification_keeps_random_streams():
    rng = np.random.default_rng(2)
    originals = [random_program(rng, with_random=True) for _ in range(60)]
    originals.append(neural_net_algorithm())
    simplified = [static_simplify(a) for a in originals]
    fit = fitness_same_seed(make_mixed_evaluator(), originals + simplified)
    n = len(originals)
    assert np.array_equal(fit[:n], fit[n:])


@pytest.mark.parametrize("tolerance", [0.0, 0.01])
def test_guided_simplification_stays_within_tolerance(tolerance):
    rng = np.random.default_rng(3)
    originals = [random_program(rng) for _ in range(100)]
    originals += [linear_algorithm(), neural_net_algorithm(), prog(NOISY_LINEAR)]
    removed = 0
    for k, alg in enumerate(originals):
        result = simplify(alg, make_linear_evaluator(seed=k), tolerance)
        assert abs(result.fitness_after - result.fitness_before) <= tolerance
        assert len(result.simplified) <= len(static_simplify(alg))
        removed += sum(c.reason == REASON_TOLERANCE for c in result.removed)
        for c in result.removed:
            if c.reason == REASON_TOLERANCE:
                assert abs(c.fitness_change) <= tolerance
        # Measured again, with the same seed: the reported fitnesses.
        fit = fitness_same_seed(make_linear_evaluator(seed=k),
                                [alg, result.simplified]).mean(axis=1)
        assert fit[0] == result.fitness_before and fit[1] == result.fitness_after
        if tolerance == 0.0 and k % 4 == 0:  # idempotent at tolerance 0
            again = simplify(result.simplified, make_linear_evaluator(seed=k), 0.0)
            assert again.simplified == result.simplified
    assert removed >= 10


def test_guided_simplification_of_hand_designed_programs():
    ev = make_linear_evaluator(memory=MemorySpec(5, 9, 2))
    lin = simplify(linear_algorithm(), ev)
    assert lin.simplified == linear_algorithm() and lin.removed == ()
    nn = simplify(neural_net_algorithm(), make_linear_evaluator(memory=MemorySpec(5, 9, 2)),
                  0.01)
    assert abs(nn.fitness_after - nn.fitness_before) <= 0.01
    # The fitness is measured with the evaluator's next seed, as `evaluate` does.
    assert nn.fitness_before == make_linear_evaluator(
        memory=MemorySpec(5, 9, 2)).evaluate(neural_net_algorithm())


def test_over_budget_programs_keep_their_fitness():
    """The train budget judges the program as written: dead code can push a
    program over it (fitness 0), and its removal would change the fitness."""
    noisy = prog(NOISY_LINEAR)
    budget = TrainBudget(linear_algorithm(), threshold_factor=1.2)
    ev = make_mixed_evaluator(budget=budget)
    result = simplify(noisy, ev, 0.0)
    assert result.fitness_before == 0.0
    assert result.fitness_after == result.fitness_before
    assert result.notes and "train budget" in result.notes[0]


# --------------------------------------------------------------------------
# Command line.

def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_cli_static_and_with_config(tmp_path):
    path = tmp_path / "noisy.txt"
    path.write_text(NOISY_LINEAR)
    result = run("simplify", str(path))
    assert result.exit_code == 0, result.output
    assert "static simplification only" in result.output
    assert "folded → s2 = 0.010000000000000002" in result.output
    out = tmp_path / "clean.txt"
    result = run("simplify", str(path), "--config", CONFIG, *sum((["--set", s] for s in SMALL),
                                                                 []), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "fitness" in result.output and "static simplification only" not in result.output
    assert "note:" in result.output  # memory 6/3/1 extended from 4/3/1
    assert load_algorithm(out) == linear_algorithm(0.1 * 0.1)
    result = run("simplify", str(path), "--config", CONFIG, "--set", SMALL[0], "--json",
                 "--tolerance", "0.5", "-o", str(tmp_path / "c.json"))
    assert result.exit_code == 0, result.output
    data = json.loads([ln for ln in result.output.splitlines() if ln.startswith("{")][0])
    assert data["tolerance"] == 0.5 and data["num_tasks"] == 3
    assert abs(data["fitness_after"] - data["fitness_before"]) <= 0.5
    assert load_algorithm(tmp_path / "c.json") == parse_algorithm(data["simplified"])


@pytest.mark.parametrize("args, message", [
    (("simplify", "nope.txt"), "nope.txt: algorithm file not found"),
    (("simplify", "BAD"), "line 2"),
    (("simplify", "examples/linear_regressor.txt", "--tolerance", "-1"), "--tolerance"),
    (("simplify", "examples/linear_regressor.txt", "--tolerance", "abc"), "--tolerance"),
    (("simplify", "examples/linear_regressor.txt", "--tolerance", "nan"), "--tolerance"),
    (("simplify", "examples/linear_regressor.txt", "--config", "nope.toml"),
     "config file not found"),
    (("simplify", "examples/linear_regressor.txt", "--set", "a=1"), "--set needs --config"),
    (("simplify", "examples/linear_regressor.txt", "-o", "no/such/dir/x.txt"), "no/such"),
])
def test_cli_errors_are_one_line(tmp_path, args, message):
    bad = tmp_path / "bad.txt"
    bad.write_text("def Setup():\n  s2 = frobnicate(s1)\n")
    args = tuple(str(bad) if a == "BAD" else a for a in args)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_ops_foldable_set():
    from automl_zero.analysis.simplify import _FOLDABLE
    assert sorted(OPS[c].name for c in _FOLDABLE) == sorted(
        OPS[c].name for c in list(range(1, 16)) + [44, 47])
