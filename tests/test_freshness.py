"""Freshness: which steps of a page its latest recorded run still vouches for."""

from __future__ import annotations

from pathlib import Path

from dojo_exec.freshness import page_freshness
from dojo_exec.page import Page, parse_text
from dojo_exec.transcripts import RunRecord, StepRecord

PAGE = """# Two steps

```sh dojo
echo one
# Result ==>
one
```

```sh dojo skip="needs a real VM"
docker-machine create --driver virtualbox real1
```

```sh dojo
echo two
# Result ==>
two
```
"""


def parse(text: str) -> Page:
    return parse_text(text, Path("two.md"))


def run_of(page: Page, verdicts: list[str]) -> RunRecord:
    steps = [
        StepRecord(
            line=step.line,
            digest=step.digest,
            command=step.command,
            expected=step.expected,
            captured=step.expected or "",
            verdict=verdict,  # type: ignore[arg-type]
            exit_status=0,
            duration=0.1,
        )
        for step, verdict in zip(page.steps, verdicts, strict=True)
    ]
    return RunRecord(
        page="two.md", started="2026-11-26T01:00:00Z", duration=1.0, docker_client="28.2.2",
        docker_engine="20.10.24+dfsg1", driver="embedded", images="", dojo_exec="0.1.0",
        steps=steps,
    )  # fmt: skip


def test_a_fresh_run_vouches_for_every_step() -> None:
    page = parse(PAGE)
    judged = page_freshness(page, run_of(page, ["passed", "skipped", "passed"]))
    assert [o.status for o in judged.outcomes] == ["passed", "skipped", "passed"]
    assert judged.problems == []


def test_never_recorded_steps_are_missing_but_skips_stay_skipped() -> None:
    judged = page_freshness(parse(PAGE), None)
    assert [o.status for o in judged.outcomes] == ["missing", "skipped", "missing"]
    assert [o.step.line for o in judged.problems] == [3, 13]


def test_an_edited_promise_or_command_makes_only_that_step_stale() -> None:
    recorded = parse(PAGE)
    run = run_of(recorded, ["passed", "skipped", "passed"])
    edited = parse(PAGE.replace("two\n```", "2\n```").replace("echo one", "echo  one"))
    statuses = [o.status for o in page_freshness(edited, run).outcomes]
    assert statuses == ["stale", "skipped", "stale"]
    moved = parse("Intro.\n\n" + PAGE)  # lines move, sources do not: still fresh
    assert page_freshness(moved, run).outcomes[0].status == "passed"


def test_a_failed_step_is_a_problem() -> None:
    page = parse(PAGE)
    judged = page_freshness(page, run_of(page, ["passed", "skipped", "failed"]))
    assert [o.status for o in judged.problems] == ["failed"]
    assert judged.counts["passed"] == 1
