"""The Ray backend: one Ray actor per worker, each an ``IslandHost``
(docs/semantics.md §11; README "Running on a Ray cluster").

Ray is an optional extra (``pip install "automl-zero[ray]"``). With an
``address`` the run joins that cluster (started with ``ray start --head``;
its token authentication stays on: the driver sets ``RAY_AUTH_MODE=token``
unless the environment says otherwise, and reads the token Ray wrote). Without
one, a Ray runtime is started for this run on this machine, on loopback only,
and stopped at the end. A run's task data goes to the object store once per
experiment and every actor reads it from there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

from automl_zero.errors import AutoMLZeroError
from automl_zero.run.workers import Backend, IslandHost, WorkerLostError

__all__ = ["RayBackend"]


class _Host(IslandHost):
    """An ``IslandHost`` as a Ray actor: the task data arrives as a top-level
    argument, which Ray resolves from the object store."""

    def call_with(self, command: str, kwargs: Mapping[str, Any], tasks: Any = None
                  ) -> Any:
        if tasks is not None:
            kwargs = {**kwargs, "tasks": tasks}
        return self.call(command, kwargs)


class RayBackend(Backend):
    """Islands on Ray actors (one CPU each)."""

    name = "ray"

    def __init__(self, workers: int | None = None, islands: int = 1,
                 address: str | None = None) -> None:
        if address is None:
            # A runtime of our own: every Ray server on 127.0.0.1. Ray reads
            # this when it is first imported.
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray
        except ImportError:
            raise AutoMLZeroError(
                "the ray backend needs Ray: pip install 'automl-zero[ray]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            if address is None:
                if os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER") == "0":
                    # Ray was imported before the variable was set (by the
                    # caller): tell the driver side too.
                    with contextlib.suppress(Exception):
                        ray._private.ray_constants.ENABLE_RAY_CLUSTER = False
                # Our own runtime, never a cluster that happens to run here.
                ray.init(address="local", num_cpus=workers or None,
                         include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            else:
                # A cluster from `ray start --head`: token authentication is on.
                os.environ.setdefault("RAY_AUTH_MODE", "token")
                try:
                    ray.init(address=address, log_to_driver=False,
                             configure_logging=False)
                except Exception as err:  # noqa: BLE001 - Ray raises many kinds
                    raise AutoMLZeroError(
                        f"cannot join the Ray cluster at {address}: "
                        f"{type(err).__name__}: {err}") from None
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.num_workers = max(1, min(workers or cpus, max(1, islands)))
        self._actor_class = ray.remote(num_cpus=1)(_Host)
        self._actors: list[Any] = []
        self._refs: dict[Any, int] = {}  # submitted, not collected -> worker
        self._shared: tuple[Any, Any] | None = None  # (task lists, their reference)
        self._start()

    def _start(self) -> None:
        self._actors = [self._actor_class.remote() for _ in range(self.num_workers)]
        self._refs = {}

    def describe(self) -> str:
        return f"ray backend, {self.num_workers} actor(s)"

    def submit(self, worker: int, command: str, kwargs: Mapping[str, Any]) -> None:
        ray = self._ray
        tasks = kwargs.get("tasks")
        ref = None
        if tasks is not None:  # one copy in the object store per task list
            if self._shared is None or self._shared[0] is not tasks:
                self._shared = (tasks, ray.put(tasks))
            ref = self._shared[1]
        rest = {k: v for k, v in kwargs.items() if k != "tasks"}
        self._refs[self._actors[worker].call_with.remote(command, rest, ref)] = worker

    def collect(self) -> tuple[int, Any]:
        ray = self._ray
        done, _ = ray.wait(list(self._refs), num_returns=1)
        w = self._refs.pop(done[0])
        try:
            return w, ray.get(done[0])
        except ray.exceptions.RayActorError:
            raise WorkerLostError([w]) from None
        except ray.exceptions.RayTaskError as err:
            cause = err.as_instanceof_cause()
            if isinstance(cause, AutoMLZeroError):
                raise cause from None
            raise AutoMLZeroError(f"Ray worker {w} failed: {err}") from None

    def outstanding(self) -> int:
        return len(self._refs)

    @property
    def actors(self) -> list[Any]:
        return list(self._actors)

    def restart(self) -> None:
        self._kill()
        self._start()

    def _kill(self) -> None:
        for actor in self._actors:
            with contextlib.suppress(Exception):  # already gone
                self._ray.kill(actor)
        self._actors = []

    def close(self) -> None:
        if self._ray.is_initialized():
            self._kill()
            if self._started:
                self._ray.shutdown()
                self._started = False
