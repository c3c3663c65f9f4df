"""The qemu driver: each machine is a QEMU VM booted from the offline Debian image (:mod:`.image`).

``create`` writes the machine's TLS certificates and ssh key in docker-machine's layout, makes a
copy-on-write overlay of the base disk, boots the VM (:mod:`.vm`) and hands it its identity over
the ``dojo.config`` virtio-serial port (host name, address on the cluster's L2, certificates,
authorized key, registry mirror), then returns when the engine answers with TLS.

Networking needs no privileges: QEMU's user network forwards port 2376 of a loopback address of
the machine's own (``127.C.C.H``: the cluster's two bytes, the machine's host number, so each
machine has its own URL as with docker-machine) to the engine, and a free port of it to sshd; a
second NIC on a multicast socket (one group per cluster) is the
cluster's shared L2, ``10.213.0.0/24``, where the machines get ``.2`` upwards (what
``docker-machine ip`` prints, what swarm advertises).  The host's registry mirror is reached at
``10.0.2.100:5000``, relayed by QEMU to its current host port (:mod:`.relay`).
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import hashlib
import ipaddress
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dojo_exec import spawn
from dojo_exec.machines import certs
from dojo_exec.machines.driver import CreateOptions, HostNotRunning, MachineError, State
from dojo_exec.machines.host_lock import named_lock, shared_services_in_use
from dojo_exec.machines.labels import current_run
from dojo_exec.machines.qemu.image import VmImage, ensure_image
from dojo_exec.machines.qemu.snapshot import Snapshot, ensure_snapshot
from dojo_exec.machines.qemu.snapshot import enabled as snapshot_enabled
from dojo_exec.machines.qemu.vm import (
    MIRROR_GUEST,
    Vm,
    VmLabel,
    free_port,
    port_free,
    qemu_binary,
)
from dojo_exec.machines.store import ENGINE_PORT, Machine, Store, cluster_name

DRIVER = "qemu"
L2_SUBNET = ipaddress.ip_network("10.213.0.0/24")
FIRST_HOST = 2
BOOT_TIMEOUT = 600.0
"""Cold boot to an answering engine: about a minute alone under TCG, more with three at once."""
ENGINE_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0

Progress = Callable[[str], None]


def l2_group(cluster: str) -> str:
    """The cluster's multicast group (its shared L2): ``230.213.X.Y:PORT`` from its name."""
    digest = hashlib.sha256(cluster.encode()).digest()
    port = 20000 + int.from_bytes(digest[:2], "big") % 20000
    return f"230.213.{digest[2]}.{digest[3] or 1}:{port}"


def mac_address(cluster: str, name: str) -> str:
    """A locally administered MAC for the machine's L2 NIC, stable for (cluster, name)."""
    digest = hashlib.sha256(f"{cluster}/{name}".encode()).digest()
    return "52:54:" + ":".join(f"{b:02x}" for b in digest[:4])


def ssh_key_pair() -> tuple[bytes, bytes]:
    """An ed25519 key pair in OpenSSH formats (private, public)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private, public + b" dojo-machine\n"


class QemuDriver:
    """The qemu driver (see the module docstring)."""

    name = DRIVER

    def __init__(
        self,
        store: Store | None = None,
        cluster: str | None = None,
        *,
        progress: Progress | None = None,
        mirror: bool | None = None,
    ) -> None:
        self.store = store or Store()
        self.cluster = cluster or cluster_name()
        self.progress = progress or (lambda message: None)
        self.mirror = mirror  # None: the offline stand-ins unless Docker Hub answers the host

    # -- records ------------------------------------------------------------------------------
    def _record(self, name: str) -> Machine:
        return self.store.load(name)

    def _vm(self, record: Machine) -> Vm | None:
        return Vm(Path(record.runtime)) if record.runtime else None

    def list(self) -> list[str]:
        names = []
        for name in self.store.names():
            with contextlib.suppress(MachineError):
                if self._record(name).driver_name == DRIVER:
                    names.append(name)
        return names

    # -- state --------------------------------------------------------------------------------
    def state(self, name: str) -> State:
        record = self._record(name)
        vm = self._vm(record)
        if vm is None:
            return State.NONE  # being created
        if not vm.directory.is_dir():
            return State.ERROR
        return State.RUNNING if vm.running() else State.STOPPED

    def states(self, names: Sequence[str]) -> dict[str, tuple[State, str]]:
        found: dict[str, tuple[State, str]] = {}
        for name in names:
            state = self.state(name)
            problem = "its VM folder is gone" if state is State.ERROR else ""
            found[name] = (state, problem)
        return found

    def ip(self, name: str) -> str:
        record = self._record(name)
        if self.state(name) is not State.RUNNING:
            raise HostNotRunning(name)
        return record.ip

    def url(self, name: str) -> str:
        return self._record(name).url

    def engine_version(self, name: str, timeout: float = 10.0) -> str:
        from dojo_exec.machines.dind import tls_engine_version

        record = self._record(name)
        return tls_engine_version(
            self.store.machine_dir(name), record.api_host, timeout=timeout, port=record.api_port
        )

    # -- create -------------------------------------------------------------------------------
    def create(self, name: str, options: CreateOptions | None = None) -> None:
        """Create and boot machine ``name``; on any failure (Ctrl-C too) remove what was made."""
        options = options or CreateOptions()
        qemu_binary()  # a missing QEMU is a one-line error before anything is made
        machine_dir = self.store.reserve(name)
        record = Machine(
            name=name,
            cluster=self.cluster,
            requested_driver=options.requested_driver,
            registry_mirrors=list(options.registry_mirrors),
            insecure_registries=list(options.insecure_registries),
            engine_labels=list(options.engine_labels),
            engine_env=list(options.engine_env),
            driver_name=DRIVER,
        )
        self.store.save(record)  # visible to ls at once, as docker-machine does
        try:
            self._create(record, machine_dir)
        except BaseException:
            vm = self._vm(self._record_or(record))
            if vm is not None:
                vm.remove()
            self.store.remove(name)
            raise

    def _record_or(self, record: Machine) -> Machine:
        with contextlib.suppress(MachineError):
            return self._record(record.name)
        return record

    def _create(self, record: Machine, machine_dir: Path) -> None:
        image = ensure_image(log=self.progress)
        record.suite = image.suite
        record.image = str(image.directory)
        with certs.file_lock(machine_dir.parent / f".{self.cluster}.qemu.lock"):
            record.ip = self._free_ip()
            vm = Vm.new(
                VmLabel(
                    cluster=self.cluster,
                    machine=record.name,
                    store=str(self.store.root),
                    run=current_run() or "",
                )
            )
            record.runtime = str(vm.directory)
            record.api_host = self._loopback(record.ip)
            record.api_port = ENGINE_PORT
            record.ssh_port = free_port(record.api_host)
            self.store.save(record)
        self.progress(f"({record.name}) Generating TLS certificates and an ssh key...")
        certs.write_machine_certs(
            self.store.certs_dir, machine_dir, record.name, record.ip, [record.api_host]
        )
        private, public = ssh_key_pair()
        (machine_dir / "id_rsa").write_bytes(private)
        (machine_dir / "id_rsa").chmod(0o600)
        (machine_dir / "id_rsa.pub").write_bytes(public)
        saved = self._snapshot(image)
        vm.make_disk(saved.disk if saved else image.disk)
        with contextlib.ExitStack() as services:
            if not record.registry_mirrors and self._use_stand_ins():
                # the shared mirror stays until this VM runs (another run's last rm would
                # remove it in between otherwise: see host_lock); released once QEMU runs
                services.enter_context(shared_services_in_use())
                self._mirror_port()  # running and filled before the first pull
                record.registry_mirrors = [f"http://{MIRROR_GUEST}"]
                record.insecure_registries.append(MIRROR_GUEST)
                self.store.save(record)
            self._boot(
                record,
                vm,
                image,
                BOOT_TIMEOUT,
                incoming=saved.state if saved else None,
                launched=services.close,
            )

    def _snapshot(self, image: VmImage) -> Snapshot | None:
        """The image's saved VM (made by the first create that needs it), or None: cold boot."""
        if not snapshot_enabled():
            return None
        try:
            return ensure_snapshot(image, self.progress)
        except MachineError as error:
            self.progress(f"(snapshot) not used: {error}")
            return None

    def _boot(
        self,
        record: Machine,
        vm: Vm,
        image: VmImage,
        timeout: float,
        incoming: Path | None = None,
        launched: Callable[[], None] | None = None,
    ) -> None:
        how = "resuming the saved VM" if incoming else "booting"
        self.progress(f"({record.name}) Starting the VM (QEMU, {how}, {record.ip})...")
        vm.launch(
            image,
            name=f"{self.cluster}-{record.name}",
            api_port=record.api_port,
            ssh_port=record.ssh_port,
            host=record.api_host,
            l2_group=l2_group(record.cluster or self.cluster),
            mac=mac_address(record.cluster or self.cluster, record.name),
            incoming=incoming,
        )
        if launched is not None:
            launched()  # QEMU runs: the VM now counts (teardown.vms_running)
        if incoming is not None:
            vm.resume()
        deadline = time.monotonic() + timeout
        self.progress(f"({record.name}) Waiting for the VM...")
        self._configure(record, vm, deadline, expect_ready=incoming is None)
        self.progress(f"({record.name}) Waiting for the engine...")
        record.engine_version = self._wait_engine(record, vm, deadline)
        self.store.save(record)  # the version its engine gave (the run's provenance reads it)
        self._keep_ssh(record, vm)

    def _keep_ssh(self, record: Machine, vm: Vm) -> None:
        """One ssh connection kept open for the VM's life (``ssh -M -f``): each ``ssh`` command
        then skips the handshake. It ends with the VM (:meth:`Vm.close_ssh`, or the connection
        dropping); without it ``ssh`` still works, only slower."""
        argv = self.ssh_argv(record, [], master=True)
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            spawn.run(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, timeout=60, check=False,
            )  # fmt: skip

    def _config_lines(self, record: Machine) -> builtins.list[str]:
        machine_dir = self.store.machine_dir(record.name)
        settings = {
            "DOJO_HOSTNAME": record.name,
            "DOJO_ADDRESS": f"{record.ip}/{L2_SUBNET.prefixlen}",
            "DOJO_MAC": mac_address(record.cluster or self.cluster, record.name),
            "DOJO_CLOCK": str(int(time.time())),
            "DOJO_REGISTRY_MIRROR": record.registry_mirrors[0] if record.registry_mirrors else "",
            "DOJO_INSECURE_REGISTRIES": " ".join(record.insecure_registries),
            "DOJO_ENGINE_LABELS": " ".join(record.engine_labels),
        }
        lines = [f"{key}={shlex.quote(value)}" for key, value in settings.items()]
        files = {
            "/etc/docker/tls/ca.pem": machine_dir / "ca.pem",
            "/etc/docker/tls/server.pem": machine_dir / "server.pem",
            "/etc/docker/tls/server-key.pem": machine_dir / "server-key.pem",
            "/root/.ssh/authorized_keys": machine_dir / "id_rsa.pub",
        }
        for target, source in files.items():
            lines.append(f"FILE {target} {base64.b64encode(source.read_bytes()).decode()}")
        return [*lines, "END"]

    def _configure(
        self, record: Machine, vm: Vm, deadline: float, *, expect_ready: bool = True
    ) -> None:
        """Send the identity on the config port (after the guest's "ready" when it boots: a
        resumed guest said it before it was saved), then read its "ok"."""
        while True:
            self._check_alive(record, vm)
            try:
                with socket.socket(socket.AF_UNIX) as channel:
                    channel.settimeout(max(1.0, deadline - time.monotonic()))
                    channel.connect(str(vm.config_socket))
                    reader = channel.makefile("r", encoding="utf-8", newline="\n")
                    if expect_ready:
                        _expect(reader, "ready", record.name)
                    payload = "\n".join(self._config_lines(record)) + "\n"
                    channel.sendall(payload.encode())
                    _expect(reader, "ok", record.name)
                    return
            except (FileNotFoundError, ConnectionRefusedError):
                pass
            except TimeoutError:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        raise MachineError(
            f"Error creating machine: {record.name}: the VM did not boot within the time "
            f"allowed:\n{vm.console_tail()}"
        )

    def _check_alive(self, record: Machine, vm: Vm) -> None:
        if not vm.running():
            raise MachineError(
                f"Error creating machine: {record.name}: QEMU exited:\n{vm.console_tail()}"
            )

    def _wait_engine(self, record: Machine, vm: Vm, deadline: float) -> str:
        from dojo_exec.machines.dind import tls_engine_version

        last: Exception | None = None
        while time.monotonic() < deadline:
            self._check_alive(record, vm)
            try:
                return tls_engine_version(
                    self.store.machine_dir(record.name), record.api_host, 5, port=record.api_port
                )
            except Exception as error:  # any failure means "not yet"
                last = error
            time.sleep(0.5)
        raise MachineError(
            f"Error creating machine: {record.name}: its engine did not answer on "
            f"{record.url}: {last}"
        )

    def _loopback(self, ip: str) -> str:
        """A loopback address whose port 2376 is free: ``127.C.C.H`` from the cluster's name
        and the machine's host number (the next C.C when another cluster holds it)."""
        digest = hashlib.sha256(self.cluster.encode()).digest()
        first = int.from_bytes(digest[:2], "big") % (254 * 256)
        host = ip.rsplit(".", 1)[1]
        for step in range(254 * 256):
            value = (first + step) % (254 * 256)
            address = f"127.{1 + value // 256}.{value % 256}.{host}"
            if port_free(address, ENGINE_PORT):
                return address
        raise MachineError("No free loopback address for the machine's engine")

    def _free_ip(self) -> str:
        used = set()
        for name in self.list():
            with contextlib.suppress(MachineError):
                used.add(self._record(name).ip)
        for host in range(FIRST_HOST, 255):
            candidate = str(L2_SUBNET.network_address + host)
            if candidate not in used:
                return candidate
        raise MachineError(f"No free address left in {L2_SUBNET}")

    def _use_stand_ins(self) -> bool:
        if self.mirror is None:
            from dojo_exec.machines.dind import engine_client
            from dojo_exec.machines.offline import use_stand_ins

            try:
                self.mirror = use_stand_ins(engine_client())
            except (ValueError, MachineError):
                self.mirror = False  # no host engine: the VMs pull as they can
        return self.mirror

    def _mirror_port(self) -> int:
        from dojo_exec.machines.dind import engine_client
        from dojo_exec.machines.mirror import ensure_mirror_port

        with named_lock("mirror"):
            return ensure_mirror_port(engine_client(), log=self.progress)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, name: str) -> None:
        record = self._record(name)
        vm = self._vm(record)
        if vm is None or not vm.directory.is_dir():
            raise MachineError(f"Error starting {name}: its VM folder is gone")
        if vm.running():
            return
        image = ensure_image(log=self.progress)
        with contextlib.ExitStack() as services:
            if f"http://{MIRROR_GUEST}" in record.registry_mirrors:
                # removed while no VM ran? start it again, kept until this VM runs
                services.enter_context(shared_services_in_use())
                self._mirror_port()
            self._boot(record, vm, image, BOOT_TIMEOUT, launched=services.close)

    def stop(self, name: str) -> None:
        """dockerd stops its containers, the guest syncs, PID 1 ends and QEMU with it."""
        record = self._record(name)
        vm = self._vm(record)
        if vm is None or not vm.running():
            return
        self._ssh(record, ["kill -TERM $(pidof dockerd)"], capture=True)
        deadline = time.monotonic() + STOP_TIMEOUT
        while vm.running() and time.monotonic() < deadline:
            time.sleep(0.2)
        vm.kill()

    def kill(self, name: str) -> None:
        vm = self._vm(self._record(name))
        if vm is not None:
            vm.kill()

    def remove(self, name: str, force: bool = False) -> None:
        """Kill the VM, delete its folder (overlay, sockets, log) and the machine's directory."""
        vm = self._vm(self._record(name))
        if vm is not None:
            vm.remove()
        self.store.remove(name)

    # -- ssh ----------------------------------------------------------------------------------
    def ssh_argv(
        self, record: Machine, command: Sequence[str], tty: bool = False, master: bool = False
    ) -> builtins.list[str]:
        key = self.store.machine_dir(record.name) / "id_rsa"
        argv = ["ssh", "-i", str(key), "-p", str(record.ssh_port)]
        argv += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        argv += ["-o", "LogLevel=quiet", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=30"]
        vm = self._vm(record)
        if vm is not None:  # through the kept connection when it is there (a handshake under
            # TCG costs seconds), else directly
            argv += ["-o", f"ControlPath={vm.ssh_socket}"]
            if master:
                argv += ["-M", "-N", "-f", "-o", "ControlPersist=yes"]
                argv += ["-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3"]
            else:
                argv += ["-o", "ControlMaster=no"]
        if tty:
            argv.append("-t")
        return [*argv, f"root@{record.api_host}", *command]

    def _ssh(self, record: Machine, command: Sequence[str], capture: bool = False) -> int:
        argv = self.ssh_argv(record, command)
        if capture:
            return spawn.run(argv, capture_output=True, check=False, timeout=60).returncode
        return spawn.call(argv)

    def exec(self, name: str, command: Sequence[str], interactive: bool = False) -> int:
        """``ssh``: real ssh into the VM (a login shell when ``command`` is empty)."""
        record = self._record(name)
        if self.state(name) is not State.RUNNING:
            raise MachineError(f'Error: Cannot run SSH command: Host "{name}" is not running')
        tty = not command and interactive
        sys.stdout.flush()
        return spawn.call(self.ssh_argv(record, list(command), tty=tty), env=dict(os.environ))


def _expect(reader: object, word: str, machine: str) -> None:
    line = reader.readline()  # type: ignore[attr-defined]
    if line.strip() != word:
        raise MachineError(
            f"Error creating machine: {machine}: the VM answered {line.strip()!r}, not {word!r}"
        )
