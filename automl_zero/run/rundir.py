"""The run directory: every file a search writes, and the lock that gives it to
one process at a time.

Files (docs/format.md): ``config.json`` (the resolved config),
``progress.jsonl`` (one line per progress report), ``events.jsonl`` (one line
per event: experiment start and end, best algorithm changed, run end),
``checkpoint.json`` (the whole state), ``result.json`` and
``best_algorithm{.txt,_effective.txt,.json}``. Whole files are written
atomically (temp file, fsync, rename: a reader or a crash sees the old or the
new file, never a part) with the user's umask; JSON-lines files are appended
and, on resume, cut back to the lines the checkpoint had seen. Every OS error
becomes a one-line ``RunDirError`` naming the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from automl_zero.errors import AutoMLZeroError

__all__ = ["RunDir", "RunDirError", "atomic_write_text", "new_run_dir",
           "CHECKPOINT", "PROGRESS", "EVENTS", "RESULT"]

CHECKPOINT = "checkpoint.json"
PROGRESS = "progress.jsonl"
EVENTS = "events.jsonl"
RESULT = "result.json"
CONFIG = "config.json"
LOCK = ".lock"
# Files that mark a directory as holding a run.
_RUN_FILES = (CHECKPOINT, PROGRESS, EVENTS, RESULT, CONFIG)


class RunDirError(AutoMLZeroError):
    """A run directory cannot be used (in use, holds another run, OS error)."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _describe(err: OSError) -> str:
    return err.strerror or str(err)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``path`` atomically with mode 0666 & ~umask; an OS error leaves the
    old file intact and raises ``RunDirError``."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                   suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise RunDirError(f"{path}: cannot write ({_describe(err)})") from None
    except BaseException:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise


def new_run_dir(root: Path = Path("runs")) -> Path:
    """``runs/<timestamp>`` (a suffix keeps it unique)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = root / stamp
    i = 1
    while path.exists():
        path = root / f"{stamp}-{i}"
        i += 1
    return path


class RunDir:
    """A locked run directory. ``create`` starts a new run there, ``open``
    continues one; the lock (``flock`` on ``.lock``) is held until ``close``
    or the process ends, so a second process fails at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def create(cls, path: Path) -> RunDir:
        """A directory for a new run: created if needed; refused if it holds
        another run or is in use."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise RunDirError(f"{path}: exists and is not a directory; choose another "
                              f"--out")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunDirError(f"{path}: cannot create the run directory "
                              f"({_describe(err)})") from None
        run = cls(path)
        run._lock()
        try:
            if (path / CHECKPOINT).exists():
                raise RunDirError(f"{path} already holds a run; continue it with "
                                  f"`automl-zero resume {path}` or choose another --out")
            present = [name for name in _RUN_FILES if (path / name).exists()]
            if present:
                raise RunDirError(f"{path} holds files of another run "
                                  f"({', '.join(present)}) but no checkpoint to resume; "
                                  f"choose another --out or delete them")
        except BaseException:
            run.close()
            raise
        return run

    @classmethod
    def open(cls, path: Path) -> RunDir:
        """The directory of an existing run, for ``resume``."""
        path = Path(path)
        if not path.exists():
            raise RunDirError(f"{path}: no such run directory")
        if not path.is_dir():
            raise RunDirError(f"{path}: not a run directory (it is a file)")
        run = cls(path)
        run._lock()
        if not (path / CHECKPOINT).exists():
            run.close()
            raise RunDirError(f"{path}: no checkpoint to resume from "
                              f"({CHECKPOINT} is missing)")
        return run

    def _lock(self) -> None:
        lock = self.path / LOCK
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:
            raise RunDirError(f"{lock}: cannot open the lock file "
                              f"({_describe(err)})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            holder = ""
            with contextlib.suppress(OSError):
                holder = lock.read_text().strip()
            raise RunDirError(f"{self.path} is in use by another search"
                              + (f" (process {holder})" if holder else "")
                              + "; wait for it to end or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def close(self) -> None:
        """Release the lock."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- files
    def write_text(self, name: str, text: str) -> None:
        atomic_write_text(self.path / name, text)

    def write_json(self, name: str, obj: Any, indent: int | None = 2) -> None:
        self.write_text(name, json.dumps(obj, indent=indent))

    def read_json(self, name: str) -> Any:
        """A JSON file of the run (``RunDirError`` names a missing or corrupt file)."""
        path = self.path / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunDirError(f"{path}: missing") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise RunDirError(f"{path}: corrupt ({err})") from None
        except OSError as err:
            raise RunDirError(f"{path}: cannot read ({_describe(err)})") from None

    def append_line(self, name: str, obj: Any) -> None:
        """Append one JSON line to a ``.jsonl`` file."""
        path = self.path / name
        try:
            with open(path, "a") as f:
                f.write(json.dumps(obj) + "\n")
        except OSError as err:
            raise RunDirError(f"{path}: cannot write ({_describe(err)})") from None

    def cut_lines(self, name: str, lines: int) -> int:
        """Keep the first ``lines`` complete lines of ``name`` (what a checkpoint
        had seen; later lines are redone by the resumed run). Returns the count
        kept."""
        path = self.path / name
        if not path.exists():
            return 0
        try:
            kept = path.read_text().splitlines(keepends=True)[:lines]
        except OSError as err:
            raise RunDirError(f"{path}: cannot read ({_describe(err)})") from None
        kept = [line for line in kept if line.endswith("\n")]
        self.write_text(name, "".join(kept))
        return len(kept)
