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
from automl_zero.language.algorithm_io import (
    MAX_ALGORITHM_FILE_BYTES,
    load_algorithm,
    save_algorithm,
)
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
    (_doc(learn=[OK, OK, OK, {"op": "FOO"}]), "learn[3].op: unknown op 'FOO'"),
    (_doc(learn=[{"op": 1, "in1": 1, "in2": 2, "out": 3}]),
     "learn[0].op: expected an op name string, got an integer 1"),
    (_doc(predict=[{"op": "SCALAR_SUM_OP", "in1": 1, "out": 3}]),
     "predict[0].in2: missing key (SCALAR_SUM_OP needs in1, in2, out)"),
    (_doc(setup=[{**OK, "data": [1.0]}]), "setup[0]: unknown key 'data'"),
    (_doc(setup=[{"op": "SCALAR_ABS_OP", "in1": 1, "in2": 0, "out": 3}]),
     "setup[0]: unknown key 'in2' (SCALAR_ABS_OP has in1, op, out)"),
    (_doc(learn=[OK, {**OK, "out": -1}]),
     "learn[1].out: address -1 is out of range (0..65535)"),
    (_doc(learn=[{**OK, "in1": 1.0}]),
     "learn[0].in1: expected an integer address, got a number 1.0"),
    (_doc(learn=[{**OK, "in1": True}]),
     "learn[0].in1: expected an integer address, got a boolean True"),
    (_doc(learn=[{**OK, "in1": 70000}]), "out of range (0..65535)"),
    (_doc(setup=[{"op": "SCALAR_CONST_SET_OP", "out": 2}]), "setup[0].data: missing key"),
    (_doc(setup=[{"op": "SCALAR_CONST_SET_OP", "out": 2, "data": [1, 2]}]),
     "setup[0].data: expected an array of 1 number"),
    (_doc(setup=[{"op": "SCALAR_CONST_SET_OP", "out": 2, "data": ["big"]}]),
     "setup[0].data[0]: bad number 'big'"),
    (_doc(setup=[{"op": "VECTOR_CONST_SET_OP", "out": 2, "data": [1.5, 0.0]}]),
     "setup[0].data[0]: index code 1.5 is outside [0, 1]"),
    (_doc(setup=[{"op": "MATRIX_CONST_SET_OP", "out": 2, "data": [0.5, "nan", 0.0]}]),
     "setup[0].data[1]: index code nan"),
    (_doc(setup=[OK, "s1 = s2 + s3"]),
     "setup[1]: expected an instruction object, got a string 's1 = s2 + s3'"),
    (_doc(learn={"op": "NO_OP"}), "learn: expected an array of instructions, got an object"),
    (json.dumps({"format": "automl_zero.algorithm", "format_version": 2,
                 "setup": [], "predict": [], "learn": []}),
     "format_version: must be 1 (the version this package reads), got an integer 2"),
    (json.dumps({"format": "automl_zero.algorithm", "format_version": True,
                 "setup": [], "predict": [], "learn": []}), "format_version: must be 1"),
    (json.dumps({"format_version": 1, "setup": [], "predict": [], "learn": []}),
     "format: must be 'automl_zero.algorithm', missing"),
    (json.dumps({"format": "automl_zero.algorithm", "format_version": 1,
                 "setup": [], "predict": []}), "learn: missing key"),
    (_doc(fitness=0.5), "unknown top-level key 'fitness'"),
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
    with pytest.raises(ProgramParseError, match=r"missing\.txt: algorithm file not found"):
        load_algorithm(missing)
    bad_text = tmp_path / "bad.txt"
    bad_text.write_text("def Setup():\n  s2 = 0.1\n  s2 = s1\n")
    with pytest.raises(ProgramParseError) as info:
        load_algorithm(bad_text)
    assert str(info.value).startswith(f"{bad_text}: line 3: 's2 = s1' is not an instruction")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text(_doc(learn=[{"op": "FOO"}]))
    with pytest.raises(ProgramParseError, match=r"bad\.json: learn\[0\]\.op: unknown op 'FOO'"):
        load_algorithm(bad_json)
    with pytest.raises(ProgramParseError, match="is a directory"):
        load_algorithm(tmp_path)
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ProgramParseError, match="not a UTF-8 text file"):
        load_algorithm(binary)


# --------------------------------------------------------------------------
# Hostile documents: wrong types anywhere, huge numbers, non-finite numbers
# where integers go, deep nesting, duplicate keys. Errors name the key path.


def _replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


GOOD = _doc(setup=[{"op": "SCALAR_CONST_SET_OP", "out": 2, "data": [0.5]}],
            learn=[OK])


@pytest.mark.parametrize(("text", "message"), [
    (_replace(GOOD, '"out": 3', '"out": 1' + "0" * 5000),
     "learn[0].out: address <integer of 5001 digits> is out of range (0..65535)"),
    (_replace(GOOD, '"out": 3', '"out": 100000000000000000000'),
     "learn[0].out: address 100000000000000000000 is out of range"),
    (_replace(GOOD, '"out": 3', '"out": NaN'),
     "learn[0].out: expected an integer address, got a number nan"),
    (_replace(GOOD, '"out": 3', '"out": Infinity'),
     "learn[0].out: expected an integer address, got a number inf"),
    (_replace(GOOD, '"out": 3', '"out": -Infinity'),
     "learn[0].out: expected an integer address, got a number -inf"),
    (_replace(GOOD, '"out": 3', '"out": 3.0'),
     "learn[0].out: expected an integer address, got a number 3.0"),
    (_replace(GOOD, '"out": 3', '"out": "3"'),
     "learn[0].out: expected an integer address, got a string '3'"),
    (_replace(GOOD, '"out": 3', '"out": null'),
     "learn[0].out: expected an integer address, got null None"),
    (_replace(GOOD, '"out": 3', '"out": [3]'),
     "learn[0].out: expected an integer address, got an array [3]"),
    (_replace(GOOD, "0.5", "1" + "0" * 400),
     "setup[0].data[0]: number <integer of 401 digits> is out of range"),
    (_replace(GOOD, "0.5", "1" + "0" * 5000),
     "setup[0].data[0]: number <integer of 5001 digits> is out of range"),
    (_replace(GOOD, "0.5", '"' + "x" * 100_000 + '"'), "setup[0].data[0]: bad number 'xxx"),
    (_replace(GOOD, "[0.5]", "[[0.5]]"),
     "setup[0].data[0]: expected a number, got an array [0.5]"),
    (_replace(GOOD, "[0.5]", '{"a": 1}'),
     "setup[0].data: expected an array of 1 number(s) for SCALAR_CONST_SET_OP"),
    (_replace(GOOD, '"SCALAR_SUM_OP"', '"' + "X" * 100_000 + '"'),
     "learn[0].op: unknown op 'XXXX"),
    (_replace(GOOD, '"SCALAR_SUM_OP"', '"\u017fcalar_sum_op"'),
     "learn[0].op: unknown op 'ſcalar_sum_op'"),
    (_replace(GOOD, '"SCALAR_SUM_OP"', "[" + "1, " * 100_000 + "1]"),
     "learn[0].op: expected an op name string, got an array [1, 1, 1"),
    (_replace(GOOD, '"SCALAR_SUM_OP"', "[" * 100_000 + "]" * 100_000),
     "invalid JSON: nested too deeply"),
    (_replace(GOOD, '"format_version": 1', '"format_version": 1.0'),
     "format_version: must be 1 (the version this package reads), got a number 1.0"),
    (_replace(GOOD, '"format_version": 1', '"format_version": 1' + "0" * 5000),
     "format_version: must be 1"),
    (_replace(GOOD, '"format": "automl_zero.algorithm"', '"format": "' + "f" * 10**5 + '"'),
     "format: must be 'automl_zero.algorithm', got a string 'fff"),
    (GOOD[:-1] + ', "setup": []}', "top level: duplicate key 'setup'"),
    (_replace(GOOD, '"out": 3}', '"out": 3, "out": 4}'), "learn[0]: duplicate key 'out'"),
    (GOOD[:-1] + ', "metadata": 1}', "metadata: expected an object, got an integer 1"),
    (GOOD[:-1] + ', "' + "k" * 10**5 + '": 1}', "unknown top-level key 'kkk"),
    ("[" * 100_000 + "]" * 100_000, "invalid JSON: nested too deeply"),
    ("", "invalid JSON: line 1 column 1"),
    ("null", "top level: expected a JSON object, got null None"),
    ('"text"', "top level: expected a JSON object, got a string 'text'"),
], ids=lambda v: v[:40] if isinstance(v, str) else None)
def test_hostile_documents(text, message):
    with pytest.raises(ProgramParseError) as info:
        loads_algorithm(text)
    assert message in str(info.value)
    assert len(str(info.value)) < 300


def test_non_finite_data_is_accepted_in_any_spelling():
    # Constants may be non-finite (the dumper writes the strings "inf", "nan").
    for spelling in ("NaN", '"nan"', '"-NaN"'):
        alg = loads_algorithm(_replace(GOOD, "0.5", spelling))
        assert math.isnan(alg.setup[0].data[0])
    assert loads_algorithm(_replace(GOOD, "0.5", "-Infinity")).setup[0].data[0] == -math.inf
    assert loads_algorithm(_replace(GOOD, "0.5", "1e999")).setup[0].data[0] == math.inf


def test_algorithm_from_dict_with_python_values():
    obj = json.loads(GOOD)
    obj[1] = "x"  # a non-string key (only possible from Python)
    with pytest.raises(ProgramParseError, match="unknown top-level key 1"):
        algorithm_from_dict(obj)
    with pytest.raises(ProgramParseError, match="top level: expected a JSON object"):
        algorithm_from_dict([1, 2])


def test_load_refuses_empty_binary_and_oversized_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ProgramParseError, match=r"empty\.txt: holds no algorithm"):
        load_algorithm(empty)
    comments = tmp_path / "comments.txt"
    comments.write_text("# nothing\n\n   \n")
    with pytest.raises(ProgramParseError, match="holds no algorithm"):
        load_algorithm(comments)
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"def Setup():\n\x00\x00")
    with pytest.raises(ProgramParseError, match=r"nul\.txt: not a text file \(NUL byte"):
        load_algorithm(nul)
    utf16 = tmp_path / "utf16.txt"
    utf16.write_text(format_algorithm(LINEAR), encoding="utf-16")
    with pytest.raises(ProgramParseError, match="utf16.txt: not a UTF-8 text file .*UTF-16"):
        load_algorithm(utf16)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b"# caf\xe9\n" + format_algorithm(LINEAR).encode())
    with pytest.raises(ProgramParseError, match=r"latin1\.txt: not a UTF-8 text file"):
        load_algorithm(latin1)
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(MAX_ALGORITHM_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(ProgramParseError, match=r"big\.txt: larger than"):
        load_algorithm(big)


def test_load_accepts_bom_crlf_and_json_by_suffix(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + format_algorithm(LINEAR).replace("\n", "\r\n").encode())
    assert exact_key(load_algorithm(path)) == exact_key(LINEAR)
    path = tmp_path / "a.json"
    path.write_text("[1, 2]")  # JSON by its name, though it does not start with {
    with pytest.raises(ProgramParseError, match=r"a\.json: top level: expected a JSON"):
        load_algorithm(path)
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"def Setup():\r\n\r\n  s2 = s1\r\n")
    with pytest.raises(ProgramParseError, match=r"crlf\.txt: line 3: "):
        load_algorithm(path)
