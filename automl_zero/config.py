"""Experiment configs: TOML files mirroring the original's SearchExperimentSpec,
its memory build flags and the run_search_experiment flags (docs/semantics.md §9).

A config file is flat: run flags, memory sizes and the search experiment spec
fields at top level, ``[fec]``, ``[train_budget]`` and ``[hurdles]`` tables, and
``[[search_tasks]]``, ``[[select_tasks]]``, ``[[final_tasks]]`` arrays of task
specs (see ``tasks.TaskSpec``). Names and defaults are the original's.

Unknown keys and bad values raise ``ConfigError`` naming the file and the key
path; a value given with ``--set key=value`` (``apply_overrides``) is reported
as that override instead of the file. Keys that were removed (``REMOVED_KEYS``)
are refused with what to do. Settings whose arrays could not fit in this
machine's memory (``tasks._checks.memory_limit_bytes``) are refused up front
with the memory they would need: memory sizes with the feature size (the
executor's per-task-lane memory), task sizes, and the population.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from automl_zero.engine.settings import (
    FEC_KEYINGS,
    FITNESS_COMBINATION_MODES,
    MUTATION_TYPES,
    SEARCH_METHODS,
    op_memory_problem,
)
from automl_zero.errors import ConfigError, excerpt, format_bytes
from automl_zero.executor.executor import TASK_CHUNK, MemorySpec, lanes_for
from automl_zero.language.generator import INITIAL_POPULATIONS
from automl_zero.language.ops import op_by_name
from automl_zero.language.printer import MAX_ADDRESS
from automl_zero.tasks import TaskSpec
from automl_zero.tasks._checks import check_memory
from automl_zero.userfiles import read_text_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "MUTATION_TYPES",
    "REMOVED_KEYS",
    "MAX_CONFIG_FILE_BYTES",
    "FECSpec",
    "TrainBudgetSpec",
    "HurdlesSpec",
    "Config",
    "load_config",
    "config_from_dict",
    "apply_overrides",
    "executor_lane_bytes",
    "TASK_COLLECTIONS",
]

TASK_COLLECTIONS = ("search", "select", "final")

# Keys that configs may no longer hold -> what to do about them.
REMOVED_KEYS: dict[str, str] = {
    "engine": "there is one engine now (the packed one); delete the key",
    "structural_cache": "the structural cache was removed (the FEC covers its "
                        "use); delete the key",
}

# Config files are small; larger files are refused before being read whole.
MAX_CONFIG_FILE_BYTES = 64 * 2**20
# Memory addresses are 16-bit in the original (and in program files).
MAX_ADDRESSES = MAX_ADDRESS + 1


@dataclass(frozen=True)
class FECSpec:
    """Functional equivalence checking (docs/semantics.md §7): fingerprint size and LRU cache."""

    num_train_examples: int
    num_valid_examples: int
    cache_size: int = 100000
    forget_every: int = 100
    # ALGORITHM: one cache entry per algorithm over all tasks; TASK: one per
    # (algorithm, task), as the original (docs/semantics.md §7.4).
    keying: str = "ALGORITHM"


@dataclass(frozen=True)
class TrainBudgetSpec:
    """Compute-cost train budget (docs/semantics.md §6.3)."""

    train_budget_baseline: str = "NEURAL_NET_ALGORITHM"
    train_budget_threshold_factor: float = 2.0


@dataclass(frozen=True)
class HurdlesSpec:
    """Hurdles (docs/semantics.md §10): stage 1 and the rolling hurdle's percentile."""

    first_stage_tasks: int = 0  # the first k search tasks; 0: all of them
    first_stage_train_fraction: float = 1.0  # of each task's training examples
    percentile: float = 75.0  # of the population's distinct fitnesses


@dataclass(frozen=True)
class IslandGroup:
    """Islands searching their own task collection (paper §3.2, dataset
    diversity): ``fraction`` of the run's islands search ``search_tasks``."""

    fraction: float
    search_tasks: tuple[TaskSpec, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"fraction": self.fraction,
                "search_tasks": [spec.to_dict() for spec in self.search_tasks]}


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
    hurdles: HurdlesSpec | None = None
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
    batch_size: int = 100  # children asked and evaluated together (1: the original)
    # --- islands and migration (paper §3.2; docs/semantics.md §11) ---
    islands: int = 1  # populations per experiment; budgets are per island
    migration_every: int = 0  # individuals per island between migrations; 0: never
    migration_fraction: float = 0.5  # of the population sent and replaced
    island_groups: tuple[IslandGroup, ...] = ()  # empty: every island on search_tasks
    # Check the islands' best on T_select every this many individuals (over all
    # islands, at progress reports) when it improved, and end the experiment
    # as soon as it passes sufficient_fitness; 0: only at the end (the original).
    select_every: int = 0
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
            raise ConfigError(f"unknown task collection {excerpt(which)}; valid: "
                              f"{', '.join(TASK_COLLECTIONS)}")
        specs = getattr(self, f"{which}_tasks")
        if which == "search" and self.island_groups:
            specs = tuple(s for g in self.island_groups for s in g.search_tasks)
        if not specs:
            raise ConfigError(f"{self.source}: no [[{which}_tasks]] in the config")
        return specs

    @property
    def multiclass(self) -> bool:
        """Whether the tasks are MULTICLASS_ACCURACY (programs predict in v2;
        docs/semantics.md §4.13). A config's tasks are all multi-class or none."""
        return any(s.num_classes for name in TASK_COLLECTIONS
                   for s in self._collection(name))

    def _collection(self, name: str) -> tuple[TaskSpec, ...]:
        if name == "search" and self.island_groups:
            return tuple(s for g in self.island_groups for s in g.search_tasks)
        return getattr(self, f"{name}_tasks")

    def search_groups(self) -> tuple[tuple[TaskSpec, ...], ...]:
        """The search task collection of each island group (one group, the
        top-level ``search_tasks``, without ``island_groups``)."""
        if self.island_groups:
            return tuple(g.search_tasks for g in self.island_groups)
        return (self.search_tasks,)

    def island_group_of(self) -> tuple[int, ...]:
        """The group of each island: groups take consecutive islands, as many
        as their fraction of ``islands`` (largest remainders; at least one)."""
        return island_groups_of(self.islands,
                                [g.fraction for g in self.island_groups] or [1.0])

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
            elif f.name == "island_groups":
                if value:
                    out[f.name] = [g.to_dict() for g in value]
            elif isinstance(value, (FECSpec, TrainBudgetSpec, HurdlesSpec)):
                out[f.name] = dataclasses.asdict(value)
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            else:
                out[f.name] = value
        return out


_FIELDS = {f.name: f for f in dataclasses.fields(Config) if f.name != "source"}


def island_groups_of(islands: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """The group index of each of ``islands`` islands for groups of these
    fractions (summing to 1): largest remainders, every group at least one."""
    n = len(fractions)
    if islands < n:
        raise ValueError(f"{islands} island(s) cannot hold {n} island groups")
    exact = [f * islands for f in fractions]
    counts = [max(1, int(math.floor(e))) for e in exact]
    order = sorted(range(n), key=lambda g: exact[g] - math.floor(exact[g]), reverse=True)
    k = 0
    while sum(counts) < islands:
        counts[order[k % n]] += 1
        k += 1
    while sum(counts) > islands:  # the at-least-one rule took too many
        g = max((g for g in range(n) if counts[g] > 1),
                key=lambda g: counts[g] - exact[g])
        counts[g] -= 1
    return tuple(g for g, c in enumerate(counts) for _ in range(c))
_SUBTABLES = {"fec": FECSpec, "train_budget": TrainBudgetSpec, "hurdles": HurdlesSpec}


# --------------------------------------------------------------------------
# Value checks. Each takes the value and ``where`` ("file: key path").


def _unknown(key: Any, where: str, valid: Sequence[str]) -> ConfigError:
    close = (difflib.get_close_matches(key, list(valid), n=1)
             if isinstance(key, str) and len(key) <= 60 else [])
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"{where}: unknown key {excerpt(key)}{hint}")


def _check_int(value: Any, where: str, minimum: int = 0, maximum: int | None = None,
               low_why: str = "", high_why: str = "") -> int:
    """An integer in [minimum, maximum]; ``*_why`` explain the bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: must be an integer, got {excerpt(value)}")
    if value < minimum:
        raise ConfigError(f"{where}: must be >= {minimum}{low_why}, got {excerpt(value)}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{where}: must be <= {maximum}{high_why}, got "
                          f"{excerpt(value)}")
    return value


def _check_float(value: Any, where: str, minimum: float | None = None,
                 maximum: float | None = None, strict: bool = False) -> float:
    """A number (inf allowed unless bounded; never NaN) within the bounds;
    ``strict``: strictly above ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: must be a number, got {excerpt(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ConfigError(f"{where}: {excerpt(value)} is too large for a number") from None
    if math.isnan(number):
        raise ConfigError(f"{where}: must not be NaN")
    if minimum is not None and (number < minimum or (strict and number == minimum)):
        op = ">" if strict else ">="
        raise ConfigError(f"{where}: must be {op} {minimum:g}, got {excerpt(value)}")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{where}: must be <= {maximum:g}, got {excerpt(value)}")
    return number


def _check_bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: must be true or false, got {excerpt(value)}")
    return value


def _check_choice(value: Any, where: str, choices: Sequence[str]) -> str:
    if (not isinstance(value, str) or not value.isascii()
            or value.strip().upper() not in choices):
        raise ConfigError(f"{where}: must be one of {', '.join(choices)}; "
                          f"got {excerpt(value)}")
    return value.strip().upper()


def _check_op_name(item: Any, where: str) -> str:
    if not isinstance(item, str):
        raise ConfigError(f"{where}: must be an op name string, got {excerpt(item)}")
    if item.isascii() and len(item) <= 100:
        try:
            return op_by_name(item, where).name
        except KeyError:
            pass
    raise ConfigError(f"{where}: unknown op {excerpt(item)} (valid: NO_OP, "
                      f"SCALAR_SUM_OP, ..., MATRIX_GAUSSIAN_SET_OP; see `automl-zero ops`)")


def _check_list(value: Any, where: str, what: str,
                item: Callable[[Any, str], str]) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be a list of {what}, got {excerpt(value)}")
    return tuple(item(v, f"{where}[{i}]") for i, v in enumerate(value))


def _ints(minimum: int = 0, maximum: int | None = None, low_why: str = "",
          high_why: str = "") -> Callable[[Any, str], int]:
    return lambda v, w: _check_int(v, w, minimum, maximum, low_why, high_why)


def _check_forget_every(value: Any, where: str) -> int:
    if _check_int(value, where) == 1:
        raise ConfigError(f"{where}: must be 0 (off) or > 1, got 1")
    return value


def _check_percentile(value: Any, where: str) -> float:
    number = _check_float(value, where, 0.0, 100.0, strict=True)
    if number == 100.0:
        raise ConfigError(f"{where}: must be < 100, got {excerpt(value)}")
    return number


def _choice(choices: Sequence[str]) -> Callable[[Any, str], str]:
    return lambda v, w: _check_choice(v, w, choices)


_ADDRESS_LIMIT = f" (addresses are 16-bit: 0..{MAX_ADDRESS})"

# Top-level scalar keys -> check (type and range). Tables and task arrays apart.
_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "random_seed": _ints(),
    "max_experiments": _ints(),
    "randomize_task_seeds": _check_bool,
    "sufficient_fitness": _check_float,
    "num_scalar_addresses": _ints(2, MAX_ADDRESSES, " (s0 label, s1 prediction)",
                                  _ADDRESS_LIMIT),
    "num_vector_addresses": _ints(1, MAX_ADDRESSES, " (v0 features)", _ADDRESS_LIMIT),
    "num_matrix_addresses": _ints(0, MAX_ADDRESSES, "", _ADDRESS_LIMIT),
    "setup_ops": lambda v, w: _check_list(v, w, "op names", _check_op_name),
    "predict_ops": lambda v, w: _check_list(v, w, "op names", _check_op_name),
    "learn_ops": lambda v, w: _check_list(v, w, "op names", _check_op_name),
    "setup_size_init": _ints(),
    "predict_size_init": _ints(),
    "learn_size_init": _ints(),
    "max_abs_error": lambda v, w: _check_float(v, w, 0.0, strict=True),
    "fitness_combination_mode": _choice(FITNESS_COMBINATION_MODES),
    "population_size": _ints(1),
    "tournament_size": _ints(1),
    "initial_population": _choice(INITIAL_POPULATIONS),
    "max_train_steps": _ints(),
    "allowed_mutation_types": lambda v, w: _check_list(
        v, w, "mutation type names", _choice(MUTATION_TYPES)),
    "mutate_prob": lambda v, w: _check_float(v, w, 0.0, 1.0),
    "mutate_setup_size_min": _ints(),
    "mutate_setup_size_max": _ints(),
    "mutate_predict_size_min": _ints(),
    "mutate_predict_size_max": _ints(),
    "mutate_learn_size_min": _ints(),
    "mutate_learn_size_max": _ints(),
    "progress_every": _ints(),
    "method": _choice(SEARCH_METHODS),
    "max_individuals": _ints(),
    "time_limit_seconds": lambda v, w: _check_float(v, w, 0.0),
    "batch_size": _ints(1),
    "islands": _ints(1, 1_000_000),
    "migration_every": _ints(),
    "migration_fraction": lambda v, w: _check_float(v, w, 0.0, 1.0),
    "select_every": _ints(),
}
assert set(_CHECKS) | set(_SUBTABLES) | {f"{c}_tasks" for c in TASK_COLLECTIONS} \
    | {"island_groups"} == set(_FIELDS)

_SUBTABLE_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "num_train_examples": _ints(1),
    "num_valid_examples": _ints(1),
    "cache_size": _ints(2),
    "forget_every": _check_forget_every,
    "keying": _choice(FEC_KEYINGS),
    "train_budget_baseline": _choice(INITIAL_POPULATIONS[2:]),
    "train_budget_threshold_factor": lambda v, w: _check_float(v, w, 0.0, strict=True),
    "first_stage_tasks": _ints(0),
    "first_stage_train_fraction": lambda v, w: _check_float(v, w, 0.0, 1.0, strict=True),
    "percentile": _check_percentile,
}


def _subtable(cls: type, value: Any, where: str) -> Any:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be a table, got {excerpt(value)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        if key not in fields:
            raise _unknown(key, where, list(fields))
        kwargs[key] = _SUBTABLE_CHECKS[key](item, f"{where}.{key}")
    missing = [f.name for f in fields.values()
               if f.default is dataclasses.MISSING and f.name not in kwargs]
    if missing:
        raise ConfigError(f"{where}: missing required key(s) {', '.join(missing)}")
    return cls(**kwargs)


# --------------------------------------------------------------------------
# Whole configs


def config_from_dict(data: Mapping[str, Any], source: str = "<dict>",
                     base_dir: Path | None = None, overrides: Sequence[str] = (),
                     ignore_removed: bool = False) -> Config:
    """Validate a parsed config; errors name ``source`` and the key path.

    ``overrides`` are the ``key=value`` overrides already applied to ``data``
    (``apply_overrides``): an error about a key one of them set names that
    override instead of ``source``. ``ignore_removed`` drops ``REMOVED_KEYS``
    silently (for configs saved in old run directories); otherwise they are
    errors.
    """
    try:
        return _config_from_dict(data, source, base_dir, ignore_removed)
    except ConfigError as err:
        blamed = _blame_overrides(str(err), source, overrides)
        if blamed is None:
            raise
        raise ConfigError(blamed) from None


def _config_from_dict(data: Mapping[str, Any], source: str, base_dir: Path | None,
                      ignore_removed: bool) -> Config:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a config must be a table of keys, got "
                          f"{excerpt(data)}")
    kwargs: dict[str, Any] = {"source": source}
    for key, value in data.items():
        where = f"{source}: {key}"
        if key in REMOVED_KEYS:
            if ignore_removed:
                continue
            raise ConfigError(f"{where}: this key was removed: {REMOVED_KEYS[key]}")
        if key not in _FIELDS:
            raise _unknown(key, source, list(_FIELDS))
        if key in _SUBTABLES:
            kwargs[key] = _subtable(_SUBTABLES[key], value, where)
        elif key == "island_groups":
            kwargs[key] = _island_groups(value, where, source, base_dir)
        elif key.endswith("_tasks"):
            if not isinstance(value, list):
                raise ConfigError(f"{where}: must be an array of tables "
                                  f"([[{key}]] in TOML), got {excerpt(value)}")
            kwargs[key] = tuple(TaskSpec.from_dict(item, f"{source}: {key}[{i}]",
                                                   base_dir)
                                for i, item in enumerate(value))
        else:
            kwargs[key] = _CHECKS[key](value, where)
    cfg = Config(**kwargs)
    _validate(cfg)
    return cfg


def _island_groups(value: Any, where: str, source: str, base_dir: Path | None
                   ) -> tuple[IslandGroup, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: must be a non-empty array of tables "
                          f"([[island_groups]] in TOML), got {excerpt(value)}")
    groups = []
    for g, item in enumerate(value):
        here = f"{where}[{g}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{here}: must be a table, got {excerpt(item)}")
        for key in item:
            if key not in ("fraction", "search_tasks"):
                raise _unknown(key, here, ["fraction", "search_tasks"])
        if "fraction" not in item:
            raise ConfigError(f"{here}: missing required key fraction (the share "
                              f"of the islands that search these tasks)")
        fraction = _check_float(item["fraction"], f"{here}.fraction", 0.0, 1.0,
                                strict=True)
        specs = item.get("search_tasks")
        if not isinstance(specs, list) or not specs:
            raise ConfigError(f"{here}.search_tasks: must be a non-empty array of "
                              f"task tables ([[island_groups.search_tasks]]), got "
                              f"{excerpt(specs)}")
        groups.append(IslandGroup(fraction, tuple(
            TaskSpec.from_dict(spec, f"{source}: island_groups[{g}].search_tasks[{i}]",
                               base_dir) for i, spec in enumerate(specs))))
    total = sum(g.fraction for g in groups)
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(f"{where}: the fractions must add up to 1, they add up to "
                          f"{total:g}")
    return tuple(groups)


def _validate(cfg: Config) -> None:
    """Checks across keys, then the memory the config needs."""
    src = cfg.source
    if cfg.island_groups:
        if cfg.search_tasks:
            raise ConfigError(f"{src}: search_tasks: with island_groups, each group "
                              f"gives its own search tasks; remove the top-level "
                              f"[[search_tasks]]")
        if cfg.islands < len(cfg.island_groups):
            raise ConfigError(f"{src}: islands = {cfg.islands} cannot hold "
                              f"{len(cfg.island_groups)} island_groups (each needs "
                              f"at least one island)")
        sizes = {s.features_size for g in cfg.island_groups for s in g.search_tasks}
        if len(sizes) > 1:
            raise ConfigError(f"{src}: island_groups: all groups' search tasks must "
                              f"have the same features_size, got {sorted(sizes)}")
    for name in TASK_COLLECTIONS:
        sizes = {s.features_size for s in getattr(cfg, f"{name}_tasks")}
        if len(sizes) > 1:
            raise ConfigError(f"{src}: {name}_tasks: all specs must have the same "
                              f"features_size, got {sorted(sizes)}")
    kinds = {bool(s.num_classes) for name in TASK_COLLECTIONS
             for s in cfg._collection(name)}
    if len(kinds) > 1:
        raise ConfigError(f"{src}: tasks: MULTICLASS_ACCURACY tasks cannot be mixed "
                          f"with other tasks in one config (multi-class programs "
                          f"predict in v2, the others in s1)")
    if True in kinds and cfg.num_vector_addresses < 3:
        raise ConfigError(f"{src}: num_vector_addresses: multi-class tasks need at "
                          f"least 3 (v1 holds the one-hot label, v2 the predictions), "
                          f"got {cfg.num_vector_addresses}")
    for fname in ("setup", "predict", "learn"):
        lo = getattr(cfg, f"mutate_{fname}_size_min")
        hi = getattr(cfg, f"mutate_{fname}_size_max")
        if hi and lo > hi:
            raise ConfigError(f"{src}: mutate_{fname}_size_min ({lo}) > "
                              f"mutate_{fname}_size_max ({hi})")
        for name in getattr(cfg, f"{fname}_ops"):
            problem = op_memory_problem(op_by_name(name).code, cfg.memory.sizes)
            if problem:
                raise ConfigError(f"{src}: {fname}_ops: {problem}; add addresses "
                                  f"(num_*_addresses) or remove the op")
    if cfg.hurdles is not None:
        _check_hurdles(cfg)
    _check_resources(cfg)


def _check_hurdles(cfg: Config) -> None:
    """Stage 1 must be cheaper than the full evaluation of every search
    collection (each island group's)."""
    src, h = cfg.source, cfg.hurdles
    counts = [sum(s.num_tasks for s in specs) for specs in cfg.search_groups() if specs]
    if h.first_stage_tasks > 0 and counts and h.first_stage_tasks >= min(counts):
        raise ConfigError(f"{src}: hurdles.first_stage_tasks: must be below the number "
                          f"of search tasks ({min(counts)}) so that stage 1 runs fewer "
                          f"tasks, got {h.first_stage_tasks} (0: all tasks)")
    if h.first_stage_tasks == 0 and h.first_stage_train_fraction == 1.0:
        raise ConfigError(f"{src}: hurdles: stage 1 would be the full evaluation; set "
                          f"hurdles.first_stage_tasks to fewer tasks than the search "
                          f"tasks or hurdles.first_stage_train_fraction below 1")


# --------------------------------------------------------------------------
# Memory a config needs (lower bounds of what the run allocates)

_F64 = 8
# Bytes of one instruction row of a packed program: int32 op/in1/in2/out and
# float64 d0/d1/d2 (engine.packed_evolution).
_ROW_BYTES = 4 * 4 + 3 * _F64
# Per packed program: its three component sizes (int64) and its fitness.
_PROGRAM_BYTES = 3 * 8 + _F64
# float64 vectors of one lane besides the memory (kernel accumulators, flags).
_KERNEL_LANE_SCALARS = 12


def executor_lane_bytes(sizes: tuple[int, int, int], features_size: int) -> int:
    """Bytes the executor kernel allocates per task lane for memory of
    ``sizes`` = (scalars, vectors, matrices) at feature size F: the memory and
    its saved copy (``s``, ``v``, ``m`` and ``*_save`` in ``_kernel``), the
    vector and matrix temporaries (``tv``, ``tm``, ``tr``) and the per-lane
    accumulators."""
    s, v, m = max(sizes[0], 2), max(sizes[1], 1), max(sizes[2], 1)
    f = features_size
    return _F64 * (2 * (s + v * f + m * f * f) + f + 2 * f * f + _KERNEL_LANE_SCALARS)


def _program_rows(cfg: Config) -> tuple[int, list[str]]:
    """Instruction rows of one packed program (as ``Layout.for_settings``), and
    the keys that set them (``key = value`` texts)."""
    grows = "INSERT_INSTRUCTION_MUTATION_TYPE" in cfg.allowed_mutation_types
    rows = 0
    keys = []
    for name in ("setup", "predict", "learn"):
        size_init = getattr(cfg, f"{name}_size_init")
        size_max = getattr(cfg, f"mutate_{name}_size_max")
        if grows and size_max > 0:
            cap = size_max - 1
            keys.append(f"mutate_{name}_size_max = {size_max}")
        else:
            cap = 4 * size_init + 64 if grows else size_init
            keys.append(f"{name}_size_init = {size_init}")
        rows += max(cap, 1)
    return rows, keys


def _check_resources(cfg: Config) -> None:
    """Refuse configs whose arrays alone cannot fit in memory, naming the keys."""
    src = cfg.source
    sizes = (cfg.num_scalar_addresses, cfg.num_vector_addresses, cfg.num_matrix_addresses)
    parts: list[tuple[str, int]] = []
    executor = 0
    for name in TASK_COLLECTIONS:
        specs = getattr(cfg, f"{name}_tasks")
        if not specs:
            continue
        f = specs[0].features_size
        lanes = lanes_for(min(TASK_CHUNK, sum(s.num_tasks for s in specs)))
        lane = executor_lane_bytes(sizes, f)
        check_memory(
            lanes * lane, src,
            f"num_scalar_addresses = {sizes[0]}, num_vector_addresses = {sizes[1]} and "
            f"num_matrix_addresses = {sizes[2]} with {name}_tasks[0].features_size = "
            f"{f}: the executor's memory ({lanes} task lane(s) of "
            f"{lane:,} bytes: 2 copies of the scalars, vectors of {f} and "
            f"{f}x{f} matrices, float64)",
            "lower num_matrix_addresses (each matrix takes features_size^2 floats), "
            "the other address counts or features_size",
        )
        executor = max(executor, lanes * lane)
        data = sum(s.data_bytes() for s in specs)
        check_memory(data, src, f"{name}_tasks (their examples, made and packed for the "
                     f"executor)", f"lower num_tasks or the example counts of "
                     f"{name}_tasks")
        if name != "final":  # made when the search ends
            parts.append((f"{name}_tasks", data))
    parts.append(("executor", executor))
    rows, size_keys = _program_rows(cfg)
    program = rows * _ROW_BYTES + _PROGRAM_BYTES
    kept = cfg.population_size if cfg.method == "REGULARIZED_EVOLUTION" else 0
    population = cfg.islands * (kept * program
                                + cfg.batch_size * (2 * program + cfg.tournament_size * 8))
    check_memory(
        population, src,
        f"islands = {cfg.islands} of population_size = {kept} programs of up to {rows} instructions "
        f"({', '.join(size_keys)}; {program:,} bytes each), plus batch_size = "
        f"{cfg.batch_size} children with tournament_size = {cfg.tournament_size} "
        f"draws each",
        "lower population_size, batch_size, tournament_size or the component sizes "
        "(*_size_init, mutate_*_size_max)",
    )
    parts.append(("population", population))
    if cfg.fec is not None and cfg.search_tasks:
        recorded = max(cfg.fec.num_train_examples, cfg.fec.num_valid_examples)
        n_tasks = sum(s.num_tasks for s in cfg.search_tasks)
        fec = cfg.batch_size * n_tasks * recorded * 2 * _F64
        check_memory(fec, src, f"fec.num_train_examples / fec.num_valid_examples = "
                     f"{recorded} recorded errors per task for batch_size = "
                     f"{cfg.batch_size} programs", "lower fec.num_train_examples, "
                     "fec.num_valid_examples or batch_size")
        parts.append(("fec", fec))
    total = sum(n for _, n in parts)
    check_memory(total, src, "together, " + ", ".join(
        f"{what} ({format_bytes(n)})" for what, n in parts if n), "lower the largest")


# --------------------------------------------------------------------------
# Overrides and files


def _override_path(item: str) -> str:
    """The key path an override sets, in message form (``search_tasks[0].num_tasks``)."""
    key = item.split("=", 1)[0].strip()
    out = ""
    for part in key.replace("[", ".").replace("]", "").split("."):
        out += f"[{part}]" if part.isdigit() and out else (f".{part}" if out else part)
    return out


_SUBJECT_RE = re.compile(r"(?P<path>[\w.\[\]]+): (?:unknown key '(?P<key>[^']*)')?")
_UNKNOWN_RE = re.compile(r"unknown key '(?P<key>[^']*)'")


def _subject(rest: str) -> str | None:
    """The key path an error message is about: its leading ``path:``, with the
    unknown key of ``unknown key 'k'`` messages appended."""
    match = _SUBJECT_RE.match(rest)
    if match is not None:
        key = match.group("key")
        return f"{match.group('path')}.{key}" if key else match.group("path")
    match = _UNKNOWN_RE.match(rest)
    return match.group("key") if match is not None else None


def _related(a: str, b: str) -> bool:
    """Whether key paths ``a`` and ``b`` are equal or one contains the other."""
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))


def _mentions(message: str, path: str) -> bool:
    """Whether ``message`` names ``path`` (or its last key under its parent)."""
    message = message.split(" (did you mean", 1)[0]

    def word(text: str) -> bool:
        return re.search(rf"(?<![\w.\[]){re.escape(text)}(?![\w])", message) is not None

    if word(path):
        return True
    parent, _, last = path.rpartition(".")
    return bool(parent) and word(parent) and word(last)


def _blame_overrides(message: str, source: str, overrides: Sequence[str]) -> str | None:
    """``message`` about ``source`` rewritten to name the overrides that set the
    keys it is about (its subject key path, else the keys it mentions); None
    if it is about no override."""
    prefix = f"{source}: "
    if not overrides or not message.startswith(prefix):
        return None
    rest = message[len(prefix):]
    effective: dict[str, str] = {}  # path -> the last override setting it
    for item in overrides:
        path = _override_path(item)
        effective.pop(path, None)
        effective[path] = item
    subject = _subject(rest)
    if subject is not None:
        blamed = [item for path, item in effective.items() if _related(path, subject)]
    else:
        blamed = [item for path, item in effective.items() if _mentions(rest, path)]
    if not blamed:
        return None
    return f"{', '.join('--set ' + _cut(item) for item in blamed)}: {rest}"


def _cut(text: str, limit: int = 80) -> str:
    """``text`` for a message: at most ``limit`` characters (ending in ``…`` if
    cut), unquoted if printable, else quoted with escapes (one line)."""
    if not text.isprintable():
        return excerpt(text, limit)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _parse_value(item: str, text: str) -> Any:
    """A ``--set`` value: TOML syntax (numbers, true/false, "strings", [lists]);
    anything that is not valid TOML is taken as a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    except (ValueError, RecursionError) as err:  # e.g. an integer of 5000 digits
        raise ConfigError(f"--set {_cut(item)}: cannot read the value "
                          f"({_cut(str(err), 60)})") from None


def _index(part: str, node: list, item: str, array: str) -> int:
    """``part`` as an index into ``node``, the array at key path ``array``
    (ASCII digits, in range)."""
    if not (part.isascii() and part.isdigit()) or len(part) > 9 \
            or int(part) >= len(node):
        have = f"it has {len(node)}: 0..{len(node) - 1}" if node else "it is empty"
        raise ConfigError(f"--set {_cut(item)}: no element {_cut(part, 20)} in "
                          f"{excerpt(array)} ({have})")
    return int(part)


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply ``key=value`` overrides; keys are dotted (``fec.cache_size``,
    ``search_tasks.0.num_tasks``). Returns a new dict.

    Errors name the override (``--set key=value``); values are checked when
    the result is validated (``config_from_dict(..., overrides=overrides)``
    names the override there too).
    """
    data = copy.deepcopy(data)
    for item in overrides:
        if not isinstance(item, str) or "=" not in item:
            raise ConfigError(f"--set {excerpt(item)}: expected key=value")
        key, text = item.split("=", 1)
        parts = key.strip().replace("[", ".").replace("]", "").split(".")
        if any(not p.strip() for p in parts):
            raise ConfigError(f"--set {_cut(item)}: empty key (expected key=value, "
                              f"e.g. population_size=100 or fec.cache_size=1000)")
        parts = [p.strip() for p in parts]
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            where = ".".join(parts[: i + 1])
            if isinstance(node, list):
                node = node[_index(part, node, item, ".".join(parts[:i]))]
            elif isinstance(node, dict):
                if part not in node:
                    if part in _SUBTABLES and i == 0:
                        node[part] = {}
                    else:
                        raise ConfigError(f"--set {_cut(item)}: no table "
                                          f"{excerpt(where)} in the config")
                node = node[part]
            else:
                raise ConfigError(f"--set {_cut(item)}: {excerpt(where)} is a value, "
                                  f"not a table or array")
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"--set {_cut(item)}: {excerpt(where)} is a value, "
                                  f"not a table or array")
        value = _parse_value(item, text.strip())
        last = parts[-1]
        if isinstance(node, list):
            node[_index(last, node, item, ".".join(parts[:-1]))] = value
        else:
            node[last] = value
    return data


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> Config:
    """Read and validate a UTF-8 TOML config, applying ``key=value`` overrides.

    Every error is a ``ConfigError`` naming the file (or the override) and the key.
    """
    path = Path(path)
    text = read_text_file(path, "config file", ConfigError, MAX_CONFIG_FILE_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {_cut(str(err), 200)}") from None
    except (ValueError, RecursionError) as err:  # huge integers, deep nesting
        raise ConfigError(f"{path}: invalid TOML: {_cut(str(err), 200)}") from None
    data = apply_overrides(data, overrides)
    return config_from_dict(data, str(path), base_dir=path.parent.resolve(),
                            overrides=overrides)
