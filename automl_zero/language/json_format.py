"""Lossless JSON form of algorithms.

::

    {"format": "automl_zero.algorithm", "format_version": 1,
     "setup": [{"op": "SCALAR_CONST_SET_OP", "out": 2, "data": [0.001]}],
     "predict": [{"op": "VECTOR_INNER_PRODUCT_OP", "in1": 0, "in2": 1, "out": 1}],
     "learn": [...]}

Ops are stored by NAME (codes are an implementation detail). An instruction
has exactly the addresses its op uses and, for ops that store constants,
``data``: the stored constants in slot order (float64 written with ``repr``,
so exact; non-finite values as the strings ``"inf"``, ``"-inf"``, ``"nan"``).
Everything is derived from the op table (``Op.in1/in2/out`` and the constant
placeholders of ``Op.fmt``). An optional top-level ``"metadata"`` object is
ignored when reading.
"""

from __future__ import annotations

import json
import math
from typing import Any

from automl_zero.errors import ProgramParseError, excerpt
from automl_zero.language.algorithm import COMPONENT_FUNCTIONS, Algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OPS, Kind, op_by_name
from automl_zero.language.text_format import (
    MAX_ADDRESS,
    constant_slots,
    stored_constant,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "algorithm_to_dict",
    "algorithm_from_dict",
    "dumps_algorithm",
    "loads_algorithm",
]

FORMAT_NAME = "automl_zero.algorithm"
FORMAT_VERSION = 1

_ADDRESS_FIELDS = ("in1", "in2", "out")
_TOP_LEVEL_KEYS = {"format", "format_version", *COMPONENT_FUNCTIONS, "metadata"}
_NON_FINITE = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf,
               "nan": math.nan, "+nan": math.nan, "-nan": math.nan}


def _number_to_json(x: float) -> float | str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _instruction_to_dict(ins: Instruction) -> dict[str, Any]:
    spec = OPS[ins.op]
    out: dict[str, Any] = {"op": spec.name}
    for field in _ADDRESS_FIELDS:
        if getattr(spec, field) != Kind.NONE:
            out[field] = getattr(ins, field)
    slots = constant_slots(spec)
    if slots:
        out["data"] = [_number_to_json(ins.data[i]) for i in slots]
    return out


def algorithm_to_dict(alg: Algorithm) -> dict[str, Any]:
    """The JSON-ready dict of ``alg`` (plain ints, floats, strings and lists)."""
    obj: dict[str, Any] = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION}
    for name in COMPONENT_FUNCTIONS:
        obj[name] = [_instruction_to_dict(ins) for ins in getattr(alg, name)]
    return obj


class _HugeInt:
    """A JSON integer too long to convert (Python refuses more than 4300 digits)."""

    def __init__(self, text: str) -> None:
        self.digits = len(text.lstrip("-"))

    def __repr__(self) -> str:
        return f"<integer of {self.digits} digits>"


# Longer JSON integers are kept as _HugeInt, never converted.
_MAX_INT_DIGITS = 100


def _parse_int(text: str) -> int | _HugeInt:
    return int(text) if len(text) <= _MAX_INT_DIGITS else _HugeInt(text)


class _JSONObject(dict):
    """A decoded JSON object that remembers its first duplicate key, if any."""

    duplicate: str | None = None


def _object_from_pairs(pairs: list[tuple[str, Any]]) -> _JSONObject:
    obj = _JSONObject()
    for key, value in pairs:
        if key in obj and obj.duplicate is None:
            obj.duplicate = key
        obj[key] = value
    return obj


def _check_object(obj: Any, where: str, what: str) -> dict:
    """``obj`` if it is a JSON object without duplicate keys."""
    if not isinstance(obj, dict):
        raise ProgramParseError(f"{where}: expected {what}, got {_describe(obj)}")
    duplicate = getattr(obj, "duplicate", None)
    if duplicate is not None:
        raise ProgramParseError(f"{where}: duplicate key {excerpt(duplicate)}")
    return obj


def _describe(value: Any) -> str:
    """A JSON value for a message: its JSON type and a bounded excerpt."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             type(None): "null", int: "an integer", float: "a number",
             _HugeInt: "an integer", _JSONObject: "an object"}
    return f"{names.get(type(value), type(value).__name__)} {excerpt(value)}"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _number_from_json(value: Any, where: str) -> float:
    if isinstance(value, str):
        key = value.strip().lower()
        if key not in _NON_FINITE:
            raise ProgramParseError(f"{where}: bad number {excerpt(value)} (numbers are "
                                    f"JSON numbers or the strings 'inf', '-inf', 'nan')")
        return _NON_FINITE[key]
    if isinstance(value, _HugeInt):
        raise ProgramParseError(f"{where}: number {excerpt(value)} is out of range")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProgramParseError(f"{where}: expected a number, got {_describe(value)}")
    try:
        return float(value)
    except OverflowError:
        raise ProgramParseError(f"{where}: number {excerpt(value)} is out of the range "
                                f"of a float") from None


def _address_from_json(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | _HugeInt):
        raise ProgramParseError(f"{where}: expected an integer address, got "
                                f"{_describe(value)}")
    if isinstance(value, _HugeInt) or not 0 <= value <= MAX_ADDRESS:
        raise ProgramParseError(f"{where}: address {excerpt(value)} is out of range "
                                f"(0..{MAX_ADDRESS})")
    return value


def _instruction_from_dict(obj: Any, where: str) -> Instruction:
    obj = _check_object(obj, where, "an instruction object")
    if "op" not in obj:
        raise ProgramParseError(f"{where}: missing key 'op'")
    name = obj["op"]
    if not isinstance(name, str):
        raise ProgramParseError(f"{where}.op: expected an op name string, got "
                                f"{_describe(name)}")
    try:
        if not name.isascii():  # str.upper() maps some non-ASCII letters to ASCII
            raise KeyError(name)
        spec = op_by_name(name)
    except KeyError:
        raise ProgramParseError(f"{where}.op: unknown op {excerpt(name)}") from None
    slots = constant_slots(spec)
    expected = {"op"} | {f for f in _ADDRESS_FIELDS if getattr(spec, f) != Kind.NONE}
    if slots:
        expected.add("data")
    missing = sorted(expected - obj.keys())
    if missing:
        raise ProgramParseError(f"{where}.{missing[0]}: missing key ({spec.name} needs "
                                f"{', '.join(sorted(expected - {'op'}))})")
    extra = sorted(obj.keys() - expected, key=str)
    if extra:
        raise ProgramParseError(f"{where}: unknown key {excerpt(extra[0])} ({spec.name} "
                                f"has {', '.join(sorted(expected))})")
    addresses = {field: _address_from_json(obj[field], f"{where}.{field}")
                 for field in _ADDRESS_FIELDS if field in expected}
    data = [0.0, 0.0, 0.0]
    if slots:
        values = obj["data"]
        if not isinstance(values, list) or len(values) != len(slots):
            raise ProgramParseError(f"{where}.data: expected an array of {len(slots)} "
                                    f"number(s) for {spec.name}, got {_describe(values)}")
        for slot, value in zip(slots, values, strict=True):
            x = _number_from_json(value, f"{where}.data[{slot}]")
            try:
                data[slot] = stored_constant(spec, slot, x)
            except ValueError as exc:
                raise ProgramParseError(f"{where}.data[{slot}]: {exc}") from None
    return Instruction(spec.code, addresses.get("in1", 0), addresses.get("in2", 0),
                       addresses.get("out", 0), (data[0], data[1], data[2]))


def algorithm_from_dict(obj: Any) -> Algorithm:
    """Validate and decode a dict made by :func:`algorithm_to_dict`.

    Raises ``ProgramParseError`` naming the key path, e.g.
    ``learn[3].op: unknown op 'FOO'``.
    """
    obj = _check_object(obj, "top level", "a JSON object")
    fmt = obj.get("format")
    if fmt != FORMAT_NAME:
        got = "missing" if "format" not in obj else f"got {_describe(fmt)}"
        raise ProgramParseError(f"format: must be {FORMAT_NAME!r}, {got}")
    version = obj.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        got = "missing" if "format_version" not in obj else f"got {_describe(version)}"
        raise ProgramParseError(f"format_version: must be {FORMAT_VERSION} (the version "
                                f"this package reads), {got}")
    unknown = sorted(obj.keys() - _TOP_LEVEL_KEYS, key=str)
    if unknown:
        raise ProgramParseError(f"unknown top-level key {excerpt(unknown[0])} (expected "
                                f"{', '.join(sorted(_TOP_LEVEL_KEYS))})")
    if "metadata" in obj and not isinstance(obj["metadata"], dict):
        raise ProgramParseError(f"metadata: expected an object, got "
                                f"{_describe(obj['metadata'])}")
    components = []
    for name in COMPONENT_FUNCTIONS:
        if name not in obj:
            raise ProgramParseError(f"{name}: missing key (an array of instructions)")
        items = obj[name]
        if not isinstance(items, list):
            raise ProgramParseError(f"{name}: expected an array of instructions, got "
                                    f"{_describe(items)}")
        components.append(tuple(_instruction_from_dict(item, f"{name}[{i}]")
                                for i, item in enumerate(items)))
    return Algorithm(*components)


def dumps_algorithm(alg: Algorithm) -> str:
    """JSON text of ``alg``: one instruction per line, trailing newline."""
    obj = algorithm_to_dict(alg)
    lines = ["{",
             f'  "format": {json.dumps(obj["format"])},',
             f'  "format_version": {obj["format_version"]},']
    for k, name in enumerate(COMPONENT_FUNCTIONS):
        items = [json.dumps(d, allow_nan=False) for d in obj[name]]
        comma = "," if k + 1 < len(COMPONENT_FUNCTIONS) else ""
        if items:
            body = ",\n".join(f"    {item}" for item in items)
            lines.append(f'  "{name}": [\n{body}\n  ]{comma}')
        else:
            lines.append(f'  "{name}": []{comma}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def loads_algorithm(text: str) -> Algorithm:
    """Parse JSON text made by :func:`dumps_algorithm`; raises ``ProgramParseError``.

    Strict about what it reads: duplicate keys, integers where floats cannot
    hold them and nesting too deep for the decoder are errors naming the place.
    """
    if not isinstance(text, str):
        raise TypeError(f"JSON text must be a str, got {type(text).__name__}")
    try:
        obj = json.loads(text, parse_int=_parse_int, object_pairs_hook=_object_from_pairs)
    except json.JSONDecodeError as exc:
        raise ProgramParseError(f"invalid JSON: line {exc.lineno} column {exc.colno}: "
                                f"{exc.msg}") from None
    except RecursionError:
        raise ProgramParseError("invalid JSON: nested too deeply") from None
    return algorithm_from_dict(obj)
