"""Real VMs: delegate to an installed ``docker-machine`` (virtualbox, generic, cloud drivers).

The embedded command line hands a command over to the real binary when ``DOJO_MACHINE_DRIVER=real``
or when the named machine was made by a real docker-machine (its config.json names another driver).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dojo_exec import spawn
from dojo_exec.machines.driver import MachineError
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
