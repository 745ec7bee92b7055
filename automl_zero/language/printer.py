"""Printing algorithms in the paper's style, and how constants are stored.

Derived from the op table alone (``Op.fmt``), so ``Instruction`` and
``Algorithm`` can print themselves without importing the parser;
``text_format`` re-exports these names next to the parser.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np

from automl_zero.language.ops import OPS, DataKind, Op

if TYPE_CHECKING:
    from automl_zero.language.algorithm import Algorithm
    from automl_zero.language.instruction import Instruction

__all__ = ["MAX_ADDRESS", "COMPONENT_NAMES", "format_number", "format_instruction",
           "format_algorithm", "constant_slots", "index_slots", "stored_constant"]

MAX_ADDRESS = 0xFFFF  # addresses are uint16 in the original (instruction.h)

# Largest float32 below 1: the top index code; the original's "%g" prints it as "1".
_TOP_INDEX_CODE = float(np.nextafter(np.float32(1.0), np.float32(0.0)))

COMPONENT_NAMES = ("Setup", "Predict", "Learn")


# --------------------------------------------------------------------------
# Numbers


def _round_float32(x: float) -> float:
    """Nearest float32 (overflow to +-inf is intended, not warned about)."""
    with np.errstate(over="ignore"):
        return float(np.float32(x))


def _canonical(x: float) -> float:
    # One NaN object: tuples compare elements by identity first, so instructions
    # holding this NaN compare equal (NaN sign and payload are not preserved).
    return math.nan if x != x else x


def format_number(x: float, float32: bool = False) -> str:
    """The shortest text that parses back to exactly ``x``.

    ``float32=True`` rounds ``x`` to float32 first and prints the shortest
    decimal that maps back to that float32 (e.g. ``0.0024``, not
    ``0.0024000001139938831``). Non-finite values print as ``inf``, ``-inf``
    and ``nan``. Finite values always contain a ``.`` or an exponent.
    """
    x = float(x)
    if float32:
        x = _round_float32(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if not float32:
        return repr(x)
    text = repr(float(np.format_float_scientific(np.float32(x), unique=True)))
    if _round_float32(float(text)) != x:  # double rounding; never seen, but be exact
        text = repr(x)
    return text


# --------------------------------------------------------------------------
# Which stored constants an op prints, and how they are stored


def constant_slots(op: Op) -> tuple[int, ...]:
    """Indices into ``Instruction.data`` of the constants ``op`` stores (from its fmt)."""
    return _CONSTANT_SLOTS[op.code]


def index_slots(op: Op) -> tuple[int, ...]:
    """Indices into ``Instruction.data`` that hold float-coded element indices."""
    if op.data == DataKind.VECTOR_INDEX_VALUE:
        return (0,)
    if op.data == DataKind.MATRIX_INDEX_VALUE:
        return (0, 1)
    return ()


def stored_constant(op: Op, slot: int, value: float) -> float:
    """``value`` as stored in slot ``slot`` of an ``op`` instruction.

    SCALAR_CONST_SET keeps float64; every other constant is rounded to float32.
    Index codes must lie in [0, 1] (1 behaves as the last element); raises
    ``ValueError`` otherwise. NaN is canonicalised to ``math.nan``.
    """
    value = float(value)
    if op.data == DataKind.ACTIVATION:
        return _canonical(value)
    value = _canonical(_round_float32(value))
    if slot in index_slots(op) and not 0.0 <= value <= 1.0:
        raise ValueError(f"index code {format_number(value, True)} is outside [0, 1]")
    return value


# --------------------------------------------------------------------------
# Printer


def format_instruction(ins: Instruction) -> str:
    """One instruction in paper style, unindented, e.g. ``s3 = s0 - s1``."""
    spec = OPS[ins.op]
    is32 = spec.data != DataKind.ACTIVATION
    consts = {f"d{i}": format_number(ins.data[i], is32) for i in _CONSTANT_SLOTS[ins.op]}
    return spec.fmt.format(o=ins.out, a=ins.in1, b=ins.in2, **consts)


def format_algorithm(alg: Algorithm) -> str:
    """``def Setup():`` etc., each followed by its instructions indented by two spaces."""
    lines = []
    for name, component in zip(COMPONENT_NAMES, alg.components, strict=True):
        lines.append(f"def {name}():")
        lines.extend("  " + format_instruction(ins) for ins in component)
    return "\n".join(lines) + "\n"



def _constant_slots(op: Op) -> tuple[int, ...]:
    return tuple(sorted(int(f[1]) for f in re.findall(r"\{(d[012])\}", op.fmt)))


_CONSTANT_SLOTS = tuple(_constant_slots(op) for op in OPS)
