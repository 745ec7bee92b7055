"""Evolved programs as models: a pure-NumPy runtime and a standalone Python export.

* :mod:`automl_zero.export.runtime`: trains and runs one program with NumPy only,
  exactly as the executor does on one task (``ProgramModel``).
* :mod:`automl_zero.export.python_module`: ``export_python`` writes a program as a
  standalone module (NumPy only) with a scikit-learn compatible estimator.
* ``program_model``: a ``ProgramModel`` for an ``Algorithm``, run through the op
  table's NumPy statements.

The scikit-learn estimators of the package are in :mod:`automl_zero.sklearn`.
See docs/export.md.
"""

from __future__ import annotations

from automl_zero.export.python_module import (
    algorithm_rows,
    export_python,
    memory_sizes_for,
    program_model,
)
from automl_zero.export.runtime import ProgramModel, Xoshiro256Plus

__all__ = ["ProgramModel", "Xoshiro256Plus", "algorithm_rows", "export_python",
           "memory_sizes_for", "program_model"]
