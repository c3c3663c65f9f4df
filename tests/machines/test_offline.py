"""Offline, the reader's commands work unchanged: real names, any tag, VirtualBox addresses.

A 3-machine cluster made by the ``docker-machine`` shim in a real bash, on the real engine, with
the stand-ins forced (``DOJO_OFFLINE=1``, so it runs the same where a registry is reachable).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from dojo_exec.machines.cli import install_shim
from dojo_exec.machines.labels import LABEL_CLUSTER
from dojo_exec.machines.stand_ins import LABEL_ABSENT_TAGS
from dojo_exec.machines.store import Store, object_name
from dojo_exec.machines.teardown import remove_cluster

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("offline-cluster")]  # one shared cluster
MACHINES = ("manager1", "worker1", "worker2")
PROJECT_RECIPE = """\
ARG BASE
FROM busybox:latest
LABEL dojo.stand-in.absent-tags="0.0"
CMD ["echo", "hello from a project stand-in"]
"""


class Bash:
    """Command lines in bash with the shim first on PATH and a private cluster and store."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, line: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", line],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def __call__(self, line: str, timeout: float = 120) -> str:
        done = self.run(line, timeout)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def until(self, line: str, expected: str, timeout: float = 60) -> str:
        """Run ``line`` until its output contains ``expected`` (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            done = self.run(line, timeout=30)
            if done.returncode == 0 and expected in done.stdout:
                return done.stdout
            if time.monotonic() > deadline:
                raise AssertionError(f"{line}: no {expected!r} in {timeout:.0f} s:\n{done}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def cluster(
    client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Bash, str]]:
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is needed on the host")
    root = tmp_path_factory.mktemp("offline")
    name = f"o-{uuid.uuid4().hex[:8]}"
    install_shim(root / "bin")
    recipes = root / "stand-ins"
    recipes.mkdir()
    (recipes / "Dockerfile.dojo-hello").write_text(PROJECT_RECIPE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(
        PATH=f"{root / 'bin'}{os.pathsep}{env['PATH']}",
        DOJO_CLUSTER=name,
        DOJO_OFFLINE="1",
        DOJO_STAND_INS=str(recipes),
        MACHINE_STORAGE_PATH=str(root / "machine"),
    )
    sh = Bash(env)
    try:
        for machine in MACHINES:
            sh(f"docker-machine create --driver virtualbox {machine}", timeout=600)
        yield sh, name
    finally:
        remove_cluster(client, name, stores=[Store(root / "machine")])
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove("dojo-hello:latest")


def test_ping_docker_com_on_a_node(cluster: tuple[Bash, str]) -> None:
    sh, _ = cluster
    out = sh("docker-machine ssh manager1 ping -c 1 docker.com")
    assert "1 received" in out
    page = sh("docker-machine ssh worker1 wget -qO- http://www.docker.com/")
    assert "dojo stand-in for the internet" in page


def test_a_container_on_a_node_resolves_and_pings(cluster: tuple[Bash, str]) -> None:
    sh, _ = cluster
    out = sh("docker-machine ssh worker2 docker run --rm busybox:1.36 ping -c 1 docker.com")
    assert "1 packets received" in out


def test_swarm_on_virtualbox_addresses(cluster: tuple[Bash, str]) -> None:
    sh, _ = cluster
    out = sh("docker-machine ssh manager1 docker swarm init --advertise-addr 192.168.99.100")
    token = re.search(r"--token (\S+) 192\.168\.99\.100:2377", out)
    assert token, out
    for worker in MACHINES[1:]:
        joined = sh(
            f"docker-machine ssh {worker} docker swarm join --token {token[1]} 192.168.99.100:2377"
        )
        assert "This node joined a swarm as a worker." in joined
    nodes = sh("docker-machine ssh manager1 docker node ls")
    assert nodes.count(" Ready ") == 3, nodes
    addresses = sh(
        "docker-machine ssh manager1 \"docker node inspect --format '{{.Status.Addr}}' "
        + " ".join(MACHINES)
        + '"'
    )
    assert addresses.split() == ["192.168.99.100", "192.168.99.101", "192.168.99.102"]
    ip = sh("docker-machine ip manager1").strip()
    assert ip != "192.168.99.100"
    socket.create_connection((ip, 2376), timeout=5).close()  # the host reaches `ip`


def manager_ready(sh: Bash, client: docker.DockerClient, cluster: str, timeout: float = 60) -> None:
    """Wait until manager1 answers as an active manager; on timeout, say why (engine log tail).

    The swarm is made by the test before; these tests share one cluster only when xdist keeps
    their group on one worker (pytest 9 broke that: the project pins pytest below 9).
    """
    try:
        sh.until(
            "docker-machine ssh manager1 docker info --format '{{.Swarm.ControlAvailable}}'",
            "true",
            timeout,
        )
    except AssertionError as error:
        container = client.containers.get(object_name(cluster, "manager1"))
        log = container.logs(tail=40).decode(errors="replace")
        raise AssertionError(f"{error}\nmanager1's engine log (last 40 lines):\n{log}") from None


def test_nginx_any_tag_answers_through_the_routing_mesh(
    cluster: tuple[Bash, str], client: docker.DockerClient
) -> None:
    sh, name = cluster
    manager_ready(sh, client, name)
    sh("docker-machine ssh manager1 docker service create -d --name web -p 8080:80 nginx:1.27")
    sh.until(
        "docker-machine ssh manager1 docker service ps web --filter desired-state=running",
        " Running ",
    )
    ip = sh("docker-machine ip worker2").strip()
    page = sh.until(f"docker-machine ssh worker1 wget -qO- -T 2 http://{ip}:8080", "nginx")
    assert "Welcome to nginx!" in page and "dojo stand-in" in page
    image = sh(
        "docker-machine ssh manager1 docker service inspect "
        "--format '{{.Spec.TaskTemplate.ContainerSpec.Image}}' web"
    )
    assert image.startswith("nginx:1.27@sha256:")


def test_redis_any_tag_runs_redis(cluster: tuple[Bash, str]) -> None:
    sh, _ = cluster
    out = sh("docker-machine ssh worker1 docker pull redis:7.4.1")
    assert "docker.io/library/redis:7.4.1" in out
    sh("docker-machine ssh worker1 docker run -d --name redis74 -p 6379:6379 redis:7.4.1")
    assert sh.until("docker-machine ssh worker1 docker exec redis74 redis-cli ping", "PONG")
    labels = sh(
        "docker-machine ssh worker1 \"docker image inspect --format '{{json .Config.Labels}}' "
        'redis:7.4.1"'
    )
    assert '"dojo.stand-in":"true"' in labels and '"dojo.stand-in.of":"redis:latest"' in labels


def test_a_tag_that_does_not_exist_is_not_served(cluster: tuple[Bash, str]) -> None:
    sh, _ = cluster
    done = sh.run("docker-machine ssh worker2 docker pull redis:3.0.8", timeout=120)
    assert done.returncode != 0, done.stdout


def test_a_project_stand_in_serves_any_tag(cluster: tuple[Bash, str]) -> None:
    sh, _ = cluster
    out = sh("docker-machine ssh worker2 docker run --rm dojo-hello:2.5")
    assert "hello from a project stand-in" in out
    done = sh.run("docker-machine ssh worker2 docker pull dojo-hello:0.0")
    assert done.returncode != 0  # listed in its own dojo.stand-in.absent-tags label
    assert LABEL_ABSENT_TAGS in PROJECT_RECIPE


def test_the_internet_goes_with_the_last_machine(
    cluster: tuple[Bash, str], client: docker.DockerClient
) -> None:
    sh, name = cluster
    internet = client.containers.list(filters={"label": f"{LABEL_CLUSTER}={name}"})
    assert f"dojo-{name}_internet" in [c.name for c in internet]
    sh(f"docker-machine rm -y {' '.join(MACHINES)}", timeout=180)
    left = client.containers.list(all=True, filters={"label": f"{LABEL_CLUSTER}={name}"})
    assert left == []
    assert client.networks.list(names=[f"dojo-{name}"]) == []


def test_project_recipes_are_found(tmp_path: Path) -> None:
    from dojo_exec.machines.stand_ins import project_stand_ins, stand_ins

    (tmp_path / "Dockerfile.nginx").write_text("FROM busybox:latest\n")
    (tmp_path / "Dockerfile.postgres").write_text("FROM busybox:latest\n")
    (tmp_path / "notes.md").write_text("not a recipe")
    found = project_stand_ins({"DOJO_STAND_INS": str(tmp_path)})
    assert [s.ref for s in found] == ["nginx:latest", "postgres:latest"]
    refs = [s.ref for s in stand_ins({"DOJO_STAND_INS": str(tmp_path)})]
    assert refs.count("nginx:latest") == 1 and "redis:3.0.6" in refs
    nginx = next(s for s in stand_ins({"DOJO_STAND_INS": str(tmp_path)}) if s.ref == "nginx:latest")
    assert nginx.context == tmp_path.resolve()
