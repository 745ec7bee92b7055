"""The scale-out benchmark (``automl-zero bench scale``): what workers, islands,
migration and hurdles buy (docs/semantics.md §10, §11).

* throughput: total individuals/s of the demo with ``islands`` islands on 1 and
  on 2 local workers (alternating runs, medians; start-up and the initial
  populations excluded);
* time to T_select: the demo, one search per seed, on a given worker count
  (worker processes started once for all seeds, as a long-running service
  would; their start-up is measured apart);
* hurdles: a config with and without ``[hurdles]`` under the same per-island
  train-step budget: individuals/s and the best T_select fitness reached;
* many islands: the demo with 64 islands on 2 workers to a result, and the
  driver's time per migration.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from automl_zero.config import Config, load_config
from automl_zero.run.driver import ProgressRecord, SearchDriver
from automl_zero.run.workers import make_backend

__all__ = ["measure_throughput", "measure_backends", "measure_time_to_select",
           "measure_hurdles",
           "measure_many_islands", "worker_startup_seconds"]

DEMO = "configs/demo_linear.toml"


def _run(cfg: Config, seed: int, workers: int, events: list | None = None,
         backend_name: str = "local") -> tuple[list[ProgressRecord], object, float]:
    """One run; its records, result and steady individuals/s (the search
    loops' individuals over their wall time: starting workers or a Ray
    runtime is not counted)."""
    records: list[ProgressRecord] = []
    with make_backend(backend_name, workers, cfg.islands) as backend:
        driver = SearchDriver(cfg, None, seed, progress=records.append,
                              on_event=None if events is None else events.append,
                              backend=backend)
        result = driver.run()
    rate = driver.searched_individuals / max(driver.search_seconds, 1e-9)
    return records, result, rate


def measure_throughput(config: str = DEMO, islands: int = 2,
                       individuals_per_island: int = 150_000, repeats: int = 3,
                       seed: int = 1, workers: Sequence[int] = (1, 2),
                       report: Callable[[int, float], None] | None = None
                       ) -> dict[int, float]:
    """Median steady individuals/s per worker count (runs alternate)."""
    cfg = load_config(config, [f"islands={islands}",
                               f"max_individuals={individuals_per_island}",
                               "max_experiments=1", "sufficient_fitness=2.0",
                               "progress_every=20000", f"max_train_steps={10**18}", "select_every=0"])
    rates: dict[int, list[float]] = {w: [] for w in workers}
    for _ in range(repeats):
        for w in workers:
            _, _, rate = _run(cfg, seed, w)
            rates[w].append(rate)
            if report is not None:
                report(w, rate)
    return {w: statistics.median(r) for w, r in rates.items()}


def measure_backends(config: str = DEMO, islands: int = 4, workers: int = 2,
                     individuals_per_island: int = 150_000, repeats: int = 3, seed: int = 1,
                     backends: Sequence[str] = ("local", "ray"),
                     report: Callable[[str, float], None] | None = None
                     ) -> dict[str, float]:
    """Median steady individuals/s of the same run on each backend (runs
    alternate; Ray: a runtime of its own on 127.0.0.1, started per run)."""
    cfg = load_config(config, [f"islands={islands}",
                               f"max_individuals={individuals_per_island}",
                               "max_experiments=1", "sufficient_fitness=2.0",
                               "progress_every=20000", f"max_train_steps={10**18}",
                               "select_every=0"])
    rates: dict[str, list[float]] = {b: [] for b in backends}
    for _ in range(repeats):
        for b in backends:
            _, _, rate = _run(cfg, seed, workers, backend_name=b)
            rates[b].append(rate)
            if report is not None:
                report(b, rate)
    return {b: statistics.median(r) for b, r in rates.items()}


def worker_startup_seconds(workers: int = 2) -> float:
    """Seconds to start ``workers`` local worker processes and hear from each."""
    t0 = time.perf_counter()
    with make_backend("local", workers, workers) as backend:
        backend.run({w: ("ping", {}) for w in range(backend.num_workers)})
        return time.perf_counter() - t0


@dataclass(frozen=True)
class SelectTime:
    seed: int
    seconds: float | None  # None: not solved within the time limit
    experiments: int
    individuals: int


def measure_time_to_select(seeds: Sequence[int], config: str = DEMO,
                           workers: int = 2, islands: int | None = None,
                           overrides: Sequence[str] = (), time_limit_s: float = 120.0,
                           report: Callable[[SelectTime], None] | None = None
                           ) -> list[SelectTime]:
    """Time to an algorithm passing T_select, one search per seed."""
    extra = [f"time_limit_seconds={time_limit_s}", *overrides]
    if islands is not None:
        extra.append(f"islands={islands}")
    cfg = load_config(config, extra)
    out = []
    with make_backend("local", workers, cfg.islands) as backend:
        backend.run({w: ("ping", {}) for w in range(backend.num_workers)})
        for seed in seeds:
            r = SearchDriver(cfg, None, seed, backend=backend).run()
            res = SelectTime(seed, r.time_to_select_s, r.experiments, r.total_individuals)
            out.append(res)
            if report is not None:
                report(res)
    return out


@dataclass(frozen=True)
class HurdleRun:
    seed: int
    hurdles: bool
    individuals_per_s: float
    individuals: int
    train_steps: int
    select_fitness: float
    savings: float | None


def measure_hurdles(seeds: Sequence[int], config: str = "configs/baseline_digits.toml",
                    train_steps: int = 20_000_000,
                    hurdle_keys: Sequence[str] = ("hurdles.first_stage_train_fraction=0.2",),
                    report: Callable[[HurdleRun], None] | None = None
                    ) -> list[HurdleRun]:
    """One experiment per seed with and without hurdles, ``train_steps`` per island."""
    base = [f"max_train_steps={train_steps}", "max_experiments=1"]
    out = []
    for seed in seeds:
        for on in (False, True):
            cfg = load_config(config, base + (list(hurdle_keys) if on else []))
            cfg = load_config(config, base + (list(hurdle_keys) if on else [])
                              + [f"progress_every={cfg.population_size}"])
            records, result, rate = _run(cfg, seed, 1)
            run = HurdleRun(seed, on, rate, result.total_individuals,
                            result.total_train_steps, result.select_fitness,
                            records[-1].hurdle_savings)
            out.append(run)
            if report is not None:
                report(run)
    return out


@dataclass(frozen=True)
class ManyIslands:
    islands: int
    workers: int
    seconds: float
    individuals: int
    migrations: int
    seconds_per_migration: float
    select_fitness: float


def measure_many_islands(islands: int = 64, workers: int = 2,
                         individuals_per_island: int = 3000,
                         migration_every: int = 500, population_size: int = 1000,
                         seed: int = 1, config: str = DEMO) -> ManyIslands:
    """The demo with many islands on few workers, to a result."""
    cfg = load_config(config, [f"islands={islands}", f"max_individuals={individuals_per_island}",
                               f"migration_every={migration_every}",
                               f"population_size={population_size}",
                               "max_experiments=1", "progress_every=100000"])
    events: list[dict] = []
    t0 = time.perf_counter()
    _, result, _ = _run(cfg, seed, workers, events)
    seconds = time.perf_counter() - t0
    end = next(e for e in events if e["event"] == "experiment_end")
    migrations = int(end.get("migrations", 0))
    return ManyIslands(islands, workers, seconds, result.total_individuals, migrations,
                       end.get("migration_s", 0.0) / max(migrations, 1),
                       result.select_fitness)
