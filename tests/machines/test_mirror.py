"""The dojo mirror: a node configured with DOJO_REGISTRY_MIRROR pulls Docker Hub names from it."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from dojo_exec.machines.mirror import (
    Mirror,
    _host_port,
    _served_image_id,
    ensure_filled_image,
    ensure_mirror,
    filled_image_tag,
    image_source,
    mirror_image_tag,
    registry_reachable,
    remove_mirror,
)
from dojo_exec.machines.node_image import ensure_node_image
from dojo_exec.machines.stand_ins import stand_ins

sys.path.insert(0, str(Path(__file__).parent))
from test_node_image import start_node, wait_for_engine


def quiet(_: str) -> None:
    """Silence build progress in tests."""


@pytest.fixture(scope="module")
def network(client: docker.DockerClient) -> Iterator[str]:
    name = f"dojo-test-net-{uuid.uuid4().hex[:8]}"
    net = client.networks.create(name, driver="bridge", labels={"dojo.managed": "1"})
    try:
        yield name
    finally:
        net.reload()
        for container in net.containers:  # the mirror, if still attached
            net.disconnect(container, force=True)
        net.remove()


@pytest.fixture(scope="module")
def mirror(client: docker.DockerClient, network: str) -> Iterator[tuple[Mirror, float]]:
    name = f"dojo-test-mirror-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    try:
        found = ensure_mirror(client, network, name=name, log=quiet)
        yield found, time.monotonic() - started
    finally:
        remove_mirror(client, name=name)


@pytest.mark.docker
def test_registry_probe_is_bounded(client: docker.DockerClient) -> None:
    started = time.monotonic()
    reachable = registry_reachable(client)
    assert isinstance(reachable, bool)
    assert time.monotonic() - started < 6
    assert image_source(client) == ("docker hub" if reachable else "local stand-ins (dojo mirror)")


@pytest.mark.docker
def test_mirror_is_labelled_and_local(
    client: docker.DockerClient, mirror: tuple[Mirror, float]
) -> None:
    found, _ = mirror
    container = client.containers.get(found.container)
    assert container.labels["dojo.managed"] == "1"
    assert container.labels["dojo.role"] == "mirror"
    bindings = container.attrs["NetworkSettings"]["Ports"]["5000/tcp"]
    assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    assert not container.attrs["Mounts"]  # no volume to outlive it: the stand-ins are in its image
    assert found.url == f"http://{found.container}:5000"


@pytest.mark.docker
def test_mirror_again_is_fast(
    client: docker.DockerClient, network: str, mirror: tuple[Mirror, float]
) -> None:
    found, _ = mirror
    started = time.monotonic()
    again = ensure_mirror(client, network, name=found.container, log=pytest.fail)
    assert again == found
    assert time.monotonic() - started < 1.0


@pytest.mark.docker
def test_node_pulls_through_the_mirror(
    client: docker.DockerClient, network: str, mirror: tuple[Mirror, float]
) -> None:
    """The real proof: a node's `docker pull alpine` and `docker run redis:3.0.7` need no Hub."""
    found, _ = mirror
    image = ensure_node_image(client, log=quiet)
    name = f"dojo-test-node-{uuid.uuid4().hex[:8]}"
    labels = {"dojo.managed": "1", "dojo.role": "test"}
    volume = client.volumes.create(f"{name}-docker", labels=labels)
    container = None
    try:
        container = start_node(
            client,
            image,
            name,
            labels=labels,
            volumes={volume.name: {"bind": "/var/lib/docker", "mode": "rw"}},
            environment={"DOJO_REGISTRY_MIRROR": found.url},
            network=network,
        )
        wait_for_engine(container)
        code, out = container.exec_run(["docker", "pull", "alpine"])
        assert code == 0, out.decode()
        assert b"docker.io/library/alpine:latest" in out
        code, out = container.exec_run(
            ["docker", "run", "--rm", "alpine", "sh", "-c", "ping -c1 127.0.0.1"]
        )
        assert code == 0 and b"1 packets received" in out, out.decode()
        code, out = container.exec_run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", "alpine:latest"]
        )
        assert out.decode().strip() == client.images.get("alpine:latest").id
        code, out = container.exec_run(["docker", "pull", "redis:3.0.7"])
        assert code == 0, out.decode()
    finally:
        if container is not None:
            container.remove(force=True, v=True)
        volume.remove(force=True)


@pytest.mark.docker
def test_a_mirror_starts_serving_every_stand_in_without_pushing(
    client: docker.DockerClient, network: str
) -> None:
    """Started from the filled image, a new mirror pushes nothing: each stand-in it serves is
    the local image (same image id), so a run's first machine does not wait for pushes."""
    ensure_filled_image(client, log=quiet)
    name = f"dojo-test-mirror-{uuid.uuid4().hex[:8]}"
    said: list[str] = []
    try:
        ensure_mirror(client, network, name=name, log=said.append)
        assert not [line for line in said if "pushed" in line], said
        port = _host_port(client.containers.get(name))
        for stand_in in stand_ins():
            assert _served_image_id(port, stand_in.ref) == client.images.get(stand_in.ref).id
    finally:
        remove_mirror(client, name=name)


@pytest.mark.docker
def test_the_filled_image_follows_the_stand_ins(
    client: docker.DockerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in added (a project's recipe, built) names another fill; one not built does not."""
    base = mirror_image_tag()
    before = filled_image_tag(client, base)
    name = f"dojotestfill{uuid.uuid4().hex[:8]}"
    (tmp_path / f"Dockerfile.{name}").write_text("FROM busybox:latest\n")
    monkeypatch.setenv("DOJO_STAND_INS", str(tmp_path))
    assert filled_image_tag(client, base) == before  # not built: nothing to serve
    client.images.get("busybox:latest").tag(name, "latest")
    try:
        assert filled_image_tag(client, base) != before
    finally:
        client.images.remove(f"{name}:latest")
    assert filled_image_tag(client, base) == before
