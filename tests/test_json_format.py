"""Tests of the lossless JSON format and of algorithm files (load/save)."""

from __future__ import annotations

import json
import math
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automl_zero.errors import ProgramParseError
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.algorithm_io import load_algorithm, save_algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.language.json_format import (
    algorithm_from_dict,
    algorithm_to_dict,
    dumps_algorithm,
    loads_algorithm,
)
from automl_zero.language.ops import OPS, DataKind, Kind
from automl_zero.language.text_format import (
    constant_slots,
    format_algorithm,
    index_slots,
)

# --------------------------------------------------------------------------
# Random algorithms over the whole op table (kept independent of the text tests)

SPECIAL_VALUES = (0.0, -0.0, 1.0, -2.4, 1e-10, 5e-324, 1e-45, 1e300, -3.5e38,
                  math.inf, -math.inf, math.nan)


def random_instruction(rng: np.random.Generator, op=None) -> Instruction:
    op = OPS[rng.integers(len(OPS))] if op is None else op
    data = [0.0, 0.0, 0.0]
    for slot in constant_slots(op):
        if slot in index_slots(op):
            data[slot] = float(rng.choice([0.0, 1.0, rng.random()]))
        elif rng.random() < 0.4:
            data[slot] = SPECIAL_VALUES[rng.integers(len(SPECIAL_VALUES))]
        else:
            data[slot] = float(rng.normal() * 10.0 ** rng.uniform(-12, 12))
    with np.errstate(over="ignore"):
        return Instruction.make(op, out=int(rng.integers(20)), in1=int(rng.integers(20)),
                                in2=int(rng.integers(20)), data=tuple(data))


def random_algorithm(rng: np.random.Generator, max_size: int = 12) -> Algorithm:
    return Algorithm(*(tuple(random_instruction(rng)
                             for _ in range(rng.integers(max_size + 1)))
                       for _ in range(3)))


def exact_key(alg: Algorithm) -> tuple:
    """Bit-exact identity of an algorithm, with every NaN equal to every NaN."""
    def bits(x: float) -> object:
        return "nan" if math.isnan(x) else struct.pack("<d", x)

    return tuple(tuple((i.op, i.in1, i.in2, i.out, tuple(bits(x) for x in i.data))
                       for i in component) for component in alg.components)


def strict_json(text: str):
    """json.loads that rejects the non-standard NaN/Infinity literals."""
    def reject(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=reject)


LINEAR = Algorithm(
    (Instruction.make("SCALAR_CONST_SET_OP", out=2, data=(0.001,)),),
    (Instruction.make("VECTOR_INNER_PRODUCT_OP", out=1, in1=0, in2=1),),
    (Instruction.make("SCALAR_DIFF_OP", out=3, in1=0, in2=1),
     Instruction.make("VECTOR_CONST_SET_OP", out=3, data=(0.625, -math.inf)),
     Instruction.make("MATRIX_UNIFORM_SET_OP", out=1, data=(0.6, 0.2)),
     Instruction.make("NO_OP")),
)


# --------------------------------------------------------------------------
# Format


def test_dict_layout():
    obj = algorithm_to_dict(LINEAR)
    assert obj["format"] == "automl_zero.algorithm"
    assert obj["format_version"] == 1
    assert obj["setup"] == [{"op": "SCALAR_CONST_SET_OP", "out": 2, "data": [0.001]}]
    assert obj["predict"] == [{"op": "VECTOR_INNER_PRODUCT_OP", "in1": 0, "in2": 1, "out": 1}]
    assert obj["learn"] == [
        {"op": "SCALAR_DIFF_OP", "in1": 0, "in2": 1, "out": 3},
        {"op": "VECTOR_CONST_SET_OP", "out": 3, "data": [0.625, "-inf"]},
        {"op": "MATRIX_UNIFORM_SET_OP", "out": 1,
         "data": [float(np.float32(0.6)), float(np.float32(0.2))]},
        {"op": "NO_OP"},
    ]


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_every_op_has_exactly_its_fields(op):
    ins = random_instruction(np.random.default_rng(op.code), op)
    obj = algorithm_to_dict(Algorithm((ins,)))["setup"][0]
    assert obj["op"] == op.name  # the name, never the code
    for field in ("in1", "in2", "out"):
        assert (field in obj) == (getattr(op, field) != Kind.NONE)
    assert ("data" in obj) == (op.data != DataKind.NONE)
    if "data" in obj:
        assert len(obj["data"]) == len(constant_slots(op))
    assert exact_key(algorithm_from_dict(algorithm_to_dict(Algorithm((ins,))))) == \
        exact_key(Algorithm((ins,)))


def test_dumps_is_standard_json_one_instruction_per_line():
    text = dumps_algorithm(LINEAR)
    assert text.endswith("}\n")
    assert strict_json(text) == algorithm_to_dict(LINEAR)
    assert '    {"op": "SCALAR_DIFF_OP", "in1": 0, "in2": 1, "out": 3},\n' in text
    empty = dumps_algorithm(Algorithm())
    assert '"setup": [],' in empty and '"learn": []\n' in empty
    assert loads_algorithm(empty) == Algorithm()


# --------------------------------------------------------------------------
# Round trips


def test_random_algorithms_round_trip():
    rng = np.random.default_rng(3)
    for _ in range(300):
        alg = random_algorithm(rng)
        text = dumps_algorithm(alg)
        strict_json(text)
        assert exact_key(loads_algorithm(text)) == exact_key(alg)
        assert exact_key(algorithm_from_dict(algorithm_to_dict(alg))) == exact_key(alg)
        if not any(math.isnan(x) for c in alg.components for i in c for x in i.data):
            assert loads_algorithm(text) == alg


@st.composite
def instructions(draw) -> Instruction:
    op = draw(st.sampled_from(OPS))
    addr = st.integers(0, 65535)
    data = [0.0, 0.0, 0.0]
    for slot in constant_slots(op):
        if slot in index_slots(op):
            data[slot] = draw(st.floats(0.0, 1.0, width=32))
        else:
            data[slot] = draw(st.floats(width=64 if op.data == DataKind.ACTIVATION else 32))
    return Instruction.make(op, out=draw(addr), in1=draw(addr), in2=draw(addr),
                            data=tuple(data))


@settings(max_examples=150, deadline=None)
@given(st.builds(Algorithm, *(st.lists(instructions(), max_size=6).map(tuple)
                              for _ in range(3))))
def test_round_trip_hypothesis(alg):
    assert exact_key(loads_algorithm(dumps_algorithm(alg))) == exact_key(alg)


def test_reader_accepts_short_names_and_rounds_float32_fields():
    obj = {"format": "automl_zero.algorithm", "format_version": 1, "setup": [
        {"op": "vector_gaussian_set", "out": 1, "data": [0.1, 1]},
        {"op": "SCALAR_CONST_SET_OP", "out": 2, "data": [0.1]},
        {"op": "SCALAR_CONST_SET_OP", "out": 2, "data": ["nan"]},
    ], "predict": [], "learn": [], "metadata": {"fitness": 0.9}}
    alg = algorithm_from_dict(obj)
    assert alg.setup[0].data == (float(np.float32(0.1)), 1.0, 0.0)
    assert alg.setup[1].data[0] == 0.1  # SCALAR_CONST_SET keeps float64
    assert math.isnan(alg.setup[2].data[0])


# --------------------------------------------------------------------------
# Validation


def _doc(**components) -> str:
    obj = {"format": "automl_zero.algorithm", "format_version": 1,
           "setup": [], "predict": [], "learn": []}
    obj.update(components)
    return json.dumps(obj)


OK = {"op": "SCALAR_SUM_OP", "in1": 1, "in2": 2, "out": 3}

BAD_DOCUMENTS = [
    (_doc(learn=[OK, OK, OK, {"op": "FOO"}]), "learn[3]: unknown op 'FOO'"),
    (_doc(learn=[{"op": 1, "in1": 1, "in2": 2, "out": 3}]), "learn[0]: 'op' must be"),
    (_doc(predict=[{"op": "SCALAR_SUM_OP", "in1": 1, "out": 3}]),
     "predict[0]: missing field 'in2'"),
    (_doc(setup=[{**OK, "data": [1.0]}]), "setup[0]: extra field 'data'"),
    (_doc(setup=[{"op": "SCALAR_ABS_OP", "in1": 1, "in2": 0, "out": 3}]),
     "setup[0]: extra field 'in2'"),
    (_doc(learn=[OK, {**OK, "out": -1}]), "learn[1]: out = -1 is out of range"),
    (_doc(learn=[{**OK, "in1": 1.0}]), "learn[0]: in1 must be an integer"),
    (_doc(learn=[{**OK, "in1": True}]), "learn[0]: in1 must be an integer"),
    (_doc(learn=[{**OK, "in1": 70000}]), "out of range (0..65535)"),
    (_doc(setup=[{"op": "SCALAR_CONST_SET_OP", "out": 2}]), "setup[0]: missing field 'data'"),
    (_doc(setup=[{"op": "SCALAR_CONST_SET_OP", "out": 2, "data": [1, 2]}]),
     "setup[0]: data must be a list of 1 number"),
    (_doc(setup=[{"op": "SCALAR_CONST_SET_OP", "out": 2, "data": ["big"]}]),
     "setup[0].data[0]: bad number 'big'"),
    (_doc(setup=[{"op": "VECTOR_CONST_SET_OP", "out": 2, "data": [1.5, 0.0]}]),
     "setup[0].data[0]: index code 1.5 is outside [0, 1]"),
    (_doc(setup=[{"op": "MATRIX_CONST_SET_OP", "out": 2, "data": [0.5, "nan", 0.0]}]),
     "setup[0].data[1]: index code nan"),
    (_doc(setup=[OK, "s1 = s2 + s3"]), "setup[1]: expected an object"),
    (_doc(learn={"op": "NO_OP"}), "learn: expected a list"),
    (json.dumps({"format": "automl_zero.algorithm", "format_version": 2,
                 "setup": [], "predict": [], "learn": []}), "unsupported format_version 2"),
    (json.dumps({"format": "automl_zero.algorithm", "format_version": True,
                 "setup": [], "predict": [], "learn": []}), "unsupported format_version"),
    (json.dumps({"format_version": 1, "setup": [], "predict": [], "learn": []}),
     "'format' must be 'automl_zero.algorithm'"),
    (json.dumps({"format": "automl_zero.algorithm", "format_version": 1,
                 "setup": [], "predict": []}), "missing field 'learn'"),
    (_doc(fitness=0.5), "unknown top-level field 'fitness'"),
    ("[1, 2]", "expected a JSON object"),
    ('{"format": ', "invalid JSON: line 1 column"),
]


@pytest.mark.parametrize(("text", "message"), BAD_DOCUMENTS,
                         ids=[m for _, m in BAD_DOCUMENTS])
def test_invalid_documents(text, message):
    with pytest.raises(ProgramParseError) as info:
        loads_algorithm(text)
    assert message in str(info.value)


# --------------------------------------------------------------------------
# Files


def test_save_and_load_text_and_json(tmp_path):
    rng = np.random.default_rng(11)
    alg = random_algorithm(rng)
    for fmt, name in (("text", "a.txt"), ("json", "a.json"), ("json", "noext")):
        path = tmp_path / name
        save_algorithm(alg, path, format=fmt)
        assert exact_key(load_algorithm(path)) == exact_key(alg)
        assert exact_key(load_algorithm(str(path))) == exact_key(alg)
    assert (tmp_path / "a.txt").read_text() == format_algorithm(alg)
    assert (tmp_path / "a.json").read_text() == dumps_algorithm(alg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.txt", "noext"]


def test_load_detects_json_after_whitespace_and_uses_feature_size(tmp_path):
    path = tmp_path / "x"
    path.write_text("\n  \t" + dumps_algorithm(LINEAR))
    assert exact_key(load_algorithm(path)) == exact_key(LINEAR)
    path.write_text("def Setup():\n  v3[5] = -2.4\n")
    assert load_algorithm(path, feature_size=16).setup[0].data[0] == 5.5 / 16


def test_save_replaces_atomically_and_keeps_mode(tmp_path):
    path = tmp_path / "best.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    save_algorithm(LINEAR, path)
    assert path.read_text() == format_algorithm(LINEAR)
    assert path.stat().st_mode & 0o777 == 0o640
    new = tmp_path / "new.txt"
    save_algorithm(LINEAR, new)
    assert new.stat().st_mode & 0o777 == 0o644
    with pytest.raises(ValueError, match="format must be"):
        save_algorithm(LINEAR, path, format="yaml")  # type: ignore[arg-type]
    assert path.read_text() == format_algorithm(LINEAR)  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.txt", "new.txt"]


def test_load_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.txt"
    with pytest.raises(ProgramParseError, match=r"missing\.txt: no such algorithm file"):
        load_algorithm(missing)
    bad_text = tmp_path / "bad.txt"
    bad_text.write_text("def Setup():\n  s2 = 0.1\n  s2 = s1\n")
    with pytest.raises(ProgramParseError) as info:
        load_algorithm(bad_text)
    assert str(info.value).startswith(f"{bad_text}: line 3: 's2 = s1' is not an instruction")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text(_doc(learn=[{"op": "FOO"}]))
    with pytest.raises(ProgramParseError, match=r"bad\.json: learn\[0\]: unknown op 'FOO'"):
        load_algorithm(bad_json)
    with pytest.raises(ProgramParseError, match="is a directory"):
        load_algorithm(tmp_path)
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ProgramParseError, match="not a UTF-8 text file"):
        load_algorithm(binary)
