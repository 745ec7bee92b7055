"""Workers: the processes that hold islands and run them (docs/semantics.md §11).

Islands are logical, workers are processes. An ``IslandHost`` holds the islands
one worker owns and runs the driver's commands on them (create or restore,
initialise, step a round, draw emigrants, take immigrants, report the best,
save state). A *backend* runs one host per worker and carries the commands:

* ``InProcessBackend`` — one host in the driver's own process (one worker:
  no processes, no copies);
* ``LocalBackend`` — one process per worker on this machine, commands over
  pipes (``multiprocessing``, spawn start method);
* ``RayBackend`` (``automl_zero.run.ray_backend``) — one Ray actor per worker.

Every backend answers ``run({worker: (command, kwargs)})`` with each worker's
result, or raises ``WorkerLostError`` naming the workers that died; the driver then
calls ``restart()`` and restores every island from its last snapshot. Nothing
about a run's result depends on the backend or the worker count: islands own
their random streams, and the driver decides everything between islands.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import numpy as np

from automl_zero.config import Config
from automl_zero.engine.island import Island
from automl_zero.errors import AutoMLZeroError
from automl_zero.language.algorithm import Algorithm
from automl_zero.run import build
from automl_zero.tasks import Task

__all__ = ["IslandPlan", "IslandReport", "IslandHost", "WorkerLostError", "WorkerError",
           "Backend", "InProcessBackend", "LocalBackend", "default_workers",
           "make_backend", "BACKENDS"]

BACKENDS = ("local", "ray")


class WorkerLostError(AutoMLZeroError):
    """Workers died (killed, out of memory) while running a command."""

    def __init__(self, workers: Sequence[int], detail: str = "") -> None:
        self.workers = tuple(workers)
        super().__init__(f"worker(s) {', '.join(map(str, self.workers))} died"
                         + (f": {detail}" if detail else ""))


class WorkerError(AutoMLZeroError):
    """A command raised an unexpected error inside a worker (its traceback is
    in the message)."""


@dataclass(frozen=True)
class IslandPlan:
    """What a worker needs to build one island: its id, its task group and the
    seed of its streams (a new island) or its saved state (a restored one)."""

    island: int
    group: int
    seed: np.random.SeedSequence | None = None
    state: dict | None = None


@dataclass(frozen=True)
class IslandReport:
    """An island's statistics after a command (what the driver aggregates)."""

    island: int
    individuals: int
    train_steps: int
    best: float  # -inf before any evaluation
    mean: float  # NaN: no population (random search)
    stdev: float
    fec_hit_rate: float | None
    hurdle_saved: int  # train steps hurdles avoided so far
    done: bool  # the island's budget is spent


class IslandHost:
    """The islands of one worker and the commands the driver runs on them."""

    def __init__(self) -> None:
        self.islands: dict[int, Island] = {}
        self.cfg: Config | None = None

    def call(self, command: str, kwargs: Mapping[str, Any]) -> Any:
        if command not in _COMMANDS:
            raise WorkerError(f"unknown worker command {command!r}")
        return getattr(self, command)(**kwargs)

    # ------------------------------------------------------------- commands
    def create(self, cfg: Config, tasks: Sequence[Sequence[Task]],
               plans: Sequence[IslandPlan]) -> None:
        """Drop all islands and build ``plans`` (fresh, or from saved state) on
        the task groups ``tasks``."""
        self.cfg = cfg
        self.islands = {}
        settings = build.evolution_settings(cfg)
        for plan in plans:
            group_tasks = tasks[plan.group]
            if plan.state is None:
                island = build.island_on_tasks(cfg, group_tasks, plan.seed)
            else:
                evaluator = build.search_evaluator_on_tasks(cfg, group_tasks, 0)
                island = Island.from_state(settings, evaluator, plan.state,
                                           f"islands[{plan.island}]")
            self.islands[plan.island] = island

    def initialize(self) -> list[IslandReport]:
        """Create and evaluate every island's initial population."""
        for island in self.islands.values():
            if not island.initialized:
                island.initialize()
        return self.reports()

    def step(self, batches: int, batch_size: int) -> list[IslandReport]:
        """Up to ``batches`` batches of ``batch_size`` children on every island
        whose budget is not spent; an island stops at its budget exactly as a
        lone island does (checked after every batch)."""
        cfg = self.cfg
        for island in self.islands.values():
            for _ in range(batches):
                if _spent(cfg, island):
                    break
                n = batch_size
                if cfg.max_individuals:
                    n = min(n, cfg.max_individuals - island.individuals)
                island.step(n)
        return self.reports()

    def emigrants(self, counts: Mapping[int, int]) -> dict[int, list[Algorithm]]:
        """``counts[i]`` random members of island i (they stay there too)."""
        return {i: self.islands[i].emigrants(k) for i, k in counts.items()}

    def immigrate(self, arrivals: Mapping[int, Sequence[Algorithm]]
                  ) -> list[IslandReport]:
        """Evaluate arrivals on their island's tasks; they replace random members."""
        for i, algorithms in arrivals.items():
            self.islands[i].immigrate(algorithms)
        return self.reports()

    def best(self) -> dict[int, tuple[float, Algorithm] | None]:
        """Each island's best member and its search fitness."""
        return {i: island.best() for i, island in self.islands.items()}

    def states(self) -> dict[int, dict]:
        """Each island's whole state (JSON-serialisable)."""
        return {i: island.to_state() for i, island in self.islands.items()}

    def reports(self) -> list[IslandReport]:
        out = []
        for i, island in self.islands.items():
            mean, stdev, _ = island.stats()
            fec = island.evaluator.fec
            out.append(IslandReport(
                i, island.individuals, island.train_steps, island.best_fitness(),
                mean, stdev, None if fec is None else fec.hit_rate(),
                int(getattr(island.evaluator, "hurdle_steps_saved", 0)),
                _spent(self.cfg, island)))
        return out

    def ping(self) -> int:
        return os.getpid()


_COMMANDS = frozenset({"create", "initialize", "step", "emigrants", "immigrate", "best",
                       "states", "reports", "ping"})


def _spent(cfg: Config, island: Island) -> bool:
    """The island's budget (per island: the original's per-process budget) is spent."""
    if island.train_steps >= cfg.max_train_steps:
        return True
    return bool(cfg.max_individuals and island.individuals >= cfg.max_individuals)


# --------------------------------------------------------------- backends
class Backend:
    """Runs one ``IslandHost`` per worker and carries commands to them."""

    name = "backend"
    num_workers = 1

    def run(self, calls: Mapping[int, tuple[str, Mapping[str, Any]]]) -> dict[int, Any]:
        """Run ``calls[w] = (command, kwargs)`` on workers w concurrently; every
        worker's result. Raises ``WorkerLostError`` if a worker died."""
        raise NotImplementedError

    def restart(self) -> None:
        """Replace every worker by a fresh one (islands are restored by the driver)."""

    def close(self) -> None:
        """Stop the workers."""

    def describe(self) -> str:
        return f"{self.name} backend, {self.num_workers} worker(s)"

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessBackend(Backend):
    """One worker: the islands live in the driver's process."""

    name = "in-process"

    def __init__(self) -> None:
        self.num_workers = 1
        self.host = IslandHost()

    def run(self, calls: Mapping[int, tuple[str, Mapping[str, Any]]]) -> dict[int, Any]:
        return {w: self.host.call(command, kwargs)
                for w, (command, kwargs) in calls.items()}

    def restart(self) -> None:
        self.host = IslandHost()


def _serve(conn: Connection) -> None:
    """A worker process: run commands from the driver until told to stop."""
    # Ctrl-C goes to the whole process group: the driver alone decides to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    host = IslandHost()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        command, kwargs = message
        try:
            result = ("ok", host.call(command, kwargs))
        except AutoMLZeroError as err:
            result = ("known", err)
        except Exception:  # noqa: BLE001 - reported to the driver with its traceback
            result = ("error", traceback.format_exc())
        try:
            conn.send(result)
        except Exception:  # noqa: BLE001 - e.g. an unpicklable exception
            conn.send(("error", traceback.format_exc()))


class LocalBackend(Backend):
    """Worker processes on this machine (spawned: no state inherited by fork)."""

    name = "local"

    def __init__(self, num_workers: int) -> None:
        if num_workers < 1:
            raise ValueError(f"workers must be >= 1, got {num_workers}")
        self.num_workers = int(num_workers)
        self._ctx = mp.get_context("spawn")
        self._procs: list[Any] = []
        self._conns: list[Connection] = []
        self._start()

    def _start(self) -> None:
        for _ in range(self.num_workers):
            parent, child = self._ctx.Pipe()
            proc = self._ctx.Process(target=_serve, args=(child,), daemon=True,
                                     name="automl-zero-worker")
            proc.start()
            child.close()
            self._procs.append(proc)
            self._conns.append(parent)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def run(self, calls: Mapping[int, tuple[str, Mapping[str, Any]]]) -> dict[int, Any]:
        lost: list[int] = []
        pending: dict[Any, int] = {}
        for w, message in calls.items():
            try:
                self._conns[w].send(message)
            except (BrokenPipeError, OSError):
                lost.append(w)
                continue
            pending[self._conns[w]] = w
            pending[self._procs[w].sentinel] = w
        results: dict[int, Any] = {}
        errors: list[str] = []
        known: AutoMLZeroError | None = None
        waiting = {w for w in calls if w not in lost}
        while waiting:
            for ready in wait(list(pending)):
                w = pending.get(ready)
                if w is None or w not in waiting:
                    continue
                conn = self._conns[w]
                if ready is conn or conn.poll():
                    try:
                        status, value = conn.recv()
                    except (EOFError, OSError):
                        lost.append(w)
                    else:
                        if status == "ok":
                            results[w] = value
                        elif status == "known":
                            known = value
                        else:
                            errors.append(f"worker {w}:\n{value}")
                else:  # the process ended without answering
                    lost.append(w)
                waiting.discard(w)
                for key in [k for k, v in pending.items() if v == w]:
                    del pending[key]
        if lost:
            raise WorkerLostError(sorted(set(lost)))
        if known is not None:
            raise known
        if errors:
            raise WorkerError("a worker failed:\n" + "\n".join(errors))
        return results

    def restart(self) -> None:
        self.close()
        self._procs, self._conns = [], []
        self._start()

    def close(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(None)
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        for conn in self._conns:
            conn.close()
        self._procs, self._conns = [], []


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def make_backend(name: str = "local", workers: int | None = None, islands: int = 1,
                 address: str | None = None) -> Backend:
    """The backend for a run: ``local`` (in-process when one worker suffices)
    or ``ray`` (actors on the cluster at ``address``, or a local Ray runtime).
    No more workers than islands are started."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if name == "ray":
        from automl_zero.run.ray_backend import RayBackend

        return RayBackend(workers, islands, address)
    if address is not None:
        raise ValueError("--address is for the ray backend only")
    n = min(default_workers() if workers is None else workers, max(1, islands))
    return InProcessBackend() if n == 1 else LocalBackend(n)
