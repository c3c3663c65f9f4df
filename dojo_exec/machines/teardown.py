"""Teardown by label: whatever a crash, a Ctrl-C or a failed test left, it is found and removed.

Containers, volumes and the network of a cluster carry ``dojo.cluster=<cluster>`` from the moment
they exist; a node container also names its store (``dojo.store``), so the machine directories are
found even when ``$MACHINE_STORAGE_PATH`` differs from the one at creation.

Shared service containers (see :data:`SHARED_ROLES`) serve every cluster: whatever removes
machines (``rm``, ``rm -f``, ``kill`` then ``rm``, ``down``) calls :func:`release_shared_services`
afterwards, which removes them once no node of any run is left, under the host-wide lock of
:mod:`.host_lock` so that a ``create`` starting in another cluster never loses them. Images stay.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import docker
import docker.errors

from dojo_exec.machines.dind import LABEL_STORE, remove_cgroup_parent, remove_network
from dojo_exec.machines.driver import MachineError, Scope
from dojo_exec.machines.engines import Engine, current_engine
from dojo_exec.machines.host_lock import lock_file, named_lock, shared_services_exclusive
from dojo_exec.machines.labels import (
    LABEL_CLUSTER,
    LABEL_MANAGED,
    LABEL_ROLE,
    LABEL_RUN,
    ROLE_MIRROR,
    ROLE_NODE,
)
from dojo_exec.machines.store import Store

SHARED_ROLES: tuple[str, ...] = (ROLE_MIRROR,)
"""Roles of the shared service containers: one per engine, named ``dojo-<role>``, labelled
``dojo.managed=1 dojo.role=<role>``, no ``dojo.cluster``. Their labelled volumes, and networks
labelled with their role and named ``dojo-<role>[-…]`` (no cluster), go with them. A new shared
service adds its role here."""


def _filter(cluster: str | None) -> dict[str, str]:
    return {"label": f"{LABEL_CLUSTER}={cluster}" if cluster else f"{LABEL_MANAGED}=1"}


def _stores(extra: Iterable[Store] | None, paths: Iterable[str]) -> list[Store]:
    stores = {s.root: s for s in (extra or [])}
    default = Store()
    stores.setdefault(default.root, default)
    for path in paths:
        if path:
            stores.setdefault(Path(path), Store(Path(path)))
    return list(stores.values())


def _machine_dirs(stores: Iterable[Store], cluster: str | None) -> list[tuple[Store, str]]:
    """(store, name) of embedded machines of ``cluster`` (any dojo cluster when None)."""
    found = []
    for store in stores:
        for name in store.names():
            try:
                machine = store.load(name)
            except MachineError:
                continue
            if machine.cluster and (cluster is None or machine.cluster == cluster):
                found.append((store, name))
    return found


REMOVAL_WAIT = 60.0
"""Seconds to wait for a container that another process is removing (``docker rm`` answers 409)."""


def remove_or_await(container: docker.models.containers.Container) -> None:
    """Remove ``container`` (and its anonymous volumes); if another process (a cluster's reaper,
    a second ``down``) is already removing it, wait until it is gone instead of failing."""
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as error:
        if error.status_code != 409 or "in progress" not in str(error):
            raise
        deadline = time.monotonic() + REMOVAL_WAIT
        while time.monotonic() < deadline:
            try:
                container.reload()
            except docker.errors.NotFound:
                return
            time.sleep(0.2)
        raise


def remove_cluster(
    client: docker.DockerClient,
    cluster: str,
    stores: Sequence[Store] | None = None,
    *,
    release: bool = True,
) -> list[str]:
    """Remove the containers, volumes, network and machine directories of ``cluster``.

    With ``release``, then the shared services if no node of any run is left.
    """
    removed: list[str] = []
    containers = client.containers.list(all=True, ignore_removed=True, filters=_filter(cluster))
    store_paths = [c.labels.get(LABEL_STORE, "") for c in containers]

    def remove_container(container: docker.models.containers.Container) -> str:
        remove_or_await(container)
        remove_cgroup_parent(str(container.name))
        return f"container {container.name}"

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(containers))) as pool:
        removed += list(pool.map(remove_container, containers))
    for volume in client.volumes.list(filters=_filter(cluster)):
        with contextlib.suppress(docker.errors.NotFound):
            volume.remove(force=True)
            removed.append(f"volume {volume.name}")
    for network in client.networks.list(filters=_filter(cluster)):
        if remove_network(client, str(network.name)):
            removed.append(f"network {network.name}")
    for store, name in _machine_dirs(_stores(stores, store_paths), cluster):
        store.remove(name)
        removed.append(f"machine {store.machine_dir(name)}")
    if lock_file(f"cluster-{cluster}").exists():
        with named_lock(f"cluster-{cluster}") as discard:
            discard()  # the cluster is gone: so is its lock file
    if release:
        removed += release_shared_services(client)
    return removed


def remove_all(client: docker.DockerClient, stores: Sequence[Store] | None = None) -> list[str]:
    """Remove every cluster, the registry mirror and anything else labelled ``dojo.managed``.

    Images (node image, stand-ins) are kept: they are caches, not state.
    """
    removed: list[str] = []
    clusters: set[str] = set()
    for container in client.containers.list(all=True, ignore_removed=True, filters=_filter(None)):
        clusters.add(container.labels.get(LABEL_CLUSTER, ""))
    for volume in client.volumes.list(filters=_filter(None)):
        clusters.add((volume.attrs.get("Labels") or {}).get(LABEL_CLUSTER, ""))
    for network in client.networks.list(filters=_filter(None)):
        clusters.add((network.attrs.get("Labels") or {}).get(LABEL_CLUSTER, ""))
    for cluster in sorted(clusters - {""}):
        removed += remove_cluster(client, cluster, stores, release=False)
    with shared_services_exclusive():  # no create in another process is past its services
        removed += _remove_shared_services(client)
    for container in client.containers.list(all=True, ignore_removed=True, filters=_filter(None)):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)
            removed.append(f"container {container.name}")
    for volume in client.volumes.list(filters=_filter(None)):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            volume.remove(force=True)
            removed.append(f"volume {volume.name}")
    for network in client.networks.list(filters=_filter(None)):
        if remove_network(client, str(network.name)):
            removed.append(f"network {network.name}")
    for store, name in _machine_dirs(_stores(stores, []), None):
        store.remove(name)
        removed.append(f"machine {store.machine_dir(name)}")
    return removed


def leaks(
    client: docker.DockerClient, cluster: str | None = None, stores: Sequence[Store] = ()
) -> list[str]:
    """What is left of ``cluster`` (every dojo object when None), and machines in ``stores``."""
    found = [
        f"container {c.name}"
        for c in client.containers.list(all=True, ignore_removed=True, filters=_filter(cluster))
    ]
    found += [f"volume {v.name}" for v in client.volumes.list(filters=_filter(cluster))]
    found += [f"network {n.name}" for n in client.networks.list(filters=_filter(cluster))]
    found += [f"machine {s.machine_dir(n)}" for s, n in _machine_dirs(stores, cluster)]
    return found


def _run_filter(run: str) -> dict[str, str]:
    return {"label": f"{LABEL_RUN}={run}"}


def run_leaks(client: docker.DockerClient, run: str) -> list[str]:
    """What is left of the objects run ``run`` created (``$DOJO_RUN`` when they were made)."""
    found = [
        f"container {c.name}"
        for c in client.containers.list(all=True, ignore_removed=True, filters=_run_filter(run))
    ]
    found += [f"volume {v.name}" for v in client.volumes.list(filters=_run_filter(run))]
    found += [f"network {n.name}" for n in client.networks.list(filters=_run_filter(run))]
    return found


def remove_run(
    client: docker.DockerClient, run: str, stores: Sequence[Store] | None = None
) -> list[str]:
    """Remove every cluster run ``run`` created, leaving other runs' machines alone.

    The shared registry mirror goes too once no machine of any run is left to use it.
    """
    clusters: set[str] = set()
    for container in client.containers.list(
        all=True, ignore_removed=True, filters=_run_filter(run)
    ):
        clusters.add(container.labels.get(LABEL_CLUSTER, ""))
    for volume in client.volumes.list(filters=_run_filter(run)):
        clusters.add((volume.attrs.get("Labels") or {}).get(LABEL_CLUSTER, ""))
    for network in client.networks.list(filters=_run_filter(run)):
        clusters.add((network.attrs.get("Labels") or {}).get(LABEL_CLUSTER, ""))
    removed: list[str] = []
    for cluster in sorted(clusters - {""}):
        removed += remove_cluster(client, cluster, stores, release=False)
    return removed + release_shared_services(client)


def shared_service_containers(
    client: docker.DockerClient,
) -> list[docker.models.containers.Container]:
    """The shared service containers (see :data:`SHARED_ROLES`) on the engine."""
    found = []
    for role in SHARED_ROLES:
        for container in client.containers.list(
            all=True, ignore_removed=True, filters={"label": f"{LABEL_ROLE}={role}"}
        ):
            labels = container.labels
            if (
                container.name == f"dojo-{role}"
                and labels.get(LABEL_MANAGED) == "1"
                and LABEL_CLUSTER not in labels
            ):
                found.append(container)
    return found


def _remove_shared_services(client: docker.DockerClient) -> list[str]:
    """Remove the shared service containers, their labelled volumes and their role's networks."""
    removed: list[str] = []
    for container in shared_service_containers(client):
        volumes = [
            str(mount["Name"])
            for mount in container.attrs.get("Mounts") or []
            if mount.get("Type") == "volume" and mount.get("Name")
        ]
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as error:
            if error.status_code != 409:  # 409: its removal is already in progress
                raise
        removed.append(f"container {container.name}")
        for name in volumes:
            with contextlib.suppress(docker.errors.NotFound):
                volume = client.volumes.get(name)
                if (volume.attrs.get("Labels") or {}).get(LABEL_MANAGED) == "1":
                    volume.remove(force=True)
                    removed.append(f"volume {name}")
    for role in SHARED_ROLES:
        for network in client.networks.list(filters={"label": f"{LABEL_ROLE}={role}"}):
            name = str(network.name)
            own = name == f"dojo-{role}" or name.startswith(f"dojo-{role}-")
            if (
                own
                and LABEL_CLUSTER not in (network.attrs.get("Labels") or {})
                and remove_network(client, name)
            ):
                removed.append(f"network {name}")
    return removed


def release_shared_services(client: docker.DockerClient) -> list[str]:
    """Remove the shared services if no node of any run is left; what was removed.

    Holds the host-wide lock from counting the nodes to removing the services, so a ``create``
    of another cluster (which holds it from ensuring the services until its node exists) either
    sees them removed and starts them again, or has its node counted here.
    """
    with shared_services_exclusive():
        nodes = client.api.containers(  # no per-container inspect: races with rm
            all=True, filters={"label": f"{LABEL_ROLE}={ROLE_NODE}"}
        )
        if nodes or vms_running():
            return []
        return _remove_shared_services(client)


def vms_running() -> bool:
    """Whether a qemu machine runs: it reaches the mirror through the host's loopback."""
    from dojo_exec.machines.qemu.vm import all_vms

    return any(vm.running() for vm in all_vms())


class DindSweeper:
    """The embedded provider's :class:`~.driver.Sweeper`: its labelled Docker objects on one
    engine (``engine``, default: this process's, see :mod:`.engines`)."""

    name = "embedded"

    def __init__(
        self, client: docker.DockerClient | None = None, *, engine: Engine | None = None
    ) -> None:
        self._client = client
        self.engine = engine

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            engine = self.engine or current_engine()
            client = engine.client()
            try:
                client.ping()
            except docker.errors.DockerException as error:
                raise MachineError(
                    f"Cannot reach Docker engine {engine.describe()}: {error}"
                ) from error
            self._client = client
        return self._client

    def leaks(self, scope: Scope) -> list[str]:
        stores = [s for s in scope.stores if isinstance(s, Store)]
        if scope.run is not None:
            return run_leaks(self.client, scope.run)
        return leaks(self.client, scope.cluster, stores=stores)

    def remove(self, scope: Scope) -> list[str]:
        stores = [s for s in scope.stores if isinstance(s, Store)]
        if scope.run is not None:
            return remove_run(self.client, scope.run, stores)
        if scope.cluster is not None:
            return remove_cluster(self.client, scope.cluster, stores)
        return remove_all(self.client, stores)

    def release(self) -> list[str]:
        """The shared services, once no node of any run is left (see the module docstring)."""
        return release_shared_services(self.client)
