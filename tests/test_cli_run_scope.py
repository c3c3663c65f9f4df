"""``dojo-exec leaks --run RUN`` and ``down --run RUN`` act on RUN, whatever ``$DOJO_RUN`` says.

Before: ``leaks`` crashed on every call (it read an option it did not define) and ``down --run
RUN`` ignored RUN (without ``$DOJO_RUN`` it removed every run's machines).  A volume labelled
as run RUN's stands for what a run leaves; ``$DOJO_RUN`` is set to another run, so that a
``down`` that ignored ``--run`` would remove nothing rather than everything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from engine import engine_or_skip

from dojo_exec.machines.labels import LABEL_CLUSTER, LABEL_MANAGED, LABEL_RUN

pytestmark = pytest.mark.docker


def _cli(*args: str, run: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dojo_exec.cli", *args],
        env={**os.environ, "DOJO_RUN": run},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_leaks_and_down_with_run_act_on_that_run_only() -> None:
    client = engine_or_skip()
    run, other = f"h4-scope-{uuid.uuid4().hex[:6]}", f"h4-other-{uuid.uuid4().hex[:6]}"
    labels = {LABEL_MANAGED: "1", LABEL_RUN: run, LABEL_CLUSTER: f"s{uuid.uuid4().hex[:8]}"}
    volume = client.volumes.create(f"dojo-{run}-left", labels=labels)
    try:
        found = _cli("leaks", "--run", run, "--fail", run=other)
        assert found.returncode == 1, found.stdout + found.stderr
        assert f"volume {volume.name}" in found.stdout
        assert _cli("leaks", "--fail", run=other).returncode == 0  # the other run left nothing
        removed = _cli("down", "--run", run, run=other)
        assert removed.returncode == 0, removed.stderr
        assert f"removed volume {volume.name}" in removed.stdout, removed.stdout
        assert client.volumes.list(filters={"label": f"{LABEL_RUN}={run}"}) == []
    finally:
        for left in client.volumes.list(filters={"label": f"{LABEL_RUN}={run}"}):
            left.remove(force=True)
