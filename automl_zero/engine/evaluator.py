"""The evaluation pipeline: from programs to fitness on a task collection.

One path for every evaluation (docs/semantics.md §6, §7): programs arrive in
packed form (``packed_evolution`` arrays; ``evaluate_many`` packs
``Algorithm`` objects first) and go through, in order,

1. the train budget: training examples per (program, task), decided by
   ``TrainBudget`` from the compute cost of the program as written;
2. dead-code removal (the effective program is what runs);
3. the FEC probe: a short fingerprint run, then a cache look-up per program
   (``keying = "ALGORITHM"``) or per (program, task) (``"TASK"``, as the
   original, where partial hits skip the tasks they cover);
4. a first stage (``_first_stage``; hurdles plug in here);
5. the full evaluation of what the cache did not answer, one kernel call per
   group of programs that share a budget (and, per task, the tasks to run).

The evaluator owns its random stream (one seed per fully evaluated program)
and its train-step counter; nothing else touches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from automl_zero.engine import _mutation_kernel as mk
from automl_zero.engine.fec import FECCache, fingerprints
from automl_zero.engine.packed_evolution import (
    Layout,
    PackedPopulation,
    executor_arrays,
)
from automl_zero.engine.settings import FITNESS_COMBINATION_MODES, FECSettings
from automl_zero.engine.state import StateError, check_int, check_rng_state, require
from automl_zero.executor import (
    DEFAULT_MAX_ABS_ERROR,
    MemorySpec,
    TaskBatch,
    execute_packed,
)
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.ops import COST
from automl_zero.tasks import Task

__all__ = [
    "FITNESS_COMBINATION_MODES",
    "FEC_RANDOM_SEED",
    "combine_fitness",
    "compute_cost",
    "TrainBudget",
    "Evaluation",
    "Evaluator",
]

# The original re-seeds the fingerprint runs' generator with this constant.
FEC_RANDOM_SEED = 235732282
_COST = np.asarray(COST, dtype=np.int64)


def combine_fitness(per_task: np.ndarray, mode: str) -> np.ndarray:
    """Combine per-task fitnesses (last axis): mean, or the original's upper median
    (``nth_element`` at n // 2)."""
    if mode == "MEAN_FITNESS_COMBINATION":
        return per_task.mean(axis=-1)
    if mode == "MEDIAN_FITNESS_COMBINATION":
        n = per_task.shape[-1]
        return np.partition(per_task, n // 2, axis=-1)[..., n // 2]
    raise ValueError(f"unknown fitness_combination_mode {mode!r}; valid: "
                     f"{', '.join(FITNESS_COMBINATION_MODES)}")


def compute_cost(component: Sequence) -> int:
    """The original's compute cost of a component function (NO_OPs included)."""
    return int(sum(COST[ins.op] for ins in component))


@dataclass(frozen=True)
class TrainBudget:
    """Gives an algorithm no training at all if it would cost more than
    ``threshold_factor`` times the baseline algorithm (docs/semantics.md §6.3)."""

    baseline: Algorithm
    threshold_factor: float = 2.0

    def examples(self, costs: np.ndarray, max_examples: np.ndarray) -> np.ndarray:
        """Training examples per (program, task): ``max_examples`` (per task)
        where ``setup + n * (predict + learn)`` cost stays within the budget,
        else 0. ``costs`` is int (P, 2): setup cost, predict + learn cost."""
        base = self.baseline
        base_setup = compute_cost(base.setup)
        base_train = compute_cost(base.predict) + compute_cost(base.learn)
        n = np.asarray(max_examples, dtype=np.int64)[None, :]
        costs = np.asarray(costs, dtype=np.int64)
        within = (costs[:, :1] + n * costs[:, 1:]
                  <= self.threshold_factor * (base_setup + n * base_train))
        return np.where(within, n, 0)

    def train_examples(self, alg: Algorithm, num_examples: int) -> int:
        """``num_examples`` if ``alg`` is within budget, else 0."""
        costs = np.array([[compute_cost(alg.setup),
                           compute_cost(alg.predict) + compute_cost(alg.learn)]])
        return int(self.examples(costs, np.array([num_examples]))[0, 0])


@dataclass(frozen=True)
class Evaluation:
    """Result of evaluating programs: combined fitness, per-task fitness, steps.
    Programs answered by an ``ALGORITHM``-keyed FEC hit have NaN per-task
    fitness (the cache holds the combined value)."""

    fitness: np.ndarray  # float64 (P,)
    per_task: np.ndarray  # float64 (P, T)
    train_steps: np.ndarray  # int64 (P,): fingerprint and full runs


class Evaluator:
    """Evaluates programs on one task collection (the original's Evaluator).

    ``seed`` (an int or a ``numpy.random.SeedSequence``) starts the stream
    that gives each fully evaluated program the seed of its random-init ops,
    so evaluations are deterministic. ``fec`` turns on functional equivalence
    checking with a cache owned by this evaluator.
    """

    def __init__(self, tasks: Sequence[Task] | TaskBatch, memory: MemorySpec, *,
                 fitness_combination_mode: str = "MEAN_FITNESS_COMBINATION",
                 max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                 train_budget: TrainBudget | None = None,
                 fec: FECSettings | None = None,
                 seed: int | np.random.SeedSequence = 0) -> None:
        self.batch = tasks if isinstance(tasks, TaskBatch) else TaskBatch.from_tasks(tasks)
        combine_fitness(np.zeros((1, 1)), fitness_combination_mode)  # validates
        self.memory = memory
        self.fitness_combination_mode = fitness_combination_mode
        self.max_abs_error = float(max_abs_error)
        self.train_budget = train_budget
        self.fec_settings = fec
        self.fec = None if fec is None else FECCache(fec.cache_size, fec.forget_every)
        self._rng = np.random.default_rng(seed)
        self._train_steps = 0
        self._subsets: dict[tuple[int, ...], TaskBatch] = {}
        self.max_train_examples = np.array([t.num_train_examples * t.num_train_epochs
                                            for t in self.batch.tasks], dtype=np.int64)

    @property
    def num_train_steps(self) -> int:
        """Training steps run so far, fingerprint runs included (as the original)."""
        return self._train_steps

    # ------------------------------------------------------------ object API
    def evaluate(self, algorithm: Algorithm) -> float:
        """The combined fitness of one algorithm."""
        return float(self.evaluate_many([algorithm]).fitness[0])

    def evaluate_many(self, algorithms: Sequence[Algorithm],
                      check_memory: bool = True) -> Evaluation:
        """Evaluate algorithms through the pipeline (packed first)."""
        algorithms = list(algorithms)
        if check_memory:
            for alg in algorithms:
                alg.check_memory(*self.memory.sizes)
        layout = Layout.fit(algorithms)
        pop = PackedPopulation.from_algorithms(algorithms, np.zeros(len(algorithms)),
                                               layout)
        return self.evaluate_packed(pop.code, pop.data, pop.sizes, layout)

    # -------------------------------------------------------------- pipeline
    def evaluate_packed(self, code: np.ndarray, data: np.ndarray, sizes: np.ndarray,
                        layout: Layout) -> Evaluation:
        """Evaluate packed programs (``PackedPopulation`` arrays in ``layout``);
        their addresses must fit the memory (not checked)."""
        n = len(sizes)
        rows = np.arange(n, dtype=np.int64)
        per_task = np.full((n, self.batch.num_tasks), np.nan)
        fitness = np.full(n, np.nan)
        steps = np.zeros(n, dtype=np.int64)
        budgets = self._budgets(code, sizes, layout)
        todo = np.ones((n, self.batch.num_tasks), dtype=np.bool_)  # tasks to run
        keys = None
        if self.fec is not None:
            keys = self._fec_probe(code, data, sizes, layout, budgets, per_task, fitness,
                                   todo, steps)
        run = self._first_stage(rows[todo.any(axis=1)])
        if len(run):
            self._full_evaluation(code, data, sizes, layout, run, budgets, todo,
                                  per_task, steps)
        done = np.isnan(fitness)
        fitness[done] = combine_fitness(per_task[done], self.fitness_combination_mode)
        if keys is not None:
            self._fec_insert(keys, run, todo, per_task, fitness)
        self._train_steps += int(steps.sum())
        return Evaluation(fitness, per_task, steps)

    def _budgets(self, code: np.ndarray, sizes: np.ndarray, layout: Layout
                 ) -> np.ndarray:
        """Training examples per (program, task) under the train budget."""
        n = len(sizes)
        if self.train_budget is None:
            return np.broadcast_to(self.max_train_examples, (n, self.batch.num_tasks))
        costs = mk.compute_costs(code, sizes, layout.offsets, _COST)
        return self.train_budget.examples(costs, self.max_train_examples)

    def _fec_probe(self, code: np.ndarray, data: np.ndarray, sizes: np.ndarray,
                   layout: Layout, budgets: np.ndarray, per_task: np.ndarray,
                   fitness: np.ndarray, todo: np.ndarray, steps: np.ndarray) -> list:
        """Fingerprint runs and look-ups; hits fill ``fitness`` (ALGORITHM) or
        ``per_task`` (TASK) and clear ``todo``. Returns the keys."""
        fec, cache = self.fec_settings, self.fec
        n, t = per_task.shape
        arrays = executor_arrays(code, data, sizes, np.arange(n), layout,
                                 self.memory.sizes, effective=True)
        record = max(fec.num_train_examples, fec.num_valid_examples)
        fp = execute_packed(arrays, self.batch, self.memory,
                            np.full(n, FEC_RANDOM_SEED), self.max_abs_error,
                            num_train_examples=fec.num_train_examples,
                            num_valid_examples=fec.num_valid_examples,
                            record_errors=record)
        steps += fp.train_steps
        find = cache.find
        if fec.keying == "ALGORITHM":
            keys = fingerprints(fp.train_errors, fp.valid_errors, fp.num_errors, budgets)
            for i, key in enumerate(keys):
                cached = find(key)
                if cached is not None:
                    fitness[i] = cached
                    todo[i] = False
            return keys
        # One key per (program, task): the task's fingerprint prefixed by its index.
        r = fp.train_errors.shape[2]
        flat = fingerprints(fp.train_errors.reshape(n * t, 1, r),
                            fp.valid_errors.reshape(n * t, 1, r),
                            fp.num_errors.reshape(n * t, 1, 2),
                            np.ascontiguousarray(budgets).reshape(n * t, 1))
        prefixes = [j.to_bytes(2, "little") for j in range(t)]
        keys = [prefixes[k % t] + key for k, key in enumerate(flat)]
        for k, key in enumerate(keys):
            cached = find(key)
            if cached is not None:
                per_task[k // t, k % t] = cached
                todo[k // t, k % t] = False
        return keys

    def _first_stage(self, rows: np.ndarray) -> np.ndarray:
        """Programs (rows) that go on to the full evaluation. Every one, for now:
        hurdles will evaluate a first stage here and stop the weak."""
        return rows

    def _full_evaluation(self, code: np.ndarray, data: np.ndarray, sizes: np.ndarray,
                         layout: Layout, run: np.ndarray, budgets: np.ndarray,
                         todo: np.ndarray, per_task: np.ndarray,
                         steps: np.ndarray) -> None:
        """Run programs ``run`` on their ``todo`` tasks; one kernel call per group
        of programs with the same budgets and tasks to run."""
        seeds = self._rng.integers(0, 2**32, size=len(run), dtype=np.int64)
        groups: dict[tuple, list[int]] = {}
        for j, i in enumerate(run):
            key = (todo[i].tobytes(), budgets[i].tobytes())
            groups.setdefault(key, []).append(j)
        for members in groups.values():
            members = np.asarray(members, dtype=np.int64)
            rows = run[members]
            tasks = np.flatnonzero(todo[rows[0]])
            batch = self._subset(tasks)
            budget = budgets[rows[0], tasks]
            arrays = executor_arrays(code, data, sizes, rows, layout, self.memory.sizes,
                                     effective=True)
            result = execute_packed(
                arrays, batch, self.memory, seeds[members], self.max_abs_error,
                num_train_examples=(None if self.train_budget is None else budget))
            per_task[rows[:, None], tasks[None, :]] = result.fitness
            steps[rows] += result.train_steps

    def _subset(self, tasks: np.ndarray) -> TaskBatch:
        """The batch of some tasks (cached: few distinct subsets occur)."""
        if len(tasks) == self.batch.num_tasks:
            return self.batch
        key = tuple(int(t) for t in tasks)
        batch = self._subsets.get(key)
        if batch is None:
            if len(self._subsets) >= 64:
                self._subsets.clear()
            batch = self._subsets[key] = self.batch.subset(key)
        return batch

    def _fec_insert(self, keys: list, run: np.ndarray, todo: np.ndarray,
                    per_task: np.ndarray, fitness: np.ndarray) -> None:
        insert = self.fec.insert
        if self.fec_settings.keying == "ALGORITHM":
            for i in run:
                insert(keys[i], float(fitness[i]))
            return
        t = per_task.shape[1]
        for i in run:
            for j in np.flatnonzero(todo[i]):
                insert(keys[i * t + j], float(per_task[i, j]))

    # ----------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """JSON-serialisable state: random stream, step counter, FEC cache."""
        return {"rng": self._rng.bit_generator.state, "train_steps": self._train_steps,
                "fec": None if self.fec is None else self.fec.to_state()}

    def load_state(self, state: Any, where: str = "evaluator") -> None:
        """Restore ``to_state``'s output (validated; ``StateError`` names the key)."""
        require(state, dict, where)
        self._rng.bit_generator.state = check_rng_state(
            require(state.get("rng"), dict, f"{where}.rng"), type(self._rng.bit_generator),
            f"{where}.rng")
        self._train_steps = check_int(state.get("train_steps"), f"{where}.train_steps")
        fec = state.get("fec")
        if (fec is None) != (self.fec is None):
            raise StateError(f"{where}.fec: {'missing' if fec is None else 'present'} "
                             f"but the config has FEC "
                             f"{'on' if self.fec is not None else 'off'}")
        if fec is not None:
            size = 18 if self.fec_settings.keying == "TASK" else 16
            self.fec = FECCache.from_state(fec, key_size=size, where=f"{where}.fec")
