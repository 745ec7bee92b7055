"""Reading and writing algorithm files (paper-style text or lossless JSON)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Literal

from automl_zero.errors import ProgramParseError
from automl_zero.language.algorithm import Algorithm
from automl_zero.language.json_format import dumps_algorithm, loads_algorithm
from automl_zero.language.text_format import format_algorithm, parse_algorithm

__all__ = ["load_algorithm", "save_algorithm"]


def load_algorithm(path: str | os.PathLike[str],
                   feature_size: int | None = None) -> Algorithm:
    """Read an algorithm file: JSON if it starts with ``{`` (after whitespace), else text.

    ``feature_size`` converts integer const-set element indices of the text form
    (``v3[5] = -2.4``). Every error is a ``ProgramParseError`` whose message
    starts with the path, e.g. ``best.txt: line 3: ...``.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProgramParseError(f"{path}: no such algorithm file") from None
    except IsADirectoryError:
        raise ProgramParseError(f"{path}: is a directory, not an algorithm file") from None
    except UnicodeDecodeError as exc:
        raise ProgramParseError(f"{path}: not a UTF-8 text file ({exc.reason} at byte "
                                f"{exc.start})") from None
    except OSError as exc:
        raise ProgramParseError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        if text.lstrip().startswith("{"):
            return loads_algorithm(text)
        return parse_algorithm(text, feature_size=feature_size)
    except ProgramParseError as exc:
        raise ProgramParseError(f"{path}: {exc}") from None


def save_algorithm(alg: Algorithm, path: str | os.PathLike[str],
                   format: Literal["text", "json"] = "text") -> None:
    """Write ``alg`` atomically (temp file in the same directory, then ``os.replace``).

    A reader never sees a partly written file; on error the old file is kept.
    """
    if format == "text":
        content = format_algorithm(alg)
    elif format == "json":
        content = dumps_algorithm(alg)
    else:
        raise ValueError(f"format must be 'text' or 'json', got {format!r}")
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates mode 0600: keep the replaced file's mode, else rw-r--r--
        # (reading the umask would mean setting it, which races with threads).
        try:
            mode = target.stat().st_mode & 0o777
        except OSError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
