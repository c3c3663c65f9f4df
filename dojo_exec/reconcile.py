r"""Rewrite a drifted promise so that it keeps a new capture, changing as little as possible.

Promised lines, rows and cells that still match are kept byte for byte (with the author's
placeholders); drifted ones are replaced by the captured ones, in place; missing or extra
lines are removed or added; elisions are kept where they still elide something.  Captured
values bound to a kept placeholder are written as that placeholder (the author's ID on a
new ``verify: Service <ID> converged`` line), so the result stays consistent.  A captured
line that would read as an elision is escaped (:func:`dojo_exec.elisions.escape`).  JSON
that no longer matches is replaced by the capture.  When the promise drifted by a
consistent indentation shift, kept lines take the capture's indentation.

The result always matches the capture (:func:`reconcile` checks, and falls back to plainer
rewrites, finally the escaped capture itself), so reconciling twice changes nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from dojo_exec.bindings import State, extend
from dojo_exec.elisions import ELLIPSIS, escape, escape_all, is_elision
from dojo_exec.json_match import parse
from dojo_exec.lines import Seg, indent, pairs, raw_lines, segments
from dojo_exec.match import match, shifts
from dojo_exec.search import DEFAULT_OPTIONS, MatchOptions, Run
from dojo_exec.table_match import id_column, match_table, row_pairs
from dojo_exec.tables import Column, Row, Table, render, shown_cell
from dojo_exec.volatile import scan


def reconcile(expected: str, captured: str, options: MatchOptions = DEFAULT_OPTIONS) -> str:
    """New promise text for ``update``: see the module docstring.

    If ``match(expected, captured).ok`` the promise is returned as is, and the result
    always matches ``captured``.
    """
    if match(expected, captured, options).ok:
        return expected
    tail = "\n" if expected.endswith("\n") else ""
    run = Run.of(expected, captured, options)
    escaped = "\n".join(escape_all(run.clines)) + tail
    if parse(expected) is not None and parse(captured) is not None:
        return escaped
    raw = raw_lines(expected)
    for shift in _best_shifts(run):
        for substitute in (True, False):
            lines = _Rewrite(run.shifted(shift), _shift_raw(raw, shift), substitute).lines()
            result = "\n".join(lines) + tail
            if match(result, captured, options).ok:
                return result
    return escaped


def _best_shifts(run: Run) -> list[int]:
    """No shift, or first the indentation shift that aligns the most promised segments."""
    candidates = shifts(run)
    if not candidates:
        return [0]
    scored = [(len(_Rewrite(run.shifted(s), [], False).aligned()), s) for s in [0, *candidates]]
    best = max(scored, key=lambda item: (item[0], -abs(item[1])))[1]
    return [best, 0] if best else [0]


def _shift_raw(raw: list[str], shift: int) -> list[str]:
    if shift > 0:
        return [" " * shift + line if line.strip() else line for line in raw]
    return [line[min(-shift, indent(line)) :] for line in raw]


class _Rewrite:
    """One rewrite of a promise against a capture."""

    def __init__(self, run: Run, raw: list[str], substitute: bool) -> None:
        self.run, self.raw, self.substitute = run, raw, substitute
        self.ps = segments(run.plines, promise=True, literal=run.literal)
        self.cs = segments(run.clines, promise=False)
        self.state = State()

    # ----------------------------------------------------------------- alignment

    def _compatible(self, p: Seg, c: Seg) -> bool:
        if p.kind == "table" and c.kind == "table":
            assert p.table is not None and c.table is not None
            return p.table.names == c.table.names
        if p.kind == "line" and c.kind == "line":
            run = self.run
            found = pairs(
                p.text,
                c.text,
                run.options.versions,
                tail=not p.literal,
                exact_indent=run.exact_indent,
            )
            return found is not None and extend(State(), found)[0] is not None
        return False

    def aligned(self) -> list[tuple[int, int]]:
        """Longest common subsequence of compatible segments (elisions excluded)."""
        ps, cs = self.ps, self.cs
        n, m = len(ps), len(cs)
        ok = [[p.kind != "dots" and self._compatible(p, c) for c in cs] for p in ps]
        best = [[0] * (m + 1) for _ in range(n + 1)]
        for i in range(n - 1, -1, -1):
            for j in range(m - 1, -1, -1):
                if ok[i][j]:
                    best[i][j] = best[i + 1][j + 1] + 1
                else:
                    best[i][j] = max(best[i + 1][j], best[i][j + 1])
        out: list[tuple[int, int]] = []
        i = j = 0
        while i < n and j < m:
            if ok[i][j] and best[i][j] == best[i + 1][j + 1] + 1:
                out.append((i, j))
                i, j = i + 1, j + 1
            elif best[i + 1][j] >= best[i][j + 1]:
                i += 1
            else:
                j += 1
        return out

    def _bind(self, aligned: list[tuple[int, int]]) -> None:
        """Bindings of what is kept: aligned lines, then matching rows of aligned tables."""
        versions = self.run.options.versions
        for i, j in aligned:
            p, c = self.ps[i], self.cs[j]
            if p.kind == "line":
                exact = self.run.exact_indent
                found = pairs(p.text, c.text, versions, tail=not p.literal, exact_indent=exact)
                found = found or []
                self.state = extend(self.state, found)[0] or self.state
        for i, j in aligned:
            p, c = self.ps[i], self.cs[j]
            if p.table is not None and c.table is not None:
                self.state = _assign_rows(self.run, p.table, c.table, self.state)[1]

    # ----------------------------------------------------------------- output

    def lines(self) -> list[str]:
        aligned = self.aligned()
        self._bind(aligned)
        out: list[str] = []
        pi = ci = 0
        for i, j in [*aligned, (len(self.ps), len(self.cs))]:
            out.extend(self._gap(self.ps[pi:i], self.cs[ci:j]))
            if i < len(self.ps):
                p, c = self.ps[i], self.cs[j]
                if p.table is not None and c.table is not None:
                    out.extend(self._table(p.table, c.table))
                else:
                    out.extend(self.raw[p.line : p.end])
            pi, ci = i + 1, j + 1
        return out

    def _captured(self, seg: Seg) -> list[str]:
        lines = escape_all(self.run.clines[seg.line : seg.end])
        if seg.table is not None:
            lines = _placement_elided(lines, seg.table, seg.line)
        if self.substitute and seg.kind == "line":
            lines = [self._placeholders(line) for line in lines]
        return lines

    def _promised(self, seg: Seg) -> list[str]:
        return self.run.plines[seg.line : seg.end]

    def _placeholders(self, line: str) -> str:
        """A captured line with values bound to kept placeholders written as those."""
        state, out = self.state, []
        for piece in scan(line, self.run.options.versions):
            literal = state.rev.get(piece.text) if piece.kind else None
            if literal is None and piece.kind == "id12":
                literal = _prefix_placeholder(state, piece.text)
            kind = state.kinds.get(literal or "")
            if literal is not None and kind == piece.kind:
                out.append(literal)
            elif literal is not None and (kind, piece.kind) == ("id25", "id12"):
                out.append(literal[:12])
            else:
                out.append(piece.text)
        return escape("".join(out))

    def _gap(self, pgap: list[Seg], cgap: list[Seg]) -> list[str]:
        """Unaligned promise segments vs unaligned captured ones between two aligned pairs.

        Without an elision the captured segments replace the promised ones.  With one, the
        drifted promise segments before the first and after the last elision are replaced
        by as many captured segments from each end, and the elision covers whatever
        remains (it is dropped if nothing remains).
        """
        a = next((k for k, seg in enumerate(pgap) if _header_only(seg)), None)
        b = next((k for k, seg in enumerate(cgap) if seg.table is not None), None)
        if a is not None and b is not None:
            inner = a + 1  # the table's own elision lines
            while (
                inner < len(pgap) and pgap[inner].kind == "dots" and pgap[inner].line < pgap[a].end
            ):
                inner += 1
            return [
                *self._gap(pgap[:a], cgap[:b]),
                *self._header_and_elision(pgap[a], cgap[b]),
                *self._gap(pgap[inner:], cgap[b + 1 :]),
            ]
        dots = [k for k, seg in enumerate(pgap) if seg.kind == "dots"]
        if not dots:
            return [line for seg in cgap for line in self._captured(seg)]
        head = min(dots[0], len(cgap))
        tail = min(len(pgap) - dots[-1] - 1, len(cgap) - head)
        middle = cgap[head : len(cgap) - tail]
        out = [line for seg in cgap[:head] for line in self._captured(seg)]
        out.extend(self._elided(pgap[dots[0] : dots[-1] + 1], middle))
        out.extend(line for seg in cgap[len(cgap) - tail :] for line in self._captured(seg))
        return out

    def _header_and_elision(self, p: Seg, c: Seg) -> list[str]:
        """A table the author showed only as its header and an elision (``ID NAME …`` /
        ``...snip...``) whose header drifted: the captured header over the author's elision."""
        assert p.table is not None and c.table is not None
        pt, ct = p.table, c.table
        elisions = [self.raw[n] for n in range(pt.start + 1, pt.end) if is_elision(self.raw[n])]
        return [*escape_all(self.run.clines[ct.start : ct.start + 1]), *elisions]

    def _elided(self, pgap: list[Seg], middle: list[Seg]) -> list[str]:
        """What the elisions elided, between the first and last one (both in ``pgap``).

        A promised line between them (``...``/``Status: active``/``...``) has drifted: it
        is replaced by the most similar captured line, in order, so the promise keeps
        saying what it said (``Status: inactive``) instead of collapsing to an elision.
        """
        dots = self.raw[pgap[0].line]
        literals = [seg for seg in pgap if seg.kind != "dots"]
        picked: list[int] = []
        for literal in literals:
            text = "\n".join(self._promised(literal))
            start = picked[-1] + 1 if picked else 0
            scores = [
                (
                    difflib.SequenceMatcher(None, text, "\n".join(self._captured(seg))).ratio(),
                    k,
                )
                for k, seg in enumerate(middle[start:], start=start)
            ]
            best = max(scores, default=(0.0, -1))
            if best[0] >= 0.5:
                picked.append(best[1])
        if literals and not picked:  # nothing like what was promised: promise what came out
            return [line for seg in middle for line in self._captured(seg)]
        out: list[str] = []
        previous = -1
        for k in picked:
            if k > previous + 1 and not (previous == -1 and pgap[0].implicit):
                out.append(dots)  # (an implicit elision is already the table's last line)
            out.extend(self._captured(middle[k]))
            previous = k
        if previous < len(middle) - 1 and not (previous == -1 and pgap[-1].implicit):
            out.append(dots)
        return out

    def _table(self, pt: Table, ct: Table) -> list[str]:
        """A drifted table: the promise's header and still-matching rows stay byte for byte.

        Drifted rows take the captured cells laid out in the promise's columns, in the
        place of the promised rows they replace, so ``git diff`` shows only what drifted.
        When a captured cell does not fit the promise's layout the table is laid out anew.
        """
        run, raw = self.run, self.raw
        if match_table(run, pt, ct, State())[0] is not None:
            return raw[pt.start : pt.end]
        chosen, state = _assign_rows(run, pt, ct, State())
        used = {pick for pick in chosen if pick is not None}
        fresh = [crow for crow, pick in zip(ct.rows, chosen, strict=True) if pick is None]
        drifted_rows = [row for index, row in enumerate(pt.rows) if index not in used]
        replacements: list[str | None] = []
        for prow, crow in zip(drifted_rows, fresh, strict=False):
            cells, state = _merge_cells(run, pt, prow, crow, state)
            replacements.append(_layout_like(pt, cells))
        extra = [
            _layout_like(pt, _written_row(pt, crow.cells)) for crow in fresh[len(drifted_rows) :]
        ]
        elide = bool(pt.elided) and bool(extra)
        if any(line is None for line in replacements) or (not elide and None in extra):
            return _rerender_table(run, pt, ct)
        lines = iter(replacements)
        out = [raw[pt.start]]
        rows_by_line = {row.line: index for index, row in enumerate(pt.rows)}
        for number in range(pt.start + 1, pt.end):
            index = rows_by_line.get(number)
            if index is None:
                if is_elision(raw[number]) and elide and not is_elision(out[-1]):
                    out.append(raw[number])
            elif index in used:
                out.append(raw[number])
            else:
                out.extend(line for line in [next(lines, None)] if line is not None)
        if not elide:
            out.extend(line for line in extra if line is not None)
        return out


PLACEMENT_COLUMNS = frozenset({"NODE"})
"""Columns whose values are the scheduler's choice (``service ps``, ``stack ps``): which node
runs a task changes from run to run, so update never writes one as a promise.  It writes
``...`` (any cell) instead; an author who cares says it with a check (``no rows where NODE =
worker1 and CURRENT STATE ~ Running``), and a node the author wrote that still matches is
kept."""


def _placement(column: Column) -> bool:
    return " ".join(column.name.split()).upper() in PLACEMENT_COLUMNS


def _written(column: Column, captured: str) -> str:
    """How update writes a captured cell of ``column``."""
    return ELLIPSIS if captured and _placement(column) else captured


def _written_row(table: Table, cells: Sequence[str]) -> tuple[str, ...]:
    return tuple(_written(c, cell) for c, cell in zip(table.columns, cells, strict=True))


def _placement_elided(lines: list[str], table: Table, first: int) -> list[str]:
    """Captured table lines (from line ``first``) with their placement cells as ``...``."""
    out = list(lines)
    rows = {row.line - first: row for row in table.rows}
    for number, row in rows.items():
        if not 0 <= number < len(out):
            continue
        line = out[number]
        for index, column in enumerate(table.columns):
            cell = row.cells[index]
            if not cell or not _placement(column):
                continue
            at = line.find(cell, column.start)
            if at != column.start:
                continue  # not laid out under its header: left as captured
            line = line[:at] + ELLIPSIS.ljust(len(cell)) + line[at + len(cell) :]
        out[number] = line.rstrip()
    return out


def _header_only(seg: Seg) -> bool:
    """A promised table of a header and elisions only (no row shown)."""
    return seg.table is not None and not seg.table.rows and bool(seg.table.elided)


def _prefix_placeholder(state: State, value: str) -> str | None:
    """The 12-char placeholder for a captured truncated ID whose full ID is bound."""
    for captured, literal in state.rev.items():
        if state.kinds.get(literal) == "id25" and captured.startswith(value):
            return literal
    return None


def _assign_rows(run: Run, pt: Table, ct: Table, state: State) -> tuple[list[int | None], State]:
    """For each captured row, the promised row it keeps (greedy, respecting bindings)."""
    used: set[int] = set()
    chosen: list[int | None] = []
    for crow in ct.rows:
        pick = None
        for i, prow in enumerate(pt.rows):
            if i in used:
                continue
            found, _ = row_pairs(run, pt, prow, crow)
            new = extend(state, found)[0] if found is not None else None
            if new is not None:
                state, pick = new, i
                used.add(i)
                break
        chosen.append(pick)
    return chosen, state


def _merge_cells(
    run: Run, pt: Table, prow: Row, crow: Row, state: State
) -> tuple[list[str], State]:
    """A drifted row: promised cells that still match (placeholders, literals) are kept."""
    cells: list[str] = []
    for column, promised, captured in zip(pt.columns, prow.cells, crow.cells, strict=True):
        found = pairs(promised, captured, run.options.versions, id_column(column.name))
        new = extend(state, found)[0] if found is not None else None
        if new is None or not promised:
            cells.append(_written(column, captured))
        else:
            cells.append(promised)
            state = new
    return cells, state


def _layout_like(pt: Table, cells: Sequence[str]) -> str | None:
    """Captured cells placed at the promise's column positions, or None if they do not fit."""
    line = ""
    for column, cell in zip(pt.columns, cells, strict=True):
        if line and len(line) + 2 > column.start:
            return None
        line = line.ljust(column.start) + shown_cell(cell)
    return escape(line.rstrip())


def _rerender_table(run: Run, pt: Table, ct: Table) -> list[str]:
    chosen, _ = _assign_rows(run, pt, ct, State())
    drifted = len(pt.rows) - len({pick for pick in chosen if pick is not None})
    kept: list[tuple[str, ...] | None] = []  # None: an elided captured row
    for crow, pick in zip(ct.rows, chosen, strict=True):
        if pick is not None:
            kept.append(pt.rows[pick].cells)
        elif pt.elided and drifted <= 0:
            kept.append(None)
        else:
            kept.append(_written_row(pt, crow.cells))
            drifted -= 1
    rows = [cells for cells in kept if cells is not None]
    rendered = render(pt.names, rows)
    out = [rendered[0]]
    body = iter(rendered[1:])
    for cells in kept:
        if cells is not None:
            out.append(escape(next(body)))
        elif out[-1] != ELLIPSIS:
            out.append(ELLIPSIS)
    return out
