"""Workers: the processes that hold islands and run them (docs/semantics.md §11).

Islands are logical, workers are processes. An ``IslandHost`` holds the islands
one worker owns and runs the driver's commands on them (create or restore,
initialise, step a round, draw emigrants, take immigrants, report the best,
save state). A *backend* runs one host per worker and carries the commands:

* ``InProcessBackend`` — one host in the driver's own process (one worker:
  no processes, no copies);
* ``LocalBackend`` — one process per worker on this machine, commands over
  authenticated Unix sockets (``multiprocessing.connection``);
* ``RayBackend`` (``automl_zero.run.ray_backend``) — one Ray actor per worker.

Every backend answers ``run({worker: (command, kwargs)})`` with each worker's
result, or raises ``WorkerLostError`` naming the workers that died; the driver then
calls ``restart()`` and restores every island from its last snapshot. Nothing
about a run's result depends on the backend or the worker count: islands own
their random streams, and the driver decides everything between islands.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener, wait
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
    seconds: float = 0.0  # spent on this island by the command that reported
    # The best member at a progress point (step records only: the driver's
    # T_select checks need no barrier).
    best_algorithm: Algorithm | None = None


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

    def step(self, target: int, batch_size: int, starts: Mapping[int, int],
             record_every: int = 0
             ) -> tuple[list[IslandReport], dict[int, list[IslandReport]]]:
        """Every island i goes from ``starts[i]`` to ``target`` children asked
        for, in batches of ``batch_size``; an island whose budget is spent asks
        for nothing more (checked after every batch, as a lone island). Returns
        the final reports and, for each multiple of ``record_every`` passed, the
        islands' reports at that point (the driver's progress records)."""
        cfg = self.cfg
        seconds = {}
        records: dict[int, list[IslandReport]] = {}
        for i, island in self.islands.items():
            t0 = time.perf_counter()
            stepped = starts[i]
            while stepped < target:
                if not _spent(cfg, island):
                    n = batch_size
                    if cfg.max_individuals:
                        n = min(n, cfg.max_individuals - island.individuals)
                    island.step(n)
                stepped += batch_size
                if record_every and stepped % record_every == 0:
                    records.setdefault(stepped, []).append(
                        self._report(i, island, best=True))
            seconds[i] = time.perf_counter() - t0
        return self.reports(seconds), records

    def emigrants(self, counts: Mapping[int, int]) -> dict[int, tuple]:
        """``counts[i]`` random members of island i (they stay there too), as
        packed rows (code, data, sizes)."""
        return {i: self.islands[i].emigrants_packed(k) for i, k in counts.items()}

    def immigrate(self, arrivals: Mapping[int, tuple]) -> list[IslandReport]:
        """Evaluate arrivals (packed rows) on their island's tasks; they replace
        random members."""
        for i, (code, data, sizes) in arrivals.items():
            self.islands[i].immigrate_packed(code, data, sizes)
        return self.reports()

    def best(self) -> dict[int, tuple[float, Algorithm] | None]:
        """Each island's best member and its search fitness."""
        return {i: island.best() for i, island in self.islands.items()}

    def states(self) -> dict[int, dict]:
        """Each island's whole state (JSON-serialisable)."""
        return {i: island.to_state() for i, island in self.islands.items()}

    def reports(self, seconds: Mapping[int, float] | None = None) -> list[IslandReport]:
        return [self._report(i, island, (seconds or {}).get(i, 0.0))
                for i, island in self.islands.items()]

    def _report(self, i: int, island: Island, seconds: float = 0.0,
                best: bool = False) -> IslandReport:
        mean, stdev, _ = island.stats()
        fec = island.evaluator.fec
        done = _spent(self.cfg, island)
        # A finished island's report stands in for all its later progress
        # points, so it carries the best member too (whichever report the
        # driver gets, a T_select check sees the same candidates).
        found = island.best() if best or done else None
        return IslandReport(
            i, island.individuals, island.train_steps, island.best_fitness(),
            mean, stdev, None if fec is None else fec.hit_rate(),
            int(getattr(island.evaluator, "hurdle_steps_saved", 0)),
            done, seconds, None if found is None else found[1])

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
    """Runs one ``IslandHost`` per worker and carries commands to them:
    ``submit`` a command to an idle worker, ``collect`` the next answer (any
    worker's), or ``run`` commands on several workers and wait for all."""

    name = "backend"
    num_workers = 1

    def submit(self, worker: int, command: str, kwargs: Mapping[str, Any]) -> None:
        """Start ``command`` on an idle ``worker``."""
        raise NotImplementedError

    def collect(self) -> tuple[int, Any]:
        """The next finished command's worker and result (blocks). Raises
        ``WorkerLostError`` for a worker that died, or the command's error."""
        raise NotImplementedError

    def outstanding(self) -> int:
        """Commands submitted and not collected."""
        raise NotImplementedError

    def drain(self) -> None:
        """Collect and drop every outstanding answer (after an interruption)."""
        while self.outstanding():
            with contextlib.suppress(AutoMLZeroError):
                self.collect()

    def run(self, calls: Mapping[int, tuple[str, Mapping[str, Any]]]) -> dict[int, Any]:
        """Run ``calls[w] = (command, kwargs)`` on workers w concurrently; every
        worker's result. Raises ``WorkerLostError`` if a worker died."""
        self.drain()
        for w, (command, kwargs) in calls.items():
            self.submit(w, command, kwargs)
        results: dict[int, Any] = {}
        lost: list[int] = []
        error: AutoMLZeroError | None = None
        while self.outstanding():
            try:
                w, value = self.collect()
            except WorkerLostError as err:
                lost.extend(err.workers)
            except AutoMLZeroError as err:
                error = error or err
            else:
                results[w] = value
        if lost:
            raise WorkerLostError(sorted(set(lost)))
        if error is not None:
            raise error
        return results

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
        self._done: list[tuple[int, Any, BaseException | None]] = []

    def submit(self, worker: int, command: str, kwargs: Mapping[str, Any]) -> None:
        try:
            self._done.append((worker, self.host.call(command, kwargs), None))
        except AutoMLZeroError as err:
            self._done.append((worker, None, err))

    def collect(self) -> tuple[int, Any]:
        worker, value, err = self._done.pop(0)
        if err is not None:
            raise err
        return worker, value

    def outstanding(self) -> int:
        return len(self._done)

    def restart(self) -> None:
        self.host = IslandHost()
        self._done = []


def _serve(conn: Connection) -> None:
    """A worker process: run commands from the driver until told to stop (or
    until the driver is gone)."""
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
        except (BrokenPipeError, EOFError, OSError):
            return  # the driver is gone
        except Exception:  # noqa: BLE001 - e.g. an unpicklable exception
            conn.send(("error", traceback.format_exc()))


_KEY_VARIABLE = "AUTOML_ZERO_WORKER_KEY"
_START_TIMEOUT_S = 120.0


def serve_at(address: str) -> None:
    """A worker's main: listen on the Unix socket ``address`` for the driver
    (authenticated with the key in ``AUTOML_ZERO_WORKER_KEY``), then serve it."""
    key = bytes.fromhex(os.environ.pop(_KEY_VARIABLE))
    listener = Listener(address, family="AF_UNIX", authkey=key)
    try:
        conn = listener.accept()
    finally:
        with contextlib.suppress(OSError):  # the driver may have removed the file
            listener.close()
    _serve(conn)


class LocalBackend(Backend):
    """Worker processes on this machine. Each is a fresh interpreter
    (``python -m automl_zero.run._worker``; nothing of the caller's script is
    imported, so no ``if __name__ == "__main__"`` guard is needed) talking to the
    driver over an authenticated Unix socket in a private directory."""

    name = "local"

    def __init__(self, num_workers: int) -> None:
        if num_workers < 1:
            raise ValueError(f"workers must be >= 1, got {num_workers}")
        self.num_workers = int(num_workers)
        self._procs: list[subprocess.Popen] = []
        self._conns: list[Connection] = []
        self._busy: dict[Connection, int] = {}  # answers not read yet
        self._lost: list[int] = []  # workers a command could not be sent to
        self._start()

    def _start(self) -> None:
        directory = tempfile.mkdtemp(prefix="automl-zero-workers-")
        key = secrets.token_bytes(32)
        env = {**os.environ, _KEY_VARIABLE: key.hex()}
        try:
            addresses = [os.path.join(directory, f"worker{w}.sock")
                         for w in range(self.num_workers)]
            self._procs = [subprocess.Popen(
                [sys.executable, "-m", "automl_zero.run._worker", address],
                env=env, stdin=subprocess.DEVNULL) for address in addresses]
            self._conns = [self._connect(proc, address, key)
                           for proc, address in zip(self._procs, addresses, strict=True)]
        except BaseException:
            self.close()
            raise
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        self._busy, self._lost = {}, []

    @staticmethod
    def _connect(proc: subprocess.Popen, address: str, key: bytes) -> Connection:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise WorkerError(f"a worker process exited at start (status "
                                  f"{proc.returncode}); its error is above")
            try:
                return Client(address, family="AF_UNIX", authkey=key)
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise WorkerError("a worker process did not start within "
                                      f"{_START_TIMEOUT_S:.0f} s") from None
                time.sleep(0.01)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def submit(self, worker: int, command: str, kwargs: Mapping[str, Any]) -> None:
        try:
            self._conns[worker].send((command, kwargs))
        except (BrokenPipeError, OSError):
            self._lost.append(worker)
            return
        self._busy[self._conns[worker]] = worker

    def collect(self) -> tuple[int, Any]:
        if self._lost:
            raise WorkerLostError([self._lost.pop(0)])
        conn = wait(list(self._busy))[0]
        w = self._busy.pop(conn)
        try:
            status, value = conn.recv()
        except (EOFError, OSError):  # the process died
            raise WorkerLostError([w]) from None
        if status == "ok":
            return w, value
        if status == "known":
            raise value
        raise WorkerError(f"worker {w} failed:\n{value}")

    def outstanding(self) -> int:
        return len(self._busy) + len(self._lost)

    def restart(self) -> None:
        self.close()
        self._start()

    def close(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(None)
        for proc in self._procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for conn in self._conns:
            conn.close()
        self._procs, self._conns, self._busy, self._lost = [], [], {}, []


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
