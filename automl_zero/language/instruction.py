"""Instructions: one op applied to addresses of the memory (docs/semantics.md §2)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from automl_zero.language.ops import OPS, DataKind, Kind, Op, op_by_name
from automl_zero.language.printer import format_instruction

__all__ = ["Instruction", "FEATURES_VECTOR_ADDRESS", "LABELS_SCALAR_ADDRESS",
           "PREDICTIONS_SCALAR_ADDRESS", "LABELS_VECTOR_ADDRESS",
           "PREDICTIONS_VECTOR_ADDRESS", "float32", "index_to_float"]

# Reserved addresses (the original's definitions.h).
LABELS_SCALAR_ADDRESS = 0  # s0: label y (0 during Predict)
PREDICTIONS_SCALAR_ADDRESS = 1  # s1: prediction
FEATURES_VECTOR_ADDRESS = 0  # v0: features x
# Multi-class tasks only (docs/semantics.md §4.13):
LABELS_VECTOR_ADDRESS = 1  # v1: one-hot label (0 during Predict)
PREDICTIONS_VECTOR_ADDRESS = 2  # v2: class logits, softmax-normalised in training


def float32(x: float) -> float:
    """Round a Python float to the nearest float32 (the original stores float_data
    as float); NaN becomes the one ``math.nan`` object so equal algorithms compare
    equal."""
    with np.errstate(over="ignore"):
        value = float(np.float32(x))
    return math.nan if value != value else value


def canonical(x: float) -> float:
    """``float(x)`` with every NaN mapped to the one ``math.nan`` object."""
    value = float(x)
    return math.nan if value != value else value


def index_to_float(i: int, feature_size: int) -> float:
    """The original's ``IndexToFloat``: the float code of element index ``i``."""
    return float32((i + 0.5) / feature_size)


@dataclass(frozen=True, slots=True)
class Instruction:
    """An immutable instruction.

    ``data`` holds the stored constants: for SCALAR_CONST_SET ``data[0]`` is a
    float64 value; for the other const-set, uniform and gaussian ops the values
    are float32 numbers (stored as Python floats exactly representable in
    float32). Unused fields are 0, as in the original.
    """

    op: int
    in1: int = 0
    in2: int = 0
    out: int = 0
    data: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # The executor's row (op, in1, in2, out, d0, d1, d2), filled on first use;
    # derived from the fields above, so it takes no part in equality.
    _row: tuple | None = field(default=None, compare=False, repr=False)

    @property
    def spec(self) -> Op:
        return OPS[self.op]

    @classmethod
    def make(cls, op: int | str | Op, out: int = 0, in1: int = 0, in2: int = 0,
             data: tuple[float, ...] = ()) -> Instruction:
        """Build an instruction, normalising constants to their stored precision.

        ``Instruction.make("SCALAR_DIFF_OP", out=3, in1=0, in2=1)`` is ``s3 = s0 - s1``.
        """
        if isinstance(op, str):
            spec = op_by_name(op)
        elif isinstance(op, Op):
            spec = op
        else:
            spec = OPS[op]
        values = [canonical(x) for x in data] + [0.0] * (3 - len(data))
        if len(values) != 3:
            raise ValueError(f"{spec.name}: at most 3 constants, got {len(data)}")
        if spec.data not in (DataKind.ACTIVATION, DataKind.NONE):
            values = [float32(x) for x in values]
        if spec.data == DataKind.NONE:
            values = [0.0, 0.0, 0.0]
        # Const-set element indices are float codes in [0, 1) (decoded with
        # FloatToIndex, clamped above to F - 1, not below): NaN or a negative
        # code would index outside the vector.
        codes = {DataKind.VECTOR_INDEX_VALUE: 1, DataKind.MATRIX_INDEX_VALUE: 2}
        for k in range(codes.get(spec.data, 0)):
            if not 0.0 <= values[k] <= 1.0:
                raise ValueError(f"{spec.name}: index code {values[k]!r} is not in [0, 1)")
        return cls(spec.code,
                   in1 if spec.in1 != Kind.NONE else 0,
                   in2 if spec.in2 != Kind.NONE else 0,
                   out if spec.out != Kind.NONE else 0,
                   (values[0], values[1], values[2]))

    def __str__(self) -> str:
        return format_instruction(self)
