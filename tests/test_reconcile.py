"""What update writes: the author's elisions survive, the scheduler's choices are not promised.

Promises are Docker 1.12's, from the corpus (Docker's swarm tutorial) and the swarm-docs-style
tutorial; captures are today's, recorded on embedded machines (tests/data/matching/).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dojo_exec.matching import match
from dojo_exec.page import parse_page
from dojo_exec.reconcile import PLACEMENT_COLUMNS, reconcile
from dojo_exec.tables import find_tables, split_row

DATA = Path(__file__).parent / "data"
M1 = DATA / "matching" / "engine-20.10-m1"
TUTORIAL = DATA / "tutorials" / "swarm-docs-style"
CORPUS = DATA / "corpus"


def captured(name: str) -> str:
    """A capture without the ``$ command`` and ``[exit N]`` lines it was recorded between."""
    lines = (M1 / name).read_text().rstrip("\n").split("\n")
    assert lines[0].startswith("$ ") and lines[-1].startswith("[exit ")
    return "\n".join(lines[1:-1]) + "\n"


def promise(page: Path, command: str, occurrence: int = 0) -> str:
    found = [
        c.expected
        for step in parse_page(page).steps
        for c in step.commands
        if c.text == command and c.expected
    ]
    return found[occurrence]


def cells(text: str, column: str) -> list[str]:
    lines = text.rstrip("\n").split("\n")
    (table,) = find_tables(lines)
    index = table.index(column)
    assert index is not None
    return [split_row(lines[row.line], table.columns)[index] for row in table.rows]


def test_a_header_and_an_elision_stay_so_under_todays_header() -> None:
    old = promise(TUTORIAL / "drain-node.md", "docker service ps redis")
    assert old.split("\n")[1] == "...snip..."  # the author showed the header only
    now = captured("service-ps.txt")
    assert not match(old, now).ok  # 1.12's header: no PORTS column
    written = reconcile(old, now)
    assert written.split("\n")[:2] == [now.split("\n")[0], "...snip..."]
    assert match(written, now).ok and reconcile(written, now) == written


def test_around_such_a_table_drifted_lines_are_still_rewritten() -> None:
    old = "Tasks of redis:\n" + promise(TUTORIAL / "drain-node.md", "docker service ps redis")
    now = "Tasks of helloworld:\n" + captured("service-ps.txt")
    written = reconcile(old, now + "\ndone\n")
    assert written.split("\n")[:3] == ["Tasks of helloworld:", now.split("\n")[1], "...snip..."]
    assert written.rstrip("\n").endswith("done")
    assert match(written, now + "\ndone\n").ok


@pytest.mark.parametrize(
    ("page", "capture"),
    [
        ("docker-swarm-tutorial-scale-service.tagged.md", "service-ps.txt"),
        ("docker-swarm-tutorial-inspect-service.tagged.md", "service-ps.txt"),
        ("docker-swarm-tutorial-scale-service.tagged.md", "service-ps-updated.txt"),
    ],
)
def test_update_writes_no_node_the_scheduler_chose(page: str, capture: str) -> None:
    old = promise(CORPUS / page, "docker service ps helloworld")
    now = captured(capture)
    assert "NODE" in PLACEMENT_COLUMNS and cells(now, "NODE")  # the capture names nodes
    written = reconcile(old, now)
    assert set(cells(written, "NODE")) == {"..."}
    assert match(written, now).ok and reconcile(written, now) == written
    # the same tasks placed elsewhere still keep the promise
    moved = now.replace(" m1 ", " w2 ")
    assert moved != now and match(written, moved).ok
    # but not another image, state or number of tasks
    assert not match(written, now.replace("alpine:", "busybox:", 1)).ok
    assert not match(written, now.replace(" Running ", " Shutdown ", 1)).ok
    assert not match(written, "\n".join(now.rstrip("\n").split("\n")[:-1]) + "\n").ok


def test_a_node_the_author_wrote_that_still_matches_is_kept() -> None:
    old = captured("service-ps.txt")
    first = old.rstrip("\n").split("\n")[:2]
    short = "\n".join(first) + "\n"  # the author promised one task, on m1
    written = reconcile(short, old)  # a second and third task came
    assert cells(written, "NODE")[0] == "m1"
    assert cells(written, "NODE")[1:] == ["...", "..."]
