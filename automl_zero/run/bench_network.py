"""The executor at the paper's sizes (``automl-zero bench network``).

Workload: the hand-designed 2-layer network (``automl-zero example neural_net``)
on 10 ``scalar_2layer_nn_regression_task`` tasks of 1000 train / 100 valid
examples, one epoch. The yardstick is ``nn_reference.c``, the same network's
training loop in C, built here with the system compiler (``-O3 -march=native
-ffast-math``) and run on the same data and initial weights in the same
session: the original C++ runs at about 1.0x of this loop at F=16. Times are
medians over repeats; the ratio is ours / the C loop's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from automl_zero.executor.executor import MemorySpec, TaskBatch, execute
from automl_zero.language.generator import neural_net_algorithm
from automl_zero.tasks import TaskSpec, make_tasks

__all__ = ["NetworkBenchResult", "network_tasks", "compile_reference",
           "run_network_benchmark", "REFERENCE_SOURCE", "SWEEP_SIZES"]

REFERENCE_SOURCE = Path(__file__).with_name("nn_reference.c")
CFLAGS = ("-O3", "-march=native", "-ffast-math", "-fno-finite-math-only")
NETWORK_MEMORY = MemorySpec(5, 9, 2)
SWEEP_SIZES = (4, 8, 16, 32, 64, 128, 256)
# The sweep: a learning rate small enough and a stopping threshold large enough
# that every step runs at every F (the teacher's outputs grow with F).
SWEEP_LEARNING_RATE = 1e-6
SWEEP_MAX_ABS_ERROR = 1e9
MAX_ABS_ERROR = 100.0


@dataclass(frozen=True)
class NetworkBenchResult:
    """One (F, learning rate) line of the network benchmark."""

    features_size: int
    learning_rate: float
    us_per_eval: float  # this project, median over repeats
    train_steps: int  # training steps one evaluation ran (all tasks)
    reference_us: float | None  # the C loop; None without a C compiler
    reference_steps: int | None
    max_fitness_diff: float | None  # |ours - C| over tasks (reduction order only)

    @property
    def ns_per_task_step(self) -> float:
        """Time per training step of one task (validation and Setup included)."""
        return self.us_per_eval * 1e3 / max(self.train_steps, 1)

    @property
    def ratio(self) -> float | None:
        if self.reference_us is None:
            return None
        return self.us_per_eval / self.reference_us

    def to_dict(self) -> dict:
        return dict(self.__dict__, ratio=self.ratio,
                    ns_per_task_step=self.ns_per_task_step)


def network_tasks(features_size: int, num_tasks: int = 10, num_train: int = 1000,
                  num_valid: int = 100) -> list:
    """The benchmark's tasks: 2-layer teacher networks, one epoch."""
    return make_tasks([TaskSpec("scalar_2layer_nn_regression_task", features_size,
                                num_train, num_valid, num_tasks=num_tasks)])


def compile_reference(features_size: int, out_dir: Path, fused: bool = False
                      ) -> Path | None:
    """Build the C loop for one F (``fused``: the hand-fused variant); None when
    no C compiler is found."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None
    exe = out_dir / f"nn_reference_{features_size}{'_fused' if fused else ''}"
    subprocess.run([cc, *CFLAGS, f"-DF={features_size}", *(["-DFUSED"] if fused else []),
                    str(REFERENCE_SOURCE), "-o", str(exe), "-lm"], check=True,
                   capture_output=True)
    return exe


def _write_reference_input(path: Path, tasks: Sequence, learning_rate: float,
                           repeats: int, seed: int,
                           max_abs_error: float = MAX_ABS_ERROR) -> None:
    """The tasks and the network's initial weights (Setup as our executor ran it)."""
    alg = neural_net_algorithm(learning_rate)
    batch = TaskBatch.from_tasks(tasks)  # as timed: the same random draws
    after_setup = execute([alg], batch, NETWORK_MEMORY, [seed], num_train_examples=0,
                          return_memory=True).final_memory
    _, vectors, matrices = after_setup
    nt = tasks[0].num_train_examples
    nv = tasks[0].num_valid_examples
    parts = [np.array([len(tasks), nt, nv, repeats], dtype=np.int64).tobytes(),
             np.array([learning_rate, max_abs_error]).tobytes()]
    for t, task in enumerate(tasks):
        order = task.epochs.reshape(-1)[:nt]
        parts += [np.ascontiguousarray(a, dtype=np.float64).tobytes() for a in (
            matrices[0, t, 0], vectors[0, t, 2], task.train_features[order],
            task.train_labels[order], task.valid_features, task.valid_labels)]
    path.write_bytes(b"".join(parts))


def _time_project(tasks: Sequence, learning_rate: float, repeats: int, evals: int,
                  seed: int, max_abs_error: float) -> tuple[float, int, np.ndarray]:
    alg = neural_net_algorithm(learning_rate)
    batch = TaskBatch.from_tasks(tasks)
    algs = [alg] * evals
    seeds = [seed] * evals
    result = execute(algs, batch, NETWORK_MEMORY, seeds,
                     max_abs_error=max_abs_error)  # warm-up (compiles)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        execute(algs, batch, NETWORK_MEMORY, seeds, max_abs_error=max_abs_error,
                check_memory=False)
        times.append(time.perf_counter() - t0)
    return (float(np.median(times)) / evals * 1e6, int(result.train_steps[0]),
            result.fitness[0])


def run_network_benchmark(features_sizes: Sequence[int] = (16, 32),
                          learning_rates: Sequence[float] = (0.001, 0.01),
                          repeats: int = 7, evals: int = 5, seed: int = 1,
                          with_reference: bool = True,
                          max_abs_error: float = MAX_ABS_ERROR,
                          num_train: int = 1000, num_valid: int = 100,
                          report: Callable[[NetworkBenchResult], None] | None = None
                          ) -> list[NetworkBenchResult]:
    """Time the network at each (F, learning rate), ours and the C loop's.
    ``max_abs_error``: the early-stopping threshold of both (the sweep raises it:
    the teacher's outputs grow with F)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="automl_zero_bench_") as tmp:
        tmp_dir = Path(tmp)
        for f in features_sizes:
            tasks = network_tasks(f, num_train=num_train, num_valid=num_valid)
            exe = compile_reference(f, tmp_dir) if with_reference else None
            for lr in learning_rates:
                us, steps, fitness = _time_project(tasks, lr, repeats, evals, seed,
                                                   max_abs_error)
                ref_us = ref_steps = diff = None
                if exe is not None:
                    data = tmp_dir / f"input_{f}_{lr}.bin"
                    _write_reference_input(data, tasks, lr, max(repeats, 3) * evals,
                                           seed, max_abs_error)
                    out = json.loads(subprocess.run(
                        [str(exe), str(data)], check=True, capture_output=True,
                        text=True).stdout)
                    ref_us, ref_steps = out["median_us"], int(out["train_steps"])
                    diff = float(np.max(np.abs(np.asarray(out["fitness"]) - fitness)))
                r = NetworkBenchResult(f, lr, us, steps, ref_us, ref_steps, diff)
                results.append(r)
                if report is not None:
                    report(r)
    return results

