"""Executor: runs algorithms on tasks through the numba kernel (docs/semantics.md §4).

``execute`` is the batched entry point: many algorithms, many tasks, one kernel
call. Task data is packed once per task collection into a ``TaskBatch``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from automl_zero.executor import _kernel
from automl_zero.executor._kernel import execute_group as _execute_group
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.instruction import FEATURES_VECTOR_ADDRESS
from automl_zero.language.ops import IS_RANDOM, OUT_KIND, Kind

if TYPE_CHECKING:
    from automl_zero.tasks import Task

__all__ = ["MemorySpec", "TaskBatch", "ExecutionResult", "execute", "execute_packed",
           "pack_algorithms", "needs_compile", "DEFAULT_MAX_ABS_ERROR",
           "TASK_CHUNK", "lanes_for"]

DEFAULT_MAX_ABS_ERROR = 100.0
# Tasks executed in lockstep by one kernel call at most. Lockstep amortises
# instruction dispatch over tasks and runs W tasks per SIMD operation; the
# kernel compiles once per feature size whatever the number of tasks.
TASK_CHUNK = 32
LANES = _kernel.W  # tasks to a SIMD block of lanes


def lanes_for(num_tasks: int) -> int:
    """Memory lanes the kernel allocates for a group of ``num_tasks`` tasks."""
    return -(-num_tasks // LANES) * LANES


@dataclass(frozen=True)
class MemorySpec:
    """Number of scalar, vector and matrix addresses (the original's compile-time
    MAX_*_ADDRESSES, here a run-time setting)."""

    num_scalar_addresses: int = 20
    num_vector_addresses: int = 20
    num_matrix_addresses: int = 20

    def __post_init__(self) -> None:
        if self.num_scalar_addresses < 2:
            raise ValueError("num_scalar_addresses must be >= 2 (s0 label, s1 prediction)")
        if self.num_vector_addresses < 1:
            raise ValueError("num_vector_addresses must be >= 1 (v0 features)")
        if self.num_matrix_addresses < 0:
            raise ValueError("num_matrix_addresses must be >= 0")

    @property
    def sizes(self) -> tuple[int, int, int]:
        return (self.num_scalar_addresses, self.num_vector_addresses,
                self.num_matrix_addresses)

    def covering(self, *algorithms: Algorithm) -> MemorySpec:
        """This memory, grown where an algorithm uses more addresses. Extra
        addresses start at zero like all memory, so a hand-written algorithm
        behaves as it would with a larger build of the original."""
        need = [a.max_addresses() for a in algorithms]
        return MemorySpec(*(max([own] + [n[i] for n in need])
                            for i, own in enumerate(self.sizes)))


@dataclass(frozen=True, eq=False)
class TaskGroup:
    """Tasks that share one schedule (examples, epochs, validation size), run
    in lockstep by one kernel call."""

    indices: np.ndarray  # int64: positions of the tasks in the collection
    train_x: np.ndarray  # float64 (T, E * N, F): examples in the order they are seen
    train_y: np.ndarray  # float64 (T, E * N)
    per_epoch: int  # N
    valid_x: np.ndarray  # float64 (T, NV, F)
    valid_y: np.ndarray  # float64 (T, NV)
    is_accuracy: np.ndarray  # bool (T,): ACCURACY or MULTICLASS_ACCURACY
    num_classes: np.ndarray  # int64 (T,): K of a MULTICLASS_ACCURACY task, else 0

    @property
    def num_tasks(self) -> int:
        return len(self.indices)

    @property
    def max_train(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def n_valid(self) -> int:
        return int(self.valid_x.shape[1])

    @classmethod
    def from_tasks(cls, tasks: Sequence[Task], indices: Sequence[int]) -> TaskGroup:
        """Pack ``tasks``, each task's arrays contiguous."""
        # Materialise each task's example stream (epoch orders applied) once, so
        # the kernel reads training examples contiguously.
        xs = np.stack([t.train_features[t.epochs.reshape(-1)] for t in tasks])
        ys = np.stack([t.train_labels[t.epochs.reshape(-1)] for t in tasks])
        vxs = np.stack([t.valid_features for t in tasks])
        vys = np.stack([t.valid_labels for t in tasks])
        return cls(np.asarray(indices, dtype=np.int64),
                   np.ascontiguousarray(xs, dtype=np.float64),
                   np.ascontiguousarray(ys, dtype=np.float64),
                   int(tasks[0].num_train_examples),
                   np.ascontiguousarray(vxs, dtype=np.float64),
                   np.ascontiguousarray(vys, dtype=np.float64),
                   np.array([int(t.eval_type) in (4, 5) for t in tasks], dtype=np.bool_),
                   np.array([t.num_classes for t in tasks], dtype=np.int64))


@dataclass(frozen=True, eq=False)
class TaskBatch:
    """A task collection packed for the kernel, grouped by schedule."""

    tasks: tuple[Task, ...]
    groups: tuple[TaskGroup, ...]

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    @property
    def features_size(self) -> int:
        return int(self.groups[0].train_x.shape[2])

    @property
    def num_classes(self) -> int:
        """The most classes of a MULTICLASS_ACCURACY task (0: no such task)."""
        return max(t.num_classes for t in self.tasks)

    @property
    def multiclass(self) -> bool:
        """Whether every task is MULTICLASS_ACCURACY: predictions in v2, labels
        in v1 (docs/semantics.md §4.13)."""
        return all(t.num_classes > 0 for t in self.tasks)

    @classmethod
    def from_tasks(cls, tasks: Sequence[Task], task_chunk: int | None = None
                   ) -> TaskBatch:
        """Pack tasks; all must have the same feature size. At most
        ``task_chunk`` tasks run in lockstep per kernel call (default:
        ``TASK_CHUNK``; 1 runs each task alone)."""
        if task_chunk is not None and int(task_chunk) < 1:
            raise ValueError(f"task_chunk must be >= 1, got {task_chunk}")
        tasks = tuple(tasks)
        if not tasks:
            raise ValueError("a task collection needs at least one task")
        sizes = {t.features_size for t in tasks}
        if len(sizes) != 1:
            raise ValueError(f"all tasks of a collection must have the same "
                             f"features_size, got {sorted(sizes)}")
        chunk_size = TASK_CHUNK if task_chunk is None else int(task_chunk)
        by_schedule: dict[tuple[int, int, int], list[int]] = {}
        for i, t in enumerate(tasks):
            key = (t.num_train_examples, t.num_train_epochs, t.num_valid_examples)
            by_schedule.setdefault(key, []).append(i)
        groups = []
        for members in by_schedule.values():
            # Chunks of at most task_chunk tasks bound the kernel's memory.
            for start in range(0, len(members), chunk_size):
                chunk = members[start:start + chunk_size]
                groups.append(TaskGroup.from_tasks([tasks[i] for i in chunk], chunk))
        groups = tuple(groups)
        return cls(tasks, groups)

    def subset(self, indices: Sequence[int]) -> TaskBatch:
        """The batch restricted to some tasks (e.g. a first stage for hurdles),
        chunked as this batch."""
        chunk = max(g.num_tasks for g in self.groups)
        return TaskBatch.from_tasks([self.tasks[i] for i in indices], task_chunk=chunk)


@dataclass(frozen=True)
class ExecutionResult:
    """Per-task fitness, train steps and (if requested) recorded errors."""

    fitness: np.ndarray  # float64 (P, T)
    train_steps: np.ndarray  # int64 (P,): training steps over all tasks
    train_errors: np.ndarray  # float64 (P, T, R)
    valid_errors: np.ndarray  # float64 (P, T, R)
    num_errors: np.ndarray  # int64 (P, T, 2): recorded train / valid errors
    valid_steps: np.ndarray | None = None  # int64 (P,): validation Predicts run
    # Final memory when requested: scalars (P, T, S), vectors (P, T, V, F),
    # matrices (P, T, M, F, F); None otherwise.
    final_memory: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    # Predictions of the last validation pass when requested: float64 (P, T, NV)
    # (NV: the largest number of validation examples; NaN where none was
    # made: a task stopped in training, after a validation stop, padding);
    # with MULTICLASS_ACCURACY tasks (P, T, NV, K): class probabilities, the
    # scalar prediction of other tasks in [..., 0].
    predictions: np.ndarray | None = None


@contextmanager
def _slp_vectorization() -> Iterator[None]:
    """Compile with LLVM's SLP vectoriser on (numba turns it off by default
    since an old LLVM miscompiled): it turns each op body's per-lane
    statements into SIMD operations, 2x faster at F=16. The kernel's results
    are checked against the reference interpreter and the original's numbers."""
    from numba.core import config

    old = config.SLP_VECTORIZE
    config.SLP_VECTORIZE = 1
    try:
        yield
    finally:
        config.SLP_VECTORIZE = old


_EMPTY_CODE = np.zeros((0, 4), dtype=np.int32)
_EMPTY_DATA = np.zeros((0, 3))


_IS_RANDOM = [bool(x) for x in IS_RANDOM]
_WRITES_VECTOR = [int(k) == int(Kind.VECTOR) for k in OUT_KIND]


def pack_algorithms(algorithms: Sequence[Algorithm]) -> tuple[np.ndarray, np.ndarray,
                                                              np.ndarray, np.ndarray]:
    """Concatenate algorithms into kernel arrays, NO_OPs dropped:
    (code int32 (n, 4), data float64 (n, 3), starts int64 (P, 5), has_random)."""
    flat: list = []  # 7 numbers per instruction
    extend = flat.extend
    starts: list = []
    has_random = []
    n = 0
    for alg in algorithms:
        start = n
        random = False
        writes_v0 = False
        bounds = []
        for c, component in enumerate((alg.setup, alg.predict, alg.learn)):
            for ins in component:
                op = ins.op
                if op:
                    row = ins._row
                    if row is None:
                        d = ins.data
                        row = (op, ins.in1, ins.in2, ins.out, d[0], d[1], d[2])
                        object.__setattr__(ins, "_row", row)
                    extend(row)
                    n += 1
                    if _IS_RANDOM[op]:
                        random = True
                    if (c == 1 and _WRITES_VECTOR[op]
                            and ins.out == FEATURES_VECTOR_ADDRESS):
                        writes_v0 = True
            bounds.append(n)
        starts += (start, bounds[0], bounds[1], bounds[2], writes_v0)
        has_random.append(random)
    if n:
        # Op codes and addresses are small integers: exact in float64.
        table = np.array(flat, dtype=np.float64).reshape(n, 7)
        code = table[:, :4].astype(np.int32)
        data = np.ascontiguousarray(table[:, 4:])
    else:
        code, data = _EMPTY_CODE, _EMPTY_DATA
    return (code, data, np.array(starts, dtype=np.int64).reshape(-1, 5),
            np.array(has_random, dtype=np.bool_))


def execute(algorithms: Sequence[Algorithm], batch: TaskBatch, memory: MemorySpec,
            seeds: Sequence[int] | np.ndarray,
            max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
            num_train_examples: int | Sequence[int] | None = None,
            num_valid_examples: int | None = None,
            record_errors: int = 0, check_memory: bool = True,
            return_memory: bool = False, record_predictions: bool = False
            ) -> ExecutionResult:
    """Execute algorithms on every task of ``batch`` (docs/semantics.md §4).

    ``seeds[p]`` seeds the random-init ops of algorithm ``p`` before it runs.
    ``num_train_examples`` (one number, or one per task) limits the training
    steps like the original's ``num_all_train_examples`` (train budget, FEC
    fingerprint); default: all examples of all epochs. ``num_valid_examples``
    limits validation; the loss is still divided by the task's number of
    validation examples. ``record_errors`` > 0 records that many per-example
    errors of the first epoch (FEC fingerprints). ``return_memory`` returns
    each algorithm's memory after its run (with ``num_train_examples=0``: the
    memory right after Setup). ``record_predictions`` returns the predictions
    of the last validation pass (docs/semantics.md §4.12).
    """
    if check_memory:
        for alg in algorithms:
            alg.check_memory(*memory.sizes)
    return execute_packed(pack_algorithms(algorithms), batch, memory, seeds,
                          max_abs_error, num_train_examples, num_valid_examples,
                          record_errors, return_memory, record_predictions)


def execute_packed(packed: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                   batch: TaskBatch, memory: MemorySpec,
                   seeds: Sequence[int] | np.ndarray,
                   max_abs_error: float = DEFAULT_MAX_ABS_ERROR,
                   num_train_examples: int | Sequence[int] | None = None,
                   num_valid_examples: int | None = None,
                   record_errors: int = 0, return_memory: bool = False,
                   record_predictions: bool = False,
                   valid_max_abs_error: float | None = None) -> ExecutionResult:
    """``execute`` on programs already packed (``pack_algorithms`` layout);
    addresses must fit ``memory`` (not checked). ``valid_max_abs_error``:
    the validation's own stopping threshold (default ``max_abs_error``, as
    the original; inf for examples without labels)."""
    code, data, starts, has_random = packed
    num = len(starts)
    classes = batch.num_classes
    if classes and memory.num_vector_addresses < 3:
        raise ValueError("MULTICLASS_ACCURACY tasks need num_vector_addresses >= 3 "
                         "(v1 holds the label vector, v2 the predictions)")
    seeds_arr = np.asarray(seeds, dtype=np.int64).reshape(num)
    seeds_arr = np.where(has_random, seeds_arr % (2**32), -1)
    n_tasks = batch.num_tasks
    if num_train_examples is None:
        n_train = None
    else:
        n_train = np.broadcast_to(np.asarray(num_train_examples, dtype=np.int64),
                                  (n_tasks,))
    fitness = np.zeros((num, n_tasks))
    steps = np.zeros(num, dtype=np.int64)
    valid_steps = np.zeros(num, dtype=np.int64)
    train_err = np.zeros((num, n_tasks, record_errors))
    valid_err = np.zeros((num, n_tasks, record_errors))
    n_err = np.zeros((num, n_tasks, 2), dtype=np.int64)
    single = len(batch.groups) == 1
    n_s, n_v, n_m = (max(memory.num_scalar_addresses, 2),
                     max(memory.num_vector_addresses, 1),
                     max(memory.num_matrix_addresses, 1))
    f = batch.features_size
    mem_out = None
    if return_memory:
        mem_out = (np.zeros((num, n_tasks, n_s)), np.zeros((num, n_tasks, n_v, f)),
                   np.zeros((num, n_tasks, n_m, f, f)))
    predictions = None
    if record_predictions:
        predictions = np.full((num, n_tasks, max(g.n_valid for g in batch.groups),
                               max(classes, 1)), np.nan)
    for g in batch.groups:
        n_all = g.max_train
        if n_train is not None:
            wanted = n_train[g.indices]
            if (wanted != wanted[0]).any():
                raise ValueError("num_train_examples must be equal for tasks with "
                                 "the same schedule")
            n_all = min(int(wanted[0]), n_all)
        n_valid = g.n_valid if num_valid_examples is None else min(
            int(num_valid_examples), g.n_valid)
        if single:
            fit_g, te_g, ve_g, ne_g = fitness, train_err, valid_err, n_err
        else:
            t = g.num_tasks
            fit_g = np.zeros((num, t))
            te_g = np.zeros((num, t, record_errors))
            ve_g = np.zeros((num, t, record_errors))
            ne_g = np.zeros((num, t, 2), dtype=np.int64)
        steps_g = np.zeros(num, dtype=np.int64)
        vsteps_g = np.zeros(num, dtype=np.int64)
        t = g.num_tasks
        p_mem = num if return_memory else 0
        s_g = np.zeros((p_mem, n_s, t))
        v_g = np.zeros((p_mem, n_v, f, t))
        m_g = np.zeros((p_mem, n_m, f, f, t))
        pred_g = np.full((num, t, g.n_valid if record_predictions else 0,
                          max(classes, 1)), np.nan)
        with _slp_vectorization():
            _execute_group(code, data, starts, seeds_arr, g.train_x, g.train_y,
                           g.per_epoch, n_all, g.valid_x, g.valid_y,
                           n_valid, float(g.n_valid), g.is_accuracy, g.num_classes,
                           memory.num_scalar_addresses, memory.num_vector_addresses,
                           memory.num_matrix_addresses, float(max_abs_error),
                           float(max_abs_error if valid_max_abs_error is None
                                 else valid_max_abs_error),
                           fit_g, steps_g, vsteps_g, te_g, ve_g, ne_g, pred_g,
                           s_g, v_g, m_g, (0,) * f)
        steps += steps_g
        valid_steps += vsteps_g
        if predictions is not None:
            predictions[:, g.indices, :g.n_valid] = pred_g
        if mem_out is not None:
            mem_out[0][:, g.indices] = np.moveaxis(s_g, -1, 1)
            mem_out[1][:, g.indices] = np.moveaxis(v_g, -1, 1)
            mem_out[2][:, g.indices] = np.moveaxis(m_g, -1, 1)
        if not single:
            fitness[:, g.indices] = fit_g
            train_err[:, g.indices] = te_g
            valid_err[:, g.indices] = ve_g
            n_err[:, g.indices] = ne_g
    if predictions is not None and not classes:
        predictions = predictions[..., 0]
    if mem_out is not None and memory.num_matrix_addresses == 0:
        mem_out = (mem_out[0], mem_out[1], mem_out[2][:, :, :0])
    return ExecutionResult(fitness, steps, train_err, valid_err, n_err, valid_steps,
                           mem_out, predictions)


def needs_compile(batch: TaskBatch) -> bool:
    """Whether running ``batch`` will compile a kernel variant this process does
    not have in memory or in numba's on-disk cache (one per feature size). False
    when that cannot be told (an unknown numba cache layout)."""
    wanted = {batch.features_size}
    dispatcher = _execute_group
    for sig in dispatcher.signatures:
        wanted.discard(len(sig[-1]))
    if not wanted:
        return False
    try:
        index = dispatcher._cache._cache_file._load_index()
        for key in index:
            sig = key[0]
            wanted.discard(sig[-1].count)
    except Exception:  # numba internals: never fail a run over a notice
        return False
    return bool(wanted)
