"""Shared test helpers: instruction and program builders, random programs, and
the packed engine behind the ``Mutator`` API (``PackedMutator``).

Import with ``from helpers import ...`` (pytest's default "prepend" import
mode puts ``tests/`` on ``sys.path``). Random builders take the generator
first and draw in a fixed order: tests that depend on their seeds keep their
programs as long as these functions do not change.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from automl_zero.config import Config
from automl_zero.engine.mutator import MUTATIONS
from automl_zero.engine.packed_evolution import (
    Layout,
    PackedEvolution,
    PackedPopulation,
    unpack,
)
from automl_zero.engine.settings import EvolutionSettings
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.generator import linear_algorithm
from automl_zero.language.instruction import Instruction
from automl_zero.language.ops import IN1_KIND, IN2_KIND, OPS, OUT_KIND, DataKind, Kind
from automl_zero.language.randomizer import random_instruction as randomizer_instruction
from automl_zero.run import build

__all__ = [
    "ALL_OPS",
    "DETERMINISTIC_OPS",
    "PackedMutator",
    "algorithm",
    "const",
    "evolution_settings",
    "make",
    "op",
    "random_differential_instruction",
    "random_differential_program",
    "random_instruction_any_output",
    "random_program_around_sgd",
    "sizes_of",
    "splice",
]

make = Instruction.make
ALL_OPS = tuple(o.code for o in OPS if o.code != 0)  # every op but NO_OP
DETERMINISTIC_OPS = [o.code for o in OPS if not o.random]  # NO_OP included


# --------------------------------------------------------------------------
# Builders.
# --------------------------------------------------------------------------


def const(out: int, x: float) -> Instruction:
    """``s{out} = x``."""
    return make("SCALAR_CONST_SET_OP", out=out, data=(x,))


def op(name: str, out: int, in1: int = 0, in2: int = 0) -> Instruction:
    """An instruction without constants, by op name."""
    return make(name, out=out, in1=in1, in2=in2)


def algorithm(setup=(), predict=(), learn=()) -> Algorithm:
    """An algorithm from three instruction iterables."""
    return Algorithm(setup=tuple(setup), predict=tuple(predict), learn=tuple(learn))


def sizes_of(alg: Algorithm) -> tuple[int, int, int]:
    return tuple(len(c) for c in alg.components)  # type: ignore[return-value]


# --------------------------------------------------------------------------
# Random programs for differential tests against the naive interpreter.
# --------------------------------------------------------------------------


def random_differential_instruction(rng: np.random.Generator,
                                    memory_sizes: Sequence[int] = (6, 6, 3),
                                    prediction: bool = False) -> Instruction:
    """A random deterministic instruction that reads the features (v0) and
    writes the prediction (s1) often; ``prediction``: one that writes s1."""
    codes = DETERMINISTIC_OPS
    if prediction:
        codes = [c for c in codes if OUT_KIND[c] == Kind.SCALAR]
    limits = {Kind.SCALAR: memory_sizes[0], Kind.VECTOR: memory_sizes[1],
              Kind.MATRIX: memory_sizes[2], Kind.NONE: 1}
    code = int(rng.choice(codes))
    k1, k2, ko = Kind(IN1_KIND[code]), Kind(IN2_KIND[code]), Kind(OUT_KIND[code])
    a = int(rng.integers(limits[k1]))
    b = int(rng.integers(limits[k2]))
    o = int(rng.integers(limits[ko]))
    # Read the features and write the prediction often, so that predictions
    # depend on the data.
    if k1 == Kind.VECTOR and rng.random() < 0.3:
        a = 0
    if k2 == Kind.VECTOR and rng.random() < 0.3:
        b = 0
    if ko == Kind.SCALAR and (prediction or rng.random() < 0.3):
        o = 1
    spec = OPS[code]
    if spec.data == DataKind.ACTIVATION:
        data = (float(rng.choice([rng.normal(), rng.normal(0, 0.1), 0.5, -1.0, 2.0])),)
    elif spec.data == DataKind.VECTOR_INDEX_VALUE:
        data = (float(rng.random()), float(rng.normal()))
    elif spec.data == DataKind.MATRIX_INDEX_VALUE:
        data = (float(rng.random()), float(rng.random()), float(rng.normal()))
    else:
        data = ()
    return make(code, out=o, in1=a, in2=b, data=data)


def random_differential_program(rng: np.random.Generator,
                                memory_sizes: Sequence[int] = (6, 6, 3)) -> Algorithm:
    """A random deterministic program; 40% are the linear regressor skeleton
    with a few random instructions inserted (those often complete), the others
    are random, most of them ending Predict with an instruction that writes s1."""
    if rng.random() < 0.4:
        base = linear_algorithm(float(rng.choice([0.01, 0.05, 0.1])))
        parts = [list(base.setup), list(base.predict), list(base.learn)]
        for part in parts:
            for _ in range(int(rng.integers(0, 3))):
                part.insert(int(rng.integers(len(part) + 1)),
                            random_differential_instruction(rng, memory_sizes))
        return algorithm(*parts)
    sizes = (int(rng.integers(0, 5)), int(rng.integers(1, 6)), int(rng.integers(0, 8)))
    parts = [[random_differential_instruction(rng, memory_sizes) for _ in range(n)]
             for n in sizes]
    if rng.random() < 0.7:  # end Predict with a computed prediction
        parts[1].append(random_differential_instruction(rng, memory_sizes,
                                                        prediction=True))
    return algorithm(*parts)


# --------------------------------------------------------------------------
# Random programs for dead-code removal: random code around a live core.
# --------------------------------------------------------------------------


def random_instruction_any_output(rng: np.random.Generator,
                                  memory_sizes: Sequence[int] = (6, 6, 3),
                                  ops: Sequence[int] = DETERMINISTIC_OPS) -> Instruction:
    """A random instruction as the search makes them (``randomizer``), except
    that one in ten of those writing a scalar or vector writes s0 / v0."""
    code = int(rng.choice(ops))
    ins = randomizer_instruction(code, tuple(memory_sizes), rng)
    spec = OPS[code]
    # Sometimes write the reserved s0 / v0 (random generation never does).
    if spec.out in (Kind.SCALAR, Kind.VECTOR) and rng.random() < 0.1:
        ins = Instruction(ins.op, ins.in1, ins.in2, 0, ins.data)
    return ins


def splice(rng: np.random.Generator, base: Sequence, core: Sequence) -> tuple:
    """Insert ``core`` into ``base`` at random positions, keeping both orders."""
    out = list(base)
    positions = sorted(rng.integers(0, len(base) + 1, size=len(core)))
    for k, (pos, ins) in enumerate(zip(positions, core, strict=True)):
        out.insert(int(pos) + k, ins)
    return tuple(out)


def random_program_around_sgd(rng: np.random.Generator,
                              memory_sizes: Sequence[int] = (6, 6, 3)) -> Algorithm:
    """Random programs (sizes up to 8/6/10); 60% have a linear-regression-like
    core on random addresses spliced in, so that many programs learn something
    and much of the random code interacts with it."""
    sizes = (rng.integers(0, 9), rng.integers(0, 7), rng.integers(0, 11))
    parts = [[random_instruction_any_output(rng, memory_sizes) for _ in range(n)]
             for n in sizes]
    if rng.random() < 0.6:
        w, g = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        lr, err = int(rng.integers(2, 6)), int(rng.integers(2, 6))
        setup = [const(lr, float(rng.uniform(0.01, 0.2)))]
        predict = [op("VECTOR_INNER_PRODUCT_OP", 1, w, 0)]
        learn = [op("SCALAR_DIFF_OP", err, 0, 1), op("SCALAR_PRODUCT_OP", err, lr, err),
                 op("SCALAR_VECTOR_PRODUCT_OP", g, err, 0), op("VECTOR_SUM_OP", w, w, g)]
        return Algorithm(*(splice(rng, p, c)
                           for p, c in zip(parts, (setup, predict, learn), strict=True)))
    return Algorithm(*(tuple(p) for p in parts))


# --------------------------------------------------------------------------
# The packed engine.
# --------------------------------------------------------------------------


def evolution_settings(cfg: Config, **changes) -> EvolutionSettings:
    """The engine settings of a ``Config`` (``run.build``), ``changes`` applied."""
    return dataclasses.replace(build.evolution_settings(cfg), **changes)


def _unpack_all(code: np.ndarray, data: np.ndarray, sizes: np.ndarray,
                layout: Layout) -> list[Algorithm]:
    """``packed_evolution.unpack`` of every program, equal rows sharing one
    Instruction (children repeat most of their parent's rows)."""
    cache: dict[tuple, Instruction] = {}
    components = []
    for c in range(3):
        o = int(layout.offsets[c])
        width = int(sizes[:, c].max(initial=0))  # only the rows in use
        rows = code[:, o:o + width].tolist()
        values = data[:, o:o + width].tolist()
        part = []
        for r, v, n in zip(rows, values, sizes[:, c].tolist(), strict=True):
            instructions = []
            for j in range(n):
                key = (*r[j], *v[j])
                ins = cache.get(key)
                if ins is None:
                    d = tuple(x if x == x else float("nan") for x in v[j])
                    ins = cache[key] = Instruction(*r[j], d)
                instructions.append(ins)
            part.append(tuple(instructions))
        components.append(part)
    return [Algorithm(*parts) for parts in zip(*components, strict=True)]


class PackedMutator:
    """The ``Mutator`` API (``mutate``, ``mutate_once`` and the per-type
    methods) made by the packed engine: each child is one of
    ``PackedEvolution.ask`` on a population holding only the parent (every
    tournament picks it), unpacked. As ``Mutator.mutate``, an unmutated child
    is returned as the parent object itself (after checking that the engine
    copied it exactly).

    The layout is ``Layout.for_settings`` with the parent's sizes as the
    initial sizes (the engine's capacity bound applies). Children of the same
    parent object are made in growing batches (one kernel call for many).
    """

    def __init__(self, mutation_types: Iterable[str], mutate_prob: float,
                 ops: Sequence[Sequence[int]], size_min=(0, 0, 0), size_max=(0, 0, 0),
                 memory_sizes=(20, 20, 20)) -> None:
        self.mutation_types = tuple(mutation_types)
        self.mutate_prob = float(mutate_prob)
        self.ops = tuple(tuple(int(o) for o in allowed) for allowed in ops)
        self.size_min, self.size_max = tuple(size_min), tuple(size_max)
        self.memory_sizes = tuple(memory_sizes)
        self.settings = EvolutionSettings(
            memory_sizes=self.memory_sizes, op_codes=self.ops, size_init=(0, 0, 0),
            size_min=self.size_min, size_max=self.size_max,
            allowed_mutation_types=self.mutation_types, population_size=1,
            tournament_size=1, mutate_prob=self.mutate_prob)
        PackedEvolution(self.settings, Layout.from_caps([1, 1, 1]))  # validates
        self._parent: Algorithm | None = None
        self._queue: list[tuple[Algorithm, bool]] = []
        self._batch = 1
        self._single: dict[str, PackedMutator] = {}

    @classmethod
    def from_config(cls, cfg: Config) -> PackedMutator:
        """The packed mutator of a config (as ``Mutator.from_settings``)."""
        s = evolution_settings(cfg)
        return cls(s.allowed_mutation_types, s.mutate_prob, s.op_codes, s.size_min,
                   s.size_max, s.memory_sizes)

    def engine(self, parent: Algorithm) -> tuple[PackedEvolution, PackedPopulation]:
        """The engine and a one-program population of ``parent``."""
        settings = dataclasses.replace(self.settings, size_init=sizes_of(parent))
        layout = Layout.for_settings(settings, [parent])
        pop = PackedPopulation.from_algorithms([parent], np.zeros(1), layout)
        return PackedEvolution(settings, layout), pop

    def children(self, parent: Algorithm, rng: np.random.Generator, n: int
                 ) -> tuple[list[Algorithm], np.ndarray]:
        """``n`` children of ``parent`` and whether each was mutated."""
        engine, pop = self.engine(parent)
        kids = engine.ask(pop, rng, n)
        assert (kids.parents == 0).all()
        out = _unpack_all(kids.code, kids.data, kids.sizes, engine.layout)
        for i in range(min(n, 3)):  # the same as the engine's own unpacking
            assert out[i] == unpack(kids.code[i], kids.data[i], kids.sizes[i],
                                    engine.layout)
        return out, kids.mutated.copy()

    def mutate(self, parent: Algorithm, rng: np.random.Generator) -> Algorithm:
        if parent is not self._parent:
            self._parent, self._queue, self._batch = parent, [], 1
        if not self._queue:
            kids, mutated = self.children(parent, rng, self._batch)
            self._queue = list(zip(kids, mutated.tolist(), strict=True))[::-1]
            self._batch = min(2 * self._batch, 1024)
        child, mutated = self._queue.pop()
        if not mutated:
            assert child == parent, "an unmutated child must copy its parent"
            return parent
        return child

    def mutate_once(self, parent: Algorithm, rng: np.random.Generator) -> Algorithm:
        """One mutation (no ``mutate_prob`` coin flip)."""
        if self.mutate_prob >= 1.0:
            return self.mutate(parent, rng)
        return self._of_type(self.mutation_types, parent, rng)

    def _of_type(self, types: tuple[str, ...], parent: Algorithm,
                 rng: np.random.Generator) -> Algorithm:
        key = ",".join(types)
        if key not in self._single:
            self._single[key] = PackedMutator(types, 1.0, self.ops, self.size_min,
                                              self.size_max, self.memory_sizes)
        child = self._single[key].mutate(parent, rng)
        # Mutator's per-type methods always return a new object.
        return Algorithm(*child.components) if child is parent else child

    def __getattr__(self, name: str):
        # alter_param, insert_instruction, ...: one mutation of that type.
        types = [t for t, method in MUTATIONS.items() if method == name]
        if not types:
            raise AttributeError(name)
        return lambda parent, rng: self._of_type((types[0],), parent, rng)


# --------------------------------------------------------------------------
# "A search finds it" over several seeds (test_integration.py).
# --------------------------------------------------------------------------


def search_seed(args: tuple) -> tuple:
    """Run one search: ``args`` = (config path, seed, run directory, overrides).
    Returns (seed, SearchResult, wall seconds). A module-level function, so
    that worker processes can run it."""
    import time

    import automl_zero as az

    config, seed, out, overrides = args
    start = time.perf_counter()
    result = az.search(config, seed=seed, out=out, overrides=list(overrides))
    return seed, result, time.perf_counter() - start


def search_workers() -> int:
    """Worker processes for seed loops: the CPUs this process may use (at
    most 4); AUTOML_ZERO_TEST_WORKERS overrides."""
    import os

    if os.environ.get("AUTOML_ZERO_TEST_WORKERS"):
        return max(1, int(os.environ["AUTOML_ZERO_TEST_WORKERS"]))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (macOS, Windows)
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def k_of_n_searches(config: str, seeds: Sequence[int], k: int, success, out_dir,
                    overrides: Sequence[str] = (), workers: int | None = None
                    ) -> tuple[bool, list[str]]:
    """Run searches of ``config`` with ``seeds`` (in order, ``workers`` at a
    time) until ``k`` of them satisfy ``success(result) -> (ok, note)`` or
    that became impossible; searches still running then are stopped.
    Returns (at least k succeeded, one line per finished seed)."""
    import multiprocessing
    import time
    from pathlib import Path

    workers = search_workers() if workers is None else workers
    jobs = [(str(config), s, str(Path(out_dir) / f"seed{s}"), tuple(overrides))
            for s in seeds]
    wins, done, lines = 0, 0, []
    start = time.perf_counter()

    def record(seed: int, result, wall: float) -> None:
        nonlocal wins, done
        ok, note = success(result)
        wins += ok
        done += 1
        final = "-" if result.final_fitness is None else f"{result.final_fitness:.6f}"
        lines.append(f"seed {seed}: {'ok' if ok else 'FAIL'} {wall:5.1f}s "
                     f"stopped_by={result.stopped_by} search={result.search_fitness:.6f} "
                     f"select={result.select_fitness:.6f} final={final} "
                     f"experiments={result.experiments} "
                     f"individuals={result.total_individuals} {note}")

    def decided() -> bool:
        return wins >= k or wins + (len(seeds) - done) < k

    if workers <= 1:
        for job in jobs:
            record(*search_seed(job))
            if decided():
                break
    else:
        # spawn: a clean interpreter per worker (numba code comes from the
        # on-disk cache); terminate() stops searches no longer needed.
        pool = multiprocessing.get_context("spawn").Pool(workers)
        try:
            for outcome in pool.imap_unordered(search_seed, jobs):
                record(*outcome)
                if decided():
                    break
        finally:
            pool.terminate()
            pool.join()
    lines.append(f"{wins} of {done} finished seeds succeeded (needed {k} of "
                 f"{len(seeds)}), {time.perf_counter() - start:.1f}s with {workers} "
                 f"worker(s)")
    return wins >= k, lines


# --------------------------------------------------------------- searches
# A small, fast variant of the linear integration config (islands, Ray tests).
LINEAR_CONFIG = str(Path(__file__).resolve().parent.parent / "configs"
                    / "linear_integration.toml")
SMALL_SEARCH = ["population_size=100", "max_individuals=2000", "progress_every=500",
                "select_tasks.0.num_tasks=10", "final_tasks.0.num_tasks=10",
                "select_tasks.0.num_train_examples=1000",
                "final_tasks.0.num_train_examples=1000", "batch_size=50"]
TIMING_FIELDS = ("elapsed_s", "individuals_per_s")


def small_search_config(*extra: str) -> Config:
    """The small linear search with ``extra`` overrides (later ones win)."""
    from automl_zero.config import load_config

    return load_config(LINEAR_CONFIG, SMALL_SEARCH + list(extra))


def jsonl(path: Path) -> list[dict]:
    """The records of a JSON-lines file."""
    return [json.loads(x) for x in Path(path).read_text().splitlines()]


def comparable(path: Path) -> list[dict]:
    """progress.jsonl without its timing fields."""
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in jsonl(path)]


def outcome(result) -> tuple:  # noqa: ANN001 - a SearchResult
    """What must not depend on the backend, the workers or a failure."""
    return (result.best_algorithm, result.search_fitness, result.select_fitness,
            result.final_fitness, result.experiments, result.total_individuals,
            result.total_train_steps)
