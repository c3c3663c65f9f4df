"""Semantic checks: statements about the captured table that are really evaluated.

Grammar (keywords are case-insensitive; ``[]`` optional, ``|`` alternatives)::

    check      := count "row"["s"] ["where" condition]
                | "all rows" ["where" condition] "have" condition
                | count "distinct" COLUMN ["where" condition]
    count      := "no" | N | "exactly" N | "at least" N | "at most" N
    condition  := comparison ("and" comparison)*
    comparison := COLUMN OP VALUE
    OP         := "="  (cell equals VALUE, both whitespace-trimmed)
                | "!=" (cell differs)
                | "~"  (regular expression search in the cell, e.g. ``~ Running``)
                | "!~" (no match)
    VALUE      := text up to the next " and " | 'single quoted' | "double quoted"

Examples::

    no rows where NODE = manager1 and CURRENT STATE ~ Running
    5 rows where CURRENT STATE ~ Running
    at least 2 distinct NODE where CURRENT STATE ~ Running
    all rows where NAME ~ redis have IMAGE = redis:3.0.7

COLUMN is matched case-insensitively against the header of the first table in the
captured output and may contain spaces (``CURRENT STATE``).  Cells are the trimmed text
of the table (:mod:`dojo_exec.tables`): a ``service ps`` history row's NAME cell is
``\\_ helloworld.3``, so ``NAME = helloworld.3`` selects only the current task of slot 3
while ``NAME ~ helloworld.3`` selects it and its history rows; ``NAME ~ ^\\\\_`` selects
history rows only.  In ``node ls`` the ID cell of the current node ends with `` *``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dojo_exec.tables import Row, Table, find_tables

_OPS = ("!=", "!~", "=", "~")
_COUNT = re.compile(
    r"^(?:(?P<no>no)|(?P<qual>exactly|at least|at most)\s+(?P<n1>\d+)|(?P<n2>\d+))\s+(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_COLUMN = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?: [A-Za-z0-9_]+)*")


class CheckSyntaxError(ValueError):
    """A check that does not parse; the message says what and where."""


@dataclass(frozen=True)
class Comparison:
    column: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.column} {self.op} {self.value}"

    def holds(self, cell: str) -> bool:
        cell = cell.strip()
        if self.op == "=":
            return cell == self.value
        if self.op == "!=":
            return cell != self.value
        found = re.search(self.value, cell) is not None
        return found if self.op == "~" else not found


@dataclass(frozen=True)
class Check:
    text: str
    kind: str  # "rows" | "all" | "distinct"
    where: tuple[Comparison, ...] = ()
    have: tuple[Comparison, ...] = ()  # for "all rows ... have ..."
    low: int = 0  # the count must lie in [low, high]
    high: int | None = None
    column: str | None = None  # for "distinct"

    def columns(self) -> list[str]:
        named = [c.column for c in (*self.where, *self.have)]
        return [*named, self.column] if self.column else named


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    explanation: str  # names each failed check, what was counted and the rows involved


def _split_and(text: str) -> list[str]:
    """Split on `` and `` outside quotes."""
    parts, current, quote = [], "", ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif re.match(r"\s+and\s+", text[index:], re.IGNORECASE) and current.strip():
            found = re.match(r"\s+and\s+", text[index:], re.IGNORECASE)
            assert found is not None
            parts.append(current)
            current = ""
            index += found.end()
            continue
        current += char
        index += 1
    if quote:
        raise CheckSyntaxError(f"unterminated quote {quote} in {text!r}")
    parts.append(current)
    return parts


def _comparison(text: str, whole: str) -> Comparison:
    text = text.strip()
    positions = [(text.find(op), op) for op in _OPS if op in text]
    if not positions:
        raise CheckSyntaxError(
            f"in {text!r}: expected COLUMN OP VALUE with OP one of = != ~ !~ (check {whole!r})"
        )
    start = min(p for p, _ in positions)
    op = next(o for p, o in sorted(positions, key=lambda p: (p[0], -len(p[1]))) if p == start)
    column, value = text[:start].strip(), text[start + len(op) :].strip()
    if not _COLUMN.fullmatch(column):
        raise CheckSyntaxError(f"in {text!r}: {column!r} is not a column name (check {whole!r})")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    elif not value:
        raise CheckSyntaxError(f"in {text!r}: missing value after {op!r} (check {whole!r})")
    if op in ("~", "!~"):
        try:
            re.compile(value)
        except re.error as error:
            raise CheckSyntaxError(f"in {text!r}: bad regular expression: {error}") from None
    return Comparison(column.upper(), op, value)


def _condition(text: str, whole: str) -> tuple[Comparison, ...]:
    if not text.strip():
        raise CheckSyntaxError(f"empty condition (check {whole!r})")
    return tuple(_comparison(part, whole) for part in _split_and(text))


def _where(rest: str, whole: str) -> tuple[Comparison, ...]:
    rest = rest.strip()
    if not rest:
        return ()
    found = re.match(r"where\s+(.*)$", rest, re.IGNORECASE | re.DOTALL)
    if not found:
        raise CheckSyntaxError(f"expected 'where ...' but found {rest!r} (check {whole!r})")
    return _condition(found.group(1), whole)


def parse_check(text: str) -> Check:
    """Parse one check (grammar in the module docstring)."""
    whole = " ".join(text.split())
    if not whole:
        raise CheckSyntaxError("empty check")
    found = re.match(r"all rows\s*(.*?)\s*\bhave\s+(.*)$", whole, re.IGNORECASE)
    if found:
        return Check(whole, "all", _where(found.group(1), whole), _condition(found.group(2), whole))
    if re.match(r"all rows\b", whole, re.IGNORECASE):
        raise CheckSyntaxError(f"'all rows' needs '... have CONDITION' (check {whole!r})")
    count = _COUNT.match(whole)
    if not count:
        raise CheckSyntaxError(
            f"a check starts with no, N, exactly N, at least N, at most N or 'all rows' "
            f"(check {whole!r})"
        )
    low, high = _bounds(count)
    rest = count["rest"]
    rows = re.match(r"rows?\b(.*)$", rest, re.IGNORECASE)
    if rows:
        return Check(whole, "rows", _where(rows.group(1), whole), low=low, high=high)
    distinct = re.match(r"distinct\s+(.*?)(?:\s+(where\s+.*))?$", rest, re.IGNORECASE)
    if distinct:
        column = distinct.group(1).strip()
        if not _COLUMN.fullmatch(column):
            raise CheckSyntaxError(f"{column!r} is not a column name (check {whole!r})")
        where = _where(distinct.group(2) or "", whole)
        return Check(whole, "distinct", where, low=low, high=high, column=column.upper())
    raise CheckSyntaxError(f"expected 'rows' or 'distinct COLUMN' after the count in {whole!r}")


def _bounds(count: re.Match[str]) -> tuple[int, int | None]:
    if count["no"]:
        return 0, 0
    qual = (count["qual"] or "exactly").lower()
    number = int(count["n1"] or count["n2"])
    if qual == "at least":
        return number, None
    if qual == "at most":
        return 0, number
    return number, number


def _cell(table: Table, row: Row, column: str) -> str:
    index = table.index(column)
    assert index is not None
    return row.cells[index]


def _rows_where(table: Table, where: Sequence[Comparison]) -> list[Row]:
    return [row for row in table.rows if all(c.holds(_cell(table, row, c.column)) for c in where)]


def _wanted(check: Check) -> str:
    if check.high is None:
        return f"at least {check.low}"
    if check.low == check.high:
        return f"{check.low}"
    return f"at most {check.high}" if check.low == 0 else f"{check.low}..{check.high}"


def _names(table: Table, rows: Sequence[Row]) -> str:
    return ", ".join(table.label(row) for row in rows) or "none"


def evaluate(check: Check, table: Table) -> tuple[bool, str]:
    """Evaluate one parsed check on ``table``: (holds, explanation)."""
    unknown = [name for name in check.columns() if table.index(name) is None]
    if unknown:
        return False, (
            f"check '{check.text}': unknown column {', '.join(map(repr, unknown))}; "
            f"the table has {', '.join(table.names)}"
        )
    selected = _rows_where(table, check.where)
    if check.kind == "all":
        bad = [
            row
            for row in selected
            if not all(c.holds(_cell(table, row, c.column)) for c in check.have)
        ]
        verdict = not bad
        why = f"{len(selected)} rows selected, {len(bad)} without it: {_names(table, bad)}"
        return verdict, f"check '{check.text}': {why}"
    if check.kind == "distinct":
        assert check.column is not None
        values = sorted({_cell(table, row, check.column) for row in selected})
        counted = len(values)
        what = f"{counted} distinct {check.column} ({', '.join(values) or 'none'})"
    else:
        counted = len(selected)
        what = f"{counted} rows ({_names(table, selected)})"
    verdict = counted >= check.low and (check.high is None or counted <= check.high)
    return verdict, f"check '{check.text}': wanted {_wanted(check)}, counted {what}"


def evaluate_checks(checks: Sequence[str], captured: str) -> CheckResult:
    """All checks must hold on the first table of ``captured``."""
    if not checks:
        return CheckResult(True, "")
    lines = [line.rstrip() for line in captured.splitlines()]
    tables = find_tables(lines)
    if not tables:
        return CheckResult(False, f"no table in the captured output for {len(checks)} check(s)")
    table = tables[0]
    verdicts: list[tuple[bool, str]] = []
    for text in checks:
        try:
            verdicts.append(evaluate(parse_check(text), table))
        except CheckSyntaxError as error:
            verdicts.append((False, f"check '{text}': {error}"))
    ok = all(v for v, _ in verdicts)
    lines_out = [("ok: " if v else "FAILED: ") + why for v, why in verdicts]
    return CheckResult(ok, "\n".join(lines_out))
