"""The Mutator: makes a child algorithm from a parent (docs/semantics.md §8.6, §8.9).

The original's ``Mutator`` and ``Instruction::AlterParam`` /
``SetOpAndRandomizeParams``, driven by the op table (no per-op switch).

Speed: this runs once per child (tens of thousands of times a second), so the
hot path avoids per-choice numpy calls. Every random choice reads one uniform
double from a per-call stream that draws blocks from the caller's
``numpy.random.Generator`` (one ``rng.random(16)`` call per mutation, more
blocks only when a large function is randomized; the rest of a block is
discarded at the end of the call). Results are therefore a
deterministic function of the generator's state, although not the same stream
as the original's absl generator. Integer choices are ``int(u * n)``, which
is uniform on ``[0, n)`` for ``u`` in ``[0, 1)``. Instructions without
constants are interned (equal instructions share one immutable object).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from automl_zero.engine.settings import MUTATION_TYPES
from automl_zero.language.algorithm import COMPONENT_FUNCTIONS, Algorithm
from automl_zero.language.instruction import Instruction, canonical, float32
from automl_zero.language.ops import NUM_OPS, OPS, DataKind, Kind
from automl_zero.language.randomizer import FIRST_OUT_ADDRESS

if TYPE_CHECKING:
    from automl_zero.engine.settings import EvolutionSettings

__all__ = [
    "MUTATIONS",
    "PAPER_MUTATION_TYPES",
    "CONSTANT_MUTATIONS",
    "Mutator",
    "alter_instruction_param",
]

# Mutation type name (mutator.proto enum, as in configs) -> Mutator method.
MUTATIONS: dict[str, str] = {
    "ALTER_PARAM_MUTATION_TYPE": "alter_param",
    "RANDOMIZE_INSTRUCTION_MUTATION_TYPE": "randomize_instruction",
    "RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE": "randomize_component_function",
    "IDENTITY_MUTATION_TYPE": "identity",
    "INSERT_INSTRUCTION_MUTATION_TYPE": "insert_instruction",
    "REMOVE_INSTRUCTION_MUTATION_TYPE": "remove_instruction",
    "TRADE_INSTRUCTION_MUTATION_TYPE": "trade_instruction",
    "RANDOMIZE_ALGORITHM_MUTATION_TYPE": "randomize_algorithm",
}
assert tuple(MUTATIONS) == MUTATION_TYPES, "MUTATIONS must follow config.MUTATION_TYPES"

# The paper's scheme (docs/semantics.md §8.6) as a weighted list: P(insert) = 1/9,
# P(remove) = 2/9, P(randomize a component function) = P(alter a param) = 3/9.
PAPER_MUTATION_TYPES: tuple[str, ...] = (
    ("INSERT_INSTRUCTION_MUTATION_TYPE",)
    + ("REMOVE_INSTRUCTION_MUTATION_TYPE",) * 2
    + ("RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE",) * 3
    + ("ALTER_PARAM_MUTATION_TYPE",) * 3
)

# How AlterData perturbs a real constant x (docs/semantics.md §8.9):
# "log_normal" (the code): x * LogNormal(0, 1), or -x with probability 0.1;
# "paper": x * U[0.5, 2.0], then -x with probability 0.1.
# The Gaussian stdev is never sign-flipped in either.
CONSTANT_MUTATIONS = ("log_normal", "paper")

SIGN_FLIP_PROB = 0.1  # the original's kSignFlipProb

_TWO24 = 16777216.0  # float32 uniforms are k / 2**24: exactly representable
_INV24 = 1.0 / _TWO24
_INV23 = 2.0 / _TWO24
_TWO_PI = 2.0 * math.pi
_NO_OP = Instruction(0)
_TABLE_CAP = 2048  # largest per-op table of pre-built instructions

_ACTIVATION = int(DataKind.ACTIVATION)
_VECTOR_INDEX_VALUE = int(DataKind.VECTOR_INDEX_VALUE)
_MATRIX_INDEX_VALUE = int(DataKind.MATRIX_INDEX_VALUE)
_GAUSSIAN = int(DataKind.GAUSSIAN)
_UNIFORM = int(DataKind.UNIFORM)

# Op classes of the parameter logic (docs/semantics.md §8.9).
_NOOP, _DATA, _ONE_INPUT, _TWO_INPUTS = 0, 1, 2, 3

Uniform = Callable[[], float]  # returns the next uniform double in [0, 1)
Parts = list  # [setup, predict, learn] tuples, edited in place by the mutations


def _uniform_stream(rng: np.random.Generator, first: int = 16) -> Uniform:
    """An endless stream of uniform [0, 1) doubles read from ``rng`` in blocks:
    ``first`` values at once, then 64 at a time if (rarely) more are needed.

    Built from C iterators only: cheap to create and to drop half-read.
    """
    refills = chain.from_iterable(iter(lambda: rng.random(64).tolist(), None))
    return chain(rng.random(first).tolist(), refills).__next__


def _gaussian(u: Uniform) -> float:
    """A standard normal draw (Box-Muller); 1 - u is in (0, 1], so log is finite."""
    return math.sqrt(-2.0 * math.log(1.0 - u())) * math.cos(_TWO_PI * u())


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log_normal(x: float, u: Uniform, flip: bool) -> float:
    """The original's Mutate{Activation,Float}LogScale[OrFlip] on a double."""
    if flip and u() < SIGN_FLIP_PROB:
        return -x
    g = _gaussian(u)
    if x > 0.0:
        return _exp(math.log(x) + g)
    if x < 0.0:
        return -_exp(math.log(-x) + g)
    # 0 and -0 become -0 as in the original (-exp(log(0) + g)); NaN stays NaN.
    return -0.0 if x == 0.0 else x


def _paper_scale(x: float, u: Uniform, flip: bool) -> float:
    """The paper's perturbation (S3): x * U[0.5, 2.0], sign flipped w.p. 0.1."""
    x *= 0.5 + 1.5 * u()
    if flip and u() < SIGN_FLIP_PROB:
        return -x
    return x


def _f01(u: Uniform) -> float:
    """A float32 draw on [0, 1) (the original's UniformFloat(0, 1))."""
    return int(u() * _TWO24) * _INV24


def _fm11(u: Uniform) -> float:
    """A float32 draw on [-1, 1) (the original's UniformFloat(-1, 1))."""
    return int(u() * _TWO24) * _INV23 - 1.0


class _Randomizer:
    """Random instructions and parameter alterations for one memory size.

    ``_plan[op]`` = (class, in1 count, in2 count, first output, output count,
    data kind), or None when the memory lacks an address space the op needs.
    ``_tables[op]`` = every instruction of an op without constants, ordered by
    (in1, in2, out), when there are at most ``_TABLE_CAP`` of them; a uniform
    element is a uniform (in1, in2, out) for one draw instead of three.
    """

    __slots__ = ("_plan", "_sizes", "_perturb", "_interned", "_tables")

    def __init__(self, memory_sizes: tuple[int, int, int],
                 constant_mutation: str = "log_normal") -> None:
        if constant_mutation not in CONSTANT_MUTATIONS:
            raise ValueError(f"unknown constant_mutation {constant_mutation!r}; "
                             f"valid: {', '.join(CONSTANT_MUTATIONS)}")
        sizes = tuple(int(n) for n in memory_sizes)
        if len(sizes) != 3 or min(sizes) < 0 or max(sizes) > 65536:
            raise ValueError(f"memory_sizes must be 3 address counts in [0, 65536] "
                             f"(scalar, vector, matrix), got {memory_sizes!r}")
        self._sizes: tuple[int, int, int] = sizes  # type: ignore[assignment]
        self._plan = tuple(self._op_plan(spec.code) for spec in OPS)
        self._perturb = _log_normal if constant_mutation == "log_normal" else _paper_scale
        # (op, in1, in2, out) -> the one Instruction object, for ops without
        # constants (bounded by the address combinations in use, and cleared
        # if it ever grows past 2**18 entries).
        self._interned: dict[int, Instruction] = {}
        self._tables = tuple(self._op_table(op) for op in range(NUM_OPS))

    def _op_plan(self, op: int) -> tuple[int, int, int, int, int, int] | None:
        spec = OPS[op]
        if op == 0:
            return (_NOOP, 0, 0, 0, 0, 0)
        counts = [0, 0]
        for i, kind in enumerate((spec.in1, spec.in2)):
            if kind != Kind.NONE:
                counts[i] = self._sizes[kind - 1]
                if counts[i] == 0:
                    return None
        first_out = FIRST_OUT_ADDRESS[spec.out]
        out_count = self._sizes[spec.out - 1] - first_out
        if out_count <= 0:
            return None
        if spec.data != DataKind.NONE:
            cls = _DATA
        else:
            cls = _TWO_INPUTS if spec.in2 != Kind.NONE else _ONE_INPUT
        return (cls, counts[0], counts[1], first_out, out_count, int(spec.data))

    def _op_table(self, op: int) -> tuple[Instruction, ...] | None:
        plan = self._plan[op]
        if plan is None or plan[0] == _DATA:
            return None
        cls, n1, n2, first_out, n_out, _ = plan
        if cls == _NOOP:
            return (_NO_OP,)
        n2 = max(n2, 1)  # one-input ops: in2 = 0
        if n1 * n2 * n_out > _TABLE_CAP:
            return None
        return tuple(self._intern(op, a, b, first_out + o)
                     for a in range(n1) for b in range(n2) for o in range(n_out))

    def check_op(self, op: int, where: str) -> None:
        """Raise ValueError if ``op`` cannot be generated with this memory."""
        if not 0 <= op < NUM_OPS:
            raise ValueError(f"{where}: unknown op code {op} (valid: 0..{NUM_OPS - 1})")
        if self._plan[op] is None:
            spec = OPS[op]
            names = ("scalar", "vector", "matrix")
            kinds = [k.name.lower() for k in (spec.in1, spec.in2) if k != Kind.NONE]
            raise ValueError(
                f"{where}: {spec.name} needs "
                + (f"{' and '.join(kinds)} input(s) and " if kinds else "")
                + f"a {spec.out.name.lower()} output address (outputs never use "
                f"s0 or v0), but memory has "
                + ", ".join(f"{n} {k}" for n, k in zip(self._sizes, names, strict=True))
                + " addresses")

    def _plan_of(self, op: int) -> tuple[int, int, int, int, int, int]:
        plan = self._plan[op]
        if plan is None:
            self.check_op(op, "mutation")
        return plan  # type: ignore[return-value]

    def _intern(self, op: int, in1: int, in2: int, out: int) -> Instruction:
        if (in1 | in2 | out) >> 16:  # not a uint16 address (hand-made): no key
            return Instruction(op, in1, in2, out)
        key = (((op << 16 | in1) << 16) | in2) << 16 | out
        ins = self._interned.get(key)
        if ins is None:
            if len(self._interned) >= 1 << 18:
                self._interned.clear()
            ins = self._interned[key] = Instruction(op, in1, in2, out)
        return ins

    def random(self, op: int, u: Uniform) -> Instruction:
        """SetOpAndRandomizeParams: uniform in1, in2, out (or out, then data)."""
        table = self._tables[op]
        if table is not None:
            return table[int(u() * len(table))]
        cls, n1, n2, first_out, n_out, data_kind = self._plan_of(op)
        if cls == _DATA:
            out = first_out + int(u() * n_out)
            return Instruction(op, 0, 0, out, _random_data(data_kind, u))
        in1 = int(u() * n1)
        in2 = int(u() * n2) if cls == _TWO_INPUTS else 0
        return self._intern(op, in1, in2, first_out + int(u() * n_out))

    def alter(self, ins: Instruction, u: Uniform) -> Instruction:
        """The original's Instruction::AlterParam: one parameter re-drawn or altered.

        The op never changes; NO_OP is returned as is. The other fields are
        copied, as the original alters a copy.
        """
        op = ins.op
        cls, n1, n2, first_out, n_out, data_kind = self._plan_of(op)
        if cls == _TWO_INPUTS:
            choice = int(u() * 3)
            if choice == 0:
                return self._intern(op, int(u() * n1), ins.in2, ins.out)
            if choice == 1:
                return self._intern(op, ins.in1, int(u() * n2), ins.out)
            return self._intern(op, ins.in1, ins.in2, first_out + int(u() * n_out))
        if cls == _ONE_INPUT:
            if u() < 0.5:
                return self._intern(op, int(u() * n1), ins.in2, ins.out)
            return self._intern(op, ins.in1, ins.in2, first_out + int(u() * n_out))
        if cls == _DATA:
            if u() < 0.5:
                return Instruction(op, ins.in1, ins.in2, first_out + int(u() * n_out),
                                   ins.data)
            return Instruction(op, ins.in1, ins.in2, ins.out,
                               self._alter_data(data_kind, ins.data, u))
        return ins

    def _alter_data(self, data_kind: int, data: tuple[float, float, float],
                    u: Uniform) -> tuple[float, float, float]:
        """The original's AlterData: float32 fields stay float32-representable."""
        d0, d1, d2 = data
        perturb = self._perturb
        if data_kind == _ACTIVATION:  # float64: no rounding
            return (canonical(perturb(d0, u, True)), d1, d2)
        if data_kind == _VECTOR_INDEX_VALUE:
            if u() < 0.5:
                return (_f01(u), d1, d2)
            return (d0, float32(perturb(d1, u, True)), d2)
        if data_kind == _MATRIX_INDEX_VALUE:
            choice = int(u() * 3)
            if choice == 0:
                return (_f01(u), d1, d2)
            if choice == 1:
                return (d0, _f01(u), d2)
            return (d0, d1, float32(perturb(d2, u, True)))
        if data_kind == _GAUSSIAN:
            if u() < 0.5:
                return (float32(perturb(d0, u, True)), d1, d2)
            return (d0, float32(perturb(d1, u, False)), d2)  # stdev: never flipped
        if data_kind == _UNIFORM:
            low, high = d0, d1
            if u() < 0.5:
                low = float32(perturb(low, u, True))
            else:
                high = float32(perturb(high, u, True))
            # Altered uniform ops become ordered: std::min / std::max (NaN-faithful).
            return (high if high < low else low, high if low < high else low, d2)
        return data


def _random_data(data_kind: int, u: Uniform) -> tuple[float, float, float]:
    """RandomizeData (docs/semantics.md §8.9); float32 fields are drawn exactly in float32."""
    if data_kind == _ACTIVATION:
        return (2.0 * u() - 1.0, 0.0, 0.0)  # float64 U(-1, 1)
    if data_kind == _VECTOR_INDEX_VALUE:
        return (_f01(u), _fm11(u), 0.0)
    if data_kind == _MATRIX_INDEX_VALUE:
        return (_f01(u), _f01(u), _fm11(u))
    if data_kind == _GAUSSIAN:
        return (_fm11(u), _f01(u), 0.0)  # mean, stdev
    # UNIFORM: low, high, not ordered (about half emit the constant low).
    return (_fm11(u), _fm11(u), 0.0)


@lru_cache(maxsize=16)
def _randomizer(memory_sizes: tuple[int, int, int], constant_mutation: str) -> _Randomizer:
    return _Randomizer(memory_sizes, constant_mutation)


def alter_instruction_param(ins: Instruction, sizes: tuple[int, int, int],
                            rng: np.random.Generator, *,
                            constant_mutation: str = "log_normal") -> Instruction:
    """The original's ``Instruction::AlterParam`` (docs/semantics.md §8.9) as a new instruction.

    ``sizes`` = (scalar, vector, matrix) address counts. NO_OP: unchanged; data
    ops: re-draw ``out`` or AlterData; one-input: re-draw ``in1`` or ``out``;
    two-input: re-draw ``in1``, ``in2`` or ``out``. Outputs never hit s0/v0.
    """
    return _randomizer(tuple(sizes), constant_mutation).alter(ins, _uniform_stream(rng, 8))


# Algorithm construction without the dataclass __init__/__post_init__ (about 1 us
# of the mutation budget). Only valid while Algorithm's fields are exactly these;
# otherwise the regular constructor is used.
_FAST_ALGORITHM = (
    {f.name for f in dataclasses.fields(Algorithm)}
    == {"setup", "predict", "learn", "_cache"}
    and "__slots__" not in Algorithm.__dict__
)


def _new_algorithm(parts: Sequence[tuple[Instruction, ...]]) -> Algorithm:
    """A new Algorithm of three instruction tuples."""
    if _FAST_ALGORITHM:
        alg = object.__new__(Algorithm)
        state = alg.__dict__
        state["setup"], state["predict"], state["learn"] = parts
        state["_cache"] = {}
        return alg
    return Algorithm(*parts)


def _check_sizes(values: Sequence[int], name: str) -> tuple[int, int, int]:
    sizes = tuple(int(v) for v in values)
    if len(sizes) != 3 or min(sizes) < 0:
        raise ValueError(f"{name} must be 3 non-negative sizes (setup, predict, "
                         f"learn), got {values!r}")
    return sizes  # type: ignore[return-value]


class Mutator:
    """The original's Mutator (docs/semantics.md §8.6): mutation types drawn uniformly from the
    list (duplicates weight a type), applied with probability ``mutate_prob``.

    ``ops`` are the allowed op codes of Setup, Predict and Learn; a component
    function with an empty list is never mutated. ``size_max`` 0 = unbounded;
    insertion stops at ``size_max - 1`` instructions (the original's test
    ``size >= size_max - 1``); removal stops at ``size_min``.
    """

    def __init__(self, mutation_types: Sequence[str], mutate_prob: float,
                 ops: tuple[Sequence[int], Sequence[int], Sequence[int]],
                 size_min: tuple[int, int, int] = (0, 0, 0),
                 size_max: tuple[int, int, int] = (0, 0, 0),
                 memory_sizes: tuple[int, int, int] = (20, 20, 20), *,
                 constant_mutation: str = "log_normal") -> None:
        if isinstance(mutation_types, str):
            raise ValueError("mutation_types must be a list of names, not one string")
        types = tuple(str(t).strip().upper() for t in mutation_types)
        if not types:
            raise ValueError("mutation_types (allowed_mutation_types) is empty: list "
                             "at least one of " + ", ".join(MUTATION_TYPES))
        for t in types:
            if t not in MUTATIONS:
                raise ValueError(f"unknown mutation type {t!r}; valid: "
                                 + ", ".join(MUTATION_TYPES))
        prob = float(mutate_prob)
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"mutate_prob must be in [0, 1], got {mutate_prob!r}")
        if len(ops) != 3:
            raise ValueError("ops must be 3 op-code lists (setup, predict, learn)")
        self._randomizer = _Randomizer(memory_sizes, constant_mutation)
        self.ops: tuple[tuple[int, ...], ...] = tuple(
            tuple(int(op) for op in allowed) for allowed in ops)
        for name, allowed in zip(COMPONENT_FUNCTIONS, self.ops, strict=True):
            for op in allowed:
                self._randomizer.check_op(op, f"{name}_ops")
        # Components that may change: those with allowed ops (the original's
        # ComponentFunction() CHECKs that there is at least one).
        self._mutable = tuple(c for c in range(3) if self.ops[c])
        self._op_tables = tuple(tuple(self._randomizer._tables[op] for op in allowed)
                                for allowed in self.ops)
        if not self._mutable:
            raise ValueError("no component function can be mutated: setup_ops, "
                             "predict_ops and learn_ops are all empty")
        self.size_min = _check_sizes(size_min, "size_min")
        self.size_max = _check_sizes(size_max, "size_max")
        for name, lo, hi in zip(COMPONENT_FUNCTIONS, self.size_min, self.size_max,
                                strict=True):
            if hi and lo > hi:
                raise ValueError(f"mutate_{name}_size_min ({lo}) > "
                                 f"mutate_{name}_size_max ({hi})")
        # Insertion happens only while size < size_max - 1; unset max: unbounded.
        self._insert_below = tuple(hi - 1 if hi > 0 else math.inf for hi in self.size_max)
        self.mutation_types = types
        self.mutate_prob = prob
        self.memory_sizes = self._randomizer._sizes
        self.constant_mutation = constant_mutation
        self._impls = tuple(getattr(self, "_" + MUTATIONS[t]) for t in types)

    @classmethod
    def from_settings(cls, settings: EvolutionSettings) -> Mutator:
        """The mutator of a search space (allowed mutation types, mutate_prob,
        op sets, size limits and memory sizes)."""
        return cls(settings.allowed_mutation_types, settings.mutate_prob,
                   settings.op_codes, settings.size_min, settings.size_max,
                   settings.memory_sizes)

    def __reduce__(self) -> tuple:
        # Pickle the settings only (not the bound-method table or interned cache).
        return (_rebuild_mutator, (self.mutation_types, self.mutate_prob, self.ops,
                                   self.size_min, self.size_max, self.memory_sizes,
                                   self.constant_mutation))

    def __repr__(self) -> str:
        return (f"Mutator({list(self.mutation_types)!r}, {self.mutate_prob!r}, "
                f"ops={self.ops!r}, size_min={self.size_min}, size_max={self.size_max}, "
                f"memory_sizes={self.memory_sizes})")

    # --- public API -------------------------------------------------------------

    def mutate(self, parent: Algorithm, rng: np.random.Generator,
               num_mutations: int = 1) -> Algorithm:
        """With probability ``mutate_prob`` (always if >= 1), a new child with
        ``num_mutations`` mutations; otherwise ``parent`` itself (same object).

        The parent is never modified (algorithms are immutable).
        """
        u = _uniform_stream(rng)
        # As the original: no coin flip when mutate_prob >= 1.
        if self.mutate_prob < 1.0 and not u() < self.mutate_prob:
            return parent
        parts = [parent.setup, parent.predict, parent.learn]
        impls = self._impls
        n = len(impls)
        for _ in range(num_mutations):
            impls[int(u() * n)](parts, u)
        return _new_algorithm(parts)

    def mutate_once(self, alg: Algorithm, rng: np.random.Generator) -> Algorithm:
        """One mutation of a type drawn uniformly from the list (no mutate_prob)."""
        u = _uniform_stream(rng)
        parts = [alg.setup, alg.predict, alg.learn]
        self._impls[int(u() * len(self._impls))](parts, u)
        return _new_algorithm(parts)

    def _apply(self, impl: Callable[[Parts, Uniform], None], alg: Algorithm,
               rng: np.random.Generator) -> Algorithm:
        parts = [alg.setup, alg.predict, alg.learn]
        impl(parts, _uniform_stream(rng))
        return _new_algorithm(parts)

    def alter_param(self, alg: Algorithm, rng: np.random.Generator) -> Algorithm:
        """ALTER_PARAM: one parameter of a uniform instruction of a uniform
        mutable component (nothing if that component is empty)."""
        return self._apply(self._alter_param, alg, rng)

    def randomize_instruction(self, alg: Algorithm, rng: np.random.Generator) -> Algorithm:
        """RANDOMIZE_INSTRUCTION: a uniform instruction becomes a new random one."""
        return self._apply(self._randomize_instruction, alg, rng)

    def randomize_component_function(self, alg: Algorithm,
                                     rng: np.random.Generator) -> Algorithm:
        """RANDOMIZE_COMPONENT_FUNCTION: every instruction of one component is
        replaced by a random one; the size is kept."""
        return self._apply(self._randomize_component_function, alg, rng)

    def identity(self, alg: Algorithm, rng: np.random.Generator) -> Algorithm:
        """IDENTITY: a distinct but equal copy (the original still evaluates it)."""
        return _new_algorithm(alg.components)

    def insert_instruction(self, alg: Algorithm, rng: np.random.Generator) -> Algorithm:
        """INSERT_INSTRUCTION: a random instruction at a uniform position in
        [0, size], unless size >= size_max - 1."""
        return self._apply(self._insert_instruction, alg, rng)

    def remove_instruction(self, alg: Algorithm, rng: np.random.Generator) -> Algorithm:
        """REMOVE_INSTRUCTION: drop a uniform instruction, unless size <= size_min."""
        return self._apply(self._remove_instruction, alg, rng)

    def trade_instruction(self, alg: Algorithm, rng: np.random.Generator) -> Algorithm:
        """TRADE_INSTRUCTION: insert a random instruction, then remove a uniform
        one of the new list (it may be the new one); the size is kept."""
        return self._apply(self._trade_instruction, alg, rng)

    def randomize_algorithm(self, alg: Algorithm, rng: np.random.Generator) -> Algorithm:
        """RANDOMIZE_ALGORITHM: every mutable component is randomized; sizes kept."""
        return self._apply(self._randomize_algorithm, alg, rng)

    # --- implementations: edit ``parts`` in place, reading choices from ``u`` ----

    def _component(self, u: Uniform) -> int:
        mutable = self._mutable
        return mutable[int(u() * len(mutable))]

    def _random_op(self, c: int, u: Uniform) -> int:
        ops = self.ops[c]
        return ops[int(u() * len(ops))]

    def _random_function(self, c: int, size: int, u: Uniform) -> tuple[Instruction, ...]:
        """``size`` new random instructions over component ``c``'s ops."""
        ops = self.ops[c]
        tables = self._op_tables[c]  # aligned with ops; None: no table for that op
        k = len(ops)
        new = self._randomizer.random
        out = []
        for _ in range(size):
            i = int(u() * k)
            table = tables[i]
            # Same as new(ops[i], u), inlined for the common table case.
            out.append(table[int(u() * len(table))] if table is not None
                       else new(ops[i], u))
        return tuple(out)

    def _alter_param(self, parts: Parts, u: Uniform) -> None:
        c = self._component(u)
        fn = parts[c]
        if fn:
            i = int(u() * len(fn))
            parts[c] = fn[:i] + (self._randomizer.alter(fn[i], u),) + fn[i + 1:]

    def _randomize_instruction(self, parts: Parts, u: Uniform) -> None:
        c = self._component(u)
        fn = parts[c]
        if fn:
            i = int(u() * len(fn))  # position first, then the op (as the original)
            ins = self._randomizer.random(self._random_op(c, u), u)
            parts[c] = fn[:i] + (ins,) + fn[i + 1:]

    def _randomize_component_function(self, parts: Parts, u: Uniform) -> None:
        c = self._component(u)
        parts[c] = self._random_function(c, len(parts[c]), u)

    def _identity(self, parts: Parts, u: Uniform) -> None:
        pass

    def _insert_instruction(self, parts: Parts, u: Uniform) -> None:
        c = self._component(u)
        fn = parts[c]
        if len(fn) >= self._insert_below[c]:
            return
        op = self._random_op(c, u)
        i = int(u() * (len(fn) + 1))  # [0, size]: the end is a valid position
        parts[c] = fn[:i] + (self._randomizer.random(op, u),) + fn[i:]

    def _remove_instruction(self, parts: Parts, u: Uniform) -> None:
        c = self._component(u)
        fn = parts[c]
        if len(fn) <= self.size_min[c]:  # also stops at 0
            return
        i = int(u() * len(fn))
        parts[c] = fn[:i] + fn[i + 1:]

    def _trade_instruction(self, parts: Parts, u: Uniform) -> None:
        c = self._component(u)
        fn = parts[c]
        op = self._random_op(c, u)
        i = int(u() * (len(fn) + 1))  # no size check, as the original
        fn = fn[:i] + (self._randomizer.random(op, u),) + fn[i:]
        j = int(u() * len(fn))  # len(fn) > 0 here
        parts[c] = fn[:j] + fn[j + 1:]

    def _randomize_algorithm(self, parts: Parts, u: Uniform) -> None:
        for c in self._mutable:
            parts[c] = self._random_function(c, len(parts[c]), u)


def _rebuild_mutator(*args: object) -> Mutator:
    *positional, constant_mutation = args
    return Mutator(*positional, constant_mutation=constant_mutation)  # type: ignore[arg-type]
