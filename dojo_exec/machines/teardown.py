"""Teardown by label: whatever a crash, a Ctrl-C or a failed test left, it is found and removed.

Containers, volumes and the network of a cluster carry ``dojo.cluster=<cluster>`` from the moment
they exist; a node container also names its store (``dojo.store``), so the machine directories are
found even when ``$MACHINE_STORAGE_PATH`` differs from the one at creation.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import docker
import docker.errors

from dojo_exec.machines.dind import LABEL_STORE, _remove_cgroup_parent, remove_network
from dojo_exec.machines.driver import MachineError
from dojo_exec.machines.labels import LABEL_CLUSTER, LABEL_MANAGED, LABEL_ROLE, LABEL_RUN, ROLE_NODE
from dojo_exec.machines.store import Store


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


def remove_cluster(
    client: docker.DockerClient, cluster: str, stores: Sequence[Store] | None = None
) -> list[str]:
    """Remove the containers, volumes, network and machine directories of ``cluster``."""
    removed: list[str] = []
    containers = client.containers.list(all=True, ignore_removed=True, filters=_filter(cluster))
    store_paths = [c.labels.get(LABEL_STORE, "") for c in containers]

    def remove_container(container: docker.models.containers.Container) -> str:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)
        _remove_cgroup_parent(str(container.name))
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
        removed += remove_cluster(client, cluster, stores)
    with contextlib.suppress(ImportError):
        from dojo_exec.machines.mirror import remove_mirror

        remove_mirror(client)
        removed.append("registry mirror")
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
        removed += remove_cluster(client, cluster, stores)
    others = client.containers.list(
        all=True, ignore_removed=True, filters={"label": f"{LABEL_ROLE}={ROLE_NODE}"}
    )
    if not others:
        from dojo_exec.machines.mirror import remove_mirror

        remove_mirror(client)
        removed.append("registry mirror")
    return removed
