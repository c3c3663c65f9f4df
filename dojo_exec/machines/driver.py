"""The machine driver interface, its states and its errors.

Small protocols, each implemented by every provider (``embedded``, ``qemu``, a real
``docker-machine``) and chosen by :mod:`.providers`: a :class:`Driver` does one machine's
operations for one store and cluster (a :class:`Reader` only answers about existing machines,
for ``ls``, ``env``, ``ssh`` …); a :class:`Sweeper` finds and removes what a provider left (a
cluster's, a run's, everything), so teardown and leak checks never need to know how a provider
works.
"""

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
class Reader(Protocol):
    """What one provider answers about the existing machines of one store and cluster."""

    name: str

    def state(self, name: str) -> State:
        """The machine's current state."""

    def ip(self, name: str) -> str:
        """The address its engine listens on."""

    def url(self, name: str) -> str:
        """``tcp://HOST:PORT`` where the machine's engine answers from this host."""

    def exec(self, name: str, command: Sequence[str], interactive: bool = False) -> int:
        """Run ``command`` in the machine (a shell when empty); return its exit status."""

    def list(self) -> list[str]:
        """Names of the machines this driver knows."""

    def states(self, names: Sequence[str]) -> dict[str, tuple[State, str]]:
        """State of each machine, with a problem to show in ``ls``'s ERRORS ("" for none)."""

    def engine_version(self, name: str, timeout: float = 10.0) -> str:
        """The machine's engine version (``docker version``'s server), asked over TLS."""


@runtime_checkable
class Driver(Reader, Protocol):
    """One provider's machines of one store and cluster (see the module docstring)."""

    def create(self, name: str, options: CreateOptions) -> None:
        """Create and start machine ``name`` with a TLS engine on port 2376."""

    def remove(self, name: str, force: bool = False) -> None:
        """Remove the machine and everything it owns."""

    def start(self, name: str) -> None:
        """Start a stopped machine and wait for its engine."""

    def stop(self, name: str) -> None:
        """Stop a running machine."""

    def kill(self, name: str) -> None:
        """Stop a machine at once (no clean shutdown)."""


@dataclass(frozen=True)
class Scope:
    """What a sweep covers: one cluster, one run (``$DOJO_RUN``), or everything (both None)."""

    cluster: str | None = None
    run: str | None = None
    stores: Sequence[object] = ()
    """Machine stores to look in besides the default (``Store`` objects)."""


@runtime_checkable
class Sweeper(Protocol):
    """A provider's leftovers: found and removed by label or record, after a crash or Ctrl-C."""

    name: str

    def leaks(self, scope: Scope) -> list[str]:
        """What is left in ``scope``, one "kind name" line each."""

    def remove(self, scope: Scope) -> list[str]:
        """Remove everything in ``scope``; what was removed."""
