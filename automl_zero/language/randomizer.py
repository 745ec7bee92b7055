"""Random instructions and parameter alterations, driven by the op table (docs/semantics.md §8.9)."""

from __future__ import annotations

import math

import numpy as np

from automl_zero.language.instruction import Instruction, float32
from automl_zero.language.ops import OPS, DataKind, Kind

__all__ = ["random_instruction", "random_address", "random_data", "FIRST_OUT_ADDRESS"]

# Random outputs never overwrite the label s0 or the features v0 (the original's
# kFirstOut*Address); matrices have no reserved address.
FIRST_OUT_ADDRESS = {Kind.SCALAR: 1, Kind.VECTOR: 1, Kind.MATRIX: 0}


def random_address(kind: Kind, sizes: tuple[int, int, int], rng: np.random.Generator,
                   output: bool = False) -> int:
    """A uniform address of ``kind``; outputs skip the reserved input addresses."""
    count = sizes[kind - 1]
    low = FIRST_OUT_ADDRESS[kind] if output else 0
    if count <= low:
        raise ValueError(f"no {kind.name.lower()} address available for "
                         f"{'an output' if output else 'an input'}: memory has "
                         f"{count} {kind.name.lower()} addresses")
    return int(rng.integers(low, count))


def _unit32(rng: np.random.Generator, low: float, high: float) -> float:
    """A float32 draw on [low, high) (the original's float RandomizeData draws)."""
    return float32(rng.uniform(low, high))


def random_data(op: int, rng: np.random.Generator) -> tuple[float, float, float]:
    """Fresh constants for a data op (docs/semantics.md §8.9 RandomizeData)."""
    kind = OPS[op].data
    if kind == DataKind.ACTIVATION:
        return (float(rng.uniform(-1.0, 1.0)), 0.0, 0.0)
    if kind == DataKind.VECTOR_INDEX_VALUE:
        return (_unit32(rng, 0.0, 1.0), _unit32(rng, -1.0, 1.0), 0.0)
    if kind == DataKind.MATRIX_INDEX_VALUE:
        return (_unit32(rng, 0.0, 1.0), _unit32(rng, 0.0, 1.0), _unit32(rng, -1.0, 1.0))
    if kind == DataKind.GAUSSIAN:
        return (_unit32(rng, -1.0, 1.0), _unit32(rng, 0.0, 1.0), 0.0)
    if kind == DataKind.UNIFORM:
        # Not ordered: about half of new uniform ops have low > high and emit low.
        return (_unit32(rng, -1.0, 1.0), _unit32(rng, -1.0, 1.0), 0.0)
    return (0.0, 0.0, 0.0)


def random_instruction(op: int, sizes: tuple[int, int, int],
                       rng: np.random.Generator) -> Instruction:
    """A new instruction of ``op`` with all parameters random (SetOpAndRandomizeParams).

    ``sizes`` = (scalar, vector, matrix) address counts.
    """
    spec = OPS[op]
    if spec.data != DataKind.NONE:
        out = random_address(spec.out, sizes, rng, output=True)
        return Instruction(op, 0, 0, out, random_data(op, rng))
    if spec.out == Kind.NONE:
        return Instruction(op)
    in1 = random_address(spec.in1, sizes, rng)
    in2 = random_address(spec.in2, sizes, rng) if spec.in2 != Kind.NONE else 0
    out = random_address(spec.out, sizes, rng, output=True)
    return Instruction(op, in1, in2, out)


def log_scale(x: float, rng: np.random.Generator, flip: bool) -> float:
    """The original's MutateActivationLogScaleOrFlip / MutateFloatLogScale(OrFlip)."""
    if flip and rng.random() < 0.1:
        return -x
    if x == 0.0 or not math.isfinite(x):
        return x
    magnitude = math.exp(math.log(abs(x)) + rng.standard_normal())
    return math.copysign(magnitude, x)
