"""Does a capture fulfil a promise?  Segments, bindings, tables, JSON, indentation drift.

Both sides are normalised and cut into segments (:mod:`dojo_exec.lines`); promised
elisions (:mod:`dojo_exec.elisions`) stand for any number of captured segments.  Lines
match when equal up to whitespace runs and volatile shapes (:mod:`dojo_exec.volatile`),
tables column by column (:mod:`dojo_exec.table_match`); identity literals bind
consistently across the whole output (:mod:`dojo_exec.bindings`).

Two whole-output rules come first or last:

* JSON: when both sides parse as a JSON object or array, they are compared as JSON
  (:mod:`dojo_exec.json_match`), whatever their layout.
* Indentation drift: when the lines do not match as written but do once every promised
  line is shifted by the same number of spaces (Docker 1.12's flush-left ``docker info``
  against today's one-space indent, or the reverse), they match, and
  :attr:`MatchResult.notes` says so.  A partial shift is still a mismatch.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from dojo_exec.bindings import State, extend
from dojo_exec.elisions import is_elision
from dojo_exec.json_match import match_json, parse
from dojo_exec.lines import Seg, indent, pairs, segments
from dojo_exec.search import DEFAULT_OPTIONS, STEP_BUDGET, Failure, GaveUp, MatchOptions, Run, seq
from dojo_exec.table_match import match_table

MAX_SHIFT = 16


@dataclass(frozen=True)
class MatchResult:
    ok: bool
    explanation: str  # "" when ok: first difference in words, then a unified diff
    bindings: dict[str, str]  # promised volatile literal -> captured value
    notes: tuple[str, ...] = ()  # how it matched when not as written (JSON, indentation)
    kinds: dict[str, str] = field(default_factory=dict)  # promised literal -> its volatile kind


def match_segment(run: Run, p: Seg, c: Seg, state: State) -> tuple[State | None, str]:
    """One promised segment (not an elision) against one captured segment."""
    if p.kind == "table" and c.kind == "table":
        assert p.table is not None and c.table is not None
        return match_table(run, p.table, c.table, state)
    where = f"line {p.line + 1}"
    if p.kind != c.kind:
        what = "a table" if p.kind == "table" else "a line"
        return None, f"{where}: promised {what} {p.text!r}, captured {c.text!r}"
    found = pairs(
        p.text, c.text, run.options.versions, tail=not p.literal, exact_indent=run.exact_indent
    )
    if found is None:
        return None, f"{where}: promised {p.text!r}, captured {c.text!r}"
    new, why = extend(state, found)
    return new, f"{where}: {why}" if new is None else ""


def run_match(run: Run) -> tuple[State | None, str]:
    """Bindings if the lines of ``run`` match, else (None, the first difference)."""
    psegs = segments(run.plines, promise=True, literal=run.literal)
    csegs = segments(run.clines, promise=False)
    failure = Failure()
    try:
        found = seq(
            [seg.kind == "dots" for seg in psegs],
            len(csegs),
            lambda i, j, st: match_segment(run, psegs[i], csegs[j], st),
            State(),
            run.budget,
            failure,
            lambda i: f"line {psegs[i].line + 1}: promised {psegs[i].text!r}, but the output ended",
            lambda j: f"captured line {csegs[j].line + 1} is not in the promise: {csegs[j].text!r}",
        )
    except GaveUp:
        return None, f"gave up after {STEP_BUDGET} steps (too many interchangeable rows?)"
    return found, failure.why


def shifts(run: Run) -> list[int]:
    """Indentation shifts worth trying: promised first line against each captured indent."""
    promised = _promised_indents(run)
    if not promised:
        return []
    first, least = promised[0], min(promised)
    candidates = {indent(line) - first for line in run.clines if line}
    return sorted(
        (s for s in candidates if s and -least <= s <= MAX_SHIFT), key=lambda s: (abs(s), s)
    )


def _promised_indents(run: Run) -> list[int]:
    return [
        indent(line)
        for number, line in enumerate(run.plines)
        if line and (number in run.literal or not is_elision(line))
    ]


def shift_note(run: Run, shift: int) -> str:
    least = min(_promised_indents(run))
    return (
        f"promise indented {least} spaces, capture {least + shift}: "
        "compared ignoring the consistent shift"
    )


def match(expected: str, captured: str, options: MatchOptions = DEFAULT_OPTIONS) -> MatchResult:
    """Does ``captured`` fulfil the promise ``expected``?  See the module docstring."""
    run = Run.of(expected, captured, options)
    documents = parse(expected), parse(captured)
    if documents[0] is not None and documents[1] is not None:
        state, why = match_json(documents[0], documents[1], options.versions)
        if state is not None:
            return MatchResult(True, "", dict(state.fwd), ("compared as JSON",), dict(state.kinds))
        return MatchResult(False, why + "\n" + _diff(run), {})
    state, why = run_match(run)
    if state is not None:
        return MatchResult(True, "", dict(state.fwd), kinds=dict(state.kinds))
    for shift in shifts(run):
        moved, _ = run_match(run.shifted(shift))
        if moved is not None:
            notes = (shift_note(run, shift),)
            return MatchResult(True, "", dict(moved.fwd), notes, dict(moved.kinds))
    return MatchResult(False, why + "\n" + _diff(run), {})


def _diff(run: Run) -> str:
    diff = difflib.unified_diff(run.plines, run.clines, "promised", "captured", lineterm="")
    return "\n".join(diff)
