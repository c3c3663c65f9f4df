"""What a run left behind, found by a variable set in the environment of what it started."""

from __future__ import annotations

import time

import docker

from dojo_exec.machines.labels import LABEL_RUN
from dojo_exec.shell import marked_processes


def wait_none_left(mark: str, within: float = 15) -> list[int]:
    """The processes still started under ``mark`` (``NAME=value``) after up to ``within`` s
    (a SIGKILLed process can take seconds to go on a loaded machine; a leak stays)."""
    deadline = time.monotonic() + within
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def labelled(client: docker.DockerClient, run: str) -> list[str]:
    """The containers, volumes and networks labelled with run ``run`` (``$DOJO_RUN``)."""
    label = {"label": f"{LABEL_RUN}={run}"}
    found = [f"container {c.name}" for c in client.containers.list(all=True, filters=label)]
    found += [f"volume {v.name}" for v in client.volumes.list(filters=label)]
    return found + [f"network {n.name}" for n in client.networks.list(filters=label)]
