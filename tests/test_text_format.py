"""Tests of the paper-style text format: printer, parser, round trips (docs/semantics.md §2)."""

from __future__ import annotations

import math
import re
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automl_zero.errors import ProgramParseError
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.instruction import Instruction, index_to_float
from automl_zero.language.ops import OPS, DataKind, Kind, op_by_name
from automl_zero.language.text_format import (
    constant_slots,
    format_algorithm,
    format_instruction,
    format_number,
    index_slots,
    parse_algorithm,
    parse_instruction,
)

TOP_INDEX = float(np.nextafter(np.float32(1), np.float32(0)))  # 0.99999994

# --------------------------------------------------------------------------
# Random algorithms over the whole op table

SPECIAL_VALUES = (0.0, -0.0, 1.0, -1.0, 0.1, -2.4, 1.8e-3, 1e-10, -1e-10, 5e-324,
                  1e-45, -1e-300, 1e300, -3.4e38, 3.5e38, 123456789.0, math.inf,
                  -math.inf, math.nan)
INDEX_VALUES = (0.0, 0.5, 0.625, 1e-45, TOP_INDEX, 1.0)


def random_value(rng: np.random.Generator) -> float:
    if rng.random() < 0.4:
        return SPECIAL_VALUES[rng.integers(len(SPECIAL_VALUES))]
    return float(rng.normal() * 10.0 ** rng.uniform(-12, 12))


def random_instruction(rng: np.random.Generator, op=None) -> Instruction:
    op = OPS[rng.integers(len(OPS))] if op is None else op
    data = [0.0, 0.0, 0.0]
    for slot in constant_slots(op):
        if slot in index_slots(op):
            data[slot] = (INDEX_VALUES[rng.integers(len(INDEX_VALUES))]
                          if rng.random() < 0.5 else float(rng.random()))
        else:
            data[slot] = random_value(rng)
    with np.errstate(over="ignore"):  # float32 rounding of 1e300 -> inf is intended
        return Instruction.make(op, out=int(rng.integers(20)), in1=int(rng.integers(20)),
                                in2=int(rng.integers(20)), data=tuple(data))


def random_algorithm(rng: np.random.Generator, max_size: int = 12) -> Algorithm:
    return Algorithm(*(tuple(random_instruction(rng)
                             for _ in range(rng.integers(max_size + 1)))
                       for _ in range(3)))


def exact_key(alg: Algorithm) -> tuple:
    """Bit-exact identity of an algorithm, with every NaN equal to every NaN.

    (``==`` on instructions treats two NaN objects as different.)
    """
    def bits(x: float) -> object:
        return "nan" if math.isnan(x) else struct.pack("<d", x)

    return tuple(tuple((i.op, i.in1, i.in2, i.out, tuple(bits(x) for x in i.data))
                       for i in component) for component in alg.components)


def has_nan(alg: Algorithm) -> bool:
    return any(math.isnan(x) for c in alg.components for i in c for x in i.data)


# --------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(("value", "float32", "text"), [
    (0.001, False, "0.001"), (1e-10, False, "1e-10"), (-2.0, False, "-2.0"),
    (1.8e-3, False, "0.0018"), (-0.0, False, "-0.0"), (math.inf, False, "inf"),
    (-math.inf, False, "-inf"), (math.nan, False, "nan"), (0.0024, True, "0.0024"),
    (float(np.float32(0.7)), True, "0.7"), (TOP_INDEX, True, "0.99999994"),
    (5.0, True, "5.0"), (1e-45, True, "1e-45"), (-math.inf, True, "-inf"),
])
def test_format_number_examples(value, float32, text):
    assert format_number(value, float32=float32) == text


def test_format_number_round_trips_float64_and_float32_bits():
    rng = np.random.default_rng(1)
    for x in rng.integers(0, 2**64, 3000, dtype=np.uint64).view(np.float64):
        if np.isfinite(x):
            assert float(format_number(float(x))) == float(x)
    for x in rng.integers(0, 2**32, 3000, dtype=np.uint64).astype(np.uint32).view(np.float32):
        if np.isfinite(x):
            text = format_number(float(x), float32=True)
            assert np.float32(float(text)).view(np.uint32) == x.view(np.uint32)
            digits = re.sub(r"e.*", "", text).replace("-", "").replace(".", "").strip("0")
            assert len(digits) <= 9  # shortest float32 text, not the float64 expansion


# --------------------------------------------------------------------------
# Table-driven: every op and every accepted form


def _example(op) -> Instruction:
    data = [0.0, 0.0, 0.0]
    for slot, value in zip(constant_slots(op), (0.25, -1.5, 0.75), strict=False):
        data[slot] = value if slot not in index_slots(op) else 0.625
    return Instruction.make(op, out=3, in1=11, in2=7, data=tuple(data))


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_every_op_prints_its_fmt_and_parses_back(op):
    ins = _example(op)
    consts = {f"d{i}": format_number(ins.data[i], op.data != DataKind.ACTIVATION)
              for i in range(3)}
    text = format_instruction(ins)
    assert text == op.fmt.format(o=3, a=11, b=7, **consts)
    assert str(ins) == text
    assert parse_instruction(text) == ins
    # The op is recoverable from the address letters, function name and literals only.
    assert parse_instruction(text).op == op.code


ALL_FORMS = [(op, fmt) for op in OPS for fmt in (op.fmt, *op.alt_fmts)]


@pytest.mark.parametrize(("op", "fmt"), ALL_FORMS,
                         ids=[f"{op.name}:{fmt}" for op, fmt in ALL_FORMS])
def test_every_accepted_form_parses_to_its_op(op, fmt):
    ins = _example(op)
    consts = {f"d{i}": format_number(ins.data[i], op.data != DataKind.ACTIVATION)
              for i in range(3)}
    text = fmt.format(o=3, a=11, b=7, **consts)
    assert parse_instruction(text) == ins
    # Whitespace-insensitive: squeeze out all optional spaces, then pad generously.
    squeezed = re.sub(r"\s*([=+*/(),\[\]-])\s*", r"\1", text)
    assert parse_instruction(squeezed) == ins
    assert parse_instruction("  " + text.replace(" ", "   ") + "   ") == ins


def test_op_classes_are_distinguished_by_the_text():
    assert parse_instruction("v3 = v1 * v2").op == op_by_name("VECTOR_PRODUCT_OP").code
    assert parse_instruction("v3 = s1 * v2").op == op_by_name("SCALAR_VECTOR_PRODUCT_OP").code
    assert parse_instruction("v3 = 1 / v2").op == op_by_name("VECTOR_RECIPROCAL_OP").code
    assert parse_instruction("v3 = v1 / v2").op == op_by_name("VECTOR_DIVISION_OP").code
    assert parse_instruction("s3 = mean(m1)").op == op_by_name("MATRIX_MEAN_OP").code
    assert parse_instruction("v3 = mean(m1, axis=1)").op == op_by_name("MATRIX_ROW_MEAN_OP").code
    assert parse_instruction("m3 = bcast(v1, axis=0)").op == \
        op_by_name("VECTOR_COLUMN_BROADCAST_OP").code
    assert parse_instruction("m3 = bcast(v1, axis=1)").op == \
        op_by_name("VECTOR_ROW_BROADCAST_OP").code
    assert parse_instruction("s2 = heaviside(s1)") == parse_instruction("s2 = heaviside(s1, 1)")


def test_printed_instruction_examples():
    assert format_instruction(Instruction.make("SCALAR_DIFF_OP", out=3, in1=0, in2=1)) \
        == "s3 = s0 - s1"
    assert format_instruction(Instruction.make("SCALAR_VECTOR_PRODUCT_OP", out=2, in1=4,
                                               in2=0)) == "v2 = s4 * v0"
    assert format_instruction(Instruction.make("VECTOR_UNIFORM_SET_OP", out=9,
                                               data=(0.002, 0.7))) == "v9 = uniform(0.002, 0.7)"
    assert format_instruction(Instruction.make("SCALAR_CONST_SET_OP", out=2,
                                               data=(0.001,))) == "s2 = 0.001"
    assert format_instruction(Instruction.make("VECTOR_CONST_SET_OP", out=3,
                                               data=(0.625, -2.4))) == "v3[0.625] = -2.4"
    assert format_instruction(Instruction.make("NO_OP")) == "no_op"


# --------------------------------------------------------------------------
# Round trips


def test_random_algorithms_round_trip_exactly():
    rng = np.random.default_rng(0)
    for _ in range(300):
        alg = random_algorithm(rng)
        text = format_algorithm(alg)
        back = parse_algorithm(text)
        assert exact_key(back) == exact_key(alg), text
        if not has_nan(alg):
            assert back == alg
        assert format_algorithm(back) == text


def test_round_trip_covers_every_op():
    rng = np.random.default_rng(7)
    for op in OPS:
        component = tuple(random_instruction(rng, op) for _ in range(20))
        alg = Algorithm(component, component, ())
        assert exact_key(parse_algorithm(format_algorithm(alg))) == exact_key(alg)


def test_nan_constants_parse_to_one_canonical_nan():
    alg = parse_algorithm("def Setup():\n  s2 = nan\n  s3 = -nan\n  v1 = uniform(nan, 1.0)\n")
    assert alg == parse_algorithm(format_algorithm(alg))  # NaN objects are shared
    assert all(math.isnan(i.data[0]) for i in alg.setup)


@st.composite
def instructions(draw) -> Instruction:
    op = draw(st.sampled_from(OPS))
    addr = st.integers(0, 65535)
    data = [0.0, 0.0, 0.0]
    for slot in constant_slots(op):
        if slot in index_slots(op):
            data[slot] = draw(st.floats(0.0, 1.0, width=32))
        elif op.data == DataKind.ACTIVATION:
            data[slot] = draw(st.floats(allow_nan=True, allow_infinity=True))
        else:
            data[slot] = draw(st.floats(width=32, allow_nan=True, allow_infinity=True))
    return Instruction.make(op, out=draw(addr), in1=draw(addr), in2=draw(addr),
                            data=tuple(data))


algorithms = st.builds(Algorithm, *(st.lists(instructions(), max_size=6).map(tuple)
                                    for _ in range(3)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(algorithms)
def test_round_trip_hypothesis(alg):
    back = parse_algorithm(format_algorithm(alg))
    assert exact_key(back) == exact_key(alg)


@settings(max_examples=150, deadline=None)
@given(st.floats(allow_nan=False), st.booleans())
def test_format_number_round_trip_hypothesis(x, float32):
    with np.errstate(over="ignore"):
        expected = float(np.float32(x)) if float32 else x
        parsed = float(format_number(x, float32=float32))
        if float32:  # the text maps back to the float32 after float32 rounding
            parsed = float(np.float32(parsed))
    assert struct.pack("<d", parsed) == struct.pack("<d", expected)


# --------------------------------------------------------------------------
# The original README's, the paper's and the generator's algorithms

README_MULTILINE = """\
def Setup():
  s2 = 0.001
def Predict():
  s1 = dot(v0, v1)
def Learn():
  s3 = s0 - s1
  s4 = s3 * s2
  v2 = v0 * s4
  v1 = v1 + v2
"""

README_SINGLE_LINE = """\
def Setup():   s2 = 0.001
def Predict(): s1 = dot(v0, v1)
def Learn():   s3 = s0 - s1; s4 = s3 * s2; v2 = v0 * s4; v1 = v1 + v2
"""

FIGURE_6 = """\
def Setup():
  s3 = 1.8e-3                   # Learning rate
def Predict():                  # v0 = features
  v2 = v0 + v1                  # Add noise
  v3 = v0 - v1                  # Subtract noise
  v4 = dot(m0, v2)              # Linear
  s1 = dot(v3, v4)              # Multiplicative interaction
  m0 = s2 * m2                  # Copy weights
def Learn():                    # v0 = features; s0 = label
  s3 = s0 - s1                  # Compute error
  m0 = outer(v3, v0)            # Approximate gradient
  s2 = norm(m0)                 # Approximate gradient norm
  s5 = s3 / s2                  # Normalized error
  v5 = s5 * v3
  m0 = outer(v5, v2)            # Gradient
  m1 = m1 + m0                  # Update weights
  m2 = m2 + m1                  # Accumulate weights
  m0 = s4 * m1
  v1 = uniform(2.4e-3, 0.67)    # Noise
"""

FIGURE_S1A = """\
def Setup():
  s4 = uniform(0.6, 0.2)
  v3 = gaussian(0.7, 0.4)
  v12 = gaussian(0.2, 0.6)
  s1 = uniform(-0.1, -0.2)
def Predict():
  v1 = v0 - v9
  v5 = v0 + v9
  v6 = dot(m1, v5)
  m1 = s2 * m2
  s1 = dot(v6, v1)
  s6 = cos(s4)
def Learn():
  s4 = s0 - s1
  s3 = abs(s1)
  m1 = outer(v1, v0)
  s5 = sin(s4)
  s2 = norm(m1)
  s7 = s5 / s2
  s4 = s4 + s6
  v11 = s7 * v1
  m1 = heaviside(m2)
  m1 = outer(v11, v5)
  m0 = m1 + m0
  v9 = uniform(2e-3, 0.7)
  s7 = log(s0)
  s4 = std(m0)
  m2 = m2 + m0
  m1 = s4 * m0
"""

FIGURE_5 = """\
def Setup():
  m1 = gaussian(-1e-10, 9e-09)  # 1st layer weights
  s3 = 4.1                      # Set learning rate
  v4 = gaussian(-0.033, 0.01)   # 2nd layer weights
def Predict():                  # v0=features
  v6 = dot(m1, v0)              # Apply 1st layer weights
  v7 = maximum(0, v6)           # Apply ReLU
  s1 = dot(v7, v4)              # Compute prediction
def Learn():                    # s0=label
  v3 = heaviside(v6, 1.0)       # ReLU gradient
  s1 = s0 - s1                  # Compute error
  s2 = s1 * s3                  # Scale by learning rate
  v2 = s2 * v3                  # Approx. 2nd layer weight delta
  v3 = v2 * v4                  # Gradient w.r.t. activations
  m0 = outer(v3, v0)            # 1st layer weight delta
  m1 = m1 + m0                  # Update 1st layer weights
  v4 = v2 + v4                  # Update 2nd layer weights
"""


def I(name: str, out: int = 0, in1: int = 0, in2: int = 0, data=()) -> Instruction:  # noqa: E743
    return Instruction.make(name, out=out, in1=in1, in2=in2, data=data)


README_EXPECTED = Algorithm(
    (I("SCALAR_CONST_SET_OP", 2, data=(0.001,)),),
    (I("VECTOR_INNER_PRODUCT_OP", 1, 0, 1),),
    (I("SCALAR_DIFF_OP", 3, 0, 1), I("SCALAR_PRODUCT_OP", 4, 3, 2),
     I("SCALAR_VECTOR_PRODUCT_OP", 2, 4, 0),  # v2 = v0 * s4: the vector-first alt form
     I("VECTOR_SUM_OP", 1, 1, 2)),
)


@pytest.mark.parametrize("text", [README_MULTILINE, README_SINGLE_LINE])
def test_readme_linear_regressor(text):
    alg = parse_algorithm(text)
    assert alg == README_EXPECTED
    assert alg.setup[0].data[0] == 0.001  # float64, not float32-rounded
    assert parse_algorithm(format_algorithm(alg)) == alg
    assert format_algorithm(alg) == README_MULTILINE.replace("v0 * s4", "s4 * v0")


def test_figure_6_best_evolved_algorithm():
    alg = parse_algorithm(FIGURE_6)
    assert (len(alg.setup), len(alg.predict), len(alg.learn)) == (1, 5, 10)
    assert alg.setup[0] == I("SCALAR_CONST_SET_OP", 3, data=(1.8e-3,))
    assert alg.predict[2] == I("MATRIX_VECTOR_PRODUCT_OP", 4, 0, 2)
    assert alg.predict[4] == I("SCALAR_MATRIX_PRODUCT_OP", 0, 2, 2)
    assert alg.learn[2] == I("MATRIX_NORM_OP", 2, 0)
    assert alg.learn[3] == I("SCALAR_DIVISION_OP", 5, 3, 2)
    assert alg.learn[9] == I("VECTOR_UNIFORM_SET_OP", 1, data=(2.4e-3, 0.67))
    assert alg.learn[9].data[:2] == (float(np.float32(2.4e-3)), float(np.float32(0.67)))
    assert parse_algorithm(format_algorithm(alg)) == alg


def test_figure_s1a_raw_best_algorithm():
    alg = parse_algorithm(FIGURE_S1A)
    assert (len(alg.setup), len(alg.predict), len(alg.learn)) == (4, 6, 16)
    assert alg.setup[0] == I("SCALAR_UNIFORM_SET_OP", 4, data=(0.6, 0.2))  # unordered
    assert alg.setup[2] == I("VECTOR_GAUSSIAN_SET_OP", 12, data=(0.2, 0.6))
    assert alg.predict[0] == I("VECTOR_DIFF_OP", 1, 0, 9)
    assert alg.predict[5] == I("SCALAR_COS_OP", 6, 4)
    assert alg.learn[8] == I("MATRIX_HEAVYSIDE_OP", 1, 2)  # heaviside(m2) without ", 1.0"
    assert alg.learn[11] == I("VECTOR_UNIFORM_SET_OP", 9, data=(2e-3, 0.7))
    assert alg.learn[13] == I("MATRIX_ST_DEV_OP", 4, 0)
    assert alg.learn[15] == I("SCALAR_MATRIX_PRODUCT_OP", 1, 4, 0)
    assert parse_algorithm(format_algorithm(alg)) == alg


def test_figure_5_literal_operand_is_explained():
    with pytest.raises(ProgramParseError, match=r"^line 7: .*maximum\(0, v6\).*literal "
                       r"constants are not operands.*v7 = maximum\(vK, v6\)"):
        parse_algorithm(FIGURE_5)
    fixed = parse_algorithm(FIGURE_5.replace("maximum(0, v6)", "maximum(v6, v5)"))
    assert fixed.predict[1] == I("VECTOR_MAX_OP", 7, 6, 5)
    assert fixed.setup[0].data[:2] == (float(np.float32(-1e-10)), float(np.float32(9e-09)))
    assert fixed.learn[0] == I("VECTOR_HEAVYSIDE_OP", 3, 6)
    assert fixed.learn[4] == I("VECTOR_PRODUCT_OP", 3, 2, 4)


def test_generator_neural_net_and_flawed_sgd_forms():
    flawed = parse_algorithm("""\
def Setup():   v1 = gaussian(0.0, 0.01); s2 = -1.3
def Predict(): s1 = dot(v0, v1)
def Learn():   s3 = s1 / s2; s1 = s0 + s3; v2 = s1 * v0; v1 = v1 + v2
""")
    assert flawed.setup[1] == I("SCALAR_CONST_SET_OP", 2, data=(-1.3,))
    assert flawed.learn[2] == I("SCALAR_VECTOR_PRODUCT_OP", 2, 1, 0)
    nn_learn = parse_algorithm("def Learn():\n  v8 = heaviside(v3)\n  m1 = outer(v7, v0)\n")
    assert nn_learn.learn == (I("VECTOR_HEAVYSIDE_OP", 8, 3), I("VECTOR_OUTER_PRODUCT_OP", 1, 7, 0))


# --------------------------------------------------------------------------
# Layout: headers, comments, ';', pass, order


def test_layout_variants():
    text = """
# a comment line

def Learn():  s3 = s0 - s1 ;  ; pass   # trailing comment
  pass
def Setup(): pass
def Predict ( ) :
\ts1 = dot(v0, v1); s2 = 2
"""
    alg = parse_algorithm(text)
    assert alg.setup == ()
    assert alg.predict == (I("VECTOR_INNER_PRODUCT_OP", 1, 0, 1),
                           I("SCALAR_CONST_SET_OP", 2, data=(2.0,)))
    assert alg.learn == (I("SCALAR_DIFF_OP", 3, 0, 1),)
    assert parse_algorithm("") == Algorithm()
    assert parse_algorithm("def Predict():\n") == Algorithm()
    assert format_algorithm(Algorithm()) == "def Setup():\ndef Predict():\ndef Learn():\n"
    assert parse_algorithm("def Setup():\r\n  no_op\r\n").setup == (I("NO_OP"),)


@pytest.mark.parametrize(("text", "value"), [
    ("1.8e-3", 1.8e-3), ("-1e-10", -1e-10), ("9e-09", 9e-09), (".5", 0.5), ("+2", 2.0),
    ("inf", math.inf), ("-inf", -math.inf), ("1.", 1.0), ("-0", -0.0), ("1E5", 1e5),
])
def test_number_syntax(text, value):
    got = parse_instruction(f"s2 = {text}").data[0]
    assert struct.pack("<d", got) == struct.pack("<d", value)
    assert math.isnan(parse_instruction("s2 = -nan").data[0])


def test_float32_fields_are_rounded():
    ins = parse_instruction("v1 = gaussian(0.1, 1e300)")
    assert ins.data == (float(np.float32(0.1)), math.inf, 0.0)


# --------------------------------------------------------------------------
# Const-set indices


def test_const_set_indices():
    assert parse_instruction("v3[0.625] = -2.4").data == (0.625, float(np.float32(-2.4)), 0.0)
    assert parse_instruction("v3[0] = 1.0").data[0] == 0.0
    assert parse_instruction("v3[1] = 1.0").data[0] == TOP_INDEX  # the original's %g "1"
    assert parse_instruction("v3[1.0] = 1.0").data[0] == 1.0  # a code, as printed by us
    # Paper Table S1 style: integer element numbers need the feature size.
    assert parse_instruction("v3[5] = -2.4", feature_size=16).data[0] == index_to_float(5, 16)
    m = parse_instruction("m2[5, 1] = -0.03", feature_size=8)
    assert m.data[:2] == (index_to_float(5, 8), index_to_float(1, 8))
    assert m.data[2] == float(np.float32(-0.03))
    assert parse_instruction("v3[0.5] = 1", feature_size=4).data[0] == 0.5
    with pytest.raises(ProgramParseError, match="pass feature_size"):
        parse_instruction("v3[5] = -2.4")
    with pytest.raises(ProgramParseError, match="out of range for feature size 4"):
        parse_instruction("v3[4] = 1", feature_size=4)
    with pytest.raises(ProgramParseError, match=r"index 1\.5"):
        parse_instruction("m3[0.5, 1.5] = 1")
    with pytest.raises(ProgramParseError, match=r"index -0\.5"):
        parse_instruction("v3[-0.5] = 1")
    with pytest.raises(ValueError, match="feature_size"):
        parse_algorithm("", feature_size=0)


# --------------------------------------------------------------------------
# Errors


MALFORMED = [
    # (text, line number, part of the message)
    ("def Setup():\n  s2 = 0.1\n\n\n\n\n  s2 = s1\n", 7,
     "'s2 = s1' is not an instruction of the op set"),
    ("# header missing\n\n  s1 = s2 + s3\n", 3,
     "instruction outside def Setup()/Predict()/Learn()"),
    ("def Predict():\n  s1 = s2 + s3\ndef Learn():\n  no_op\n\n\n\n\ndef Predict():\n", 9,
     "duplicate def Predict()"),
    ("def Learn():\n  s2 = sqrt(s1)\n", 2, "unknown function 'sqrt'"),
    ("def Learn():\n  s1 = s2 + s0\n  s3 = s-1 + s2\n", 3, "negative address 's-1'"),
    ("def Learn():\n  s3 = s1.5 + s2\n", 2, "malformed address 's1.5'"),
    ("def Setup():\n  s2 = 1.2.3\n", 2, "bad number '1.2.3'"),
    ("def Setup():\n  s2 = 1e\n", 2, "bad number '1e'"),
    ("def Setup():\n  s2 = 1\ndef Predict():\n  v7 = maximum(0, v6)\n", 4,
     "literal constants are not operands"),
    ("def Learn():\n  v3 = s0 + s1\n", 2, "forms of this shape: s3 = s0 + s1, v3 = v0 + v1"),
    ("def Train():\n", 1, "unknown component function"),
    ("def Setup:\n", 1, "malformed header"),
    ("def Setup():\n  s70000 = s1 + s2\n", 2, "out of range"),
    ("def Setup():\n  v3[5] = 2\n", 2, "pass feature_size (CLI: --config)"),
    ("def Learn():\n  s2 = heaviside(s1, 0.5)\n", 2, "did you mean 's2 = heaviside(s1, 1.0)'"),
    ("def Learn():\n  s2 = s1 +\n", 2, "is not an instruction"),
    ("def Learn():\n  s1 = s2 + s3; s4 = s5 ++ s6\n", 2, "'s4 = s5 ++ s6'"),
    ("def Learn():\n  s1 = s2 + s3 = s4\n", 2, "is not an instruction"),
]


@pytest.mark.parametrize(("text", "line", "message"), MALFORMED,
                         ids=[m[2][:30] for m in MALFORMED])
def test_malformed_programs(text, line, message):
    with pytest.raises(ProgramParseError) as info:
        parse_algorithm(text)
    assert str(info.value).startswith(f"line {line}: ")
    assert message in str(info.value)


def test_parse_instruction_errors_have_no_line_number():
    with pytest.raises(ProgramParseError, match=r"^'s2 = s1' is not an instruction"):
        parse_instruction("s2 = s1")
    assert parse_instruction("s3 = s0 - s1  # comment") == I("SCALAR_DIFF_OP", 3, 0, 1)


def test_unused_fields_are_zero():
    ins = parse_instruction("s3 = abs(s5)")
    assert (ins.in1, ins.in2, ins.out, ins.data) == (5, 0, 3, (0.0, 0.0, 0.0))
    ins = parse_instruction("v3 = uniform(0.5, 1.5)")
    assert (ins.in1, ins.in2, ins.out, ins.data[2]) == (0, 0, 3, 0.0)
    assert all(op.in1 == Kind.NONE for op in OPS if constant_slots(op))


# --------------------------------------------------------------------------
# Hostile input: every problem is a ProgramParseError naming the line, with a
# bounded excerpt of the text.


def _parse_error(text: str, **kw) -> str:
    with pytest.raises(ProgramParseError) as info:
        parse_algorithm(text, **kw)
    return str(info.value)


@pytest.mark.parametrize(("line", "message"), [
    ("3.5 = s1 + s2", "the number '3.5' stands where the output address goes"),
    ("3 = s1 + s2", "the number '3' stands where the output address goes"),
    ("-1e3 = dot(v1, v2)", "stands where the output address goes; an instruction writes "
                           "to an address, e.g. 'sK = dot(v1, v2)' with K a scalar"),
    ("s1 = 2.0 + s2", "literal constants are not operands ('2.0' here)"),
])
def test_number_in_an_address_position(line, message):
    message_got = _parse_error(f"def Setup():\n  {line}\n")
    assert message_got.startswith("line 2: ")
    assert message in message_got


@pytest.mark.parametrize("address", ["s999999999999999999999", "s" + "9" * 5000,
                                     "s65536", "s0000000000000000000065536"])
def test_absurdly_long_addresses(address):
    for line in (f"{address} = s1 + s2", f"s1 = {address} + s2"):
        message = _parse_error(f"def Setup():\n  {line}\n")
        assert message.startswith("line 2: ") and "is out of range (0..65535)" in message
        assert len(message) < 250
    # leading zeros are harmless
    assert parse_instruction("s0000000000000000000000003 = s1 + s2").out == 3


def test_absurd_integer_element_indices():
    for index in ("9" * 30, "9" * 5000):
        assert "out of range" in _parse_error(f"def Setup():\n  v2[{index}] = 1.0\n")
        assert "out of range for feature size 4" in _parse_error(
            f"def Setup():\n  v2[{index}] = 1.0\n", feature_size=4)


def test_a_one_megabyte_line_is_quoted_in_a_bounded_excerpt():
    for junk in ("x" * 2**20, "s1 + " * 200_000, "(" * 2**20, "s3" * 2**19):
        message = _parse_error(f"def Setup():\n  s1 = s2 + {junk}\n")
        assert message.startswith("line 2: ")
        quoted = re.findall(r"'[^']*'?", message)
        assert quoted and all(len(q) <= 80 for q in quoted), message
        assert "…" in message and len(message) < 400


@pytest.mark.parametrize(("char", "name"), [
    ("\u0663", "U+0663 ARABIC-INDIC DIGIT THREE"),
    ("\uff13", "U+FF13 FULLWIDTH DIGIT THREE"),
    ("\u00b2", "U+00B2 SUPERSCRIPT TWO"),
    ("\u0b69", "U+0B69 ORIYA DIGIT THREE"),
])
def test_non_ascii_digits_are_refused(char, name):
    # int() and regex \d would read these as digits: s٣ would silently be s3.
    for line in (f"s{char} = s1 + s2", f"s3 = s1 + s{char}", f"s2 = {char}.5",
                 f"v2[{char}] = 1.0"):
        message = _parse_error(f"def Setup():\n  {line}\n")
        assert message.startswith(f"line 2: non-ASCII character {name} at column ")
        assert "digits must be ASCII 0-9" in message
    with pytest.raises(ProgramParseError, match="non-ASCII character"):
        parse_instruction(f"s{char} = s1 + s2")


def test_non_ascii_outside_comments_is_refused_but_comments_may_hold_it():
    assert "U+2003 EM SPACE at column 1" in _parse_error("def Setup():\n\u2003s2 = 0.5\n")
    assert "U+00A0 NO-BREAK SPACE" in _parse_error("def Setup():\n  s2 =\u00a00.5\n")
    assert "U+2028 LINE SEPARATOR" in _parse_error("def Setup():\u2028  s2 = 0.5\n")
    assert "U+017F LATIN SMALL LETTER LONG S" in _parse_error("def \u017fetup():\n")
    alg = parse_algorithm("def Setup():  # café ٣ \u2028 ok\n  s2 = 0.5  # naïve\n")
    assert alg.setup == (I("SCALAR_CONST_SET_OP", 2, data=(0.5,)),)


@pytest.mark.parametrize("text, line", [
    ("def Setup():\n  s2 = 0.5\x00\n", 2),
    ("\x00def Setup():\n", 1),
    ("def Setup():\n  s2 = 0.5\x1b[31m\n", 2),
    ("def Setup():\n  s2 = 0.5\x7f\n", 2),
    ("def Setup():\n  s2 = 0.5 \ud800\n", 2),
])
def test_nul_and_control_characters(text, line):
    message = _parse_error(text)
    assert message.startswith(f"line {line}: ")
    assert "control character U+" in message or "invalid character U+D800" in message


def test_line_numbers_count_only_real_line_breaks():
    # \x0c, \x1c and \x85 are line breaks for str.splitlines(), not for editors.
    assert _parse_error("def Setup():\x0c\n  s2 = s1\n").startswith("line 1: control")
    assert _parse_error("def Setup():\r\n\r\n  s2 = s1\r\n").startswith("line 3: ")
    assert _parse_error("def Setup():\r\r  s2 = s1\r").startswith("line 3: ")


def test_byte_order_mark_and_empty_text():
    assert parse_algorithm("\ufeffdef Setup():\n  s2 = 0.5\n").setup[0].data[0] == 0.5
    assert parse_algorithm("") == Algorithm()  # load_algorithm refuses empty files
    assert parse_algorithm("# only a comment\n\n") == Algorithm()


def test_long_headers_and_function_names_are_excerpted():
    message = _parse_error("def " + "S" * 100_000 + "():\n")
    assert message.startswith("line 1: unknown component function 'def SSS")
    assert len(message) < 200
    message = _parse_error("def Setup():\n  s1 = " + "f" * 100_000 + "(s2)\n")
    assert "unknown function 'fff" in message and len(message) < 700


def test_parse_refuses_non_text():
    with pytest.raises(TypeError, match="must be a str"):
        parse_algorithm(b"def Setup():\n")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", [float("nan"), -0.25, float("inf"), 1.5])
def test_make_refuses_const_set_index_codes_outside_0_1(code):
    """The kernel decodes index codes without a lower clamp: NaN or a negative
    code would write outside the vector, so they never make an instruction."""
    with pytest.raises(ValueError, match="index code"):
        Instruction.make("VECTOR_CONST_SET_OP", out=1, data=(code, 1.0))
    with pytest.raises(ValueError, match="index code"):
        Instruction.make("MATRIX_CONST_SET_OP", out=1, data=(0.5, code, 1.0))
