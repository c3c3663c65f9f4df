"""Fixtures of the machines' tests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import second_dockerd
import ssh_server as ssh_server_module
from docker_engine import docker_engine
from second_dockerd import SecondEngine

from dojo_exec.machines.dind import DindDriver
from dojo_exec.machines.store import Store
from dojo_exec.machines.teardown import leaks, remove_cluster


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    """The Docker engine (no engine: the test is skipped, or fails under ``CI=1``)."""
    return docker_engine()


@pytest.fixture
def driver(client: docker.DockerClient, tmp_path: Path) -> Iterator[DindDriver]:
    """The embedded driver on its own cluster and store (no stand-ins), checked for leaks."""
    cluster = f"t-{uuid.uuid4().hex[:8]}"
    store = Store(tmp_path / "machine")
    yield DindDriver(client, store, cluster, mirror=False)
    remove_cluster(client, cluster, stores=[store])
    assert leaks(client, cluster, stores=[store]) == []


@pytest.fixture(scope="session")
def second_engine() -> Iterator[SecondEngine]:
    """A second real dockerd on this host (see ``second_dockerd``), with the machines' images
    copied from the first by ``dojo-exec prepare --engines``; stopped and removed after, and
    nothing of it may be left. Skipped, saying what is missing, where it cannot run."""
    why = second_dockerd.missing()
    if why is not None:
        pytest.skip(f"no second Docker engine: {why}")
    docker_engine()  # the first engine: the images come from it
    try:
        engine = second_dockerd.start()
    except second_dockerd.Unsupported as error:
        pytest.skip(f"no second Docker engine: {error}")
    try:
        prepared = subprocess.run(
            [sys.executable, "-m", "dojo_exec.cli", "prepare", "--engines", engine.socket],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert prepared.returncode == 0, prepared.stderr[-2000:]
        yield engine
    finally:
        second_dockerd.stop(engine)
    left = second_dockerd.leftovers(engine)
    assert left == [], f"the second dockerd left {left}"


@pytest.fixture
def ssh_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ssh_server_module.SshServer]:
    """A private sshd on 127.0.0.1 logging in as root with its own key (see ``ssh_server``);
    its ``ssh`` first on PATH. Skipped, saying what is missing, where it cannot run."""
    why = ssh_server_module.missing()
    if why is not None:
        pytest.skip(f"no private sshd: {why}")
    server = ssh_server_module.start()
    monkeypatch.setenv("PATH", f"{server.bin_dir}{os.pathsep}{os.environ['PATH']}")
    try:
        yield server
    finally:
        ssh_server_module.stop(server)
