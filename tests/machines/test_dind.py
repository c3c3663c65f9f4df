"""The embedded driver on a real engine: labelled objects, TLS engine, stop/start, ssh exits."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import docker
import docker.errors
import pytest

from dojo_exec.machines.dind import DindDriver, tls_client, tls_engine_version
from dojo_exec.machines.driver import CreateOptions, HostNotRunning, MachineError, State
from dojo_exec.machines.store import Store
from dojo_exec.machines.teardown import leaks, remove_cluster

pytestmark = pytest.mark.docker


def test_create_labels_tls_and_state(driver: DindDriver, client: docker.DockerClient) -> None:
    driver.create("m1", CreateOptions(requested_driver="virtualbox"))
    record = driver.store.load("m1")
    assert record.requested_driver == "virtualbox"
    container = client.containers.get(f"dojo-{driver.cluster}-m1")
    labels = container.labels
    assert labels["dojo.managed"] == "1"
    assert labels["dojo.cluster"] == driver.cluster
    assert labels["dojo.machine"] == "m1"
    assert labels["dojo.role"] == "node"
    assert container.attrs["Config"]["Hostname"] == "m1"
    volume = client.volumes.get(f"dojo-{driver.cluster}-m1")
    assert volume.attrs["Labels"]["dojo.cluster"] == driver.cluster
    network = client.networks.get(f"dojo-{driver.cluster}")
    assert network.attrs["Labels"]["dojo.cluster"] == driver.cluster
    assert driver.state("m1") is State.RUNNING
    assert driver.ip("m1") == record.ip
    engine = tls_client(driver.store.machine_dir("m1"), record.ip)
    assert engine.info()["Name"] == "m1"
    assert record.engine_version == engine.version()["Version"]  # as it answered at creation
    engine.close()
    assert driver.list() == ["m1"]


def test_tls_rejects_a_client_without_cert(driver: DindDriver) -> None:
    driver.create("m1")
    ip = driver.ip("m1")
    plain = docker.DockerClient(base_url=f"tcp://{ip}:2376", version="1.41", timeout=5)
    with pytest.raises((docker.errors.DockerException, OSError)):
        plain.version()


def test_stop_start_and_ssh_exit_codes(driver: DindDriver) -> None:
    driver.create("m1")
    assert driver.exec("m1", ["exit", "7"]) == 7
    assert driver.exec("m1", ["docker", "info", ">/dev/null"]) == 0
    driver.stop("m1")
    assert driver.state("m1") is State.STOPPED
    with pytest.raises(HostNotRunning):
        driver.ip("m1")
    with pytest.raises(MachineError, match='Host "m1" is not running'):
        driver.exec("m1", ["true"])
    driver.start("m1")
    assert driver.state("m1") is State.RUNNING
    assert driver.exec("m1", ["docker", "version", ">/dev/null"]) == 0


def test_start_returns_once_the_engine_listens_as_docker_machine_does(
    driver: DindDriver, client: docker.DockerClient
) -> None:
    """libmachine's ``WaitForDocker`` looks for the engine's port in netstat, not for its API:
    a swarm manager restarted without its quorum listens at once and serves its API only after
    swarm's connect timeout (20 s); a tutorial's next steps need not wait for that."""

    def run(name: str, *command: str) -> str:
        code, out = client.containers.get(driver.container_name(name)).exec_run(list(command))
        assert code == 0, out.decode()
        return str(out.decode()).strip()

    driver.create("m1")
    driver.create("m2")
    leader = driver.ip("m1")
    run("m1", "docker", "swarm", "init", "--advertise-addr", leader)
    token = run("m1", "docker", "swarm", "join-token", "--quiet", "manager")
    run("m2", "docker", "swarm", "join", "--token", token, f"{leader}:2377")
    driver.stop("m1")
    driver.stop("m2")
    began = time.monotonic()
    driver.start("m2")  # its only peer is down: no quorum
    started = time.monotonic() - began
    while True:
        try:
            tls_engine_version(driver.store.machine_dir("m2"), driver.ip("m2"), timeout=1)
            break
        except Exception:
            assert time.monotonic() - began < 60, "the engine never answered"
            time.sleep(0.2)
    answered = time.monotonic() - began
    assert started < 5 < answered - started, (started, answered)


def test_remove_cleans_everything(driver: DindDriver, client: docker.DockerClient) -> None:
    driver.create("m1")
    driver.create("m2")
    ips = {driver.store.load(n).ip for n in ("m1", "m2")}
    assert len(ips) == 2
    driver.remove("m1")
    assert driver.list() == ["m2"]
    assert leaks(client, driver.cluster) == [
        f"container dojo-{driver.cluster}-m2",
        f"volume dojo-{driver.cluster}-m2",
        f"network dojo-{driver.cluster}",
    ]
    driver.remove("m2")
    assert leaks(client, driver.cluster, stores=[driver.store]) == []


def test_failed_create_leaves_nothing(driver: DindDriver, client: docker.DockerClient) -> None:
    driver._node_image = lambda: "dojo-no-such-image:never"  # type: ignore[method-assign]
    with pytest.raises(docker.errors.DockerException):
        driver.create("m1")
    assert not driver.store.exists("m1")
    assert [leak for leak in leaks(client, driver.cluster) if "network" not in leak] == []


@pytest.mark.timeout(60)  # not the 90 s of an engine that never answers
def test_an_engine_that_exits_is_reported_with_its_log(
    driver: DindDriver, client: docker.DockerClient
) -> None:
    """dockerd refuses a label without ``=`` and exits: create says so with the node's log
    (the container is looked at while the engine's port is polled), and leaves nothing."""
    with pytest.raises(MachineError) as raised:
        driver.create("m1", CreateOptions(engine_labels=["zone"]))
    message = str(raised.value)
    assert message.startswith("Error creating machine: m1: the node's engine exited"), message
    assert "exec dockerd --label zone" in message
    assert not driver.store.exists("m1")
    assert [leak for leak in leaks(client, driver.cluster) if "network" not in leak] == []


def test_a_second_store_never_takes_a_machine_of_the_first(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    """Two stores in one ``DOJO_CLUSTER`` (two terminals that set it alike) both ask for
    ``m1``: the second is refused in one line, and the first machine keeps answering."""
    cluster = f"t-{uuid.uuid4().hex[:8]}"
    first, second = Store(tmp_path / "one"), Store(tmp_path / "two")
    try:
        DindDriver(client, first, cluster, mirror=False).create("m1")
        with pytest.raises(MachineError) as refused:
            DindDriver(client, second, cluster, mirror=False).create("m1")
        message = str(refused.value)
        assert message.startswith('Host already exists: "m1": its container'), message
        assert str(first.root) in message and "\n" not in message
        assert not second.machine_dir("m1").exists()
        engine = tls_client(first.machine_dir("m1"), first.load("m1").ip)
        assert engine.info()["Name"] == "m1"
        engine.close()
    finally:
        remove_cluster(client, cluster, stores=[first, second])
    assert leaks(client, cluster, stores=[first, second]) == []
