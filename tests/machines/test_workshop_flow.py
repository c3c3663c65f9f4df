"""The workshop's own commands, typed in a real bash with the ``docker-machine`` shim on PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import docker
import docker.errors
import pytest

from dojo_exec.machines.cli import install_shim
from dojo_exec.machines.store import Store
from dojo_exec.machines.teardown import leaks, remove_cluster

pytestmark = pytest.mark.docker


class Bash:
    """Runs command lines in bash with the shim first on PATH and a private cluster/store."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, line: str, *, ok: bool = True, timeout: float = 180) -> str:
        done = subprocess.run(
            ["bash", "-c", line],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if ok:
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        self.last = done
        return done.stdout


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    try:
        engine = docker.from_env()
        engine.ping()
    except docker.errors.DockerException as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Docker engine: {error}")
    return engine


@pytest.fixture(scope="module")
def workshop(
    client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Bash, str, Store]]:
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is needed on the host")
    root = tmp_path_factory.mktemp("workshop")
    cluster = f"w-{uuid.uuid4().hex[:8]}"
    shim_dir = root / "bin"
    install_shim(shim_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(
        PATH=f"{shim_dir}{os.pathsep}{env['PATH']}",
        DOJO_CLUSTER=cluster,
        MACHINE_STORAGE_PATH=str(root / "machine"),
    )
    store = Store(root / "machine")
    yield Bash(env), cluster, store
    remove_cluster(client, cluster, stores=[store])


def test_workshop_swarm(workshop: tuple[Bash, str, Store], client: docker.DockerClient) -> None:
    sh, cluster, store = workshop
    out = sh("docker-machine create --driver virtualbox manager1")
    assert "Docker is up and running!" in out
    assert out.rstrip().endswith(
        "To see how to connect your Docker Client to the Docker Engine running on this virtual "
        "machine, run: docker-machine env manager1"
    )
    assert "embedded driver: running as a Docker-in-Docker container instead of virtualbox" in (
        sh.last.stderr
    )
    sh(
        "docker-machine create --driver virtualbox worker1 & one=$!; "
        "docker-machine create --driver virtualbox worker2 & two=$!; wait $one && wait $two"
    )
    ls = sh("docker-machine ls").splitlines()
    assert ls[0].split() == [
        "NAME",
        "ACTIVE",
        "DRIVER",
        "STATE",
        "URL",
        "SWARM",
        "DOCKER",
        "ERRORS",
    ]
    rows = [row.split() for row in ls[1:]]
    assert [row[0] for row in rows] == ["manager1", "worker1", "worker2"]
    assert all(row[2:4] == ["embedded", "Running"] for row in rows)
    assert all(
        re.fullmatch(r"tcp://[\d.]+:2376", row[4]) and row[5].startswith("v") for row in rows
    )

    init = sh(
        "docker-machine ssh manager1 docker swarm init "
        "--advertise-addr $(docker-machine ip manager1)"
    )
    assert "Swarm initialized: current node" in init
    for worker in ("worker1", "worker2"):
        joined = sh(
            f"docker-machine ssh {worker} docker swarm join --token "
            "$(docker-machine ssh manager1 docker swarm join-token -q worker) "
            "$(docker-machine ip manager1):2377"
        )
        assert "This node joined a swarm as a worker." in joined

    env_text = sh("docker-machine env manager1")
    assert f'export DOCKER_CERT_PATH="{store.machine_dir("manager1")}"' in env_text
    assert env_text.endswith("# eval $(docker-machine env manager1)\n")
    nodes = sh("eval $(docker-machine env manager1) && docker node ls").splitlines()
    assert len(nodes) == 4
    assert all(" Ready " in line for line in nodes[1:])
    assert sh("eval $(docker-machine env manager1) && docker-machine active") == "manager1\n"
    assert " * " in sh("eval $(docker-machine env manager1) && docker-machine ls")

    # the image comes through the mirror (no registry is reachable here)
    config = store.load("manager1")
    assert config.registry_mirrors, "nodes were created without a registry mirror"
    sh(
        "eval $(docker-machine env manager1) && "
        "docker service create --replicas 1 --name helloworld alpine ping localhost",
        timeout=300,
    )
    sh("eval $(docker-machine env manager1) && docker service scale helloworld=5", timeout=300)
    services = sh("eval $(docker-machine env manager1) && docker service ls")
    assert re.search(r"helloworld\s+replicated\s+5/5\s+alpine:latest", services), services
    digest = sh(
        "eval $(docker-machine env manager1) && docker service inspect helloworld "
        "--format '{{.Spec.TaskTemplate.ContainerSpec.Image}}'"
    )
    assert digest.startswith("alpine:latest@sha256:")

    # stop / start / status, and ssh exit codes
    assert sh("docker-machine status worker2") == "Running\n"
    assert sh("docker-machine stop worker2") == (
        'Stopping "worker2"...\nMachine "worker2" was stopped.\n'
    )
    assert sh("docker-machine status worker2") == "Stopped\n"
    sh("docker-machine ip worker2", ok=False)
    assert sh.last.returncode == 1
    assert sh.last.stderr == "Error getting IP address: Host is not running\n"
    assert sh("docker-machine start worker2").startswith('Starting "worker2"...\n')
    assert sh("docker-machine status worker2") == "Running\n"
    sh("docker-machine ssh worker1 'exit 42'", ok=False)
    assert sh.last.returncode == 42
    sh("docker-machine ssh worker1 docker service ls", ok=False)
    assert sh.last.returncode == 1
    assert "This node is not a swarm manager" in sh.last.stderr

    # teardown as the workshop ends
    out = sh("docker-machine rm -y manager1 worker1 worker2")
    assert out.splitlines()[0] == "About to remove manager1, worker1, worker2"
    assert sorted(out.splitlines()[2:]) == [
        "Successfully removed manager1",
        "Successfully removed worker1",
        "Successfully removed worker2",
    ]
    assert leaks(client, cluster, stores=[store]) == []
    assert sh("docker-machine ls -q") == ""
