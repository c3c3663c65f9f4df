"""The dojo's own pages: every shell block is a step, and a changed promise is caught on a swarm."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dojo_exec.page import parse_page, resolve_order

DOCS = Path(__file__).parent.parent / "docs"
SHELL_FENCE = re.compile(r"^\s*(```|~~~)(sh|bash|shell|console)\b", re.MULTILINE)


# The index tells a reader how to get machines (install the project, docker-machine): those
# commands run on the reader's own computer, before the workshop, so they are not steps.
READERS_OWN = {"index.md": 3}


def test_every_shell_block_in_docs_is_a_step_or_skipped_with_a_reason() -> None:
    pages = sorted(DOCS.glob("*.md"))
    blocks = sum(len(SHELL_FENCE.findall(page.read_text())) for page in pages)
    steps = [step for page in pages for step in parse_page(page).steps]
    skipped = [step for step in steps if step.options.skip]
    assert all(step.options.skip.strip() for step in skipped)
    untagged = {p.name: len(parse_page(p).untagged_shell_lines) for p in pages}
    assert {name: n for name, n in untagged.items() if n} == READERS_OWN
    assert len(steps) == blocks - sum(READERS_OWN.values())
    assert len(steps) - len(skipped) >= 60  # the whole workshop, not a sample


def test_every_page_resolves_its_prerequisites() -> None:
    for page in sorted(DOCS.glob("*.md")):
        order = resolve_order(page)
        assert order[-1].path == page.resolve()


def _mutate(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.docker
def test_a_changed_replica_count_state_or_checked_node_fails_on_a_real_swarm(
    pytester: pytest.Pytester,
) -> None:
    docs = pytester.path / "docs"
    shutil.copytree(DOCS, docs, ignore=shutil.ignore_patterns("__pycache__"))
    page = docs / "service.md"
    original = parse_page(page).steps
    lines = [
        next(s.line for s in original if s.expected and "5/5" in s.expected),
        next(s.line for s in original if s.expected and "Drain          Leader" in s.expected),
        next(
            s.line
            for s in original
            if "no rows where NODE = manager1" in " ".join(s.options.checks)
        ),
    ]
    text = page.read_text()
    # a replica count, a node's availability, and the node named in a semantic check
    text = _mutate(text, "replicated   5/5", "replicated   4/5")
    text = _mutate(
        text,
        "manager1   Ready     Drain          Leader",
        "manager1   Ready     Active         Leader",
    )
    text = _mutate(
        text,
        'wait=90s check="no rows where NODE = manager1 and',
        'wait=20s check="no rows where NODE = worker1 and',
    )
    page.write_text(text)
    selection = " or ".join(f"line:{line}[" for line in lines)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-q", str(page), "-k", selection
    )
    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    assert "column REPLICAS: promised '4/5', captured '5/5'" in out
    assert "column AVAILABILITY: promised 'Active', captured 'Drain'" in out
    assert "no rows where NODE = worker1 and CURRENT STATE ~ Running" in out
    assert "swarm state:" in out
