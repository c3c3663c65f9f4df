"""Properties of the matcher over real captures (hypothesis)."""

from __future__ import annotations

import os
import re

from fixtures.rerandomise import ORIGINAL, body, rerandomise
from hypothesis import given, settings
from hypothesis import strategies as st

from dojo_exec.matching import MatchOptions, match, reconcile

NAMES = sorted(p.name for p in ORIGINAL.glob("*.txt"))
TABLES = [
    "06-node-ls.txt",
    "08-service-ls.txt",
    "12-service-ls-5.txt",
    "13-service-ps-5.txt",
    "15-node-ls-drain.txt",
    "16-service-ps-drained.txt",
    "24-service-ps-redis-updating.txt",
    "26-service-ps-redis-updated.txt",
    "28-docker-ps.txt",
]
TEXT = {name: body(ORIGINAL / name) for name in NAMES}

fixtures = st.sampled_from(NAMES)
tables = st.sampled_from(TABLES)
seeds = st.integers(min_value=0, max_value=2**32)
EXAMPLES = int(os.environ.get("DOJO_PROPERTY_EXAMPLES", "60"))  # raise it to search harder
PROPERTY = settings(max_examples=EXAMPLES, deadline=None)  # per test: no global profile change


@PROPERTY
@given(fixtures, seeds, st.booleans())
def test_capture_matches_itself_rerandomised(name: str, seed: int, shuffle: bool) -> None:
    result = match(TEXT[name], rerandomise(TEXT[name], seed, shuffle=shuffle))
    assert result.ok, result.explanation


def _rows(text: str) -> list[str]:
    return text.splitlines()[1:]


@PROPERTY
@given(tables, seeds, st.data())
def test_mutating_a_cell_word_fails(name: str, seed: int, data: st.DataObject) -> None:
    captured = rerandomise(TEXT[name], seed)
    words = {
        "Running": "Shutdown",
        "Active": "Pause",
        "Drain": "Active",
        "worker1": "worker3",
        "worker2": "worker9",
        "manager1": "manager2",
        "Ready": "Down",
        "alpine:latest": "alpine:3.19",
        "redis:3.0.7": "redis:3.0.8",
    }
    present = [
        (old, new) for old, new in words.items() if re.search(rf"\b{re.escape(old)}\b", captured)
    ]
    old, new = data.draw(st.sampled_from(present))
    spots = [m.start() for m in re.finditer(rf"(?<![\w:.]){re.escape(old)}(?![\w:.])", captured)]
    spot = data.draw(st.sampled_from(spots))
    mutated = captured[:spot] + new + captured[spot + len(old) :]
    result = match(TEXT[name], mutated)
    assert not result.ok
    assert new in result.explanation


@PROPERTY
@given(st.sampled_from(["08-service-ls.txt", "12-service-ls-5.txt"]), seeds, st.integers(0, 9))
def test_mutating_replicas_fails(name: str, seed: int, replicas: int) -> None:
    captured = rerandomise(TEXT[name], seed)
    current = re.search(r"\b(\d)/(\d)\b", captured)
    assert current is not None
    if replicas == int(current[1]):
        return
    mutated = captured.replace(current[0], f"{replicas}/{current[2]}")
    result = match(TEXT[name], mutated)
    assert not result.ok
    assert f"captured '{replicas}/{current[2]}'" in result.explanation


@PROPERTY
@given(tables, seeds, st.data())
def test_changing_the_row_count_fails(name: str, seed: int, data: st.DataObject) -> None:
    lines = rerandomise(TEXT[name], seed).splitlines()
    row = data.draw(st.integers(1, len(lines) - 1))
    if data.draw(st.booleans()):
        mutated = lines[:row] + lines[row + 1 :]
    else:
        mutated = [*lines[: row + 1], lines[row], *lines[row + 1 :]]
    assert not match(TEXT[name], "\n".join(mutated)).ok


@PROPERTY
@given(fixtures, fixtures, seeds, st.booleans())
def test_reconcile_is_a_fixpoint(
    promised: str, captured_name: str, seed: int, ordered: bool
) -> None:
    options = MatchOptions(ordered=ordered)
    captured = rerandomise(TEXT[captured_name], seed)
    new = reconcile(TEXT[promised], captured, options)
    result = match(new, captured, options)
    assert result.ok, result.explanation


@PROPERTY
@given(tables, seeds, st.data())
def test_reconcile_of_a_drifted_table_matches(name: str, seed: int, data: st.DataObject) -> None:
    lines = rerandomise(TEXT[name], seed).splitlines()
    if len(lines) > 2 and data.draw(st.booleans()):
        del lines[data.draw(st.integers(1, len(lines) - 1))]
    captured = "\n".join(lines).replace("Running", "Pending", 1)
    new = reconcile(TEXT[name], captured)
    assert match(new, captured).ok


@PROPERTY
@given(fixtures, seeds)
def test_reconcile_keeps_a_matching_promise(name: str, seed: int) -> None:
    captured = rerandomise(TEXT[name], seed, shuffle=True)
    assert reconcile(TEXT[name], captured) == TEXT[name]


# --------------------------------------------------------------------------- reconcile, new shapes

from matching_twins import RUN_A, RUN_B, capture, rerandomise_more  # noqa: E402

from dojo_exec.elisions import is_elision  # noqa: E402

M1 = RUN_A.parent / "engine-20.10-m1"  # history rows, exited containers, <none> images
REAL = (
    {f"old/{n}": TEXT[n] for n in NAMES}
    | {f"new/{p.name}": capture(p.name) for p in sorted(RUN_A.glob("*.txt"))}
    | {f"m1/{p.name}": capture(p.name, M1) for p in sorted(M1.glob("*.txt"))}
)
SECOND = {f"new/{p.name}": capture(p.name, RUN_B) for p in sorted(RUN_B.glob("*.txt"))}
MARKERS = ["...", "…", "...snip...", "[...]", "<snip>", "[snip]", "...SNIP...", "(...)", "<…>"]
reals = st.sampled_from(sorted(REAL))
markers = st.sampled_from(MARKERS)


def _drift(text: str, data: st.DataObject) -> str:
    """A capture that drifted: a line dropped, changed, or a marker-like line added."""
    lines = text.split("\n")
    spot = data.draw(st.integers(0, len(lines) - 1))
    how = data.draw(st.sampled_from(["drop", "change", "marker", "none"]))
    if how == "drop" and len(lines) > 1 and lines[spot].strip():  # (a blank line ends a table)
        del lines[spot]
    elif how == "change":
        lines[spot] = lines[spot].replace("a", "o", 1) + " (changed)"
    elif how == "marker":
        lines.insert(spot, data.draw(markers))
    return "\n".join(lines)


def _elide(text: str, data: st.DataObject) -> str:
    """The promise with some lines replaced by elisions, or a line's end elided."""
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(0, 2))):
        spot = data.draw(st.integers(0, len(lines) - 1))
        if data.draw(st.booleans()):
            lines[spot] = data.draw(markers)
        elif "  " in lines[spot].strip():  # cut before a column, as an author would
            cut = lines[spot].rstrip().rindex("  ")
            lines[spot] = lines[spot][:cut] + " " + data.draw(st.sampled_from(["...", "…"]))
    return "\n".join(lines)


def _check_reconciled(promised: str, captured: str, seed: int, options: MatchOptions) -> None:
    new = reconcile(promised, captured, options)
    result = match(new, captured, options)
    assert result.ok, result.explanation
    assert reconcile(new, captured, options) == new
    twin = rerandomise_more(captured, seed)
    assert match(new, twin, options).ok, match(new, twin, options).explanation


@PROPERTY
@given(reals, reals, seeds, st.booleans(), st.data())
def test_reconcile_fixpoint_over_real_outputs_and_new_shapes(
    promised: str, captured: str, seed: int, ordered: bool, data: st.DataObject
) -> None:
    capture_text = rerandomise_more(REAL[captured], seed)
    _check_reconciled(REAL[promised], _drift(capture_text, data), seed + 1, MatchOptions(ordered))


@PROPERTY
@given(reals, seeds, st.data())
def test_reconcile_fixpoint_with_elisions_in_the_promise(
    name: str, seed: int, data: st.DataObject
) -> None:
    promised = _elide(REAL[name], data)
    captured = _drift(SECOND.get(name) or rerandomise_more(REAL[name], seed), data)
    # the twin is another run: another seed than the one the capture may come from
    _check_reconciled(promised, captured, seed + 1, MatchOptions())


@PROPERTY
@given(reals, seeds, markers, st.data())
def test_a_captured_marker_line_never_becomes_an_elision(
    name: str, seed: int, marker: str, data: st.DataObject
) -> None:
    lines = rerandomise_more(REAL[name], seed).split("\n")
    spot = data.draw(st.integers(1, len(lines)))
    captured = "\n".join([*lines[:spot], marker, *lines[spot:]])
    new = reconcile(REAL[name], captured)
    assert match(new, captured).ok
    assert not any(is_elision(line) for line in new.split("\n")) or any(
        is_elision(line) for line in REAL[name].split("\n")
    )


@PROPERTY
@given(st.sampled_from(sorted(SECOND)), seeds)
def test_second_engine_and_its_twins_match_the_first(name: str, seed: int) -> None:
    assert match(REAL[name], SECOND[name]).ok
    assert match(REAL[name], rerandomise_more(SECOND[name], seed, shuffle=True)).ok
