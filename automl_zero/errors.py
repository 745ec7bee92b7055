"""Exceptions raised for bad user input (configs, program text, data files)."""

from __future__ import annotations


class AutoMLZeroError(Exception):
    """Base class of every error this package raises on bad input."""


class ConfigError(AutoMLZeroError, ValueError):
    """A config file, config key or config value is invalid; the message names it."""


class ProgramParseError(AutoMLZeroError, ValueError):
    """Program text could not be parsed; the message names the line and the problem."""


class DataError(AutoMLZeroError, ValueError):
    """A data set file is missing, malformed, or too small for the requested task."""
