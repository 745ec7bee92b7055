"""Multi-task fitness (SPEC §6) and the compute-cost train budget (SPEC §8.7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from automl_zero.executor.executor import (
    DEFAULT_MAX_ABS_ERROR,
    MemorySpec,
    TaskBatch,
    execute,
)
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.ops import COST
from automl_zero.tasks.task import Task

__all__ = [
    "FITNESS_COMBINATION_MODES",
    "combine_fitness",
    "compute_cost",
    "TrainBudget",
    "Evaluation",
    "Evaluator",
]

FITNESS_COMBINATION_MODES = ("MEAN_FITNESS_COMBINATION", "MEDIAN_FITNESS_COMBINATION")


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
    ``threshold_factor`` times the baseline algorithm (SPEC §8.7)."""

    baseline: Algorithm
    threshold_factor: float = 2.0

    def train_examples(self, alg: Algorithm, num_examples: int) -> int:
        """``num_examples`` if within budget, else 0."""
        setup_cost = compute_cost(alg.setup)
        train_cost = compute_cost(alg.predict) + compute_cost(alg.learn)
        base = self.baseline
        budget = compute_cost(base.setup) + num_examples * (
            compute_cost(base.predict) + compute_cost(base.learn))
        within = setup_cost + num_examples * train_cost <= self.threshold_factor * budget
        return num_examples if within else 0


@dataclass(frozen=True)
class Evaluation:
    """Result of evaluating algorithms: combined fitness, per-task fitness, steps."""

    fitness: np.ndarray  # float64 (P,)
    per_task: np.ndarray  # float64 (P, T)
    train_steps: np.ndarray  # int64 (P,)


class Evaluator:
    """Evaluates algorithms on a task collection (the original's Evaluator).

    Random-init ops draw from a stream seeded by ``seed``: each evaluated
    algorithm gets the next seed of that stream, so a run is deterministic.
    ``num_train_steps`` counts training steps as the original does.
    """

    def __init__(self, tasks: Sequence[Task] | TaskBatch, memory: MemorySpec, *,
                 fitness_combination_mode: str = "MEAN_FITNESS_COMBINATION",
                 max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                 train_budget: TrainBudget | None = None, seed: int = 0) -> None:
        self.batch = tasks if isinstance(tasks, TaskBatch) else TaskBatch.from_tasks(tasks)
        combine_fitness(np.zeros((1, 1)), fitness_combination_mode)  # validates
        self.memory = memory
        self.fitness_combination_mode = fitness_combination_mode
        self.max_abs_error = float(max_abs_error)
        self.train_budget = train_budget
        self.rng = np.random.default_rng(seed)
        self.num_train_steps = 0
        self.max_train_examples = np.array([t.num_train_examples * t.num_train_epochs
                                    for t in self.batch.tasks], dtype=np.int64)

    def evaluate(self, algorithm: Algorithm) -> float:
        """The combined fitness of one algorithm."""
        return float(self.evaluate_many([algorithm]).fitness[0])

    def evaluate_many(self, algorithms: Sequence[Algorithm],
                      budget_algorithms: Sequence[Algorithm] | None = None,
                      check_memory: bool = True) -> Evaluation:
        """Evaluate several algorithms in one kernel call per task group.

        ``budget_algorithms`` (default: ``algorithms``) are the forms whose
        compute cost the train budget judges, e.g. the algorithms as mutated
        when ``algorithms`` are their effective (dead-code-free) versions.
        """
        algorithms = list(algorithms)
        judged = algorithms if budget_algorithms is None else list(budget_algorithms)
        seeds = self.rng.integers(0, 2**32, size=len(algorithms), dtype=np.int64)
        if self.train_budget is None:
            result = execute(algorithms, self.batch, self.memory, seeds,
                             self.max_abs_error, check_memory=check_memory)
            per_task, steps = result.fitness, result.train_steps
        else:
            per_task = np.zeros((len(algorithms), self.batch.num_tasks))
            steps = np.zeros(len(algorithms), dtype=np.int64)
            # Algorithms sharing a budget decision share one kernel call.
            budgets: dict[tuple[int, ...], list[int]] = {}
            for i, alg in enumerate(judged):
                key = tuple(self.train_budget.train_examples(alg, int(n))
                            for n in self.max_train_examples)
                budgets.setdefault(key, []).append(i)
            for key, members in budgets.items():
                result = execute([algorithms[i] for i in members], self.batch,
                                 self.memory, seeds[members], self.max_abs_error,
                                 num_train_examples=np.array(key, dtype=np.int64),
                                 check_memory=check_memory)
                per_task[members] = result.fitness
                steps[members] = result.train_steps
        self.num_train_steps += int(steps.sum())
        fitness = combine_fitness(per_task, self.fitness_combination_mode)
        return Evaluation(fitness, per_task, steps)
