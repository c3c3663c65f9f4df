"""Teardown by label: Ctrl-C or a kill in the middle of ``create`` leaves only what it can find."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from dojo_exec.machines.store import Store
from dojo_exec.machines.teardown import leaks, remove_cluster

pytestmark = pytest.mark.docker


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


@pytest.fixture
def cluster(client: docker.DockerClient, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    name = f"t-{uuid.uuid4().hex[:8]}"
    store = Store(tmp_path / "machine")
    yield name, store
    remove_cluster(client, name, stores=[store])


def _create(cluster: str, store: Store, name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DOJO_CLUSTER": cluster,
        "MACHINE_STORAGE_PATH": str(store.root),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "dojo_exec.machines.cli", "create", "-d", "virtualbox", name],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_container(client: docker.DockerClient, cluster: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.api.containers(all=True, filters={"label": f"dojo.cluster={cluster}"}):
            return
        time.sleep(0.01)
    raise AssertionError("create made no container")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_create_is_found_and_removed(
    client: docker.DockerClient, cluster: tuple[str, Store], sig: signal.Signals
) -> None:
    name, store = cluster
    process = _create(name, store, "m1")
    _wait_for_container(client, name)
    process.send_signal(sig)
    process.wait(timeout=60)
    left = leaks(client, name, stores=[store])
    if sig == signal.SIGINT:  # Ctrl-C: create cleans up after itself (the network may stay)
        assert [leak for leak in left if not leak.startswith("network")] == []
    assert all(name in leak or str(store.root) in leak for leak in left)
    removed = remove_cluster(client, name, stores=[store])
    assert set(removed) >= set(left)
    assert leaks(client, name, stores=[store]) == []
    assert not store.exists("m1")


def test_remove_cluster_removes_machines_and_dirs(
    client: docker.DockerClient, cluster: tuple[str, Store]
) -> None:
    name, store = cluster
    processes = [_create(name, store, machine) for machine in ("a1", "a2")]
    assert [p.wait(timeout=120) for p in processes] == [0, 0]
    assert store.names() == ["a1", "a2"]
    removed = remove_cluster(client, name, stores=[store])
    assert f"network dojo-{name}" in removed
    assert f"container dojo-{name}-a1" in removed
    assert store.names() == []
    assert leaks(client, name, stores=[store]) == []
