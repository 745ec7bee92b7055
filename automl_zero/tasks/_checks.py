"""Value checks shared by task specs, ``Task.from_arrays`` and configs, and the
memory limit that refuses settings which cannot fit.

Every check takes ``where``, the key path used in its error message, and
quotes bad values through :func:`~automl_zero.errors.excerpt`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from automl_zero.errors import ConfigError, excerpt, format_bytes

__all__ = ["UINT32", "MAX_FEATURES_SIZE", "is_int", "parse_int", "parse_positive_int",
           "parse_nonneg_int", "parse_float", "parse_sequence", "memory_limit_bytes",
           "check_memory"]

UINT32 = 2**32

# The executor compiles one kernel per feature size F, passing F as the length
# of a tuple type (``(0,) * F``, executor.py); numba refuses tuples of more than
# 1000 elements ("Tuple ... length must be smaller than 1000", numba ir_utils).
MAX_FEATURES_SIZE = 1000

# Used when the machine's memory cannot be read.
_FALLBACK_MEMORY_LIMIT = 2**40


def is_int(value: Any) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def parse_int(value: Any, where: str) -> int:
    if not is_int(value):
        raise ConfigError(f"{where}: must be an integer, got {excerpt(value)}")
    return int(value)


def parse_positive_int(value: Any, where: str) -> int:
    if not is_int(value) or value < 1:
        raise ConfigError(f"{where}: must be a positive integer, got {excerpt(value)}")
    return int(value)


def parse_nonneg_int(value: Any, where: str, upper: int | None = None) -> int:
    if not is_int(value) or value < 0 or (upper is not None and value >= upper):
        bound = f" below {upper}" if upper is not None else ""
        raise ConfigError(
            f"{where}: must be a non-negative integer{bound}, got {excerpt(value)}"
        )
    return int(value)


def parse_float(value: Any, where: str) -> float:
    """A finite number (ints too large for a float are refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ConfigError(f"{where}: must be a number, got {excerpt(value)}")
    try:
        result = float(value)
    except OverflowError:
        raise ConfigError(f"{where}: {excerpt(value)} is too large for a float") from None
    if not math.isfinite(result):
        raise ConfigError(f"{where}: must be finite, got {excerpt(value)}")
    return result


def parse_sequence(value: Any, where: str) -> Sequence[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: must be a list, got {excerpt(value)}")
    return value


def _cgroup_limit() -> int | None:
    """The memory limit of this process's cgroup (containers), if any."""
    for file in ("/sys/fs/cgroup/memory.max",
                 "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(file).read_text().strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text.isdigit() and int(text) < 2**60:  # "max" or a huge value: no limit
            return int(text)
    return None


@functools.lru_cache(maxsize=1)
def memory_limit_bytes() -> int:
    """Memory a run may plan for: this machine's physical memory, or its
    container's limit if lower (1 TiB if neither can be read).

    Settings whose arrays alone would need more than this are refused up front:
    they could never run, and would otherwise fail deep inside numpy or numba.
    """
    limits = []
    with contextlib.suppress(AttributeError, ValueError, OSError):
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    cgroup = _cgroup_limit()
    if cgroup is not None:
        limits.append(cgroup)
    limits = [n for n in limits if n > 0]
    return min(limits) if limits else _FALLBACK_MEMORY_LIMIT


def check_memory(needed: int, where: str, what: str, hint: str) -> None:
    """Raise ConfigError if ``needed`` bytes exceed :func:`memory_limit_bytes`.

    The message reads ``{where}: {what} would need {bytes} of memory, more than
    the {limit} available; {hint}``.
    """
    limit = memory_limit_bytes()
    if needed > limit:
        raise ConfigError(f"{where}: {what} would need {format_bytes(needed)} of memory, "
                          f"more than the {format_bytes(limit)} of this machine; {hint}")
