"""Simplifying algorithms: what can never affect a prediction, and what the
fitness on a task collection does not need (docs/analysis.md §1).

**Static simplification** (no tasks) repeats, until nothing changes:

1. dead-code removal, ``effective_algorithm`` (docs/semantics.md §4.10),
   NO_OPs included;
2. a constant analysis of the scalar memory over the executor's loop structure
   (Setup once from all-zero memory, then Predicts, each followed by Learn or
   by the next Predict; the executor writes ``s0 = 0`` before every Predict,
   the label into ``s0`` before every Learn, and may rewrite ``s1`` between a
   training Predict and Learn). Per instruction it knows which scalars hold
   the same value every time the instruction runs, on every task. With that:

   * *no-op*: an instruction that provably leaves memory unchanged is removed:
     it writes the value its output already holds (``s3 = 0.0`` in Setup
     before anything wrote ``s3``), or it is an exact IEEE identity on its own
     output for every input: ``x * 1.0``, ``x / 1.0``, ``x - (+0.0)``,
     ``x + (-0.0)``, ``minimum(x, x)``, ``maximum(x, x)``, ``1.0 * v``,
     ``1.0 * m``. (``x + 0.0`` is not one: ``-0.0 + 0.0 = +0.0``.)
   * *folded*: a scalar-to-scalar op (codes 1-15, 44, 47) whose inputs are all
     known constants, and a scalar uniform op with an empty range (it draws
     nothing and yields ``low``), become ``s{o} = value``, the value computed
     by numba from the op table's own body, as the executor computes it.

Every change keeps every value of every execution, so predictions, and with
them the fitness on any task, stay bit-identical (the same random numbers
too: no live random op is removed or added). NaN values are treated as one
value: their sign and payload never reach a fitness. Removing instructions
lowers the compute cost the train budget judges (docs/semantics.md §6.3); a
fold never raises a component function's cost (if folding an op cheaper than
``SCALAR_CONST_SET_OP`` would, those folds are left out), so a program within
the budget stays within it. A program over the budget can come out within it.

**Fitness-guided simplification** (with an evaluator) then removes single
instructions greedily: each round tries every instruction of the current
program (each removal followed by static simplification), evaluates all
candidates in one ``evaluate_many`` call, every program with the same seed
(the next of the evaluator's stream), and keeps the candidate whose fitness is
closest to the *original's* if ``|fitness - original fitness| <= tolerance``
(ties: the shorter program, then the latest instruction: Learn before
Predict before Setup, last first). Rounds repeat until no removal stays within
the tolerance, so the result is within the tolerance of the original however
many removals were made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_zero.language.algorithm import COMPONENT_FUNCTIONS, Algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import COST, OP_BY_NAME, OPS, DataKind, Kind
from automl_zero.language.printer import COMPONENT_NAMES, format_number

__all__ = [
    "REASONS",
    "REASON_DEAD",
    "REASON_NO_OP",
    "REASON_FOLDED",
    "REASON_TOLERANCE",
    "Change",
    "Step",
    "Simplification",
    "simplify",
    "static_simplify",
    "effective_positions",
    "common_seed",
]

REASON_DEAD = "dead"
REASON_NO_OP = "no-op"
REASON_FOLDED = "folded"
REASON_TOLERANCE = "within tolerance"
REASONS = (REASON_DEAD, REASON_NO_OP, REASON_FOLDED, REASON_TOLERANCE)

S, N = Kind.SCALAR, Kind.NONE
_CONST_SET = OP_BY_NAME["SCALAR_CONST_SET_OP"].code
_SCALAR_UNIFORM = OP_BY_NAME["SCALAR_UNIFORM_SET_OP"].code
# Ops from scalars to a scalar, without constants or randomness: foldable.
_FOLDABLE = frozenset(op.code for op in OPS
                      if op.out == S and op.in1 == S and op.in2 in (S, N)
                      and op.data == DataKind.NONE and not op.random)
# Folding these raises the cost (they are cheaper than SCALAR_CONST_SET_OP).
_CHEAPER_THAN_CONST_SET = frozenset(c for c in _FOLDABLE if COST[c] < COST[_CONST_SET])
_MIN_MAX = frozenset(OP_BY_NAME[f"{k}_{m}_OP"].code for k in ("SCALAR", "VECTOR", "MATRIX")
                     for m in ("MIN", "MAX"))


# --------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Change:
    """What happened to one instruction of the original program.

    ``index`` is its 0-based position in the original's component function;
    ``instruction`` is the original's instruction. ``replacement`` is the
    const-set a fold put in its place (also kept when the fold later died).
    ``fitness_change`` (within tolerance only) is the fitness after the removal
    minus the original's.
    """

    component: str  # "setup", "predict" or "learn"
    index: int
    instruction: Instruction
    reason: str  # one of REASONS
    detail: str = ""
    replacement: Instruction | None = None
    fitness_change: float | None = None
    step: int = 0

    @property
    def component_name(self) -> str:
        return COMPONENT_NAMES[COMPONENT_FUNCTIONS.index(self.component)]

    def describe(self) -> str:
        """One line, e.g. ``Learn 2  s3 = s3 * s3  dead: cannot affect ...``."""
        what = (f"{self.reason} → {self.replacement}" if self.reason == REASON_FOLDED
                else self.reason)
        return (f"{self.component_name} {self.index + 1}  {self.instruction}  {what}"
                + (f": {self.detail}" if self.detail else ""))

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "index": self.index,
                "instruction": str(self.instruction), "reason": self.reason,
                "detail": self.detail,
                "replacement": None if self.replacement is None else str(self.replacement),
                "fitness_change": self.fitness_change, "step": self.step}


@dataclass(frozen=True)
class Step:
    """One step: a static simplification pass, or one accepted removal (with
    the static simplification after it). ``fitness``: measured with an
    evaluator, else None."""

    kind: str  # "static" or "removal"
    changes: tuple[Change, ...]
    algorithm: Algorithm
    fitness: float | None


@dataclass(frozen=True)
class Simplification:
    """The result of ``simplify``. ``removed`` lists, in program order, every
    instruction of the original not kept as written, with its final fate (a
    folded instruction that stays is listed as ``folded``)."""

    original: Algorithm
    simplified: Algorithm
    fitness_before: float | None
    fitness_after: float | None
    removed: tuple[Change, ...]
    steps: tuple[Step, ...]
    tolerance: float = 0.0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"original": self.original.to_text(),
                "simplified": self.simplified.to_text(),
                "fitness_before": self.fitness_before,
                "fitness_after": self.fitness_after,
                "tolerance": self.tolerance,
                "instructions_before": len(self.original),
                "instructions_after": len(self.simplified),
                "removed": [c.to_dict() for c in self.removed],
                "steps": [{"kind": s.kind, "fitness": s.fitness,
                           "changes": len(s.changes)} for s in self.steps],
                "notes": list(self.notes)}


# --------------------------------------------------------------------------
# Working program: each instruction remembers its place in the original.


@dataclass(frozen=True)
class _Slot:
    index: int  # position in the original's component function
    original: Instruction
    current: Instruction
    folded: Change | None = None  # the fold that made ``current``, if any


_Prog = tuple[tuple[_Slot, ...], tuple[_Slot, ...], tuple[_Slot, ...]]


def _program(alg: Algorithm) -> _Prog:
    return tuple(tuple(_Slot(i, ins, ins) for i, ins in enumerate(comp))  # type: ignore[return-value]
                 for comp in alg.components)


def _algorithm(prog: _Prog) -> Algorithm:
    return Algorithm(*(tuple(s.current for s in comp) for comp in prog))


def _costs(prog: _Prog) -> tuple[int, ...]:
    return tuple(int(sum(COST[s.current.op] for s in comp)) for comp in prog)


def _change(slot: _Slot, c: int, reason: str, detail: str, step: int,
            fitness_change: float | None = None) -> Change:
    replacement = None if slot.folded is None else slot.folded.replacement
    if slot.folded is not None and reason != REASON_FOLDED:
        detail = f"{detail} (after folding to `{replacement}`)"
    return Change(COMPONENT_FUNCTIONS[c], slot.index, slot.original, reason, detail,
                  replacement, fitness_change, step)


# --------------------------------------------------------------------------
# Dead code


def _copy(ins: Instruction) -> Instruction:
    return Instruction(ins.op, ins.in1, ins.in2, ins.out, ins.data)


def _match_backward(comp: Sequence[Instruction], kept: Sequence[Instruction]
                    ) -> list[int]:
    """Positions of the subsequence ``kept`` in ``comp``, matched from the end
    (the later of two equal instructions is the live one)."""
    pos: list[int] = []
    i = len(comp) - 1
    for ins in reversed(kept):
        while comp[i] != ins:
            i -= 1
        pos.append(i)
        i -= 1
    return pos[::-1]


def effective_positions(alg: Algorithm, multiclass: bool = False
                        ) -> tuple[tuple[int, ...], ...]:
    """For each component function, the positions of the instructions
    ``effective_algorithm`` keeps. The instructions are copied to distinct
    objects first and recognised by identity (effective_algorithm returns the
    objects it keeps), so equal instructions are told apart."""
    fresh = [tuple(_copy(ins) for ins in comp) for comp in alg.components]
    eff = effective_algorithm(Algorithm(*fresh), multiclass)
    result = []
    for comp, kept in zip(fresh, eff.components, strict=True):
        where = {id(ins): i for i, ins in enumerate(comp)}
        pos = [where.get(id(ins), -1) for ins in kept]
        if -1 in pos or pos != sorted(set(pos)):  # objects not kept: match by value
            pos = _match_backward(comp, kept)
        result.append(tuple(pos))
    return tuple(result)


def _remove_dead(prog: _Prog, step: int, multiclass: bool) -> tuple[_Prog, list[Change]]:
    changes = []
    new = []
    for c, (comp, pos) in enumerate(zip(prog, effective_positions(_algorithm(prog), multiclass),
                                        strict=True)):
        keep = set(pos)
        for i, slot in enumerate(comp):
            if i not in keep:
                if slot.current.op == 0:
                    changes.append(_change(slot, c, REASON_NO_OP, "no_op does nothing",
                                           step))
                else:
                    changes.append(_change(slot, c, REASON_DEAD,
                                           "cannot affect any prediction", step))
        new.append(tuple(comp[i] for i in pos))
    return tuple(new), changes  # type: ignore[return-value]


# --------------------------------------------------------------------------
# Folding: scalar ops computed as the executor computes them


_folder: Callable[..., float] | None = None


def _fold_source() -> str:
    """A function running the op table's own body of every foldable op on a
    scratch memory ``s`` (inputs at 0 and 1, output at 2)."""
    lines = ["def fold(c, s, a, b, o):"]
    for k, code in enumerate(sorted(_FOLDABLE)):
        lines.append(f"    {'if' if k == 0 else 'elif'} c == {code}:")
        lines.append(textwrap.indent(OPS[code].body, " " * 8))
    lines.append("    return s[o]")
    return "\n".join(lines) + "\n"


def _fold_value(code: int, x: float, y: float | None) -> float:
    """The value the executor's op ``code`` gives for scalar inputs x, y: the
    op's numba body compiled with the kernel's error model (compiled once per
    process, about a second)."""
    global _folder
    if _folder is None:
        import numba

        namespace: dict[str, Any] = {"np": np}
        exec(_fold_source(), namespace)  # noqa: S102 - source built from the op table
        _folder = numba.njit(error_model="numpy", cache=False)(namespace["fold"])
    s = np.array([x, 0.0 if y is None else y, 0.0], dtype=np.float64)
    return float(_folder(code, s, 0, 1, 2))


# --------------------------------------------------------------------------
# Constant analysis of the scalar memory. A value is a float (the same value
# every time the program point is reached, on every task) or None (unknown).


def _same(x: float | None, y: float | None) -> bool:
    """Bit-identical, except that all NaNs are one value; None matches nothing."""
    if x is None or y is None:
        return False
    if x != x:
        return y != y
    return x == y and math.copysign(1.0, x) == math.copysign(1.0, y)


def _join(a: list, b: list) -> list:
    return [x if _same(x, y) else None for x, y in zip(a, b, strict=True)]


@dataclass(frozen=True)
class _Fact:
    a: float | None  # value of in1 if a scalar
    b: float | None  # value of in2 if a scalar
    before: float | None  # value of the output before, if a scalar
    result: float | None  # value written, if a scalar output


def _result(ins: Instruction, a: float | None, b: float | None) -> float | None:
    code = ins.op
    if code == _CONST_SET:
        return ins.data[0]
    if code == _SCALAR_UNIFORM:
        low, high = ins.data[0], ins.data[1]
        # The op's rule (ops._UNIFORM): an empty or non-finite range gives low, no draw.
        if low < high and math.isfinite(high - low):
            return None
        return low
    if code in _FOLDABLE:
        if a is None or (OPS[code].in2 == S and b is None):
            return None
        return _fold_value(code, a, b)
    return None


def _transfer(component: Sequence[Instruction], state: list,
              facts: list | None = None) -> list:
    state = list(state)
    for ins in component:
        spec = OPS[ins.op]
        a = state[ins.in1] if spec.in1 == S else None
        b = state[ins.in2] if spec.in2 == S else None
        if spec.out == S:
            before = state[ins.out]
            result = _result(ins, a, b)
            state[ins.out] = result
        else:
            before = result = None
        if facts is not None:
            facts.append(_Fact(a, b, before, result))
    return state


def _constant_facts(alg: Algorithm) -> tuple[list[_Fact], list[_Fact], list[_Fact]]:
    """One fact per instruction. Invariant: ``p_in`` over-approximates every
    state at the start of a Predict (after Setup, after a Predict, after a
    Learn); the iteration only moves values to unknown, so it ends."""
    n = max(alg.max_addresses()[0], 2)
    setup_facts: list[_Fact] = []
    end_s = _transfer(alg.setup, [0.0] * n, setup_facts)  # memory starts at zero
    p_in = list(end_s)
    p_in[0] = 0.0  # the executor writes s0 = 0 before every Predict
    while True:
        end_p = _transfer(alg.predict, p_in)
        l_in = list(end_p)
        l_in[0] = l_in[1] = None  # the label; s1 may become sigmoid(s1)
        end_l = _transfer(alg.learn, l_in)
        new = _join(_join(p_in, end_p), end_l)
        new[0] = 0.0
        if all(x is y or _same(x, y) for x, y in zip(new, p_in, strict=True)):
            break
        p_in = new
    predict_facts: list[_Fact] = []
    learn_facts: list[_Fact] = []
    end_p = _transfer(alg.predict, p_in, predict_facts)
    l_in = list(end_p)
    l_in[0] = l_in[1] = None
    _transfer(alg.learn, l_in, learn_facts)
    return setup_facts, predict_facts, learn_facts


def _num(x: float) -> str:
    return format_number(x)


def _no_op_reason(ins: Instruction, fact: _Fact) -> str | None:
    """Why ``ins`` leaves memory unchanged every time it runs, or None."""
    spec = OPS[ins.op]
    if ins.op == 0:
        return "no_op does nothing"
    o, a, b = ins.out, ins.in1, ins.in2
    if spec.out == S and fact.result is not None and _same(fact.before, fact.result):
        return f"s{o} already holds {_num(fact.result)} here"
    if ins.op in _MIN_MAX and o == a == b:
        return f"{spec.name.split('_')[1].lower()}imum(x, x) is x"
    name = spec.name
    if name == "SCALAR_SUM_OP":
        if (o == a and _same(fact.b, -0.0)) or (o == b and _same(fact.a, -0.0)):
            return "adds -0.0, which leaves every value unchanged"
    elif name == "SCALAR_DIFF_OP":
        if o == a and _same(fact.b, 0.0):
            return f"subtracts s{b} = 0.0, which leaves every value unchanged"
    elif name == "SCALAR_PRODUCT_OP":
        if (o == a and _same(fact.b, 1.0)) or (o == b and _same(fact.a, 1.0)):
            return "multiplies by 1.0, which leaves every value unchanged"
    elif name == "SCALAR_DIVISION_OP":
        if o == a and _same(fact.b, 1.0):
            return f"divides by s{b} = 1.0, which leaves every value unchanged"
    elif (name in ("SCALAR_VECTOR_PRODUCT_OP", "SCALAR_MATRIX_PRODUCT_OP")
          and o == b and _same(fact.a, 1.0)):
        return f"multiplies by s{a} = 1.0, which leaves every value unchanged"
    return None


def _fold_detail(ins: Instruction, fact: _Fact) -> str:
    spec = OPS[ins.op]
    if ins.op == _SCALAR_UNIFORM:
        return "empty range: always its low end, no random draw"
    parts = [f"s{ins.in1} = {_num(fact.a)}"]  # type: ignore[arg-type]
    if spec.in2 == S and ins.in2 != ins.in1:
        parts.append(f"s{ins.in2} = {_num(fact.b)}")  # type: ignore[arg-type]
    return "constant inputs here: " + ", ".join(parts)


def _constant_pass(prog: _Prog, step: int, banned: frozenset[int]
                   ) -> tuple[_Prog, list[Change]]:
    """Remove no-ops and fold constants, all judged on ``prog`` at once (each
    change keeps every value of every execution, so they combine)."""
    changes: list[Change] = []
    new = []
    for c, (comp, facts) in enumerate(zip(prog, _constant_facts(_algorithm(prog)),
                                          strict=True)):
        slots = []
        for slot, fact in zip(comp, facts, strict=True):
            ins = slot.current
            why = _no_op_reason(ins, fact)
            if why is not None:
                changes.append(_change(slot, c, REASON_NO_OP, why, step))
                continue
            if (fact.result is not None and ins.op != _CONST_SET
                    and not (c in banned and ins.op in _CHEAPER_THAN_CONST_SET)):
                replacement = Instruction.make(_CONST_SET, out=ins.out,
                                               data=(fact.result,))
                change = Change(COMPONENT_FUNCTIONS[c], slot.index, slot.original,
                                REASON_FOLDED, _fold_detail(ins, fact), replacement,
                                None, step)
                changes.append(change)
                slots.append(dataclasses.replace(slot, current=replacement,
                                                 folded=change))
                continue
            slots.append(slot)
        new.append(tuple(slots))
    return tuple(new), changes  # type: ignore[return-value]


def _static_once(prog: _Prog, step: int, banned: frozenset[int], multiclass: bool
                 ) -> tuple[_Prog, list[Change]]:
    changes: list[Change] = []
    while True:  # ends: each constant change removes a slot or makes a const-set
        prog, dead = _remove_dead(prog, step, multiclass)
        changes += dead
        prog, const = _constant_pass(prog, step, banned)
        changes += const
        if not const:
            return prog, changes


def _static(prog: _Prog, step: int, multiclass: bool = False
            ) -> tuple[_Prog, list[Change]]:
    """Static simplification; no component function's cost rises."""
    before = _costs(prog)
    banned: frozenset[int] = frozenset()
    while True:
        out, changes = _static_once(prog, step, banned, multiclass)
        raised = {c for c, (x, y) in enumerate(zip(_costs(out), before, strict=True))
                  if x > y}
        if not raised - banned:  # with its folds banned a component cannot rise
            return out, changes
        banned |= raised


# --------------------------------------------------------------------------
# Evaluation with one seed for every program


class _SameSeed:
    """Stands in for an evaluator's seed stream: every program gets ``seed``."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def integers(self, low: int, high: int | None = None, size: Any = None,
                 dtype: Any = np.int64, endpoint: bool = False) -> np.ndarray:
        return np.full(() if size is None else size, self.seed, dtype=dtype)


@contextlib.contextmanager
def common_seed(evaluator: Any) -> Iterator[int | None]:
    """Within the block every program ``evaluator`` evaluates gets the same
    seed for its random ops: the next seed of the evaluator's stream (what the
    next single evaluation would use), so fitness differences between programs
    are not noise of the random ops. Yields the seed (None for an evaluator
    without a seed stream)."""
    rng = getattr(evaluator, "_rng", None)
    if rng is None or not hasattr(rng, "integers"):
        yield None
        return
    seed = int(rng.integers(0, 2**32, size=1, dtype=np.int64)[0])
    evaluator._rng = _SameSeed(seed)
    try:
        yield seed
    finally:
        evaluator._rng = rng


def _fitness(evaluator: Any, algorithms: Sequence[Algorithm]) -> list[float]:
    return [float(f) for f in evaluator.evaluate_many(list(algorithms)).fitness]


# --------------------------------------------------------------------------
# Public API


def _check_tolerance(tolerance: float) -> float:
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        raise ValueError(f"tolerance must be a number >= 0, got {tolerance!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    return value


def _fates(original: Algorithm, final: _Prog, steps: Sequence[Step]) -> tuple[Change, ...]:
    last: dict[tuple[str, int], Change] = {}
    for step in steps:
        for change in step.changes:
            last[(change.component, change.index)] = change
    kept = {(COMPONENT_FUNCTIONS[c], s.index): s for c, comp in enumerate(final)
            for s in comp}
    fates = []
    for cname, comp in zip(COMPONENT_FUNCTIONS, original.components, strict=True):
        for i in range(len(comp)):
            slot = kept.get((cname, i))
            if slot is None:
                fates.append(last[(cname, i)])
            elif slot.folded is not None:
                fates.append(slot.folded)
    return tuple(fates)


def _without(prog: _Prog, c: int, i: int) -> _Prog:
    parts = list(prog)
    parts[c] = prog[c][:i] + prog[c][i + 1:]
    return tuple(parts)  # type: ignore[return-value]


def static_simplify(algorithm: Algorithm, multiclass: bool = False) -> Algorithm:
    """``algorithm`` without dead code and no-ops, constants folded (the
    static part of ``simplify``): bit-identical fitness on every task."""
    return simplify(algorithm, multiclass=multiclass).simplified


def simplify(algorithm: Algorithm, evaluator: Any = None,
             tolerance: float = 0.0, multiclass: bool | None = None) -> Simplification:
    """Simplify ``algorithm``: statically, then (with an ``Evaluator``)
    greedily removing instructions while the fitness stays within
    ``tolerance`` (absolute, ``|fitness - original fitness| <= tolerance``)
    of the original's on the evaluator's tasks. See the module docstring.

    ``multiclass``: the program is for MULTICLASS_ACCURACY tasks (prediction
    in v2; default: as the evaluator's tasks, else False).

    Raises ``ValueError`` for a tolerance that is negative or not finite, and
    (from the evaluator) for a program that does not fit its memory.
    """
    tolerance = _check_tolerance(tolerance)
    if multiclass is None:
        multiclass = bool(getattr(getattr(evaluator, "batch", None), "multiclass", False))
    start = _program(algorithm)
    static_prog, static_changes = _static(start, step=1, multiclass=multiclass)
    static_alg = _algorithm(static_prog)
    if evaluator is None:
        steps = (Step("static", tuple(static_changes), static_alg, None),)
        return Simplification(algorithm, static_alg, None, None,
                              _fates(algorithm, static_prog, steps), steps, tolerance,
                              ("static simplification only (no evaluator): dead code, "
                               "no-ops and constant folding",))
    notes: list[str] = []
    step_list: list[Step] = []
    with common_seed(evaluator):
        f0, f_static = _fitness(evaluator, [algorithm, static_alg])
        if abs(f_static - f0) <= tolerance:
            current, f_current = static_prog, f_static
            step_list.append(Step("static", tuple(static_changes), static_alg, f_static))
        else:  # only through the train budget: the original got no training
            current, f_current = start, f0
            notes.append(f"static simplification changed the fitness from {f0:.6f} to "
                         f"{f_static:.6f} (the train budget judges the program as "
                         f"written): not applied")
        while True:
            step = len(step_list) + 1
            # Candidates: each instruction removed, then static simplification.
            candidates = []
            for c in range(3):
                for i, slot in enumerate(current[c]):
                    prog, changes = _static(_without(current, c, i), step, multiclass)
                    candidates.append((c, i, slot, prog, changes, _algorithm(prog)))
            if not candidates:
                break
            unique = list(dict.fromkeys(cand[5] for cand in candidates))
            fitness = dict(zip(unique, _fitness(evaluator, unique), strict=True))
            # Closest to the original's fitness, then shortest, then latest.
            _, c, i, slot, prog, changes, alg = min(
                ((abs(fitness[cand[5]] - f0), len(cand[5]), 2 - cand[0], -cand[1]), *cand)
                for cand in candidates)
            f = fitness[alg]
            if not abs(f - f0) <= tolerance:
                break
            removal = _change(slot, c, REASON_TOLERANCE,
                              f"fitness {f:.6f} without it, {f - f0:+.6g} against the "
                              f"original", step, fitness_change=f - f0)
            gone = f"{COMPONENT_NAMES[c]} {slot.index + 1}"
            changes = [dataclasses.replace(ch, detail=f"{ch.detail}, once {gone} is gone")
                       for ch in changes]
            step_list.append(Step("removal", (removal, *changes), alg, f))
            current, f_current = prog, f
    steps = tuple(step_list)
    return Simplification(algorithm, _algorithm(current), f0, f_current,
                          _fates(algorithm, current, steps), steps, tolerance,
                          tuple(notes))
