"""The longest pages of a parallel run make their machines first (dojo_exec/head_start.py),
planned from the durations the committed transcripts recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dojo_exec.head_start import DEFAULT_SECONDS, LEADING_SHARE, HeadStart
from dojo_exec.transcripts import load_transcript

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def recorded(page: Path, transcripts: Path = ROOT / "transcripts") -> float | None:
    transcript = load_transcript(transcripts, page.name)
    return transcript.latest.duration if transcript and transcript.latest else None


def pages() -> list[Path]:
    return [path for path in sorted(DOCS.glob("*.md")) if recorded(path) is not None]


def test_the_longest_recorded_pages_lead_and_the_others_wait_their_head_start() -> None:
    plan = HeadStart(began=100.0)
    plan.plan(pages(), recorded, 6.0)
    longest = max(pages(), key=lambda path: recorded(path) or 0.0)
    assert longest.resolve() in plan.leading
    for page in pages():
        share = (recorded(page) or 0.0) / (recorded(longest) or 1.0)
        leads = share >= LEADING_SHARE
        assert (page.resolve() in plan.leading) == leads, (page.name, share)
        assert plan.delay(page, now=100.5) == (0.0 if leads else pytest.approx(5.5))
        assert plan.delay(page, now=106.5) == 0.0  # a worker's later pages never wait
    assert len(plan.leading) < len(pages())  # the dojo's pages differ enough to stagger


def test_nobody_waits_without_recorded_runs_or_a_head_start(tmp_path: Path) -> None:
    never = HeadStart(began=0.0)
    never.plan(pages(), lambda path: recorded(path, tmp_path), 6.0)
    off = HeadStart(began=0.0)
    off.plan(pages(), recorded, 0.0)
    for page in pages():
        assert never.delay(page, now=0.0) == off.delay(page, now=0.0) == 0.0


def test_a_page_never_recorded_leads(tmp_path: Path) -> None:
    new = tmp_path / "new-page.md"
    plan = HeadStart(began=0.0)
    plan.plan([*pages(), new], lambda path: None if path == new.resolve() else recorded(path), 6)
    assert new.resolve() in plan.leading and plan.delay(new, now=0.0) == 0.0


def test_each_worker_of_a_parallel_run_plans_the_same_head_start(
    pytester: pytest.Pytester,
) -> None:
    shutil.copytree(DOCS, pytester.path / "docs", ignore=shutil.ignore_patterns("*.py"))
    shutil.copytree(ROOT / "transcripts", pytester.path / "transcripts")
    pytester.makeconftest(
        "import json\n"
        "from dojo_exec.head_start import HEAD_START\n"
        "def pytest_collection_finish(session):\n"
        "    worker = getattr(session.config, 'workerinput', None)\n"
        "    who = worker['workerid'] if worker else 'main'\n"
        "    plan = {'seconds': HEAD_START.seconds,\n"
        "            'leading': sorted(p.name for p in HEAD_START.leading)}\n"
        "    with open(f'plan-{who}.json', 'w') as out:\n"
        "        json.dump(plan, out)\n"
    )
    # workers collect and plan, then run nothing (-k matches no step)
    common = ("docs", "--dojo-collect", "--dojo-driver", "none", "-k", "no_step_is_named_so")
    common += ("-q", "-p", "no:cacheprovider", "--dojo-transcripts", "transcripts")
    pytester.runpytest_subprocess(*common, "-n", "2", "--dist", "loadfile")
    plans = [json.loads((pytester.path / f"plan-gw{n}.json").read_text()) for n in (0, 1)]
    expected = HeadStart()
    expected.plan(pages(), recorded, DEFAULT_SECONDS)
    assert (
        plans[0]
        == plans[1]
        == {
            "seconds": DEFAULT_SECONDS,
            "leading": sorted(path.name for path in expected.leading),
        }
    )
    pytester.runpytest_subprocess(*common, "-n", "2", "--dojo-head-start", "0")
    assert json.loads((pytester.path / "plan-gw0.json").read_text())["seconds"] == 0.0
    pytester.runpytest_subprocess(*common)  # one process: pages never start together
    assert json.loads((pytester.path / "plan-main.json").read_text())["seconds"] == 0.0
