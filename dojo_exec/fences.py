"""The lexer: a Markdown page's fenced code blocks, as the site's Markdown sees them.

Fences may be indented (nested in list items, admonitions and content tabs, as
pymdownx.superfences allows).  A fence inside an HTML comment is not a fence, nor is one in
an indented code block (an example of a fence, shown as text); the latter are reported in
``examples`` so that the parser can refuse a tagged one instead of silently skipping it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dojo_exec.locations import PageError

BOM = "\ufeff"
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
"""A tab in the indent counts to the next multiple of 4 columns, as Markdown reads it."""


@dataclass(frozen=True)
class Fence:
    """A fenced block as found in the text."""

    start: int  # offset of the opening fence line
    end: int  # offset just after the closing fence line (newline included)
    line: int  # 1-based line of the opening fence
    info: str
    body: str
    body_start: int  # offset of the first body character
    body_end: int  # offset of the closing fence line
    indent: str


_COMMENT_START = re.compile(r"^ {0,3}<!--")
_CONTAINER = re.compile(
    r"^[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|!!!|\?\?\?|===\+?[ \t]|<div\b[^>]*\bmarkdown\b)"
)
"""A line that opens a block whose content is indented: a list item, an admonition or a
collapsible block, a content tab, an HTML block with ``markdown`` (its fences are real)."""


def _width(indent: str) -> int:
    return len(indent.expandtabs(4))


def _in_container(previous: list[tuple[int, str]], indent: int) -> bool:
    """Whether a fence indented by ``indent`` sits in a container, not in an indented code block.

    ``previous`` holds (indent, line) of the lines before it that are outside fences and
    comments (a blank line as ``(-1, "")``).  The nearest non-blank one indented less than the
    fence decides, with the lines of its paragraph above it: a list item's paragraph may go on
    with lazy continuation lines (``1. Run this`` / ``on a worker:``), whose fence is the item's.
    """
    for position in range(len(previous) - 1, -1, -1):
        width, line = previous[position]
        if width < 0 or width >= indent:
            continue
        for above in range(position, -1, -1):
            width, line = previous[above]
            if width < 0:
                return False
            if _CONTAINER.match(line):
                return True
        return False
    return False


def iter_fences(
    text: str, path: Path, start: int = 0, examples: list[Fence] | None = None
) -> list[Fence]:
    """All fenced blocks (``` or ~~~) from ``start``; an unterminated one is an error.

    Like the site's Markdown, it sees no fence inside an HTML comment (``<!-- … -->``) or inside
    an indented code block (a fence indented 4 spaces or more outside a list item, admonition,
    content tab or ``markdown`` HTML block is an example of a fence, shown as text): the
    opening lines of the latter are added to ``examples`` (with an empty body).
    """
    fences: list[Fence] = []
    lines = _split_keepends(text)
    offset = 0
    index = 0
    # advance to ``start``
    while index < len(lines) and offset < start:
        offset += len(lines[index])
        index += 1
    previous: list[tuple[int, str]] = []  # non-blank lines outside fences and comments
    in_comment = False
    while index < len(lines):
        raw = lines[index]
        line_no = index + 1
        stripped = raw.rstrip("\n")
        if index == 0:
            stripped = stripped.removeprefix(BOM)
        if in_comment:
            in_comment = "-->" not in stripped
            offset += len(raw)
            index += 1
            continue
        match = _FENCE_OPEN.match(stripped)
        if not match:
            # an HTML comment block starts a line (``<!--`` in a sentence or a code span
            # does not hide what follows, for the site's Markdown either)
            opened = stripped.rfind("<!--") if _COMMENT_START.match(stripped) else -1
            in_comment = opened >= 0 and "-->" not in stripped[opened + 4 :]
            if stripped.strip():
                previous.append(
                    (_width(stripped[: len(stripped) - len(stripped.lstrip())]), stripped)
                )
            elif previous and previous[-1][0] >= 0:
                previous.append((-1, ""))
            offset += len(raw)
            index += 1
            continue
        fence = match["fence"]
        indent = match["indent"]
        if _width(indent) >= 4 and not _in_container(previous, _width(indent)):
            # a line of an indented code block (an example of a fence): text, not a fence
            if examples is not None:
                examples.append(
                    Fence(
                        offset, offset + len(raw), line_no, match["info"].strip(), "", 0, 0, indent
                    )
                )
            previous.append((_width(indent), stripped))
            offset += len(raw)
            index += 1
            continue
        open_offset = offset
        body_start = offset + len(raw)
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        offset = body_start
        index += 1
        body_parts: list[str] = []
        closed = False
        body_end = offset
        while index < len(lines):
            candidate = lines[index]
            body_end = offset
            offset += len(candidate)
            index += 1
            if close.match(candidate.rstrip("\n")):
                closed = True
                break
            body_parts.append(_dedent(candidate, indent))
        if not closed:
            raise PageError(path, line_no, f"unterminated code fence {fence!r} (no closing fence)")
        fences.append(
            Fence(
                start=open_offset,
                end=offset,
                line=line_no,
                info=match["info"].strip(),
                body="".join(body_parts),
                body_start=body_start,
                body_end=body_end,
                indent=indent,
            )
        )
    return fences


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if indent and line.startswith(indent) else line


def _split_keepends(text: str) -> list[str]:
    """Lines with their endings, split at ``\n`` only (``str.splitlines`` also splits at form
    feeds and U+2028, which Markdown does not: line numbers would drift)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def _split(text: str) -> list[str]:
    """Lines without their endings (``\n`` or ``\r\n``)."""
    return [line.removesuffix("\n").removesuffix("\r") for line in _split_keepends(text)]
