"""Executor benchmarks (``automl-zero bench``): µs per evaluation, executed
instructions per second and compile times, on the workloads of the foundation
issue. Timings are medians over repeats, compile time excluded (measured
separately in fresh processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace

import numpy as np

from automl_zero.config import Config
from automl_zero.executor.executor import (
    MemorySpec,
    TaskBatch,
    execute,
    pack_algorithms,
)
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.generator import (
    linear_algorithm,
    neural_net_algorithm,
    pad_algorithm,
    random_algorithm,
)
from automl_zero.language.ops import OPS, op_by_name
from automl_zero.run.driver import ProgressRecord
from automl_zero.tasks import TaskSpec, make_tasks

__all__ = ["BenchResult", "run_executor_benchmarks", "measure_compile_times",
           "SearchBenchResult", "run_search_benchmark", "run_throughput_benchmark"]

DEMO_OPS = ("SCALAR_CONST_SET_OP", "VECTOR_INNER_PRODUCT_OP", "SCALAR_DIFF_OP",
            "SCALAR_PRODUCT_OP", "SCALAR_VECTOR_PRODUCT_OP", "VECTOR_SUM_OP")
BASELINE_SETUP_OPS = ("SCALAR_CONST_SET_OP", "SCALAR_GAUSSIAN_SET_OP",
                      "SCALAR_UNIFORM_SET_OP", "VECTOR_GAUSSIAN_SET_OP",
                      "VECTOR_UNIFORM_SET_OP", "MATRIX_GAUSSIAN_SET_OP",
                      "MATRIX_UNIFORM_SET_OP")
BASELINE_PREDICT_OPS = ("SCALAR_SUM_OP", "MATRIX_VECTOR_PRODUCT_OP", "VECTOR_MAX_OP",
                        "VECTOR_INNER_PRODUCT_OP", "VECTOR_SUM_OP")
BASELINE_LEARN_OPS = ("SCALAR_SUM_OP", "SCALAR_DIFF_OP", "SCALAR_PRODUCT_OP",
                      "SCALAR_VECTOR_PRODUCT_OP", "VECTOR_SUM_OP", "VECTOR_HEAVYSIDE_OP",
                      "VECTOR_PRODUCT_OP", "VECTOR_OUTER_PRODUCT_OP", "MATRIX_SUM_OP")


@dataclass(frozen=True)
class BenchResult:
    """One benchmark line."""

    name: str
    us_per_eval: float  # median over repeats, per algorithm evaluation
    instructions_per_s: float  # executed instruction x task pairs per second
    evals: int  # evaluations per repeat
    repeats: int

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def _codes(names: Sequence[str]) -> tuple[int, ...]:
    return tuple(op_by_name(n).code for n in names)


def executed_instructions(algorithms: Sequence[Algorithm], train_steps: np.ndarray,
                          valid_steps: np.ndarray, num_tasks: int) -> int:
    """Instruction executions (per task) implied by the step counts; NO_OPs are
    removed before execution and not counted."""
    starts = pack_algorithms(algorithms)[2]
    n_setup = starts[:, 1] - starts[:, 0]
    n_predict = starts[:, 2] - starts[:, 1]
    n_learn = starts[:, 3] - starts[:, 2]
    return int((n_setup * num_tasks + train_steps * (n_predict + n_learn)
                + valid_steps * n_predict).sum())


def time_execution(algorithms: Sequence[Algorithm], batch: TaskBatch,
                   memory: MemorySpec, repeats: int, name: str) -> BenchResult:
    """Median time of one batched ``execute`` call over ``repeats`` runs."""
    seeds = np.arange(len(algorithms))
    result = execute(algorithms, batch, memory, seeds)  # warm-up (compiles)
    instructions = executed_instructions(algorithms, result.train_steps,
                                         result.valid_steps, batch.num_tasks)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        execute(algorithms, batch, memory, seeds, check_memory=False)
        times.append(time.perf_counter() - t0)
    median = float(np.median(times))
    return BenchResult(name, median / len(algorithms) * 1e6, instructions / median,
                       len(algorithms), repeats)


def _random_algorithms(n: int, sizes: tuple[int, int, int],
                       ops: tuple[Sequence[int], Sequence[int], Sequence[int]],
                       memory: MemorySpec, seed: int) -> list[Algorithm]:
    rng = np.random.default_rng(seed)
    return [random_algorithm(sizes, ops, memory.sizes, rng) for _ in range(n)]


def run_executor_benchmarks(repeats: int = 7, evals: int = 1000,
                            report: Callable[[BenchResult], None] | None = None
                            ) -> list[BenchResult]:
    """The foundation issue's workloads; ``report`` is called after each line."""
    results: list[BenchResult] = []

    def add(r: BenchResult) -> None:
        results.append(r)
        if report is not None:
            report(r)

    # Demo workload: F=4, memory 4/3/1, 10 linear tasks of 100 train + 100 valid.
    demo_memory = MemorySpec(4, 3, 1)
    demo_tasks = make_tasks([TaskSpec("scalar_linear_regression_task", 4, 100, 100,
                                      num_tasks=10)])
    demo = TaskBatch.from_tasks(demo_tasks)
    padded = pad_algorithm(linear_algorithm(), (10, 2, 8))
    add(time_execution([padded] * evals, demo, demo_memory, repeats,
                       "demo F=4: linear regressor padded to 10/2/8, batched"))
    add(time_execution([padded] * 20, demo, demo_memory, repeats * 5,
                       "demo F=4: linear regressor, one call per 20 evals"))
    demo_ops = _codes(DEMO_OPS)
    randoms = _random_algorithms(evals, (10, 2, 8), (demo_ops,) * 3, demo_memory, 1)
    add(time_execution(randoms, demo, demo_memory, repeats,
                       "demo F=4: random 10/2/8 programs over the demo's 6 ops"))

    # F=16 workload, the baseline's op set and memory (5/9/2) on projected
    # binary digits tasks (the bundled stand-in for projected CIFAR-10).
    base_memory = MemorySpec(5, 9, 2)
    base_tasks = make_tasks([TaskSpec("projected_binary_classification_task", 16, 256,
                                      32, num_tasks=10, dataset_name="digits")])
    base = TaskBatch.from_tasks(base_tasks)
    base_ops = (_codes(BASELINE_SETUP_OPS), _codes(BASELINE_PREDICT_OPS),
                _codes(BASELINE_LEARN_OPS))
    nets = [neural_net_algorithm()] * (evals // 10)
    add(time_execution(nets, base, base_memory, repeats,
                       "F=16 baseline: hand-designed 2-layer neural net"))
    add(time_execution(nets, TaskBatch.from_tasks(base_tasks, 10), base_memory,
                       repeats, "F=16 baseline: 2-layer neural net, tasks in lockstep"))
    randoms16 = _random_algorithms(evals, (6, 10, 22), base_ops, base_memory, 2)
    add(time_execution(randoms16, base, base_memory, repeats,
                       "F=16 baseline: random 6/10/22 programs over its op set"))

    # All 65 ops at F=16: lockstep tasks vs the plain per-task loop.
    all_ops = tuple(op.code for op in OPS)
    full_memory = MemorySpec(8, 8, 4)
    # Random-init ops dominate these programs (~35 ns a Gaussian draw): fewer evals.
    randoms_all = _random_algorithms(max(10, evals // 10), (6, 10, 22),
                                     (all_ops,) * 3, full_memory, 3)
    add(time_execution(randoms_all, TaskBatch.from_tasks(base_tasks, 10), full_memory,
                       repeats, "F=16 all 65 ops: random 6/10/22, tasks in lockstep"))
    add(time_execution(randoms_all, base, full_memory, repeats,
                       "F=16 all 65 ops: random 6/10/22, default executor"))
    per_task = time_execution(randoms_all, TaskBatch.from_tasks(base_tasks, 1),
                              full_memory, repeats,
                              "F=16 all 65 ops: random 6/10/22, per-task loop")
    add(per_task)
    return results


_COMPILE_SNIPPET = """
import time
t0 = time.perf_counter()
import numpy as np
from automl_zero.executor import MemorySpec, TaskBatch, execute
from automl_zero.language.generator import linear_algorithm
from automl_zero.tasks import TaskSpec, make_tasks
tasks = make_tasks([TaskSpec("scalar_linear_regression_task", 4, 100, 100, num_tasks=10)])
execute([linear_algorithm()], TaskBatch.from_tasks(tasks), MemorySpec(4, 3, 1), [0])
print(time.perf_counter() - t0)
"""


def measure_compile_times() -> dict[str, float]:
    """Start-to-first-evaluation time of a fresh process with an empty numba
    cache (cold) and again with the cache it filled (cached)."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("cold", "cached"):
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", _COMPILE_SNIPPET], env=env,
                                  capture_output=True, text=True, check=True)
            out[f"{label}_first_evaluation_s"] = float(proc.stdout.strip())
            out[f"{label}_process_s"] = time.perf_counter() - t0
    return out


def main_json(repeats: int, evals: int) -> str:
    """All figures as one JSON document."""
    results = run_executor_benchmarks(repeats, evals)
    return json.dumps({"executor": [r.to_dict() for r in results],
                       "compile": measure_compile_times()}, indent=2)


@dataclass(frozen=True)
class SearchBenchResult:
    """One demo search of the search benchmark."""

    seed: int
    time_to_select_s: float | None  # None: not solved within the time limit
    individuals: int
    individuals_per_s: float
    final_fitness: float | None
    experiments: int

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def run_search_benchmark(seeds: Sequence[int], time_limit_s: float = 300.0,
                         config: str = "configs/demo_linear_original.toml",
                         report: Callable[[SearchBenchResult], None] | None = None
                         ) -> list[SearchBenchResult]:
    """Time to an algorithm passing T_select on the demo, one run per seed
    (no run directory: the search alone)."""
    from automl_zero.config import load_config
    from automl_zero.run.driver import SearchDriver

    results = []
    for seed in seeds:
        cfg = load_config(config, [f"time_limit_seconds={time_limit_s}"])
        r = SearchDriver(cfg, None, seed=seed).run()
        res = SearchBenchResult(seed, r.time_to_select_s, r.total_individuals,
                                r.total_individuals / r.elapsed_s, r.final_fitness,
                                r.experiments)
        results.append(res)
        if report is not None:
            report(res)
    return results


def _steady_rate(cfg: Config, seed: int) -> tuple[float, ProgressRecord]:
    """Individuals/s between the first and the last progress record of one
    experiment (start-up, T_select and T_final excluded), and the last record."""
    from automl_zero.run.driver import SearchDriver

    records: list = []
    SearchDriver(cfg, None, seed=seed, progress=records.append).run()
    first, last = records[0], records[-1]
    rate = ((last.total_individuals - first.total_individuals)
            / (last.elapsed_s - first.elapsed_s))
    return rate, last


def run_throughput_benchmark(individuals: int = 200_000,
                             config: str = "configs/demo_linear_original.toml", seed: int = 1
                             ) -> dict[str, float]:
    """Individuals/s of the demo search with the FEC (keyed per algorithm and
    per task) and without it (one experiment, a fixed number of individuals)."""
    from automl_zero.config import load_config

    out = {}
    variants = {"FEC keyed per algorithm": "ALGORITHM", "FEC keyed per task": "TASK",
                "no FEC": None}
    for name, keying in variants.items():
        cfg = load_config(config, [f"max_individuals={individuals}", "max_experiments=1",
                                   "sufficient_fitness=2.0",
                                   f"progress_every={max(1, individuals // 20)}"])
        cfg = dataclass_replace(cfg, fec=None if keying is None else dataclass_replace(
            cfg.fec, keying=keying))
        out[name] = _steady_rate(cfg, seed)[0]
    return out


@dataclass(frozen=True)
class KeyingBenchResult:
    """One experiment of the demo under its train-step budget, per FEC keying."""

    keying: str
    seed: int
    individuals: int  # fitted into the experiment's max_train_steps
    fec_hit_rate: float
    seconds: float


def run_keying_benchmark(seeds: Sequence[int], config: str = "configs/demo_linear_original.toml",
                         report: Callable[[KeyingBenchResult], None] | None = None
                         ) -> list[KeyingBenchResult]:
    """How many individuals each FEC keying fits into one experiment's train
    steps (the demo's 2e8): more hits per train step means more individuals."""
    from automl_zero.config import load_config
    from automl_zero.run.driver import SearchDriver

    results = []
    for seed in seeds:
        for keying in ("ALGORITHM", "TASK"):
            cfg = load_config(config, ["max_experiments=1", "sufficient_fitness=2.0"])
            cfg = dataclass_replace(cfg, fec=dataclass_replace(cfg.fec, keying=keying),
                                    progress_every=10**9)
            records: list = []
            t0 = time.perf_counter()
            r = SearchDriver(cfg, None, seed=seed, progress=records.append).run()
            res = KeyingBenchResult(keying, seed, r.total_individuals,
                                    records[-1].fec_hit_rate,
                                    time.perf_counter() - t0)
            results.append(res)
            if report is not None:
                report(res)
    return results
