"""Evolution against random search (paper §4.1, Figure 4; docs/results.md).

The paper measures how much more efficiently regularized evolution finds
"acceptable" algorithms than random search (RS) in small search spaces with
fixed component sizes, on four settings: the whole linear or affine regressor,
or only its learning part (``SETTINGS``; one config file each,
``configs/rs_vs_evolution*.toml``). Definitions used here:

* **Acceptable**: the mean fitness over the D search tasks is strictly above
  that of the hand-designed reference, SGD linear regression (affine data:
  with a bias) at learning rate ``REFERENCE_LEARNING_RATE`` = 0.01, the
  original's default for its hand-designed linear algorithm. Fitness is the
  search's own (docs/semantics.md §5.1: ``1 - (2/pi) atan(RMSE)`` per task, a
  decreasing function of the RMS error), so this is the paper's "lower mean
  RMS error than the reference" measured on the search's scale. The reference
  itself is therefore not acceptable; the same program with a better-tuned
  learning rate is.
* **RS success rate**: acceptable / programs, over N programs drawn as the
  initial population's ``RANDOM_ALGORITHM`` programs of the same space; its
  inverse is the setting's **difficulty**.
* **Evolution success rate**: experiments that found an acceptable algorithm /
  evaluations spent. Each experiment is one regularized-evolution population
  (``Island``, the search's engine) of at most ``max_individuals``
  evaluations, stopped at its first acceptable algorithm; its evaluations are
  counted up to and including that one (the rest of its batch is computed and
  discarded). At most one success per experiment, which biases against
  evolution, as in the paper.

Learn-only settings fix Setup and Predict to the known solution with the tuned
learning rate ``TUNED_LEARNING_RATE`` = 0.1 (= 1/(F+2) for F = 8, the rate
that shrinks the expected squared weight error of noiseless SGD fastest for
standard normal features) and search Learn only: the programs of the search
space are this template with Learn randomized.

**Label-blind programs** (RS only): a program whose effective code (dead code
removed, docs/semantics.md §4.10) never reads the label ``s0`` in Learn makes
predictions that do not depend on the labels, so it cannot fit three tasks
whose weights are drawn at random: to be acceptable its validation RMS error
must be below about 5e-4 on every task, and the chance that a fixed function
of the features comes that close to ``u.x`` for u ~ N(0, I_8) (a ball of
radius about 5e-4 in weight space) is below 10^-25 per task. RS counts such
programs as generated and not acceptable without running them, which makes it
several times faster (in these spaces only 20-50 % of the programs read the
label); the first block of every run is evaluated in full and the best fitness
of its label-blind programs is reported as a check. ``evaluate_all=True`` runs
every program.

Randomness: RS block ``b`` draws its programs from ``SeedSequence([seed, 0,
b])``, evolution experiment ``k`` is seeded with ``SeedSequence([seed, 1,
k])``, so the results depend on the seed only, not on the worker count.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import platform
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero import __version__
from automl_zero.config import Config, load_config
from automl_zero.engine.island import Island
from automl_zero.engine.packed_evolution import (
    Children,
    PackedPopulation,
    executor_arrays,
    unpack,
)
from automl_zero.errors import ConfigError
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.generator import (
    NO_OP,
    linear_algorithm,
    logistic_regression_algorithm,
)
from automl_zero.language.ops import IN1_KIND, IN2_KIND, Kind
from automl_zero.run import build
from automl_zero.tasks import Task, make_tasks

__all__ = [
    "SETTINGS",
    "SETTING_NAMES",
    "REFERENCE_LEARNING_RATE",
    "TUNED_LEARNING_RATE",
    "RS_BLOCK",
    "Setting",
    "Space",
    "RandomSearchResult",
    "ExperimentOutcome",
    "EvolutionResult",
    "Comparison",
    "reference_algorithm",
    "known_solution",
    "load_space",
    "is_acceptable",
    "random_search",
    "evolution_experiment",
    "evolution",
    "run",
    "wilson_interval",
    "poisson_rate_interval",
    "rate_ratio_interval",
]

REFERENCE_LEARNING_RATE = 0.01  # the original's LINEAR_ALGORITHM default
TUNED_LEARNING_RATE = 0.1  # 1 / (F + 2) for F = 8
RS_BLOCK = 10_000  # random programs per block (one seed, one evaluator call)
CONFIDENCE = 0.95
# The repository's configs/ directory (a source checkout or editable install).
CONFIG_DIR = Path(__file__).resolve().parents[3] / "configs"


@dataclass(frozen=True)
class Setting:
    """One point of the paper's Figure 4."""

    name: str
    config: str  # file name in configs/
    affine: bool  # affine data (y = u.x + a), else linear (y = u.x)
    learn_only: bool  # Setup and Predict fixed to the known solution
    description: str


SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("linear", "rs_vs_evolution.toml", False, False,
            "the whole linear regressor (Setup/Predict/Learn 5/1/4)"),
    Setting("affine", "rs_vs_evolution_affine.toml", True, False,
            "the whole affine regressor (Setup/Predict/Learn 6/2/6)"),
    Setting("linear_learn", "rs_vs_evolution_linear_learn.toml", False, True,
            "only Learn of the linear regressor (4 instructions)"),
    Setting("affine_learn", "rs_vs_evolution_affine_learn.toml", True, True,
            "only Learn of the affine regressor (6 instructions)"),
)}
SETTING_NAMES = tuple(SETTINGS)


def reference_algorithm(affine: bool, learning_rate: float = REFERENCE_LEARNING_RATE
                        ) -> Algorithm:
    """The hand-designed SGD regressor: ``linear_algorithm`` (weights in v1,
    rate in s2), or for affine data the same with a bias in s4
    (``logistic_regression_algorithm``, which on RMS_ERROR tasks is exactly
    linear regression with a bias by SGD)."""
    if affine:
        return logistic_regression_algorithm(learning_rate)
    return linear_algorithm(learning_rate)


def known_solution(affine: bool) -> Algorithm:
    """The known solution whose Setup and Predict the learn-only settings fix:
    the reference with the tuned learning rate."""
    return reference_algorithm(affine, TUNED_LEARNING_RATE)


# --------------------------------------------------------------------------
# The search space of a setting


@dataclass
class Space:
    """Everything both searches need: the config, the search tasks, the
    acceptability threshold and (learn-only settings) the fixed template."""

    setting: Setting
    config_path: Path
    cfg: Config
    tasks: list[Task]
    threshold: float  # the reference's mean fitness; acceptable: strictly above
    template: Algorithm | None  # learn-only: fixed Setup/Predict, NO_OP Learn
    overrides: tuple[str, ...] = ()

    @property
    def max_evaluations(self) -> int:
        """Evaluations per evolution experiment at most (``max_individuals``)."""
        return self.cfg.max_individuals


def default_config(setting: str) -> Path:
    """The config file of a setting in the repository's configs/."""
    return CONFIG_DIR / SETTINGS[setting].config


def load_space(setting: str, config_path: str | Path | None = None,
               overrides: Sequence[str] = ()) -> Space:
    """The search space of ``setting`` from its config (default: the
    repository's ``configs/`` file), with ``key=value`` overrides. Bad
    settings raise ``ConfigError`` (one line)."""
    if setting not in SETTINGS:
        raise ConfigError(f"unknown setting {setting!r}; valid: {', '.join(SETTINGS)}")
    spec = SETTINGS[setting]
    path = Path(config_path) if config_path is not None else default_config(setting)
    if config_path is None and not path.is_file():
        raise ConfigError(f"{path}: the config of setting {setting} is not there "
                          f"(not a source checkout?); give it with --config")
    cfg = load_config(path, overrides)
    _check_config(cfg, spec, overrides)
    template = None
    if spec.learn_only:
        solution = known_solution(spec.affine)
        sizes = (len(solution.setup), len(solution.predict))
        if (cfg.setup_ops or cfg.predict_ops
                or (cfg.setup_size_init, cfg.predict_size_init) != sizes):
            raise ConfigError(
                f"{cfg.source}: setting {setting} searches Learn only: Setup and "
                f"Predict are fixed to the known solution, so setup_ops and "
                f"predict_ops must be empty and setup_size_init, predict_size_init "
                f"= {sizes[0]}, {sizes[1]}")
        template = Algorithm(solution.setup, solution.predict,
                             (NO_OP,) * cfg.learn_size_init)
    tasks = make_tasks(cfg.search_tasks)
    reference = reference_algorithm(spec.affine)
    try:
        reference.check_memory(*cfg.memory.sizes)
    except ValueError as err:
        raise ConfigError(f"{cfg.source}: the reference does not fit the memory: "
                          f"{err}") from None
    evaluator = build.search_evaluator_on_tasks(cfg, tasks, np.random.SeedSequence(0))
    threshold = float(evaluator.evaluate(reference))
    return Space(spec, path, cfg, tasks, threshold, template, tuple(overrides))


def _check_config(cfg: Config, spec: Setting, overrides: Sequence[str] = ()) -> None:
    """What the experiment's definitions rely on (one population of random
    programs, an evaluation cap per experiment, regression tasks of the
    setting's kind). Messages name the ``--set`` override that set a key,
    else the file."""

    def where(*keys: str) -> str:
        given = [o for o in overrides
                 if o.split("=", 1)[0].strip().split(".")[0].split("[")[0] in keys]
        return f"--set {given[-1]}" if given else f"{cfg.source}: {keys[0]}"

    if cfg.initial_population != "RANDOM_ALGORITHM":
        raise ConfigError(f"{where('initial_population')}: this experiment starts "
                          f"from random programs (RANDOM_ALGORITHM), got "
                          f"{cfg.initial_population}")
    if cfg.islands != 1 or cfg.island_groups:
        raise ConfigError(f"{where('islands')}: each evolution experiment is one "
                          f"population (the paper's one process); set islands = 1")
    if cfg.max_individuals <= 0:
        raise ConfigError(f"{where('max_individuals')}: the evaluations per "
                          f"evolution experiment must be capped (> 0)")
    if cfg.max_individuals < cfg.population_size:
        raise ConfigError(f"{where('max_individuals', 'population_size')}: "
                          f"max_individuals ({cfg.max_individuals}) is below "
                          f"population_size ({cfg.population_size}): the initial "
                          f"population alone would exceed it")
    if cfg.batch_size > cfg.population_size:
        raise ConfigError(f"{where('batch_size', 'population_size')}: batch_size "
                          f"({cfg.batch_size}) must not exceed population_size "
                          f"({cfg.population_size})")
    kind = "affine" if spec.affine else "linear"
    if any(s.task_type != f"scalar_{kind}_regression_task" for s in cfg.search_tasks):
        raise ConfigError(f"{where('search_tasks')}: setting {spec.name} needs "
                          f"scalar_{kind}_regression_task tasks (its reference is "
                          f"the {kind} regressor)")


def is_acceptable(fitness: np.ndarray | float, threshold: float) -> np.ndarray:
    """Strictly better than the reference (NaN: not acceptable)."""
    return np.asarray(fitness) > threshold


def _island(space: Space, method: str, seed: np.random.SeedSequence) -> Island:
    """An island of the setting's search space (the search's own engine)."""
    cfg = dataclasses.replace(space.cfg, method=method)
    island = build.island_on_tasks(cfg, space.tasks, seed)
    if space.template is not None:
        # Same component sizes as the island's own NO_OP template, so its
        # layout holds it; only Learn (the one mutable component) is randomized.
        island.template = space.template
    return island


# --------------------------------------------------------------------------
# Random search


@dataclass
class _Block:
    """One RS block's counts."""

    programs: int
    run: int  # programs executed
    label_blind: int
    acceptable: int
    best: float  # best fitness of the programs run (-inf: none)
    blind_checked: int  # label-blind programs executed anyway (the check)
    blind_best: float  # their best fitness (-inf: none)
    examples: list[str]  # acceptable programs (effective code), at most 3


def _reads_label(children: Children, island: Island) -> np.ndarray:
    """Per program: whether its effective Learn reads ``s0`` (the label). A
    program without such a read predicts the same whatever the labels are."""
    n = len(children.sizes)
    code, _, starts, _ = executor_arrays(children.code, children.data, children.sizes,
                                         np.arange(n), island.layout,
                                         island.settings.memory_sizes, effective=True)
    op = code[:, 0].astype(np.int64)
    reads = (((IN1_KIND[op] == Kind.SCALAR) & (code[:, 1] == 0))
             | ((IN2_KIND[op] == Kind.SCALAR) & (code[:, 2] == 0)))
    total = np.concatenate([[0], np.cumsum(reads)])
    # Learn of program j is rows starts[j, 2] .. starts[j, 3] - 1.
    return total[starts[:, 3]] > total[starts[:, 2]]


def random_search_block(space: Space, seed: int, block: int, n: int,
                        evaluate_all: bool = False) -> _Block:
    """Draw and judge ``n`` random programs, block ``block`` of the run."""
    island = _island(space, "RANDOM_SEARCH", np.random.SeedSequence([seed, 2, block]))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0, block]))
    blank = PackedPopulation.from_algorithms([island.template], np.zeros(1),
                                             island.layout)
    children = island.engine.randomize(blank, rng, n)
    reads = _reads_label(children, island)
    check = evaluate_all or block == 0  # the first block checks label-blindness
    run = np.arange(n) if check else np.flatnonzero(reads)
    fitness = np.full(n, np.nan)
    if len(run):
        fitness[run] = island.evaluator.evaluate_packed(
            children.code[run], children.data[run], children.sizes[run],
            island.layout).fitness
    hits = np.flatnonzero(is_acceptable(fitness, space.threshold))
    blind = ~reads & ~np.isnan(fitness)
    examples = [effective_algorithm(unpack(children.code[i], children.data[i],
                                           children.sizes[i], island.layout)).to_text()
                for i in hits[:3]]
    return _Block(programs=n, run=len(run), label_blind=int((~reads).sum()),
                  acceptable=len(hits),
                  best=float(np.nanmax(fitness)) if len(run) else -math.inf,
                  blind_checked=int(blind.sum()),
                  blind_best=float(fitness[blind].max()) if blind.any() else -math.inf,
                  examples=examples)


@dataclass
class RandomSearchResult:
    """Random search over ``programs`` programs of the space."""

    programs: int
    acceptable: int
    run: int  # programs executed (label readers, and all of the first block)
    label_blind: int  # programs whose predictions ignore the labels
    best_fitness: float
    label_blind_checked: int  # label-blind programs executed as a check
    label_blind_best_fitness: float  # their best fitness (must stay below threshold)
    seconds: float
    examples: list[str] = field(default_factory=list)  # acceptable programs found

    @property
    def rate(self) -> float:
        return self.acceptable / self.programs if self.programs else math.nan


def _merge_blocks(blocks: Iterable[_Block], seconds: float) -> RandomSearchResult:
    out = RandomSearchResult(0, 0, 0, 0, -math.inf, 0, -math.inf, seconds)
    for b in blocks:
        out.programs += b.programs
        out.acceptable += b.acceptable
        out.run += b.run
        out.label_blind += b.label_blind
        out.best_fitness = max(out.best_fitness, b.best)
        out.label_blind_checked += b.blind_checked
        out.label_blind_best_fitness = max(out.label_blind_best_fitness, b.blind_best)
        out.examples.extend(b.examples[:max(0, 3 - len(out.examples))])
    return out


def _blocks(programs: int) -> list[tuple[int, int]]:
    """(block index, programs) covering ``programs`` in RS_BLOCK pieces."""
    return [(b, min(RS_BLOCK, programs - b * RS_BLOCK))
            for b in range(math.ceil(programs / RS_BLOCK))]


def random_search(space: Space, programs: int, seed: int = 1,
                  evaluate_all: bool = False, workers: int = 1,
                  progress: Callable[[str], None] | None = None) -> RandomSearchResult:
    """Judge ``programs`` random programs (deterministic for a seed)."""
    with _Runner(space, workers) as runner:
        return runner.random_search(programs, seed, evaluate_all, progress)


# --------------------------------------------------------------------------
# Evolution


@dataclass
class ExperimentOutcome:
    """One evolution experiment."""

    index: int
    found: bool
    evaluations: int  # up to and including the first acceptable one, else all
    best_fitness: float
    algorithm: str | None = None  # the first acceptable one (effective code)


def evolution_experiment(space: Space, seed: int, index: int) -> ExperimentOutcome:
    """Experiment ``index``: regularized evolution from random programs until
    the first acceptable algorithm or ``max_individuals`` evaluations."""
    island = _island(space, "REGULARIZED_EVOLUTION",
                     np.random.SeedSequence([seed, 1, index]))
    cap, batch, threshold = space.max_evaluations, space.cfg.batch_size, space.threshold
    island.initialize()
    pop = island.population
    size = len(pop.fitness)
    best = float(pop.fitness.max())
    # The initial population is evaluated in slot order: slot i is evaluation i+1.
    hits = np.flatnonzero(is_acceptable(pop.fitness, threshold))
    if len(hits):
        return _found(index, int(hits[0]) + 1, best, pop.algorithm(int(hits[0])))
    while island.individuals < cap:
        before, first_slot = island.individuals, pop.next_slot
        fitness = island.step(min(batch, cap - island.individuals))
        best = max(best, float(fitness.max()))
        hits = np.flatnonzero(is_acceptable(fitness, threshold))
        if len(hits):
            # Child j of a batch (batch <= population size) replaced slot
            # (first_slot + j) mod P.
            j = int(hits[0])
            return _found(index, before + j + 1, best,
                          pop.algorithm((first_slot + j) % size))
    return ExperimentOutcome(index, False, island.individuals, best)


def _found(index: int, evaluations: int, best: float, alg: Algorithm
           ) -> ExperimentOutcome:
    return ExperimentOutcome(index, True, evaluations, best,
                             effective_algorithm(alg).to_text())


@dataclass
class EvolutionResult:
    """Evolution experiments of at most ``max_evaluations`` evaluations each."""

    max_evaluations: int
    experiments: list[ExperimentOutcome]
    seconds: float

    @property
    def successes(self) -> int:
        return sum(e.found for e in self.experiments)

    @property
    def evaluations(self) -> int:
        return sum(e.evaluations for e in self.experiments)

    @property
    def rate(self) -> float:
        return self.successes / self.evaluations if self.evaluations else math.nan


def evolution(space: Space, experiments: int, seed: int = 1, workers: int = 1,
              progress: Callable[[str], None] | None = None) -> EvolutionResult:
    """``experiments`` evolution experiments (deterministic for a seed)."""
    with _Runner(space, workers) as runner:
        return runner.evolution(experiments, seed, progress)


# --------------------------------------------------------------------------
# Running blocks and experiments, in this process or in worker processes

_WORKER_SPACE: Space | None = None


def _init_worker(setting: str, config_path: str, overrides: tuple[str, ...]) -> None:
    global _WORKER_SPACE
    _WORKER_SPACE = load_space(setting, config_path, overrides)


def _work(job: tuple) -> Any:
    kind, *args = job
    assert _WORKER_SPACE is not None
    if kind == "rs":
        return random_search_block(_WORKER_SPACE, *args)
    return evolution_experiment(_WORKER_SPACE, *args)


class _Runner:
    """Maps jobs over ``workers`` processes (spawned, each loading the space
    itself) or this process; results come back in job order, so they do not
    depend on the worker count."""

    def __init__(self, space: Space, workers: int) -> None:
        self.space = space
        self.workers = max(1, int(workers))
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Runner:
        if self.workers > 1:
            self.pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.space.setting.name, str(self.space.config_path),
                          self.space.overrides))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def map(self, jobs: list[tuple]) -> Iterator[Any]:
        if self.pool is None:
            for job in jobs:
                kind, *args = job
                yield (random_search_block(self.space, *args) if kind == "rs"
                       else evolution_experiment(self.space, *args))
        else:
            yield from self.pool.map(_work, jobs, chunksize=1)

    def random_search(self, programs: int, seed: int, evaluate_all: bool,
                      progress: Callable[[str], None] | None) -> RandomSearchResult:
        start = time.perf_counter()
        report = _Throttle(progress)
        done: list[_Block] = []
        for block in self.map([("rs", seed, b, n, evaluate_all)
                               for b, n in _blocks(programs)]):
            done.append(block)
            report(lambda: _rs_progress(done, programs, time.perf_counter() - start))
        return _merge_blocks(done, time.perf_counter() - start)

    def evolution(self, experiments: int, seed: int,
                  progress: Callable[[str], None] | None) -> EvolutionResult:
        start = time.perf_counter()
        report = _Throttle(progress)
        done: list[ExperimentOutcome] = []
        for outcome in self.map([("evo", seed, k) for k in range(experiments)]):
            done.append(outcome)
            report(lambda: _evo_progress(done, experiments,
                                         time.perf_counter() - start))
        return EvolutionResult(self.space.max_evaluations, done,
                               time.perf_counter() - start)


class _Throttle:
    """Calls ``progress`` with a message at most every ``every`` seconds."""

    def __init__(self, progress: Callable[[str], None] | None, every: float = 10.0
                 ) -> None:
        self.progress, self.every, self.last = progress, every, time.perf_counter()

    def __call__(self, message: Callable[[], str]) -> None:
        now = time.perf_counter()
        if self.progress is not None and now - self.last >= self.every:
            self.last = now
            self.progress(message())


def _rs_progress(done: list[_Block], programs: int, seconds: float) -> str:
    n = sum(b.programs for b in done)
    return (f"random search: {n:,}/{programs:,} programs, "
            f"{sum(b.acceptable for b in done)} acceptable, {n / seconds:,.0f}/s")


def _evo_progress(done: list[ExperimentOutcome], experiments: int, seconds: float
                  ) -> str:
    n = sum(e.evaluations for e in done)
    return (f"evolution: {len(done)}/{experiments} experiments, "
            f"{sum(e.found for e in done)} found, {n:,} evaluations, "
            f"{n / seconds:,.0f}/s")


# --------------------------------------------------------------------------
# Statistics


def _scipy_stats() -> Any:
    from scipy import stats  # a dependency of scikit-learn

    return stats


def wilson_interval(k: int, n: int, confidence: float = CONFIDENCE
                    ) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n."""
    if n <= 0:
        return (math.nan, math.nan)
    z = float(_scipy_stats().norm.ppf(0.5 + confidence / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def poisson_rate_interval(k: int, exposure: float, confidence: float = CONFIDENCE
                          ) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson rate: k events in ``exposure``."""
    if exposure <= 0:
        return (math.nan, math.nan)
    chi2 = _scipy_stats().chi2
    alpha = 1 - confidence
    lo = 0.0 if k == 0 else float(chi2.ppf(alpha / 2, 2 * k)) / 2
    hi = float(chi2.ppf(1 - alpha / 2, 2 * k + 2)) / 2
    return (lo / exposure, hi / exposure)


def rate_ratio_interval(k1: int, n1: float, k2: int, n2: float,
                        confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Interval of the ratio of two small rates (k1/n1) / (k2/n2), exact
    conditional on k1 + k2 (Clopper-Pearson for k1 ~ Binomial(k1 + k2, pi),
    ratio = pi/(1 - pi) * n2/n1); inf where the data give no bound."""
    total = k1 + k2
    if total == 0 or n1 <= 0 or n2 <= 0:
        return (0.0, math.inf)
    beta = _scipy_stats().beta
    alpha = 1 - confidence
    lo = 0.0 if k1 == 0 else float(beta.ppf(alpha / 2, k1, k2 + 1))
    hi = 1.0 if k2 == 0 else float(beta.ppf(1 - alpha / 2, k1 + 1, k2))

    def ratio(pi: float) -> float:
        return math.inf if pi >= 1.0 else pi / (1 - pi) * n2 / n1

    return (ratio(lo), ratio(hi))


# --------------------------------------------------------------------------
# The whole comparison


@dataclass
class Comparison:
    """Evolution against random search on one setting, with the statistics."""

    space: Space
    seed: int
    workers: int
    random_search: RandomSearchResult
    evolution: EvolutionResult
    evaluate_all: bool = False

    @property
    def rs_interval(self) -> tuple[float, float]:
        return wilson_interval(self.random_search.acceptable, self.random_search.programs)

    @property
    def evolution_interval(self) -> tuple[float, float]:
        return poisson_rate_interval(self.evolution.successes, self.evolution.evaluations)

    @property
    def ratio(self) -> float:
        """Evolution's success rate over RS's (inf: RS found none; NaN: neither)."""
        e, r = self.evolution.rate, self.random_search.rate
        if r == 0:
            return math.inf if e > 0 else math.nan
        return e / r

    @property
    def ratio_interval(self) -> tuple[float, float]:
        return rate_ratio_interval(self.evolution.successes, self.evolution.evaluations,
                                   self.random_search.acceptable,
                                   self.random_search.programs)

    @property
    def difficulty(self) -> float:
        """1 / RS success rate (inf: RS found none)."""
        r = self.random_search.rate
        return math.inf if r == 0 else 1 / r

    @property
    def difficulty_interval(self) -> tuple[float, float]:
        lo, hi = self.rs_interval
        return (1 / hi if hi > 0 else math.inf, 1 / lo if lo > 0 else math.inf)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: infinite or undefined numbers are None (an interval
        ``[x, None]`` has no upper bound)."""
        s, rs, ev = self.space, self.random_search, self.evolution
        return _finite({
            "experiment": "rs_vs_evolution",
            "setting": s.setting.name,
            "description": s.setting.description,
            "config": str(s.config_path),
            "overrides": list(s.overrides),
            "seed": self.seed,
            "workers": self.workers,
            "tasks": [spec.to_dict() for spec in s.cfg.search_tasks],
            "reference": {
                "algorithm": reference_algorithm(s.setting.affine).to_text(),
                "learning_rate": REFERENCE_LEARNING_RATE,
                "mean_fitness": s.threshold,
            },
            "acceptable": "mean fitness over the search tasks > reference's",
            "fixed_template": None if s.template is None else s.template.to_text(),
            "confidence": CONFIDENCE,
            "random_search": {
                "programs": rs.programs, "acceptable": rs.acceptable,
                "rate": rs.rate, "interval": list(self.rs_interval),
                "interval_method": "Wilson",
                "evaluate_all": self.evaluate_all, "run": rs.run,
                "label_blind": rs.label_blind,
                "label_blind_checked": rs.label_blind_checked,
                "label_blind_best_fitness": rs.label_blind_best_fitness,
                "best_fitness": rs.best_fitness, "seconds": rs.seconds,
                "examples": rs.examples,
            },
            "evolution": {
                "experiments": len(ev.experiments), "successes": ev.successes,
                "evaluations": ev.evaluations, "max_evaluations": ev.max_evaluations,
                "rate": ev.rate, "interval": list(self.evolution_interval),
                "interval_method": "exact Poisson (Garwood)",
                "seconds": ev.seconds,
                "population_size": s.cfg.population_size,
                "tournament_size": s.cfg.tournament_size,
                "mutate_prob": s.cfg.mutate_prob, "batch_size": s.cfg.batch_size,
                "outcomes": [[e.evaluations, e.found, e.best_fitness]
                             for e in ev.experiments],
                "found": [{"experiment": e.index, "evaluations": e.evaluations,
                           "algorithm": e.algorithm}
                          for e in ev.experiments if e.found],
            },
            "ratio": self.ratio, "ratio_interval": list(self.ratio_interval),
            "ratio_interval_method": "exact conditional binomial (Clopper-Pearson)",
            "difficulty": self.difficulty,
            "difficulty_interval": list(self.difficulty_interval),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                        "python": platform.python_version()},
            "version": __version__,
        })

    def format(self) -> str:
        """The human-readable table."""
        s, rs, ev = self.space, self.random_search, self.evolution
        spec = s.cfg.search_tasks[0]
        n_tasks = sum(t.num_tasks for t in s.cfg.search_tasks)
        lr = REFERENCE_LEARNING_RATE
        lines = [
            f"Evolution against random search (paper §4.1, Figure 4): setting "
            f"{s.setting.name}, {s.setting.description}",
            f"  config {s.config_path.name}"
            + (f" ({', '.join('--set ' + o for o in s.overrides)})" if s.overrides
               else "") + f", seed {self.seed}, {self.workers} worker(s)",
            f"  tasks: {n_tasks} x {spec.task_type}, F = {spec.features_size}, "
            f"{spec.num_train_examples} train / {spec.num_valid_examples} valid",
            f"  acceptable: mean fitness > {s.threshold:.10f}, the hand-designed SGD "
            f"{'affine' if s.setting.affine else 'linear'} regressor's at learning "
            f"rate {lr:g}",
        ]
        if s.template is not None:
            lines.append(f"  Setup and Predict fixed to the known solution (learning "
                         f"rate {TUNED_LEARNING_RATE:g}); Learn searched")
        lines += [
            "",
            f"  {'method':14s} {'acceptable':>10s} {'evaluations':>13s} "
            f"{'success rate':>13s}  95% interval",
            f"  {'random search':14s} {rs.acceptable:10d} {rs.programs:13,d} "
            f"{_num(rs.rate):>13s}  {_interval(self.rs_interval)} (Wilson)",
            f"  {'evolution':14s} {ev.successes:10d} {ev.evaluations:13,d} "
            f"{_num(ev.rate):>13s}  {_interval(self.evolution_interval)} (Poisson)",
            f"  evolution: {len(ev.experiments)} experiments of at most "
            f"{ev.max_evaluations:,} evaluations, stopped at the first acceptable "
            f"algorithm (at most one success each)",
            "",
            f"  evolution / random search: {_num(self.ratio)}  "
            f"{_interval(self.ratio_interval)}",
            f"  random-search difficulty (1 / rate): {_num(self.difficulty)}  "
            f"{_interval(self.difficulty_interval)}",
        ]
        blind = ("every program run" if self.evaluate_all else
                 f"{rs.run:,} run, {rs.label_blind:,} label-blind skipped; label-blind "
                 f"check: best of {rs.label_blind_checked:,} = "
                 f"{_num(rs.label_blind_best_fitness, 4)}")
        lines += [
            f"  random search: {rs.seconds:.0f} s ({_per_s(rs.programs, rs.seconds)} "
            f"programs/s; {blind}); best fitness {_num(rs.best_fitness, 6)}",
            f"  evolution: {ev.seconds:.0f} s ({_per_s(ev.evaluations, ev.seconds)} "
            f"evaluations/s); best fitness "
            f"{_num(max((e.best_fitness for e in ev.experiments), default=math.nan), 6)}",
        ]
        return "\n".join(lines)


def _finite(value: Any) -> Any:
    """``value`` with every inf, -inf and NaN float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _num(x: float, digits: int = 2) -> str:
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.{digits + 1}g}" if digits < 4 else f"{x:.{digits}f}"
    return f"{x:.{digits - 1}e}"


def _interval(bounds: tuple[float, float]) -> str:
    return f"[{_num(bounds[0])}, {_num(bounds[1])}]"


def _per_s(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds > 0 else "n/a"


def run(setting: str, *, experiments: int = 100, evaluations: int | None = None,
        seed: int = 1, workers: int = 1, config_path: str | Path | None = None,
        overrides: Sequence[str] = (), evaluate_all: bool = False,
        progress: Callable[[str], None] | None = None) -> Comparison:
    """The whole comparison on ``setting``: ``experiments`` evolution
    experiments, then random search over ``evaluations`` programs (default:
    as many as evolution spent, the paper's protocol)."""
    if experiments < 1:
        raise ValueError(f"experiments must be >= 1, got {experiments}")
    if evaluations is not None and evaluations < 1:
        raise ValueError(f"evaluations must be >= 1, got {evaluations}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    space = load_space(setting, config_path, overrides)
    with _Runner(space, workers) as runner:
        evo = runner.evolution(experiments, seed, progress)
        programs = evo.evaluations if evaluations is None else evaluations
        rs = runner.random_search(programs, seed, evaluate_all, progress)
    return Comparison(space, seed, max(1, workers), rs, evo, evaluate_all)
