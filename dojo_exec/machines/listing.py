"""The rows of ``docker-machine ls``/``active``: states from one engine query, versions over TLS."""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Mapping

from dojo_exec.machines.driver import MachineError, State
from dojo_exec.machines.formats import LsItem
from dojo_exec.machines.labels import LABEL_MANAGED
from dojo_exec.machines.store import DRIVER_NAME, Machine, Store

_STATES = {
    "running": State.RUNNING,
    "created": State.STOPPED,
    "exited": State.STOPPED,
    "paused": State.PAUSED,
    "restarting": State.STARTING,
    "removing": State.STOPPING,
    "dead": State.ERROR,
}


def _version(store: Store, machine: Machine, timeout: float) -> tuple[str, str, float]:
    from dojo_exec.machines.dind import tls_client  # the Docker SDK: see list_items

    started = time.monotonic()
    try:
        client = tls_client(store.machine_dir(machine.name), machine.ip, timeout=timeout)
        try:
            version = "v" + str(client.version()["Version"])
        finally:
            client.close()
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
    if not names:
        return []
    # the Docker SDK only once there is a machine to ask about: the shim's ``ls`` starts fast
    import docker.errors

    from dojo_exec.machines.dind import engine_client

    client = engine_client(environ)
    try:
        # one list call, no per-container inspect: containers of other clusters may be
        # removed meanwhile (pages run in parallel), which must not break this listing
        statuses = {
            name.lstrip("/"): c["State"]
            for c in client.api.containers(all=True, filters={"label": f"{LABEL_MANAGED}=1"})
            for name in c.get("Names") or []
        }
    except docker.errors.DockerException as error:
        raise MachineError(f"Error listing machines: {error}") from error
    items: dict[str, LsItem] = {}
    running: list[Machine] = []
    for name in names:
        try:
            machine = store.load(name)
        except MachineError as load_error:
            items[name] = LsItem(
                Name=name, DriverName="not found", State="Error", Error=str(load_error)
            )
            continue
        if machine.driver_name != DRIVER_NAME:
            items[name] = LsItem(
                Name=name,
                DriverName=machine.driver_name,
                State="Error",
                Error="made by another docker-machine: use that one",
            )
            continue
        status = statuses.get(machine.container)
        state = _STATES.get(status or "", State.ERROR)
        problem = "" if status else f"container {machine.container} not found"
        if not machine.ip and not status:
            state, problem = State.NONE, ""  # being created
        item = LsItem(Name=name, State=str(state), Error=problem)
        if state is State.RUNNING:
            item.URL = machine.url
            item.ActiveHost = machine.url == environ.get("DOCKER_HOST")
            item.Active = "*" if item.ActiveHost else "-"
            running.append(machine)
        items[name] = item
    if need_versions and running:
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(running)) as pool:
            futures = {m.name: pool.submit(_version, store, m, timeout) for m in running}
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
