"""Chained pages run once: a page continues the swarm and shell of the page it requires."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runs import run_cli, summary

from dojo_exec.chains import HANDOVER, chain_of, chain_order, order_by_chain
from dojo_exec.page import resolve_order
from dojo_exec.runner import run_pages

ROOT = Path(__file__).parent.parent
TUTORIAL = ROOT / "tests" / "data" / "tutorials" / "swarm-docs-style"
DOCS = ROOT / "docs"


def test_each_page_comes_right_after_the_page_it_continues() -> None:
    for folder in (TUTORIAL, DOCS):
        pages = sorted(folder.glob("*.md"))  # alphabetical, as pytest collects them
        ordered = chain_order(pages)
        assert sorted(ordered) == pages
        for position, page in enumerate(ordered):
            chain = chain_of(page)
            if len(chain) > 1:  # its prerequisites all ran before it
                before = {p.resolve() for p in ordered[:position]}
                assert set(chain[:-1]) <= before, page.name
    # Docker's tutorial is a tree rooted in setup: add-nodes' children follow one another
    names = [p.name for p in chain_order(sorted(TUTORIAL.glob("*.md")))]
    assert names[:3] == ["setup.md", "create-swarm.md", "add-nodes.md"]
    assert names.index("scale-service.md") == names.index("deploy-service.md") + 1


def test_items_of_other_kinds_keep_their_places() -> None:
    pages = {name: TUTORIAL / name for name in ("add-nodes.md", "setup.md", "create-swarm.md")}
    items = ["t1", "add-nodes.md#1", "add-nodes.md#2", "t2", "create-swarm.md#1", "setup.md#1"]

    def path_of(item: str) -> Path | None:
        return pages[item.split("#")[0]] if "#" in item else None

    assert order_by_chain(items, path_of) == [
        "t1",
        "setup.md#1",
        "create-swarm.md#1",
        "t2",
        "add-nodes.md#1",
        "add-nodes.md#2",
    ]


def chained(tmp_path: Path, failing: bool = False) -> list[Path]:
    """Three pages, each requiring the one before; each counts its runs in a file."""
    count = tmp_path / "runs.log"
    one = tmp_path / "one.md"
    one.write_text(
        f"# One\n\n```sh dojo\necho one >> {count}\nX=from-one\n"
        + ("false\n" if failing else "")
        + "```\n"
    )
    two = tmp_path / "two.md"
    two.write_text(
        f"---\nrequires: [one.md]\n---\n# Two\n\n```sh dojo\necho two >> {count}\necho $X\n"
        "# Result ==>\nfrom-one\n```\n"
    )
    three = tmp_path / "three.md"
    three.write_text(
        f"---\nrequires: [two.md]\n---\n# Three\n\n```sh dojo\necho three >> {count}\n```\n"
    )
    return [three, one, two]  # not in chain order


def runs(tmp_path: Path) -> list[str]:
    return (tmp_path / "runs.log").read_text().split()


def test_a_chain_of_pages_runs_each_page_once(tmp_path: Path) -> None:
    pages = chained(tmp_path)
    records = run_pages(pages, tmp_path / "runs", docs_root=tmp_path, driver="none")
    assert runs(tmp_path) == ["one", "two", "three"]  # replayed, it would be 1+2+3 runs
    assert [r.page for r in records] == ["three.md", "one.md", "two.md"]  # as asked
    assert all(step.verdict == "passed" for r in records for step in r.steps)
    three = json.loads((tmp_path / "runs" / "three.md.json").read_text())
    assert three["runs"][0]["replayed"] == ["one.md", "two.md"]
    assert HANDOVER.kept == {} and HANDOVER.wanted == set()


def test_a_page_whose_command_failed_is_replayed_and_stops_its_dependents(
    tmp_path: Path,
) -> None:
    pages = chained(tmp_path, failing=True)
    records = {r.page: r for r in run_pages(pages, None, docs_root=tmp_path, driver="none")}
    assert [s.verdict for s in records["one.md"].steps] == ["failed"]
    # two and three replay one and stop (its command failed), as without chains
    assert runs(tmp_path).count("one") == 3  # its own run, then replayed by two and three
    assert "two" not in runs(tmp_path)
    assert [s.verdict for s in records["two.md"].steps] == ["error"]


def test_one_page_alone_replays_its_prerequisites(tmp_path: Path) -> None:
    three = chained(tmp_path)[0]
    (record,) = run_pages([three], None, docs_root=tmp_path, driver="none")
    assert runs(tmp_path) == ["one", "two", "three"]
    assert [s.verdict for s in record.steps] == ["passed"]
    assert len(resolve_order(three)) == 3


@pytest.mark.parametrize("command", ["verify", "update"])
def test_pytest_runs_a_chain_once_in_chain_order(tmp_path: Path, command: str) -> None:
    chained(tmp_path)
    done = run_cli(
        tmp_path, command, ".", "--docs-root", ".", "--transcripts", "t", "--", "--dojo-driver=none"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert runs(tmp_path) == ["one", "two", "three"]
    counts = summary(done.stdout)
    assert counts["pages"] == 3 and counts["passed"] == 3


def _recorded(path: Path) -> float | None:
    """The duration of the page's newest committed run (the dojo's transcripts)."""
    from dojo_exec.transcripts import load_transcript

    transcript = load_transcript(ROOT / "transcripts", path.name)
    run = transcript.latest if transcript is not None else None
    return run.duration if run is not None else None


def test_with_recorded_durations_the_longest_chains_come_first() -> None:
    pages = sorted(DOCS.glob("*.md"))
    ordered = chain_order(pages, _recorded)
    assert sorted(ordered) == pages
    for position, page in enumerate(ordered):  # still: prerequisites first
        assert set(chain_of(page)[:-1]) <= {p.resolve() for p in ordered[:position]}
    swarm = (DOCS / "swarm.md").resolve()
    after_swarm = [p for p in ordered if len(chain_of(p)) > 1 and chain_of(p)[-2] == swarm]
    seconds = [_recorded(p) for p in after_swarm]
    assert len(seconds) >= 5 and None not in seconds
    assert seconds == sorted(seconds, reverse=True), list(zip(after_swarm, seconds, strict=True))
    assert seconds != [_recorded(p) for p in chain_order(pages) if p in after_swarm]


def test_a_page_never_recorded_starts_before_recorded_ones(tmp_path: Path) -> None:
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text(f"# {name}\n\n```sh dojo\ntrue\n```\n")
    known = {"a.md": 5.0, "b.md": None, "c.md": 50.0}
    ordered = chain_order(sorted(tmp_path.glob("*.md")), lambda p: known[p.name])
    assert [p.name for p in ordered] == ["b.md", "c.md", "a.md"]
