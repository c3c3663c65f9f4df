"""Rewrite drifted promises in place, touching nothing else.

Edits are collected while pages run and written at the end, bottom-up (so earlier
offsets stay valid), each page atomically (temporary file + rename): an interrupt
leaves either the old page or the new one, never half of it.

A page may have been parsed byte-exact (``parse_page``) or as Sybil reads it, with universal
newlines (``\\r\\n`` read as ``\\n``): either way the edits are carried over to the page's
own text when it is written, so a CRLF page stays CRLF, new promise lines included, and every
byte outside the drifted lines stays as it was.
"""

from __future__ import annotations

import bisect
import os
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dojo_exec.matching import MatchOptions, reconcile
from dojo_exec.page import PageError, Step, display_path

_LINE = re.compile(r"[^\r\n]*(\r\n|\r|\n|$)")


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` of a page with ``replacement``."""

    path: Path
    start: int
    end: int
    replacement: str
    line: int  # the step's line, for messages


def match_options(step: Step) -> MatchOptions:
    """The matcher options a step asks for."""
    return MatchOptions(ordered=step.options.ordered, versions=step.options.versions)


def promise_edit(step: Step, captured: str) -> Edit | None:
    """The edit that makes ``step``'s promise keep ``captured``, or None when nothing drifted."""
    if step.expected is None or step.result_span is None:
        return None
    expected = universal(step.expected)  # a page parsed byte-exact may have CRLF lines
    new_promise = reconcile(expected, captured, match_options(step))
    if new_promise == expected:
        return None
    lines = new_promise.strip("\n").splitlines()
    fence_like = [ln for ln in lines if ln.lstrip().startswith(("```", "~~~"))]
    if fence_like:
        raise PageError(
            step.path,
            step.line,
            f"captured output contains a code fence line ({fence_like[0]!r}); "
            "the promise cannot be updated automatically",
        )
    leading = expected[: len(expected) - len(expected.lstrip("\n"))]
    if not expected.strip():
        leading = "\n" if expected.startswith("\n") else ""
    indent = step.result_indent
    body = "".join(f"{indent}{ln}\n" if ln else "\n" for ln in lines)
    replacement = "\n" * leading.count("\n") + body
    start, end = step.result_span
    return Edit(step.path, start, end, replacement, step.line)


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits bottom-up."""
    ordered = sorted(edits, key=lambda e: e.start, reverse=True)
    limit = len(text) + 1
    for edit in ordered:
        if edit.end > limit:
            raise ValueError(f"overlapping edits at line {edit.line}")
        text = text[: edit.start] + edit.replacement + text[edit.end :]
        limit = edit.start
    return text


def universal(raw: str) -> str:
    """``raw`` as Python's universal newlines read it (as Sybil reads pages)."""
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def on_raw_text(raw: str, text: str, edits: list[Edit]) -> list[Edit]:
    """Edits made on ``text`` (``raw`` itself or ``universal(raw)``), carried over to ``raw``.

    Offsets in the universal text move past the ``\\r`` of each CRLF before them; the new
    lines of a replacement end as the line before it ends in ``raw`` (so a CRLF page gets CRLF
    promise lines whichever way it was read).
    """
    text_starts: list[int] = []  # where each line starts in ``text``
    raw_starts: list[int] = []  # and in ``raw``
    endings: list[str] = []
    text_at = 0
    for line in _LINE.finditer(raw):
        if not line.group():
            break
        text_starts.append(text_at)
        raw_starts.append(line.start())
        endings.append(line.group(1))
        text_at += len(line.group()) if text == raw else line.start(1) - line.start() + 1
    text_starts.append(len(text))  # the end of ``text`` is the end of ``raw``
    raw_starts.append(len(raw))
    endings.append("")

    def raw_offset(offset: int) -> int:
        index = bisect.bisect_right(text_starts, offset) - 1
        return raw_starts[index] + offset - text_starts[index]

    moved: list[Edit] = []
    for edit in edits:
        before = max(bisect.bisect_left(text_starts, edit.start) - 1, 0)
        replacement = edit.replacement.replace("\n", endings[before] or "\n")
        start, end = raw_offset(edit.start), raw_offset(edit.end)
        moved.append(Edit(edit.path, start, end, replacement, edit.line))
    return moved


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class PendingUpdates:
    """Edits collected during a run, written when the run ends; ``refused`` says what was not."""

    def __init__(self) -> None:
        self._edits: dict[Path, list[Edit]] = defaultdict(list)
        self._originals: dict[Path, str] = {}
        self._changed: set[Path] = set()  # read as two different texts during the run
        self.refused: list[str] = []  # one located line per update that was not made

    def add(self, step: Step, captured: str, page_text: str) -> Edit | None:
        """Record the edit for a drifted ``step``; ``page_text`` is the text it was parsed from."""
        edit = promise_edit(step, captured)
        if edit is None:
            return None
        key = step.path.resolve()
        self._remember(key, page_text)
        self._edits[key] = [e for e in self._edits[key] if e.start != edit.start] + [edit]
        return edit

    def _remember(self, key: Path, page_text: str) -> None:
        if self._originals.setdefault(key, page_text) != page_text:
            self._changed.add(key)

    def __len__(self) -> int:
        return sum(len(edits) for edits in self._edits.values())

    def export(self) -> dict[str, Any]:
        """Plain data, for an xdist worker to hand its edits to the controller that writes them."""
        return {
            str(path): {
                "original": self._originals[path],
                "edits": [[e.start, e.end, e.replacement, e.line] for e in edits],
            }
            for path, edits in self._edits.items()
        }

    def merge(self, data: dict[str, Any]) -> None:
        """Take over the edits :meth:`export` gave in another process."""
        for name, page in data.items():
            key = Path(name)
            self._remember(key, page["original"])
            edits = [Edit(key, *edit) for edit in page["edits"]]
            starts = {e.start for e in edits}
            self._edits[key] = [e for e in self._edits[key] if e.start not in starts] + edits

    def write(self) -> list[str]:
        """Write every changed page; one line per page written.

        A page changed on disk since it was read, or one that cannot be read or written, is
        left as it is, with a line in :attr:`refused`; the other pages are written.
        """
        written: list[str] = []
        for path, edits in sorted(self._edits.items()):
            name = display_path(path)
            try:
                with path.open(encoding="utf-8", newline="") as page:  # CRLF stays CRLF
                    current = page.read()
                original = self._originals[path]
                if original not in (current, universal(current)) or path in self._changed:
                    self.refused.append(f"{name}: changed on disk during the run; not updated")
                    continue
                write_atomic(path, apply_edits(current, on_raw_text(current, original, edits)))
            except OSError as error:
                self.refused.append(f"{name}: {error.strerror or error}; not updated")
                continue
            written.append(f"{name}: {len(edits)} promise(s) updated")
        self._edits.clear()
        return written
