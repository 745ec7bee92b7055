"""AutoML-Zero: evolve complete machine learning algorithms from scratch.

A Python reimplementation of Real, Liang, So and Le, "AutoML-Zero: Evolving
Machine Learning Algorithms From Scratch" (ICML 2020), with a numba executor.

Layout: ``language`` (op table, instructions, programs, formats), ``executor``
(the numba kernel), ``engine`` (evaluation pipeline, FEC, evolution, island),
``tasks`` (data and task generation), ``config`` (TOML configs) and ``run``
(run directory, search driver, CLI). Names below are imported lazily, so
importing one submodule never loads the others.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("automl-zero")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"

# Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "Algorithm": "automl_zero.language.algorithm",
    "Instruction": "automl_zero.language.instruction",
    "OPS": "automl_zero.language.ops",
    "op_by_name": "automl_zero.language.ops",
    "load_algorithm": "automl_zero.language.algorithm_io",
    "save_algorithm": "automl_zero.language.algorithm_io",
    "dumps_algorithm": "automl_zero.language.json_format",
    "loads_algorithm": "automl_zero.language.json_format",
    "format_algorithm": "automl_zero.language.text_format",
    "parse_algorithm": "automl_zero.language.text_format",
    "linear_algorithm": "automl_zero.language.generator",
    "model_by_id": "automl_zero.language.generator",
    "neural_net_algorithm": "automl_zero.language.generator",
    "no_op_algorithm": "automl_zero.language.generator",
    "random_algorithm": "automl_zero.language.generator",
    "AutoMLZeroError": "automl_zero.errors",
    "ConfigError": "automl_zero.errors",
    "DataError": "automl_zero.errors",
    "ProgramParseError": "automl_zero.errors",
    "Config": "automl_zero.config",
    "load_config": "automl_zero.config",
    "MemorySpec": "automl_zero.executor",
    "TaskBatch": "automl_zero.executor",
    "execute": "automl_zero.executor",
    "predict": "automl_zero.executor.predict",
    "Evaluation": "automl_zero.engine.evaluator",
    "Evaluator": "automl_zero.engine.evaluator",
    "TrainBudget": "automl_zero.engine.evaluator",
    "EvalType": "automl_zero.tasks",
    "Task": "automl_zero.tasks",
    "TaskSpec": "automl_zero.tasks",
    "make_tasks": "automl_zero.tasks",
    "search": "automl_zero.run.driver",
    "resume": "automl_zero.run.driver",
    "SearchResult": "automl_zero.run.driver",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'automl_zero' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
