"""Tasks and data: real data sets read from disk, task specs as written in
configs, and task generation."""

from automl_zero.tasks.task import (
    DEFAULT_DATA_SEEDS,
    DEFAULT_PARAM_SEEDS,
    TASK_TYPES,
    EvalType,
    Task,
    TaskSpec,
    choose_projected_pair,
    create_task,
    generate_epochs,
    make_tasks,
    randomize_task_seeds,
    task_seeds,
)

__all__ = ["DEFAULT_DATA_SEEDS", "DEFAULT_PARAM_SEEDS", "TASK_TYPES", "EvalType", "Task",
           "TaskSpec", "choose_projected_pair", "create_task", "generate_epochs",
           "make_tasks", "randomize_task_seeds", "task_seeds"]
