"""Docker tables compared column by column, rows as a multiset (or in order).

Same column names first, then rows cell by cell (:func:`row_pairs`): a promised cell
``...``/``…`` matches any cell, a row ending in one elides its remaining cells
(:func:`dojo_exec.elisions.tail_start`).  Unordered rows: Kuhn's augmenting paths check
that a complete assignment exists ignoring bindings (polynomial), then a backtracking
search over the few remaining candidates assigns rows consistently with the bindings.
"""

from __future__ import annotations

from dojo_exec.bindings import Pair, State, extend
from dojo_exec.elisions import is_wildcard, tail_start
from dojo_exec.lines import pairs
from dojo_exec.search import Failure, Run, seq
from dojo_exec.tables import Row, Table

Candidates = list[list[tuple[int, list[Pair]]]]


def id_column(name: str) -> bool:
    return name == "ID" or name.endswith(" ID")


MACHINE_DRIVERS = frozenset(
    {
        "embedded", "qemu", "virtualbox", "generic", "hyperv", "vmwarefusion", "vmwarevsphere",
        "vmwarevcloudair", "amazonec2", "azure", "digitalocean", "exoscale", "google",
        "openstack", "rackspace", "softlayer", "kvm", "xhyve", "parallels",
    }
)  # fmt: skip
"""docker-machine driver names: which one shows depends on where the page runs, not on it."""


def same_machine_driver(column: str, promised: str, captured: str) -> bool:
    """A ``DRIVER`` cell of ``docker-machine ls`` promising one machine driver accepts another
    (``embedded`` where the reader's says ``virtualbox``, ``qemu`` on real VMs).  Other tables'
    ``DRIVER`` columns (``network ls``: bridge, overlay) stay literal."""
    return column == "DRIVER" and promised in MACHINE_DRIVERS and captured in MACHINE_DRIVERS


def row_pairs(run: Run, table: Table, prow: Row, crow: Row) -> tuple[list[Pair] | None, str]:
    """Binding pairs if the captured row has the shape of the promised one, else why not."""
    found: list[Pair] = []
    literal = prow.line in run.literal  # an escaped elision row: no cell elisions either
    stop = None if literal else tail_start(prow.cells)
    cells = zip(table.columns, prow.cells, crow.cells, strict=True)
    for number, (column, p, c) in enumerate(cells):
        if stop is not None and number >= stop and (number > stop or is_wildcard(p) or not p):
            break
        if (is_wildcard(p) or same_machine_driver(column.name, p, c)) and not literal:
            continue
        cell = pairs(p, c, run.options.versions, id_column(column.name), tail=not literal)
        if cell is None:
            return None, f"column {column.name}: promised {p!r}, captured {c!r}"
        found.extend(cell)
    return found, ""


def row_name(table: Table, number: int) -> str:
    return f"row {number + 1} ({table.label(table.rows[number])})"


def match_table(run: Run, pt: Table, ct: Table, state: State) -> tuple[State | None, str]:
    where = f"table at line {pt.start + 1}"
    if pt.names != ct.names:
        return None, (
            f"{where}: promised columns {', '.join(pt.names)}; "
            f"captured columns {', '.join(ct.names)}"
        )
    if run.options.ordered:
        return _ordered_rows(run, pt, ct, state)
    return _unordered_rows(run, pt, ct, state)


def _ordered_rows(run: Run, pt: Table, ct: Table, state: State) -> tuple[State | None, str]:
    items: list[int | None] = []
    for number in range(len(pt.rows)):
        items.extend([None] * pt.elided.count(number))
        items.append(number)
    items.extend([None] * pt.elided.count(len(pt.rows)))

    def item(i: int, j: int, st: State) -> tuple[State | None, str]:
        number = items[i]
        assert number is not None
        found, why = row_pairs(run, pt, pt.rows[number], ct.rows[j])
        if found is None:
            return None, f"{row_name(pt, number)}, {why}"
        new, why = extend(st, found)
        return new, f"{row_name(pt, number)}: {why}" if new is None else ""

    failure = Failure()
    found = seq(
        [n is None for n in items],
        len(ct.rows),
        item,
        state,
        run.budget,
        failure,
        lambda i: f"{row_name(pt, items[i] or 0)} was promised but not captured",
        lambda j: f"captured {row_name(ct, j)} is not in the promise",
    )
    return found, failure.why


def _candidates(run: Run, pt: Table, ct: Table, state: State) -> Candidates:
    out: Candidates = []
    for prow in pt.rows:
        row: list[tuple[int, list[Pair]]] = []
        for j, crow in enumerate(ct.rows):
            run.budget.tick()
            found, _ = row_pairs(run, pt, prow, crow)
            if found is not None and extend(state, found)[0] is not None:
                row.append((j, found))
        out.append(row)
    return out


def _perfect(cands: Candidates, count: int) -> bool:
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


def _unordered_rows(run: Run, pt: Table, ct: Table, state: State) -> tuple[State | None, str]:
    cands = _candidates(run, pt, ct, state)
    sizes_ok = len(pt.rows) <= len(ct.rows) and (pt.elided or len(pt.rows) == len(ct.rows))
    if sizes_ok and _perfect(cands, len(ct.rows)):
        order = sorted(range(len(cands)), key=lambda i: (len(cands[i]), i))
        used = [False] * len(ct.rows)

        def search(k: int, st: State) -> State | None:
            if k == len(order):
                return st
            for j, found in cands[order[k]]:
                if used[j]:
                    continue
                run.budget.tick()
                new, _ = extend(st, found)
                if new is None:
                    continue
                used[j] = True
                result = search(k + 1, new)
                used[j] = False
                if result is not None:
                    return result
            return None

        result = search(0, state)
        if result is not None:
            return result, ""
    return None, _explain_rows(run, pt, ct, state, cands)


def _explain_rows(run: Run, pt: Table, ct: Table, state: State, cands: Candidates) -> str:
    """Greedy assignment, then the first promised row left over, in words."""
    used: set[int] = set()
    unplaced: list[tuple[int, str]] = []
    for i, row in enumerate(cands):
        why = "no captured row matches it"
        for j, found in row:
            if j in used:
                continue
            new, why = extend(state, found)
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
            return f"{row_name(pt, i)}: {why}"
        if not left:
            line = run.plines[pt.rows[i].line]
            return f"{row_name(pt, i)} was promised but not captured: {line!r}"
        j = max(left, key=lambda j: (_same_cells(run, pt, i, ct.rows[j]), -j))
        return f"{row_name(pt, i)}, {row_pairs(run, pt, pt.rows[i], ct.rows[j])[1]}"
    if left and not pt.elided:
        j = left[0]
        return f"captured {row_name(ct, j)} is not in the promise: {run.clines[ct.rows[j].line]!r}"
    return f"table at line {pt.start + 1}: no consistent assignment of rows (IDs bound twice?)"


def _same_cells(run: Run, table: Table, i: int, crow: Row) -> int:
    return sum(
        is_wildcard(p) or pairs(p, c, run.options.versions, id_column(col.name)) is not None
        for col, p, c in zip(table.columns, table.rows[i].cells, crow.cells, strict=True)
    )
