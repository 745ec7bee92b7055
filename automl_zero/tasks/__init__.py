"""Tasks and data: real data sets read from disk (``datasets``), task specs as
written in configs (``spec``), tasks (``task``) and their generation
(``generate``). Import the public names from here."""

from automl_zero.tasks.datasets import DATASET_NAMES
from automl_zero.tasks.generate import (
    choose_projected_pair,
    create_task,
    make_tasks,
    randomize_task_seeds,
)
from automl_zero.tasks.spec import (
    DEFAULT_DATA_SEEDS,
    DEFAULT_PARAM_SEEDS,
    MAX_FEATURES_SIZE,
    TASK_TYPES,
    TaskSpec,
    task_seeds,
)
from automl_zero.tasks.task import EvalType, Task, generate_epochs

__all__ = ["DATASET_NAMES", "DEFAULT_DATA_SEEDS", "DEFAULT_PARAM_SEEDS",
           "MAX_FEATURES_SIZE", "TASK_TYPES", "EvalType", "Task", "TaskSpec",
           "choose_projected_pair", "create_task", "generate_epochs", "make_tasks",
           "randomize_task_seeds", "task_seeds"]
