"""``dojo-mesh``, the nodes' routing mesh on a kernel without IPVS, on a real one-node swarm."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from dojo_exec.machines.dind import DindDriver
from dojo_exec.machines.store import Store
from dojo_exec.machines.teardown import leaks, remove_cluster

PROGRAMMED = "published port(s) programmed"


@pytest.fixture
def node(client: docker.DockerClient, tmp_path: Path) -> Iterator[Container]:
    """One embedded machine (stand-ins from the mirror), in a swarm of its own."""
    cluster = f"t-{uuid.uuid4().hex[:8]}"
    store = Store(tmp_path / "machine")
    driver = DindDriver(client, store, cluster)
    try:
        driver.create("m1")
        container = client.containers.get(driver.container_name("m1"))
        if container.exec_run(["test", "-e", "/proc/sys/net/ipv4/vs"]).exit_code == 0:
            pytest.skip("this kernel has IPVS: Docker's own routing mesh runs, not dojo-mesh")
        run(container, "docker", "swarm", "init", "--advertise-addr", driver.ip("m1"))
        yield container
    finally:
        remove_cluster(client, cluster, stores=[store])
        assert leaks(client, cluster, stores=[store]) == []


def run(container: Container, *command: str) -> str:
    code, out = container.exec_run(list(command))
    assert code == 0, f"{' '.join(command)}: {out.decode()}"
    return str(out.decode())


def mesh_log(container: Container) -> list[str]:
    logs = str(container.logs(stderr=True, stdout=False).decode())
    return [line for line in logs.splitlines() if line.startswith("dojo-mesh:")]


def programmed(container: Container) -> int:
    return sum(PROGRAMMED in line for line in mesh_log(container))


def eventually(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.5)


@pytest.mark.docker
def test_a_published_port_is_programmed_once_then_again_when_its_tasks_change(
    node: Container,
) -> None:
    """The engine lists a service's tasks in any order: the same tasks must not read as a
    change (measured before: reprogrammed every second, 58 times in two minutes)."""

    def answers() -> bool:
        code, out = node.exec_run(["curl", "-s", "-m", "2", "http://127.0.0.1:8080/"])
        return code == 0 and bool(out)

    run(node, "docker", "service", "create", "--detach", "--name", "web", "-p", "8080:80",
        "--replicas", "3", "nginx")  # fmt: skip
    eventually("the published port answers", answers, timeout=60)

    def all_running() -> bool:
        states = run(node, "docker", "service", "ps", "web", "--filter", "desired-state=running",
                     "--format", "{{.CurrentState}}")  # fmt: skip
        return states.count("Running") == 3

    eventually("the three tasks running", all_running, timeout=60)
    eventually("the tasks programmed", lambda: programmed(node) >= 1)
    time.sleep(3)  # read every second: the last task's address is programmed by now
    settled = programmed(node)
    time.sleep(8)  # the mesh reads the ingress network every second at first
    assert programmed(node) == settled, mesh_log(node)
    run(node, "docker", "service", "scale", "--detach", "web=4")
    eventually("the fourth task programmed", lambda: programmed(node) > settled)
    assert answers()
