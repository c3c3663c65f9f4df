"""A cluster's reaper: removes the cluster when the process that made it dies without doing so.

An interrupted run removes its clusters itself (:mod:`dojo_exec.interrupts`), but a process
can die with no chance to: SIGKILL, the OOM killer, or an xdist worker that pytest-xdist
kills (or that execnet ends with ``os._exit``) a few seconds after its controller was
interrupted, while its page's cluster is still being torn down.  So each cluster with
embedded machines gets a reaper at creation: a small process in a session of its own (no
Ctrl-C or hang-up of the run's terminal reaches it) that waits for its parent to go.  When
the cluster's folder is removed first (a normal teardown) it exits; when the parent dies
first, it kills what the page started (every process whose environment names the cluster),
removes the cluster's containers, volumes and network, and its folder, then exits.

    python -m dojo_exec.reaper CLUSTER ROOT DRIVER    (started by :func:`start_reaper`)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POLL = 0.2


def start_reaper(cluster: str, root: Path, driver: str) -> subprocess.Popen[bytes]:
    """Start the reaper of ``cluster`` (folder ``root``) as a child of this process."""
    from dojo_exec import spawn

    env = {key: value for key, value in os.environ.items() if key != "DOJO_CLUSTER"}
    return spawn.popen(
        [sys.executable, "-m", "dojo_exec.reaper", cluster, str(root), driver],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def stop_reaper(reaper: subprocess.Popen[bytes]) -> None:
    """End a reaper whose cluster was torn down (it would notice within :data:`POLL` s)."""
    if reaper.poll() is None:
        reaper.terminate()
    try:
        reaper.wait(timeout=10)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait()


def reap(cluster: str, root: Path, driver: str) -> None:
    """Remove what is left of ``cluster``: its processes, machines and folder."""
    from dojo_exec.cluster import Cluster
    from dojo_exec.shell import kill_marked

    kill_marked(f"DOJO_CLUSTER={cluster}")
    Cluster(name=cluster, root=root, driver=driver).teardown()  # the folder too


def main(argv: list[str]) -> int:
    cluster, root, driver = argv[0], Path(argv[1]), argv[2]
    parent = os.getppid()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # its cluster was torn down
    while os.getppid() == parent:
        if not root.exists():
            return 0
        time.sleep(POLL)
    if root.exists():
        reap(cluster, root, driver)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
