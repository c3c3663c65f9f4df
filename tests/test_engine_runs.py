"""Transcripts keep what matters: the latest run per engine and driver, a short history,
an unchanged outcome refreshed in place; format 1 still loads; page × engine verdicts."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from dojo_exec import transcripts
from dojo_exec.freshness import engine_matrix, page_verdict, passed_on
from dojo_exec.page import parse_page
from dojo_exec.transcripts import (
    RunRecord,
    StepRecord,
    TranscriptError,
    load_transcript,
    loads,
    merge_run,
    record_run,
)

ROOT = Path(__file__).parent.parent
COMMITTED = ROOT / "transcripts"
PAGE = """\
# Page

```sh dojo
echo one
# Result ==>
one
```

```sh dojo
echo two
# Result ==>
two
```
"""


def step(line: int, digest: str, verdict: str = "passed", captured: str = "x") -> StepRecord:
    return StepRecord(
        line=line,
        digest=digest,
        command=f"echo {digest}",
        expected="x\n",
        captured=captured,
        exit_status=0,
        duration=0.5,
        verdict=verdict,  # type: ignore[arg-type]
    )


def run(started: str, engine: str = "20.10.24+dfsg1", *steps: StepRecord) -> RunRecord:
    return RunRecord(
        page="p.md",
        started=started,
        duration=3.0,
        docker_client="28.2.2",
        docker_engine=engine,
        driver="embedded (Docker-in-Docker)",
        images="local stand-ins (dojo mirror)",
        dojo_exec="0.1.0",
        steps=list(steps) or [step(3, "aaaa"), step(8, "bbbb")],
    )


def test_an_unchanged_outcome_changes_only_date_durations_and_attempts(tmp_path: Path) -> None:
    path = record_run(tmp_path, run("2026-11-01T00:00:00+00:00"))
    first = path.read_text().splitlines()
    again = run("2026-11-02T00:00:00+00:00", "20.10.24+dfsg1", step(3, "aaaa", captured="other ID"))
    again.steps.append(replace(step(8, "bbbb"), duration=9.25, attempts=2))
    record_run(tmp_path, again)
    second = path.read_text().splitlines()
    changed = [(a.strip(), b.strip()) for a, b in zip(first, second, strict=True) if a != b]
    assert [a.split(":")[0] for a, _ in changed] == [
        '"started"',
        '"duration"',  # the step's; the run's is the same here
        '"attempts"',
        '"unchanged_since"',
    ]
    record_run(tmp_path, run("2026-11-03T00:00:00+00:00"))
    third = path.read_text().splitlines()
    assert sum(a != b for a, b in zip(second, third, strict=True)) == 3  # since: unchanged
    loaded = load_transcript(tmp_path, "p.md")
    assert loaded is not None and not loaded.history
    latest = loaded.latest
    assert latest is not None and latest.since == "2026-11-01T00:00:00+00:00"
    assert latest.steps[0].captured == "x"  # the outputs of the run it is unchanged since


def test_each_engine_keeps_its_latest_run_in_its_place(tmp_path: Path) -> None:
    record_run(tmp_path, run("2026-11-01T00:00:00+00:00", "26.1.5+dfsg1"))
    for day in range(2, 20):  # many runs on another engine, each a new outcome
        verdict = "failed" if day % 2 else "passed"
        steps = (step(3, "aaaa", verdict, captured=f"day {day}"), step(8, "bbbb"))
        record_run(tmp_path, run(f"2026-11-{day:02}T00:00:00+00:00", "20.10.24+dfsg1", *steps))
    loaded = load_transcript(tmp_path, "p.md")
    assert loaded is not None
    assert [r.docker_engine for r in loaded.runs] == ["20.10.24+dfsg1", "26.1.5+dfsg1"]
    assert loaded.latest is loaded.runs[0] and loaded.latest.started.startswith("2026-11-19")
    assert len(loaded.history) == transcripts.HISTORY
    assert loaded.engines == ["26.1.5+dfsg1", "20.10.24+dfsg1"]
    on = loaded.latest_on("26.1.5")
    assert on is not None and on.started.startswith("2026-11-01")
    assert loaded.latest_on("20.10.24", "embedded") is loaded.runs[0]
    assert loaded.latest_on("20.10.24", "none") is None


def test_a_failed_step_with_another_output_is_a_new_outcome(tmp_path: Path) -> None:
    record_run(tmp_path, run("2026-11-01T00:00:00+00:00", "20.10.24", step(3, "a", "failed", "1")))
    record_run(tmp_path, run("2026-11-02T00:00:00+00:00", "20.10.24", step(3, "a", "failed", "2")))
    loaded = load_transcript(tmp_path, "p.md")
    assert loaded is not None and loaded.runs[0].steps[0].captured == "2"
    assert [entry.steps for entry in loaded.history] == [["3 a failed"]]


def test_format_1_loads_the_newest_run_per_engine_and_the_rest_in_short() -> None:
    engines = ("20.10.24+dfsg1", "unknown", "26.1.5+dfsg1", "20.10.24+dfsg1")
    runs = [run(f"2026-11-0{5 - n}T00:00:00+00:00", engine) for n, engine in enumerate(engines)]
    data = {
        "format": 1,
        "page": "p.md",
        "runs": [transcripts._run_to_json(r) for r in runs],
    }
    loaded = loads(json.dumps(data))
    assert [r.started[8:10] for r in loaded.runs] == ["05", "03"]
    assert [entry.started[8:10] for entry in loaded.history] == ["04", "02"]
    text = transcripts.dumps(loaded)
    assert json.loads(text)["format"] == transcripts.FORMAT
    assert transcripts.dumps(loads(text)) == text


def test_a_newer_format_is_one_clear_line() -> None:
    with pytest.raises(TranscriptError) as raised:
        loads('{"format": 3, "page": "p.md", "runs": []}', source="transcripts/p.md.json")
    message = str(raised.value)
    assert "\n" not in message and "newer than this dojo_exec reads" in message
    assert message.startswith("transcripts/p.md.json: ")


def test_a_malformed_history_is_one_clear_line() -> None:
    with pytest.raises(TranscriptError, match="history"):
        loads('{"format": 2, "page": "p.md", "runs": [], "history": [{"started": "x", '
              '"duration": 1, "docker_engine": "e", "driver": "d", "dojo_exec": "0", '
              '"steps": ["3 abc"]}]}')  # fmt: skip


def test_the_committed_transcripts_load() -> None:
    for path in sorted(COMMITTED.glob("*.json")):
        loaded = load_transcript(COMMITTED, path.name.removesuffix(".json"))
        assert loaded is not None and loaded.runs, path
        keys = [r.key for r in loaded.runs]
        assert len(keys) == len(set(keys)), path


def test_page_and_step_verdicts_per_engine(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text(PAGE)
    page = parse_page(tmp_path / "p.md")
    (one, first), (two, second) = ((s.digest, s.line) for s in page.steps)
    old = run(
        "2026-11-01T00:00:00+00:00", "26.1.5+dfsg1", step(first, one), step(second, two, "failed")
    )
    new = run(
        "2026-11-02T00:00:00+00:00", "20.10.24+dfsg1", step(first, one), step(second, "edited")
    )
    transcript = merge_run(merge_run(None, old), new)
    matrix = engine_matrix({"p.md": page, "never.md": page}, {"p.md": transcript})
    assert matrix.engines == ["26.1.5+dfsg1", "20.10.24+dfsg1"]
    assert matrix.pages == {
        "p.md": {"26.1.5+dfsg1": "failed", "20.10.24+dfsg1": "stale"},
        "never.md": {},
    }
    assert matrix.steps["p.md"] == [
        {"26.1.5+dfsg1": "passed", "20.10.24+dfsg1": "passed"},
        {"26.1.5+dfsg1": "failed", "20.10.24+dfsg1": "stale"},
    ]
    assert passed_on(matrix, "p.md", 0) == ["26.1.5+dfsg1", "20.10.24+dfsg1"]
    assert passed_on(matrix, "p.md", 1) == [] and passed_on(matrix, "never.md", 0) == []
    assert matrix.runs["p.md"]["26.1.5+dfsg1"].started.startswith("2026-11-01")
    assert page_verdict([]) == "skipped" and page_verdict(["skipped", "passed"]) == "passed"


def test_the_committed_pages_have_verdicts_per_engine(tmp_path: Path) -> None:
    shutil.copytree(COMMITTED, tmp_path / "t")
    docs = ROOT / "docs"
    pages = {p.name: parse_page(p) for p in sorted(docs.glob("*.md")) if p.name == "swarm.md"}
    loaded = {uri: load_transcript(tmp_path / "t", uri) for uri in pages}
    matrix = engine_matrix(pages, loaded)
    assert matrix.pages["swarm.md"] and all(
        len(statuses) == len(matrix.pages["swarm.md"]) or not statuses
        for statuses in matrix.steps["swarm.md"]
    )
