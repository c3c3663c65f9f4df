"""Each step says which Docker engines it passed on, from each engine's latest run in its
transcript: the extension rendering a page the way a plugin names it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import markdown
from dom import parse
from sample_site import SAMPLE, swarm_run

from dojo_exec.markdown import DojoExtension
from dojo_exec.markdown.extension import Target
from dojo_exec.page import parse_page, split_front_matter
from dojo_exec.transcripts import load_transcript, record_run

NODE_LS = 3  # the sample's step that fails in its recorded runs


def _verdict_lines(docs: Path, runs: Path) -> list[str]:
    """The verdict line of every shown step of the sample's swarm page, in order."""
    page = parse_page(docs / "swarm.md")
    extension = DojoExtension(transcripts=str(runs), styles=False)
    extension.target = Target("swarm.md", page, load_transcript(runs, "swarm.md"))
    md = markdown.Markdown(extensions=[extension, "pymdownx.superfences"])
    html = md.convert(page.text[split_front_matter(page.text)[1] :])  # as MkDocs gives it
    return [" ".join(p.text().split()) for p in parse(html).find_all("p", "dojo-verdict")]


def _record(runs: Path, docs: Path, engine: str, started: str, passing: bool) -> None:
    run = swarm_run(docs, started, engine)
    if passing:  # the step that fails in the sample passes on this engine
        steps = list(run.steps)
        steps[NODE_LS] = dataclasses.replace(steps[NODE_LS], verdict="passed", explanation="")
        run = dataclasses.replace(run, steps=steps)
    record_run(runs, run)


def test_steps_name_the_engines_they_passed_on(tmp_path: Path) -> None:
    docs, runs = tmp_path / "docs", tmp_path / "runs"
    shutil.copytree(SAMPLE / "docs", docs)
    _record(runs, docs, "20.10.24+dfsg1", "2026-11-20T10:00:00Z", passing=True)
    _record(runs, docs, "26.1.5+dfsg1", "2026-11-25T10:00:00Z", passing=False)  # newest
    lines = _verdict_lines(docs, runs)
    assert lines[0] == "passed 0.5 s · on Docker 26.1.5, 20.10.24"
    # the newest run (26.1.5) failed the step; it passed on 20.10.24 and the line says so
    assert lines[2] == "failed 0.5 s · passed on Docker 20.10.24"
    assert lines[3].startswith("skipped") and "Docker" not in lines[3]


def test_an_edited_step_passed_on_no_engine(tmp_path: Path) -> None:
    docs, runs = tmp_path / "docs", tmp_path / "runs"
    shutil.copytree(SAMPLE / "docs", docs)
    _record(runs, docs, "20.10.24+dfsg1", "2026-11-20T10:00:00Z", passing=True)
    swarm = docs / "swarm.md"
    swarm.write_text(swarm.read_text().replace("docker node ls", "docker node ls -q", 1))
    lines = _verdict_lines(docs, runs)
    assert lines[2] == "not verified since the step was edited 0.5 s"  # no engine named
    assert lines[0] == "passed 0.5 s · on Docker 20.10.24"
