"""Regularized evolution on a packed population: the search's fast engine.

The population lives in arrays (``_mutation_kernel`` layout) and children are
made by the numba mutator, so a child costs no Python objects until it is
reported. Semantics are those of ``evolution.RegularizedEvolution`` with
``mutator.Mutator`` (the reference engine), with one bound: a component never
grows past its capacity (``size_max - 1`` when set, as the original; otherwise
``4 * size_init + 64``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from automl_zero.engine import _mutation_kernel as mk
from automl_zero.engine.settings import MUTATION_TYPES, EvolutionSettings
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.effective import PARTIAL_WRITE_OPS
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import (
    DATA_KIND,
    IN1_KIND,
    IN2_KIND,
    IS_RANDOM,
    OPS,
    OUT_KIND,
)

__all__ = ["Layout", "PackedPopulation", "PackedEvolution", "Children", "executor_arrays"]

# Ops that write one element of their output (the rest of it stays live).
_PARTIAL_WRITE = np.array([op.code in PARTIAL_WRITE_OPS for op in OPS], dtype=np.bool_)


@dataclass(frozen=True)
class Layout:
    """Capacity and first row of each component within a packed program."""

    caps: np.ndarray  # int64 (3,)
    offsets: np.ndarray  # int64 (3,)

    @property
    def rows(self) -> int:
        return int(self.caps.sum())

    @classmethod
    def for_settings(cls, settings: EvolutionSettings,
                     initial: Sequence[Algorithm] = ()) -> Layout:
        """Room for every program the search can make from ``initial``."""
        # Only insertion grows a component (trade and the others keep its size).
        grows = "INSERT_INSTRUCTION_MUTATION_TYPE" in settings.allowed_mutation_types
        caps = []
        for c, (size_max, size_init) in enumerate(zip(settings.size_max,
                                                      settings.size_init, strict=True)):
            if not grows:
                cap = size_init
            elif size_max > 0:
                cap = size_max - 1
            else:
                cap = 4 * size_init + 64
            longest = max((len(a.components[c]) for a in initial), default=0)
            caps.append(max(cap, longest, 1))
        return cls.from_caps(caps)

    @classmethod
    def fit(cls, algorithms: Sequence[Algorithm]) -> Layout:
        """The smallest layout holding ``algorithms``."""
        return cls.from_caps([max([len(a.components[c]) for a in algorithms] + [1])
                              for c in range(3)])

    @classmethod
    def from_caps(cls, caps: Sequence[int]) -> Layout:
        caps = np.array(caps, dtype=np.int64)
        return cls(caps, np.concatenate([[0], np.cumsum(caps)[:2]]).astype(np.int64))


@dataclass
class PackedPopulation:
    """Population arrays, fitness and age order (cf. ``evolution.EvolutionState``)."""

    code: np.ndarray  # int32 (P, CAP, 4)
    data: np.ndarray  # float64 (P, CAP, 3)
    sizes: np.ndarray  # int64 (P, 3)
    fitness: np.ndarray  # float64 (P,)
    layout: Layout
    next_slot: int = 0
    num_individuals: int = 0

    @classmethod
    def from_algorithms(cls, algorithms: Sequence[Algorithm], fitness: np.ndarray,
                        layout: Layout, next_slot: int = 0,
                        num_individuals: int | None = None) -> PackedPopulation:
        p = len(algorithms)
        code = np.zeros((p, layout.rows, 4), dtype=np.int32)
        data = np.zeros((p, layout.rows, 3))
        sizes = np.zeros((p, 3), dtype=np.int64)
        for i, alg in enumerate(algorithms):
            for c, component in enumerate(alg.components):
                if len(component) > layout.caps[c]:
                    raise ValueError(f"algorithm {i} has {len(component)} instructions "
                                     f"in component {c}; capacity {layout.caps[c]}")
                o = layout.offsets[c]
                sizes[i, c] = len(component)
                for j, ins in enumerate(component):
                    code[i, o + j] = (ins.op, ins.in1, ins.in2, ins.out)
                    data[i, o + j] = ins.data
        return cls(code, data, sizes, np.array(fitness, dtype=np.float64), layout,
                   next_slot, p if num_individuals is None else num_individuals)

    def algorithm(self, i: int) -> Algorithm:
        return unpack(self.code[i], self.data[i], self.sizes[i], self.layout)


def unpack(code: np.ndarray, data: np.ndarray, sizes: np.ndarray, layout: Layout
           ) -> Algorithm:
    """One packed program as an ``Algorithm``."""
    parts = []
    for c in range(3):
        o = int(layout.offsets[c])
        rows = code[o:o + int(sizes[c])].tolist()
        values = data[o:o + int(sizes[c])].tolist()
        parts.append(tuple(Instruction(r[0], r[1], r[2], r[3],
                                       (_nan(v[0]), _nan(v[1]), _nan(v[2])))
                           for r, v in zip(rows, values, strict=True)))
    return Algorithm(*parts)


def _nan(x: float) -> float:
    return math.nan if x != x else x


@dataclass
class Children:
    """A batch of children in packed form."""

    code: np.ndarray
    data: np.ndarray
    sizes: np.ndarray
    parents: np.ndarray  # population slots of their parents
    mutated: np.ndarray  # bool: False = an unmutated copy of the parent


class PackedEvolution:
    """Ask/tell regularized evolution on a ``PackedPopulation``."""

    def __init__(self, settings: EvolutionSettings, layout: Layout) -> None:
        codes = {name: i for i, name in enumerate(MUTATION_TYPES)}
        if not settings.allowed_mutation_types:
            raise ValueError("allowed_mutation_types is empty")
        self.types = np.array([codes[t] for t in settings.allowed_mutation_types],
                              dtype=np.int64)
        self.mutate_prob = float(settings.mutate_prob)
        ops = settings.op_codes
        self.mutable = np.array([c for c in range(3) if ops[c]], dtype=np.int64)
        if not len(self.mutable):
            raise ValueError("no component function has allowed ops")
        self.ops_flat = np.array([op for component in ops for op in component] or [0],
                                 dtype=np.int64)
        self.ops_start = np.cumsum([0] + [len(o) for o in ops]).astype(np.int64)
        self.size_min = np.array(settings.size_min, dtype=np.int64)
        self.size_max = np.array(settings.size_max, dtype=np.int64)
        self.mem = np.array(settings.memory_sizes, dtype=np.int64)
        self.layout = layout
        self.population_size = settings.population_size
        self.tournament_size = settings.tournament_size
        self.tables = (IN1_KIND.astype(np.int64), IN2_KIND.astype(np.int64),
                       OUT_KIND.astype(np.int64), DATA_KIND.astype(np.int64))

    def ask(self, state: PackedPopulation, rng: np.random.Generator, n: int
            ) -> Children:
        draws = rng.integers(0, self.population_size, size=(n, self.tournament_size))
        parents = draws[np.arange(n), np.argmax(state.fitness[draws], axis=1)]
        rows = self.layout.rows
        code = np.zeros((n, rows, 4), dtype=np.int32)
        data = np.zeros((n, rows, 3))
        sizes = np.zeros((n, 3), dtype=np.int64)
        mutated = np.zeros(n, dtype=np.bool_)
        seed = int(rng.integers(0, 2**32))
        mk.mutate_batch(state.code, state.data, state.sizes, parents, code, data, sizes,
                        mutated, self.types, self.mutate_prob, self.mutable,
                        self.ops_flat, self.ops_start, self.size_min, self.size_max,
                        self.layout.caps, self.layout.offsets, self.mem, *self.tables,
                        seed)
        return Children(code, data, sizes, parents, mutated)

    def randomize(self, template: PackedPopulation, rng: np.random.Generator, n: int
                  ) -> Children:
        """``n`` copies of program 0 of ``template`` with every instruction of
        every mutable component randomized (the RANDOM_ALGORITHM generator)."""
        rows = self.layout.rows
        code = np.zeros((n, rows, 4), dtype=np.int32)
        data = np.zeros((n, rows, 3))
        sizes = np.zeros((n, 3), dtype=np.int64)
        mutated = np.zeros(n, dtype=np.bool_)
        mk.mutate_batch(template.code, template.data, template.sizes,
                        np.zeros(n, dtype=np.int64), code, data, sizes, mutated,
                        np.array([mk.RANDOMIZE_ALGORITHM]), 1.0, self.mutable,
                        self.ops_flat, self.ops_start, self.size_min, self.size_max,
                        self.layout.caps, self.layout.offsets, self.mem, *self.tables,
                        int(rng.integers(0, 2**32)))
        return Children(code, data, sizes, np.zeros(n, dtype=np.int64), mutated)

    def tell(self, state: PackedPopulation, children: Children,
             fitness: np.ndarray) -> PackedPopulation:
        n = len(children.sizes)
        slots = (state.next_slot + np.arange(n)) % self.population_size
        state.code[slots] = children.code
        state.data[slots] = children.data
        state.sizes[slots] = children.sizes
        state.fitness[slots] = fitness
        state.next_slot = int((state.next_slot + n) % self.population_size)
        state.num_individuals += n
        return state



_TABLES = (IN1_KIND.astype(np.int64), IN2_KIND.astype(np.int64),
           OUT_KIND.astype(np.int64))


def executor_arrays(code: np.ndarray, data: np.ndarray, sizes: np.ndarray,
                    rows: np.ndarray, layout: Layout, memory_sizes: Sequence[int],
                    effective: bool = False, multiclass: bool = False) -> tuple:
    """Executor arrays (``pack_algorithms`` layout) of packed programs ``rows``;
    with ``effective``, dead code removed (as ``effective.effective_algorithm``;
    ``multiclass``: for tasks that are all MULTICLASS_ACCURACY) when the memory
    is small enough for the numba analysis."""
    packed = mk.compact(code, data, sizes, np.asarray(rows, dtype=np.int64),
                        layout.offsets, IS_RANDOM, _TABLES[2])
    if effective and max(memory_sizes) <= mk.ADDRESS_BITS:
        c, d, starts = mk.remove_dead_code(packed[0], packed[1], packed[2], *_TABLES,
                                           _PARTIAL_WRITE,
                                           *mk.dead_code_masks(multiclass))
        packed = (c, d, starts, packed[3])
    return packed
