"""The executor: runs algorithms on tasks (the hot numba kernel ``_kernel``,
generated from the op table by ``codegen``) and returns per-task fitness."""

from automl_zero.executor.executor import (
    DEFAULT_MAX_ABS_ERROR,
    ExecutionResult,
    MemorySpec,
    TaskBatch,
    execute,
    execute_packed,
    needs_compile,
    pack_algorithms,
)

__all__ = ["DEFAULT_MAX_ABS_ERROR", "ExecutionResult", "MemorySpec", "TaskBatch",
           "execute", "execute_packed", "needs_compile", "pack_algorithms"]
