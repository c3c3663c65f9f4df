"""A booted VM saved once, so that later machines resume it in seconds instead of booting.

The template VM boots from the image until its init waits for a machine's identity on the
``dojo.config`` port (the same point for every machine: nothing machine-specific exists yet),
then QEMU saves its state (``migrate`` to a file, the ``savevm``/``-loadvm`` idea without an
internal snapshot per disk) and its disk becomes a read-only base.  A new machine overlays that
disk, starts with ``-incoming`` from the state file, and receives its identity as after a boot;
its clock is set from the host's (the saved one is old).

Kept beside the image: ``<image>/snapshot-<accel>-<qemu version>/{disk.qcow2,state}``; made under
a lock by the first create that needs it (one boot), removed with the image.
``DOJO_QEMU_SNAPSHOT=0`` turns snapshots off (every create boots).
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dojo_exec import spawn
from dojo_exec.machines import certs
from dojo_exec.machines.driver import MachineError
from dojo_exec.machines.labels import current_run
from dojo_exec.machines.qemu.image import VmImage
from dojo_exec.machines.qemu.vm import Vm, VmLabel, accelerator, free_port, qemu_binary

TEMPLATE_CLUSTER = "snapshot"
SAVE_TIMEOUT = 600.0


@dataclass(frozen=True)
class Snapshot:
    directory: Path

    @property
    def disk(self) -> Path:
        return self.directory / "disk.qcow2"

    @property
    def state(self) -> Path:
        return self.directory / "state"


def enabled() -> bool:
    return os.environ.get("DOJO_QEMU_SNAPSHOT", "1").strip().lower() not in ("0", "no", "off")


def _qemu_version() -> str:
    out = spawn.run(
        [qemu_binary(), "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    return out[3] if len(out) > 3 else "unknown"


def snapshot_dir(image: VmImage) -> Path:
    return image.directory / f"snapshot-{accelerator()}-{_qemu_version()}"


def cached_snapshot(image: VmImage) -> Snapshot | None:
    snapshot = Snapshot(snapshot_dir(image))
    return snapshot if snapshot.state.is_file() and snapshot.disk.is_file() else None


def ensure_snapshot(image: VmImage, log: Callable[[str], object] = print) -> Snapshot:
    """The image's snapshot, made when missing (one boot of the template VM)."""
    snapshot = cached_snapshot(image)
    if snapshot is not None:
        return snapshot
    directory = snapshot_dir(image)
    with certs.file_lock(image.directory / f"{directory.name}.lock"):
        snapshot = cached_snapshot(image)
        if snapshot is None:
            snapshot = _make(image, directory, log)
    return snapshot


def _make(image: VmImage, directory: Path, say: Callable[[str], object]) -> Snapshot:
    started = time.monotonic()
    vm = Vm.new(
        VmLabel(cluster=TEMPLATE_CLUSTER, machine="template", store="", run=current_run() or "")
    )
    try:
        say("(snapshot) Booting the template VM once; later creates resume it...")
        vm.make_disk(image.disk)
        vm.launch(
            image,
            name="snapshot-template",
            api_port=free_port(),
            ssh_port=free_port(),
            l2_group="230.213.0.1:19999",
            mac="52:54:00:00:00:01",
        )
        _wait_ready(vm, time.monotonic() + SAVE_TIMEOUT)
        state = vm.directory / "state"
        vm.qmp("stop")
        vm.qmp("migrate", uri=f"exec:cat > {state}")
        deadline = time.monotonic() + SAVE_TIMEOUT
        while True:
            status = (vm.qmp("query-migrate") or {}).get("status", "")
            if status == "completed":
                break
            if status in ("failed", "cancelled") or time.monotonic() > deadline:
                raise MachineError(f"saving the template VM failed (migration {status})")
            time.sleep(0.2)
        vm.kill()
        staging = vm.directory / "snapshot"
        staging.mkdir()
        vm.disk.rename(staging / "disk.qcow2")
        state.rename(staging / "state")
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
    finally:
        vm.remove()
    say(f"(snapshot) saved in {time.monotonic() - started:.0f} s")
    return Snapshot(directory)


def _wait_ready(vm: Vm, deadline: float) -> None:
    """Until the guest's init says "ready" on the config port (then it waits for an identity)."""
    while time.monotonic() < deadline:
        if not vm.running():
            raise MachineError(f"the template VM exited:\n{vm.console_tail()}")
        try:
            with socket.socket(socket.AF_UNIX) as channel:
                channel.settimeout(max(1.0, deadline - time.monotonic()))
                channel.connect(str(vm.config_socket))
                line = channel.makefile("r").readline().strip()
                if line == "ready":
                    return
                raise MachineError(f"the template VM answered {line!r}, not 'ready'")
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.2)
    raise MachineError(f"the template VM did not boot in time:\n{vm.console_tail()}")
