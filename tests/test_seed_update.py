"""The dojo's own pages given back their 2016 promises: one update brings them to today.

The original workshop (``tests/data/seed/swarmmode-dojo.md``, a copy of the team's
``../shared/seed/``, so a checkout alone has it; Docker 1.12) shows, under the
same commands as ``docs/swarm.md`` and ``docs/service.md``, the outputs of 2016: a
``COMMAND`` column in ``docker service ls``, ``ping docker.com`` tasks, 1.12's
``service inspect --pretty``.  Those promises are put into copies of the pages, each
command's n-th occurrence taking the seed's n-th promise for the same command (its last
one when the seed has fewer); then ``dojo-exec update`` once, ``dojo-exec verify`` passes,
and a second update has nothing left to change.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from cli_runs import run_cli, summary, texts

from dojo_exec.page import Step, parse_page
from dojo_exec.update import Edit, apply_edits

ROOT = Path(__file__).parent.parent
SEED = ROOT / "tests" / "data" / "seed" / "swarmmode-dojo.md"
DOCS = ROOT / "docs"
PAGES = ("setup.md", "swarm.md", "service.md")  # service.md requires swarm.md requires setup.md
GIVEN_BACK = ("swarm.md", "service.md")


def seed_promises(seed: Path, scratch: Path) -> dict[str, list[str]]:
    """Each command of the seed with the promises it shows, in page order.

    The seed's ``sh`` blocks are tagged (``sh dojo``) in a scratch copy and read by the
    page parser, as the 2016 page would be read had it been written for the engine.
    """
    tagged = scratch / "seed.md"
    text = seed.read_text(encoding="utf-8")
    tagged.write_text(re.sub(r"(?m)^( {0,3})```sh$", r"\1```sh dojo", text), encoding="utf-8")
    promises: dict[str, list[str]] = defaultdict(list)
    for step in parse_page(tagged).steps:
        if step.expected is not None:
            promises[step.command].append(step.expected)
    return promises


def give_back(page: Path, promises: dict[str, list[str]]) -> int:
    """Replace ``page``'s promises by the seed's for the same commands; how many replaced."""
    seen: dict[str, int] = defaultdict(int)
    edits: list[Edit] = []
    text = page.read_text(encoding="utf-8")
    steps: list[Step] = parse_page(page).steps
    for step in steps:
        old = promises.get(step.command)
        if not old or step.result_span is None or step.expected is None:
            continue
        promise = old[min(seen[step.command], len(old) - 1)]
        seen[step.command] += 1
        start, end = step.result_span
        edits.append(Edit(page, start, end, promise, step.line))
    page.write_text(apply_edits(text, edits), encoding="utf-8")
    return len(edits)


def test_the_seed_has_promises_for_the_pages_commands(tmp_path: Path) -> None:
    promises = seed_promises(SEED, tmp_path)
    for name in GIVEN_BACK:
        shutil.copy(DOCS / name, tmp_path / name)
        before = [s.expected for s in parse_page(tmp_path / name).steps]
        replaced = give_back(tmp_path / name, promises)
        after = [s.expected for s in parse_page(tmp_path / name).steps]
        assert replaced >= 3, name
        changed = [i for i, promise in enumerate(before) if promise != after[i]]
        assert len(changed) == replaced, name  # every replacement is a real 2016 difference
    service = (tmp_path / "service.md").read_text()
    assert "ping docker.com" in service and "COMMAND" in service  # 1.12's `service ls`


@pytest.mark.docker
@pytest.mark.tutorial
def test_one_update_takes_the_2016_promises_to_today(tmp_path: Path) -> None:
    pages = tmp_path / "docs"
    pages.mkdir()
    for name in PAGES:
        shutil.copy(DOCS / name, pages / name)
    promises = seed_promises(SEED, tmp_path)
    replaced = sum(give_back(pages / name, promises) for name in GIVEN_BACK)
    given = texts(pages)
    common = ("docs", "--transcripts", "runs", "--docs-root", "docs")

    stale = run_cli(tmp_path, "verify", *common)
    assert stale.returncode != 0, "the 2016 promises all passed: the test proves nothing"
    assert summary(stale.stdout)["failed"] > 0

    updated = run_cli(tmp_path, "update", *common)
    output = updated.stdout + updated.stderr
    assert "Traceback" not in output and updated.returncode == 0, output
    assert summary(updated.stdout)["updated"] >= replaced // 2, output
    after = texts(pages)
    assert after != given
    assert "ping docker.com" not in after["service.md"]  # the page runs `ping localhost`

    verified = run_cli(tmp_path, "verify", *common)
    counts = summary(verified.stdout)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert counts["failed"] == 0 and counts["passed"] == counts["steps"] - counts["skipped"]

    again = run_cli(tmp_path, "update", *common)
    assert again.returncode == 0, again.stdout + again.stderr
    assert summary(again.stdout)["updated"] == 0, again.stdout
    assert texts(pages) == after
