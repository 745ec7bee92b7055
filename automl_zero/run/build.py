"""From a ``Config`` to the engine's objects: the one place that reads a config
on behalf of the engine (which takes plain values only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from automl_zero.config import Config
from automl_zero.engine.evaluator import Evaluator, TrainBudget
from automl_zero.engine.island import Island
from automl_zero.engine.settings import EvolutionSettings, FECSettings, HurdleSettings
from automl_zero.executor import TaskBatch
from automl_zero.language.generator import model_by_id
from automl_zero.tasks import Task, TaskSpec, make_tasks

__all__ = ["evolution_settings", "fec_settings", "hurdle_settings", "train_budget",
           "search_evaluator",
           "search_evaluator_on_tasks", "plain_evaluator", "island", "island_on_tasks"]


def evolution_settings(cfg: Config) -> EvolutionSettings:
    """The search space and method of ``cfg``."""
    return EvolutionSettings(
        memory_sizes=cfg.memory.sizes,
        op_codes=cfg.op_codes(),
        size_init=cfg.size_init,
        size_min=(cfg.mutate_setup_size_min, cfg.mutate_predict_size_min,
                  cfg.mutate_learn_size_min),
        size_max=(cfg.mutate_setup_size_max, cfg.mutate_predict_size_max,
                  cfg.mutate_learn_size_max),
        allowed_mutation_types=tuple(cfg.allowed_mutation_types),
        method=cfg.method,
        population_size=cfg.population_size,
        tournament_size=cfg.tournament_size,
        initial_population=cfg.initial_population,
        mutate_prob=cfg.mutate_prob,
    )


def fec_settings(cfg: Config) -> FECSettings | None:
    """The FEC of ``cfg`` (None: off)."""
    if cfg.fec is None:
        return None
    return FECSettings(cfg.fec.num_train_examples, cfg.fec.num_valid_examples,
                       cfg.fec.cache_size, cfg.fec.forget_every, cfg.fec.keying)


def hurdle_settings(cfg: Config) -> HurdleSettings | None:
    """The hurdles of ``cfg`` (None: off)."""
    if cfg.hurdles is None:
        return None
    return HurdleSettings(cfg.hurdles.first_stage_tasks,
                          cfg.hurdles.first_stage_train_fraction, cfg.hurdles.percentile)


def train_budget(cfg: Config) -> TrainBudget | None:
    """The compute-cost train budget of ``cfg`` (None: off)."""
    if cfg.train_budget is None:
        return None
    baseline = model_by_id(cfg.train_budget.train_budget_baseline, cfg.size_init)
    return TrainBudget(baseline, cfg.train_budget.train_budget_threshold_factor)


def search_evaluator(cfg: Config, specs: Sequence[TaskSpec],
                     seed: int | np.random.SeedSequence) -> Evaluator:
    """The evaluator of a search on ``specs``: budget, FEC and the config's
    fitness combination."""
    return search_evaluator_on_tasks(cfg, make_tasks(specs), seed)


def search_evaluator_on_tasks(cfg: Config, tasks: Sequence[Task],
                              seed: int | np.random.SeedSequence) -> Evaluator:
    """``search_evaluator`` on tasks already made (e.g. sent to a worker)."""
    return Evaluator(TaskBatch.from_tasks(tasks), cfg.memory,
                     fitness_combination_mode=cfg.fitness_combination_mode,
                     max_abs_error=cfg.max_abs_error, train_budget=train_budget(cfg),
                     fec=fec_settings(cfg), hurdles=hurdle_settings(cfg), seed=seed)


def plain_evaluator(cfg: Config, specs: Sequence[TaskSpec], seed: int) -> Evaluator:
    """A T_select / T_final evaluator: mean combination, no FEC, no budget
    (as the original)."""
    return Evaluator(make_tasks(specs), cfg.memory, max_abs_error=cfg.max_abs_error,
                     seed=seed)


def island(cfg: Config, specs: Sequence[TaskSpec],
           seed: np.random.SeedSequence) -> Island:
    """An island searching ``specs``; its evolution and evaluation streams are
    two children of ``seed``."""
    return island_on_tasks(cfg, make_tasks(specs), seed)


def island_on_tasks(cfg: Config, tasks: Sequence[Task],
                    seed: np.random.SeedSequence) -> Island:
    """``island`` on tasks already made."""
    evolution_seed, evaluation_seed = seed.spawn(2)
    return Island(evolution_settings(cfg),
                  search_evaluator_on_tasks(cfg, tasks, evaluation_seed), evolution_seed)
