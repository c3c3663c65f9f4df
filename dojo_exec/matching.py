"""Promise vs capture: does the output a page promises match what really came out?

Both sides are normalised (trailing whitespace stripped, leading/trailing blank lines
dropped) and cut into *segments*: plain lines, Docker tables (:mod:`dojo_exec.tables`) and,
in the promise only, ``...`` lines that elide zero or more segments.

* Plain lines match when equal, except that whitespace runs compare equal whatever their
  length (``inspect --pretty`` uses tabs) and volatile literals (:mod:`dojo_exec.volatile`)
  accept any value of their shape.
* Tables match column by column: same column names, then rows cell by cell.  Rows are a
  multiset (a consistent one-to-one assignment is searched) unless ``ordered``; a ``...``
  line inside a table allows any number of extra captured rows.
* Bindings: one promised identity literal (ID, token, digest, IP, port) stands for one
  captured value throughout the output, and two different literals for different values;
  a promised 12-char ID that is a prefix of a promised 25-char ID must stay a prefix.

The search is deterministic; an unordered table first checks that a complete assignment
exists ignoring bindings (Kuhn's augmenting paths, polynomial), then backtracks over the
few candidates that remain, within a step budget.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from dojo_exec.tables import ELLIPSIS, Row, Table, find_tables, render, shown_cell
from dojo_exec.volatile import ACCEPT, BINDING_KINDS, scan

STEP_BUDGET = 200_000
ESCAPED_ELLIPSIS = "\\..."
"""A promise line that stands for a captured line reading ``...`` (``...`` alone elides)."""
_WS = re.compile(r"(\s+)")


@dataclass(frozen=True)
class MatchOptions:
    ordered: bool = False  # table rows must appear in promised order (default: a multiset)
    versions: bool = False  # Docker version strings match any version


@dataclass(frozen=True)
class MatchResult:
    ok: bool
    explanation: str  # "" when ok: first difference in words, then a unified diff
    bindings: dict[str, str]  # promised volatile literal -> captured value


# --------------------------------------------------------------------------- bindings

Pair = tuple[str, str, str]  # (kind, promised literal, captured value)


@dataclass(frozen=True)
class _State:
    fwd: dict[str, str] = field(default_factory=dict)
    rev: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


def _extend(state: _State, pairs: Sequence[Pair]) -> tuple[_State | None, str]:
    """Add bindings; (None, why) on a conflict."""
    fwd, rev, kinds = state.fwd, state.rev, state.kinds
    copied = False
    for kind, literal, value in pairs:
        if kind not in BINDING_KINDS:
            continue
        bound = fwd.get(literal)
        if bound is not None:
            if bound != value:
                why = f"promised {literal!r} stands for {bound!r} elsewhere, here {value!r}"
                return None, why
            continue
        other = rev.get(value)
        if other is not None:
            return None, f"promised {other!r} and {literal!r} both captured as {value!r}"
        why = _prefix_conflict(fwd, kinds, kind, literal, value)
        if why:
            return None, why
        if not copied:
            fwd, rev, kinds, copied = dict(fwd), dict(rev), dict(kinds), True
        fwd[literal], rev[value], kinds[literal] = value, literal, kind
    return (_State(fwd, rev, kinds) if copied else state), ""


def _prefix_conflict(
    fwd: dict[str, str], kinds: dict[str, str], kind: str, literal: str, value: str
) -> str:
    """A truncated ID that prefixes a full one in the promise must do so in the capture."""
    if kind not in ("id12", "id25"):
        return ""
    for other, other_value in fwd.items():
        if kinds.get(other) not in ("id12", "id25") or len(other) == len(literal):
            continue
        (short, short_v), (long_, long_v) = sorted(
            [(literal, value), (other, other_value)], key=lambda p: len(p[0])
        )
        if long_.startswith(short) and not long_v.startswith(short_v):
            return (
                f"promised {short!r} prefixes {long_!r}, but {short_v!r} does not prefix {long_v!r}"
            )
    return ""


# --------------------------------------------------------------------------- lines


@lru_cache(maxsize=8192)
def _compile(
    text: str, versions: bool, id_cell: bool
) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...]]:
    """A promised line or cell → regex with one group per volatile literal, and the slots."""
    parts: list[str] = []
    slots: list[tuple[str, str]] = []
    for piece in scan(text, versions, id_cell):
        if piece.kind is None:
            parts.extend(
                r"\s+" if ws.isspace() else re.escape(ws) for ws in _WS.split(piece.text) if ws
            )
        else:
            parts.append(f"({ACCEPT[piece.kind]})")
            slots.append((piece.kind, piece.text))
    return re.compile("".join(parts)), tuple(slots)


def _pairs(
    promised: str, captured: str, versions: bool, id_cell: bool = False
) -> list[Pair] | None:
    """Binding pairs if ``captured`` has the shape of ``promised``, else None."""
    pattern, slots = _compile(promised, versions, id_cell)
    if promised == captured:
        return [(kind, literal, literal) for kind, literal in slots]
    found = pattern.fullmatch(captured)
    if found is None:
        return None
    return [(k, lit, v) for (k, lit), v in zip(slots, found.groups(), strict=True)]


# --------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class _Seg:
    kind: str  # "line" | "table" | "dots"
    line: int  # index of the first line in the normalised text
    text: str
    table: Table | None = None
    implicit: bool = False  # the ``...`` that ends a table, eliding what follows it too


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufe0e\ufe0f"))
"""Zero-width characters a terminal screen does not keep (joiners, emoji variation selectors)."""


def _normalise(text: str) -> list[str]:
    """Lines as a screen shows them: NFC, no zero-width characters, tabs expanded, no CRs."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    lines = [line.expandtabs().rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _segments(
    lines: Sequence[str], promise: bool, *, literal: frozenset[int] = frozenset()
) -> list[_Seg]:
    """Lines, tables and (in a promise) ``...`` elisions.

    A ``...`` that ends a promised table elides both further rows and whatever follows the
    table (a summary line after ``docker ps``-like output): an implicit elision follows it.
    """
    tables = {table.start: table for table in find_tables(lines)}
    segs: list[_Seg] = []
    index = 0
    while index < len(lines):
        table = tables.get(index)
        if table is not None:
            segs.append(_Seg("table", index, lines[index], table))
            index = table.end
            if promise and lines[index - 1].strip() == ELLIPSIS and index - 1 not in literal:
                segs.append(_Seg("dots", index - 1, lines[index - 1], implicit=True))
            continue
        dots = promise and lines[index].strip() == ELLIPSIS and index not in literal
        segs.append(_Seg("dots" if dots else "line", index, lines[index]))
        index += 1
    return segs


# --------------------------------------------------------------------------- search


class _Budget:
    def __init__(self) -> None:
        self.steps = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps > STEP_BUDGET:
            raise _GaveUp


class _GaveUp(Exception):
    pass


@dataclass
class _Failure:
    depth: int = -1
    why: str = ""

    def note(self, depth: int, why: str) -> None:
        if depth > self.depth:
            self.depth, self.why = depth, why


Matcher = Callable[[int, int, _State], tuple["_State | None", str]]


def _seq(
    dots: Sequence[bool],
    count: int,
    item: Matcher,
    state: _State,
    budget: _Budget,
    failure: _Failure,
    missing: Callable[[int], str],
    extra: Callable[[int], str],
    i: int = 0,
    j: int = 0,
) -> _State | None:
    """Match promise items (``dots[i]`` marks an elision) against ``count`` captured items."""
    while i < len(dots) and not dots[i]:
        budget.tick()
        if j >= count:
            failure.note(i, missing(i))
            return None
        new, why = item(i, j, state)
        if new is None:
            failure.note(i, why)
            return None
        state, i, j = new, i + 1, j + 1
    if i == len(dots):
        if j < count:
            failure.note(i, extra(j))
            return None
        return state
    for k in range(j, count + 1):
        found = _seq(dots, count, item, state, budget, failure, missing, extra, i + 1, k)
        if found is not None:
            return found
    return None


@dataclass
class _Run:
    plines: list[str]
    clines: list[str]
    options: MatchOptions
    budget: _Budget = field(default_factory=_Budget)
    literal: frozenset[int] = frozenset()  # promise lines written ``\...``: a real "..." line

    @classmethod
    def of(cls, expected: str, captured: str, options: MatchOptions) -> _Run:
        plines = _normalise(expected)
        literal = frozenset(i for i, line in enumerate(plines) if line.strip() == ESCAPED_ELLIPSIS)
        for i in literal:
            plines[i] = plines[i].replace(ESCAPED_ELLIPSIS, ELLIPSIS, 1)
        return cls(plines, _normalise(captured), options, literal=literal)


def _id_column(name: str) -> bool:
    return name == "ID" or name.endswith(" ID")


def _row_pairs(run: _Run, table: Table, prow: Row, crow: Row) -> tuple[list[Pair] | None, str]:
    pairs: list[Pair] = []
    for column, p, c in zip(table.columns, prow.cells, crow.cells, strict=True):
        found = _pairs(p, c, run.options.versions, _id_column(column.name))
        if found is None:
            return None, f"column {column.name}: promised {p!r}, captured {c!r}"
        pairs.extend(found)
    return pairs, ""


def _row_name(table: Table, number: int) -> str:
    return f"row {number + 1} ({table.label(table.rows[number])})"


def _match_table(run: _Run, pt: Table, ct: Table, state: _State) -> tuple[_State | None, str]:
    where = f"table at line {pt.start + 1}"
    if pt.names != ct.names:
        return None, (
            f"{where}: promised columns {', '.join(pt.names)}; "
            f"captured columns {', '.join(ct.names)}"
        )
    if run.options.ordered:
        return _ordered_rows(run, pt, ct, state)
    return _unordered_rows(run, pt, ct, state)


def _ordered_rows(run: _Run, pt: Table, ct: Table, state: _State) -> tuple[_State | None, str]:
    items: list[int | None] = []
    for number in range(len(pt.rows)):
        items.extend([None] * pt.elided.count(number))
        items.append(number)
    items.extend([None] * pt.elided.count(len(pt.rows)))

    def item(i: int, j: int, st: _State) -> tuple[_State | None, str]:
        number = items[i]
        assert number is not None
        pairs, why = _row_pairs(run, pt, pt.rows[number], ct.rows[j])
        if pairs is None:
            return None, f"{_row_name(pt, number)}, {why}"
        new, why = _extend(st, pairs)
        return new, f"{_row_name(pt, number)}: {why}" if new is None else ""

    failure = _Failure()
    found = _seq(
        [n is None for n in items],
        len(ct.rows),
        item,
        state,
        run.budget,
        failure,
        lambda i: f"{_row_name(pt, items[i] or 0)} was promised but not captured",
        lambda j: f"captured {_row_name(ct, j)} is not in the promise",
    )
    return found, failure.why


def _candidates(
    run: _Run, pt: Table, ct: Table, state: _State
) -> list[list[tuple[int, list[Pair]]]]:
    out: list[list[tuple[int, list[Pair]]]] = []
    for prow in pt.rows:
        row: list[tuple[int, list[Pair]]] = []
        for j, crow in enumerate(ct.rows):
            run.budget.tick()
            pairs, _ = _row_pairs(run, pt, prow, crow)
            if pairs is not None and _extend(state, pairs)[0] is not None:
                row.append((j, pairs))
        out.append(row)
    return out


def _perfect(cands: list[list[tuple[int, list[Pair]]]], count: int) -> bool:
    """Kuhn's algorithm: can every promised row get its own captured row?"""
    owner: list[int | None] = [None] * count

    def augment(i: int, seen: set[int]) -> bool:
        for j, _ in cands[i]:
            if j in seen:
                continue
            seen.add(j)
            current = owner[j]
            if current is None or augment(current, seen):
                owner[j] = i
                return True
        return False

    return all(augment(i, set()) for i in range(len(cands)))


def _unordered_rows(run: _Run, pt: Table, ct: Table, state: _State) -> tuple[_State | None, str]:
    cands = _candidates(run, pt, ct, state)
    sizes_ok = len(pt.rows) <= len(ct.rows) and (pt.elided or len(pt.rows) == len(ct.rows))
    if sizes_ok and _perfect(cands, len(ct.rows)):
        order = sorted(range(len(cands)), key=lambda i: (len(cands[i]), i))
        used = [False] * len(ct.rows)

        def search(k: int, st: _State) -> _State | None:
            if k == len(order):
                return st
            for j, pairs in cands[order[k]]:
                if used[j]:
                    continue
                run.budget.tick()
                new, _ = _extend(st, pairs)
                if new is None:
                    continue
                used[j] = True
                found = search(k + 1, new)
                used[j] = False
                if found is not None:
                    return found
            return None

        found = search(0, state)
        if found is not None:
            return found, ""
    return None, _explain_rows(run, pt, ct, state, cands)


def _explain_rows(
    run: _Run,
    pt: Table,
    ct: Table,
    state: _State,
    cands: list[list[tuple[int, list[Pair]]]],
) -> str:
    """Greedy assignment, then the first promised row left over, in words."""
    used: set[int] = set()
    unplaced: list[tuple[int, str]] = []
    for i, row in enumerate(cands):
        why = "no captured row matches it"
        for j, pairs in row:
            if j in used:
                continue
            new, why = _extend(state, pairs)
            if new is not None:
                state = new
                used.add(j)
                break
        else:
            unplaced.append((i, why))
    left = [j for j in range(len(ct.rows)) if j not in used]
    if unplaced:
        i, why = unplaced[0]
        if cands[i]:
            return f"{_row_name(pt, i)}: {why}"
        if not left:
            return (
                f"{_row_name(pt, i)} was promised but not captured: {run.plines[pt.rows[i].line]!r}"
            )
        j = max(left, key=lambda j: (_same_cells(run, pt, i, ct.rows[j]), -j))
        return f"{_row_name(pt, i)}, {_row_pairs(run, pt, pt.rows[i], ct.rows[j])[1]}"
    if left and not pt.elided:
        j = left[0]
        return f"captured {_row_name(ct, j)} is not in the promise: {run.clines[ct.rows[j].line]!r}"
    return f"table at line {pt.start + 1}: no consistent assignment of rows (IDs bound twice?)"


def _same_cells(run: _Run, table: Table, i: int, crow: Row) -> int:
    return sum(
        _pairs(p, c, run.options.versions, _id_column(col.name)) is not None
        for col, p, c in zip(table.columns, table.rows[i].cells, crow.cells, strict=True)
    )


def _match_segment(run: _Run, p: _Seg, c: _Seg, state: _State) -> tuple[_State | None, str]:
    if p.kind == "table" and c.kind == "table":
        assert p.table is not None and c.table is not None
        return _match_table(run, p.table, c.table, state)
    where = f"line {p.line + 1}"
    if p.kind != c.kind:
        what = "a table" if p.kind == "table" else "a line"
        return None, f"{where}: promised {what} {p.text!r}, captured {c.text!r}"
    pairs = _pairs(p.text, c.text, run.options.versions)
    if pairs is None:
        return None, f"{where}: promised {p.text!r}, captured {c.text!r}"
    new, why = _extend(state, pairs)
    return new, f"{where}: {why}" if new is None else ""


def _run_match(run: _Run) -> tuple[_State | None, str]:
    psegs = _segments(run.plines, promise=True, literal=run.literal)
    csegs = _segments(run.clines, promise=False)
    failure = _Failure()
    try:
        found = _seq(
            [seg.kind == "dots" for seg in psegs],
            len(csegs),
            lambda i, j, st: _match_segment(run, psegs[i], csegs[j], st),
            _State(),
            run.budget,
            failure,
            lambda i: f"line {psegs[i].line + 1}: promised {psegs[i].text!r}, but the output ended",
            lambda j: f"captured line {csegs[j].line + 1} is not in the promise: {csegs[j].text!r}",
        )
    except _GaveUp:
        return None, f"gave up after {STEP_BUDGET} steps (too many interchangeable rows?)"
    return found, failure.why


def match(expected: str, captured: str, options: MatchOptions = MatchOptions()) -> MatchResult:
    """Does ``captured`` fulfil the promise ``expected``?  See the module docstring."""
    run = _Run.of(expected, captured, options)
    state, why = _run_match(run)
    if state is not None:
        return MatchResult(True, "", dict(state.fwd))
    diff = difflib.unified_diff(run.plines, run.clines, "promised", "captured", lineterm="")
    return MatchResult(False, why + "\n" + "\n".join(diff), {})


# --------------------------------------------------------------------------- reconcile


def reconcile(expected: str, captured: str, options: MatchOptions = MatchOptions()) -> str:
    """New promise text for ``update`` (see the module docstring of ``update``).

    Promised lines that still match are kept byte-for-byte, drifted lines are replaced by
    the captured ones, missing/extra lines removed/added, ``...`` kept where it still
    elides something.  If ``match(expected, captured).ok`` the promise is returned as is,
    and the result always matches ``captured``.
    """
    if match(expected, captured, options).ok:
        return expected
    run = _Run.of(expected, captured, options)
    raw = _raw_lines(expected)
    lines = _reconcile_segments(run, raw)
    tail = "\n" if expected.endswith("\n") else ""
    result = "\n".join(lines) + tail
    if match(result, captured, options).ok:
        return result
    return "\n".join(_escaped(run.clines)) + tail


def _raw_lines(text: str) -> list[str]:
    """Promise lines as written (same window as :func:`_normalise`)."""
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _compatible(run: _Run, p: _Seg, c: _Seg) -> bool:
    if p.kind == "table" and c.kind == "table":
        assert p.table is not None and c.table is not None
        return p.table.names == c.table.names
    if p.kind == "line" and c.kind == "line":
        pairs = _pairs(p.text, c.text, run.options.versions)
        return pairs is not None and _extend(_State(), pairs)[0] is not None
    return False


def _align(run: _Run, ps: list[_Seg], cs: list[_Seg]) -> list[tuple[int, int]]:
    """Longest common subsequence of compatible segments (dots excluded)."""
    n, m = len(ps), len(cs)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if ps[i].kind != "dots" and _compatible(run, ps[i], cs[j]):
                best[i][j] = best[i + 1][j + 1] + 1
            else:
                best[i][j] = max(best[i + 1][j], best[i][j + 1])
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        if (
            ps[i].kind != "dots"
            and _compatible(run, ps[i], cs[j])
            and best[i][j] == best[i + 1][j + 1] + 1
        ):
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _seg_lines(run: _Run, seg: _Seg, lines: list[str]) -> list[str]:
    end = seg.table.end if seg.table is not None else seg.line + 1
    return _escaped(lines[seg.line : end]) if lines is run.clines else lines[seg.line : end]


def _escaped(captured: Sequence[str]) -> list[str]:
    r"""Captured lines as a promise writes them: a real ``...`` line becomes ``\...``."""
    return [
        line.replace(ELLIPSIS, ESCAPED_ELLIPSIS, 1) if line.strip() == ELLIPSIS else line
        for line in captured
    ]


def _reconcile_segments(run: _Run, raw: list[str]) -> list[str]:
    ps = _segments(run.plines, promise=True, literal=run.literal)
    cs = _segments(run.clines, promise=False)
    out: list[str] = []
    pi = ci = 0
    for i, j in [*_align(run, ps, cs), (len(ps), len(cs))]:
        out.extend(_reconcile_gap(run, raw, ps[pi:i], cs[ci:j]))
        if i < len(ps):
            p, c = ps[i], cs[j]
            if p.kind == "table":
                assert p.table is not None and c.table is not None
                out.extend(_reconcile_table(run, raw, p.table, c.table))
            else:
                out.append(raw[p.line])
        pi, ci = i + 1, j + 1
    return out


def _reconcile_gap(run: _Run, raw: list[str], pgap: list[_Seg], cgap: list[_Seg]) -> list[str]:
    """Unaligned promise segments vs unaligned captured ones between two aligned pairs.

    Without ``...`` the captured segments replace the promised ones.  With ``...``, the
    drifted promise segments before the first and after the last ``...`` are replaced by
    as many captured segments from each end, and ``...`` elides whatever remains (it is
    dropped if nothing remains).
    """
    dots = [k for k, seg in enumerate(pgap) if seg.kind == "dots"]
    if not dots:
        return [line for seg in cgap for line in _seg_lines(run, seg, run.clines)]
    head = min(dots[0], len(cgap))
    tail = min(len(pgap) - dots[-1] - 1, len(cgap) - head)
    middle = cgap[head : len(cgap) - tail]
    out = [line for seg in cgap[:head] for line in _seg_lines(run, seg, run.clines)]
    out.extend(_reconcile_elided(run, raw, pgap[dots[0] : dots[-1] + 1], middle))
    out.extend(
        line for seg in cgap[len(cgap) - tail :] for line in _seg_lines(run, seg, run.clines)
    )
    return out


def _reconcile_elided(run: _Run, raw: list[str], pgap: list[_Seg], middle: list[_Seg]) -> list[str]:
    """What ``...`` elided, between the promise's first and last ``...`` (both in ``pgap``).

    A promised line between them (``...``/``Status: active``/``...``) has drifted: it is
    replaced by the most similar captured line, in order, so the promise keeps saying what
    it said (``Status: inactive``) instead of collapsing to a bare ``...``.
    """
    dots = raw[pgap[0].line]
    literals = [seg for seg in pgap if seg.kind != "dots"]
    picked: list[int] = []
    for literal in literals:
        text = "\n".join(_seg_lines(run, literal, run.plines))
        start = picked[-1] + 1 if picked else 0
        scores = [
            (
                difflib.SequenceMatcher(
                    None, text, "\n".join(_seg_lines(run, seg, run.clines))
                ).ratio(),
                k,
            )
            for k, seg in enumerate(middle[start:], start=start)
        ]
        best = max(scores, default=(0.0, -1))
        if best[0] >= 0.5:
            picked.append(best[1])
    if literals and not picked:  # nothing like what was promised: promise what came out
        return [line for seg in middle for line in _seg_lines(run, seg, run.clines)]
    out: list[str] = []
    previous = -1
    for k in picked:
        if k > previous + 1 and not (previous == -1 and pgap[0].implicit):
            out.append(dots)  # (an implicit ``...`` is already the table's last line)
        out.extend(_seg_lines(run, middle[k], run.clines))
        previous = k
    if previous < len(middle) - 1 and not (previous == -1 and pgap[-1].implicit):
        out.append(dots)
    return out


def _reconcile_table(run: _Run, raw: list[str], pt: Table, ct: Table) -> list[str]:
    """A drifted table: the promise's header and still-matching rows stay byte for byte.

    Drifted rows take the captured cells laid out in the promise's columns, in the place
    of the promised rows they replace, so ``git diff`` shows only what drifted.  When a
    captured cell does not fit the promise's layout the whole table is laid out anew.
    """
    if _match_table(run, pt, ct, _State())[0] is not None:
        return raw[pt.start : pt.end]
    chosen, state = _assign_rows(run, pt, ct)
    used = {pick for pick in chosen if pick is not None}
    fresh = [crow for crow, pick in zip(ct.rows, chosen, strict=True) if pick is None]
    drifted_rows = [row for index, row in enumerate(pt.rows) if index not in used]
    replacements: list[str | None] = []
    for prow, crow in zip(drifted_rows, fresh, strict=False):
        cells, state = _merge_cells(run, pt, prow, crow, state)
        replacements.append(_layout_like(pt, cells))
    extra = [_layout_like(pt, crow.cells) for crow in fresh[len(drifted_rows) :]]
    elide = bool(pt.elided) and bool(extra)
    if any(line is None for line in replacements) or (not elide and None in extra):
        return _rerender_table(run, raw, pt, ct)
    lines = iter(replacements)
    out = [raw[pt.start]]
    rows_by_line = {row.line: index for index, row in enumerate(pt.rows)}
    for number in range(pt.start + 1, pt.end):
        index = rows_by_line.get(number)
        if index is None:
            if raw[number].strip() == ELLIPSIS and elide and out[-1] != ELLIPSIS:
                out.append(raw[number])
        elif index in used:
            out.append(raw[number])
        else:
            out.extend(line for line in [next(lines, None)] if line is not None)
    if not elide:
        out.extend(line for line in extra if line is not None)
    return out


def _assign_rows(run: _Run, pt: Table, ct: Table) -> tuple[list[int | None], _State]:
    """For each captured row, the promised row it keeps (greedy, respecting bindings)."""
    state = _State()
    used: set[int] = set()
    chosen: list[int | None] = []
    for crow in ct.rows:
        pick = None
        for i, prow in enumerate(pt.rows):
            if i in used:
                continue
            pairs, _ = _row_pairs(run, pt, prow, crow)
            new = _extend(state, pairs)[0] if pairs is not None else None
            if new is not None:
                state, pick = new, i
                used.add(i)
                break
        chosen.append(pick)
    return chosen, state


def _merge_cells(
    run: _Run, pt: Table, prow: Row, crow: Row, state: _State
) -> tuple[list[str], _State]:
    """A drifted row: promised cells that still match (placeholders, literals) are kept."""
    cells: list[str] = []
    for column, promised, captured in zip(pt.columns, prow.cells, crow.cells, strict=True):
        pairs = _pairs(promised, captured, run.options.versions, _id_column(column.name))
        new = _extend(state, pairs)[0] if pairs is not None else None
        if new is None:
            cells.append(captured)
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
    return line.rstrip()


def _rerender_table(run: _Run, raw: list[str], pt: Table, ct: Table) -> list[str]:
    state = _State()
    used: set[int] = set()
    kept: list[tuple[str, ...] | None] = []  # None: an elided captured row
    unmatched = [ct_row for ct_row in ct.rows]
    chosen: list[int | None] = []
    for crow in ct.rows:
        pick = None
        for i, prow in enumerate(pt.rows):
            if i in used:
                continue
            pairs, _ = _row_pairs(run, pt, prow, crow)
            new = _extend(state, pairs)[0] if pairs is not None else None
            if new is not None:
                state, pick = new, i
                used.add(i)
                break
        chosen.append(pick)
    drifted = len(pt.rows) - len(used)
    for crow, pick in zip(unmatched, chosen, strict=True):
        if pick is not None:
            kept.append(pt.rows[pick].cells)
        elif pt.elided and drifted <= 0:
            kept.append(None)
        else:
            kept.append(crow.cells)
            drifted -= 1
    rows = [cells for cells in kept if cells is not None]
    rendered = render(pt.names, rows)
    out = [rendered[0]]
    body = iter(rendered[1:])
    for cells in kept:
        if cells is not None:
            out.append(next(body))
        elif out[-1] != ELLIPSIS:
            out.append(ELLIPSIS)
    return out
