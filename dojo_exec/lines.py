"""Lines: promise and capture normalised as a screen shows them, cut into segments.

A text becomes a list of *segments*: plain lines, Docker tables (:mod:`dojo_exec.tables`),
PEM blocks (one segment for the ``-----BEGIN``/``-----END`` lines and everything between)
and, in a promise only, whole-line elisions (:mod:`dojo_exec.elisions`).  A promised line
(or cell) compiles to a regex with one group per volatile literal
(:mod:`dojo_exec.volatile`); whitespace runs compare equal whatever their length.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from dojo_exec.bindings import Pair
from dojo_exec.elisions import is_elision, split_tail, unescape
from dojo_exec.tables import Table, find_tables
from dojo_exec.volatile import accept, scan

_WS = re.compile(r"(\s+)")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufe0e\ufe0f"))
"""Zero-width characters a terminal screen does not keep (joiners, emoji variation selectors)."""
_BASE64 = re.compile(r"[A-Za-z0-9+/=]+")


def normalise(text: str) -> list[str]:
    """Lines as a screen shows them: NFC, no zero-width characters, tabs expanded, no CRs."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    lines = [line.expandtabs().rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def raw_lines(text: str) -> list[str]:
    """Lines as written, in the same window as :func:`normalise`."""
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def unescaped(lines: list[str]) -> frozenset[int]:
    r"""Replace escaped elisions (``\...``) by the text they stand for; their indices."""
    literal: set[int] = set()
    for index, line in enumerate(lines):
        text = unescape(line)
        if text is not None:
            lines[index] = text
            literal.add(index)
    return frozenset(literal)


def indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


# --------------------------------------------------------------------------- compile


@lru_cache(maxsize=8192)
def compile_text(
    text: str, versions: bool, id_cell: bool = False, tail: bool = True, exact_indent: bool = False
) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...]]:
    """A promised line or cell → regex with one group per volatile literal, and the slots.

    ``tail``: a final ``...``/``…`` after some text elides the rest of the captured text.
    ``exact_indent``: leading spaces must be as many in the capture (else any run of them).
    """
    head = split_tail(text) if tail else None
    body = text if head is None else head.rstrip()
    lead = len(body) - len(body.lstrip()) if exact_indent else 0
    parts: list[str] = [re.escape(body[:lead])]
    slots: list[tuple[str, str]] = []
    for piece in scan(body[lead:], versions, id_cell):
        if piece.kind is None:
            parts.extend(
                r"\s+" if ws.isspace() else re.escape(ws) for ws in _WS.split(piece.text) if ws
            )
        else:
            parts.append(f"({accept(piece.kind, piece.text)})")
            slots.append((piece.kind, piece.text))
    if head is not None:
        parts.append(r"(?s:.*)")
    return re.compile("".join(parts)), tuple(slots)


def pairs(
    promised: str,
    captured: str,
    versions: bool,
    id_cell: bool = False,
    tail: bool = True,
    exact_indent: bool = False,
) -> list[Pair] | None:
    """Binding pairs if ``captured`` has the shape of ``promised``, else None."""
    pattern, slots = compile_text(promised, versions, id_cell, tail, exact_indent)
    if promised == captured and (not tail or split_tail(promised) is None):
        return [(kind, literal, literal) for kind, literal in slots]
    found = pattern.fullmatch(captured)
    if found is None:
        return None
    return [(k, lit, v) for (k, lit), v in zip(slots, found.groups(), strict=True)]


# --------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class Seg:
    kind: str  # "line" | "table" | "dots"
    line: int  # index of the first line in the normalised text
    end: int  # index just after its last line
    text: str  # a line's text; a PEM block's lines joined by newlines
    table: Table | None = None
    implicit: bool = False  # the elision that ends a table, eliding what follows it too
    literal: bool = False  # an escaped elision line: compared literally


def segments(
    lines: Sequence[str], promise: bool, *, literal: frozenset[int] = frozenset()
) -> list[Seg]:
    """Lines, tables, PEM blocks and (in a promise) elisions.

    An elision that ends a promised table elides both further rows and whatever follows the
    table (a summary line after ``docker ps``-like output): an implicit elision follows it.
    """
    tables = {t.start: t for t in find_tables(lines, elisions=promise, literal=literal)}
    segs: list[Seg] = []
    index = 0
    while index < len(lines):
        table = tables.get(index)
        if table is not None:
            segs.append(Seg("table", index, table.end, lines[index], table))
            index = table.end
            last = index - 1
            if promise and is_elision(lines[last]) and last not in literal:
                segs.append(Seg("dots", last, index, lines[last], implicit=True))
            continue
        end = _pem_end(lines, index, promise, literal)
        if end is not None:
            kept = [
                line.strip()
                for number, line in enumerate(lines[index:end], start=index)
                if not (promise and is_elision(line) and number not in literal)
            ]
            segs.append(Seg("line", index, end, "\n".join(kept)))
            index = end
            continue
        dots = promise and is_elision(lines[index]) and index not in literal
        kind = "dots" if dots else "line"
        segs.append(Seg(kind, index, index + 1, lines[index], literal=index in literal))
        index += 1
    return segs


def _pem_end(
    lines: Sequence[str], start: int, promise: bool, literal: frozenset[int]
) -> int | None:
    """End of a PEM block starting at ``start`` (promise: elision lines allowed inside)."""
    first = lines[start].strip()
    if not (first.startswith("-----BEGIN ") and first.endswith("-----")):
        return None
    for index in range(start + 1, len(lines)):
        line = lines[index].strip()
        if line.startswith("-----END ") and line.endswith("-----"):
            return index + 1
        elision = promise and is_elision(line) and index not in literal
        if not (_BASE64.fullmatch(line) or elision):
            return None
    return None
