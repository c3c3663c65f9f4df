"""A node removed while a step waits on its swarm: the run fails clearly and leaves nothing.

``dojo-exec verify`` runs a page on an embedded swarm (a manager and a worker) in a real
subprocess; while a ``wait=`` step polls ``docker service ps``, the test removes the worker's
container, as a VM that dies or is deleted.  The step fails within its limit, its failure report
names the machine and shows the swarm's state, the page's later steps still run, and nothing
labelled with the run is left afterwards (``dojo-exec leaks``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import docker
import pytest
from engine import engine_or_skip

from dojo_exec.machines.labels import LABEL_MACHINE, LABEL_RUN

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("node-killed")]

WAIT = 60
PAGE = f"""# A node dies

```sh dojo hidden
for name in manager1 worker1; do  # quiet, unless create fails: then why
  docker-machine create -d virtualbox $name >"$MARKS/$name.log" 2>&1 || cat "$MARKS/$name.log"
done
eval $(docker-machine env manager1)
docker swarm init --advertise-addr $(docker-machine ip manager1) >/dev/null
docker-machine ssh worker1 docker swarm join --token $(docker swarm join-token -q worker) \\
  $(docker-machine ip manager1):2377
# Result ==>
This node joined a swarm as a worker.
```

```sh dojo
docker service create -d --name web --replicas 2 --constraint node.role==worker \\
  alpine ping docker.com >/dev/null
```

```sh dojo wait={WAIT}s check="3 rows where CURRENT STATE ~ Running"
touch "$MARKS/waiting"
docker service ps web
```

```sh dojo
echo after
# Result ==>
after
```
"""


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    return engine_or_skip()


def _machine(
    client: docker.DockerClient, run: str, name: str
) -> list[docker.models.containers.Container]:
    return client.containers.list(
        all=True, filters={"label": [f"{LABEL_RUN}={run}", f"{LABEL_MACHINE}={name}"]}
    )


@pytest.mark.parametrize("victim", ["worker1", "manager1"])
def test_a_node_removed_while_a_step_waits(
    client: docker.DockerClient, tmp_path: Path, victim: str
) -> None:
    run = f"h4-kill-{uuid.uuid4().hex[:6]}"
    (tmp_path / "page.md").write_text(PAGE)
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "DOJO_RUN": run, "MARKS": str(marks)}
    command = [sys.executable, "-m", "dojo_exec.cli", "verify", "page.md"]
    command += ["--transcripts", "runs"]
    runner = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 900
        while not (marks / "waiting").exists():
            assert runner.poll() is None, runner.communicate()[0]
            assert time.monotonic() < deadline, "the waiting step never started"
            time.sleep(0.5)
        time.sleep(3)
        found = _machine(client, run, victim)
        assert len(found) == 1, found
        killed = time.monotonic()
        found[0].remove(force=True, v=True)
        output, _ = runner.communicate(timeout=600)
        ended = time.monotonic()
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        left_over = subprocess.run(
            [sys.executable, "-m", "dojo_exec.cli", "leaks", "--fail"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        subprocess.run(
            [sys.executable, "-m", "dojo_exec.cli", "down", "--run", run],
            env=env,
            capture_output=True,
            timeout=300,
        )
    print(output)
    assert runner.returncode == 1, output
    failure = output[output.index("page.md:") :]
    assert re.search(r"page\.md:\d+: step failed after \d+ attempts", output), output
    assert "swarm state:" in failure, output
    state = failure[failure.index("swarm state:") :]
    if victim == "worker1":  # the swarm's manager sees its worker go
        assert re.search(r"\sworker1\s+Down\s", state), state
    # each machine's own view of the swarm, and what stops the victim from giving it
    survivor = "manager1" if victim == "worker1" else "worker1"
    assert re.search(rf"^\s*{survivor}: swarm \w+", state, re.MULTILINE), state
    assert re.search(rf"^\s*{victim}: (?!swarm).*\S", state, re.MULTILINE), state
    machine = re.compile(rf"^\s*{victim}\s+[-*]\s+\S+\s+Error\b.*not found", re.MULTILINE)
    assert machine.search(state), state  # the machine named, as docker-machine sees it
    assert "steps: 4  passed: 3  failed: 1" in output, output  # `echo after` still ran
    # the step ends within its limit: the wait, plus one attempt and the diagnostics
    assert ended - killed < WAIT + 60, f"{ended - killed:.0f} s after the node was removed"
    assert left_over.returncode == 0, left_over.stdout + left_over.stderr
    assert client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run}"}) == []
    assert client.networks.list(filters={"label": f"{LABEL_RUN}={run}"}) == []
    assert client.volumes.list(filters={"label": f"{LABEL_RUN}={run}"}) == []
    print(
        f"node killed ({victim}): the step failed {ended - killed:.0f} s after the removal "
        f"(wait={WAIT}s), the page went on, objects left: 0"
    )
