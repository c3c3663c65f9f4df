"""The machine driver interface (8 methods, cf. kind's provider), its states and its errors."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class State(str, enum.Enum):
    """docker-machine's machine states, with its spellings."""

    NONE = ""
    RUNNING = "Running"
    PAUSED = "Paused"
    SAVED = "Saved"
    STOPPED = "Stopped"
    STOPPING = "Stopping"
    STARTING = "Starting"
    ERROR = "Error"
    TIMEOUT = "Timeout"

    def __str__(self) -> str:
        return self.value


class MachineError(Exception):
    """An error shown to the user as it is (docker-machine's wording where it has one)."""


class HostDoesNotExist(MachineError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f'Host does not exist: "{name}"')


class HostAlreadyExists(MachineError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f'Host already exists: "{name}"')


class HostNotRunning(MachineError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__("Host is not running")


@dataclass(frozen=True)
class CreateOptions:
    """What ``create`` may ask of a driver besides the name."""

    requested_driver: str = "embedded"
    registry_mirrors: Sequence[str] = ()
    insecure_registries: Sequence[str] = ()
    engine_labels: Sequence[str] = ()
    engine_env: Sequence[str] = ()
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Driver(Protocol):
    """Machines behind one small interface: embedded Docker-in-Docker, or a real docker-machine."""

    name: str

    def create(self, name: str, options: CreateOptions) -> None:
        """Create and start machine ``name`` with a TLS engine on port 2376."""

    def remove(self, name: str, force: bool = False) -> None:
        """Remove the machine and everything it owns."""

    def start(self, name: str) -> None:
        """Start a stopped machine and wait for its engine."""

    def stop(self, name: str) -> None:
        """Stop a running machine."""

    def state(self, name: str) -> State:
        """The machine's current state."""

    def ip(self, name: str) -> str:
        """The address its engine listens on."""

    def exec(self, name: str, command: Sequence[str], interactive: bool = False) -> int:
        """Run ``command`` in the machine (a shell when empty); return its exit status."""

    def list(self) -> list[str]:
        """Names of the machines this driver knows."""
