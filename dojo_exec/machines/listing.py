"""The rows of ``docker-machine ls``/``active``: each provider's states, versions over TLS.

Everything about a machine is asked of its provider's reader (:func:`.providers.reader`): the
embedded one answers the states of all its machines with one ``docker container inspect`` and
asks each engine its version with the standard library (no Docker SDK), the qemu one from its
VMs' processes.  Versions are asked concurrently, each within ``timeout``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping

from dojo_exec.machines import providers
from dojo_exec.machines.driver import MachineError, Reader, State
from dojo_exec.machines.formats import LsItem
from dojo_exec.machines.store import Store


def _version(reader: Reader, name: str, timeout: float) -> tuple[str, str, float]:
    started = time.monotonic()
    try:
        version = "v" + reader.engine_version(name, timeout=timeout)
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
    running: list[tuple[Reader, str]] = []
    for provider, provider_names in by_provider.items():
        reader = providers.reader(provider, store)
        for name, (state, problem) in reader.states(provider_names).items():
            item = LsItem(Name=name, DriverName=provider, State=str(state), Error=problem)
            if state is State.RUNNING:
                item.URL = reader.url(name)
                item.ActiveHost = environ.get("DOCKER_HOST") == item.URL
                item.Active = "*" if item.ActiveHost else "-"
                running.append((reader, name))
            items[name] = item
    if need_versions and running:
        answers: dict[str, tuple[str, str, float]] = {}

        def ask(reader: Reader, name: str) -> None:
            answers[name] = _version(reader, name, timeout)

        # plain threads: importing concurrent.futures (and its logging) would cost ``ls`` ~6 ms
        threads = {
            name: threading.Thread(target=ask, args=(reader, name), daemon=True)
            for reader, name in running
        }
        for thread in threads.values():
            thread.start()
        for name, thread in threads.items():
            thread.join(timeout + 1)
            if name not in answers:
                items[name].State, items[name].URL = str(State.TIMEOUT), ""
                continue
            version, problem, seconds = answers[name]
            items[name].DockerVersion = version
            items[name].Error = problem
            items[name].ResponseTime = f"{seconds * 1000:.0f}ms"
    return [items[name] for name in names]
