"""Detector of learning-rate decay (paper §4.3, fast training; docs/analysis.md §4).

When training is short (800 examples x 10 epochs instead of x 100),
evolution starting from the Figure 5 network discovered learning-rate decay
(Real et al. 2020, §4.3: 30 of 30 repeats, 3 of 30 in the control): Setup
``s3 = 0.37``; Learn ``s4 = s0 - s1; s4 = s3 * s4; ...; s3 = arctan(s3)``,
the learning rate ``s3`` shrinking through an iterated arctan map.
``detect_lr_decay`` decides whether a program does this by one fixed
definition (static conditions on the program text, confirmed by simulating the
learning rate's own update map), so that it can be applied identically to the
programs of experiment and control searches. Everything is computed on the
**effective** program (``effective_algorithm``): dead code never counts, and
instruction indices are positions in the effective program.

Executor conventions used: Setup runs once from all-zero memory; then every
training example runs Predict and Learn, validation examples Predict only;
memory persists throughout. The executor writes ``s0`` (0 before Predict, the
label before Learn) and ``v0`` (the features) before every Predict and Learn,
and the prediction ``s1`` is read (binary tasks: replaced by ``sigmoid(s1)``)
between Predict and Learn.

1. **Dependences in Learn.** A forward pass over Learn gives, for the value
   of every address at every point, the Learn *entry values* it is computed
   from (through any chain of Learn instructions), the Learn instructions whose
   results flow into it and the random ops among them. A whole-value write
   replaces the output's dependences; the element-wise const-set ops
   (``v3[i] = c``, ``m3[i, j] = c``) add to them. An entry value of address
   ``a`` is
   * *example-dependent* if ``a`` is ``s0`` (the label), ``s1`` (the
     prediction), ``v0`` (the features), or an address any Predict
     instruction writes (conservatively, whatever Predict computes there);
   * *loop-carried state* if Learn writes ``a`` (and Predict does not): its
     value at a Learn is what the previous Learn left (or Setup, at the first);
   * *constant* otherwise: only Setup writes it (or nothing: 0), so it is the
     same at every Learn.
2. **Persistent parameters**: addresses ``p`` other than ``s0`` and ``v0``
   that Learn writes, whose value at the end of Learn depends on ``p``'s own
   entry value (``m1 = m1 + m0``, ``v4 = v2 + v4``), and that Predict reads
   before writing them (so the next Predict uses the updated value).
3. **Step-size scalars**: a scalar address ``r`` that a Learn instruction
   ``i`` reads as a scalar operand of ``SCALAR_PRODUCT_OP`` (``s = r * x`` or
   ``x * r``), ``SCALAR_DIVISION_OP`` (dividend or divisor),
   ``SCALAR_VECTOR_PRODUCT_OP`` (``v = r * u``) or ``SCALAR_MATRIX_PRODUCT_OP``
   (``m = r * n``), where the result of ``i`` flows, within the same Learn,
   into the end-of-Learn value of a persistent parameter. ``i`` is a *use* of
   ``r``; the first use in program order is the *first use*. The *step size*
   is ``|r|``, or ``1 / |r|`` if the first use divides by ``r`` (``x / r``:
   a growing divisor is a shrinking step).
4. **Fixed iterated map** (static): the value ``r`` has at each of its uses
   depends on no example-dependent entry value and no random op, and on at
   least one loop-carried state address; the *state* of the map is the
   smallest set of loop-carried addresses containing those and closed under
   "the end-of-Learn value of a state address depends on the entry value of a
   loop-carried address", and every state address's end-of-Learn value also
   depends on no example-dependent entry value and no random op. Then, with
   x_t the state at the start of the t-th Learn (t = 1, 2, ...; x_1 from
   Setup), the state follows x_{t+1} = g(x_t) and ``r`` at its uses is h(x_t),
   g and h fixed functions of the state and of constants only: no label,
   prediction, features or other per-example value (the paper's case: state
   ``{s3}``, g = arctan, h = identity). A step size
   that depends on the error (``s3 = s3 * s4`` with ``s4 = s0 - s1``) is not a
   fixed map; one that Learn never rewrites (Figure 5's ``s3 = 4.1``) is
   *constant*.
5. **Decay** (dynamic confirmation, only for a fixed map): the *map* is
   Learn's backward slice for the state's end-of-Learn values and for ``r`` at
   its first use, its *initialisation* Setup's backward slice for the
   addresses the map reads on entry. Starting from all-zero memory, the
   initialisation runs once (random ops drawn from the runtime's generator
   seeded with ``seed``), then the map runs ``steps`` times (default 8000 =
   800 examples x 10 epochs) by the NumPy runtime's op statements
   (``automl_zero.export.runtime``; the executor's arithmetic), recording the
   step size a_t (``|r|``, or ``1 / |r|``) at the first use in step t. The
   step size **decays** iff ``0 < a_1``, every a_t is finite (no NaN, no
   infinity) and ``a_steps <= a_1 / factor`` (default factor 2): the last
   training step's learning rate is at most 1/factor of the first step's. A step
   size that only grows or stays (``s3 = s3 + s3``, ``s3 = abs(s3)``: a fixed
   point) is not decay, nor is one that starts at 0.

The program has **learning-rate decay** iff some step-size scalar decays.
The report describes the first decaying step-size scalar (in the order of
first uses, then address); without one, the first with a fixed map, else
the first constant one, else the first loop-carried one (a rewritten step
size that is not a fixed map), else the first one, with the reason it does
not decay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from automl_zero.analysis.dataflow import Address
from automl_zero.analysis.dataflow import inputs as _inputs
from automl_zero.analysis.dataflow import kills as _kills
from automl_zero.analysis.dataflow import output as _output
from automl_zero.analysis.noise import Site
from automl_zero.export.runtime import RowComponent, Xoshiro256Plus
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OP_BY_NAME, OPS, Kind

__all__ = ["DEFAULT_FACTOR", "DEFAULT_FEATURES_SIZE", "DEFAULT_STEPS",
           "LRDecayReport", "detect_lr_decay"]

DEFAULT_STEPS = 8000  # 800 training examples x 10 epochs (§4.3 fast training)
DEFAULT_FACTOR = 2.0
DEFAULT_FEATURES_SIZE = 16  # F of the §4.3 configs (maps over vectors only)

_Address = Address
_LABEL: _Address = (Kind.SCALAR, 0)
_PREDICTION: _Address = (Kind.SCALAR, 1)
_FEATURES: _Address = (Kind.VECTOR, 0)
_EXAMPLE_INPUTS = {_LABEL: "the label s0", _PREDICTION: "the prediction s1",
                   _FEATURES: "the features v0"}
_NOT_PARAMETERS = frozenset({_LABEL, _FEATURES})  # rewritten before every Predict
# Step-size ops -> positions (0: in1, 1: in2) of their scalar operands.
_STEP_OPS = {OP_BY_NAME["SCALAR_PRODUCT_OP"].code: (0, 1),
             OP_BY_NAME["SCALAR_DIVISION_OP"].code: (0, 1),
             OP_BY_NAME["SCALAR_VECTOR_PRODUCT_OP"].code: (0,),
             OP_BY_NAME["SCALAR_MATRIX_PRODUCT_OP"].code: (0,)}
_DIVISION = OP_BY_NAME["SCALAR_DIVISION_OP"].code
_STATEMENTS = {op.code: op.numpy for op in OPS}


class _Random(NamedTuple):
    """Dependence token: the result of the random op at this Learn index."""

    index: int


# A dependence token: an entry address (Kind, int), a Learn instruction index
# (int: its result flows here) or a _Random.
_Deps = frozenset


def _name(address: _Address) -> str:
    return f"{address[0].letter}{address[1]}"





def _writes(component: Iterable[Instruction]) -> set[_Address]:
    return {out for ins in component if (out := _output(ins)) is not None}


def _exposed_reads(component: Iterable[Instruction]) -> set[_Address]:
    """Addresses read before any whole-value write in the component."""
    written: set[_Address] = set()
    exposed: set[_Address] = set()
    for ins in component:
        exposed.update(x for x in _inputs(ins) if x not in written)
        out = _output(ins)
        if out is not None and _kills(ins):
            written.add(out)
    return exposed


class _Flow(NamedTuple):
    before: list[dict[_Address, _Deps]]  # dependences before each instruction
    end: dict[_Address, _Deps]  # at the end (addresses Learn writes)


def _flow(learn: tuple[Instruction, ...]) -> _Flow:
    deps: dict[_Address, _Deps] = {}
    before = []

    def get(a: _Address) -> _Deps:
        return deps[a] if a in deps else frozenset({a})

    for j, ins in enumerate(learn):
        before.append(dict(deps))
        out = _output(ins)
        if out is None:
            continue
        d = frozenset({j}).union(*(get(x) for x in _inputs(ins)))
        if OPS[ins.op].random:
            d |= {_Random(j)}
        if not _kills(ins):
            d |= get(out)
        deps[out] = d
    return _Flow(before, deps)


def _at(deps: dict[_Address, _Deps], a: _Address) -> _Deps:
    return deps[a] if a in deps else frozenset({a})


def _slice(component: tuple[Instruction, ...], live: set[_Address],
           reads: dict[int, _Address] | None = None) -> tuple[list[int], set[_Address]]:
    """Backward slice: (indices of the instructions needed for the values of
    ``live`` at the end and of ``reads[j]`` just before instruction j, in
    program order; the addresses read on entry)."""
    live = set(live)
    kept = []
    for j in range(len(component) - 1, -1, -1):
        ins = component[j]
        out = _output(ins)
        if out is not None and out in live:
            if _kills(ins):
                live.discard(out)
            live.update(_inputs(ins))
            kept.append(j)
        if reads and j in reads:
            live.add(reads[j])
    kept.reverse()
    return kept, live


@dataclass(frozen=True)
class LRDecayReport:
    """What ``detect_lr_decay`` found (definitions: the module docstring).

    ``decays``: the program has learning-rate decay. ``scalar``: the step-size
    scalar described (``"s3"``; None if the program has none), ``uses`` its
    uses (Learn instructions multiplying it into parameter updates) and
    ``parameters`` the persistent parameters they update (scalars, vectors,
    then matrices, by address); ``fixed_map``: it
    follows a fixed iterated map, of state ``state``, computed by
    ``map_instructions`` (Learn) from ``setup_instructions`` (Setup).
    ``inverse``: the step size is ``1 / |scalar|`` (the first use divides by
    it), else ``|scalar|``. ``initial`` = a_1 and ``final`` = a_steps (the
    step size at the first and the last of ``steps`` simulated training
    steps; ``final`` is the first non-finite value if one occurred, at step
    ``nonfinite_step``); ``decay_step``: the first step t with
    a_t <= a_1 / ``factor``.
    ``reason``: why it does not decay (empty if it does). ``step_sizes``: all
    step-size scalars, by first use. Sites are 0-based positions in
    ``effective_algorithm(alg)``.
    """

    decays: bool = False
    scalar: str | None = None
    inverse: bool = False
    uses: tuple[Site, ...] = ()
    parameters: tuple[str, ...] = ()
    fixed_map: bool = False
    state: tuple[str, ...] = ()
    map_instructions: tuple[Site, ...] = ()
    setup_instructions: tuple[Site, ...] = ()
    steps: int = DEFAULT_STEPS
    factor: float = DEFAULT_FACTOR
    initial: float | None = None
    final: float | None = None
    decay_step: int | None = None
    nonfinite_step: int | None = None
    reason: str = "no step-size scalar"
    step_sizes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line, e.g. ``learning-rate decay: yes (s3; map Learn 9: s3 =
        arctan(s3); |s3| 0.37 -> 0.0137 over 8000 steps, /2 by step 35)``."""
        if self.scalar is None:
            return f"learning-rate decay: no ({self.reason})"
        parts = [self.scalar]
        if self.fixed_map:
            parts.append("map " + ", ".join(map(str, self.map_instructions)))
            size = f"1/|{self.scalar}|" if self.inverse else f"|{self.scalar}|"
            run = f"{size} {_num(self.initial)} -> {_num(self.final)} "
            if self.nonfinite_step is not None:
                run += f"at step {self.nonfinite_step} of {self.steps}"
            else:
                run += f"over {self.steps} steps"
            if self.decay_step is not None:
                run += f", /{_num(self.factor)} by step {self.decay_step}"
            parts.append(run)
        if not self.decays:
            parts.append(self.reason)
        return (f"learning-rate decay: {'yes' if self.decays else 'no'} "
                f"({'; '.join(parts)})")

    def to_dict(self) -> dict[str, Any]:
        def rows(sites: tuple[Site, ...]) -> list[dict[str, Any]]:
            return [s.to_dict() for s in sites]

        def finite(x: float | None) -> float | None:
            return x if x is not None and math.isfinite(x) else None

        return {"decays": self.decays, "scalar": self.scalar,
                "inverse": self.inverse, "uses": rows(self.uses),
                "parameters": list(self.parameters), "fixed_map": self.fixed_map,
                "state": list(self.state), "map": rows(self.map_instructions),
                "setup": rows(self.setup_instructions), "steps": self.steps,
                "factor": self.factor, "initial": finite(self.initial),
                "final": finite(self.final), "decay_step": self.decay_step,
                "nonfinite_step": self.nonfinite_step, "reason": self.reason,
                "step_sizes": list(self.step_sizes)}


def _token_order(token: object) -> tuple[int, Any]:
    """A deterministic order of dependence tokens: addresses, random ops,
    instruction indices."""
    if isinstance(token, _Random):
        return 1, token.index
    if isinstance(token, int):
        return 2, token
    return 0, token


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


class _Simulation(NamedTuple):
    initial: float
    final: float
    decay_step: int | None
    nonfinite_step: int | None


def _simulate(setup: list[Instruction], head: list[Instruction], tail: list[Instruction],
              r: int, inverse: bool, steps: int, factor: float, features_size: int,
              seed: int) -> _Simulation:
    """Run ``setup`` once, then ``steps`` times ``head``, record |s[r]| (with
    ``inverse``: 1 / |s[r]|), ``tail``."""
    sizes = [1, 1, 1]  # scalars, vectors, matrices
    sizes[0] = r + 1
    for ins in (*setup, *head, *tail):
        for kind, a in (*_inputs(ins), _output(ins) or (Kind.NONE, 0)):
            if kind != Kind.NONE:
                sizes[kind - 1] = max(sizes[kind - 1], a + 1)
    F = features_size
    s, v, m = np.zeros(sizes[0]), np.zeros((sizes[1], F)), np.zeros((sizes[2], F, F))
    rng = Xoshiro256Plus(seed)

    def component(part: list[Instruction]) -> RowComponent:
        return RowComponent([(i.op, i.in1, i.in2, i.out, *i.data) for i in part],
                            _STATEMENTS)

    run_setup, run_head, run_tail = component(setup), component(head), component(tail)
    initial = u = math.nan
    decay_step = nonfinite_step = None
    with np.errstate(all="ignore"):
        run_setup(s, v, m, rng)
        for t in range(1, steps + 1):
            run_head(s, v, m, rng)
            u = abs(float(s[r]))
            if inverse:
                u = 1.0 / u if u else math.inf
            if t == 1:
                initial = u
            if not math.isfinite(u):
                nonfinite_step = t
                break
            if decay_step is None and initial > 0.0 and u <= initial / factor:
                decay_step = t
            run_tail(s, v, m, rng)
    return _Simulation(initial, u, decay_step, nonfinite_step)


def detect_lr_decay(alg: Algorithm, steps: int = DEFAULT_STEPS, *,
                    factor: float = DEFAULT_FACTOR,
                    features_size: int = DEFAULT_FEATURES_SIZE,
                    seed: int = 0) -> LRDecayReport:
    """Whether ``alg`` decays a learning rate, by the definition of the module
    docstring (docs/analysis.md §4), on its effective program.

    ``steps``: training steps simulated (examples x epochs; default 8000);
    ``factor``: how much the step size must shrink (> 1; default 2);
    ``features_size``: F for maps that involve vectors or matrices;
    ``seed``: the generator of random ops in the map's Setup slice.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not factor > 1.0 or not math.isfinite(factor):
        raise ValueError(f"factor must be a finite number > 1, got {factor!r}")
    steps = int(steps)
    eff = effective_algorithm(alg)
    learn = eff.learn
    flow = _flow(learn)
    learn_writes = _writes(learn)
    predict_writes = _writes(eff.predict)
    exposed = _exposed_reads(eff.predict)
    params = [p for p in sorted(learn_writes)
              if p not in _NOT_PARAMETERS and p in exposed and p in flow.end[p]]

    uses: dict[int, list[int]] = {}  # step-size scalar -> Learn indices of its uses
    updated: dict[int, set[_Address]] = {}
    inverse: dict[int, bool] = {}  # the first use divides by the scalar
    for j, ins in enumerate(learn):
        positions = _STEP_OPS.get(ins.op)
        if positions is None:
            continue
        targets = {p for p in params if j in flow.end[p]}
        if not targets:
            continue
        for pos in positions:
            r = (ins.in1, ins.in2)[pos]
            if r not in uses:
                uses[r] = []
                inverse[r] = ins.op == _DIVISION and pos == 1
            if j not in uses[r]:
                uses[r].append(j)
            updated.setdefault(r, set()).update(targets)
    order = sorted(uses, key=lambda r: (uses[r][0], r))
    if not order:
        return LRDecayReport(steps=steps, factor=factor)

    def site(component: str, index: int) -> Site:
        return Site(component, index, str(getattr(eff, component)[index]))

    def judge(r: int) -> tuple[int, LRDecayReport]:
        """(rank: 0 decays, 1 fixed map, 2 constant, 3 loop-carried but not a
        fixed map, 4 per-example value; report)."""
        base = dict(scalar=f"s{r}", inverse=inverse[r],
                    uses=tuple(site("learn", j) for j in uses[r]),
                    parameters=tuple(_name(p) for p in sorted(updated[r])),
                    steps=steps, factor=factor, step_sizes=tuple(f"s{x}" for x in order))
        scalar: _Address = (Kind.SCALAR, r)
        work = sorted(frozenset().union(*(_at(flow.before[j], scalar) for j in uses[r])),
                      key=_token_order)
        state: set[_Address] = set()
        seen: set[object] = set()
        problem = ""
        carried = False  # depends on an address Learn rewrites (besides s0, s1, v0)
        while work:
            token = work.pop(0)
            if token in seen or isinstance(token, int):
                continue
            seen.add(token)
            if isinstance(token, _Random):
                problem = problem or f"a random op ({site('learn', token.index)})"
            elif token in _EXAMPLE_INPUTS:
                problem = problem or _EXAMPLE_INPUTS[token]
            elif token in predict_writes:
                problem = problem or f"{_name(token)}, written by Predict"
                carried = carried or token in learn_writes
            elif token in learn_writes:
                state.add(token)
                work.extend(sorted(flow.end[token], key=_token_order))
        if problem:
            # A loop-carried but example-dependent or random step size ranks
            # before a per-example value (the error itself).
            return (3 if state or carried else 4), LRDecayReport(**base, reason=(
                f"s{r} depends on {problem}: not a fixed map"))
        if not state:
            return 2, LRDecayReport(**base, reason=f"s{r} is constant: Learn does not "
                                                   f"rewrite it")
        first = uses[r][0]
        learn_slice, needed = _slice(learn, state, {first: scalar})
        setup_slice, _ = _slice(eff.setup, needed)
        sim = _simulate([eff.setup[j] for j in setup_slice],
                        [learn[j] for j in learn_slice if j < first],
                        [learn[j] for j in learn_slice if j >= first],
                        r, inverse[r], steps, factor, features_size, seed)
        decays = (sim.initial > 0.0 and sim.nonfinite_step is None
                  and sim.final <= sim.initial / factor)
        if decays:
            reason = ""
        elif math.isinf(sim.final):
            reason = "the step size grows without bound"
        elif sim.nonfinite_step is not None:
            reason = "the step size becomes NaN"
        elif sim.initial == 0.0:
            reason = "the step size starts at 0"
        elif sim.final > sim.initial:
            reason = "the step size grows"
        elif sim.final == sim.initial:
            reason = "the step size does not change"
        else:
            reason = f"the step size shrinks by less than {_num(factor)}x"
        report = LRDecayReport(
            **base, decays=decays, fixed_map=True,
            state=tuple(_name(a) for a in sorted(state)),
            map_instructions=tuple(site("learn", j) for j in learn_slice),
            setup_instructions=tuple(site("setup", j) for j in setup_slice),
            initial=sim.initial, final=sim.final, decay_step=sim.decay_step,
            nonfinite_step=sim.nonfinite_step, reason=reason)
        return (0 if decays else 1), report

    best: tuple[int, LRDecayReport] | None = None
    for r in order:
        rank, report = judge(r)
        if best is None or rank < best[0]:
            best = (rank, report)
        if rank == 0:
            break
    assert best is not None
    return best[1]
