"""The runner: provenance on a real embedded machine, and whole pages in a plain local shell."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from dojo_exec.runner import PageSession, run_pages
from dojo_exec.screen import MAX_OUTPUT_LINES
from dojo_exec.transcripts import StepRecord
from dojo_exec.update import PendingUpdates

PAGE = """# One machine, never pointed at

```sh dojo
docker-machine create --driver virtualbox lone1 > /dev/null 2>&1
docker-machine ls -q
# Result ==>
lone1
```
"""


@pytest.mark.docker
def test_a_page_that_never_points_its_client_records_the_machines_engine(tmp_path: Path) -> None:
    page = tmp_path / "lone.md"
    page.write_text(PAGE)
    (record,) = run_pages([page], tmp_path / "transcripts", docs_root=tmp_path)
    assert [step.verdict for step in record.steps] == ["passed"]
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", record.docker_engine), record.docker_engine
    assert record.driver.startswith("embedded")
    assert (tmp_path / "transcripts" / "lone.md.json").is_file()


@pytest.mark.docker
def test_with_no_machine_the_engine_is_unknown_not_the_hosts(tmp_path: Path) -> None:
    page = tmp_path / "plain.md"
    page.write_text("# Plain\n\n```sh dojo\necho hi\n# Result ==>\nhi\n```\n")
    (record,) = run_pages([page], None, docs_root=tmp_path)
    assert record.docker_engine == "unknown"


@pytest.mark.docker
def test_a_failure_before_eval_env_shows_the_machines_not_a_socket_error(tmp_path: Path) -> None:
    page = tmp_path / "early.md"
    page.write_text(PAGE + "\n```sh dojo\ndocker node ls\n# Result ==>\nID HOSTNAME STATUS\n```\n")
    (record,) = run_pages([page], None, docs_root=tmp_path)
    assert [step.verdict for step in record.steps] == ["passed", "failed"]
    report = record.steps[1].explanation or ""
    assert "(the client points at no machine yet; docker-machine ls:)" in report
    assert re.search(r"^\s*lone1\s+-\s+embedded\s+Running\s+tcp://", report, re.MULTILINE), report
    assert "no-machine-chosen" not in report.split("swarm state:")[1]


# -- whole pages in a plain local shell (driver none: no Docker needed) -----------------------


def run_page(tmp_path: Path, text: str) -> list[StepRecord]:
    page = tmp_path / "page.md"
    page.write_text(text)
    (record,) = run_pages([page], None, docs_root=tmp_path, driver="none")
    return record.steps


def step(command: str, options: str = "", promise: str | None = None) -> str:
    result = f"# Result ==>\n{promise}\n" if promise is not None else ""
    return f"```sh dojo {options}\n{command}\n{result}```\n\n"


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``docker`` first on PATH that logs its calls to the returned file and fails."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    calls = tmp_path / "docker-calls"
    docker = bin_dir / "docker"
    docker.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho "fake docker: $*"\nexit 1\n')
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return calls


@pytest.mark.parametrize(
    ("first", "status"),
    [
        (step("echo bye\nexit 3", "exit=any"), 3),
        (step("exit 3", "exit=3"), 3),
        (step("exit 0"), 0),
        (step("set -e") + step("echo failing; (exit 5)", "exit=any"), 5),
    ],
)
def test_the_step_during_which_the_shell_exits_fails_and_stops_the_page(
    tmp_path: Path, first: str, status: int
) -> None:
    steps = run_page(tmp_path, "# Exit\n\n" + first + step("echo after", promise="after"))
    died, after = steps[-2:]
    assert died.verdict == "failed"
    assert f"the page's shell exited during this step (exit status {status})" in (
        died.explanation or ""
    )
    assert after.verdict == "error"
    assert re.match(
        rf"not run: the page's shell did not survive \S*page\.md:{died.line}$", after.explanation
    ), after.explanation


def test_a_failure_leaves_exit_status_for_the_next_step_and_asks_no_engine(
    tmp_path: Path, fake_docker: Path
) -> None:
    text = "# Status\n\n" + step('echo "I like docker"; (exit 4)', promise="I like docker")
    steps = run_page(tmp_path, text + step('echo "status=$?"', promise="status=4"))
    assert [s.verdict for s in steps] == ["failed", "passed"], steps[1].explanation
    assert "exit status 4, expected 0" in (steps[0].explanation or "")
    assert "swarm state" not in (steps[0].explanation or "")
    calls = fake_docker.read_text().splitlines() if fake_docker.exists() else []
    assert not [c for c in calls if c.startswith(("node", "service"))]  # no swarm to ask


def test_the_swarm_state_is_collected_aside(tmp_path: Path, fake_docker: Path) -> None:
    page = tmp_path / "page.md"
    text = step("cd /\n: docker service ps web\n(exit 4)") + step('echo "$? $PWD"', promise="4 /")
    page.write_text("# Aside\n\n" + text)
    with PageSession.for_path(page, driver="none", docs_root=tmp_path) as session:
        failing, following = session.page.steps
        assert session.run_step(failing).verdict == "failed"
        state = session._swarm_state(failing)
        assert "fake docker: node ls" in state and "fake docker: service ps --no-trunc web" in state
        assert fake_docker.read_text().splitlines() == ["node ls", "service ps --no-trunc web"]
        outcome = session.run_step(following)
        assert outcome.verdict == "passed", outcome.explanation


def test_stty_sane_in_a_step_leaves_later_captures_clean(tmp_path: Path) -> None:
    text = "# stty\n\n" + step("stty sane") + step("echo hello", promise="hello")
    steps = run_page(tmp_path, text + step("stty echo; echo again", promise="again"))
    assert [s.verdict for s in steps] == ["passed"] * 3, [s.captured for s in steps]


def test_update_mode_rewrites_no_promise_of_a_step_that_killed_the_shell(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Exit\n\n" + step("echo bye\nexit 3", "exit=any", promise="hello"))
    updates = PendingUpdates()
    (record,) = run_pages([page], None, docs_root=tmp_path, driver="none", updates=updates)
    assert record.steps[0].verdict == "failed"
    assert "the page's shell exited during this step" in (record.steps[0].explanation or "")
    assert len(updates) == 0


def test_a_flooding_step_stops_at_its_timeout_with_a_bounded_capture(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Flood\n\n" + step("yes", "timeout=1s") + step("echo after", promise="after"))
    started = time.monotonic()
    (record,) = run_pages([page], tmp_path / "t", docs_root=tmp_path, driver="none")
    assert time.monotonic() - started < 8
    flood, after = record.steps
    assert (flood.verdict, after.verdict) == ("timeout", "passed")
    assert flood.duration < 4
    notice, *rest = flood.captured.splitlines()
    assert re.fullmatch(
        rf"\[dojo-exec: [\d.]+ MB of output, only the last {len(rest)} lines kept\]", notice
    )
    assert len(rest) <= MAX_OUTPUT_LINES
    assert (tmp_path / "t" / "page.md.json").stat().st_size < 2_000_000


def test_update_writes_no_truncated_capture_as_a_promise(tmp_path: Path) -> None:
    """The run knows its output was cut (StepRun.truncated): update refuses, saying so."""
    page = tmp_path / "long.md"
    page.write_text("# Long\n\n" + step(f"seq 1 {MAX_OUTPUT_LINES + 5}", promise="1\n2"))
    updates = PendingUpdates()
    (record,) = run_pages([page], None, docs_root=tmp_path, driver="none", updates=updates)
    assert record.steps[0].verdict == "failed"
    assert len(updates) == 0 and not updates.write()
    (refused,) = updates.refused
    assert "long.md:3" in refused and "output too long to promise (" in refused


def test_an_updated_step_is_recorded_as_rewritten_not_stale(tmp_path: Path) -> None:
    """Right after update, the transcript vouches for the rewritten page (report --fail passes)."""
    from dojo_exec.freshness import page_freshness
    from dojo_exec.page import parse_page
    from dojo_exec.update import PendingUpdates

    page = tmp_path / "drift.md"
    page.write_text(
        "# Drift\n\n- in a list:\n\n    ```sh dojo\n    echo new\n    # Result ==>\n    old\n"
        "    ```\n\n```sh dojo\necho same\n# Result ==>\nsame\n```\n"
    )
    updates = PendingUpdates()
    (record,) = run_pages([page], None, docs_root=tmp_path, driver="none", updates=updates)
    assert updates.write() and "    new\n" in page.read_text()
    judged = page_freshness(parse_page(page), record)
    assert [o.status for o in judged.outcomes] == ["passed", "passed"]
    assert record.steps[0].expected == "new\n"


def test_a_step_whose_update_lengthens_its_fences_is_not_stale(tmp_path: Path) -> None:
    from dojo_exec.freshness import page_freshness
    from dojo_exec.page import parse_page
    from dojo_exec.update import PendingUpdates

    page = tmp_path / "fence.md"
    page.write_text("````sh dojo\nprintf 'a\\n```\\nb\\n'\n````\n\n```\n# Result ==>\nold\n```\n")
    updates = PendingUpdates()
    (record,) = run_pages([page], None, docs_root=tmp_path, driver="none", updates=updates)
    assert updates.write() and "````\n# Result ==>\na\n```\nb\n````" in page.read_text()
    assert [o.status for o in page_freshness(parse_page(page), record).outcomes] == ["passed"]


def test_a_prerequisite_whose_promise_drifted_does_not_hide_its_dependents(tmp_path: Path) -> None:
    base = tmp_path / "base.md"
    base.write_text(
        "# Base\n\n```sh dojo\nexport READY=yes\necho drifted\n# Result ==>\nold\n```\n"
    )
    child = tmp_path / "child.md"
    child.write_text(
        "---\nrequires: [base.md]\n---\n# Child\n\n"
        "```sh dojo\necho $READY\n# Result ==>\nyes\n```\n"
    )
    (record,) = run_pages([child], None, driver="none", docs_root=tmp_path)
    assert [step.verdict for step in record.steps] == ["passed"]
    (base_record,) = run_pages([base], None, driver="none", docs_root=tmp_path)
    assert [step.verdict for step in base_record.steps] == ["failed"]  # reported on its page


def test_a_prerequisite_whose_command_fails_stops_its_dependents(tmp_path: Path) -> None:
    base = tmp_path / "base.md"
    base.write_text("# Base\n\n```sh dojo\nfalse\n```\n")
    child = tmp_path / "child.md"
    child.write_text("---\nrequires: [base.md]\n---\n# Child\n\n```sh dojo\necho never\n```\n")
    session = PageSession.for_path(child, driver="none", docs_root=tmp_path)
    with session:
        (outcome,) = session.run_all()
    assert outcome.verdict == "error"
    assert "prerequisite step" in outcome.explanation and "base.md:3" in outcome.explanation


def test_a_hung_diagnostic_keeps_what_it_collected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Collecting the swarm's state after a failure is bounded; what came out before the
    limit stays in the report, followed by one line saying it was cut."""
    monkeypatch.setattr("dojo_exec.runner.DIAGNOSTIC_TIMEOUT", 3.0)
    page = tmp_path / "page.md"
    hang = 'docker() { echo "answered: docker $1 $2"; sleep 60; }\nexport DOCKER_HOST=tcp://h:9'
    page.write_text("# Hung\n\n" + step(hang) + step("echo after", promise="after"))
    with PageSession.for_path(page, driver="none", docs_root=tmp_path) as session:
        defining, following = session.page.steps
        assert session.run_step(defining).verdict == "passed"
        started = time.monotonic()
        state = session._swarm_state(following)
        assert time.monotonic() - started < 30, "the diagnostic was not cut"
        assert "answered: docker node ls" in state, state
        assert state.endswith("(timed out after 3 s collecting the swarm's state)"), state
        assert session.run_step(following).verdict == "passed"  # the shell is still usable
