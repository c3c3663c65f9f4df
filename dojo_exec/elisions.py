r"""Elisions: how a promise says "something was left out here".  The one definition.

*Whole-line elisions.*  A promised line that reads, apart from surrounding whitespace, one of

    ``...``  ``…``  ``...snip...``  ``…snip…``
    ``[...]``  ``(...)``  ``<...>``  ``[snip]``  ``(snip)``  ``<snip>``  (or ``…`` for ``...``)

(``snip`` in any case) stands for any number of lines, none included.  Inside a Docker
table it stands for any number of rows; ending a table, for further rows and whatever
follows.  A word in brackets other than ``snip`` is not an elision: ``<none>`` (``docker
images``) is a value.

*Line-end elisions.*  A promised line with text before a final ``...`` or ``…`` matches a
captured line that starts with that text (volatile shapes still apply); the rest of the
captured line is elided: ``Server Version: 20...`` matches ``Server Version: 20.10.24``.

*Table cells.*  A promised cell that is exactly ``...`` or ``…`` matches any cell; a row
whose last written cell is or ends with ``...``/``…`` elides every cell after it.

*Escapes.*  A backslash before a whole-line elision makes it literal: ``\...`` stands for a
captured line reading ``...``, ``\[snip]`` for ``[snip]``; further backslashes stand for
themselves (``\\...`` for a captured ``\...``).  :func:`escape` is what ``reconcile``
writes for a captured line, so a captured ``…`` is never read back as an elision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

ELLIPSIS = "..."
ESCAPED_ELLIPSIS = "\\..."
"""A promise line that stands for a captured line reading ``...`` (``...`` alone elides)."""
TAILS = ("...", "\u2026")
"""What ends a line-end elision, and what a whole wildcard cell is."""

_DOTS = r"(?:\.\.\.|\u2026)"
_CUT = rf"(?:{_DOTS}|snip)"
_MARKER = rf"(?:{_DOTS}|\[{_CUT}\]|\({_CUT}\)|<{_CUT}>|{_DOTS}snip{_DOTS})"
_LINE = re.compile(rf"[ \t]*{_MARKER}[ \t]*", re.IGNORECASE)
_ESCAPED = re.compile(rf"([ \t]*)\\(\\*{_MARKER}[ \t]*)", re.IGNORECASE)
_ESCAPABLE = re.compile(rf"([ \t]*)(\\*{_MARKER}[ \t]*)", re.IGNORECASE)


def is_elision(line: str) -> bool:
    """Is ``line`` a whole-line elision (not escaped)?"""
    return _LINE.fullmatch(line) is not None


def unescape(line: str) -> str | None:
    r"""The captured text an escaped elision line stands for (``\...`` → ``...``), else None."""
    found = _ESCAPED.fullmatch(line)
    return found[1] + found[2] if found else None


def escape(line: str) -> str:
    r"""A captured line as a promise writes it: ``...`` → ``\...``, ``\...`` → ``\\...``."""
    found = _ESCAPABLE.fullmatch(line)
    return found[1] + "\\" + found[2] if found else line


def escape_all(lines: Sequence[str]) -> list[str]:
    """:func:`escape` on every line."""
    return [escape(line) for line in lines]


def split_tail(text: str) -> str | None:
    """The text before a line-end elision (``Name: web...`` → ``Name: web``), else None.

    None for a text with nothing before its final ``...`` (a whole elision or a cell
    wildcard, see :func:`is_wildcard`).
    """
    for tail in TAILS:
        if text.endswith(tail):
            head = text[: -len(tail)]
            return head if head.strip() else None
    return None


def is_wildcard(cell: str) -> bool:
    """A promised table cell that matches any captured cell."""
    return cell in TAILS


def tail_start(cells: Sequence[str]) -> int | None:
    """Index of the first elided cell of a promised row ending in ``...``, else None.

    ``("abc", "web", "...", "", "")`` → 2: that cell and all later ones match anything.
    ``("abc", "web...", "", "")`` → 2: ``web...`` is matched as a prefix, the rest elided.
    """
    written = [index for index, cell in enumerate(cells) if cell]
    if not written:
        return None
    last = written[-1]
    if is_wildcard(cells[last]):
        before = [index for index in written if index < last and not is_wildcard(cells[index])]
        return before[-1] + 1 if before else 0
    if split_tail(cells[last]) is not None:
        return last + 1
    return None
