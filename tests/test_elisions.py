"""Elisions authors write, on real captures: whole lines, line ends, table cells, escapes."""

from __future__ import annotations

import pytest
from fixtures.rerandomise import ORIGINAL, RERUN, body
from matching_twins import RUN_A, RUN_B, capture

from dojo_exec.elisions import escape, is_elision, split_tail, tail_start, unescape
from dojo_exec.matching import match, reconcile

MARKERS = [
    "...",
    "…",
    "...snip...",
    "[...]",
    "<snip>",
    "[snip]",
    "...SNIP...",
    "[…]",
    "…snip…",
    "(...)",
    "(…)",
    "<...>",
    "<…>",
    "(snip)",
]
INFO = capture("docker-info.txt")
INFO_B = capture("docker-info.txt", RUN_B)


@pytest.mark.parametrize("marker", MARKERS)
def test_each_marker_is_an_elision_alone_on_a_line(marker: str) -> None:
    assert is_elision(marker) and is_elision(f"  {marker} ")
    assert not is_elision(f"text {marker}") and not is_elision("\\" + marker)


@pytest.mark.parametrize("marker", MARKERS)
def test_each_marker_elides_lines_of_docker_info(marker: str) -> None:
    promised = f"{marker}\n Swarm: active\n  NodeID: z1pi8xr1i5cmreg28ld1rur2c\n{marker}\n"
    assert match(promised, INFO_B).ok
    # what it keeps must still be there
    assert not match(promised, INFO_B.replace("Swarm: active", "Swarm: inactive")).ok
    # without the elisions the other lines are extra
    assert not match(promised.replace(marker, ""), INFO_B).ok


@pytest.mark.parametrize("marker", ["…", "[...]", "<snip>", "...snip..."])
def test_each_marker_elides_table_rows_inside_and_at_the_end(marker: str) -> None:
    lines = body(ORIGINAL / "16-service-ps-drained.txt").splitlines()
    captured = body(RERUN / "16-service-ps-drained.txt")
    inside = "\n".join([lines[0], lines[1], marker, lines[5]])
    ending = "\n".join([lines[0], lines[3], marker])
    assert match(inside, captured).ok and match(ending, captured).ok
    assert not match("\n".join([lines[0], lines[3]]), captured).ok
    assert not match(ending, captured.replace("helloworld.3 ", "helloworld.7 ")).ok


@pytest.mark.parametrize("marker", MARKERS)
def test_a_captured_marker_line_is_escaped_and_stays_literal(marker: str) -> None:
    captured = f"Loading\n{marker}\nDone\n"
    updated = reconcile("Loading\nold\nDone\n", captured)
    assert updated == f"Loading\n\\{marker}\nDone\n"
    assert unescape(f"\\{marker}") == marker
    assert match(updated, captured).ok
    assert not match(updated, "Loading\nsomething else\nDone\n").ok
    assert match(f"Loading\n{marker}\nDone\n", "Loading\nsomething else\nDone\n").ok


def test_escapes_nest_for_a_captured_escaped_line() -> None:
    assert escape("\\...") == "\\\\..." and unescape("\\\\...") == "\\..."
    captured = "a\n\\...\nb"
    updated = reconcile("a\nx\nb", captured)
    assert updated == "a\n\\\\...\nb" and match(updated, captured).ok
    assert not match(updated, "a\n...\nb").ok


def test_line_end_elision_on_docker_info() -> None:
    promised = "...\n Server Version: 20...\n...\n Kernel Version: 6...\n...\n Name: man...\n..."
    assert split_tail(" Server Version: 20...") == " Server Version: 20"
    assert match(promised, INFO_B).ok
    assert not match(promised.replace("20...", "19..."), INFO_B).ok
    assert not match(promised.replace("man...", "wor…"), INFO_B).ok
    # volatile shapes still apply before the elision
    assert match("...\n  NodeID: z1pi8xr1i5cmreg28ld1rur2c\n  Is Man…\n...", INFO_B).ok


def test_cell_wildcard_and_row_end_elision_on_service_ps() -> None:
    lines = body(ORIGINAL / "13-service-ps-5.txt").splitlines()
    captured = body(RERUN / "13-service-ps-5.txt")
    header, rows = lines[0], lines[1:]
    starts = [header.index(name) for name in ("NODE", "DESIRED STATE")]
    wild = [
        row[: starts[0]] + "...".ljust(starts[1] - starts[0]) + row[starts[1] :] for row in rows
    ]
    assert match("\n".join([header, *wild]), captured).ok
    cut = [row[: starts[0]] + "..." for row in rows]
    assert tail_start(("a", "b", "...", "", "")) == 2
    assert match("\n".join([header, *cut]), captured).ok
    # the cells before the elision still count
    broken = captured.replace("helloworld.2", "helloworld.9")
    assert not match("\n".join([header, *cut]), broken).ok
    # a row ending in "…" after text matches that cell as a prefix
    prefix = [row[: starts[0]] + row[starts[0] : starts[0] + 3] + "…" for row in rows]
    assert match("\n".join([header, *prefix]), captured).ok
    assert not match("\n".join([header, *prefix]), captured.replace("worker", "manager")).ok


def test_a_word_in_brackets_is_not_an_elision() -> None:
    for line in ["<none>", "(none)", "[none]", "<...", "(..)", "<snip", "(...) more"]:
        assert not is_elision(line), line
    images = capture("images-none.txt", RUN_A.parent / "engine-20.10-m1")
    header, *rows = images.split("\n")
    assert [row.split()[0] for row in rows] == ["demo", "<none>", "alpine"]
    # "<none>" is a row that must be there, not an elision of rows
    promised = "\n".join([header, rows[1]])
    assert not match(promised, images).ok
    assert match("\n".join([header, "(...)", rows[1], "(...)"]), images).ok
    assert not match("\n".join([header, "(...)", rows[1], "(...)"]), images.replace(rows[1], "")).ok


@pytest.mark.parametrize("marker", ["(...)", "<...>"])
def test_bracketed_dots_elide_rows_as_authors_write_them(marker: str) -> None:
    # a listing cut in the middle and at the end, the way "usbipd list" output is quoted
    rows = capture("service-ps-updated.txt", RUN_A.parent / "engine-20.10-m1").split("\n")
    promised = "\n".join([rows[0], marker, rows[3], marker])
    assert match(promised, capture("service-ps-updated.txt", RUN_A.parent / "engine-20.10-m1")).ok
    assert not match(promised.replace("helloworld.2", "helloworld.4"), "\n".join(rows)).ok
