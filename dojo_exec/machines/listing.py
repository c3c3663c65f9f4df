"""The rows of ``docker-machine ls``/``active``: each provider's states, versions over TLS.

Everything about a machine is asked of its provider's driver (:mod:`.providers`): the embedded
one answers the states of all its machines with one engine query, the qemu one from its VMs'
processes.  Versions are asked concurrently, each within ``timeout``.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Mapping

from dojo_exec.machines import providers
from dojo_exec.machines.driver import Driver, MachineError, State
from dojo_exec.machines.formats import LsItem
from dojo_exec.machines.store import Store


def _version(driver: Driver, name: str, timeout: float) -> tuple[str, str, float]:
    started = time.monotonic()
    try:
        version = "v" + driver.engine_version(name, timeout=timeout)
        return version, "", time.monotonic() - started
    except Exception as error:  # reported in the ERRORS column, as docker-machine does
        return "Unknown", str(error).replace("\n", " "), time.monotonic() - started


def list_items(
    store: Store,
    *,
    timeout: float = 10,
    need_versions: bool = True,
    environ: Mapping[str, str] | None = None,
) -> list[LsItem]:
    """One ``LsItem`` per machine of ``store``, in docker-machine's order."""
    environ = os.environ if environ is None else environ
    names = store.names()
    items: dict[str, LsItem] = {}
    by_provider: dict[str, list[str]] = {}
    for name in names:
        try:
            provider = providers.provider_of(store, name)
        except MachineError as load_error:
            items[name] = LsItem(
                Name=name, DriverName="not found", State="Error", Error=str(load_error)
            )
            continue
        if provider == providers.REAL:
            items[name] = LsItem(
                Name=name,
                DriverName=store.load(name).driver_name,
                State="Error",
                Error="made by another docker-machine: use that one",
            )
            continue
        by_provider.setdefault(provider, []).append(name)
    running: list[tuple[Driver, str]] = []
    for provider, provider_names in by_provider.items():
        driver = providers.driver(provider, store)
        for name, (state, problem) in driver.states(provider_names).items():
            item = LsItem(Name=name, DriverName=provider, State=str(state), Error=problem)
            if state is State.RUNNING:
                item.URL = driver.url(name)
                item.ActiveHost = environ.get("DOCKER_HOST") == item.URL
                item.Active = "*" if item.ActiveHost else "-"
                running.append((driver, name))
            items[name] = item
    if need_versions and running:
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(running)) as pool:
            futures = {name: pool.submit(_version, d, name, timeout) for d, name in running}
            for name, future in futures.items():
                try:
                    version, problem, seconds = future.result(timeout=timeout + 1)
                except concurrent.futures.TimeoutError:
                    items[name].State, items[name].URL = str(State.TIMEOUT), ""
                    continue
                items[name].DockerVersion = version
                items[name].Error = problem
                items[name].ResponseTime = f"{seconds * 1000:.0f}ms"
    return [items[name] for name in names]
