"""Exceptions raised for bad user input (configs, program text, data files),
and the helper that quotes user input in their messages.

Every message names where the problem is (file and line, or key path) and
quotes user input through :func:`excerpt`, so a message stays one line of
bounded length however large or strange the input is.
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["AutoMLZeroError", "ConfigError", "ProgramParseError", "DataError",
           "EXCERPT_LIMIT", "excerpt", "format_bytes"]


class AutoMLZeroError(Exception):
    """Base class of every error this package raises on bad input."""


class ConfigError(AutoMLZeroError, ValueError):
    """A config file, config key or config value is invalid; the message names it."""


class ProgramParseError(AutoMLZeroError, ValueError):
    """Program text could not be parsed; the message names the line and the problem."""


class DataError(AutoMLZeroError, ValueError):
    """A data set file is missing, malformed, or too small for the requested task."""


# Longest quotation of user input in a message (characters, quotes included).
EXCERPT_LIMIT = 80
_ELLIPSIS = "…"
# Integers with more bits than this are described, not printed (printing an
# integer of more than 4300 digits raises ValueError in Python >= 3.11).
_MAX_INT_BITS = 256

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = EXCERPT_LIMIT
_REPR.maxother = EXCERPT_LIMIT
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 6
_REPR.maxlong = 40


def _int_text(value: int) -> str:
    if value.bit_length() <= _MAX_INT_BITS:
        return repr(value)
    digits = int(value.bit_length() * 0.30103) + 1
    return f"<integer of about {digits} digits>"


def excerpt(value: Any, limit: int = EXCERPT_LIMIT) -> str:
    """``repr(value)`` cut to at most ``limit`` characters (ending in ``…`` if cut).

    Safe on any input: huge strings and integers, deeply nested containers,
    lone surrogates and control characters (shown escaped).
    """
    if isinstance(value, bool) or value is None:
        text = repr(value)
    elif isinstance(value, int):
        text = _int_text(value)
    elif isinstance(value, str):
        text = repr(value[:limit])
        if len(value) > limit or len(text) > limit:  # cut inside the quotes
            quote, body = text[0], text[1:-1]
            return quote + body[:limit - 3] + _ELLIPSIS + quote
    else:
        try:
            text = _REPR.repr(value)
        except Exception:  # a broken __repr__ of some user object
            text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = text[:limit - 1] + _ELLIPSIS
    return text


def format_bytes(n: float) -> str:
    """A byte count for messages: ``1.5 GB`` (powers of 1000), exact below 1 kB."""
    if n < 1000:
        return f"{int(n)} bytes"
    units = ("kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
    for unit in units:
        n /= 1000
        if n < 1000 or unit == units[-1]:
            break
    return f"{n:.3g} {unit}"
