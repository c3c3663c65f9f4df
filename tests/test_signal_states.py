"""The runner started as CI, job runners and ``nohup … &`` start it: a page still runs right.

Each test starts ``dojo-exec verify`` (or pytest) in a real subprocess in one inherited
state and runs a small page: the page's commands see default signal dispositions and no
blocked signal, a step past its ``timeout=`` is interrupted by its Ctrl-C (a timeout error
naming ``file:line`` with what it printed), and the next step runs in the same shell.
Nothing the run started is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from leftovers import labelled, wait_none_left

PAGE = """# Signals

```sh dojo
KEPT=yes
awk '/^Sig(Blk|Ign)/ {print $1, $2}' /proc/self/status
# Result ==>
SigBlk: 0000000000000000
SigIgn: 0000000000000000
```

```sh dojo timeout=1s
echo before; sleep 30; echo after
```

```sh dojo
yes | head -n 1
# Result ==>
y
```

```sh dojo
echo "kept=$KEPT"
# Result ==>
kept=yes
```
"""

MARK = "DOJO_SIGNAL_STATE_TEST"
"""Set in the runner's environment, so that what it started can be found by it afterwards."""

Preexec = Callable[[], None] | None


def _ignore(*signals: signal.Signals) -> Callable[[], None]:
    def preexec() -> None:
        for sig in signals:
            signal.signal(sig, signal.SIG_IGN)

    return preexec


def _block(*signals: signal.Signals) -> Callable[[], None]:
    def preexec() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)

    return preexec


def _everything() -> None:
    _ignore(signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGPIPE)()
    _block(signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP)()


VERIFY = [sys.executable, "-m", "dojo_exec.cli", "verify", "page.md", "--transcripts", "runs"]
VERIFY_TAIL = ["--", "--dojo-driver", "none"]
COLLECT = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "page.md", "--dojo-collect"]
COLLECT_TAIL = ["--dojo-driver", "none", "--dojo-transcripts", "runs"]
BACKGROUND = ["sh", "-c", 'nohup setsid --wait "$@" < /dev/null & wait $!', "sh"]
"""A background job of a non-interactive shell (SIGINT, SIGQUIT ignored, stdin /dev/null),
under nohup (SIGHUP ignored) and setsid (no controlling terminal)."""

STATES: dict[str, tuple[list[str], list[str], list[str], Preexec, bool]] = {
    # name: (prefix, runner, runner's tail, preexec in the starting process, stdin /dev/null)
    "SIGINT and SIGQUIT ignored": (
        [],
        VERIFY,
        VERIFY_TAIL,
        _ignore(signal.SIGINT, signal.SIGQUIT),
        False,
    ),
    "SIGHUP ignored (nohup)": (["nohup"], VERIFY, VERIFY_TAIL, None, False),
    "no controlling terminal (setsid)": (["setsid", "--wait"], VERIFY, VERIFY_TAIL, None, False),
    "stdin /dev/null": ([], VERIFY, VERIFY_TAIL, None, True),
    "signals blocked": (
        [],
        VERIFY,
        VERIFY_TAIL,
        _block(signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP),
        False,
    ),
    "all at once, as a background job of sh": (
        BACKGROUND,
        VERIFY,
        VERIFY_TAIL,
        _everything,
        True,
    ),
    "all at once, pytest --dojo-collect": (
        BACKGROUND,
        COLLECT,
        COLLECT_TAIL,
        _everything,
        True,
    ),
}


def _clean_then(preexec: Preexec) -> None:
    """Start from default dispositions and no mask (whatever state these tests run in), then
    put the child in the state under test."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, ())
    if preexec is not None:
        preexec()


def start(
    argv: Sequence[str], cwd: Path, preexec: Preexec, no_stdin: bool, mark: str
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` from a process in the given state (set between fork and exec)."""
    return subprocess.run(
        list(argv),
        cwd=cwd,
        env={**os.environ, MARK: mark},
        stdin=subprocess.DEVNULL if no_stdin else None,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=lambda: _clean_then(preexec),
    )


@pytest.mark.parametrize("state", list(STATES))
def test_a_page_runs_right_whatever_state_the_runner_starts_in(state: str, tmp_path: Path) -> None:
    prefix, runner, tail, preexec, no_stdin = STATES[state]
    (tmp_path / "page.md").write_text(PAGE)
    mark = f"{MARK}={uuid.uuid4().hex}"
    started = time.monotonic()
    done = start([*prefix, *runner, *tail], tmp_path, preexec, no_stdin, mark.split("=")[1])
    elapsed = time.monotonic() - started
    shown = done.stdout + done.stderr
    assert done.returncode == 1, shown  # the step past its timeout fails, nothing else
    assert "steps: 4  passed: 3  failed: 1" in done.stdout, shown
    assert "page.md:11: step timeout" in done.stdout, shown
    assert "captured (exit None):\n    before\n" in done.stdout, shown
    assert "dead" not in done.stdout, shown  # the Ctrl-C ended the step, not the shell
    assert elapsed < 60, elapsed
    assert wait_none_left(mark) == []


def test_the_states_are_real() -> None:
    """The starting states do reach the runner (else the tests above prove nothing)."""
    report = [sys.executable, "-c", "print(open('/proc/self/status').read())"]
    probe = [*BACKGROUND, *report]
    done = start(probe, Path.cwd(), _everything, True, "probe")
    fields = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    ignored, blocked = int(fields["SigIgn"], 16), int(fields["SigBlk"], 16)
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        assert ignored & (1 << (sig - 1)), (sig, fields["SigIgn"])
    assert blocked & (1 << (signal.SIGINT - 1)), fields["SigBlk"]
    session = subprocess.run(
        [*BACKGROUND, "sh", "-c", "ps -o tty= -p $$; readlink /proc/$$/fd/0"],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    ).stdout.split()
    assert session == ["?", "/dev/null"]  # no controlling terminal, no stdin


def test_the_issue_reproduction_passes_with_sigint_ignored() -> None:
    """Issue 9's reproduction: the shell's timeout tests, run by a pytest that ignores SIGINT."""
    tests = Path(__file__).parent / "test_shell.py"
    chosen = "timeout or stdin_reader or sigint or close or ctrl_c or pipe_closed"
    done = start(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tests), "-k", chosen],
        Path(__file__).parent.parent,
        _everything,
        True,
        "reproduction",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout, done.stdout


CREATE = """# Create

```sh dojo timeout=TIMEOUT
docker-machine create -d virtualbox node1
```

```sh dojo
echo next
# Result ==>
next
```
"""


def _labelled(run: str) -> list[str]:
    """Docker objects of any kind labelled with run ``run``."""
    import docker

    client = docker.from_env()
    try:
        return labelled(client, run)
    finally:
        client.close()


@pytest.fixture(scope="module")
def create_seconds(tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long ``docker-machine create`` (embedded) takes here now, the quicker of two."""
    store = tmp_path_factory.mktemp("create-timing")
    run = f"sigtime-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DOJO_RUN": run, "MACHINE_STORAGE_PATH": str(store)}
    env["DOJO_CLUSTER"] = run
    machine = [sys.executable, "-m", "dojo_exec.machines.cli"]
    took = []
    for _ in range(2):
        started = time.monotonic()
        made = subprocess.run([*machine, "create", "-d", "virtualbox", "t1"], env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        took.append(time.monotonic() - started)
        subprocess.run([*machine, "rm", "-y", "t1"], env=env, capture_output=True, timeout=300)
        assert made.returncode == 0, made.stderr
    subprocess.run([sys.executable, "-m", "dojo_exec.cli", "down", "--run", run], env=env,
                   capture_output=True, timeout=300)  # fmt: skip
    assert _labelled(run) == []
    return min(took)


@pytest.mark.docker
@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.75])
def test_docker_machine_create_is_interrupted_with_sigint_ignored(
    tmp_path: Path, create_seconds: float, fraction: float
) -> None:
    """``docker-machine create`` (embedded) at several points of its work (a share of how long
    a create takes here) gets the Ctrl-C of the step's timeout, though the runner ignores
    SIGINT; the page goes on, nothing is left.  A create that finished first is tried again
    with half the timeout."""
    timeout = create_seconds * fraction
    for _ in range(4):
        (tmp_path / "create.md").write_text(CREATE.replace("TIMEOUT", f"{timeout * 1000:.0f}ms"))
        run = f"sigtest-{uuid.uuid4().hex[:12]}"
        env = {**os.environ, "DOJO_RUN": run}
        done = subprocess.run(
            [sys.executable, "-m", "dojo_exec.cli", "verify", "create.md"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=lambda: _clean_then(_ignore(signal.SIGINT, signal.SIGQUIT)),
        )
        assert _labelled(run) == []
        if "step timeout" in done.stdout:
            break
        timeout /= 2  # this create was quicker than the one measured: interrupt it earlier
    shown = done.stdout + done.stderr
    assert "create.md:3: step timeout" in done.stdout, shown
    assert "docker-machine create: interrupted" in done.stdout, shown
    assert "steps: 2  passed: 1  failed: 1" in done.stdout, shown
