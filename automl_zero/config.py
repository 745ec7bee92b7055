"""Experiment configs: TOML files mirroring the original's SearchExperimentSpec,
its memory build flags and the run_search_experiment flags (SPEC §9.2-§9.3).

A config file is flat: run flags, memory sizes and the search experiment spec
fields at top level, ``[fec]`` and ``[train_budget]`` tables, and
``[[search_tasks]]``, ``[[select_tasks]]``, ``[[final_tasks]]`` arrays of task
specs (see ``tasks.TaskSpec``). Names and defaults are the original's.
Unknown keys and bad values raise ``ConfigError`` naming the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_zero.engine.evaluator import FITNESS_COMBINATION_MODES
from automl_zero.errors import ConfigError
from automl_zero.executor.executor import MemorySpec
from automl_zero.language.generator import INITIAL_POPULATIONS
from automl_zero.language.ops import op_by_name
from automl_zero.tasks.task import TaskSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "MUTATION_TYPES",
    "FECSpec",
    "TrainBudgetSpec",
    "Config",
    "load_config",
    "config_from_dict",
    "apply_overrides",
    "TASK_COLLECTIONS",
]

MUTATION_TYPES = (
    "ALTER_PARAM_MUTATION_TYPE",
    "RANDOMIZE_INSTRUCTION_MUTATION_TYPE",
    "RANDOMIZE_COMPONENT_FUNCTION_MUTATION_TYPE",
    "IDENTITY_MUTATION_TYPE",
    "INSERT_INSTRUCTION_MUTATION_TYPE",
    "REMOVE_INSTRUCTION_MUTATION_TYPE",
    "TRADE_INSTRUCTION_MUTATION_TYPE",
    "RANDOMIZE_ALGORITHM_MUTATION_TYPE",
)

TASK_COLLECTIONS = ("search", "select", "final")
SEARCH_METHODS = ("REGULARIZED_EVOLUTION", "RANDOM_SEARCH")
ENGINES = ("PACKED", "OBJECT")


@dataclass(frozen=True)
class FECSpec:
    """Functional equivalence checking (SPEC §7): fingerprint size and LRU cache."""

    num_train_examples: int
    num_valid_examples: int
    cache_size: int = 100000
    forget_every: int = 100


@dataclass(frozen=True)
class TrainBudgetSpec:
    """Compute-cost train budget (SPEC §8.7)."""

    train_budget_baseline: str = "NEURAL_NET_ALGORITHM"
    train_budget_threshold_factor: float = 2.0


@dataclass(frozen=True)
class Config:
    """A whole experiment: the original's spec, memory flags and run flags."""

    # --- run_search_experiment flags ---
    random_seed: int = 0  # 0: time-based seed
    max_experiments: int = 1  # 0: unlimited (until sufficient_fitness)
    randomize_task_seeds: bool = False
    sufficient_fitness: float | None = None  # stop when best T_select fitness > this
    # --- memory (the original's MAX_*_ADDRESSES build flags) ---
    num_scalar_addresses: int = 20
    num_vector_addresses: int = 20
    num_matrix_addresses: int = 20
    # --- search tasks ---
    search_tasks: tuple[TaskSpec, ...] = ()
    # --- search space: allowed ops per component function; empty = never mutated ---
    setup_ops: tuple[str, ...] = ()
    predict_ops: tuple[str, ...] = ()
    learn_ops: tuple[str, ...] = ()
    setup_size_init: int = 0
    predict_size_init: int = 0
    learn_size_init: int = 0
    # --- evaluation ---
    train_budget: TrainBudgetSpec | None = None
    max_abs_error: float = 100.0
    fec: FECSpec | None = None
    fitness_combination_mode: str = "MEAN_FITNESS_COMBINATION"
    # --- search method ---
    population_size: int = 100
    tournament_size: int = 10
    initial_population: str = "NO_OP_ALGORITHM"
    max_train_steps: int = 80_000_000_000
    allowed_mutation_types: tuple[str, ...] = ()
    mutate_prob: float = 0.9
    mutate_setup_size_min: int = 0
    mutate_setup_size_max: int = 0
    mutate_predict_size_min: int = 0
    mutate_predict_size_max: int = 0
    mutate_learn_size_min: int = 0
    mutate_learn_size_max: int = 0
    progress_every: int = 10000
    # --- beyond the original ---
    method: str = "REGULARIZED_EVOLUTION"  # or RANDOM_SEARCH (paper §4.1 baseline)
    max_individuals: int = 0  # per experiment; 0: unlimited
    time_limit_seconds: float = 0.0  # wall clock for the whole run; 0: unlimited
    # Share fitness between equal effective programs (off: in this Python search
    # loop the analysis costs more than it saves; see benchmarks/RESULTS.md).
    structural_cache: bool = False
    batch_size: int = 100  # children asked and evaluated together (1: the original)
    # PACKED: population in arrays, numba mutator (fast); OBJECT: Python objects
    # (the reference; also used whenever structural_cache is on).
    engine: str = "PACKED"
    # --- T_select and T_final ---
    select_tasks: tuple[TaskSpec, ...] = ()
    final_tasks: tuple[TaskSpec, ...] = ()
    source: str = field(default="<dict>", compare=False)

    @property
    def memory(self) -> MemorySpec:
        return MemorySpec(self.num_scalar_addresses, self.num_vector_addresses,
                          self.num_matrix_addresses)

    @property
    def size_init(self) -> tuple[int, int, int]:
        return (self.setup_size_init, self.predict_size_init, self.learn_size_init)

    def op_codes(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """Allowed op codes of Setup, Predict and Learn."""
        return tuple(tuple(op_by_name(n).code for n in names)  # type: ignore[return-value]
                     for names in (self.setup_ops, self.predict_ops, self.learn_ops))

    def tasks(self, which: str) -> tuple[TaskSpec, ...]:
        """The task specs of a collection: 'search', 'select' or 'final'."""
        if which not in TASK_COLLECTIONS:
            raise ConfigError(f"unknown task collection {which!r}; valid: "
                              f"{', '.join(TASK_COLLECTIONS)}")
        specs = getattr(self, f"{which}_tasks")
        if not specs:
            raise ConfigError(f"{self.source}: no [[{which}_tasks]] in the config")
        return specs

    def to_dict(self) -> dict[str, Any]:
        """A TOML/JSON-serialisable dict that ``config_from_dict`` reads back."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "source":
                continue
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name.endswith("_tasks"):
                out[f.name] = [spec.to_dict() for spec in value]
            elif isinstance(value, (FECSpec, TrainBudgetSpec)):
                out[f.name] = dataclasses.asdict(value)
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            else:
                out[f.name] = value
        return out


_FIELDS = {f.name: f for f in dataclasses.fields(Config) if f.name != "source"}
_SUBTABLES = {"fec": FECSpec, "train_budget": TrainBudgetSpec}


def _unknown(key: str, where: str, valid: Sequence[str]) -> ConfigError:
    close = difflib.get_close_matches(key, list(valid), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"{where}: unknown key '{key}'{hint}")


def _check_int(value: Any, where: str, minimum: int | None = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: must be >= {minimum}, got {value}")
    return value


def _check_float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: must be a number, got {value!r}")
    if math.isnan(value):
        raise ConfigError(f"{where}: must not be NaN")
    return float(value)


def _check_choice(value: Any, where: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value.upper() not in choices:
        raise ConfigError(f"{where}: must be one of {', '.join(choices)}; got {value!r}")
    return value.upper()


def _check_ops(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be a list of op names, got {value!r}")
    names = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise ConfigError(f"{where}[{i}]: must be an op name string, got {item!r}")
        try:
            names.append(op_by_name(item, f"{where}[{i}]").name)
        except KeyError as err:
            raise ConfigError(err.args[0]) from None
    return tuple(names)


def _subtable(cls: type, value: Any, where: str) -> Any:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be a table, got {value!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        if key not in fields:
            raise _unknown(key, where, list(fields))
        if key == "train_budget_baseline":
            kwargs[key] = _check_choice(item, f"{where}.{key}", INITIAL_POPULATIONS[2:])
        elif key == "train_budget_threshold_factor":
            kwargs[key] = _check_float(item, f"{where}.{key}")
            if kwargs[key] <= 0:
                raise ConfigError(f"{where}.{key}: must be > 0, got {item}")
        else:
            kwargs[key] = _check_int(item, f"{where}.{key}")
    missing = [f.name for f in fields.values()
               if f.default is dataclasses.MISSING and f.name not in kwargs]
    if missing:
        raise ConfigError(f"{where}: missing required key(s) {', '.join(missing)}")
    spec = cls(**kwargs)
    if isinstance(spec, FECSpec):
        if spec.num_train_examples <= 0 or spec.num_valid_examples <= 0:
            raise ConfigError(f"{where}: num_train_examples and num_valid_examples "
                              f"must be > 0")
        if spec.cache_size <= 1:
            raise ConfigError(f"{where}.cache_size: must be > 1, got {spec.cache_size}")
        if spec.forget_every == 1:
            raise ConfigError(f"{where}.forget_every: must be 0 (off) or > 1")
    return spec


def config_from_dict(data: Mapping[str, Any], source: str = "<dict>",
                     base_dir: Path | None = None) -> Config:
    """Validate a parsed config; errors name ``source`` and the key."""
    kwargs: dict[str, Any] = {"source": source}
    for key, value in data.items():
        where = f"{source}: {key}"
        if key not in _FIELDS:
            raise _unknown(key, source, list(_FIELDS))
        if key in _SUBTABLES:
            kwargs[key] = _subtable(_SUBTABLES[key], value, where)
        elif key.endswith("_tasks"):
            if not isinstance(value, list):
                raise ConfigError(f"{where}: must be an array of tables "
                                  f"([[{key}]] in TOML)")
            kwargs[key] = tuple(TaskSpec.from_dict(item, f"{source}: {key}[{i}]",
                                                   base_dir)
                                for i, item in enumerate(value))
        elif key.endswith("_ops"):
            kwargs[key] = _check_ops(value, where)
        elif key == "allowed_mutation_types":
            if not isinstance(value, list):
                raise ConfigError(f"{where}: must be a list of mutation type names")
            kwargs[key] = tuple(_check_choice(v, f"{where}[{i}]", MUTATION_TYPES)
                                for i, v in enumerate(value))
        elif key == "initial_population":
            kwargs[key] = _check_choice(value, where, INITIAL_POPULATIONS)
        elif key == "fitness_combination_mode":
            kwargs[key] = _check_choice(value, where, FITNESS_COMBINATION_MODES)
        elif key == "method":
            kwargs[key] = _check_choice(value, where, SEARCH_METHODS)
        elif key == "engine":
            kwargs[key] = _check_choice(value, where, ENGINES)
        elif key in ("randomize_task_seeds", "structural_cache"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: must be true or false, got {value!r}")
            kwargs[key] = value
        elif key in ("mutate_prob", "max_abs_error", "sufficient_fitness",
                     "time_limit_seconds"):
            kwargs[key] = _check_float(value, where)
        else:
            kwargs[key] = _check_int(value, where)
    cfg = Config(**kwargs)
    _validate(cfg)
    return cfg


def _validate(cfg: Config) -> None:
    src = cfg.source
    if cfg.num_scalar_addresses < 2:
        raise ConfigError(f"{src}: num_scalar_addresses must be >= 2 (s0 label, "
                          f"s1 prediction), got {cfg.num_scalar_addresses}")
    if cfg.num_vector_addresses < 1:
        raise ConfigError(f"{src}: num_vector_addresses must be >= 1 (v0 features), "
                          f"got {cfg.num_vector_addresses}")
    if not 0.0 <= cfg.mutate_prob <= 1.0:
        raise ConfigError(f"{src}: mutate_prob must be in [0, 1], got {cfg.mutate_prob}")
    if cfg.max_abs_error <= 0:
        raise ConfigError(f"{src}: max_abs_error must be > 0, got {cfg.max_abs_error}")
    if cfg.population_size < 1 or cfg.tournament_size < 1:
        raise ConfigError(f"{src}: population_size and tournament_size must be >= 1")
    if cfg.batch_size < 1:
        raise ConfigError(f"{src}: batch_size must be >= 1, got {cfg.batch_size}")
    if cfg.time_limit_seconds < 0:
        raise ConfigError(f"{src}: time_limit_seconds must be >= 0")
    for name in TASK_COLLECTIONS:
        sizes = {s.features_size for s in getattr(cfg, f"{name}_tasks")}
        if len(sizes) > 1:
            raise ConfigError(f"{src}: all {name}_tasks must have the same "
                              f"features_size, got {sorted(sizes)}")
    for fname in ("setup", "predict", "learn"):
        lo = getattr(cfg, f"mutate_{fname}_size_min")
        hi = getattr(cfg, f"mutate_{fname}_size_max")
        if hi and lo > hi:
            raise ConfigError(f"{src}: mutate_{fname}_size_min ({lo}) > "
                              f"mutate_{fname}_size_max ({hi})")


def _parse_value(text: str) -> Any:
    """A ``--set`` value: TOML syntax (numbers, true/false, "strings", [lists]);
    anything that is not valid TOML is taken as a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key=value`` overrides; keys are dotted (``fec.cache_size``,
    ``search_tasks.0.num_tasks``). Returns a new dict."""
    import copy

    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, text = item.split("=", 1)
        parts = key.strip().replace("[", ".").replace("]", "").split(".")
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            where = ".".join(parts[: i + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(f"--set {key}: no element {part} in '{where}'")
                node = node[int(part)]
            else:
                if part not in node:
                    if part in _SUBTABLES:
                        node[part] = {}
                    else:
                        raise ConfigError(f"--set {key}: no table '{where}' in the "
                                          f"config")
                node = node[part]
        last = parts[-1]
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise ConfigError(f"--set {key}: no element {last}")
            node[int(last)] = _parse_value(text.strip())
        else:
            node[last] = _parse_value(text.strip())
    return data


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> Config:
    """Read and validate a TOML config, applying ``key=value`` overrides."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config: {err.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    data = apply_overrides(data, overrides)
    return config_from_dict(data, str(path), base_dir=path.parent.resolve())
