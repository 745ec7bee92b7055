"""The search driver (docs/semantics.md §9, §11): experiments of ``islands``
islands on T_search (each island's group of tasks), with migration between
them, the best candidate of each island checked on T_select, the best one
reported on T_final; budgets, progress, events, checkpoints and resume.

Islands live on workers (``automl_zero.run.workers``: in this process, local
processes or Ray actors) and advance in synchronous rounds; the driver decides
everything between islands (task seeds, migrations, selection). A run is
deterministic for a config and seed, whatever the backend and worker count:
the driver's own decisions come from its streams, each experiment's islands
from ``SeedSequence([seed, 2, experiment]).spawn(islands)``, an island stops at
its budget after the same batch wherever it runs, and checkpoints hold the
whole state between rounds, so a resumed run continues exactly as an
uninterrupted one would (a wall-clock limit is the only non-deterministic
stop). A worker that dies is replaced and the run goes back to its last
checkpoint, which gives the same result as if nothing had happened.
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
from automl_zero.engine.migration import migrants_per_island, migrate
from automl_zero.engine.state import (
    StateError,
    check_float,
    check_int,
    check_list,
    check_rng_state,
    require,
)
from automl_zero.errors import AutoMLZeroError
from automl_zero.executor import MemorySpec, TaskBatch, execute, needs_compile
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.effective import effective_algorithm
from automl_zero.language.json_format import algorithm_from_dict, algorithm_to_dict
from automl_zero.run import build
from automl_zero.run.rundir import CHECKPOINT, EVENTS, PROGRESS, RESULT, RunDir
from automl_zero.run.workers import (
    Backend,
    InProcessBackend,
    IslandPlan,
    IslandReport,
    WorkerLostError,
    make_backend,
)
from automl_zero.tasks import TaskSpec, make_tasks, randomize_task_seeds

__all__ = ["SearchDriver", "SearchResult", "ProgressRecord", "search", "resume",
           "CHECKPOINT_FORMAT_VERSION"]

CHECKPOINT_FORMAT = "automl_zero.checkpoint"
CHECKPOINT_FORMAT_VERSION = 3
# A round (islands stepped between two exchanges with the driver) lasts about
# this long: long enough that talking to workers costs little, short enough
# for progress reports and Ctrl-C.
ROUND_SECONDS = 0.25
MAX_ROUND_BATCHES = 10_000


@dataclass
class ProgressRecord:
    """One line of ``progress.jsonl``."""

    experiment: int
    individuals: int  # in this experiment (all islands), initial populations included
    total_individuals: int
    train_steps: int  # in this experiment, all islands (fingerprint runs included)
    elapsed_s: float
    mean: float | None  # None: no population (random search); mean over islands
    stdev: float | None  # mean over islands
    best: float  # the best island's
    fec_hit_rate: float | None  # None: FEC off
    individuals_per_s: float  # since the previous record, compile time excluded
    budget_used: float  # fraction of the experiment's tightest budget ...
    budget: str  # ... and which one: max_train_steps, max_individuals, time_limit
    islands: int = 1
    migrations: int = 0  # in this experiment
    hurdle_savings: float | None = None  # train steps hurdles avoided, as a
    # fraction of those run plus avoided (None: hurdles off)


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
    islands: int = 1
    workers: int = 1
    backend: str = "in-process"

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["best_algorithm"] = (None if self.best_algorithm is None
                                 else algorithm_to_dict(self.best_algorithm))
        out["version"] = __version__
        return out


@dataclass
class _Experiment:
    """The experiment in progress: its tasks and the latest report of each
    island (the islands themselves live on the workers)."""

    index: int
    group_specs: list[list[TaskSpec]]  # each island group's search tasks
    select_specs: list[TaskSpec]
    reports: list[IslandReport]
    migration_rng: np.random.Generator
    # Children each island was asked for since its initial population.
    stepped: list[int] = dataclasses.field(default_factory=list)
    next_record: int = 0  # the stepped point of the next progress record
    base_total: int = 0  # the run's individuals before this experiment
    # Reports of islands at progress points not all islands have reached.
    records: dict[int, dict[int, IslandReport]] = dataclasses.field(default_factory=dict)
    migrations: int = 0
    best: float = -math.inf  # best search fitness seen (for best_changed events)
    states: list[dict] | None = None  # islands to restore on the workers (resume)
    migration_seconds: float = 0.0  # wall time spent migrating (this process)
    last_select: int = 0  # individuals at the last T_select check (select_every)
    checked_best: float = -math.inf  # best search fitness at that check
    passed: bool = False  # a check passed sufficient_fitness: the experiment ends
    # At a passing check: the candidates and the islands' reports at that
    # point (the experiment ends there, whatever the workers did since).
    final: list[tuple[int, float, Algorithm]] | None = None
    final_reports: list[IslandReport] | None = None

    @property
    def individuals(self) -> int:
        return sum(r.individuals for r in self.reports)

    def at(self, i: int) -> float:
        """Island i's children asked for; a finished island counts as beyond
        every point."""
        return math.inf if self.reports[i].done else self.stepped[i]

    @property
    def train_steps(self) -> int:
        return sum(r.train_steps for r in self.reports)

    def done(self) -> bool:
        return all(r.done for r in self.reports)


class SearchDriver:
    """A whole run: experiments until a stopping criterion, then the final
    evaluation. ``run()`` may be interrupted (``request_stop``, Ctrl-C): it
    checkpoints and returns the best so far; ``SearchDriver.resume`` continues.

    ``run_dir`` None runs without files (no checkpoints). ``progress`` receives
    each ``ProgressRecord`` and ``on_event`` each event dict as written to
    ``events.jsonl``. ``backend`` runs the islands (default: this process, or
    ``workers`` local processes when the config has several islands); a backend
    passed in stays open after ``run()``, one made here is closed.
    """

    def __init__(self, cfg: Config, run_dir: RunDir | None, seed: int | None = None,
                 progress: Callable[[ProgressRecord], None] | None = None,
                 on_event: Callable[[dict], None] | None = None,
                 checkpoint_every_s: float = 30.0, *,
                 backend: Backend | None = None, workers: int | None = 1) -> None:
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
        self._own_backend = backend is None
        self._backend = backend
        self._workers = workers
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
        self.stop_requested = False  # set by signal handlers; checked between rounds
        self.worker_restarts = 0
        self._snapshot: dict | None = None  # the last checkpoint's state
        self._t0 = time.perf_counter()
        self._last_checkpoint = self._t0
        self._last_report = 0  # experiment individuals at the last progress record
        self._rate_mark: tuple[float, int] | None = None  # None: not measuring yet
        self._last_rate = 0.0
        self._lengths: dict[int, int] = {}  # worker -> batches in its next round
        self._targets: dict[int, tuple[int, float]] = {}  # running rounds' ends
        self._align_to: int | None = None  # a point every island must reach
        # Rounds' wall time, and the time workers spent on islands in them:
        # busy / (workers x round) is how well the workers were used.
        self.round_seconds = 0.0
        self.busy_seconds = 0.0
        # Wall time of the experiments' search loops (initial populations and
        # selection excluded) and the individuals they evaluated (benchmarks).
        self.search_seconds = 0.0
        self.searched_individuals = 0
        self._tasks: list | None = None  # the experiment's search tasks per group

    # ------------------------------------------------------------- utilities
    @property
    def backend(self) -> Backend:
        """The backend running the islands (made on first use)."""
        if self._backend is None:
            self._backend = make_backend("local", self._workers, self.cfg.islands)
        return self._backend

    def elapsed(self) -> float:
        return self.elapsed_before + (time.perf_counter() - self._t0)

    @property
    def total_train_steps(self) -> int:
        running = self.exp.train_steps if self.exp is not None else 0
        return self.total_train_steps_before + running

    def request_stop(self) -> None:
        """Stop after the current round, as Ctrl-C does (safe from a signal
        handler)."""
        self.stop_requested = True

    def _emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "elapsed_s": round(self.elapsed(), 3), **fields}
        if self.run_dir is not None:
            self.run_dir.append_line(EVENTS, record)
        self.event_lines += 1
        if self.on_event is not None:
            self.on_event(record)

    # ------------------------------------------------------------ the islands
    def _workers_of(self) -> dict[int, list[int]]:
        """The islands each worker holds (island i on worker i mod workers)."""
        n = self.backend.num_workers
        out: dict[int, list[int]] = {}
        for i in range(self.cfg.islands):
            out.setdefault(i % n, []).append(i)
        return out

    def _call(self, command: str, **kwargs: Any) -> dict[int, Any]:
        """``command`` on every worker holding islands (after the running rounds)."""
        if self.exp is not None:
            self._settle()
        return self.backend.run({w: (command, kwargs) for w in self._workers_of()})

    def _collect(self, results: dict[int, list[IslandReport]]) -> None:
        reports = sorted((r for rs in results.values() for r in rs),
                         key=lambda r: r.island)
        self.exp.reports = reports

    def _create_islands(self, plans: list[IslandPlan]) -> None:
        """Build the experiment's islands on the workers (fresh or restored)."""
        by_worker = self._workers_of()
        calls = {w: ("create", {"cfg": self.cfg, "tasks": self._tasks,
                                "plans": [plans[i] for i in islands]})
                 for w, islands in by_worker.items()}
        self.backend.run(calls)

    def _compile_here(self) -> None:
        """Compile the executor for this feature size in the driver, so that
        worker processes load it from numba's disk cache instead of each
        compiling it."""
        tasks = self._tasks[0][:1]
        batch = TaskBatch.from_tasks(tasks)
        if not needs_compile(batch):
            return
        self._emit("compiling", features_size=batch.features_size)
        execute([Algorithm((), (), ())], batch, MemorySpec(2, 3, 0), [0])

    def _make_tasks(self, group_specs: list[list[TaskSpec]]) -> None:
        self._tasks = [make_tasks(specs) for specs in group_specs]

    # ----------------------------------------------------------- experiments
    def _start_experiment(self) -> None:
        cfg = self.cfg
        group_specs = [list(g) for g in cfg.search_groups()]
        select_specs = list(cfg.select_tasks)
        if cfg.randomize_task_seeds:
            group_specs = [randomize_task_seeds(g, _seed(self.rng)) for g in group_specs]
            select_specs = randomize_task_seeds(select_specs, _seed(self.rng))
        index = self.experiments_done
        seeds = np.random.SeedSequence([self.seed, 2, index]).spawn(cfg.islands)
        groups = cfg.island_group_of()
        self._make_tasks(group_specs)
        self.exp = _Experiment(index, group_specs, select_specs, [],
                               np.random.default_rng([self.seed, 3, index]))
        self._last_report = 0
        self._emit("experiment_start", experiment=index,
                   search_tasks=sum(len(t) for t in self._tasks), islands=cfg.islands,
                   workers=self.backend.num_workers)
        if isinstance(self.backend, InProcessBackend):
            batch = TaskBatch.from_tasks(self._tasks[0])
            if needs_compile(batch):
                self._emit("compiling", features_size=batch.features_size)
        else:
            self._compile_here()
        self._create_islands([IslandPlan(i, groups[i], seed=seeds[i])
                              for i in range(cfg.islands)])
        self._collect(self._call("initialize"))
        exp = self.exp
        exp.stepped = [0] * cfg.islands
        exp.next_record = self._record_every()
        exp.base_total = self.total_individuals
        self.total_individuals += exp.individuals
        # Individuals/s are measured from here: compilation and the initial
        # population's set-up are not part of the rate.
        self._rate_mark = (self.elapsed(), self.total_individuals)
        self._last_rate = 0.0
        self._note_best()
        self._report()

    def _restore_islands(self) -> None:
        """Put a resumed experiment's islands (saved states) on the workers."""
        exp = self.exp
        self._make_tasks(exp.group_specs)
        if not isinstance(self.backend, InProcessBackend):
            self._compile_here()
        groups = self.cfg.island_group_of()
        self._create_islands([IslandPlan(i, groups[i], state=state)
                              for i, state in enumerate(exp.states)])
        exp.states = None
        self._collect(self._call("reports"))
        exp.base_total = self.total_individuals - exp.individuals

    def _note_best(self, reports: list[IslandReport] | None = None) -> None:
        exp = self.exp
        reports = exp.reports if reports is None else reports
        best = max(r.best for r in reports)
        if best > exp.best:
            exp.best = best
            island = max(reports, key=lambda r: r.best).island
            individuals = sum(r.individuals for r in reports)
            self._emit("best_changed", experiment=exp.index, island=island,
                       individuals=individuals,
                       total_individuals=exp.base_total + individuals, fitness=best)

    def _record_every(self) -> int:
        """Children per island between progress records (whole batches)."""
        cfg = self.cfg
        batches = -(-cfg.progress_every // (cfg.islands * cfg.batch_size))
        return max(1, batches) * cfg.batch_size

    def _round_up(self, children: int) -> int:
        return -(-children // self.cfg.batch_size) * self.cfg.batch_size

    def _next_migration(self) -> int | None:
        """Children per island at which the next migration happens."""
        every = self.cfg.migration_every
        if not every or self.cfg.islands < 2 or self.cfg.method != "REGULARIZED_EVOLUTION":
            return None
        return self._round_up((self.exp.migrations + 1) * every)

    def _barrier(self) -> int | None:
        """The next point every island must reach before any goes on."""
        points = [p for p in (self._next_migration(), self._align_to)
                  if p is not None]
        return min(points) if points else None

    def _step(self) -> None:
        """Advance the islands: every idle worker starts a round (up to the next
        barrier), one finished round is taken in, and at a barrier that every
        island has reached, its migration or T_select check runs. Between
        barriers workers run freely; progress records are taken at fixed
        points of every island, so nothing depends on how rounds fall."""
        cfg = self.cfg
        exp = self.exp
        barrier = self._barrier()
        for w, islands in self._workers_of().items():
            if w in self._targets:
                continue
            live = [i for i in islands if not exp.reports[i].done]
            if not live:
                continue
            start = max(exp.stepped[i] for i in live)
            if barrier is not None and start >= barrier:
                continue
            target = start + self._lengths.get(w, 1) * cfg.batch_size
            if barrier is not None:
                target = min(target, barrier)
            # Timed from before the submit: the in-process backend runs the
            # round inside it.
            t0 = time.perf_counter()
            self.backend.submit(w, "step", {
                "target": target, "batch_size": cfg.batch_size,
                "starts": {i: exp.stepped[i] for i in islands},
                "record_every": self._record_every()})
            self._targets[w] = (target, t0)
        if self._targets:
            self._take()
        if self._targets or barrier is None:
            return
        if any(exp.at(i) < barrier for i in range(cfg.islands)):
            return
        # Every island is at the barrier (or finished).
        if barrier == self._next_migration() and not exp.done():
            self._migrate()
        if barrier == self._align_to:
            self._align_to = None

    def _take(self) -> None:
        """Take in the next finished round."""
        exp = self.exp
        w, (reports, records) = self.backend.collect()
        target, t0 = self._targets.pop(w)
        seconds = time.perf_counter() - t0
        self.round_seconds += seconds
        self.busy_seconds += sum(r.seconds for r in reports)
        for r in reports:
            exp.reports[r.island] = r
            exp.stepped[r.island] = target
        for point, reps in records.items():
            exp.records.setdefault(point, {}).update({r.island: r for r in reps})
        self.total_individuals = exp.base_total + exp.individuals
        # The next round's length (changes no result).
        batches = self._lengths.get(w, 1)
        if seconds > 0:
            scale = min(4.0, max(0.25, ROUND_SECONDS / seconds))
            self._lengths[w] = int(min(MAX_ROUND_BATCHES, max(1, batches * scale)))
        self._emit_records()

    def _settle(self) -> None:
        """Take in every running round (start none)."""
        while self._targets:
            self._take()

    def _emit_records(self) -> None:
        """Progress records whose point every island has reported (a finished
        island reports its last state)."""
        exp = self.exp
        while not exp.passed:  # nothing after a passing T_select check
            point = exp.next_record
            if exp.done() and point > max(exp.stepped):
                return
            got = exp.records.get(point, {})
            reps = []
            for i in range(self.cfg.islands):
                r = got.get(i)
                if r is None:
                    if not (exp.reports[i].done and exp.stepped[i] < point):
                        return
                    r = exp.reports[i]
                reps.append(r)
            exp.records.pop(point, None)
            exp.next_record = point + self._record_every()
            if (all(r.done for r in reps)
                    and sum(r.individuals for r in reps) == self._last_report):
                continue  # every island finished at the last record: nothing new
            self._record(reps)

    def _align(self) -> None:
        """Bring every island to the same point (before a checkpoint), with no
        round running."""
        exp = self.exp
        live = [exp.stepped[i] for i in range(self.cfg.islands)
                if not exp.reports[i].done]
        running = [t for t, _ in self._targets.values()]
        if live:
            self._align_to = max(live + running)
            while self._align_to is not None and not exp.done():
                self._step()
        self._settle()
        self._align_to = None

    def _migrate(self) -> None:
        """Random migration between the islands still searching (paper S3)."""
        exp = self.exp
        k = migrants_per_island(self.cfg.population_size, self.cfg.migration_fraction)
        active = [r.island for r in exp.reports if not r.done]
        exp.migrations += 1
        if k == 0 or len(active) < 2:
            return
        t0 = time.perf_counter()
        by_worker = self._workers_of()
        sent = self.backend.run({
            w: ("emigrants", {"counts": {i: k for i in islands if i in active}})
            for w, islands in by_worker.items()})
        emigrants = {i: rows for out in sent.values() for i, rows in out.items()}
        # The pool draws (island, row) pairs; the rows travel as arrays.
        arrivals = migrate([[(i, r) for r in range(len(emigrants[i][2]))]
                            for i in active], exp.migration_rng)
        incoming = {i: tuple(np.stack([emigrants[j][part][r] for j, r in picks])
                             for part in range(3))
                    for i, picks in zip(active, arrivals, strict=True) if picks}
        before = exp.individuals
        self._collect(self.backend.run({
            w: ("immigrate", {"arrivals": {i: incoming[i] for i in islands
                                           if i in incoming}})
            for w, islands in by_worker.items()}))
        # Evaluating the arrivals is work done but they are not new individuals.
        assert exp.individuals == before
        exp.migration_seconds += time.perf_counter() - t0

    def _budget(self, reports: list[IslandReport]) -> tuple[str, float]:
        """The tightest budget of the experiment and the fraction used (per
        island budgets: the mean over islands)."""
        cfg = self.cfg
        used = [("max_train_steps", float(np.mean([r.train_steps for r in reports]))
                 / cfg.max_train_steps if cfg.max_train_steps else 0.0)]
        if cfg.max_individuals:
            used.append(("max_individuals", float(np.mean([r.individuals for r in reports]))
                         / cfg.max_individuals))
        if cfg.time_limit_seconds:
            used.append(("time_limit", self.elapsed() / cfg.time_limit_seconds))
        name, fraction = max(used, key=lambda u: u[1])
        return name, float(min(1.0, fraction))

    def _report(self, force: bool = False) -> None:
        """A progress record of the islands as they are now (at the start and
        the end of an experiment; ``force``: even within ``progress_every``)."""
        exp = self.exp
        since = exp.individuals - self._last_report
        if since < self.cfg.progress_every and not (force and since > 0):
            return
        self._record(exp.reports)

    def _record(self, reports: list[IslandReport]) -> None:
        """Write one progress record of the islands' ``reports``."""
        exp = self.exp
        individuals = sum(r.individuals for r in reports)
        self._last_report = individuals
        self._note_best(reports)
        means = [r.mean for r in reports]
        mean = stdev = None
        if not any(math.isnan(m) for m in means):  # random search: no population
            mean = float(np.mean(means))
            stdev = float(np.mean([r.stdev for r in reports]))
        best = max(r.best for r in reports)
        total = exp.base_total + individuals
        now = self.elapsed()
        # Records arrive in bursts (at the end of workers' rounds): the rate is
        # measured over at least half a second.
        rate = self._last_rate
        if self._rate_mark is None:
            self._rate_mark = (now, total)
        else:
            t_mark, n_mark = self._rate_mark
            if now - t_mark >= 0.5 or rate == 0.0 and now > t_mark:
                rate = self._last_rate = (total - n_mark) / (now - t_mark)
                self._rate_mark = (now, total)
        hits = [r.fec_hit_rate for r in reports]
        fec = None if hits[0] is None else float(np.mean(hits))
        budget, used = self._budget(reports)
        savings = None
        train_steps = sum(r.train_steps for r in reports)
        if getattr(self.cfg, "hurdles", None) is not None:
            saved = sum(r.hurdle_saved for r in reports)
            savings = round(saved / (saved + train_steps), 4) if saved else 0.0
        record = ProgressRecord(
            exp.index, individuals, total, train_steps,
            round(now, 3), mean, stdev, best, fec, round(rate, 1), used, budget,
            len(reports), exp.migrations, savings)
        if self.run_dir is not None:
            self.run_dir.append_line(PROGRESS, dataclasses.asdict(record))
        self.progress_lines += 1
        if self.progress is not None:
            self.progress(record)
        self._select_check(reports, individuals)

    def _select_check(self, reports: list[IslandReport], individuals: int) -> None:
        """``select_every``: at a progress record at least ``select_every``
        individuals after the last check, when the best search fitness rose,
        evaluate the islands' best at that point on T_select; passing ends the
        experiment at that point (docs/semantics.md §11.7). Records are taken
        at fixed points, so no worker waits for this."""
        exp, cfg = self.exp, self.cfg
        if (not cfg.select_every or cfg.sufficient_fitness is None or exp.passed
                or not exp.select_specs
                or individuals - exp.last_select < cfg.select_every
                or any(r.best_algorithm is None for r in reports)):
            return
        best = max(r.best for r in reports)
        if best <= exp.checked_best:
            return
        exp.last_select, exp.checked_best = individuals, best
        candidates = [(r.island, r.best, r.best_algorithm) for r in reports]
        # The check's own seed: how many checks ran changes nothing later on
        # (the driver's stream draws the next experiments' tasks).
        state = np.random.SeedSequence([self.seed, 4, exp.index, individuals])
        check_seed = int(state.generate_state(1)[0]) % (2**32 - 2) + 1
        evaluator = build.plain_evaluator(cfg, exp.select_specs, check_seed)
        scores = evaluator.evaluate_many([c[2] for c in candidates]).fitness
        passed = bool(scores.max() > cfg.sufficient_fitness)
        self._emit("select_check", experiment=exp.index, individuals=individuals,
                   select_fitness=float(scores.max()), passed=passed)
        if passed:
            exp.passed = True
            exp.final, exp.final_reports = candidates, list(reports)

    def _experiment_done(self) -> str | None:
        cfg = self.cfg
        if self.exp.passed:
            return "sufficient_fitness"
        if not self.exp.done():
            return None
        reports = self.exp.reports
        if all(r.train_steps >= cfg.max_train_steps for r in reports):
            return "max_train_steps"
        if cfg.max_individuals and all(r.individuals >= cfg.max_individuals
                                       for r in reports):
            return "max_individuals"
        return "max_train_steps"

    def _time_up(self) -> bool:
        return bool(self.cfg.time_limit_seconds
                    and self.elapsed() >= self.cfg.time_limit_seconds)

    def _islands_best(self) -> list[tuple[int, float, Algorithm]]:
        """(island, search fitness, algorithm) of each island's best."""
        out = []
        for found in self._call("best").values():
            for i, best in found.items():
                if best is not None:
                    out.append((i, best[0], best[1]))
        return sorted(out, key=lambda x: x[0])

    def _finish_experiment(self, reason: str) -> bool:
        """Select the experiment's candidate on T_select (the best of each
        island, the best of them on T_select); True when the run should stop."""
        exp = self.exp
        cfg = self.cfg
        if exp.final is not None:  # ended at a passing check: as at that point
            self._settle()
            exp.reports = exp.final_reports
            self.total_individuals = exp.base_total + exp.individuals
            candidates = exp.final
        else:
            self._report(force=True)
            candidates = self._islands_best()
        self.total_train_steps_before += exp.train_steps
        self.experiments_done += 1
        self.exp = None
        if not candidates:  # stopped before evaluating anything
            self._emit("experiment_end", experiment=exp.index, reason=reason,
                       search_fitness=None, select_fitness=None, passed=False,
                       why="stopped before any individual was evaluated")
            return True
        select_seed = _seed(self.rng)
        if exp.select_specs:
            evaluation = build.plain_evaluator(cfg, exp.select_specs, select_seed
                                               ).evaluate_many([c[2] for c in candidates])
            scores = evaluation.fitness
            k = int(np.argmax(scores))  # ties: the lowest island
            select, per_task = float(scores[k]), evaluation.per_task[k]
        else:
            k = int(np.argmax([c[1] for c in candidates]))
            select, per_task = candidates[k][1], None
        island, search_fitness, candidate = candidates[k]
        if select >= self.best_select:  # ties favour the later experiment
            self.best_select = select
            self.best_algorithm = candidate
            self.best_search_fitness = search_fitness
        passed = cfg.sufficient_fitness is not None and select > cfg.sufficient_fitness
        self._emit("experiment_end", experiment=exp.index, reason=reason,
                   search_fitness=search_fitness, select_fitness=select, passed=passed,
                   why=_why(cfg, select, passed, per_task), island=island,
                   individuals=exp.individuals, train_steps=exp.train_steps,
                   migrations=exp.migrations,
                   migration_s=round(exp.migration_seconds, 3))
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
            try:
                return self._run_recovering()
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
        finally:
            if self._own_backend and self._backend is not None:
                self._backend.close()
                self._backend = None

    def _run_recovering(self) -> SearchResult:
        """``_run``; a worker that dies is replaced and the run goes on from
        the last checkpoint (the same result as without the failure)."""
        if self._snapshot is None:
            self._checkpoint()
        while True:
            try:
                return self._run()
            except WorkerLostError as err:
                self._recover(err)

    def _recover(self, err: WorkerLostError) -> None:
        elapsed = self.elapsed()
        self.backend.restart()
        fresh = SearchDriver._from_state(self._snapshot, self.run_dir, self.progress,
                                         self.on_event, self.checkpoint_every_s,
                                         backend=self.backend)
        if self.run_dir is not None:
            fresh.progress_lines = self.run_dir.cut_lines(PROGRESS, fresh.progress_lines)
            fresh.event_lines = self.run_dir.cut_lines(EVENTS, fresh.event_lines)
        restarts = self.worker_restarts + 1
        snapshot = self._snapshot
        own = self._own_backend
        self.__dict__.update(fresh.__dict__)
        self._own_backend = own
        self._snapshot = snapshot
        self.worker_restarts = restarts
        self.elapsed_before = elapsed  # wall time goes on
        self._t0 = time.perf_counter()
        self._emit("worker_restarted", workers=list(err.workers),
                   restarts=restarts, why=str(err),
                   resumed_from_elapsed_s=round(float(snapshot["elapsed_s"]), 3))

    def _check_stop(self) -> None:
        if self.stop_requested:
            raise KeyboardInterrupt

    def _run(self) -> SearchResult:
        if self.exp is not None and self.exp.states is not None:
            self._restore_islands()
        while True:
            if self.exp is None:
                if self._time_up():
                    self.stopped_by = "time_limit"
                    break
                self._start_experiment()
                self._check_stop()
                self._maybe_checkpoint()
            t0, n0 = time.perf_counter(), self.total_individuals
            while self._experiment_done() is None and not self._time_up():
                self._step()
                self._check_stop()
                self._maybe_checkpoint()
            self._settle()
            self.search_seconds += time.perf_counter() - t0
            self.searched_individuals += self.total_individuals - n0
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
                                effective_algorithm(best, self.cfg.multiclass).to_text())
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
        if best is None and self.exp is not None and self.exp.states is None:
            try:
                found = self._islands_best()
            except WorkerLostError:
                found = []
            if found:
                _, search_fitness, best = max(found, key=lambda c: c[1])
        backend = self._backend
        return SearchResult(best, float(search_fitness), select, final,
                            self.experiments_done, self.total_individuals,
                            self.total_train_steps, self.elapsed(), self.seed,
                            self.stopped_by, self.time_to_select, self.cfg.islands,
                            1 if backend is None else backend.num_workers,
                            "in-process" if backend is None else backend.name)

    # ----------------------------------------------------------- checkpoints
    def _maybe_checkpoint(self) -> None:
        if self.exp is not None and self.exp.passed:
            return  # the experiment ends now
        if time.perf_counter() - self._last_checkpoint >= self.checkpoint_every_s:
            self._checkpoint()

    def _checkpoint(self, done: bool = False) -> None:
        """Take the whole state (the snapshot a lost worker is recovered
        from) and write it atomically (JSON; nothing executable)."""
        self._last_checkpoint = time.perf_counter()
        if self.run_dir is None and isinstance(self._backend, InProcessBackend):
            return  # nothing to write, and no worker can die alone
        exp = self.exp
        islands = None
        if exp is not None and exp.states is None and exp.reports:
            self._align()  # every island at one point, no round running
        if exp is not None:
            if exp.states is not None:
                islands = exp.states
            else:
                states = {i: st for out in self._call("states").values()
                          for i, st in out.items()}
                islands = [states[i] for i in range(self.cfg.islands)]
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
            "worker_restarts": self.worker_restarts,
            "experiment": None if exp is None else {
                "index": exp.index,
                "group_specs": [[s.to_dict() for s in g] for g in exp.group_specs],
                "select_specs": [s.to_dict() for s in exp.select_specs],
                "best": exp.best if math.isfinite(exp.best) else None,
                "stepped": list(exp.stepped),  # a copy: the snapshot must not change
                "next_record": exp.next_record,
                "migrations": exp.migrations,
                "migration_rng": exp.migration_rng.bit_generator.state,
                "last_select": exp.last_select,
                "checked_best": (exp.checked_best if math.isfinite(exp.checked_best)
                                 else None),
                "passed": exp.passed,
                "islands": islands,
            },
        }
        self._snapshot = state
        if self.run_dir is not None:
            self.run_dir.write_json(CHECKPOINT, state, indent=None)

    @classmethod
    def resume(cls, run_dir: RunDir,
               progress: Callable[[ProgressRecord], None] | None = None,
               on_event: Callable[[dict], None] | None = None,
               checkpoint_every_s: float = 30.0, *,
               backend: Backend | None = None,
               workers: int | None = 1) -> SearchDriver:
        """Rebuild a run from its checkpoint; every value is validated and a bad
        one is refused with the file and key named."""
        path = run_dir.path / CHECKPOINT
        state = run_dir.read_json(CHECKPOINT)
        try:
            driver = cls._from_state(state, run_dir, progress, on_event,
                                     checkpoint_every_s, backend=backend,
                                     workers=workers)
        except StateError as err:
            raise StateError(f"{path}: {err}") from None
        except AutoMLZeroError as err:  # e.g. a bad config inside the checkpoint
            raise StateError(f"{path}: {err}") from None
        driver.progress_lines = run_dir.cut_lines(PROGRESS, driver.progress_lines)
        driver.event_lines = run_dir.cut_lines(EVENTS, driver.event_lines)
        return driver

    @classmethod
    def _from_state(cls, state: Any, run_dir: RunDir | None,
                    progress: Callable[[ProgressRecord], None] | None,
                    on_event: Callable[[dict], None] | None,
                    checkpoint_every_s: float, *, backend: Backend | None = None,
                    workers: int | None = 1) -> SearchDriver:
        require(state, dict, "checkpoint")
        if state.get("format") != CHECKPOINT_FORMAT:
            raise StateError("format: not an automl_zero checkpoint")
        version = state.get("format_version")
        if version not in (2, CHECKPOINT_FORMAT_VERSION):
            raise StateError(f"format_version: {version!r} is not supported (this "
                             f"version reads 2 and {CHECKPOINT_FORMAT_VERSION})")
        if state.get("done") is True:
            where = "" if run_dir is None else f" (see {run_dir.path / RESULT})"
            raise StateError(f"this run has finished{where}; "
                             f"start a new one with `automl-zero search`")
        cfg = config_from_dict(require(state.get("config"), dict, "config"),
                               str(state.get("config_source", "checkpoint")),
                               ignore_removed=True)
        seed = check_int(state.get("seed"), "seed", 1, 2**63 - 1)
        driver = cls(cfg, run_dir, seed, progress, on_event, checkpoint_every_s,
                     backend=backend, workers=workers)
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
        driver.worker_restarts = check_int(state.get("worker_restarts", 0),
                                           "worker_restarts")
        driver._snapshot = state
        e = state.get("experiment")
        if e is not None:
            driver.exp = _experiment_from_state(cfg, e, version, seed)
            driver._rate_mark = (driver.elapsed_before, driver.total_individuals)
        return driver


def _stepped(value: Any, islands: int) -> list[int]:
    """Children asked for per island (format 2: one number for all)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [check_int(value, "experiment.stepped")] * islands
    return [check_int(v, f"experiment.stepped[{i}]") for i, v in
            enumerate(check_list(value, "experiment.stepped", islands))]


def _specs(items: Any, where: str) -> list[TaskSpec]:
    return [TaskSpec.from_dict(require(s, dict, f"{where}[{i}]"), f"{where}[{i}]")
            for i, s in enumerate(check_list(items, where, max_length=10_000))]


def _experiment_from_state(cfg: Config, e: Any, version: int, seed: int) -> _Experiment:
    """The experiment of a checkpoint (islands kept as states until the
    workers get them); format 2 had one island."""
    require(e, dict, "experiment")
    index = check_int(e.get("index"), "experiment.index")
    if version == 2:
        group_specs = [_specs(e.get("search_specs"), "experiment.search_specs")]
        states = [require(e.get("island"), dict, "experiment.island")]
    else:
        groups = check_list(e.get("group_specs"), "experiment.group_specs",
                            len(cfg.search_groups()))
        group_specs = [_specs(g, f"experiment.group_specs[{k}]")
                       for k, g in enumerate(groups)]
        states = [require(s, dict, f"experiment.islands[{i}]") for i, s in
                  enumerate(check_list(e.get("islands"), "experiment.islands",
                                       cfg.islands))]
    if len(states) != cfg.islands:
        raise StateError(f"experiment: {len(states)} island(s) saved, the config has "
                         f"{cfg.islands}")
    # Validate every island here (the workers rebuild them later).
    settings = build.evolution_settings(cfg)
    groups = cfg.island_group_of()
    tasks = [make_tasks(g) for g in group_specs]
    for i, state in enumerate(states):
        where = "experiment.island" if version == 2 else f"experiment.islands[{i}]"
        Island.from_state(settings, build.search_evaluator_on_tasks(
            cfg, tasks[groups[i]], 0), state, where)
    select_specs = _specs(e.get("select_specs"), "experiment.select_specs")
    migration_rng = np.random.default_rng([seed, 3, index])
    if version != 2:
        migration_rng.bit_generator.state = check_rng_state(
            require(e.get("migration_rng"), dict, "experiment.migration_rng"),
            type(migration_rng.bit_generator), "experiment.migration_rng")
    exp = _Experiment(index, group_specs, select_specs, [], migration_rng,
                      stepped=_stepped(e.get("stepped", 0), cfg.islands),
                      next_record=check_int(e.get("next_record", 0),
                                            "experiment.next_record"),
                      migrations=check_int(e.get("migrations", 0),
                                           "experiment.migrations"),
                      states=states)
    best_seen = e.get("best")
    exp.best = (-math.inf if best_seen is None
                else check_float(best_seen, "experiment.best", 0.0, 1.0))
    exp.last_select = check_int(e.get("last_select", 0), "experiment.last_select")
    checked = e.get("checked_best")
    exp.checked_best = (-math.inf if checked is None
                        else check_float(checked, "experiment.checked_best", 0.0, 1.0))
    exp.passed = require(e.get("passed", False), bool, "experiment.passed")
    return exp


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
           overrides: Sequence[str] = (), workers: int | None = 1,
           backend: str = "local", address: str | None = None) -> SearchResult:
    """Run a whole search (experiments on T_search, selection on T_select, the
    final evaluation on T_final) and return its result.

    ``config`` is a :class:`Config` or the path of a TOML config (``overrides``
    are ``key=value`` strings, as the CLI's ``--set``). ``seed`` overrides the
    config's ``random_seed``. ``out`` is the run directory (checkpoints, logs,
    result files; it must not hold another run); ``None`` runs without files.
    ``workers`` processes run the islands (None: one per core, at most one per
    island) on ``backend`` ``"local"`` or ``"ray"`` (``address``: a Ray
    cluster's; None starts a local Ray runtime). The result does not depend
    on the workers or the backend.
    """
    from automl_zero.config import load_config

    cfg = config if isinstance(config, Config) else load_config(config, overrides)
    with make_backend(backend, workers, cfg.islands, address) as runner:
        if out is None:
            return SearchDriver(cfg, None, seed, progress, backend=runner).run()
        with RunDir.create(Path(out)) as run_dir:
            return SearchDriver(cfg, run_dir, seed, progress, backend=runner).run()


def resume(out: str | Path, *,
           progress: Callable[[ProgressRecord], None] | None = None,
           workers: int | None = 1, backend: str = "local",
           address: str | None = None) -> SearchResult:
    """Continue the stopped or killed run in directory ``out`` to its end (on
    any backend and worker count: the result is the same)."""
    with RunDir.open(Path(out)) as run_dir:
        driver = SearchDriver.resume(run_dir, progress)
        with make_backend(backend, workers, driver.cfg.islands, address) as runner:
            driver._backend, driver._own_backend = runner, False
            return driver.run()
