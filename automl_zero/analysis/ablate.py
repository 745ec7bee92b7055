"""Ablation: knock out each instruction of the effective program and measure
the fitness it costs (docs/analysis.md §2).

Each instruction of the effective program (``effective_algorithm``) is
removed in turn; the baseline and all knockouts are evaluated in one
``evaluate_many`` call, every program with the same seed (the next of the
evaluator's stream), so a change is the knockout's and not noise of the random
ops. Removing an instruction runs exactly like replacing it by a NO_OP (the
evaluator drops NO_OPs with the dead code); the two differ only in the compute
cost the train budget counts, and removal lowers it, so a knockout never loses
its training to the budget.

Roles, from the dataflow of the effective program (``instruction_roles``):

* ``initialisation``: every Setup instruction.
* ``forward pass``: a Predict instruction on the path to ``s1`` within the
  same Predict (backward slice of ``s1`` over Predict).
* ``learning rule``: a Learn instruction whose result survives to the end of
  Learn (no later whole-value write of its output in Learn) in an address the
  next Predict reads (an input of an effective Predict instruction that Predict
  has not written before; ``s0``/``v0`` excluded): it changes what the model
  computes, e.g. a weight update.
* ``error computation``: another Learn instruction that reads the label
  (``s0`` as the executor wrote it, before Learn overwrites it).
* ``learning-rule helper``: every other effective instruction: Learn
  instructions feeding learning rules (gradients, step sizes, state kept
  across examples) and Predict instructions off the ``s1`` path, which matter
  only through the memory they leave for Learn or later Predicts.

An instruction is **essential** when knocking it out lowers the fitness by
more than ``threshold`` (absolute; default 0.01).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from automl_zero.analysis.dataflow import Address
from automl_zero.analysis.dataflow import inputs as _inputs
from automl_zero.analysis.dataflow import kills as _kills
from automl_zero.analysis.dataflow import output as _output
from automl_zero.analysis.simplify import common_seed, effective_positions
from automl_zero.language.algorithm import COMPONENT_FUNCTIONS, Algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import Kind
from automl_zero.language.printer import COMPONENT_NAMES

__all__ = [
    "DEFAULT_ESSENTIAL_THRESHOLD",
    "ROLES",
    "ROLE_INITIALISATION",
    "ROLE_FORWARD",
    "ROLE_LEARNING_RULE",
    "ROLE_ERROR",
    "ROLE_HELPER",
    "Ablation",
    "ablate",
    "instruction_roles",
]

DEFAULT_ESSENTIAL_THRESHOLD = 0.01
ROLE_INITIALISATION = "initialisation"
ROLE_FORWARD = "forward pass"
ROLE_LEARNING_RULE = "learning rule"
ROLE_ERROR = "error computation"
ROLE_HELPER = "learning-rule helper"
ROLES = (ROLE_INITIALISATION, ROLE_FORWARD, ROLE_LEARNING_RULE, ROLE_ERROR, ROLE_HELPER)

_Address = Address
_LABEL: _Address = (Kind.SCALAR, 0)
_PREDICTION: _Address = (Kind.SCALAR, 1)
_IO = frozenset({(Kind.SCALAR, 0), (Kind.VECTOR, 0)})  # written before each component
# Multi-class tasks (docs/semantics.md §4.13): the prediction is v2, the
# executor also writes the label vector v1.
_PREDICTION_MULTICLASS: _Address = (Kind.VECTOR, 2)
_IO_MULTICLASS = _IO | {(Kind.VECTOR, 1)}


@dataclass(frozen=True)
class Ablation:
    """One knockout. ``index`` is the 0-based position in the effective
    program's component function, ``original_index`` in the program as given."""

    component: str  # "setup", "predict" or "learn"
    index: int
    original_index: int
    instruction: Instruction
    role: str  # one of ROLES
    fitness_before: float  # the effective program's fitness
    fitness: float  # with this instruction knocked out
    essential: bool

    @property
    def fitness_change(self) -> float:
        """Knockout fitness minus the baseline (negative: the instruction helps)."""
        return self.fitness - self.fitness_before

    @property
    def component_name(self) -> str:
        return COMPONENT_NAMES[COMPONENT_FUNCTIONS.index(self.component)]

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "index": self.index,
                "original_index": self.original_index,
                "instruction": str(self.instruction), "role": self.role,
                "fitness_before": self.fitness_before, "fitness": self.fitness,
                "fitness_change": self.fitness_change, "essential": self.essential}





def _upward_exposed(component: tuple[Instruction, ...]) -> list[set[_Address]]:
    """For each instruction, the inputs it reads as they were at the start of
    the component (no earlier whole-value write in it)."""
    written: set[_Address] = set()
    result = []
    for ins in component:
        result.append({x for x in _inputs(ins) if x not in written})
        if _kills(ins):
            written.add(_output(ins))  # type: ignore[arg-type]
    return result


def instruction_roles(algorithm: Algorithm, multiclass: bool = False
                      ) -> tuple[tuple[str, ...], ...]:
    """The role of each instruction of an *effective* algorithm (pass
    ``effective_algorithm(alg)``), per component function, by the rules of
    the module docstring (``multiclass``: the prediction is v2 and the label
    the vector v1)."""
    io = _IO_MULTICLASS if multiclass else _IO
    labels = {(Kind.VECTOR, 1)} if multiclass else {_LABEL}
    setup = tuple(ROLE_INITIALISATION for _ in algorithm.setup)
    # Forward pass: backward slice of the prediction over one Predict.
    live: set[_Address] = {_PREDICTION_MULTICLASS if multiclass else _PREDICTION}
    forward = [False] * len(algorithm.predict)
    for i in range(len(algorithm.predict) - 1, -1, -1):
        ins = algorithm.predict[i]
        out = _output(ins)
        if out is not None and out in live:
            forward[i] = True
            if _kills(ins):
                live.discard(out)
            live.update(_inputs(ins))
    predict = tuple(ROLE_FORWARD if f else ROLE_HELPER for f in forward)
    # What the next Predict reads from memory.
    read_by_predict = set().union(*_upward_exposed(algorithm.predict)) - io
    learn_reads = _upward_exposed(algorithm.learn)
    learn = []
    for i, ins in enumerate(algorithm.learn):
        out = _output(ins)
        survives = out is not None and not any(
            _kills(later) and _output(later) == out for later in algorithm.learn[i + 1:])
        if survives and out in read_by_predict:
            learn.append(ROLE_LEARNING_RULE)
        elif labels & learn_reads[i]:
            learn.append(ROLE_ERROR)
        else:
            learn.append(ROLE_HELPER)
    return setup, predict, tuple(learn)


def ablate(algorithm: Algorithm, evaluator: Any,
           threshold: float = DEFAULT_ESSENTIAL_THRESHOLD) -> list[Ablation]:
    """Knock out each instruction of ``algorithm``'s effective program, all
    knockouts in one ``evaluate_many`` call; sorted by impact (largest fitness
    drop first, then program order). ``essential``: the knockout lowers the
    fitness by more than ``threshold``."""
    threshold = float(threshold)
    if not threshold >= 0:
        raise ValueError(f"threshold must be a number >= 0, got {threshold!r}")
    multiclass = bool(getattr(getattr(evaluator, "batch", None), "multiclass", False))
    eff = effective_algorithm(algorithm, multiclass)
    positions = effective_positions(algorithm, multiclass)
    roles = instruction_roles(eff, multiclass)
    knockouts = []
    where = []
    for c, name in enumerate(COMPONENT_FUNCTIONS):
        comp = eff.components[c]
        for i in range(len(comp)):
            knockouts.append(eff.replace(**{name: comp[:i] + comp[i + 1:]}))
            where.append((c, i))
    if not knockouts:
        return []
    with common_seed(evaluator):
        fitness = [float(f) for f in
                   evaluator.evaluate_many([eff, *knockouts]).fitness]
    base = fitness[0]
    result = []
    for (c, i), f in zip(where, fitness[1:], strict=True):
        result.append(Ablation(COMPONENT_FUNCTIONS[c], i, positions[c][i],
                               eff.components[c][i], roles[c][i], base, f,
                               f - base < -threshold))
    order = {(a.component, a.index): k for k, a in enumerate(result)}
    result.sort(key=lambda a: (a.fitness_change, order[(a.component, a.index)]))
    return result
