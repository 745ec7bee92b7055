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
from automl_zero.userfiles import read_text_file

__all__ = ["MAX_ALGORITHM_FILE_BYTES", "load_algorithm", "save_algorithm"]


# Algorithm files are small (a few kB); anything larger than this is refused
# before it is read whole (also guards against /dev/zero and the like).
MAX_ALGORITHM_FILE_BYTES = 64 * 2**20


def _read_text(path: str | os.PathLike[str]) -> str:
    """The UTF-8 text of an algorithm file (a byte order mark is dropped)."""
    text = read_text_file(path, "algorithm file", ProgramParseError,
                          MAX_ALGORITHM_FILE_BYTES)
    # Universal newlines, as Path.read_text: line numbers count \r\n, \r and \n.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_blank(text: str) -> bool:
    """True if ``text`` holds nothing but whitespace and comments."""
    return not any(line.split("#", 1)[0].strip() for line in text.split("\n"))


def load_algorithm(path: str | os.PathLike[str],
                   feature_size: int | None = None) -> Algorithm:
    """Read an algorithm file: JSON if its name ends in ``.json`` or it starts with
    ``{`` (after whitespace), else paper-style text.

    ``feature_size`` converts integer const-set element indices of the text form
    (``v3[5] = -2.4``). Every error is a ``ProgramParseError`` whose message
    starts with the path, e.g. ``best.txt: line 3: ...``; an empty file (or one
    of only comments), a binary file and a non-UTF-8 file are errors.
    """
    text = _read_text(path)
    if _is_blank(text):
        raise ProgramParseError(f"{path}: holds no algorithm (the file is empty or only "
                                f"comments; expected def Setup():, def Predict(): and "
                                f"def Learn(): or the JSON form)")
    try:
        if str(path).lower().endswith(".json") or text.lstrip().startswith("{"):
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
