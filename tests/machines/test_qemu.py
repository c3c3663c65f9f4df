"""The qemu provider on real QEMU VMs: docker-machine's commands, a TLS engine, real ssh, cleanup.

One VM for the module (resumed from the image's saved VM when there is one), driven through the
``docker-machine`` command line exactly as a page drives it.
"""

from __future__ import annotations

import json
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
from qemu_vms import machine_cli, machine_env, require_qemu

from dojo_exec import spawn
from dojo_exec.machines.driver import Scope
from dojo_exec.machines.qemu.image import cached_image, ensure_image
from dojo_exec.machines.qemu.sweeper import QemuSweeper
from dojo_exec.machines.qemu.vm import Vm, all_vms

# the first run builds the VM image (debootstrap: minutes) and saves the template VM
pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("qemu"), pytest.mark.timeout(2400)]

NAME = "vm1"


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    require_qemu()
    ensure_image()  # built once per recipe (minutes), outside the create it would slow
    cluster = f"q-{uuid.uuid4().hex[:8]}"
    env = machine_env(tmp_path_factory.mktemp("qemu") / "machine", cluster)
    created = machine_cli(env, "create", "--driver", "qemu", NAME)
    try:
        assert created.returncode == 0, created.stdout + created.stderr
        assert "Docker is up and running!" in created.stdout
        vm = _vm(env)
        yield env
    finally:
        machine_cli(env, "rm", "-y", "-f", NAME)
        assert QemuSweeper().leaks(Scope(cluster=cluster)) == []
    assert _processes_of(vm.directory) == []  # neither QEMU nor the kept ssh connection


def _processes_of(directory: Path) -> list[str]:
    """Command lines of the processes that name ``directory`` (its VM's files)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(directory) in text:
            found.append(text)
    return found


def _vm(env: dict[str, str]) -> Vm:
    config = Path(env["MACHINE_STORAGE_PATH"]) / "machines" / NAME / "config.json"
    return Vm(Path(json.loads(config.read_text())["Driver"]["RuntimeDir"]))


def test_ls_shows_a_running_qemu_machine_with_the_images_engine(machine: dict[str, str]) -> None:
    image = cached_image()
    assert image is not None
    listed = machine_cli(machine, "ls", "--format", "{{.Name}} {{.DriverName}} {{.State}} "
                         "{{.DockerVersion}}")  # fmt: skip
    assert listed.stdout.split() == [NAME, "qemu", "Running", f"v{image.engine_version}"]


def test_the_engine_answers_with_tls_only(machine: dict[str, str]) -> None:
    env_lines = machine_cli(machine, "env", "--shell", "bash", NAME).stdout
    exported = dict(
        line.removeprefix("export ").replace('"', "").split("=", 1)
        for line in env_lines.splitlines()
        if line.startswith("export ")
    )
    shell_env = {**machine, **exported}
    info = subprocess.run(
        ["docker", "info", "--format", "{{.Name}}"],
        env=shell_env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert info.stdout.strip() == NAME, info.stderr
    plain = docker.DockerClient(
        base_url=exported["DOCKER_HOST"].replace("tcp://", "https://"), version="1.41", timeout=10
    )
    with pytest.raises((docker.errors.DockerException, OSError)):
        plain.version()


def test_ssh_is_real_ssh_into_the_vm(machine: dict[str, str]) -> None:
    image = cached_image()
    assert image is not None
    kernel = machine_cli(machine, "ssh", NAME, "uname", "-r")
    assert kernel.stdout.strip() == image.kernel_version, kernel.stderr
    assert machine_cli(machine, "ssh", NAME, "exit", "7").returncode == 7
    ip = machine_cli(machine, "ip", NAME).stdout.strip()
    assert ip.startswith("10.213.0.")
    addresses = machine_cli(machine, "ssh", NAME, "ip", "-4", "-o", "addr", "show", "eth1").stdout
    assert f" {ip}/24 " in addresses
    sshd = machine_cli(machine, "ssh", NAME, "cat", "/proc/$PPID/comm").stdout.strip()
    assert sshd.startswith("sshd")
    inspect = machine_cli(machine, "inspect", "-f", "{{.DriverName}} {{.Driver.SSHPort}}", NAME)
    driver, port = inspect.stdout.split()
    assert driver == "qemu" and int(port) > 0


def test_stand_in_images_come_from_the_mirror(machine: dict[str, str]) -> None:
    """The VM pulls through the host's registry mirror at 10.0.2.100:5000 (relayed to the
    mirror's port of the moment), with no registry reachable."""
    mirrors = machine_cli(machine, "ssh", NAME, "docker", "info", "--format",
                          "'{{.RegistryConfig.Mirrors}}'").stdout  # fmt: skip
    assert "http://10.0.2.100:5000/" in mirrors
    pulled = machine_cli(machine, "ssh", NAME, "docker", "pull", "-q", "alpine")
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    listed = machine_cli(machine, "ssh", NAME, "docker", "image", "ls", "-q", "alpine")
    assert listed.stdout.strip()


def test_stop_start_and_kill(machine: dict[str, str]) -> None:
    vm = _vm(machine)
    assert any(" -M " in p for p in _processes_of(vm.directory))  # the kept ssh connection
    assert machine_cli(machine, "stop", NAME).returncode == 0
    assert machine_cli(machine, "status", NAME).stdout.strip() == "Stopped"
    assert vm.pid() is None
    assert machine_cli(machine, "ip", NAME).returncode == 1  # not running: docker-machine's error
    started = machine_cli(machine, "start", NAME)
    assert started.returncode == 0, started.stdout + started.stderr
    assert machine_cli(machine, "status", NAME).stdout.strip() == "Running"
    assert machine_cli(machine, "ssh", NAME, "docker", "info", "--format", "{{.Name}}").stdout \
        .strip() == NAME  # fmt: skip
    assert machine_cli(machine, "kill", NAME).returncode == 0
    assert vm.pid() is None
    assert machine_cli(machine, "status", NAME).stdout.strip() == "Stopped"


def test_an_interrupted_create_leaves_no_vm(tmp_path: Path) -> None:
    require_qemu()
    cluster = f"q-{uuid.uuid4().hex[:8]}"
    env = machine_env(tmp_path / "machine", cluster)
    # spawn.popen: SIGINT at its default even when this test runs from a `cmd &` (ignored there)
    create = spawn.popen(
        [sys.executable, "-m", "dojo_exec.machines.cli", "create", "-d", "qemu", "cut"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not any(vm.running() and (vm.label() or _NO).cluster == cluster for vm in all_vms()):
            assert create.poll() is None, create.stderr.read() if create.stderr else ""
            assert time.monotonic() < deadline, "the VM never started"
            time.sleep(0.1)
        create.send_signal(signal.SIGINT)
        assert create.wait(timeout=120) == 130
        assert QemuSweeper().leaks(Scope(cluster=cluster)) == []
        assert not (tmp_path / "machine" / "machines" / "cut").exists()
    finally:
        if create.poll() is None:
            create.kill()
        QemuSweeper().remove(Scope(cluster=cluster))  # a failed test leaves no VM either


class _NoLabel:
    cluster = ""


_NO = _NoLabel()
