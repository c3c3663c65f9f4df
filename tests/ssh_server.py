"""A private sshd on 127.0.0.1 for the ``ssh://`` engine test: its own host key, config, pid file
and authorized key, and an ``ssh`` on PATH that uses its own client key and config, so neither
the system's sshd nor the user's ``~/.ssh`` is touched. Stopped by its pid, nothing left."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from second_dockerd import free_port

SSHD = Path("/usr/sbin/sshd")
PRIVSEP = Path("/run/sshd")  # Debian's sshd refuses to start without it


def missing() -> str | None:
    """What this host lacks to run the private sshd (None: nothing)."""
    if os.geteuid() != 0:
        return "a private sshd logging in as root needs root"
    if not SSHD.exists():
        return f"{SSHD} not found (Debian package openssh-server)"
    for tool in ("ssh", "ssh-keygen", "docker"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    if importlib.util.find_spec("paramiko") is None:
        return "paramiko not installed (pip install 'dojo-exec[ssh]')"
    return None


@dataclass
class SshServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    made_privsep: bool

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    @property
    def bin_dir(self) -> Path:
        """Put first on PATH: its ``ssh`` uses this server's client key and config."""
        return self.root / "bin"


def start() -> SshServer:
    root = Path(tempfile.mkdtemp(prefix="dojo-sshd-"))
    port = free_port()
    for key in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / key)],
            check=True,
            timeout=30,
        )
    (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
    (root / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_key'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\nPidFile {root / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
    )
    (root / "ssh_config").write_text(
        f"Host 127.0.0.1\n  IdentityFile {root / 'client_key'}\n  IdentitiesOnly yes\n"
        "  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n  LogLevel ERROR\n"
    )
    (root / "bin").mkdir()
    wrapper = root / "bin" / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {shutil.which("ssh")} -F {root / "ssh_config"} "$@"\n')
    wrapper.chmod(0o755)
    made_privsep = not PRIVSEP.exists()
    PRIVSEP.mkdir(mode=0o755, exist_ok=True)
    process = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(root / "sshd_config")],
        stdin=subprocess.DEVNULL,
        stdout=(root / "sshd.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = SshServer(root, port, process, made_privsep)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    log = (root / "sshd.log").read_text(errors="replace").strip()
    stop(server)
    raise RuntimeError(f"the private sshd did not start: {log}")


def stop(server: SshServer) -> None:
    """Stop the sshd (its session processes end with their connections) and remove its files."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    shutil.rmtree(server.root, ignore_errors=True)
    if server.made_privsep:
        PRIVSEP.rmdir()
