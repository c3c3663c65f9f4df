"""The sample site: pages under ``sample/docs`` and transcripts generated for them.

``python tests/mkdocs/sample_site.py`` rewrites ``sample/transcripts`` (committed, so that
``mkdocs serve -f tests/mkdocs/sample/mkdocs.yml`` shows every verdict).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from mkdocs.commands.build import build
from mkdocs.config import load_config

from dojo_exec.page import parse_page
from dojo_exec.transcripts import RunRecord, StepRecord, record_run

SAMPLE = Path(__file__).parent / "sample"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "outputs" / "engine-20.10-cli-28.2"

CAPTURED_WEB = (
    "CAPTURED-WEB-OUTPUT\n"
    '<script>alert("xss")</script> & <b>bold</b>\n'
    "```\n"
    "{{ not.a.template }} {% raw %}\n"
    "overall progress: 2 out of 2 tasks\n"
)
EXPLANATION = "row 1, column MANAGER STATUS: promised `Leader`, captured <Reachable>\n{{ diff }}"


def _fixture_output(name: str) -> str:
    """A recorded fixture output without its ``$ command`` and ``[exit N]`` lines."""
    lines = (FIXTURES / name).read_text().splitlines()
    return "\n".join(line for line in lines[1:] if not line.startswith("[exit ")) + "\n"


def swarm_steps(docs: Path) -> list[StepRecord]:
    """Records for every step of ``swarm.md``: one of each verdict."""
    steps = parse_page(docs / "swarm.md").steps
    outcome: list[dict[str, Any]] = [
        {"captured": "HIDDEN-SETUP-STEP\n", "verdict": "passed"},
        {"captured": _fixture_output("01-swarm-init.txt"), "verdict": "passed"},
        {
            "captured": "ID  NAME  IMAGE  NODE  DESIRED STATE  CURRENT STATE\n"
            "CAPTURED-SERVICE-PS helloworld.1 alpine:latest worker1 Running Running\n",
            "verdict": "passed",
            "attempts": 3,
            "duration": 12.0,
        },
        {
            "captured": "CAPTURED-NODE-LS manager1 Ready Active Reachable\n",
            "verdict": "failed",
            "explanation": EXPLANATION,
        },
        {"captured": "", "verdict": "skipped", "reason": "needs a second real machine"},
        {
            "captured": "CAPTURED-SLEEP\n",
            "verdict": "timeout",
            "exit_status": None,
            "explanation": "timed out after 5s",
        },
        {
            "captured": CAPTURED_WEB,
            "verdict": "passed",
            "checks": {steps[6].options.checks[0]: True},
        },
        {"captured": "web\n", "verdict": "passed"},
        {"captured": "", "verdict": "passed"},  # printed nothing, promised nothing
    ]
    assert len(steps) == len(outcome), "sample page and sample outcomes disagree"
    records = []
    for step, values in zip(steps, outcome, strict=True):
        values.setdefault("exit_status", 0)
        values.setdefault("duration", 0.5)
        records.append(
            StepRecord(
                line=step.line,
                digest=step.digest,
                command=step.command,
                expected=step.expected,
                hidden=step.options.hidden,
                **values,
            )
        )
    return records


def swarm_run(docs: Path, started: str, engine: str) -> RunRecord:
    return RunRecord(
        page="swarm.md",
        started=started,
        duration=83.2,
        docker_client="28.2.2",
        docker_engine=engine,
        driver="embedded (Docker-in-Docker)",
        images="local stand-ins (dojo mirror)",
        dojo_exec="0.1.0",
        steps=swarm_steps(docs),
    )


def write_transcripts(site: Path) -> Path:
    """(Re)write the sample transcripts of the site at ``site``; returns their root."""
    root = site / "transcripts"
    shutil.rmtree(root, ignore_errors=True)
    docs = site / "docs"
    record_run(root, swarm_run(docs, "2026-11-20T10:00:00Z", "20.10.5+dfsg1"))
    record_run(root, swarm_run(docs, "2026-11-25T23:48:34Z", "20.10.24+dfsg1"))
    return root


def make_site(dest: Path) -> Path:
    """Copy the sample site to ``dest`` with fresh transcripts; returns its mkdocs.yml."""
    shutil.copytree(SAMPLE / "docs", dest / "docs")
    shutil.copy(SAMPLE / "mkdocs.yml", dest / "mkdocs.yml")
    write_transcripts(dest)
    return dest / "mkdocs.yml"


def build_site(config_file: Path, site_dir: Path, **overrides: Any) -> Path:
    """Build with MkDocs' own API; ``overrides`` go to ``load_config`` (e.g. strict=True)."""
    config = load_config(config_file=str(config_file), site_dir=str(site_dir), **overrides)
    build(config)
    return site_dir


if __name__ == "__main__":
    print(write_transcripts(SAMPLE))
