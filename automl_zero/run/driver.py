"""The search driver (docs/semantics.md §9): experiments of an ``Island`` on
T_search, the best candidate of each checked on T_select, the best one
reported on T_final; budgets, progress, events, checkpoints and resume.

A run is deterministic for a config and seed: the driver's own decisions
(task seeds, T_select/T_final seeds) come from one stream, each experiment's
island from ``SeedSequence([seed, 2, experiment]).spawn``, and checkpoints hold
the whole state between batches, so a resumed run continues exactly as an
uninterrupted one would (a wall-clock limit is the only non-deterministic stop).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero import __version__
from automl_zero.config import Config, config_from_dict
from automl_zero.engine.island import Island
from automl_zero.engine.state import (
    StateError,
    check_float,
    check_int,
    check_list,
    check_rng_state,
    require,
)
from automl_zero.errors import AutoMLZeroError
from automl_zero.executor import needs_compile
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.json_format import algorithm_from_dict, algorithm_to_dict
from automl_zero.run import build
from automl_zero.run.rundir import CHECKPOINT, EVENTS, PROGRESS, RESULT, RunDir
from automl_zero.tasks import TaskSpec, randomize_task_seeds

__all__ = ["SearchDriver", "SearchResult", "ProgressRecord", "search", "resume",
           "CHECKPOINT_FORMAT_VERSION"]

CHECKPOINT_FORMAT = "automl_zero.checkpoint"
CHECKPOINT_FORMAT_VERSION = 2


@dataclass
class ProgressRecord:
    """One line of ``progress.jsonl``."""

    experiment: int
    individuals: int  # in this experiment, initial population included
    total_individuals: int
    train_steps: int  # in this experiment (fingerprint runs included)
    elapsed_s: float
    mean: float | None  # None: no population (random search)
    stdev: float | None
    best: float
    fec_hit_rate: float | None  # None: FEC off
    individuals_per_s: float  # since the previous record, compile time excluded
    budget_used: float  # fraction of the experiment's tightest budget ...
    budget: str  # ... and which one: max_train_steps, max_individuals, time_limit


@dataclass
class SearchResult:
    """What a finished (or stopped) run found."""

    best_algorithm: Algorithm | None
    search_fitness: float
    select_fitness: float
    final_fitness: float | None
    experiments: int
    total_individuals: int
    total_train_steps: int
    elapsed_s: float
    seed: int
    stopped_by: str
    time_to_select_s: float | None = None  # wall time when T_select first passed

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["best_algorithm"] = (None if self.best_algorithm is None
                                 else algorithm_to_dict(self.best_algorithm))
        out["version"] = __version__
        return out


@dataclass
class _Experiment:
    """The experiment in progress: its tasks and its island."""

    index: int
    search_specs: list[TaskSpec]
    select_specs: list[TaskSpec]
    island: Island
    best: float = -math.inf  # best search fitness seen (for best_changed events)


class SearchDriver:
    """A whole run: experiments until a stopping criterion, then the final
    evaluation. ``run()`` may be interrupted (``request_stop``, Ctrl-C): it
    checkpoints and returns the best so far; ``SearchDriver.resume`` continues.

    ``run_dir`` None runs without files (no checkpoints). ``progress`` receives
    each ``ProgressRecord`` and ``on_event`` each event dict as written to
    ``events.jsonl``.
    """

    def __init__(self, cfg: Config, run_dir: RunDir | None, seed: int | None = None,
                 progress: Callable[[ProgressRecord], None] | None = None,
                 on_event: Callable[[dict], None] | None = None,
                 checkpoint_every_s: float = 30.0) -> None:
        self.cfg = cfg
        self.run_dir = run_dir
        if seed is None:
            seed = cfg.random_seed
        if seed == 0:  # the original's time-based seed
            seed = int(time.time_ns() % (2**31 - 1)) or 1
        self.seed = int(seed)
        self.progress = progress
        self.on_event = on_event
        self.checkpoint_every_s = checkpoint_every_s
        self.rng = np.random.default_rng([self.seed, 1])  # the driver's decisions
        self.best_select = -math.inf
        self.best_algorithm: Algorithm | None = None
        self.best_search_fitness = 0.0
        self.experiments_done = 0
        self.total_individuals = 0
        self.total_train_steps_before = 0  # of finished experiments
        self.elapsed_before = 0.0  # seconds spent before this process (resume)
        self.time_to_select: float | None = None
        self.progress_lines = 0
        self.event_lines = 0
        self.exp: _Experiment | None = None
        self.stopped_by = "running"
        self.stop_requested = False  # set by signal handlers; checked between batches
        self._t0 = time.perf_counter()
        self._last_checkpoint = self._t0
        self._last_report = 0  # experiment individuals at the last progress record
        self._rate_mark: tuple[float, int] | None = None  # None: not measuring yet

    # ------------------------------------------------------------- utilities
    def elapsed(self) -> float:
        return self.elapsed_before + (time.perf_counter() - self._t0)

    @property
    def total_train_steps(self) -> int:
        running = self.exp.island.train_steps if self.exp is not None else 0
        return self.total_train_steps_before + running

    def request_stop(self) -> None:
        """Stop after the current batch, as Ctrl-C does (safe from a signal
        handler)."""
        self.stop_requested = True

    def _emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "elapsed_s": round(self.elapsed(), 3), **fields}
        if self.run_dir is not None:
            self.run_dir.append_line(EVENTS, record)
        self.event_lines += 1
        if self.on_event is not None:
            self.on_event(record)

    # ----------------------------------------------------------- experiments
    def _start_experiment(self) -> None:
        cfg = self.cfg
        search_specs = list(cfg.search_tasks)
        select_specs = list(cfg.select_tasks)
        if cfg.randomize_task_seeds:
            search_specs = randomize_task_seeds(search_specs, _seed(self.rng))
            select_specs = randomize_task_seeds(select_specs, _seed(self.rng))
        index = self.experiments_done
        seed = np.random.SeedSequence([self.seed, 2, index])
        island = build.island(cfg, search_specs, seed.spawn(1)[0])
        self.exp = _Experiment(index, search_specs, select_specs, island)
        self._last_report = 0
        self._emit("experiment_start", experiment=index,
                   search_tasks=island.evaluator.batch.num_tasks)
        if needs_compile(island.evaluator.batch):
            self._emit("compiling", features_size=island.evaluator.batch.features_size)
        island.initialize()
        self.total_individuals += island.individuals
        # Individuals/s are measured from here: compilation and the initial
        # population's set-up are not part of the rate.
        self._rate_mark = (self.elapsed(), self.total_individuals)
        self._note_best()
        self._report()

    def _note_best(self) -> None:
        island = self.exp.island
        best = island.best_fitness()
        if best > self.exp.best:
            self.exp.best = best
            self._emit("best_changed", experiment=self.exp.index,
                       individuals=island.individuals,
                       total_individuals=self.total_individuals, fitness=best)

    def _step(self) -> None:
        """One batch of individuals."""
        cfg = self.cfg
        island = self.exp.island
        n = cfg.batch_size
        if cfg.max_individuals:
            n = min(n, cfg.max_individuals - island.individuals)
        island.step(n)
        self.total_individuals += n
        self._note_best()
        self._report()

    def _budget(self) -> tuple[str, float]:
        """The tightest budget of the experiment and the fraction used."""
        cfg = self.cfg
        island = self.exp.island
        used = [("max_train_steps", island.train_steps / cfg.max_train_steps
                 if cfg.max_train_steps else 0.0)]
        if cfg.max_individuals:
            used.append(("max_individuals", island.individuals / cfg.max_individuals))
        if cfg.time_limit_seconds:
            used.append(("time_limit", self.elapsed() / cfg.time_limit_seconds))
        name, fraction = max(used, key=lambda u: u[1])
        return name, float(min(1.0, fraction))

    def _report(self, force: bool = False) -> None:
        exp = self.exp
        island = exp.island
        since = island.individuals - self._last_report
        if since < self.cfg.progress_every and not (force and since > 0):
            return
        self._last_report = island.individuals
        mean, stdev, best = island.stats()
        if math.isnan(mean):  # random search: no population
            mean = stdev = None
        now = self.elapsed()
        rate = 0.0
        if self._rate_mark is not None:
            t_mark, n_mark = self._rate_mark
            if now > t_mark:
                rate = (self.total_individuals - n_mark) / (now - t_mark)
        self._rate_mark = (now, self.total_individuals)
        fec = island.evaluator.fec
        budget, used = self._budget()
        record = ProgressRecord(
            exp.index, island.individuals, self.total_individuals, island.train_steps,
            round(now, 3), mean, stdev, best,
            None if fec is None else fec.hit_rate(), round(rate, 1), used, budget)
        if self.run_dir is not None:
            self.run_dir.append_line(PROGRESS, dataclasses.asdict(record))
        self.progress_lines += 1
        if self.progress is not None:
            self.progress(record)

    def _experiment_done(self) -> str | None:
        cfg = self.cfg
        island = self.exp.island
        if island.train_steps >= cfg.max_train_steps:
            return "max_train_steps"
        if cfg.max_individuals and island.individuals >= cfg.max_individuals:
            return "max_individuals"
        return None

    def _time_up(self) -> bool:
        return bool(self.cfg.time_limit_seconds
                    and self.elapsed() >= self.cfg.time_limit_seconds)

    def _finish_experiment(self, reason: str) -> bool:
        """Select the experiment's candidate on T_select; True when the run
        should stop."""
        exp = self.exp
        cfg = self.cfg
        self._report(force=True)
        best = exp.island.best()
        self.total_train_steps_before += exp.island.train_steps
        self.experiments_done += 1
        self.exp = None
        if best is None:  # stopped before evaluating anything
            self._emit("experiment_end", experiment=exp.index, reason=reason,
                       search_fitness=None, select_fitness=None, passed=False,
                       why="stopped before any individual was evaluated")
            return True
        search_fitness, candidate = best
        select_seed = _seed(self.rng)
        per_task = None
        if exp.select_specs:
            evaluation = build.plain_evaluator(cfg, exp.select_specs,
                                               select_seed).evaluate_many([candidate])
            select, per_task = float(evaluation.fitness[0]), evaluation.per_task[0]
        else:
            select = search_fitness
        if select >= self.best_select:  # ties favour the later experiment
            self.best_select = select
            self.best_algorithm = candidate
            self.best_search_fitness = search_fitness
        passed = cfg.sufficient_fitness is not None and select > cfg.sufficient_fitness
        self._emit("experiment_end", experiment=exp.index, reason=reason,
                   search_fitness=search_fitness, select_fitness=select, passed=passed,
                   why=_why(cfg, select, passed, per_task),
                   individuals=exp.island.individuals,
                   train_steps=exp.island.train_steps)
        stop = (cfg.sufficient_fitness is not None
                and self.best_select > cfg.sufficient_fitness)
        if stop and self.time_to_select is None:
            self.time_to_select = self.elapsed()
        if stop:
            self.stopped_by = "sufficient_fitness"
            return True
        if cfg.max_experiments and self.experiments_done >= cfg.max_experiments:
            self.stopped_by = "max_experiments"
            return True
        return False

    # ------------------------------------------------------------------- run
    def run(self) -> SearchResult:
        """Run (or continue) until a stopping criterion, then the final
        evaluation. A stop request (Ctrl-C) checkpoints and returns the best so
        far with ``stopped_by == "interrupted"``."""
        if self.run_dir is not None:
            self.run_dir.write_json("config.json", self.cfg.to_dict())
        self.stopped_by = "running"
        try:
            return self._run()
        except SystemError as err:
            # A KeyboardInterrupt raised while numba dispatches arrives wrapped.
            if not isinstance(err.__cause__, KeyboardInterrupt):
                raise
        except KeyboardInterrupt:
            pass
        self.stopped_by = "interrupted"
        self._checkpoint()
        result = self._result(final=None)
        self._write_best(result.best_algorithm)
        return result

    def _check_stop(self) -> None:
        if self.stop_requested:
            raise KeyboardInterrupt

    def _run(self) -> SearchResult:
        while True:
            if self.exp is None:
                if self._time_up():
                    self.stopped_by = "time_limit"
                    break
                self._start_experiment()
                self._check_stop()
                self._maybe_checkpoint()
            while self._experiment_done() is None and not self._time_up():
                self._step()
                self._check_stop()
                self._maybe_checkpoint()
            reason = self._experiment_done()
            if reason is None:  # time is up mid-experiment
                if self.best_algorithm is None:
                    self._finish_experiment("time_limit")
                self.stopped_by = "time_limit"
                break
            if self._finish_experiment(reason):
                break
            self._checkpoint()
            self._check_stop()
        final = self._final_evaluation()
        result = self._result(final)
        self._emit("run_end", stopped_by=result.stopped_by,
                   search_fitness=result.search_fitness,
                   select_fitness=result.select_fitness, final_fitness=final)
        self._checkpoint(done=True)
        if self.run_dir is not None:
            self.run_dir.write_json(RESULT, result.to_dict())
        self._write_best(self.best_algorithm)
        return result

    def _write_best(self, best: Algorithm | None) -> None:
        if self.run_dir is None or best is None:
            return
        self.run_dir.write_text("best_algorithm.txt", best.to_text())
        self.run_dir.write_text("best_algorithm_effective.txt",
                                effective_algorithm(best).to_text())
        self.run_dir.write_json("best_algorithm.json", algorithm_to_dict(best), indent=1)

    def _final_evaluation(self) -> float | None:
        if self.best_algorithm is None or not self.cfg.final_tasks:
            return None
        evaluator = build.plain_evaluator(self.cfg, self.cfg.final_tasks,
                                          _seed(self.rng))
        return evaluator.evaluate(self.best_algorithm)

    def _result(self, final: float | None) -> SearchResult:
        best = self.best_algorithm
        select = float(self.best_select) if math.isfinite(self.best_select) else 0.0
        search_fitness = self.best_search_fitness
        if best is None and self.exp is not None:
            found = self.exp.island.best()
            if found is not None:
                search_fitness, best = found
        return SearchResult(best, float(search_fitness), select, final,
                            self.experiments_done, self.total_individuals,
                            self.total_train_steps, self.elapsed(), self.seed,
                            self.stopped_by, self.time_to_select)

    # ----------------------------------------------------------- checkpoints
    def _maybe_checkpoint(self) -> None:
        if time.perf_counter() - self._last_checkpoint >= self.checkpoint_every_s:
            self._checkpoint()

    def _checkpoint(self, done: bool = False) -> None:
        """Write the whole state atomically (JSON; nothing executable)."""
        self._last_checkpoint = time.perf_counter()
        if self.run_dir is None:
            return
        exp = self.exp
        state: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_FORMAT_VERSION,
            "version": __version__, "done": done,
            "config": self.cfg.to_dict(), "config_source": self.cfg.source,
            "seed": self.seed,
            "rng": self.rng.bit_generator.state,
            "best_select": (self.best_select if math.isfinite(self.best_select)
                            else None),
            "best_algorithm": (None if self.best_algorithm is None
                               else algorithm_to_dict(self.best_algorithm)),
            "best_search_fitness": self.best_search_fitness,
            "experiments_done": self.experiments_done,
            "total_individuals": self.total_individuals,
            "total_train_steps": self.total_train_steps_before,
            "elapsed_s": self.elapsed(),
            "time_to_select_s": self.time_to_select,
            "progress_lines": self.progress_lines,
            "event_lines": self.event_lines,
            "last_report": self._last_report,
            "experiment": None if exp is None else {
                "index": exp.index,
                "search_specs": [s.to_dict() for s in exp.search_specs],
                "select_specs": [s.to_dict() for s in exp.select_specs],
                "best": exp.best if math.isfinite(exp.best) else None,
                "island": exp.island.to_state(),
            },
        }
        self.run_dir.write_json(CHECKPOINT, state, indent=None)

    @classmethod
    def resume(cls, run_dir: RunDir,
               progress: Callable[[ProgressRecord], None] | None = None,
               on_event: Callable[[dict], None] | None = None,
               checkpoint_every_s: float = 30.0) -> SearchDriver:
        """Rebuild a run from its checkpoint; every value is validated and a bad
        one is refused with the file and key named."""
        path = run_dir.path / CHECKPOINT
        state = run_dir.read_json(CHECKPOINT)
        try:
            driver = cls._from_state(state, run_dir, progress, on_event,
                                     checkpoint_every_s)
        except StateError as err:
            raise StateError(f"{path}: {err}") from None
        except AutoMLZeroError as err:  # e.g. a bad config inside the checkpoint
            raise StateError(f"{path}: {err}") from None
        driver.progress_lines = run_dir.cut_lines(PROGRESS, driver.progress_lines)
        driver.event_lines = run_dir.cut_lines(EVENTS, driver.event_lines)
        return driver

    @classmethod
    def _from_state(cls, state: Any, run_dir: RunDir,
                    progress: Callable[[ProgressRecord], None] | None,
                    on_event: Callable[[dict], None] | None,
                    checkpoint_every_s: float) -> SearchDriver:
        require(state, dict, "checkpoint")
        if state.get("format") != CHECKPOINT_FORMAT:
            raise StateError("format: not an automl_zero checkpoint")
        version = state.get("format_version")
        if version != CHECKPOINT_FORMAT_VERSION:
            raise StateError(f"format_version: {version!r} is not supported (this "
                             f"version reads {CHECKPOINT_FORMAT_VERSION})")
        if state.get("done") is True:
            raise StateError(f"this run has finished (see {run_dir.path / RESULT}); "
                             f"start a new one with `automl-zero search`")
        cfg = config_from_dict(require(state.get("config"), dict, "config"),
                               str(state.get("config_source", "checkpoint")),
                               ignore_removed=True)
        seed = check_int(state.get("seed"), "seed", 1, 2**63 - 1)
        driver = cls(cfg, run_dir, seed, progress, on_event, checkpoint_every_s)
        driver.rng.bit_generator.state = check_rng_state(
            require(state.get("rng"), dict, "rng"), type(driver.rng.bit_generator), "rng")
        best_select = state.get("best_select")
        driver.best_select = (-math.inf if best_select is None
                              else check_float(best_select, "best_select", 0.0, 1.0))
        best = state.get("best_algorithm")
        if best is not None:
            try:
                driver.best_algorithm = algorithm_from_dict(
                    require(best, dict, "best_algorithm"))
            except AutoMLZeroError as err:
                raise StateError(f"best_algorithm: {err}") from None
        driver.best_search_fitness = check_float(state.get("best_search_fitness"),
                                                 "best_search_fitness", 0.0, 1.0)
        driver.experiments_done = check_int(state.get("experiments_done"),
                                            "experiments_done")
        driver.total_individuals = check_int(state.get("total_individuals"),
                                             "total_individuals")
        driver.total_train_steps_before = check_int(state.get("total_train_steps"),
                                                    "total_train_steps")
        driver.elapsed_before = check_float(state.get("elapsed_s"), "elapsed_s", 0.0)
        tts = state.get("time_to_select_s")
        driver.time_to_select = None if tts is None else check_float(
            tts, "time_to_select_s", 0.0)
        driver.progress_lines = check_int(state.get("progress_lines"), "progress_lines")
        driver.event_lines = check_int(state.get("event_lines"), "event_lines")
        driver._last_report = check_int(state.get("last_report"), "last_report")
        e = state.get("experiment")
        if e is not None:
            require(e, dict, "experiment")
            specs = [[TaskSpec.from_dict(require(s, dict, f"experiment.{key}[{i}]"),
                                         f"experiment.{key}[{i}]")
                      for i, s in enumerate(check_list(e.get(key), f"experiment.{key}",
                                                       max_length=10_000))]
                     for key in ("search_specs", "select_specs")]
            index = check_int(e.get("index"), "experiment.index")
            evaluator = build.search_evaluator(cfg, specs[0], 0)
            island = Island.from_state(build.evolution_settings(cfg), evaluator,
                                       e.get("island"), "experiment.island")
            exp = _Experiment(index, specs[0], specs[1], island)
            best_seen = e.get("best")
            exp.best = (-math.inf if best_seen is None
                        else check_float(best_seen, "experiment.best", 0.0, 1.0))
            driver.exp = exp
            driver._rate_mark = (driver.elapsed_before, driver.total_individuals)
        return driver


def _why(cfg: Config, select: float, passed: bool, per_task: np.ndarray | None) -> str:
    """Why an experiment's candidate passed T_select or not, in words."""
    if cfg.sufficient_fitness is None:
        return "no sufficient_fitness set: every experiment runs"
    if passed:
        return f"passed (above sufficient_fitness {cfg.sufficient_fitness:g})"
    why = f"not above sufficient_fitness {cfg.sufficient_fitness:g}"
    if per_task is not None:
        zero = int(np.sum(per_task == 0.0))
        if zero:
            why += (f"; {zero} of {len(per_task)} select tasks scored 0 (training "
                    f"stopped: NaN or |error| > max_abs_error {cfg.max_abs_error:g})")
    return why


def _seed(rng: np.random.Generator) -> int:
    """A fresh 32-bit seed (the original's UniformRandomSeed)."""
    return int(rng.integers(1, 2**32 - 1))


# ------------------------------------------------------------- Python entry
def search(config: Config | str | Path, *, seed: int | None = None,
           out: str | Path | None = None,
           progress: Callable[[ProgressRecord], None] | None = None,
           overrides: Sequence[str] = ()) -> SearchResult:
    """Run a whole search (experiments on T_search, selection on T_select, the
    final evaluation on T_final) and return its result.

    ``config`` is a :class:`Config` or the path of a TOML config (``overrides``
    are ``key=value`` strings, as the CLI's ``--set``). ``seed`` overrides the
    config's ``random_seed``. ``out`` is the run directory (checkpoints, logs,
    result files; it must not hold another run); ``None`` runs without files.
    """
    from automl_zero.config import load_config

    cfg = config if isinstance(config, Config) else load_config(config, overrides)
    if out is None:
        return SearchDriver(cfg, None, seed, progress).run()
    with RunDir.create(Path(out)) as run_dir:
        return SearchDriver(cfg, run_dir, seed, progress).run()


def resume(out: str | Path, *,
           progress: Callable[[ProgressRecord], None] | None = None) -> SearchResult:
    """Continue the stopped or killed run in directory ``out`` to its end."""
    with RunDir.open(Path(out)) as run_dir:
        return SearchDriver.resume(run_dir, progress).run()

