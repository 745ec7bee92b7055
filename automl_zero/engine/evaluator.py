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
4. the first stage of hurdles (``_first_stage``, docs/semantics.md §10): when
   hurdles are on and ``hurdle`` is set, a cheap stage 1 (fewer tasks and/or
   fewer training examples); children below the hurdle stop there;
5. the full evaluation of what the cache did not answer, one kernel call per
   group of programs that share a budget (and, per task, the tasks to run).

The evaluator owns its random stream (one seed per program the cache did not
answer, drawn before stage 1 and used by both stages) and its train-step
counter; nothing else touches them.
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
from automl_zero.engine.settings import (
    FITNESS_COMBINATION_MODES,
    FECSettings,
    HurdleSettings,
)
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
    fitness (the cache holds the combined value); programs stopped by a hurdle
    have their stage-1 per-task fitness on the stage-1 tasks and NaN on the
    others (``TASK``-keyed cache hits aside)."""

    fitness: np.ndarray  # float64 (P,)
    per_task: np.ndarray  # float64 (P, T)
    train_steps: np.ndarray  # int64 (P,): fingerprint and full runs


class Evaluator:
    """Evaluates programs on one task collection (the original's Evaluator).

    ``seed`` (an int or a ``numpy.random.SeedSequence``) starts the stream
    that gives each fully evaluated program the seed of its random-init ops,
    so evaluations are deterministic. ``fec`` turns on functional equivalence
    checking with a cache owned by this evaluator. ``hurdles`` turns on the
    first stage; it applies only while ``hurdle`` is not None (the island sets
    it before each batch of children).
    """

    def __init__(self, tasks: Sequence[Task] | TaskBatch, memory: MemorySpec, *,
                 fitness_combination_mode: str = "MEAN_FITNESS_COMBINATION",
                 max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                 train_budget: TrainBudget | None = None,
                 fec: FECSettings | None = None,
                 hurdles: HurdleSettings | None = None,
                 seed: int | np.random.SeedSequence = 0) -> None:
        self.batch = tasks if isinstance(tasks, TaskBatch) else TaskBatch.from_tasks(tasks)
        combine_fitness(np.zeros((1, 1)), fitness_combination_mode)  # validates
        if self.batch.num_classes and not self.batch.multiclass:
            # Dead-code removal needs one convention: the prediction in v2
            # (multi-class) or in s1 (the others).
            raise ValueError("a search's tasks must be all MULTICLASS_ACCURACY or "
                             "none: multi-class programs predict in v2, the others "
                             "in s1")
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
        if hurdles is not None and hurdles.first_stage_tasks >= self.batch.num_tasks:
            raise ValueError(
                f"hurdles: first_stage_tasks ({hurdles.first_stage_tasks}) must be "
                f"below the number of tasks ({self.batch.num_tasks}) so that stage 1 "
                f"runs fewer tasks (0: all tasks, with first_stage_train_fraction "
                f"below 1)")
        self.hurdles = hurdles
        # The hurdle children must reach in stage 1 (None: no stage 1).
        self.hurdle: float | None = None
        self.hurdle_stopped = 0  # children stopped by the hurdle
        self.hurdle_passed = 0  # children that went on to the full evaluation
        self.hurdle_steps_saved = 0  # estimated, see _first_stage
        self.hurdle_steps_run = 0  # stage 1 + full runs of children that met a hurdle

    @property
    def num_train_steps(self) -> int:
        """Training steps run so far, fingerprint runs included (as the original)."""
        return self._train_steps

    def hurdle_savings(self) -> float:
        """The fraction of training steps hurdles saved: saved / (saved + all
        steps this evaluator ran); 0 when nothing was saved."""
        saved = self.hurdle_steps_saved
        return saved / (saved + self._train_steps) if saved else 0.0

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
        rows = rows[todo.any(axis=1)]  # what the cache did not answer
        # One seed per such program, drawn before stage 1 and used by both stages.
        seeds = (self._rng.integers(0, 2**32, size=len(rows), dtype=np.int64)
                 if len(rows) else np.zeros(0, dtype=np.int64))
        hurdled = self.hurdles is not None and self.hurdle is not None and len(rows) > 0
        before = steps[rows].copy() if hurdled else None
        run, run_seeds, full_todo, measured = self._first_stage(
            code, data, sizes, layout, rows, seeds, budgets, todo, per_task, fitness,
            steps)
        if len(run):
            self._full_evaluation(code, data, sizes, layout, run, run_seeds, budgets,
                                  full_todo, per_task, steps)
        if hurdled:
            self.hurdle_steps_run += int((steps[rows] - before).sum())
        done = np.isnan(fitness)
        fitness[done] = combine_fitness(per_task[done], self.fitness_combination_mode)
        if keys is not None:
            self._fec_insert(keys, rows, measured, per_task, fitness)
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
                                 self.memory.sizes, effective=True,
                                 multiclass=self.batch.multiclass)
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

    def _first_stage(self, code: np.ndarray, data: np.ndarray, sizes: np.ndarray,
                     layout: Layout, rows: np.ndarray, seeds: np.ndarray,
                     budgets: np.ndarray, todo: np.ndarray, per_task: np.ndarray,
                     fitness: np.ndarray, steps: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Hurdles: run stage 1 for programs ``rows`` (their ``seeds``), stop
        those below ``hurdle`` (their fitness: the stage-1 fitness).

        Returns the programs that go on to the full evaluation, their seeds,
        the tasks each program still has to run there, and the (program, task)
        fitnesses measured with full training (what a ``TASK``-keyed cache may
        keep). Without a hurdle: every program, all its tasks still to run.
        """
        if self.hurdles is None or self.hurdle is None or not len(rows):
            return rows, seeds, todo, todo
        h = self.hurdles
        n, t = per_task.shape
        k = h.first_stage_tasks or t
        fraction = float(h.first_stage_train_fraction)
        stage = np.zeros(t, dtype=np.bool_)
        stage[:k] = True
        # Stage 1: the first k tasks not answered by the cache, with a fraction
        # of the budgeted training examples (at least one; none stays none).
        stage_todo = np.zeros_like(todo)
        stage_todo[rows] = todo[rows] & stage
        examples = np.asarray(budgets)
        if fraction < 1.0:
            examples = np.where(examples > 0,
                                np.maximum(1, (fraction * examples).astype(np.int64)), 0)
        stage1 = per_task.copy()  # cached per-task values count as they are
        stage1_steps = steps.copy()
        has_random = np.zeros(n, dtype=np.bool_)
        self._run(code, data, sizes, layout, rows, seeds, stage_todo, examples,
                  self.train_budget is not None or fraction < 1.0, stage1, steps,
                  has_random)
        stage1_steps = steps - stage1_steps
        stage1_fitness = combine_fitness(stage1[rows][:, :k], self.fitness_combination_mode)
        weak = stage1_fitness < self.hurdle
        stopped, passed = rows[weak], rows[~weak]
        fitness[stopped] = stage1_fitness[weak]
        per_task[stopped[:, None], np.flatnonzero(stage)[None, :]] = stage1[stopped][:, :k]
        # Steps saved: the stopped children's budgeted training over the tasks
        # of their full evaluation, minus what stage 1 ran. An estimate: runs
        # that stop early (a diverging task, §4.6) would have run fewer steps.
        full = np.where(todo[stopped], budgets[stopped], 0).sum(axis=1)
        self.hurdle_steps_saved += int(np.maximum(full - stage1_steps[stopped], 0).sum())
        self.hurdle_stopped += len(stopped)
        self.hurdle_passed += len(passed)
        # Passed children run their tasks again in full with the same seed, so
        # their fitness is the one they would have had without hurdles. With
        # the whole budget in stage 1, the stage-1 tasks of programs without
        # random ops are not run again: their results cannot differ.
        full_todo = todo.copy()
        measured = todo.copy()
        if fraction == 1.0:
            reuse = passed[~has_random[passed]]
            per_task[reuse[:, None], np.flatnonzero(stage)[None, :]] = stage1[reuse][:, :k]
            full_todo[reuse] &= ~stage
        else:
            measured[stopped] = False  # reduced training: not a task's fitness
        measured[stopped] &= stage
        keep = full_todo[passed].any(axis=1)
        return passed[keep], seeds[~weak][keep], full_todo, measured

    def _full_evaluation(self, code: np.ndarray, data: np.ndarray, sizes: np.ndarray,
                         layout: Layout, run: np.ndarray, seeds: np.ndarray,
                         budgets: np.ndarray, todo: np.ndarray, per_task: np.ndarray,
                         steps: np.ndarray) -> None:
        """Run programs ``run`` (with ``seeds``) on their ``todo`` tasks with the
        budgeted training."""
        self._run(code, data, sizes, layout, run, seeds, todo, budgets,
                  self.train_budget is not None, per_task, steps)

    def _run(self, code: np.ndarray, data: np.ndarray, sizes: np.ndarray,
             layout: Layout, run: np.ndarray, seeds: np.ndarray, todo: np.ndarray,
             examples: np.ndarray, limit: bool, per_task: np.ndarray,
             steps: np.ndarray, has_random: np.ndarray | None = None) -> None:
        """Run programs ``run`` on their ``todo`` tasks, ``examples`` training
        examples per (program, task) when ``limit`` (else all); one kernel call
        per group of programs with the same examples and tasks to run. Fills
        ``per_task``, adds to ``steps`` and marks ``has_random`` (if given)."""
        groups: dict[tuple, list[int]] = {}
        for j, i in enumerate(run):
            key = (todo[i].tobytes(), examples[i].tobytes())
            groups.setdefault(key, []).append(j)
        for members in groups.values():
            members = np.asarray(members, dtype=np.int64)
            rows = run[members]
            tasks = np.flatnonzero(todo[rows[0]])
            if not len(tasks):
                continue
            batch = self._subset(tasks)
            arrays = executor_arrays(code, data, sizes, rows, layout, self.memory.sizes,
                                     effective=True, multiclass=self.batch.multiclass)
            if has_random is not None:
                has_random[rows] = arrays[3]
            result = execute_packed(
                arrays, batch, self.memory, seeds[members], self.max_abs_error,
                num_train_examples=examples[rows[0], tasks] if limit else None)
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

    def _fec_insert(self, keys: list, rows: np.ndarray, measured: np.ndarray,
                    per_task: np.ndarray, fitness: np.ndarray) -> None:
        """Cache the results of programs ``rows`` (those the cache did not
        answer): their fitness (``ALGORITHM``) or their ``measured`` per-task
        fitnesses (``TASK``). A child stopped by a hurdle is cached with its
        stage-1 fitness on purpose: the hurdle rises as the population improves,
        so an equivalent child would be stopped again (docs/semantics.md §10.4)."""
        insert = self.fec.insert
        if self.fec_settings.keying == "ALGORITHM":
            for i in rows:
                insert(keys[i], float(fitness[i]))
            return
        t = per_task.shape[1]
        for i in rows:
            for j in np.flatnonzero(measured[i]):
                insert(keys[i * t + j], float(per_task[i, j]))

    # ----------------------------------------------------------------- state
    def to_state(self) -> dict[str, Any]:
        """JSON-serialisable state: random stream, step counter, FEC cache,
        hurdle counters."""
        return {"rng": self._rng.bit_generator.state, "train_steps": self._train_steps,
                "fec": None if self.fec is None else self.fec.to_state(),
                **{name: getattr(self, name) for name in _HURDLE_COUNTERS}}

    def load_state(self, state: Any, where: str = "evaluator") -> None:
        """Restore ``to_state``'s output (validated; ``StateError`` names the key)."""
        require(state, dict, where)
        self._rng.bit_generator.state = check_rng_state(
            require(state.get("rng"), dict, f"{where}.rng"), type(self._rng.bit_generator),
            f"{where}.rng")
        self._train_steps = check_int(state.get("train_steps"), f"{where}.train_steps")
        counters = {name: check_int(state.get(name, 0), f"{where}.{name}")
                    for name in _HURDLE_COUNTERS}  # states before hurdles: zeros
        fec = state.get("fec")
        if (fec is None) != (self.fec is None):
            raise StateError(f"{where}.fec: {'missing' if fec is None else 'present'} "
                             f"but the config has FEC "
                             f"{'on' if self.fec is not None else 'off'}")
        if fec is not None:
            size = 18 if self.fec_settings.keying == "TASK" else 16
            self.fec = FECCache.from_state(fec, key_size=size, where=f"{where}.fec")
        for name, value in counters.items():
            setattr(self, name, value)


_HURDLE_COUNTERS = ("hurdle_stopped", "hurdle_passed", "hurdle_steps_saved",
                    "hurdle_steps_run")
