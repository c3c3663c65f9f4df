"""Docker's own swarm tutorial, as published, adopted with options only, then run.

``tests/data/tutorials/docker-docs-swarm/`` holds the eight pages of "Getting started
with swarm mode" (docker/docs, copied in ``tests/data/corpus/`` with the ``dojo`` tag)
and one page of ours, ``setup.md``, that makes the three machines the tutorial asks for in
prose.  Adopting the pages changed no command and no output: only front matter
(``requires:`` to chain them, ``machine: manager1`` where the tutorial says "ssh into the
manager"), options on a few fences (``machine=worker1`` where it says "ssh into worker1",
``skip`` for the general forms such as ``<MANAGER-IP>``, ``exit=1`` where the tutorial
shows an error), and the source comment moved below the front matter (front matter must
come first).  The join token the tutorial pastes is its own, from 2016: the run uses the
real one in its place (:mod:`dojo_exec.substitution`).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from cli_runs import run_cli, summary, texts

from dojo_exec.page import parse_page

HERE = Path(__file__).parent
ADOPTED = HERE / "data" / "tutorials" / "docker-docs-swarm"
CORPUS = HERE / "data" / "corpus"
OURS = {"setup.md"}
FENCE_WITH_OPTIONS = re.compile(
    r"^(?P<fence> *```console dojo)(?P<options>(?: [\w]+(?:=\S+|=\"[^\"]*\")?)*)$"
)


def adopted_pages() -> list[Path]:
    return sorted(p for p in ADOPTED.glob("*.md") if p.name not in OURS)


def adoption_edits(page: Path) -> list[tuple[str, str]]:
    """(kind, line) of every line the adoption added or changed, by a plain diff."""
    original = (CORPUS / f"docker-swarm-tutorial-{page.name}").with_suffix(".tagged.md")
    theirs = original.read_text().split("\n")
    ours = page.read_text().split("\n")
    source, theirs = theirs[0], theirs[1:]
    assert source in ours, f"{page.name}: the source comment is kept"
    ours = [line for line in ours if line != source]
    edits: list[tuple[str, str]] = []
    end = theirs.index("---", 1)
    their_front, our_front = theirs[: end + 1], ours[: ours.index("---", 1) + 1]
    edits += [("front matter", line) for line in our_front if line not in their_front]
    assert [line for line in our_front if line in their_front] == their_front, page.name
    body_theirs, body_ours = theirs[end + 1 :], ours[len(our_front) :]
    assert len(body_theirs) == len(body_ours), page.name
    for before, after in zip(body_theirs, body_ours, strict=True):
        if before == after:
            continue
        found = FENCE_WITH_OPTIONS.match(after)
        assert found and found["fence"] == before, f"{page.name}: {before!r} -> {after!r}"
        edits.append(("options", found["options"].strip()))
    return edits


def test_the_adoption_changed_no_command_and_no_output() -> None:
    pages = adopted_pages()
    assert len(pages) == 8
    edits = {page.name: adoption_edits(page) for page in pages}
    kinds = [kind for page in edits.values() for kind, _ in page]
    # every page chained (requires:) and, but one, on the manager by default (machine:)
    assert kinds.count("front matter") == 15
    assert kinds.count("options") == 6, edits
    options = [text for page in edits.values() for kind, text in page if kind == "options"]
    assert sorted(o.split("=")[0] for o in options) == sorted(
        ["machine", "machine", "skip", "skip", "skip", "exit"]
    )
    # and the tutorial's steps are the corpus copy's, one for one
    for page in pages:
        theirs = parse_page(
            (CORPUS / f"docker-swarm-tutorial-{page.name}").with_suffix(".tagged.md")
        )
        ours = parse_page(page)
        assert [[c.text for c in s.commands] for s in ours.steps] == [
            [c.text for c in s.commands] for s in theirs.steps
        ]


def test_the_tutorial_quotes_a_token_of_its_own() -> None:
    init = (ADOPTED / "create-swarm.md").read_text()
    join = (ADOPTED / "add-nodes.md").read_text()
    token = re.search(r"SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}", init)
    assert token and join.count(token[0]) >= 2


@pytest.mark.docker
@pytest.mark.tutorial
def test_one_update_then_verify_passes_on_dockers_own_tutorial(tmp_path: Path) -> None:
    pages = tmp_path / "tutorial"
    shutil.copytree(ADOPTED, pages)
    original = texts(pages)
    common = ("tutorial", "--transcripts", "runs", "--docs-root", "tutorial")

    updated = run_cli(tmp_path, "update", *common)
    output = updated.stdout + updated.stderr
    assert "Traceback" not in output and updated.returncode == 0, output
    after = texts(pages)
    assert after != original and summary(updated.stdout)["updated"] > 0
    assert not re.search(
        r"SWMTKN-1-(?!49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv)", "".join(after.values())
    ), "a real join token reached a page"

    verified = run_cli(tmp_path, "verify", *common)
    counts = summary(verified.stdout)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert counts["failed"] == 0 and counts["passed"] + counts["skipped"] == counts["steps"]
    assert counts["skipped"] == 3

    again = run_cli(tmp_path, "update", *common)
    assert again.returncode == 0, again.stdout + again.stderr
    assert summary(again.stdout)["updated"] == 0, again.stdout
    assert texts(pages) == after
