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

from automl_zero.errors import ProgramParseError
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


def _number_from_json(value: Any, where: str) -> float:
    if isinstance(value, str):
        key = value.strip().lower()
        if key not in _NON_FINITE:
            raise ProgramParseError(f"{where}: bad number {value!r} (numbers are JSON "
                                    f"numbers or the strings 'inf', '-inf', 'nan')")
        return _NON_FINITE[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProgramParseError(f"{where}: bad number {value!r}")
    return float(value)


def _instruction_from_dict(obj: Any, where: str) -> Instruction:
    if not isinstance(obj, dict):
        raise ProgramParseError(f"{where}: expected an object, got {obj!r}")
    if "op" not in obj:
        raise ProgramParseError(f"{where}: missing field 'op'")
    name = obj["op"]
    if not isinstance(name, str):
        raise ProgramParseError(f"{where}: 'op' must be an op name string, got {name!r}")
    try:
        spec = op_by_name(name)
    except KeyError:
        raise ProgramParseError(f"{where}: unknown op {name!r}") from None
    slots = constant_slots(spec)
    expected = {"op"} | {f for f in _ADDRESS_FIELDS if getattr(spec, f) != Kind.NONE}
    if slots:
        expected.add("data")
    missing = sorted(expected - obj.keys())
    if missing:
        raise ProgramParseError(f"{where}: missing field {missing[0]!r} ({spec.name})")
    extra = sorted(obj.keys() - expected)
    if extra:
        raise ProgramParseError(f"{where}: extra field {extra[0]!r} ({spec.name} has no "
                                f"{extra[0]})")
    addresses = {}
    for field in _ADDRESS_FIELDS:
        if field in expected:
            value = obj[field]
            if isinstance(value, bool) or not isinstance(value, int):
                raise ProgramParseError(f"{where}: {field} must be an integer address, "
                                        f"got {value!r}")
            if not 0 <= value <= MAX_ADDRESS:
                raise ProgramParseError(f"{where}: {field} = {value} is out of range "
                                        f"(0..{MAX_ADDRESS})")
            addresses[field] = value
    data = [0.0, 0.0, 0.0]
    if slots:
        values = obj["data"]
        if not isinstance(values, list) or len(values) != len(slots):
            raise ProgramParseError(f"{where}: data must be a list of {len(slots)} "
                                    f"number(s) for {spec.name}, got {values!r}")
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

    Raises ``ProgramParseError`` naming the component and instruction index,
    e.g. ``learn[3]: unknown op 'FOO'``.
    """
    if not isinstance(obj, dict):
        raise ProgramParseError(f"expected a JSON object, got {type(obj).__name__}")
    if obj.get("format") != FORMAT_NAME:
        raise ProgramParseError(f"'format' must be {FORMAT_NAME!r}, got "
                                f"{obj.get('format')!r}")
    version = obj.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ProgramParseError(f"unsupported format_version {version!r} (this version "
                                f"reads {FORMAT_VERSION})")
    unknown = sorted(obj.keys() - _TOP_LEVEL_KEYS)
    if unknown:
        raise ProgramParseError(f"unknown top-level field {unknown[0]!r}")
    components = []
    for name in COMPONENT_FUNCTIONS:
        if name not in obj:
            raise ProgramParseError(f"missing field {name!r}")
        items = obj[name]
        if not isinstance(items, list):
            raise ProgramParseError(f"{name}: expected a list of instructions")
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
    """Parse JSON text made by :func:`dumps_algorithm`; raises ``ProgramParseError``."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProgramParseError(f"invalid JSON: line {exc.lineno} column {exc.colno}: "
                                f"{exc.msg}") from None
    return algorithm_from_dict(obj)
