"""Tasks and data: real data sets read from disk (``datasets``), a user's own
data (``user_data``, ``from_arrays``), task specs as written in configs
(``spec``), tasks (``task``) and their generation (``generate``). Import the
public names from here."""

from automl_zero.tasks.datasets import DATASET_NAMES
from automl_zero.tasks.from_arrays import (
    save_user_data,
    tasks_from_arrays,
    user_task_spec,
)
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
    USER_TASK_TYPES,
    TaskSpec,
    task_seeds,
)
from automl_zero.tasks.task import EvalType, Task, generate_epochs
from automl_zero.tasks.user_data import UserData, load_user_data

__all__ = ["DATASET_NAMES", "DEFAULT_DATA_SEEDS", "DEFAULT_PARAM_SEEDS",
           "MAX_FEATURES_SIZE", "TASK_TYPES", "USER_TASK_TYPES", "EvalType", "Task",
           "TaskSpec", "UserData", "choose_projected_pair", "create_task",
           "generate_epochs", "load_user_data", "make_tasks", "randomize_task_seeds",
           "save_user_data", "task_seeds", "tasks_from_arrays", "user_task_spec"]
