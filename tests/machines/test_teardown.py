"""Teardown by label: Ctrl-C or a kill in the middle of ``create`` leaves only what it can find."""

from __future__ import annotations

import concurrent.futures
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

from dojo_exec.machines.host_lock import lock_file
from dojo_exec.machines.store import Store
from dojo_exec.machines.teardown import (
    leaks,
    remove_cluster,
    remove_or_await,
    remove_run,
    run_leaks,
)
from dojo_exec.spawn import reset_signals

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


def _create(
    cluster: str, store: Store, name: str, run: str | None = None
) -> subprocess.Popen[bytes]:
    """Start ``create`` in the background; its stderr goes to ``create-<name>.err``."""
    env = {
        **os.environ,
        "DOJO_CLUSTER": cluster,
        "MACHINE_STORAGE_PATH": str(store.root),
    }
    if run is not None:
        env["DOJO_RUN"] = run
    with (store.root.parent / f"create-{name}.err").open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "dojo_exec.machines.cli", "create", "-d", "virtualbox", name],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=reset_signals,  # Ctrl-C works there even if this suite runs under nohup
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
    assert not lock_file(f"cluster-{name}").exists()  # no lock file per cluster ever made


def test_removing_the_last_machine_discards_the_cluster_lock(
    cluster: tuple[str, Store],
) -> None:
    name, store = cluster
    assert _create(name, store, "a1").wait(timeout=120) == 0
    assert lock_file(f"cluster-{name}").exists()
    env = {**os.environ, "DOJO_CLUSTER": name, "MACHINE_STORAGE_PATH": str(store.root)}
    removal = [sys.executable, "-m", "dojo_exec.machines.cli", "rm", "-y", "a1"]
    subprocess.run(removal, env=env, check=True, capture_output=True, timeout=120)
    assert not lock_file(f"cluster-{name}").exists()


def test_a_run_removes_only_what_it_created(client: docker.DockerClient, tmp_path: Path) -> None:
    """Two sessions at once: the first one's clean-up leaves the second one's swarm alone."""
    runs = {f"r{i}-{uuid.uuid4().hex[:6]}": f"t-{uuid.uuid4().hex[:8]}" for i in (1, 2)}
    stores = {run: Store(tmp_path / run) for run in runs}
    (first, first_cluster), (second, second_cluster) = runs.items()
    try:
        processes = [_create(runs[run], stores[run], "m1", run=run) for run in runs]
        assert [p.wait(timeout=120) for p in processes] == [0, 0]
        assert f"container dojo-{first_cluster}-m1" in run_leaks(client, first)
        assert all(second_cluster not in item for item in run_leaks(client, first))

        removed = remove_run(client, first, stores=[stores[first]])
        assert f"container dojo-{first_cluster}-m1" in removed
        assert not any("dojo-mirror" in item for item in removed)  # the second run uses it
        assert run_leaks(client, first) == []
        assert leaks(client, first_cluster, stores=[stores[first]]) == []
        second_left = run_leaks(client, second)
        assert f"container dojo-{second_cluster}-m1" in second_left
        assert client.containers.get(f"dojo-{second_cluster}-m1").status == "running"
    finally:
        for run, cluster in runs.items():
            remove_cluster(client, cluster, stores=[stores[run]])


def test_a_malformed_run_id_is_refused_before_anything_is_made(
    client: docker.DockerClient, cluster: tuple[str, Store]
) -> None:
    name, store = cluster
    process = _create(name, store, "m1", run="bad run!")
    assert process.wait(timeout=60) == 1
    said = (store.root.parent / "create-m1.err").read_text()
    assert "Invalid DOJO_RUN 'bad run!'" in said
    assert leaks(client, name, stores=[store]) == []


def test_removing_a_container_another_process_is_removing_waits_for_it(
    client: docker.DockerClient,
) -> None:
    """A cluster's reaper and ``down`` may remove the same node at once: the engine answers
    the second ``rm -f`` 409 "removal … is already in progress", which is not a failure."""
    label = {"dojo.test": f"removal-race-{uuid.uuid4().hex[:8]}"}
    try:
        for _ in range(4):
            started = client.containers.run(
                "busybox:latest", ["sleep", "600"], detach=True, labels=label
            )
            twins = [client.containers.get(started.id) for _ in range(2)]
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                for removal in [pool.submit(remove_or_await, twin) for twin in twins]:
                    removal.result()  # neither raises
            with pytest.raises(docker.errors.NotFound):
                client.containers.get(started.id)
    finally:
        for left in client.containers.list(
            all=True, filters={"label": f"dojo.test={label['dojo.test']}"}
        ):
            left.remove(force=True)
