"""What the embedded machines answer without the Docker SDK, on a real engine: the same as
the driver answers with it, through the docker CLI or (no CLI) the SDK."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from dojo_exec.machines import cli
from dojo_exec.machines.dind import DindDriver
from dojo_exec.machines.dind_nodes import (
    DindNodes,
    container_status_by_cli,
    managed_statuses_by_cli,
)
from dojo_exec.machines.driver import HostNotRunning, MachineError, State
from dojo_exec.machines.store import Machine, Store

pytestmark = pytest.mark.docker

DOCKER_CLI = "docker"


def _answers(reader: DindNodes, name: str) -> tuple[State, str, str]:
    return reader.state(name), reader.ip(name), reader.url(name)


def test_the_reader_answers_as_the_driver_through_the_cli_or_the_sdk(
    driver: DindDriver, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    driver.create("m1")
    reader = DindNodes(driver.store, driver.cluster)
    assert _answers(reader, "m1") == _answers(driver, "m1")
    assert reader.state("m1") is State.RUNNING
    assert reader.exec("m1", ["echo", "from", "$(hostname)", ";", "exit", "3"]) == 3
    assert capfd.readouterr().out == "from m1\n"

    monkeypatch.setenv("PATH", "/nonexistent")  # no docker CLI: the SDK answers the same
    assert _answers(reader, "m1") == _answers(driver, "m1")
    assert reader.exec("m1", ["echo", "sdk"]) == 0
    assert capfd.readouterr().out == "sdk\n"
    monkeypatch.undo()

    driver.stop("m1")
    assert reader.state("m1") is driver.state("m1") is State.STOPPED
    with pytest.raises(HostNotRunning):
        reader.ip("m1")
    with pytest.raises(MachineError, match='Cannot run SSH command: Host "m1" is not running'):
        reader.exec("m1", ["true"])


def test_ls_states_and_versions_are_the_drivers_through_the_cli_or_the_sdk(
    driver: DindDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ls`` asks the states of all machines in one ``docker container inspect`` and each
    engine its version over TLS with the standard library: the answers the driver gives with
    the Docker SDK, for a running, a stopped, a gone and a machine being created."""
    driver.create("m1")
    driver.create("m2")
    driver.stop("m2")
    store = driver.store
    gone = Machine(name="gone", cluster=driver.cluster, ip="10.0.0.2", container="dojo-gone-m1")
    for record in (gone, Machine(name="new", cluster=driver.cluster)):
        store.reserve(record.name)
        store.save(record)
    names = store.names()
    reader = DindNodes(store, driver.cluster)
    states = reader.states(names)
    assert states == driver.states(names)
    assert [state for state, _ in states.values()] == [
        State.ERROR,
        State.RUNNING,
        State.STOPPED,
        State.NONE,
    ]
    assert reader.engine_version("m1") == driver.engine_version("m1")
    with pytest.raises(OSError):  # requests's ConnectionError
        driver.engine_version("m2", timeout=1)
    with pytest.raises(MachineError, match=r"^Unable to query docker version: Get https://"):
        reader.engine_version("m2", timeout=1)

    monkeypatch.setenv("PATH", "/nonexistent")  # no docker CLI: the SDK answers the same
    assert reader.states(names) == states


def test_ls_states_are_those_of_the_machines_containers_only(driver: DindDriver) -> None:
    """A container of a machine's name without ``dojo.managed=1`` is not the machine's: the
    driver lists the labelled containers, the docker CLI's answer is filtered the same."""
    container = f"dojo-{driver.cluster}-m1"
    images = driver.client.images.list(name="dojo-node")
    if not images:
        pytest.skip("no dojo-node image to make a container of")
    driver.client.containers.create(images[0].id, name=container, labels={"dojo.managed": "0"})
    try:
        driver.store.reserve("m1")
        driver.store.save(
            Machine(name="m1", cluster=driver.cluster, ip="10.0.0.2", container=container)
        )
        reader = DindNodes(driver.store, driver.cluster)
        assert reader.states(["m1"]) == driver.states(["m1"])
        assert reader.states(["m1"])["m1"] == (State.ERROR, f"container {container} not found")
        assert managed_statuses_by_cli(DOCKER_CLI, [container, f"{container}-none"]) == {}
    finally:
        driver.client.containers.get(container).remove(force=True, v=True)  # VOLUME in the image


def test_a_machine_whose_container_is_gone_is_in_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    store.reserve("m1")
    store.save(Machine(name="m1", cluster="c", ip="10.0.0.2", container="dojo-gone-m1"))
    reader = DindNodes(store, "c")
    assert reader.state("m1") is State.ERROR
    assert container_status_by_cli(DOCKER_CLI, f"dojo-gone-{uuid.uuid4().hex}") is None


def test_an_unreachable_engine_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOJO_ENGINE_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(MachineError) as raised:
        container_status_by_cli(DOCKER_CLI, "dojo-x-m1")
    message = str(raised.value)
    assert message.startswith("Error checking the state of dojo-x-m1: ")
    assert "/nonexistent/docker.sock" in message


SHIM_QUESTIONS = (
    ["env", "m1"],
    ["ip", "m1"],
    ["url", "m1"],
    ["status", "m1"],
    ["config", "m1"],
    ["ssh", "m1", "true"],
    ["ls"],
    ["ls", "-q"],
    ["ls", "--format", "{{.Name}} {{.DockerVersion}} {{.Active}}"],
    ["ls", "--filter", "state=Running", "--filter", "name=m"],
    ["active"],
    ["version", "m1"],
    ["inspect", "m1"],
    ["version"],
    ["help"],
)
"""The read-only commands: those a page calls most, each a new Python."""


def test_shim_questions_do_without_the_docker_sdk(driver: DindDriver) -> None:
    """The read-only commands (``env``, ``ip``, ``ssh``, ``ls`` …) neither import the Docker SDK
    nor cryptography (two thirds of a shim call's CPU), each checked after it ran."""
    driver.create("m1")
    script = (
        "import sys\n"
        "from dojo_exec.machines import cli\n"
        f"for command in {SHIM_QUESTIONS!r}:\n"
        "    assert cli.main(command) == 0, command\n"
        "    heavy = [m for m in sys.modules if m.split('.')[0] in ('docker', 'cryptography')]\n"
        "    assert not heavy, (command, sorted(heavy))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOJO_ENGINE"))}
    env.update(MACHINE_STORAGE_PATH=str(driver.store.root), DOJO_CLUSTER=driver.cluster)
    # as after `eval $(docker-machine env m1)`: m1 is the active machine
    env.update(DOCKER_HOST=driver.url("m1"), DOCKER_MACHINE_NAME="m1")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert f"tcp://{driver.ip('m1')}:2376" in done.stdout
    assert f"\nm1 v{driver.engine_version('m1')} *\n" in done.stdout


def test_the_shim_reader_is_the_driver_when_one_was_made(tmp_path: Path) -> None:
    """A command that made the driver (create, start …) asks that driver, not a second client."""
    context = cli.Context(Store(tmp_path / "s"))
    context.store.reserve("m1")
    context.store.save(Machine(name="m1", cluster="c", ip="10.0.0.2", container="dojo-c-m1"))
    assert isinstance(context.reader("m1"), DindNodes)
    assert not isinstance(context.reader("m1"), DindDriver)
    made = context.driver("m1")
    assert context.reader("m1") is made
