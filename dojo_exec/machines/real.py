"""Real VMs: delegate to an installed ``docker-machine`` (virtualbox, generic, cloud drivers).

The embedded command line hands a command over to the real binary when ``DOJO_MACHINE_DRIVER=real``
or when the named machine was made by a real docker-machine (its config.json names another driver).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dojo_exec import spawn
from dojo_exec.machines.driver import CreateOptions, MachineError, State
from dojo_exec.machines.providers import PROVIDERS
from dojo_exec.machines.store import DRIVER_NAME, Store

SHIM_MARKER = "# dojo-exec docker-machine shim"
"""The line that marks the ``docker-machine`` script :func:`cli.install_shim` writes."""
_NAMED = {"active", "config", "env", "inspect", "ip", "kill", "restart", "rm", "ssh"}
_NAMED |= {"start", "status", "stop", "url", "version", "regenerate-certs", "upgrade", "scp"}


def is_shim(path: Path) -> bool:
    """True for the ``docker-machine`` script that :func:`cli.install_shim` writes."""
    try:
        with path.open("rb") as handle:
            return SHIM_MARKER.encode() in handle.read(512)
    except OSError:
        return False


def find_real_docker_machine(search_path: str | None = None) -> Path | None:
    """The first ``docker-machine`` on PATH that is not our shim."""
    for directory in (search_path or os.environ.get("PATH", "")).split(os.pathsep):
        candidate = Path(directory or ".") / "docker-machine"
        if candidate.is_file() and os.access(candidate, os.X_OK) and not is_shim(candidate):
            return candidate.absolute()
    return None


def delegate(argv: Sequence[str]) -> None:
    """Replace this process by the real docker-machine running ``argv``."""
    real = find_real_docker_machine()
    if real is None:
        raise MachineError(
            "This needs a real docker-machine on PATH, and none was found "
            "(install docker-machine, or use the embedded driver)"
        )
    spawn.exec_replacing(str(real), [str(real), *argv])


def delegate_if_real(store: Store, command: str, command_args: list[str], argv: list[str]) -> None:
    """Delegate when asked (``DOJO_MACHINE_DRIVER=real``) or for a machine the real one made."""
    if command == "down":
        return
    if os.environ.get("DOJO_MACHINE_DRIVER", DRIVER_NAME) == "real":
        delegate(argv)
    if command not in _NAMED:
        return
    for name in command_args[:1] if command == "ssh" else command_args:
        if name.startswith("-") or not store.exists(name):
            continue
        try:
            driver_name = store.load(name).driver_name
        except MachineError:
            continue
        if driver_name and driver_name not in PROVIDERS:
            delegate(argv)


class RealDriver:
    """The :class:`~dojo_exec.machines.driver.Driver` of a real ``docker-machine`` binary.

    Each operation is that binary's command on the same storage path (``-s``); the page runner
    and teardown use it for machines a real docker-machine made (VirtualBox, generic, cloud).
    """

    name = "docker-machine"

    def __init__(self, store: Store | None = None, binary: Path | None = None) -> None:
        self.store = store or Store()
        self.binary = binary

    def _argv(self, *args: str) -> list[str]:
        binary = self.binary or find_real_docker_machine()
        if binary is None:
            raise MachineError("This needs a real docker-machine on PATH, and none was found")
        return [str(binary), "-s", str(self.store.root), *args]

    def _run(self, *args: str, timeout: float = 900) -> str:
        proc = spawn.run(
            self._argv(*args), capture_output=True, text=True, check=False, timeout=timeout
        )
        if proc.returncode != 0:
            raise MachineError((proc.stderr or proc.stdout).strip() or f"{args[0]} failed")
        return str(proc.stdout)

    def create(self, name: str, options: CreateOptions) -> None:
        self._run("create", "--driver", options.requested_driver, name)

    def remove(self, name: str, force: bool = False) -> None:
        self._run("rm", "-y", *(["-f"] if force else []), name)

    def start(self, name: str) -> None:
        self._run("start", name)

    def stop(self, name: str) -> None:
        self._run("stop", name)

    def kill(self, name: str) -> None:
        self._run("kill", name)

    def state(self, name: str) -> State:
        try:
            return State(self._run("status", name, timeout=60).strip())
        except ValueError:
            return State.ERROR

    def states(self, names: Sequence[str]) -> dict[str, tuple[State, str]]:
        return {name: (self.state(name), "") for name in names}

    def ip(self, name: str) -> str:
        return self._run("ip", name, timeout=60).strip()

    def url(self, name: str) -> str:
        return self._run("url", name, timeout=60).strip()

    def engine_version(self, name: str, timeout: float = 10.0) -> str:
        return self._run("version", name, timeout=timeout + 5).strip()

    def exec(self, name: str, command: Sequence[str], interactive: bool = False) -> int:
        return spawn.call(self._argv("ssh", name, *command))

    def list(self) -> list[str]:
        return self._run("ls", "-q", timeout=60).split()
