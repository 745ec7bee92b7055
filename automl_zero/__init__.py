"""AutoML-Zero: evolve complete machine learning algorithms from scratch.

A Python reimplementation of Real, Liang, So and Le, "AutoML-Zero: Evolving
Machine Learning Algorithms From Scratch" (ICML 2020), with a numba executor.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("automl-zero")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"

from .algorithm import Algorithm  # noqa: E402
from .algorithm_io import load_algorithm, save_algorithm  # noqa: E402
from .config import Config, load_config  # noqa: E402
from .errors import (  # noqa: E402
    AutoMLZeroError,
    ConfigError,
    DataError,
    ProgramParseError,
)
from .evaluator import Evaluation, Evaluator, TrainBudget  # noqa: E402
from .executor import MemorySpec, TaskBatch, execute  # noqa: E402
from .generator import (  # noqa: E402
    linear_algorithm,
    model_by_id,
    neural_net_algorithm,
    no_op_algorithm,
    random_algorithm,
)
from .instruction import Instruction  # noqa: E402
from .json_format import dumps_algorithm, loads_algorithm  # noqa: E402
from .ops import OPS, op_by_name  # noqa: E402
from .tasks import EvalType, Task, TaskSpec, make_tasks  # noqa: E402
from .text_format import format_algorithm, parse_algorithm  # noqa: E402

__all__ = [
    "__version__",
    "Algorithm",
    "AutoMLZeroError",
    "Config",
    "ConfigError",
    "DataError",
    "EvalType",
    "Evaluation",
    "Evaluator",
    "Instruction",
    "MemorySpec",
    "OPS",
    "ProgramParseError",
    "Task",
    "TaskBatch",
    "TaskSpec",
    "TrainBudget",
    "dumps_algorithm",
    "execute",
    "format_algorithm",
    "linear_algorithm",
    "load_algorithm",
    "load_config",
    "loads_algorithm",
    "make_tasks",
    "model_by_id",
    "neural_net_algorithm",
    "no_op_algorithm",
    "op_by_name",
    "parse_algorithm",
    "random_algorithm",
    "save_algorithm",
]
