"""The stand-ins for alpine and redis: small, honest about what they are, behaving like the real."""

from __future__ import annotations

import time

import docker
import docker.errors
import pytest

from dojo_exec.machines.stand_ins import STAND_INS, describe, ensure_stand_ins, stand_in_status


@pytest.fixture(scope="module")
def stand_ins(client: docker.DockerClient) -> list[str]:
    return ensure_stand_ins(client, log=lambda _: None)


def run(client: docker.DockerClient, image: str, command: list[str]) -> str:
    container = client.containers.create(image, command, labels={"dojo.managed": "1"})
    try:
        container.start()
        assert container.wait(timeout=30)["StatusCode"] == 0, container.logs()
        return bytes(container.logs()).decode()
    finally:
        container.remove(force=True, v=True)


def test_recipe_hash_differs_per_tag() -> None:
    hashes = {stand_in.recipe_hash() for stand_in in STAND_INS}
    assert len(hashes) == len(STAND_INS)
    refs = [s.ref for s in STAND_INS]
    assert refs[:4] == ["alpine:latest", "busybox:latest", "nginx:latest", "httpd:latest"]
    assert refs[4:] == ["redis:latest", "redis:3.0.6", "redis:3.0.7"]


@pytest.mark.docker
def test_all_are_built_and_current(client: docker.DockerClient, stand_ins: list[str]) -> None:
    assert stand_ins == [s.ref for s in STAND_INS]
    for stand_in in STAND_INS:
        assert stand_in_status(client, stand_in) == "current"
    messages: list[str] = []
    ensure_stand_ins(client, log=messages.append)
    assert not any("building" in message for message in messages)  # nothing to rebuild


@pytest.mark.docker
def test_labels_say_what_they_are(client: docker.DockerClient, stand_ins: list[str]) -> None:
    for ref in stand_ins:
        labels = client.images.get(ref).labels
        assert labels["dojo.stand-in"] == "true"
        assert labels["dojo.managed"] == "1"
        assert labels["dojo.stand-in.of"] == ref
        assert labels["dojo.stand-in.from"].startswith("debian bookworm ")
    assert "busybox-static 1:" in describe(client, "alpine:latest")


@pytest.mark.docker
def test_alpine_pings(client: docker.DockerClient, stand_ins: list[str]) -> None:
    out = run(client, "alpine", ["sh", "-c", "ping -c1 127.0.0.1 && wget --help 2>&1 | head -1"])
    assert "1 packets received" in out
    assert "BusyBox" in out
    image = client.images.get("alpine:latest")
    assert image.attrs["Size"] < 5_000_000


@pytest.mark.docker
def test_redis_versions_differ(client: docker.DockerClient, stand_ins: list[str]) -> None:
    old, new = client.images.get("redis:3.0.6"), client.images.get("redis:3.0.7")
    assert old.id != new.id
    for image in (old, new):
        assert image.attrs["Config"]["Cmd"] == ["redis-server", "--protected-mode", "no"]
        assert "6379/tcp" in image.attrs["Config"]["ExposedPorts"]
        assert image.attrs["Size"] < 50_000_000
    assert "Redis server v=" in run(client, "redis:3.0.7", ["redis-server", "--version"])


@pytest.mark.docker
def test_redis_serves(client: docker.DockerClient, stand_ins: list[str]) -> None:
    container = client.containers.run("redis:3.0.6", detach=True, labels={"dojo.managed": "1"})
    try:
        for _ in range(50):
            container.reload()
            if b"Ready to accept connections" in container.logs():
                break
            assert container.status in ("created", "running"), container.logs()
            time.sleep(0.1)
        assert b"Ready to accept connections" in container.logs()
    finally:
        container.remove(force=True, v=True)
