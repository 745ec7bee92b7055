"""Per-instruction dataflow facts shared by the analyses (ablate, noise,
lr_decay): the addresses an instruction reads and writes, derived from the
op table. An address is ``(Kind, index)``."""

from __future__ import annotations

from automl_zero.language.effective import PARTIAL_WRITE_OPS
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OPS, Kind

__all__ = ["Address", "inputs", "kills", "output"]

Address = tuple[Kind, int]


def inputs(ins: Instruction) -> list[Address]:
    """The addresses ``ins`` reads (none, one or two)."""
    spec = OPS[ins.op]
    return [(k, a) for k, a in ((spec.in1, ins.in1), (spec.in2, ins.in2))
            if k != Kind.NONE]


def output(ins: Instruction) -> Address | None:
    """The address ``ins`` writes (None for NO_OP)."""
    spec = OPS[ins.op]
    return None if spec.out == Kind.NONE else (spec.out, ins.out)


def kills(ins: Instruction) -> bool:
    """Whole-value write: the output's old value is gone after it (the
    element-wise const-set ops write one element and keep the rest)."""
    return OPS[ins.op].out != Kind.NONE and ins.op not in PARTIAL_WRITE_OPS
