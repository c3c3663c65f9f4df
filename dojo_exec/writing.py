"""Changing texts and files, each done one way: bottom-up splices, atomic writes.

:func:`splice` makes several replacements in a text, every offset taken in the original
text (update's promise edits, the site's rendered steps).  :func:`write_atomically` writes a
file through a temporary file in the same folder and a rename, so that a reader (or an
interrupted run) sees the old content or the new, never a part: pages rewritten by update,
transcripts, the ``docker-machine`` shim, machine configs and certificates.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path


def splice(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """``text`` with each ``(start, end, replacement)`` made; offsets are in ``text``.

    Edits are made bottom-up (the last first), so that none moves another's offsets;
    overlapping edits are a :class:`ValueError`.
    """
    limit = len(text) + 1
    for start, end, replacement in sorted(edits, key=lambda edit: edit[0], reverse=True):
        if end > limit:
            raise ValueError(f"overlapping edits at offset {start} (line {_line(text, start)})")
        text = text[:start] + replacement + text[end:]
        limit = start
    return text


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def write_atomically(path: Path, data: str | bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` by ``data`` (text is written as UTF-8, newlines untranslated).

    The temporary file is flushed to disk before the rename; on any error or interrupt it is
    removed and ``path`` is left as it was.  ``mode``: the file's permissions; by default an
    existing file keeps its own, a new one gets the umask's default.  The folder is created
    when missing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(path.stat().st_mode)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temporary, descriptor = _create_temporary(path, 0o666 if mode is None else 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _create_temporary(path: Path, mode: int) -> tuple[Path, int]:
    """A new ``.NAME.XXXXXXXX.tmp`` beside ``path``, created with ``mode`` (less the umask),
    opened for writing: a private key is never readable by others, not even for a moment."""
    while True:
        temporary = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            return temporary, os.open(temporary, flags, mode)
        except FileExistsError:
            continue
