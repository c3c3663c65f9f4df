"""Replayed ``docker-machine create`` steps run at once, each machine keeping its address.

A page that requires a setup page first replays it: one ``docker-machine create`` after the
other, an engine booting each time (1 s each on an idle host, 2 s busy), while nothing
depends on the previous machine but its address.  The embedded driver gives a machine the
lowest free address of its cluster's network as it makes its container, so here each
create starts as soon as the one before it has its address (its machine record holds it)
or has ended: the machines get the addresses, and VirtualBox's host-only ones, they get one
after the other, and the rest of their creation overlaps.

Only in a replay (a page's own steps run as written), only on embedded machines, and only
for commands that are a plain ``docker-machine create [OPTIONS] NAME`` (whole steps of
them, or the first commands of a console session: its other commands run after them, in the
page's shell) (no variable, quote,
pipe or list; output sent to ``/dev/null`` at most) run in the page's own
shell, in steps without ``wait=`` or ``skip=``.  Each runs in ``bash -c`` with that shell's
environment and working directory, and its output is rendered as a terminal shows it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dojo_exec import spawn
from dojo_exec.page import Step
from dojo_exec.screen import render_output
from dojo_exec.shell import StepRun

WORD = r"[A-Za-z0-9_./:=,@%+-]+"
"""A word the shell takes as it is: nothing to expand, quote or redirect."""
PLAIN_CREATE = re.compile(
    rf"docker-machine[ \t]+create((?:[ \t]+{WORD})+?)"
    r"((?:[ \t]+(?:[12]?>>?|&>>?)[ \t]*/dev/null|[ \t]+2>&1)*)"  # output discarded or merged
    r"(?:[ \t]+#.*)?"  # a comment
)
"""``docker-machine create [OPTIONS] NAME``: words only, output redirections to /dev/null
(or stderr to stdout) and a comment at most; what the shell does to it ``bash -c`` does."""
STOP_GRACE = 5.0
"""Seconds a create interrupted (timeout, Ctrl-C) has to clean up after SIGINT, before SIGKILL."""
ADDRESS_POLL = 0.02
"""Seconds between two looks at the previous machine's record for its address."""


def create_name(text: str) -> str | None:
    """The machine a command creates if it is a plain ``docker-machine create … NAME``."""
    found = PLAIN_CREATE.fullmatch(text.strip())
    if found is None:
        return None
    name = found.group(1).split()[-1]
    return None if name.startswith("-") or "=" in name else name


def leading_creates(step: Step) -> int:
    """How many of the step's first commands are plain creates that may run at once (0 for
    a step with ``wait=``, ``skip=`` or ``machine=``, or whose commands a prompt sends to a
    machine)."""
    options = step.options
    if options.wait is not None or options.skip is not None or options.machine is not None:
        return 0
    count = 0
    for command in step.commands:
        if command.machine is not None or create_name(command.text) is None:
            break
        count += 1
    return count


def _only_creates(step: Step) -> bool:
    return bool(step.commands) and leading_creates(step) == len(step.commands)


def groups(steps: Sequence[Step]) -> list[list[Step]]:
    """``steps`` in order, cut into runs of consecutive steps that only create machines and
    single other steps (a console session that starts with creates and goes on, say with
    ``docker-machine ls``, is one of those: its creates run at once, then the rest)."""
    found: list[list[Step]] = []
    for step in steps:
        if _only_creates(step) and found and _only_creates(found[-1][-1]):
            found[-1].append(step)
        else:
            found.append([step])
    return found


def at_once(group: Sequence[Step]) -> bool:
    """Whether ``group`` (from :func:`groups`) has more than one create to overlap."""
    return sum(leading_creates(step) for step in group) > 1


@dataclass
class _Create:
    name: str
    text: str
    timeout: float
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0


def run_creates(
    commands: Sequence[tuple[str, float]],
    *,
    env: Mapping[str, str],
    cwd: Path,
    has_address: Callable[[str], bool],
    columns: int,
    rows: int,
) -> list[StepRun]:
    """Run the ``(command, timeout)`` creates, each once the previous one's machine has its
    address (``has_address(name)``) or ended; their runs, in order."""
    creates = []
    for text, timeout in commands:
        name = create_name(text)
        if name is None:
            raise ValueError(f"not a plain docker-machine create: {text!r}")
        creates.append(_Create(name, text, timeout))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(creates))
    futures: list[concurrent.futures.Future[StepRun]] = []
    try:
        for create in creates:
            if futures:
                _await_address(creates[len(futures) - 1], has_address)
            create.started = time.monotonic()
            create.process = spawn.popen(
                ["bash", "-c", create.text],
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a timeout stops all it started
            )
            futures.append(pool.submit(_finish, create, columns, rows))
        return [future.result() for future in futures]
    except BaseException:  # an interrupt: no create goes on behind the runner's back
        for create in creates:
            _stop(create)
        raise
    finally:
        pool.shutdown(wait=True)


def _await_address(previous: _Create, has_address: Callable[[str], bool]) -> None:
    assert previous.process is not None
    deadline = previous.started + previous.timeout
    while previous.process.poll() is None and time.monotonic() < deadline:
        if has_address(previous.name):
            return
        time.sleep(ADDRESS_POLL)


def _finish(create: _Create, columns: int, rows: int) -> StepRun:
    """Wait for ``create`` (stopped at its timeout); its run as a terminal would show it."""
    assert create.process is not None
    timed_out = False
    try:
        left = max(0.0, create.started + create.timeout - time.monotonic())
        data, _ = create.process.communicate(timeout=left)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(create)
        data, _ = create.process.communicate()
    status = create.process.returncode
    if status is not None and status < 0:
        status = 128 - status  # killed by a signal: as bash reports it
    shown = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # a pty's ONLCR
    output, truncated = render_output(shown, columns, rows)
    return StepRun(
        output=output,
        raw=shown.decode("utf-8", errors="replace"),
        exit_status=None if timed_out else status,
        duration=time.monotonic() - create.started,
        timed_out=timed_out,
        written=len(shown),
        truncated=truncated,
    )


def _stop(create: _Create) -> None:
    """Ctrl-C to the create's process group (it removes what it made), then SIGKILL."""
    process = create.process
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
