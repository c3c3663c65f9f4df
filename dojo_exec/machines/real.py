"""Real VMs: delegate to an installed ``docker-machine`` (virtualbox, generic, cloud drivers).

The embedded command line hands a command over to the real binary when ``DOJO_MACHINE_DRIVER=real``
or when the named machine was made by a real docker-machine (its config.json names another driver).
:class:`RealDriver` offers the same small driver interface over the binary.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dojo_exec import spawn
from dojo_exec.machines.driver import CreateOptions, MachineError, State
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
        if driver_name and driver_name != DRIVER_NAME:
            delegate(argv)


class RealDriver:
    """The driver interface over a real ``docker-machine`` binary."""

    def __init__(self, driver: str = "virtualbox", binary: Path | None = None) -> None:
        found = binary or find_real_docker_machine()
        if found is None:
            raise MachineError(f'driver "{driver}" needs a real docker-machine on PATH')
        self.binary = str(found)
        self.name = driver

    def _run(self, *args: str, check: bool = True) -> str:
        done = spawn.run([self.binary, *args], capture_output=True, text=True)
        if check and done.returncode != 0:
            raise MachineError(done.stderr.strip() or f"docker-machine {args[0]} failed")
        return done.stdout

    def create(self, name: str, options: CreateOptions) -> None:
        args = ["create", "--driver", self.name]
        for mirror in options.registry_mirrors:
            args += ["--engine-registry-mirror", mirror]
        for registry in options.insecure_registries:
            args += ["--engine-insecure-registry", registry]
        for label in options.engine_labels:
            args += ["--engine-label", label]
        self._run(*args, name)

    def remove(self, name: str, force: bool = False) -> None:
        self._run("rm", "-y", *(["-f"] if force else []), name)

    def start(self, name: str) -> None:
        self._run("start", name)

    def stop(self, name: str) -> None:
        self._run("stop", name)

    def state(self, name: str) -> State:
        try:
            return State(self._run("status", name).strip())
        except ValueError:
            return State.ERROR

    def ip(self, name: str) -> str:
        return self._run("ip", name).strip()

    def exec(self, name: str, command: Sequence[str], interactive: bool = False) -> int:
        return spawn.call([self.binary, "ssh", name, *command])

    def list(self) -> list[str]:
        return self._run("ls", "-q").split()
