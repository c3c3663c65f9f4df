"""Steps that hang: each ends at its timeout with what it printed, the page goes on (or stops
cleanly), and nothing they started is left once the page's shell is closed.

Leftovers are found by a variable unique to the test in the environment of what was started
(the way :func:`dojo_exec.shell.kill_marked` finds them), never by a process name.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from leftovers import wait_none_left

from dojo_exec.shell import Shell, marked_processes

MARK = "DOJO_HUNG_TEST"

KINDS: dict[str, tuple[str, str, bool, bool]] = {
    # name: (step, what it prints, whether it times out, whether it leaves a process running)
    "never ends": ("echo start; sleep 1001", "start", True, False),
    "waits for a line": ("echo asking; read x; echo got $x", "asking", True, False),
    "waits for input (cat)": ("echo asking; cat", "asking", True, False),
    "daemon from a subshell": ("(sleep 1002 &); echo sub", "sub", False, True),
    "nohup daemon": ("nohup sleep 1003 > /dev/null 2>&1 & echo nohup", "nohup", False, True),
    "setsid daemon": ("setsid sleep 1004 & echo setsid", "setsid", False, True),
    "double fork out of the session": (
        "setsid sh -c 'sleep 1005 &' > /dev/null 2>&1 < /dev/null & echo detached",
        "detached",
        False,
        True,
    ),
    "daemon ignoring HUP, INT, TERM": (
        "(trap '' HUP INT TERM; setsid sleep 1006 &); echo stubborn",
        "stubborn",
        False,
        True,
    ),
    "daemon holding a command substitution": (
        "echo waiting; x=$(sleep 1007 & echo daemon); echo $x",
        "waiting",
        True,
        True,
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_hung_step_times_out_the_next_runs_and_nothing_is_left(kind: str) -> None:
    step, printed, times_out, leaves = KINDS[kind]
    mark = f"{MARK}={uuid.uuid4().hex}"
    shell = Shell(name="hung", env={**os.environ, MARK: mark.split("=")[1]}, interrupt_grace=2)
    try:
        started = time.monotonic()
        run = shell.run(step, 1)
        assert time.monotonic() - started < 6
        assert run.timed_out is times_out, run
        assert not run.shell_died, run
        assert printed in run.output.splitlines(), run
        assert shell.run("echo next", 5).output == "next"  # no job notice, no stray output
        if leaves:
            assert marked_processes(mark), "the daemon should still be running before close"
    finally:
        shell.close()
    assert wait_none_left(mark) == []


PAGE = """# Hung

```sh dojo timeout=1s
echo start; sleep 1001
```

```sh dojo timeout=1s
echo asking; read x; echo got $x
```

```sh dojo timeout=1s
echo asking; cat
```

```sh dojo
(sleep 1002 &); nohup sleep 1003 > /dev/null 2>&1 &
setsid sleep 1004 & echo daemons
```

```sh dojo timeout=1s
echo waiting; x=$(sleep 1007 & echo daemon); echo $x
```

```sh dojo
echo next
# Result ==>
next
```

```sh dojo timeout=1s
sh -c 'trap "" INT; echo stubborn; sleep 1009'
```

```sh dojo
echo unreachable
```
"""


def test_a_page_of_hung_steps_reports_each_and_goes_on_or_stops_cleanly(tmp_path: Path) -> None:
    (tmp_path / "hung.md").write_text(PAGE)
    mark = f"{MARK}={uuid.uuid4().hex}"
    verify = ["verify", "hung.md", "--", "--dojo-driver", "none"]
    done = subprocess.run(
        [sys.executable, "-m", "dojo_exec.cli", *verify],
        cwd=tmp_path,
        env={**os.environ, MARK: mark.split("=")[1]},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    for line, printed in ((3, "start"), (7, "asking"), (11, "asking"), (20, "waiting")):
        assert f"hung.md:{line}: step timeout" in out, out
        assert f"hung.md:{line}: step timeout\ncommand:" in out
        report = out.split(f"hung.md:{line}: step timeout", 1)[1]
        assert f"captured (exit None):\n    {printed}\n" in report, report
    assert "hung.md:24" not in out  # `echo next` passed, in the same shell
    stubborn = out.split("hung.md:30: step timeout", 1)[1]
    assert "captured (exit None):\n    stubborn\n" in stubborn, out
    assert "not run: the page's shell did not survive hung.md:30" in out  # stopped cleanly
    assert "steps: 8  passed: 2  failed: 6" in out, out
    assert wait_none_left(mark) == []
