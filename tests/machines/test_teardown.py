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
    """Start ``create`` in the background; its stderr goes to ``create-<name>.err``."""
    env = {
        **os.environ,
        "DOJO_CLUSTER": cluster,
        "MACHINE_STORAGE_PATH": str(store.root),
    }
    with (store.root.parent / f"create-{name}.err").open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "dojo_exec.machines.cli", "create", "-d", "virtualbox", name],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def _wait_for_container(
    client: docker.DockerClient, cluster: str, status: str, timeout: float = 60
) -> None:
    """Wait until the cluster has a container (``created``) or a running one (``running``)."""
    filters = {"label": f"dojo.cluster={cluster}"}
    if status == "running":
        filters["status"] = "running"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.api.containers(all=True, filters=filters):
            return
        time.sleep(0.01)
    raise AssertionError(f"create made no {status} container")


@pytest.mark.parametrize(
    ("sig", "when"),
    [(signal.SIGINT, "created"), (signal.SIGINT, "running"), (signal.SIGKILL, "created")],
)
def test_interrupted_create_is_found_and_removed(
    client: docker.DockerClient, cluster: tuple[str, Store], sig: signal.Signals, when: str
) -> None:
    name, store = cluster
    process = _create(name, store, "m1")
    _wait_for_container(client, name, when)
    process.send_signal(sig)
    process.wait(timeout=60)
    left = leaks(client, name, stores=[store])
    if sig == signal.SIGINT:  # Ctrl-C: create cleans up after itself (the network may stay)
        said = (store.root.parent / "create-m1.err").read_text()
        assert [leak for leak in left if not leak.startswith("network")] == [], said
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
