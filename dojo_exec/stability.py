"""Promises that hold on every run: what update writes when two runs of a step differ.

Update checks each promise it rewrites by running the page a second time.  When the second
capture breaks the new promise beyond the volatile shapes (the scheduler put a task on
another node, a different number of progress lines), the lines that varied are elided in the
way authors write it: a varying table cell becomes ``...``, a line that varies after a common
start ends in ``...``, a run of lines that varies in number becomes a ``...`` line.  The
result is written only if it keeps both captures; the step is reported as *unstable*, with
the lines that varied and, for a table, the check that says what the elided cells promised.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest

from dojo_exec.matching import MatchOptions, match
from dojo_exec.tables import Table, find_tables, split_row

MAX_LINES = 400  # beyond this, no line alignment is tried: the step is only reported


@dataclass(frozen=True)
class Settled:
    """A promise for a step whose captures differ between two runs."""

    promise: str | None  # keeps both captures, or None when none could be found
    varied: tuple[tuple[str, str], ...]  # (promised line, second run's line) that differed
    proposal: str  # what the author might write instead (a check), or ""


def settle(promise: str, first: str, second: str, options: MatchOptions) -> Settled:
    """A promise like ``promise`` (which keeps ``first``) that keeps ``second`` too."""
    plines = promise.rstrip("\n").split("\n")
    clines = second.rstrip("\n").split("\n")
    if len(plines) > MAX_LINES or len(clines) > MAX_LINES:
        return Settled(None, (), "")
    pairs = _align(plines, clines, options)
    tables = {row: table for table in find_tables(plines) for row in range(table.start, table.end)}
    written: list[str] = []
    varied: list[tuple[str, str]] = []
    elided_columns: set[str] = set()
    i = j = 0
    for pi, cj in [*pairs, (len(plines), len(clines))]:
        gap_p, gap_c = plines[i:pi], clines[j:cj]
        if gap_p or gap_c:
            varied += list(zip_longest(gap_p, gap_c, fillvalue=""))
            if len(gap_p) == len(gap_c):
                for offset, (p, c) in enumerate(zip(gap_p, gap_c, strict=True)):
                    line, columns = _elide_line(p, c, tables.get(i + offset))
                    written.append(line)
                    elided_columns |= columns
            else:
                written.append("...")
        if pi < len(plines):
            written.append(plines[pi])
        i, j = pi + 1, cj + 1
    candidate = "\n".join(_squeeze(written)) + "\n"
    ok = match(candidate, first, options).ok and match(candidate, second, options).ok
    proposal = ""
    if elided_columns:
        column = sorted(elided_columns)[0]
        proposal = f'check="at least 1 distinct {column}" (say what the {column} cells promise)'
    return Settled(candidate if ok else None, tuple(varied), proposal)


def _align(plines: list[str], clines: list[str], options: MatchOptions) -> list[tuple[int, int]]:
    """Longest common subsequence of promised and captured lines, a line matching by shape."""
    n, m = len(plines), len(clines)
    same = [[bool(p.strip()) and match(p, c, options).ok for c in clines] for p in plines]
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for a in range(n - 1, -1, -1):
        for b in range(m - 1, -1, -1):
            best[a][b] = (
                best[a + 1][b + 1] + 1 if same[a][b] else max(best[a + 1][b], best[a][b + 1])
            )
    pairs: list[tuple[int, int]] = []
    a = b = 0
    while a < n and b < m:
        if same[a][b] and best[a][b] == best[a + 1][b + 1] + 1:
            pairs.append((a, b))
            a, b = a + 1, b + 1
        elif best[a + 1][b] >= best[a][b + 1]:
            a += 1
        else:
            b += 1
    return pairs


def _elide_line(promised: str, captured: str, table: Table | None) -> tuple[str, set[str]]:
    """One varying line, elided: its differing cells (a table row) or its differing end."""
    if table is not None:
        p_cells, c_cells = split_row(promised, table.columns), split_row(captured, table.columns)
        starts = [column.start for column in table.columns]
        line, columns = promised, set()
        for number in reversed(range(len(table.columns))):
            if match(p_cells[number], c_cells[number]).ok or not p_cells[number]:
                continue
            start = starts[number]
            end = start + len(p_cells[number])
            if line[start:end] != p_cells[number]:
                break  # not laid out under its header: elide the line's end instead
            line = line[:start] + "...".ljust(len(p_cells[number])) + line[end:]
            columns.add(table.columns[number].name)
        else:
            return line.rstrip(), columns
    common = 0
    while common < min(len(promised), len(captured)) and promised[common] == captured[common]:
        common += 1
    cut = promised.rfind(" ", 0, common) + 1 if common < len(promised) else common
    return (promised[:cut] + "..." if cut else "..."), set()


def _squeeze(lines: list[str]) -> list[str]:
    """No two ``...`` lines in a row."""
    kept: list[str] = []
    for line in lines:
        if line == "..." and kept and kept[-1] == "...":
            continue
        kept.append(line)
    return kept
