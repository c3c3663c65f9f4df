"""A second, real Docker engine on this host, for the multi-engine tests (and by hand).

Debian's ``dockerd`` with its own socket (and a TLS port on 127.0.0.1), data root, exec root
(its own containerd), pid file, config file and default bridge. What two engines on one host
share, and how this one keeps off the first one's:

* ``docker0``: a dockerd started with ``--bridge=none`` *deletes* the interface ``docker0``
  (moby's ``removeDefaultBridgeInterface``), the first engine's default bridge: this one gets a
  bridge of its own, made here, on a subnet no interface or route of the host uses;
* iptables: every dockerd with iptables on flushes the ``DOCKER`` and ``DOCKER-ISOLATION-*``
  chains at start (moby's ``removeIPChains``), the first engine's rules with them: this one runs
  with ``--iptables=false``. The first engine's ``FORWARD`` policy is DROP and
  ``br_netfilter`` sends frames bridged between containers through it, so one rule in
  ``DOCKER-USER`` (the chain dockerd leaves to users) accepts bridged traffic inside the machines'
  subnet pool; it is removed at stop;
* subnets: the machines' cluster networks of both engines come from the same pool; the driver
  picks a subnet no interface or route of the host uses (see ``dind._create_network``).

    python tests/second_dockerd.py start   # prints DOCKER_HOST=…; stop with: … stop ROOT
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from dojo_exec.machines import certs
from dojo_exec.machines.dind import SUBNET_POOL
from dojo_exec.machines.engines import Engine, host_networks

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
BRIDGE_POOL = ipaddress.ip_network("10.215.0.0/16")


class Unsupported(RuntimeError):
    """This host cannot run a second engine as this module does (a reason to skip, not fail)."""


def missing() -> str | None:
    """What this host lacks to run a second engine (None: nothing)."""
    if os.geteuid() != 0:
        return "a second dockerd needs root"
    for tool, package in (("dockerd", "docker.io"), ("ip", "iproute2"), ("iptables", "iptables")):
        if shutil.which(tool) is None:
            return f"{tool} not found (Debian package {package})"
    if _iptables("-S", "DOCKER-USER").returncode != 0:
        return "iptables chain DOCKER-USER not found: the first engine is no dockerd with iptables"
    return None


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["iptables", *args], capture_output=True, text=True, timeout=30)


def _run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _free_subnet() -> ipaddress.IPv4Network:
    taken = host_networks()
    for subnet in BRIDGE_POOL.subnets(new_prefix=24):
        if not any(subnet.overlaps(other) for other in taken):
            return subnet
    raise RuntimeError(f"no free /24 left in {BRIDGE_POOL} for a second engine's bridge")


@dataclass
class SecondEngine:
    """A running second dockerd (see the module docstring)."""

    root: Path
    bridge: str
    tls_port: int
    pid: int

    @property
    def socket(self) -> str:
        return f"unix://{self.root}/docker.sock"

    @property
    def tls_host(self) -> str:
        return f"tcp://127.0.0.1:{self.tls_port}"

    @property
    def cert_path(self) -> Path:
        return self.root / "tls"

    @property
    def engine(self) -> Engine:
        return Engine(self.socket)

    @property
    def tls_engine(self) -> Engine:
        return Engine(self.tls_host, tls_verify=True, cert_path=str(self.cert_path))

    @property
    def rule(self) -> list[str]:
        """The DOCKER-USER rule that lets frames bridged inside the machines' pool through."""
        pool = str(SUBNET_POOL)
        return ["-s", pool, "-d", pool, "-m", "physdev", "--physdev-is-bridged",
                "-m", "comment", "--comment", f"dojo-second-engine {self.root.name}",
                "-j", "ACCEPT"]  # fmt: skip


def start() -> SecondEngine:
    """Start a second engine; everything made so far is removed if it does not answer."""
    tag = uuid.uuid4().hex[:6]
    root = Path(tempfile.mkdtemp(prefix=f"dje-{tag}-", dir="/tmp"))
    engine = SecondEngine(root=root, bridge=f"dje{tag}", tls_port=free_port(), pid=0)
    try:
        subnet = _free_subnet()
        _run("ip", "link", "add", engine.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{subnet.network_address + 1}/{subnet.prefixlen}", "dev",
             engine.bridge)  # fmt: skip
        _run("ip", "link", "set", engine.bridge, "up")
        inserted = _iptables("-I", "DOCKER-USER", *engine.rule)
        if inserted.returncode != 0:
            raise Unsupported(f"iptables cannot match bridged frames: {inserted.stderr.strip()}")
        certs.write_machine_certs(root / "ca", engine.cert_path, "second-engine", "127.0.0.1")
        (root / "daemon.json").write_text("{}\n")
        tls = engine.cert_path
        log = (root / "dockerd.log").open("wb")
        process = subprocess.Popen(
            ["dockerd", "--host", engine.socket, "--host", engine.tls_host,
             "--tlsverify", f"--tlscacert={tls / 'ca.pem'}", f"--tlscert={tls / 'server.pem'}",
             f"--tlskey={tls / 'server-key.pem'}",
             "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
             "--pidfile", str(root / "docker.pid"), "--config-file", str(root / "daemon.json"),
             "--bridge", engine.bridge, "--iptables=false", "--ip-forward=false"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        engine.pid = process.pid
        _wait_ready(engine, process)
    except BaseException:
        stop(engine)
        raise
    return engine


def _wait_ready(engine: SecondEngine, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(Exception):
            client = engine.engine.client(timeout=5)
            try:
                client.ping()
                return
            finally:
                client.close()
        time.sleep(0.2)
    tail = (engine.root / "dockerd.log").read_text(errors="replace").splitlines()[-5:]
    raise RuntimeError(f"the second dockerd did not answer on {engine.socket}: {' | '.join(tail)}")


ENGINE_PROCESSES = ("dockerd", "containerd", "containerd-shim", "docker-proxy", "runc")
"""Names (``/proc/PID/comm``, 15 characters at most) of what a dockerd starts."""


def _processes_under(root: Path) -> list[int]:
    """The engine's processes (dockerd, its containerd, shims, proxies): those named so whose
    command line names ``root`` (not, say, a shell whose command names the folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            name = (entry / "comm").read_text().strip()
            if (
                name.startswith(ENGINE_PROCESSES)
                and str(root).encode() in (entry / "cmdline").read_bytes()
            ):
                found.append(int(entry.name))
    return found


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
        time.sleep(0.1)
    return pids


def _zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return " Z " in Path(f"/proc/{pid}/stat").read_text()
    return True


def stop(engine: SecondEngine) -> None:
    """Stop the engine (by its pid file), then remove its rule, bridge, mounts and folders."""
    pidfile = engine.root / "docker.pid"
    with contextlib.suppress(OSError, ValueError):
        engine.pid = int(pidfile.read_text().strip())
    if engine.pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(engine.pid, signal.SIGTERM)
        if _wait_gone([engine.pid], STOP_TIMEOUT):
            with contextlib.suppress(ProcessLookupError):
                os.kill(engine.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(engine.pid, 0)  # our child when started by this process
    left = _wait_gone(_processes_under(engine.root), 10.0)
    for pid in left:  # what it started and left (containerd, a shim): ours, by pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    while _iptables("-D", "DOCKER-USER", *engine.rule).returncode == 0:
        pass
    subprocess.run(["ip", "link", "del", engine.bridge], capture_output=True, timeout=30)
    mounts = [
        line.split()[1]
        for line in Path("/proc/mounts").read_text().splitlines()
        if line.split()[1].startswith(str(engine.root))
    ]
    for mount in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True, timeout=30)
    shutil.rmtree(engine.root, ignore_errors=True)


def leftovers(engine: SecondEngine) -> list[str]:
    """What a stopped engine left on this host (nothing, when ``stop`` did its job)."""
    found = [f"process {pid}" for pid in _processes_under(engine.root)]
    if engine.root.exists():
        found.append(f"folder {engine.root}")
    if Path(f"/sys/class/net/{engine.bridge}").exists():
        found.append(f"bridge {engine.bridge}")
    if _iptables("-C", "DOCKER-USER", *engine.rule).returncode == 0:
        found.append("iptables rule in DOCKER-USER")
    return found


if __name__ == "__main__":
    if sys.argv[1:2] == ["start"]:
        started = start()
        print(f"DOCKER_HOST={started.socket}  # stop: {sys.argv[0]} stop {started.root} "
              f"{started.bridge} {started.tls_port} {started.pid}")  # fmt: skip
    elif sys.argv[1:2] == ["stop"] and len(sys.argv) == 6:
        stop(SecondEngine(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
    else:
        raise SystemExit(f"usage: {sys.argv[0]} start | stop ROOT BRIDGE PORT PID")
