"""Every way dojo_exec starts a process gives it default signal dispositions, nothing blocked.

Each case runs in a fresh Python that first puts itself in the worst inherited state (every
signal of :data:`~dojo_exec.spawn.DEFAULT_SIGNALS` ignored and blocked, as ``nohup`` under a
job runner leaves it), then starts a child that reports its own ``/proc/self/status``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest

from dojo_exec.spawn import DEFAULT_SIGNALS

PRELUDE = textwrap.dedent(
    """
    import json, signal, subprocess, sys
    from dojo_exec import spawn
    for sig in spawn.DEFAULT_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, spawn.DEFAULT_SIGNALS)
    REPORT = ["grep", "^Sig", "/proc/self/status"]  # not Python: it ignores SIGPIPE itself
    """
)

HOW = {
    "plain subprocess (control)": "print(subprocess.run(REPORT, capture_output=True, text=True)"
    ".stdout)",
    "spawn.run": "print(spawn.run(REPORT, capture_output=True, text=True).stdout)",
    "spawn.call": "sys.stdout.flush(); spawn.call(REPORT)",
    "spawn.popen": "p = spawn.popen(REPORT, stdout=subprocess.PIPE, text=True); "
    "print(p.communicate()[0])",
    "spawn.pty": "c = spawn.pty(REPORT[0], REPORT[1:], encoding='utf-8'); "
    "print(c.read()); c.close()",
    "spawn.exec_replacing": "import shutil; sys.stdout.flush(); "
    "spawn.exec_replacing(shutil.which('grep'), REPORT)",
}


def child_state(how: str) -> dict[str, int]:
    """SigIgn and SigBlk of a child started ``how`` from the worst inherited state."""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + HOW[how]],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    fields = dict(line.split(":", 1) for line in done.stdout.splitlines() if line.startswith("Sig"))
    return {name: int(fields[name].strip(), 16) for name in ("SigIgn", "SigBlk")}


def bits(signals: tuple[signal.Signals, ...]) -> int:
    return sum(1 << (sig - 1) for sig in signals)


def test_the_control_inherits_the_bad_state() -> None:
    """Without spawn, a child keeps every ignored disposition and the mask (the bug)."""
    state = child_state("plain subprocess (control)")
    # subprocess's restore_signals resets only SIGPIPE and SIGXFSZ
    kept = tuple(s for s in DEFAULT_SIGNALS if s not in (signal.SIGPIPE, signal.SIGXFSZ))
    assert state["SigIgn"] & bits(kept) == bits(kept), json.dumps(state)
    assert state["SigBlk"] & bits(DEFAULT_SIGNALS) == bits(DEFAULT_SIGNALS)


@pytest.mark.parametrize("how", [h for h in HOW if h.startswith("spawn.")])
def test_a_spawned_child_starts_with_default_dispositions_and_no_mask(how: str) -> None:
    state = child_state(how)
    assert state["SigIgn"] & bits(DEFAULT_SIGNALS) == 0, f"{how}: {state}"
    assert state["SigBlk"] & bits(DEFAULT_SIGNALS) == 0, f"{how}: {state}"


def test_no_spawn_site_bypasses_the_spawn_module() -> None:
    """Only dojo_exec.spawn calls subprocess/pexpect/exec: the decision is in one place."""
    from pathlib import Path

    import dojo_exec

    package = Path(dojo_exec.__file__).parent
    direct = ("subprocess.run(", "subprocess.call(", "subprocess.Popen(", "subprocess.check_",
              "pexpect.spawn(", "os.execv", "os.spawn", "os.system(", "os.popen(")  # fmt: skip
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        if path.name != "spawn.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if any(call in line for call in direct)
    ]
    assert offenders == []
