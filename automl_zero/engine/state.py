"""Validation of saved engine state (checkpoints are user files: every value
read back is checked for type and range before it reaches a numba kernel)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from automl_zero.errors import AutoMLZeroError

__all__ = ["StateError", "require", "check_int", "check_float", "check_list",
           "check_rng_state"]

# No engine count (individuals, steps) comes near this; larger means a corrupt file.
_MAX_COUNT = 2**62


class StateError(AutoMLZeroError):
    """Saved state (a checkpoint) is malformed; the message names the key."""


def require(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    """``value`` if it is a ``kind`` (bool is never an int here)."""
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise StateError(f"{where}: expected a number, got {value!r}")
    if not isinstance(value, kind):
        names = (kind.__name__ if isinstance(kind, type)
                 else " or ".join(k.__name__ for k in kind))
        got = "nothing" if value is None else type(value).__name__
        raise StateError(f"{where}: expected {_article(names)}, got {got}")
    return value


def _article(name: str) -> str:
    plain = {"dict": "object", "list": "list", "int": "integer", "float": "number",
             "str": "string"}
    if name == "int or float":
        return "a number"
    words = " or ".join(plain.get(n, n) for n in name.split(" or "))
    return ("an " if words[0] in "aeiou" else "a ") + words


def check_int(value: Any, where: str, lo: int = 0, hi: int = _MAX_COUNT) -> int:
    """An int in [lo, hi]."""
    value = require(value, int, where)
    if not lo <= value <= hi:
        raise StateError(f"{where}: {value} is outside [{lo}, {hi}]")
    return int(value)


def check_float(value: Any, where: str, lo: float = -math.inf, hi: float = math.inf,
                allow_nan: bool = False) -> float:
    """A float (ints accepted) in [lo, hi]."""
    value = float(require(value, (int, float), where))
    if math.isnan(value):
        if allow_nan:
            return value
        raise StateError(f"{where}: NaN is not allowed here")
    if not lo <= value <= hi:
        raise StateError(f"{where}: {value} is outside [{lo}, {hi}]")
    return value


def check_list(value: Any, where: str, length: int | None = None,
               max_length: int = _MAX_COUNT) -> list:
    """A list (of ``length`` items when given)."""
    value = require(value, list, where)
    if length is not None and len(value) != length:
        raise StateError(f"{where}: expected {length} items, got {len(value)}")
    if len(value) > max_length:
        raise StateError(f"{where}: {len(value)} items, more than the limit {max_length}")
    return value


def check_rng_state(state: dict, bit_generator: type, where: str) -> dict:
    """A bit generator state numpy accepts for ``bit_generator``."""
    probe = bit_generator()
    try:
        probe.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as err:
        raise StateError(f"{where}: not a valid {bit_generator.__name__} state "
                         f"({err})") from None
    return state


def float_array(values: Any, where: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float64 array of ``shape`` from nested lists of numbers."""
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise StateError(f"{where}: expected numbers of shape {shape}") from None
    if arr.shape != shape:
        raise StateError(f"{where}: expected shape {shape}, got {arr.shape}")
    return arr
