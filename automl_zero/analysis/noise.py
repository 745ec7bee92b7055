"""Static detector of noise injected into hidden activations (paper §4.3;
docs/analysis.md §3).

With little training data, evolution discovers a dropout-like regulariser:
"noise injected into the hidden activations" (Real et al. 2020, Figure S2a:
Predict ``v3 = dot(m0, v0); v3 = v3 + v1; v4 = maximum(v3, v7)`` with ``v1``
and ``v5`` (``v7 = v5 - v0``) re-drawn by random ops in every Learn).
``detect_noise`` decides from the program text alone whether a program does
this, so that one definition can be applied identically to the programs of
experiment and control searches. Everything is computed on the **effective**
program (``effective_algorithm``): dead code never counts, and instruction
indices are positions in the effective program.

1. **Noise sources**: random-init ops (``Op.random``: ``uniform``,
   ``gaussian``) in Predict or Learn, which draw new numbers every time they
   run. Random ops in Setup run once: they are initialisations, not noise.
2. **Noisy values**: forward taint from the noise sources over the
   executor's loop, Setup → (Predict → Learn)* with validation Predicts in
   between, memory persisting across the component functions. An
   instruction's result is noisy iff it is a noise source or one of its
   inputs is noisy at that point; a whole-value write of a non-noisy result
   clears its address; the element-wise const-set ops (``PARTIAL_WRITE_OPS``
   of ``automl_zero.language.effective``) keep the address's old taint. The
   executor rewrites ``s0`` and ``v0`` before every Predict and Learn, so they
   are clean at the start of both (a program's own writes to them within a
   component are tracked like any other). Setup starts from clean memory and
   has no sources, so it leaves nothing noisy. The taint at the start of
   Predict is the least fixed point of "clean after Setup, or what Predict
   (validation: Predict → Predict) or Learn leaves": a sound may-analysis,
   i.e. "may be noisy on some example". Each noisy value carries the set of
   noise sources it may depend on.
3. **Hidden activations** (within one Predict, from the current example's
   features): the output of a ``MATRIX_VECTOR_PRODUCT_OP`` whose vector input
   depends on the features (``v0`` as the executor wrote it, through any
   dataflow in this Predict), and every vector output of an op with a hidden
   vector input (element-wise vector ops, scalar × vector, a further
   matrix-vector product, ...; reductions to scalars are not hidden).
   Element-wise const-set writes keep a hidden vector hidden. Each matrix-vector
   product that makes a hidden vector is a *root*; a hidden vector's roots are
   its own and those of the hidden vectors it is computed from.
   **Input-level vectors**: ``v0`` and vector outputs of ops other than the
   matrix-vector product with an input-level vector input and no hidden one.
4. **Hidden-activation noise** fires at an effective Predict instruction
   with a vector output, one input a hidden vector ``h`` and the other input
   a scalar or vector ``x`` that is noisy *not only through h's own
   activation*: ``x`` is still noisy when the results of all instructions
   computing hidden vectors that share a root with ``h`` are taken as clean
   (so ``v4 = v3 * heaviside(v3)`` does not inject noise into ``v3`` even if
   ``v3`` is noisy, but ``v4 = v3 * mean(v3 * v1)`` with ``v1`` noise does).
   Matrix inputs are not counted: ``dot(m1, h)`` with noisy weights ``m1``
   is a noisy layer, not noise added to ``h``.
   **Input noise** is the same test for input-level vectors: an instruction
   whose output is input-level, with an input-level input and a noisy other
   input (noisy not only through that input-level chain), e.g.
   ``v5 = v0 + v9`` with ``v9 = uniform(...)`` re-drawn in Learn (the paper's
   Figure S1a best algorithm). It is reported separately; noise reaching a
   hidden vector only through a noisy input of its matrix-vector product is
   input noise, not hidden-activation noise.
   **Noisy prediction**: ``s1`` may be noisy after Predict (for information).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from automl_zero.analysis.dataflow import Address
from automl_zero.analysis.dataflow import inputs as _inputs
from automl_zero.analysis.dataflow import kills as _kills
from automl_zero.analysis.dataflow import output as _output
from automl_zero.language.algorithm import COMPONENT_FUNCTIONS, Algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import OP_BY_NAME, OPS, Kind
from automl_zero.language.printer import COMPONENT_NAMES

__all__ = ["NoiseReport", "Site", "detect_noise"]

_Address = Address
_Taint = dict[_Address, frozenset["Site"]]  # address -> noise sources (never empty)
_FEATURES: _Address = (Kind.VECTOR, 0)
_PREDICTION: _Address = (Kind.SCALAR, 1)
_IO = frozenset({(Kind.SCALAR, 0), (Kind.VECTOR, 0)})  # written before each component
_MATVEC = OP_BY_NAME["MATRIX_VECTOR_PRODUCT_OP"].code
_EMPTY: frozenset[Site] = frozenset()


class Site(NamedTuple):
    """An instruction of the effective program: its component function
    (``"setup"``, ``"predict"`` or ``"learn"``), 0-based index there, and text."""

    component: str
    index: int
    text: str

    def __str__(self) -> str:
        name = COMPONENT_NAMES[COMPONENT_FUNCTIONS.index(self.component)]
        return f"{name} {self.index + 1}: {self.text}"

    def sort_key(self) -> tuple[int, int]:
        return COMPONENT_FUNCTIONS.index(self.component), self.index

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "index": self.index,
                "instruction": self.text}


def _sites(sites: Iterable[Site]) -> tuple[Site, ...]:
    return tuple(sorted(set(sites), key=Site.sort_key))


@dataclass(frozen=True)
class NoiseReport:
    """What ``detect_noise`` found (definitions: the module docstring).

    The tuples list instructions of the effective program in program order:
    ``hidden_triggers`` and ``input_triggers`` the Predict instructions where
    noise enters hidden activations or input-level vectors (the flags
    ``hidden_noise`` and ``input_noise`` are true iff they are non-empty),
    ``prediction_sources`` the noise sources that may reach ``s1``
    (``noisy_prediction``), ``sources`` every noise source.
    """

    hidden_triggers: tuple[Site, ...] = ()
    input_triggers: tuple[Site, ...] = ()
    prediction_sources: tuple[Site, ...] = ()
    sources: tuple[Site, ...] = ()

    @property
    def hidden_noise(self) -> bool:
        """Noise is injected into hidden activations."""
        return bool(self.hidden_triggers)

    @property
    def input_noise(self) -> bool:
        """Noise is injected into the input features."""
        return bool(self.input_triggers)

    @property
    def noisy_prediction(self) -> bool:
        """The prediction ``s1`` may depend on a noise source."""
        return bool(self.prediction_sources)

    def summary(self) -> str:
        """One line, e.g. ``hidden-activation noise: yes (Predict 3: v3 = v3 + v1);
        input noise: no; noisy prediction: yes``."""

        def flag(sites: tuple[Site, ...]) -> str:
            return f"yes ({', '.join(map(str, sites))})" if sites else "no"

        return (f"hidden-activation noise: {flag(self.hidden_triggers)}; "
                f"input noise: {flag(self.input_triggers)}; "
                f"noisy prediction: {'yes' if self.noisy_prediction else 'no'}")

    def to_dict(self) -> dict[str, Any]:
        def rows(sites: tuple[Site, ...]) -> list[dict[str, Any]]:
            return [s.to_dict() for s in sites]

        return {"hidden_noise": self.hidden_noise, "input_noise": self.input_noise,
                "noisy_prediction": self.noisy_prediction,
                "hidden_triggers": rows(self.hidden_triggers),
                "input_triggers": rows(self.input_triggers),
                "prediction_sources": rows(self.prediction_sources),
                "sources": rows(self.sources)}


# --------------------------------------------------------------------------
# Dataflow helpers





def _without_io(taint: _Taint) -> _Taint:
    return {a: s for a, s in taint.items() if a not in _IO}


def _join(*taints: _Taint) -> _Taint:
    result: _Taint = {}
    for taint in taints:
        for a, s in taint.items():
            result[a] = result.get(a, _EMPTY) | s
    return result


def _run(component: tuple[Instruction, ...], name: str, entry: _Taint,
         clean: frozenset[int] = frozenset()) -> tuple[_Taint, list[_Taint]]:
    """Forward taint over one component function: (taint at its end, taint
    before each instruction). Results of the instructions at indices ``clean``
    are taken as not noisy."""
    taint = dict(entry)
    before = []
    for i, ins in enumerate(component):
        before.append(dict(taint))
        out = _output(ins)
        if out is None:
            continue
        if i in clean:
            labels = _EMPTY
        elif OPS[ins.op].random:
            labels = frozenset({Site(name, i, str(ins))})
        else:
            labels = _EMPTY.union(*(taint.get(x, _EMPTY) for x in _inputs(ins)))
        if labels:
            taint[out] = labels if _kills(ins) else labels | taint.get(out, _EMPTY)
        elif _kills(ins):
            taint.pop(out, None)
    return taint, before


def _predict_entry(alg: Algorithm) -> _Taint:
    """Least fixed point of the taint at the start of Predict (Setup leaves
    nothing noisy: it starts from clean memory and has no noise sources)."""
    entry: _Taint = {}
    while True:
        after_predict, _ = _run(alg.predict, "predict", entry)
        after_predict = _without_io(after_predict)
        after_learn, _ = _run(alg.learn, "learn", after_predict)
        new = _join(entry, after_predict, _without_io(after_learn))
        if new == entry:
            return entry
        entry = new


@dataclass(frozen=True)
class _Structure:
    """Hidden and input-level vectors of one Predict, per instruction."""

    in_roots: list[list[frozenset[int] | None]]  # per input: roots if hidden
    in_level: list[list[bool]]  # per input: input-level vector
    out_roots: list[frozenset[int] | None]  # roots if the output is hidden
    out_level: list[bool]  # the output is an input-level vector


def _structure(predict: tuple[Instruction, ...]) -> _Structure:
    depends: set[_Address] = {_FEATURES}  # depends on this example's features
    hidden: dict[_Address, frozenset[int]] = {}
    level: set[_Address] = {_FEATURES}
    result = _Structure([], [], [], [])
    for i, ins in enumerate(predict):
        inputs = _inputs(ins)
        in_roots = [hidden.get(x) for x in inputs]
        in_level = [x in level for x in inputs]
        out = _output(ins)
        roots: frozenset[int] | None = None
        is_level = False
        if out is not None and out[0] == Kind.VECTOR:
            if ins.op == _MATVEC:
                if (Kind.VECTOR, ins.in2) in depends:
                    roots = frozenset({i}) | hidden.get((Kind.VECTOR, ins.in2), frozenset())
            elif any(r is not None for r in in_roots):
                roots = frozenset().union(*(r for r in in_roots if r is not None))
            else:
                is_level = any(in_level)
        result.in_roots.append(in_roots)
        result.in_level.append(in_level)
        result.out_roots.append(roots)
        result.out_level.append(is_level)
        if out is None:
            continue
        if any(x in depends for x in inputs):
            depends.add(out)
        elif _kills(ins):
            depends.discard(out)
        if roots is not None:
            hidden[out] = roots
            level.discard(out)
        elif is_level:
            level.add(out)
            hidden.pop(out, None)
        elif _kills(ins):
            hidden.pop(out, None)
            level.discard(out)
    return result


def _injections(predict: tuple[Instruction, ...], entry: _Taint, check: list[bool],
                keys: list[list[Hashable | None]],
                chain: Callable[[Hashable], frozenset[int]]) -> list[Site]:
    """The Predict instructions ``i`` with ``check[i]`` where noise enters a
    chain of vectors: input p belongs to the chain ``keys[i][p]`` (None: to
    none) and the other input, a scalar or vector, is still noisy when the
    results of the chain's instructions (``chain(key)``, Predict indices) are
    taken as clean."""
    found = []
    passes: dict[Hashable, list[_Taint]] = {}
    for i, ins in enumerate(predict):
        inputs = _inputs(ins)
        if not check[i] or len(inputs) != 2:
            continue
        for p in (0, 1):
            key = keys[i][p]
            other = inputs[1 - p]
            if key is None or other[0] not in (Kind.SCALAR, Kind.VECTOR):
                continue
            if key not in passes:
                passes[key] = _run(predict, "predict", entry, chain(key))[1]
            if passes[key][i].get(other):
                found.append(Site("predict", i, str(ins)))
                break
    return found


def detect_noise(alg: Algorithm) -> NoiseReport:
    """Whether ``alg`` injects noise into hidden activations, into its input
    features, and whether its prediction is noisy, by the static definitions
    of the module docstring (docs/analysis.md §3), on its effective program.

    Only the program text is used: no tasks, no execution. Instruction
    indices in the report are 0-based positions in ``effective_algorithm(alg)``.
    """
    eff = effective_algorithm(alg)
    predict = eff.predict
    entry = _predict_entry(eff)
    after_predict, _ = _run(predict, "predict", entry)
    shape = _structure(predict)
    hidden = _injections(
        predict, entry,
        [r is not None for r in shape.out_roots], shape.in_roots,
        lambda roots: frozenset(j for j, r in enumerate(shape.out_roots)
                                if r is not None and r & roots))
    level_chain = frozenset(j for j, lv in enumerate(shape.out_level) if lv)
    inputs = _injections(
        predict, entry, shape.out_level,
        [["input" if lv else None for lv in row] for row in shape.in_level],
        lambda _: level_chain)
    sources = (Site(name, i, str(ins))
               for name, comp in (("predict", eff.predict), ("learn", eff.learn))
               for i, ins in enumerate(comp) if OPS[ins.op].random)
    return NoiseReport(hidden_triggers=_sites(hidden), input_triggers=_sites(inputs),
                       prediction_sources=_sites(after_predict.get(_PREDICTION, ())),
                       sources=_sites(sources))
