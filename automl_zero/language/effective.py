"""Dead-code removal: the instructions that can affect a prediction (docs/semantics.md §4.10).

An instruction is *effective* if its result can reach ``s1`` after some Predict
(training or validation). This is strong ("faint variable") liveness over the
executor's loop structure (docs/semantics.md §4):

* Setup runs once, then any sequence of Predicts; a training Predict is followed
  by Learn, a validation Predict by the next Predict.
* The executor reads ``s1`` after every Predict (error check, loss; for ACCURACY
  training it rewrites ``s1 = sigmoid(s1)``, a function of ``s1``).
* The executor writes ``s0`` and ``v0`` before every Predict and every Learn, so
  values in ``s0``/``v0`` are never live across a component boundary.

With ``X`` = live-in of Predict and ``Y`` = live-in of Learn, both without
``s0``/``v0``: live-out(Predict) = {s1} | X | Y, live-out(Learn) = X,
live-out(Setup) = X. The least fixed point is found by iterating backward passes
over Predict and Learn from X = Y = {}. In a pass an instruction is live iff it
writes a live address; only live instructions make their inputs live (so chains
that feed only dead code die too). Whole-value writes kill their output; the
element-wise const-set ops (VECTOR_CONST_SET_OP, MATRIX_CONST_SET_OP) write one
element, so the rest of their output stays live through them.

Address sets are Python ints used as bit masks: scalar ``k`` is bit ``3k``, vector
``k`` bit ``3k + 1``, matrix ``k`` bit ``3k + 2`` (interleaved, so any number of
addresses fits).

Removing dead instructions never changes a prediction, so the effective algorithm
has exactly the fitness and train steps of the original on every task for
programs without random ops; with random ops, removed random ops no longer draw
numbers, so live random ops see a different (identically distributed) stream.
Note that the compute-cost train budget (docs/semantics.md §6.3) counts every instruction,
NO_OPs included: compute it on the original algorithm.
"""

from __future__ import annotations

import dataclasses

from automl_zero.language.algorithm import Algorithm
from automl_zero.language.ops import OPS, Kind

__all__ = ["effective_algorithm", "is_effectively_random",
           "effective_fraction"]

# --------------------------------------------------------------------------
# Per-op tables, derived once from the op table. Index = op code.
# --------------------------------------------------------------------------

# Kind -> lowest bit of its address space in the interleaved mask.
_KIND_BIT = {Kind.NONE: 0, Kind.SCALAR: 1, Kind.VECTOR: 2, Kind.MATRIX: 4}
# Ops that write one element of their output: the rest of it stays live.
PARTIAL_WRITE_OPS = frozenset(op.code for op in OPS
                               if op.name in ("VECTOR_CONST_SET_OP",
                                              "MATRIX_CONST_SET_OP"))
_R1 = tuple(_KIND_BIT[op.in1] for op in OPS)  # bit of in1's space (0: no input)
_R2 = tuple(_KIND_BIT[op.in2] for op in OPS)
_W = tuple(_KIND_BIT[op.out] for op in OPS)  # bit of out's space (0: NO_OP)
# Whole-value write: the output is dead before the instruction.
_KILLS = tuple(op.out != Kind.NONE and op.code not in PARTIAL_WRITE_OPS for op in OPS)
_RANDOM_OPS = frozenset(op.code for op in OPS if op.random)

_S1 = 1 << 3  # s1: read by the executor after every Predict
_IO = 1 | 2  # s0 and v0: written by the executor before every Predict and Learn
# Multi-class tasks (docs/semantics.md §4.13): the executor reads v2 (not s1)
# and also writes v1 before every Predict and Learn.
_V2 = 2 << 6
_IO_MULTICLASS = _IO | (2 << 3)

# Masks by (op code, address), precomputed for addresses below _TABLE_ADDRESSES
# (larger addresses take the generic pass): one table look-up per field.
_TABLE_ADDRESSES = 64
_OUT_MASK = tuple(tuple(w << (3 * k) for k in range(_TABLE_ADDRESSES)) for w in _W)
_IN1_MASK = tuple(tuple(r << (3 * k) for k in range(_TABLE_ADDRESSES)) for r in _R1)
_IN2_MASK = tuple(tuple(r << (3 * k) for k in range(_TABLE_ADDRESSES)) for r in _R2)


def _backward(component: tuple, live: int, OUT=_OUT_MASK, IN1=_IN1_MASK,
              IN2=_IN2_MASK, KILLS=_KILLS) -> tuple[int, list]:
    """Strong-liveness pass over straight-line code: (live-in, live instructions
    in reverse order) for live-out ``live``."""
    kept: list = []
    if not live:
        return 0, kept
    try:
        for ins in reversed(component):
            c = ins.op
            w = OUT[c][ins.out]
            if live & w:
                if KILLS[c]:
                    live ^= w  # w is in live: remove it
                live |= IN1[c][ins.in1] | IN2[c][ins.in2]
                kept.append(ins)
                if not live:
                    break  # nothing earlier can be live
    except IndexError:  # an address beyond the tables
        return _backward_generic(component, live)
    return live, kept


def _backward_generic(component: tuple, live: int) -> tuple[int, list]:
    """``_backward`` for any address (shifts instead of table look-ups)."""
    kept = []
    for ins in reversed(component):
        c = ins.op
        w = _W[c] << (3 * ins.out)
        if live & w:
            if _KILLS[c]:
                live ^= w
            live |= (_R1[c] << (3 * ins.in1)) | (_R2[c] << (3 * ins.in2))
            kept.append(ins)
            if not live:
                break
    return live, kept


# Building the result bypasses Algorithm.__init__ (frozen-dataclass setattrs and
# __post_init__ cost ~1 us) when Algorithm has exactly the expected fields.
_FAST_NEW = [f.name for f in dataclasses.fields(Algorithm)] == [
    "setup", "predict", "learn", "_cache"]


def _new_algorithm(setup: tuple, predict: tuple, learn: tuple) -> Algorithm:
    if not _FAST_NEW:  # pragma: no cover
        return Algorithm(setup, predict, learn)
    alg = Algorithm.__new__(Algorithm)
    alg.__dict__.update(setup=setup, predict=predict, learn=learn, _cache={})
    return alg


def _analyse(alg: Algorithm, multiclass: bool) -> Algorithm:
    predict, learn = alg.predict, alg.learn
    out = _V2 if multiclass else _S1
    not_io = ~(_IO_MULTICLASS if multiclass else _IO)
    # Invariant: x = live-in(Predict) - I/O computed from out_p, and
    # y = live-in(Learn) - I/O computed from x; kept_* belong to those passes.
    out_p = out
    live, kept_p = _backward(predict, out_p)
    x = live & not_io
    while True:
        live, kept_l = _backward(learn, x)
        y = live & not_io
        new_out_p = out | x | y
        if new_out_p == out_p:
            break  # Predict's pass already used this live-out: fixed point
        out_p = new_out_p
        live, kept_p = _backward(predict, out_p)
        new_x = live & not_io
        if new_x == x:
            break  # Learn's pass already used this live-out: fixed point
        x = new_x
    _, kept_s = _backward(alg.setup, x)
    if (len(kept_s) == len(alg.setup) and len(kept_p) == len(predict)
            and len(kept_l) == len(learn)):
        return alg
    kept_s.reverse()
    kept_p.reverse()
    kept_l.reverse()
    return _new_algorithm(tuple(kept_s), tuple(kept_p), tuple(kept_l))


# Cached in place of an algorithm that is its own effective algorithm (storing
# the algorithm itself would make a reference cycle, freed only by the GC).
_SELF = "self"


def effective_algorithm(alg: Algorithm, multiclass: bool = False) -> Algorithm:
    """``alg`` without the instructions that cannot affect any prediction
    (NO_OPs included), order kept. Returns ``alg`` itself when nothing is dead.
    ``multiclass``: for MULTICLASS_ACCURACY tasks, whose prediction is v2 and
    whose label vector v1 the executor writes (docs/semantics.md §4.13). The
    result is cached on ``alg``."""
    key = "effective_multiclass" if multiclass else "effective"
    cache = alg._cache
    eff = cache.get(key)
    if eff is None:
        eff = _analyse(alg, multiclass)
        if eff is alg:
            cache[key] = _SELF
            return alg
        cache[key] = eff
        eff._cache[key] = _SELF
        return eff
    return alg if eff is _SELF else eff


def is_effectively_random(alg: Algorithm, multiclass: bool = False) -> bool:
    """True if a random-init op remains in the effective algorithm."""
    eff = effective_algorithm(alg, multiclass)
    random_ops = _RANDOM_OPS
    return any(ins.op in random_ops for comp in (eff.setup, eff.predict, eff.learn)
               for ins in comp)


def effective_fraction(alg: Algorithm, multiclass: bool = False) -> float:
    """Share of instructions (NO_OPs included) that are effective (1.0 if empty)."""
    n = len(alg)
    return len(effective_algorithm(alg, multiclass)) / n if n else 1.0
