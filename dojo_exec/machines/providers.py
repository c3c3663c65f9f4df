"""The one place that chooses a machine provider; every caller gets its driver or sweeper here.

Providers: ``embedded`` (Docker-in-Docker containers, :mod:`.dind`), ``qemu`` (real VMs,
:mod:`.qemu.driver`) and a real ``docker-machine`` binary (:mod:`.real`).  A machine that exists
is handled by the provider recorded in its ``config.json`` (``DriverName``); a new one by
``$DOJO_DRIVER`` when set (how ``--dojo-driver qemu`` runs pages that say
``--driver virtualbox`` unchanged), else by ``create --driver`` when it names a provider, else by
the embedded one.  Modules are imported when a provider is first used: the ``docker-machine``
shim must not pay for the Docker SDK when a command needs none.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from dojo_exec.machines.driver import Driver, MachineError, Reader, Sweeper
from dojo_exec.machines.store import DRIVER_NAME, Store

if TYPE_CHECKING:
    from dojo_exec.machines.engines import Engine

EMBEDDED = DRIVER_NAME
QEMU = "qemu"
REAL = "docker-machine"
ENV_DRIVER = "DOJO_DRIVER"
ALIASES = {EMBEDDED: EMBEDDED, "dind": EMBEDDED, QEMU: QEMU}
"""Names a reader or ``$DOJO_DRIVER`` may use for a provider of this package."""
PROVIDERS = (EMBEDDED, QEMU)

Progress = Callable[[str], None]


def provider_name(name: str) -> str | None:
    """The provider ``name`` (a ``--driver`` or ``$DOJO_DRIVER`` value) selects, or None."""
    return ALIASES.get(name.lower())


def provider_for_create(requested: str, environ: Mapping[str, str] | None = None) -> str:
    """The provider a new machine gets (see the module docstring)."""
    env = os.environ if environ is None else environ
    chosen = env.get(ENV_DRIVER, "")
    if chosen and chosen != "none":
        provider = provider_name(chosen)
        if provider is None:
            raise MachineError(
                f"Invalid {ENV_DRIVER} {chosen!r}: expected one of {', '.join(ALIASES)}"
            )
        return provider
    return provider_name(requested) or EMBEDDED


def driver(
    provider: str,
    store: Store | None = None,
    *,
    cluster: str | None = None,
    progress: Progress | None = None,
) -> Driver:
    """The driver of ``provider`` for ``store`` (default: ``$MACHINE_STORAGE_PATH``)."""
    if provider == EMBEDDED:
        from dojo_exec.machines.dind import DindDriver

        return DindDriver(store=store, cluster=cluster, progress=progress)
    if provider == QEMU:
        from dojo_exec.machines.qemu.driver import QemuDriver

        return QemuDriver(store=store, cluster=cluster, progress=progress)
    if provider == REAL:
        from dojo_exec.machines.real import RealDriver

        return RealDriver(store=store)
    raise MachineError(f"Unknown machine provider {provider!r}")


def reader(provider: str, store: Store | None = None) -> Reader:
    """What answers questions about ``provider``'s existing machines (state, address,
    ``ssh``): for embedded machines :class:`.dind_nodes.DindNodes`, which needs no Docker SDK
    (a ``docker-machine env`` or ``ssh`` is then a fraction of the CPU); else the driver."""
    if provider == EMBEDDED:
        from dojo_exec.machines.dind_nodes import DindNodes

        return DindNodes(store=store)
    return driver(provider, store)


def provider_of(store: Store, name: str) -> str:
    """The provider that made machine ``name`` (its ``DriverName``; a foreign one: real)."""
    recorded = store.load(name).driver_name
    return recorded if recorded in PROVIDERS else REAL


def sweepers(engines: Sequence[Engine] = ()) -> list[Sweeper]:
    """Every provider's sweeper (teardown, ``dojo-exec leaks``/``down``): the embedded one once
    per Docker engine of ``engines`` (none given: this process's engine)."""
    from dojo_exec.machines.qemu.sweeper import QemuSweeper
    from dojo_exec.machines.teardown import DindSweeper

    embedded: list[Sweeper] = [DindSweeper(engine=engine) for engine in engines]
    return [*(embedded or [DindSweeper()]), QemuSweeper()]


def describe(provider: str) -> str:
    """How provenance names the provider (the qemu one with its accelerator and guest kernel)."""
    if provider == EMBEDDED:
        return "embedded (Docker-in-Docker)"
    if provider == QEMU:
        from dojo_exec.machines.qemu.vm import describe as describe_qemu

        return describe_qemu()
    return f"{provider} (docker-machine)"
