"""Reading a user's text file (a program, a config) with every failure as one
line of the package's own error naming the file."""

from __future__ import annotations

import os

from automl_zero.errors import AutoMLZeroError

__all__ = ["read_text_file"]

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_text_file(path: str | os.PathLike[str], noun: str, error: type[AutoMLZeroError],
                   max_bytes: int) -> str:
    """The UTF-8 text of ``path`` (a byte order mark dropped), read at most
    ``max_bytes`` (which also guards against ``/dev/zero`` and the like).
    Failures raise ``error`` naming the file and calling it a ``noun``."""
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(f"{path}: {noun} not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a {noun}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:
        raise error(f"{path}: larger than {max_bytes} bytes; not a {noun}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = "; it looks like UTF-16: save it as UTF-8" if raw[:2] in _UTF16_BOMS else ""
        raise error(f"{path}: not a UTF-8 text file ({exc.reason} at byte "
                    f"{exc.start}{hint})") from None
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise error(f"{path}: not a text file (NUL byte at byte {nul})")
    return text
