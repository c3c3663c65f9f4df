"""``dojo-exec verify --changed`` / ``pytest --dojo-changed``: only the pages whose steps, or
whose prerequisites' steps, changed since their latest recorded run on the engine."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dojo_exec.freshness import Target, changed_pages
from dojo_exec.page import resolve_order
from dojo_exec.pytest_plugin import NOTHING_CHANGED, run_target
from dojo_exec.transcripts import RunRecord, StepRecord, page_key, record_run

TESTS = Path(__file__).parent
ROOT = TESTS.parent
EXTRA_STEP = "\n```sh dojo\necho extra\n# Result ==>\nextra\n```\n"


def dojo_exec(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "dojo_exec.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + result.stderr
    return result.returncode, output + f"\n(took {time.monotonic() - started:.1f}s)"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.json")}


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """The sample pages (a page and the page it requires) with the fixtures they read."""
    pages = tmp_path / "sample"
    pages.mkdir()
    for name in ("basics.md", "every-option.md"):
        shutil.copy(TESTS / "sample" / name, pages / name)
    (tmp_path / "fixtures").symlink_to(TESTS / "fixtures")
    return tmp_path


NONE = ("--", "--dojo-driver", "none")


def verify(cwd: Path, *args: str) -> tuple[int, str]:
    return dojo_exec(cwd, "verify", "sample", "--transcripts", "runs", *args, *NONE)


def test_nothing_changed_runs_nothing_and_touches_no_transcript(sample: Path) -> None:
    status, output = verify(sample)
    assert status == 0, output
    recorded = files(sample / "runs")
    assert sorted(recorded) == ["basics.md.json", "every-option.md.json"]
    started = time.monotonic()
    status, output = verify(sample, "--changed")
    took = time.monotonic() - started
    assert status == 0, output
    assert NOTHING_CHANGED in output and "deselected" in output
    assert files(sample / "runs") == recorded
    assert took < 15, output


def test_a_changed_page_runs_alone_and_a_changed_prerequisite_runs_its_pages(
    sample: Path,
) -> None:
    status, output = verify(sample)
    assert status == 0, output
    recorded = files(sample / "runs")
    page = sample / "sample" / "every-option.md"
    page.write_text(page.read_text() + EXTRA_STEP)
    status, output = verify(sample, "--changed")
    assert status == 0, output
    assert "1 of 2 page(s)" in output, output
    assert "every-option.md: its steps changed since its run of" in output
    after = files(sample / "runs")
    assert after["basics.md.json"] == recorded["basics.md.json"]  # not run: untouched
    assert after["every-option.md.json"] != recorded["every-option.md.json"]

    prerequisite = sample / "sample" / "basics.md"
    prerequisite.write_text(prerequisite.read_text() + EXTRA_STEP)
    status, output = verify(sample, "--changed")
    assert status == 0, output
    assert "2 of 2 page(s)" in output
    assert "every-option.md: its prerequisite basics.md changed since its run of" in output
    status, output = verify(sample, "--changed")
    assert status == 0 and NOTHING_CHANGED in output, output


def test_a_prerequisite_recorded_alone_with_other_steps_is_a_change(sample: Path) -> None:
    """Verifying an edited prerequisite by itself leaves its pages to the next --changed."""
    status, output = verify(sample)
    assert status == 0, output
    prerequisite = sample / "sample" / "basics.md"
    prerequisite.write_text(prerequisite.read_text() + EXTRA_STEP)
    status, output = dojo_exec(
        sample, "verify", "sample/basics.md", "--docs-root", "sample", "--transcripts", "runs",
        *NONE,
    )  # fmt: skip
    assert status == 0, output
    status, output = verify(sample, "--changed")
    assert status == 0, output
    assert "1 of 2 page(s)" in output
    assert "every-option.md: its prerequisite basics.md was recorded with other steps" in output


def test_with_workers_nothing_changed_says_so(sample: Path) -> None:
    status, output = verify(sample)
    assert status == 0, output
    status, output = dojo_exec(
        sample, "verify", "sample", "--transcripts", "runs", "--changed", *NONE, "-n", "2"
    )
    assert status == 0, output
    assert NOTHING_CHANGED in output


def test_changed_needs_transcripts(sample: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--dojo-collect",
            "--dojo-changed",
            "--dojo-driver",
            "none",
            "sample",
        ],
        cwd=sample,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert "--dojo-changed needs --dojo-transcripts" in result.stderr


def recorded_as_they_are(pages: list[Path], docs: Path, runs: Path, engine: str) -> None:
    """Record a passed run of each page as it is now on ``engine`` (prerequisites first)."""
    for path in pages:
        chain = resolve_order(path)
        page = chain[-1]
        steps = [
            StepRecord(s.line, s.digest, s.command, s.expected, s.expected or "", 0, 0.1, "passed")
            for s in page.steps
        ]
        replayed = [page_key(p.path, docs) for p in chain[:-1]]
        record_run(
            runs,
            RunRecord(page_key(path, docs), "2026-11-30T00:00:00+00:00", 1.0, "28.2.2", engine,
                      "embedded (Docker-in-Docker)", "", "0.1.0", steps, replayed),
        )  # fmt: skip


def test_the_dojo_pages_against_their_runs_per_engine(tmp_path: Path) -> None:
    """The real pages: a page never run on an engine runs on it; a page whose recorded
    digests are not its steps' runs, and so do the pages that require it."""
    runs = tmp_path / "runs"
    docs = ROOT / "docs"
    pages = [docs / name for name in ("setup.md", "swarm.md", "service.md", "next-steps.md")]
    recorded_as_they_are(pages, docs, runs, "20.10.24+dfsg1")
    recorded_as_they_are(pages[:2], docs, runs, "26.1.5+dfsg1")
    on_20 = Target("20.10.24", "embedded")
    assert set(changed_pages(pages, runs, docs, on_20).values()) == {None}
    assert set(changed_pages(pages, runs, docs, Target("28.5", "embedded")).values()) == {
        "no recorded run on engine 28.5"
    }
    on_26 = changed_pages(pages, runs, docs, Target("26.1.5", "embedded"))
    assert [on_26[page] for page in pages] == [None, None] + 2 * [
        "no recorded run on engine 26.1.5"
    ]
    data = json.loads((runs / "setup.md.json").read_text())
    data["runs"][-1]["steps"][0]["digest"] = "0000000000000000"  # 20.10's, as if edited since
    (runs / "setup.md.json").write_text(json.dumps(data))
    found = changed_pages(pages, runs, docs, on_20)
    assert str(found[docs / "setup.md"]).startswith("its steps changed since its run of")
    for name in ("swarm.md", "service.md", "next-steps.md"):
        assert str(found[docs / name]).startswith("its prerequisite setup.md changed")
    assert changed_pages(pages, runs, docs, Target("26.1.5", "embedded"))[docs / "setup.md"] is None


def test_the_engine_is_known_without_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOJO_NODE_SUITE", "trixie")
    assert run_target("embedded") == Target("26.1.5", "embedded")
    monkeypatch.delenv("DOJO_NODE_SUITE")
    assert run_target("embedded") == Target("20.10.24", "embedded")
    assert run_target("none") == Target(None, "none")


@pytest.mark.docker
def test_a_changed_page_runs_on_embedded_machines_and_then_nothing_does(tmp_path: Path) -> None:
    docs, runs = tmp_path / "docs", tmp_path / "runs"
    docs.mkdir()
    runs.mkdir()
    shutil.copy(ROOT / "docs" / "setup.md", docs / "setup.md")
    data = json.loads((ROOT / "transcripts" / "setup.md.json").read_text())
    for run in data["runs"]:
        run["steps"][-1]["digest"] = "0000000000000000"  # as if the last step was edited since
    (runs / "setup.md.json").write_text(json.dumps(data))
    env = {"DOJO_RUN": os.environ.get("DOJO_RUN") or f"test-changed-{os.getpid()}"}
    try:
        status, output = dojo_exec(
            tmp_path, "verify", "docs", "--changed", "--transcripts", "runs", env=env
        )
        assert status == 0, output
        assert "setup.md: its steps changed since its run of" in output
        assert "pages: 1" in output
        recorded = files(runs)
        status, output = dojo_exec(
            tmp_path, "verify", "docs", "--changed", "--transcripts", "runs", env=env
        )
        assert status == 0 and NOTHING_CHANGED in output, output
        assert files(runs) == recorded
    finally:
        if "DOJO_RUN" not in os.environ:
            dojo_exec(tmp_path, "down", "--run", env["DOJO_RUN"])


def test_an_unknown_engine_is_one_line_naming_the_choices(sample: Path) -> None:
    status, output = verify(sample, "--engine", "99")
    assert status == 2, output
    assert (
        "unknown Docker engine '99': choose one of 20.10.24 (bookworm), 26.1.5 (trixie)" in output
    )
    status, output = verify(sample, "--changed", "--engine", "28")
    assert status == 0, output  # driver none: the engine does not choose the runs compared


@pytest.mark.docker
def test_the_node_image_says_its_engine_without_starting() -> None:
    """What a page that removed its machines records as its engine (runner._node_engine)."""
    import docker

    from dojo_exec.machines import node_image
    from dojo_exec.machines.node_image import (
        DEFAULT_SUITE,
        ENGINES,
        ensure_node_image,
        node_engine_version,
    )

    client = docker.from_env()
    ensure_node_image(client, DEFAULT_SUITE)
    node_image._ENGINE_VERSIONS.clear()  # read the image, not this process's cache
    since = int(time.time()) - 1
    version = node_engine_version(client, DEFAULT_SUITE)
    assert version is not None and version.startswith(ENGINES[DEFAULT_SUITE] + "+"), version
    # the image declares VOLUME /var/lib/docker: the container it read leaves no volume behind
    created = client.events(
        since=since, until=int(time.time()) + 1, decode=True,
        filters={"type": "volume", "event": "create"},
    )  # fmt: skip
    anonymous = {
        e["Actor"]["ID"] for e in created if re.fullmatch(r"[0-9a-f]{64}", e["Actor"]["ID"])
    }
    left = {v.name for v in client.volumes.list()} & anonymous
    assert anonymous and left == set()  # one was made (the test sees it), and it is gone


def test_report_on_one_engine(tmp_path: Path) -> None:
    runs, docs = tmp_path / "runs", ROOT / "docs"
    recorded_as_they_are([docs / "setup.md"], docs, runs, "26.1.5+dfsg1")
    recorded_as_they_are([docs / "setup.md"], docs, runs, "20.10.24+dfsg1")
    where = (str(docs / "setup.md"), "--docs-root", str(docs), "--transcripts", str(runs))
    status, output = dojo_exec(tmp_path, "report", *where, "--engine", "26", "--fail")
    assert status == 0 and "26.1.5+dfsg1" in output and "20.10.24" not in output, output
    status, output = dojo_exec(tmp_path, "report", *where, "--engine", "28", "--fail")
    assert status == 1 and "never" in output and "no recorded run" in output, output
