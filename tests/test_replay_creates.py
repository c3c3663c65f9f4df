"""Replayed ``docker-machine create`` steps run at once, on real pages and real machines."""

from __future__ import annotations

import ipaddress
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine import engine_or_skip
from leftovers import labelled, wait_none_left

from dojo_exec import replay_creates
from dojo_exec.machines.labels import LABEL_RUN
from dojo_exec.page import parse_page, parse_text
from dojo_exec.replay_creates import at_once, create_name, groups, leading_creates
from dojo_exec.runner import PageSession, StepOutcome

ROOT = Path(__file__).resolve().parent.parent
SETUP_PAGES = [
    ROOT / "docs" / "setup.md",
    ROOT / "tests" / "data" / "tutorials" / "swarm-docs-style" / "setup.md",
    ROOT / "tests" / "data" / "tutorials" / "docker-docs-swarm" / "setup.md",
]
FENCE = "```"


def _commands(path: Path) -> list[str]:
    return [c.text for step in parse_page(path).steps for c in step.commands]


def _positional(text: str) -> str:
    """The last word that is neither an option nor a redirection: the machine's name."""
    words = shlex.split(text, comments=True)
    while words and (words[-1] in ("2>&1", "/dev/null") or words[-1].endswith(">")):
        words.pop()
    return words[-1]


@pytest.mark.parametrize("path", SETUP_PAGES, ids=lambda p: p.parent.name)
def test_every_create_of_a_real_setup_page_is_named_as_docker_machine_reads_it(
    path: Path,
) -> None:
    creates = [text for text in _commands(path) if text.startswith("docker-machine create")]
    assert len(creates) == 3, creates
    assert [create_name(text) for text in creates] == [_positional(t) for t in creates]


@pytest.mark.parametrize(
    "text",
    [
        "docker-machine create --driver virtualbox $NAME",  # a variable: the shell's own
        "docker-machine create --driver virtualbox manager1 && docker-machine ls",
        "docker-machine create --driver virtualbox manager1 > created.txt",  # a file written
        "docker-machine create --driver virtualbox 'manager 1'",
        "for m in a b; do docker-machine create -d virtualbox $m; done",
        "docker-machine create --driver",
        "docker-machine ls",
        "DEBUG=1 docker-machine create -d virtualbox manager1",
    ],
)
def test_anything_the_shell_would_change_is_no_plain_create(text: str) -> None:
    assert create_name(text) is None


def test_a_setup_page_s_creates_make_one_group_and_its_other_steps_their_own() -> None:
    steps = parse_page(SETUP_PAGES[0]).steps
    found = groups(steps)
    assert [step for group in found for step in group] == list(steps)  # all, in order
    assert [len(group) for group in found] == [3] + [1] * (len(steps) - 3)
    assert [at_once(group) for group in found] == [True] + [False] * (len(steps) - 3)


def test_a_console_session_of_creates_is_one_group_and_so_is_one_that_goes_on() -> None:
    session = groups(parse_page(SETUP_PAGES[1]).steps)[0]
    assert len(session) == 1 and len(session[0].commands) == 3 and at_once(session)
    mixed = groups(parse_page(SETUP_PAGES[2]).steps)[0]  # three creates, then docker-machine ls
    assert len(mixed) == 1 and len(mixed[0].commands) == 4 and at_once(mixed)
    assert leading_creates(mixed[0]) == 3


def test_a_session_that_starts_otherwise_or_waits_runs_as_written() -> None:
    text = (
        "# P\n\n```console dojo\n$ docker-machine ls\n$ docker-machine create -d virtualbox a\n"
        "$ docker-machine create -d virtualbox b\n```\n\n```console dojo wait=30s\n"
        "$ docker-machine create -d virtualbox c\n$ docker-machine create -d virtualbox d\n```\n"
    )
    steps = parse_text(text, Path("p.md")).steps
    assert [leading_creates(step) for step in steps] == [0, 0]
    assert [at_once(group) for group in groups(steps)] == [False, False]


def test_run_creates_refuses_what_is_not_a_plain_create(tmp_path: Path) -> None:
    """A command the shell would change is never run outside it (nothing is started)."""
    with pytest.raises(ValueError, match="not a plain docker-machine create"):
        replay_creates.run_creates(
            [("docker-machine create -d virtualbox a", 10.0), ("touch started; echo $X", 10.0)],
            env={},
            cwd=tmp_path,
            has_address=lambda name: True,
            columns=80,
            rows=24,
        )
    assert list(tmp_path.iterdir()) == []


# -- on real machines --------------------------------------------------------------------------


def _setup(tmp_path: Path, *creates: str, before: str = "") -> Path:
    blocks = [before] if before else []
    blocks += [f"{FENCE}sh dojo\ndocker-machine create --driver virtualbox {name}\n{FENCE}\n"
               for name in creates]  # fmt: skip
    (tmp_path / "setup.md").write_text("# Setup\n\n" + "\n".join(blocks))
    after = tmp_path / "after.md"
    after.write_text(
        f"---\nrequires: [setup.md]\n---\n# After\n\n{FENCE}sh dojo\n"
        'for m in $(docker-machine ls -q); do echo "$m $(docker-machine ip $m)"; done\n'
        f"{FENCE}\n"
    )
    return after


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many creates each call of the real :func:`replay_creates.run_creates` ran."""
    calls: list[int] = []
    real = replay_creates.run_creates

    def spy(commands, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(commands))
        return real(commands, **kwargs)

    monkeypatch.setattr(replay_creates, "run_creates", spy)
    return calls


def _run(page: Path, run: str, monkeypatch: pytest.MonkeyPatch) -> list[StepOutcome]:
    monkeypatch.setenv("DOJO_RUN", run)
    seen: list[StepOutcome] = []
    with PageSession.for_path(page, transcripts_root=None, on_outcome=seen.append) as session:
        session.run_all()
    assert wait_none_left(f"DOJO_RUN={run}", within=60) == []
    assert labelled(engine_or_skip(), run) == []
    return seen


@pytest.mark.docker
def test_a_replayed_setup_makes_its_machines_at_once_each_at_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[int]
) -> None:
    after = _setup(tmp_path, "manager1", "worker1", "worker2")
    seen = _run(after, "c-replay-at-once", monkeypatch)
    assert spied == [3]
    assert [(o.step.path.name, o.verdict, o.replay) for o in seen] == [
        ("setup.md", "passed", True)
    ] * 3 + [("after.md", "passed", False)]
    assert all("Docker is up and running!" in o.captured for o in seen[:3])
    listed = [line.split() for line in seen[-1].captured.splitlines()]
    assert [name for name, _ in listed] == ["manager1", "worker1", "worker2"]
    addresses = [int(ipaddress.ip_address(ip)) for _, ip in listed]
    assert addresses == list(range(addresses[0], addresses[0] + 3))  # as made one by one


@pytest.mark.docker
def test_a_session_s_creates_run_at_once_then_its_listing_in_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[int]
) -> None:
    """As the Docker-docs-style setup writes it: creates, then ``docker-machine ls`` in one
    console block."""
    (tmp_path / "setup.md").write_text(
        "# Setup\n\n```console dojo\n"
        "$ docker-machine create --driver virtualbox manager1 > /dev/null\n"
        "$ docker-machine create --driver virtualbox worker1 > /dev/null\n"
        "$ LISTED=$(docker-machine ls -q | wc -l); docker-machine ls -q\n"
        "manager1\nworker1\n```\n"
    )
    after = tmp_path / "after.md"
    after.write_text(
        f"---\nrequires: [setup.md]\n---\n# After\n\n{FENCE}sh dojo\necho $LISTED\n"
        f"# Result ==>\n2\n{FENCE}\n"
    )
    seen = _run(after, "c-replay-session", monkeypatch)
    assert spied == [2]
    assert [(o.step.path.name, o.verdict) for o in seen] == [
        ("setup.md", "passed"),
        ("after.md", "passed"),  # the listing ran in the page's shell: its variable is there
    ]


@pytest.mark.docker
def test_a_create_that_fails_in_a_replay_stops_the_page_at_its_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[int]
) -> None:
    after = _setup(tmp_path, "manager1", "manager1", "worker1")
    seen = _run(after, "c-replay-fails", monkeypatch)
    assert spied == [3]
    assert [o.verdict for o in seen[:3]] == ["passed", "failed", "passed"]
    assert "already exists" in seen[1].captured
    assert (seen[3].step.path.name, seen[3].verdict) == ("after.md", "error")
    assert f"prerequisite step {seen[1].step.location} failed" in seen[3].explanation


@pytest.mark.docker
def test_a_docker_machine_function_of_the_page_keeps_the_creates_in_its_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spied: list[int]
) -> None:
    wrapper = (
        f"{FENCE}sh dojo\n"
        'docker-machine() { echo "wrapped $2"; command docker-machine "$@"; }\n'
        f"{FENCE}\n"
    )
    after = _setup(tmp_path, "manager1", "worker1", before=wrapper)
    seen = _run(after, "c-replay-function", monkeypatch)
    assert spied == []  # the function would not run outside the shell: one after the other
    assert ["wrapped" in o.captured for o in seen[1:3]] == [True, True]
    assert seen[-1].verdict == "passed"


@pytest.mark.docker
def test_ctrl_c_while_creates_run_at_once_leaves_nothing(tmp_path: Path) -> None:
    """SIGINT to ``dojo-exec verify`` once the replay's first machine exists: it stops the
    creates, removes the machines, exits 2."""
    client = engine_or_skip()
    after = _setup(tmp_path, "manager1", "worker1", "worker2")
    run = "c-replay-interrupted"
    process = subprocess.Popen(
        [sys.executable, "-m", "dojo_exec.cli", "verify", str(after), "--", "--full-trace"],
        cwd=tmp_path,
        env={**os.environ, "DOJO_RUN": run},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not client.containers.list(
            all=True, sparse=True, filters={"label": f"{LABEL_RUN}={run}"}
        ):
            assert process.poll() is None and time.monotonic() < deadline, process.stdout
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 2, output
    assert "dojo_exec/replay_creates.py:" in output, output  # it came while they ran
    assert wait_none_left(f"DOJO_RUN={run}", within=60) == []
    assert labelled(client, run) == []
