"""One QEMU virtual machine: its runtime folder, its command line, its process and monitor.

Every VM owns one runtime folder ``$TMPDIR/dojo-qemu-<uid>/<cluster>-<machine>-<id>/`` holding
its overlay disk, pid file, monitor (QMP) and configuration sockets, console log and
``vm.json`` (cluster, machine, run, store, pid): the label by which :mod:`.sweeper` finds a VM
and everything it owns after a crash or Ctrl-C, whichever process made it.  Short paths under
``$TMPDIR`` keep the sockets within the 107 bytes a unix socket path may have.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dojo_exec import spawn
from dojo_exec.machines.driver import MachineError
from dojo_exec.machines.qemu.image import INIT, VmImage, cached_image

MEMORY_MB = 1024
KERNEL_ARGS = f"root=/dev/vda rw console=ttyS0 quiet apparmor=0 mitigations=off panic=1 init={INIT}"
GUEST_PORT_API = 2376
GUEST_PORT_SSH = 22
MIRROR_GUEST = "10.0.2.100:5000"
"""Where a VM reaches the registry mirror: each connection runs :mod:`.relay` on the host."""
RELAY = "dojo_exec.machines.qemu.relay"


def runtime_root() -> Path:
    return Path(tempfile.gettempdir()) / f"dojo-qemu-{os.getuid()}"


def qemu_binary() -> str:
    """The ``qemu-system-x86_64`` to run, or a one-line error naming the package."""
    found = shutil.which("qemu-system-x86_64")
    if not found:
        raise MachineError(
            "the qemu driver needs qemu-system-x86_64 (apt-get install qemu-system-x86 qemu-utils)"
        )
    return found


def accelerator() -> str:
    """``kvm`` where hardware virtualisation is usable, else ``tcg`` (emulation).

    ``/dev/kvm`` alone is not enough: under PVM (``/sys/module/kvm_pvm``, no vmx/svm flag in
    ``/proc/cpuinfo``) a stock Debian kernel does not boot accelerated.
    """
    if os.environ.get("DOJO_QEMU_ACCEL") in ("kvm", "tcg"):
        return os.environ["DOJO_QEMU_ACCEL"]
    if platform.machine() != "x86_64" or not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    if Path("/sys/module/kvm_pvm").exists():
        return "tcg"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "tcg"
    return "kvm" if (" vmx" in flags or " svm" in flags) else "tcg"


def describe() -> str:
    """Provenance: ``qemu (QEMU/TCG, guest kernel 6.1.0-…, Debian bookworm)``."""
    image = cached_image()
    kernel = f", guest kernel {image.kernel_version}" if image else ""
    return f"qemu (QEMU/{accelerator().upper()}{kernel})"


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port free on ``address`` now (QEMU binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def port_free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


@dataclass
class VmLabel:
    """``vm.json``: what a VM belongs to, so that a sweep finds it without its creator."""

    cluster: str
    machine: str
    store: str
    run: str = ""
    pid: int = 0


@dataclass
class Vm:
    """A VM's runtime folder and the process in it."""

    directory: Path

    @classmethod
    def new(cls, label: VmLabel) -> Vm:
        root = runtime_root()
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory = Path(tempfile.mkdtemp(prefix=f"{label.cluster}-{label.machine}-", dir=root))
        vm = cls(directory)
        vm.write_label(label)
        return vm

    # -- files ----------------------------------------------------------------------------------
    @property
    def disk(self) -> Path:
        return self.directory / "disk.qcow2"

    @property
    def qmp_socket(self) -> Path:
        return self.directory / "qmp.sock"

    @property
    def config_socket(self) -> Path:
        return self.directory / "config.sock"

    @property
    def ssh_socket(self) -> Path:
        """The control socket of the ssh connection kept open to the VM (see the driver)."""
        return self.directory / "ssh.sock"

    @property
    def console_log(self) -> Path:
        return self.directory / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "qemu.pid"

    def label(self) -> VmLabel | None:
        try:
            return VmLabel(**json.loads((self.directory / "vm.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def write_label(self, label: VmLabel) -> None:
        (self.directory / "vm.json").write_text(json.dumps(asdict(label)) + "\n")

    # -- process --------------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The QEMU process of this folder while it runs (checked by its command line)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if str(self.directory).encode() in cmdline else None

    def running(self) -> bool:
        return self.pid() is not None

    def make_disk(self, backing: Path) -> None:
        """A copy-on-write overlay of ``backing`` (the image's base disk, or a snapshot's)."""
        self.disk.unlink(missing_ok=True)
        qemu_img = shutil.which("qemu-img") or "qemu-img"
        argv = [qemu_img, "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(backing)]
        proc = spawn.run([*argv, str(self.disk)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise MachineError(f"qemu-img create failed: {proc.stderr.strip()}")

    def launch(
        self,
        image: VmImage,
        *,
        name: str,
        api_port: int,
        ssh_port: int,
        l2_group: str,
        host: str = "127.0.0.1",
        mac: str,
        incoming: Path | None = None,
    ) -> None:
        """Start QEMU daemonized (returns once it runs, or raises with its own error).

        With ``incoming``, the VM resumes the state saved in that file (see :mod:`.snapshot`)
        instead of booting; its disk must then overlay the snapshot's disk.
        """
        accel = accelerator()
        for stale in (self.qmp_socket, self.config_socket, self.pid_file):
            stale.unlink(missing_ok=True)
        argv = [
            qemu_binary(),
            "-name", f"dojo-{name},process=dojo-{name}",
            "-machine", "q35",
            "-accel", "kvm" if accel == "kvm" else "tcg,tb-size=256",
            "-cpu", "host" if accel == "kvm" else "qemu64",
            "-m", str(MEMORY_MB), "-smp", "1",
            "-nodefaults", "-display", "none", "-no-reboot",
            "-kernel", str(image.kernel), "-initrd", str(image.initrd), "-append", KERNEL_ARGS,
            "-drive", f"file={self.disk},if=virtio,format=qcow2,discard=unmap",
            "-netdev", (
                f"user,id=n0,hostfwd=tcp:{host}:{api_port}-:{GUEST_PORT_API},"
                f"hostfwd=tcp:{host}:{ssh_port}-:{GUEST_PORT_SSH},"
                f"guestfwd=tcp:{MIRROR_GUEST}-cmd:{sys.executable} -m {RELAY}"
            ),
            "-device", "virtio-net-pci,netdev=n0",
            "-netdev", f"socket,id=n1,mcast={l2_group},localaddr=127.0.0.1",
            "-device", f"virtio-net-pci,netdev=n1,mac={mac}",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=cfg,path={self.config_socket},server=on,wait=off",
            "-device", "virtserialport,chardev=cfg,name=dojo.config",
            "-qmp", f"unix:{self.qmp_socket},server=on,wait=off",
            "-serial", f"file:{self.console_log}",
            "-pidfile", str(self.pid_file),
            "-daemonize",
            *(["-incoming", f"exec:cat {shlex.quote(str(incoming))}"] if incoming else []),
        ]  # fmt: skip
        proc = spawn.run(argv, capture_output=True, text=True, check=False, cwd=self.directory)
        if proc.returncode != 0:
            raise MachineError(f"qemu did not start: {proc.stderr.strip() or proc.stdout.strip()}")
        label = self.label()
        if label is not None:
            label.pid = self.pid() or 0
            self.write_label(label)

    def resume(self, timeout: float = 120.0) -> None:
        """After an ``incoming`` launch: wait until the saved state is loaded, then run it (the
        template was stopped before it was saved, so the state arrives paused)."""
        deadline = time.monotonic() + timeout
        while True:
            status = str((self.qmp("query-status") or {}).get("status", ""))
            if status == "running":
                return
            if status == "paused" or status == "postmigrate":
                self.qmp("cont")
                return
            if status not in ("inmigrate", "prelaunch") or time.monotonic() > deadline:
                raise MachineError(f"the saved VM did not load (QEMU status {status!r})")
            time.sleep(0.1)

    def qmp(self, command: str, **arguments: Any) -> Any:
        """One QMP command on the monitor socket; its ``return`` value."""
        from qemu.qmp.legacy import QEMUMonitorProtocol

        monitor = QEMUMonitorProtocol(str(self.qmp_socket))
        try:
            monitor.connect()
            return monitor.cmd(command, **arguments) if arguments else monitor.cmd(command)
        finally:
            monitor.close()

    def kill(self, timeout: float = 10.0) -> None:
        """End the QEMU process (monitor ``quit``, then SIGKILL) and wait until it is gone."""
        self.close_ssh()
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(Exception):  # a monitor that does not answer: the signal below
            self.qmp("quit")
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while self.pid() is not None and time.monotonic() < deadline + 5:
                time.sleep(0.05)

    def close_ssh(self) -> None:
        """End the kept ssh connection (its process) if there is one."""
        if not self.ssh_socket.exists():
            return
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            spawn.run(
                ["ssh", "-o", f"ControlPath={self.ssh_socket}", "-O", "exit", "vm"],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False,
            )  # fmt: skip

    def remove(self) -> None:
        """Kill the VM and delete its folder (disk, sockets, log)."""
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def console_tail(self, lines: int = 15) -> str:
        try:
            text = self.console_log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def all_vms() -> list[Vm]:
    """Every VM folder of this user (running or not)."""
    root = runtime_root()
    if not root.is_dir():
        return []
    return [Vm(path) for path in sorted(root.iterdir()) if path.is_dir()]
