"""Docker's tables: detect them in output, split rows into cells, lay them out again.

Docker prints tables with Go's ``text/tabwriter`` (min width 10, padding 3): a header of
ALL-CAPS column names (names may hold single spaces: ``CURRENT STATE``) separated by two
or more spaces, then one row per line, each cell starting at its column's position.

* A table starts at a header line and runs to the next blank line (or the end), to the
  next header line (two commands' tables one after the other), or to the first line that
  cannot be one of its rows (:func:`fits`): a single chunk running over a column start,
  such as a title right under a table (``Containers space usage:`` in ``docker system
  df -v`` whose blank line is gone, ``overall progress: 1 out of 1 tasks``).
* A row is split into *chunks* separated by 2+ spaces; each chunk goes to the column whose
  header position is nearest to the chunk's start (ties go left).  This tolerates a
  hand-edited promise that is off by a space, empty cells (``ERROR``, ``MANAGER STATUS``),
  and the ``\\_`` history rows of ``service ps``, whose NAME chunk starts one column late.
* Cells are whitespace-trimmed; a history row's NAME cell is ``\\_ helloworld.3``.  The
  ``*`` marker after the current node's ID in ``node ls`` stays in the ID cell.
* A whole-line elision inside a table (promise side: ``...``, ``…``, ``[...]``, ``<snip>``,
  see :mod:`dojo_exec.elisions`) marks elided rows; a captured table has none.  Cell and
  row-end elisions (a cell ``...``, a row ending in ``...``) are cells like any other here:
  the matcher gives them their meaning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dojo_exec.elisions import ELLIPSIS as ELLIPSIS
from dojo_exec.elisions import is_elision, split_tail

HISTORY_MARK = "\\_ "
_NAME = re.compile(r"[A-Z][A-Z0-9]*(?: [A-Z0-9]+)*")
_CHUNK = re.compile(r"\S+(?: \S+)*")
MIN_WIDTH = 10
PADDING = 3


@dataclass(frozen=True)
class Column:
    name: str
    start: int  # character position of the name in the header line


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    line: int  # index of the row's line in the text the table was found in

    @property
    def history(self) -> bool:
        """A ``service ps`` history row (a previous task of the same slot)."""
        return any(cell.startswith(HISTORY_MARK) for cell in self.cells)


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    start: int  # line index of the header
    end: int  # line index just after the table's last line
    elided: tuple[int, ...] = ()  # positions (in ``rows``) before which an elision stood

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def index(self, name: str) -> int | None:
        """Column index by case-insensitive, whitespace-normalised name."""
        wanted = " ".join(name.split()).upper()
        for number, column in enumerate(self.columns):
            if column.name.upper() == wanted:
                return number
        return None

    def label(self, row: Row) -> str:
        """A short human name for a row: its NAME-like cell, else its first cell."""
        for name in ("NAME", "NAMES", "HOSTNAME"):
            number = self.index(name)
            if number is not None and row.cells[number]:
                return row.cells[number]
        return row.cells[0] if row.cells else ""


def parse_header(line: str) -> tuple[Column, ...] | None:
    """Columns of a header line, or None if ``line`` is not a table header."""
    if "\t" in line or not line or line[0].isspace():
        return None
    columns = tuple(Column(m.group(), m.start()) for m in re.finditer(r"\S+(?: \S+)*", line))
    if len(columns) < 2 or not all(_NAME.fullmatch(column.name) for column in columns):
        return None
    return columns


def split_row(line: str, columns: Sequence[Column]) -> tuple[str, ...]:
    """Cells of a row line, by header positions (see the module docstring)."""
    spans: list[list[tuple[int, int]]] = [[] for _ in columns]
    for chunk in _CHUNK.finditer(line):
        nearest = min(range(len(columns)), key=lambda i: (abs(columns[i].start - chunk.start()), i))
        spans[nearest].append(chunk.span())
    return tuple(line[s[0][0] : s[-1][1]].strip() if s else "" for s in spans)


def fits(line: str, columns: Sequence[Column]) -> bool:
    """Could ``line`` be a row under these columns?  See the module docstring.

    Not when it is one chunk (no run of 2+ spaces) running over the start of the next
    column: a title or a message.  Tabwriter pads every cell, so a real row never does
    that; a hand-edited row whose longer cell overruns an empty column still has other
    chunks (``e81d9e44a3bf   alpine   ...   Exited (137) 5 seconds ago   web.1``), and a
    promised row cut short by a line-end elision is a row (``k1qovxjy3hrue0dlnud6yei3e * ...``).
    """
    chunks = list(_CHUNK.finditer(line))
    if len(chunks) != 1 or split_tail(chunks[0].group()) is not None:
        return True
    start, end = chunks[0].span()
    return not any(start < column.start < end for column in columns)


def find_tables(
    lines: Sequence[str], elisions: bool = True, literal: frozenset[int] = frozenset()
) -> list[Table]:
    """All tables in ``lines`` (already right-stripped), in order.

    ``elisions``: read whole-line elisions as elided rows (a promise), except the lines in
    ``literal`` (escaped ones, already unescaped); else every line is a row (a capture).
    """
    tables: list[Table] = []
    index = 0
    while index < len(lines):
        columns = parse_header(lines[index])
        if columns is None:
            index += 1
            continue
        table, index = _read_table(lines, index, columns, elisions, literal)
        tables.append(table)
    return tables


def _read_table(
    lines: Sequence[str],
    start: int,
    columns: tuple[Column, ...],
    elisions: bool,
    literal: frozenset[int],
) -> tuple[Table, int]:
    rows: list[Row] = []
    elided: list[int] = []
    index = start + 1
    while index < len(lines) and lines[index].strip():
        if elisions and is_elision(lines[index]) and index not in literal:
            elided.append(len(rows))
        elif not fits(lines[index], columns) or parse_header(lines[index]) is not None:
            break
        else:
            rows.append(Row(split_row(lines[index], columns), index))
        index += 1
    return Table(columns, tuple(rows), start, index, tuple(elided)), index


def render(names: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lay a table out the way Docker's tabwriter does (min width 10, padding 3)."""
    shown = [[shown_cell(cell) for cell in row] for row in rows]
    widths = [
        max(MIN_WIDTH, max([len(name)] + [len(row[i]) for row in shown]) + PADDING)
        for i, name in enumerate(names)
    ]
    out = []
    for cells in [list(names), *shown]:
        text = "".join(cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])) + cells[-1]
        out.append(text.rstrip())
    return out


def shown_cell(cell: str) -> str:
    """Docker prints history rows' NAME as `` \\_ name`` (one leading space)."""
    return " " + cell if cell.startswith(HISTORY_MARK) else cell
