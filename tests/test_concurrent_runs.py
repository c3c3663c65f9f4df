"""Two runs at once on one engine: neither removes the other's machines nor the shared mirror.

Each round starts two real runs with their own ``$DOJO_RUN`` on small pages in folders of
their own: run X (``dojo-exec verify``) and run Y (``dojo-exec verify``, or the nox
sessions' pytest command every other round).  X makes a machine, pulls through the shared
registry mirror and ends; Y's first step waits until X's teardown has removed X's machine
(the test watches the engine and tells it), then a drawn delay, and creates its machine while
X's teardown goes on to count the machines left and release the mirror; then Y pulls through
the mirror on it.  In a *race* round Y had no machine before: X's was the last machine on the
engine (when no other run has one), so X's teardown removes the mirror while Y's ``create``
starts it, the race the host-wide lock (``dojo_exec/machines/host_lock.py``) settles: either
Y's machine is counted and the mirror kept, or the mirror is removed and Y's create starts it
again; Y's pull fails otherwise.  In an *overlap* round Y made a machine first, which X's
teardown must leave alone, and with it the mirror (no destroy event while it is there).
Every round: both runs pass, and nothing labelled with either run is left.

Delays are drawn from a seeded generator (``DOJO_CONCURRENT_SEED``, printed);
``DOJO_CONCURRENT_ROUNDS`` rounds (default 4).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import docker
import docker.errors
import pytest
from engine import engine_or_skip
from leftovers import labelled

from dojo_exec.machines.labels import LABEL_ROLE, LABEL_RUN, ROLE_NODE
from dojo_exec.machines.mirror import MIRROR_NAME
from dojo_exec.spawn import reset_signals

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("concurrent-runs")]

FENCE = "```"
PULL = f"""{FENCE}sh dojo
eval $(docker-machine env NAME)
docker pull -q alpine >/dev/null && echo pulled
# Result ==>
pulled
{FENCE}
"""
CREATE = f"""{FENCE}sh dojo timeout=300s
WAIT
made=$(docker-machine create -d virtualbox NAME 2>&1) && echo created || echo "$made"
# Result ==>
created
{FENCE}
"""
X_PAGE = "# X\n\n" + CREATE.replace("WAIT\n", "").replace("NAME", "manager1") + "\n"
X_PAGE += PULL.replace("NAME", "manager1") + "\n"
X_PAGE += f'{FENCE}sh dojo\necho >> "$MARKS/x-last"; echo done\n# Result ==>\ndone\n{FENCE}\n'
WAIT_FOR_X = 'while [ ! -e "$MARKS/x-node-gone" ]; do sleep 0.02; done; sleep DELAY'


def y_page(overlap: bool, delay: float) -> str:
    """Y's page: (an early machine,) a machine made ``delay`` s after X's is removed, pulls."""
    page = "# Y\n\n"
    if overlap:
        page += CREATE.replace("WAIT\n", "").replace("NAME", "early") + "\n"
    page += CREATE.replace("WAIT", WAIT_FOR_X.replace("DELAY", f"{delay:.2f}"))
    page = page.replace("NAME", "manager1") + "\n" + PULL.replace("NAME", "manager1")
    if overlap:
        page += "\n" + PULL.replace("NAME", "early")  # X's teardown left it alone
    return page


CLI = [sys.executable, "-m", "dojo_exec.cli", "verify"]
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--dojo-collect"]


def _start(
    folder: Path, page: str, run: str, marks: Path, pytest_run: bool
) -> subprocess.Popen[str]:
    folder.mkdir(parents=True)
    (folder / "page.md").write_text(page)
    command = [*PYTEST, "page.md", "--dojo-transcripts", "runs"] if pytest_run else [
        *CLI, "page.md", "--transcripts", "runs"]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=folder,
        env={**os.environ, "DOJO_RUN": run, "MARKS": str(marks)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=reset_signals,
    )


def _other_nodes(client: docker.DockerClient, ours: set[str]) -> int:
    """Node containers of other runs on the engine (they keep the mirror whatever we do)."""
    found = client.api.containers(all=True, filters={"label": f"{LABEL_ROLE}={ROLE_NODE}"})
    return sum(1 for c in found if (c.get("Labels") or {}).get(LABEL_RUN) not in ours)


def _nodes(client: docker.DockerClient, run: str) -> list[dict[str, object]]:
    labels = [f"{LABEL_RUN}={run}", f"{LABEL_ROLE}={ROLE_NODE}"]
    return list(client.api.containers(all=True, filters={"label": labels}))


def _mirror_actions(client: docker.DockerClient, since: float, until: float) -> list[str]:
    """The mirror container's destroy and start events between ``since`` and ``until``."""
    wait = int(until) + 1
    time.sleep(max(0.0, wait - time.time()))  # whole seconds: wait, so that none is missed
    events = client.events(
        since=int(since),
        until=wait,
        filters={"type": "container", "event": ["destroy", "start"], "container": MIRROR_NAME},
        decode=True,
    )
    return [e["Action"] for e in events if since <= e["timeNano"] / 1e9 <= until]


def test_two_runs_at_once_keep_each_others_machines_and_the_mirror(tmp_path: Path) -> None:
    client = engine_or_skip()
    seed = int(os.environ.get("DOJO_CONCURRENT_SEED") or random.randrange(10**6))
    rounds = int(os.environ.get("DOJO_CONCURRENT_ROUNDS") or 4)
    rng = random.Random(seed)
    print(f"concurrent runs: seed {seed} (DOJO_CONCURRENT_SEED={seed} repeats it), {rounds} rounds")
    races = exercised = restarts = 0
    for number in range(rounds):
        overlap, pytest_run = number % 2 == 1, number % 4 >= 2
        delay = rng.uniform(0, 0.6)
        marks = tmp_path / f"marks{number}"
        marks.mkdir()
        runs = {f"c-conc-{seed}-{number}-{side}" for side in "xy"}
        run_x, run_y = sorted(runs)
        y = _start(tmp_path / f"y{number}", y_page(overlap, delay), run_y, marks, pytest_run)
        x = _start(tmp_path / f"x{number}", X_PAGE, run_x, marks, False)
        try:
            deadline = time.monotonic() + 600
            while not (marks / "x-last").exists() and x.poll() is None:
                assert time.monotonic() < deadline, "run X never reached its last step"
                time.sleep(0.05)
            last_step = time.time()
            while _nodes(client, run_x) and x.poll() is None:  # X's teardown has begun
                assert time.monotonic() < deadline, "run X's machine was never removed"
                time.sleep(0.02)
            (marks / "x-node-gone").touch()  # Y creates now: X is about to count the nodes
            alone = _other_nodes(client, runs) == 0
            out_x, _ = x.communicate(timeout=600)
            x_end, y_alive = time.time(), y.poll() is None
            out_y, _ = y.communicate(timeout=600)
            y_end = time.time()
        finally:
            for process in (x, y):
                if process.poll() is None:
                    os.killpg(process.pid, 9)
                    process.wait()
        shown = f"round {number} (overlap={overlap}, delay {delay:.2f} s)\nX:\n{out_x}\nY:\n{out_y}"
        assert x.returncode == 0, shown
        assert y.returncode == 0, shown
        assert "failed: 0" in out_x and "failed: 0" in out_y, shown
        assert labelled(client, run_x) == [], shown
        assert labelled(client, run_y) == [], shown
        during_x = _mirror_actions(client, last_step, x_end)
        actions = _mirror_actions(client, last_step, y_end)
        restarted = "destroy" in actions and "start" in actions[actions.index("destroy") :]
        if overlap and y_alive:  # Y's early machine was there all along: the mirror stays
            assert "destroy" not in during_x, f"X's teardown removed the mirror Y uses\n{shown}"
        if not overlap:
            races += 1
            exercised += alone
            restarts += restarted
        print(
            f"round {number}: {'overlap' if overlap else 'race'}, Y by "
            f"{'pytest' if pytest_run else 'dojo-exec verify'}, Y's create {delay:.2f} s after "
            f"X's machine went, {'no' if alone else 'some'} other run's machine on the engine, "
            f"mirror {'removed by X, restarted by Y' if restarted else 'kept'}: both passed, "
            "nothing left"
        )
    print(
        f"concurrent runs: {rounds}/{rounds} rounds green; teardown racing a first create in "
        f"{races} rounds, {exercised} with no other run's machine on the engine, {restarts} "
        "where X removed the mirror and Y's create started it again"
    )
