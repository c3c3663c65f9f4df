"""The embedded driver: each machine is a Docker-in-Docker container serving its engine over TLS.

One cluster (``$DOJO_CLUSTER``) = one bridge network ``dojo-<cluster>`` with a subnet chosen here,
so that each machine gets a static IP *before* its container starts: the server certificate is made
for that IP and copied into the container (``put_archive``) before the engine starts.  Every object
is labelled when it is created (network, volume, container — before anything else happens to it),
so a crash or Ctrl-C at any point leaves nothing that :mod:`.teardown` cannot find.
"""

from __future__ import annotations

import builtins
import concurrent.futures
import contextlib
import io
import ipaddress
import socket
import sys
import tarfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.tls
from docker.models.containers import Container
from docker.models.networks import Network

from dojo_exec.machines import certs
from dojo_exec.machines.dind_nodes import CONTAINER_STATES, DindNodes
from dojo_exec.machines.driver import (
    CreateOptions,
    HostDoesNotExist,
    MachineError,
)
from dojo_exec.machines.engines import Engine, current_engine, host_networks, reachable, remember
from dojo_exec.machines.host_lock import host_lock, lock_file, named_lock, shared_services_in_use
from dojo_exec.machines.internet import (
    ROLE_INTERNET,
    ensure_internet,
    internet_address,
    remove_internet,
)
from dojo_exec.machines.labels import (
    LABEL_CLUSTER,
    LABEL_MACHINE,
    LABEL_MANAGED,
    LABEL_ROLE,
    current_run,
    run_labels,
)
from dojo_exec.machines.mirror import ensure_mirror
from dojo_exec.machines.node_image import DEFAULT_SUITE, dind_run_options, ensure_node_image
from dojo_exec.machines.offline import host_only_address, use_stand_ins
from dojo_exec.machines.store import (
    ENGINE_PORT,
    Machine,
    Store,
    node_suite,
    object_name,
)

LABEL_STORE = "dojo.store"
"""Storage path holding the machine's directory (so teardown finds it from the container)."""
ROLE_NODE = "node"
ROLE_NETWORK = "network"
SUBNET_POOL = ipaddress.ip_network("10.213.0.0/16")
STATIC_HOSTS = range(2, 127)  # static machine IPs; .127 the internet stand-in, .128/25 Docker's
ENGINE_TIMEOUT = 90.0
CONTAINER_LOOK_INTERVAL = 0.5
"""Seconds between looks at a starting node's container (did its engine exit?)."""
STOP_TIMEOUT = 10
TLS_DIR = "/etc/docker/tls"
API_VERSION = "1.41"  # engine 20.10; engines 26+ still accept it
SUBNETS_LOCK = Path("/tmp/dojo-exec-subnets.lock")
"""Held from choosing a cluster subnet to creating its network: engines sharing this host
(their bridges route here) must not pick the same one at once."""

Progress = Callable[[str], None]


def engine_client(environ: Mapping[str, str] | None = None) -> docker.DockerClient:
    """A client of the host engine (see :func:`engine_environ`)."""
    return current_engine(environ).client()


def machine_labels(
    cluster: str, machine: str | None = None, role: str = ROLE_NODE
) -> dict[str, str]:
    """The labels on every object of a cluster (``machine`` for per-machine objects)."""
    labels = {LABEL_MANAGED: "1", LABEL_CLUSTER: cluster, LABEL_ROLE: role, **run_labels()}
    if machine is not None:
        labels[LABEL_MACHINE] = machine
    return labels


def lock_path(name: str) -> Path:
    """The file of the host-wide lock ``name`` (see :func:`.host_lock.named_lock`)."""
    return lock_file(name)


def internet_name(cluster: str) -> str:
    """``dojo-<cluster>_internet``: no machine's container has this name (no ``_`` in those)."""
    return f"{object_name(cluster)}_internet"


def cgroup_version(client: docker.DockerClient) -> str:
    return str(client.info().get("CgroupVersion") or "1")


def run_options(version: str, cluster: str, machine: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Container options and environment that let a node's engine run nested containers."""
    options = dind_run_options(version)
    env = {"DOJO_TLS": "1"}
    if version == "2":
        env["DOJO_CGROUP_V2"] = "1"
    else:
        env["DOJO_CGROUP_PARENT"] = "/" + object_name(cluster, machine)
    return options, env


def host_config(api: Any, options: Mapping[str, Any], volume: str) -> dict[str, Any]:
    """Low-level HostConfig from ``containers.run``-style options.

    ``systempaths=unconfined`` is a docker CLI option, not an engine one: the CLI turns it into
    empty ``MaskedPaths``/``ReadonlyPaths`` (the engine rejects it in ``SecurityOpt``); so do we.
    """
    options = dict(options)
    security = list(options.pop("security_opt", []))
    unconfined = "systempaths=unconfined" in security
    security = [opt for opt in security if opt != "systempaths=unconfined"]
    binds = [
        f"{source}:{spec['bind']}:{spec.get('mode', 'rw')}"
        for source, spec in dict(options.pop("volumes", {})).items()
    ]
    binds.append(f"{volume}:/var/lib/docker:rw")
    config: dict[str, Any] = api.create_host_config(
        binds=binds, security_opt=security or None, **options
    )
    if unconfined:
        config["MaskedPaths"] = []
        config["ReadonlyPaths"] = []
    return config


def tls_client(
    machine_dir: Path, ip: str, timeout: float = 10.0, port: int = ENGINE_PORT
) -> docker.DockerClient:
    """A docker-py client of a machine's engine, verifying its server cert like the docker CLI."""
    tls = docker.tls.TLSConfig(
        client_cert=(str(machine_dir / "cert.pem"), str(machine_dir / "key.pem")),
        ca_cert=str(machine_dir / "ca.pem"),
        verify=True,
    )
    client = docker.DockerClient(
        base_url=f"https://{ip}:{port}",
        tls=tls,
        timeout=int(max(timeout, 1)),
        version=API_VERSION,  # no version probe before trust_env is off
    )
    # requests would let $REQUESTS_CA_BUNDLE (or a proxy) override the machine's CA: ignore env.
    client.api.trust_env = False
    return client


def tls_engine_version(
    machine_dir: Path, ip: str, timeout: float = 10.0, port: int = ENGINE_PORT
) -> str:
    """The server version a machine's engine gives over TLS (:func:`tls_client`)."""
    client = tls_client(machine_dir, ip, timeout=timeout, port=port)
    try:
        return str(client.version()["Version"])
    finally:
        client.close()


def _accepts(ip: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something listens on ``ip:port`` (a plain TCP connect, no TLS)."""
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:
        return False


def _tar(files: Mapping[str, bytes], mode: int = 0o600) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def remove_cgroup_parent(name: str) -> None:
    """Remove the (empty) host cgroup directories a cgroup v1 node's engine created."""
    root = Path("/sys/fs/cgroup")
    if not root.is_dir():
        return
    for controller in root.iterdir():
        top = controller / name
        if not top.is_dir():
            continue
        for directory in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if directory.is_dir():
                with contextlib.suppress(OSError):
                    directory.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


class DindDriver(DindNodes):
    """The embedded driver (see module docstring): makes and changes machines with the Docker
    SDK; what it answers about them is :class:`.dind_nodes.DindNodes`'s, asked with its client."""

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        store: Store | None = None,
        cluster: str | None = None,
        suite: str | None = None,
        *,
        mirror: bool | None = None,
        progress: Progress | None = None,
        engine: Engine | None = None,
    ) -> None:
        super().__init__(store, cluster)
        self.engine = engine or current_engine()
        self.client = client or self.engine.client()
        self.suite = suite if suite is not None else node_suite()
        self.mirror = mirror  # None: offline stand-ins (mirror, internet) unless Hub is reachable
        self.progress = progress or (lambda message: None)

    # -- naming ------------------------------------------------------------------------------
    @property
    def network_name(self) -> str:
        return object_name(self.cluster)

    def _container(self, name: str) -> Container | None:
        try:
            return self.client.containers.get(self._record(name).container)
        except docker.errors.NotFound:
            return None

    def _sdk_client(self) -> docker.DockerClient:
        return self.client

    def _container_status(self, container: str) -> str | None:
        try:
            return str(self.client.api.inspect_container(container)["State"]["Status"])
        except docker.errors.NotFound:
            return None

    def _managed_statuses(self, containers: Sequence[str]) -> dict[str, str]:
        return self._managed_statuses_by_sdk()  # this driver's own engine client

    # -- the interface -----------------------------------------------------------------------
    def create(self, name: str, options: CreateOptions | None = None) -> None:
        """Create, certify, start machine ``name``; on any failure remove what was made."""
        options = options or CreateOptions()
        machine_dir = self.store.reserve(name)
        remember(current_run(), self.engine)  # so that `dojo-exec down` finds this engine
        record = Machine(
            name=name,
            cluster=self.cluster,
            container=self.container_name(name),
            network=self.network_name,
            volume=self.container_name(name),
            requested_driver=options.requested_driver,
            registry_mirrors=list(options.registry_mirrors),
            insecure_registries=list(options.insecure_registries),
            engine_labels=list(options.engine_labels),
            engine_env=list(options.engine_env),
        )
        try:
            self._refuse_another_stores(record)
        except BaseException:
            self.store.remove(name)
            raise
        self.store.save(record)  # visible to ls at once, as docker-machine does
        try:
            self._create(record, machine_dir)
        except BaseException:
            try:
                self._remove_objects(record)
            except Exception as error:  # left for `dojo-exec down`, which finds it by label
                print(
                    f"({name}) could not remove what create made: {error}; "
                    "`dojo-exec down` removes it by label",
                    file=sys.stderr,
                )
            self.store.remove(name)
            raise

    def _create(self, record: Machine, machine_dir: Path) -> None:
        # the cluster's internet stand-in starts beside the node (its address is known ahead)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as aside:
            self._create_beside(record, machine_dir, aside)

    def _create_beside(
        self, record: Machine, machine_dir: Path, aside: concurrent.futures.Executor
    ) -> None:
        internet: concurrent.futures.Future[str] | None = None
        certs.ensure_ca(self.store.certs_dir)
        record.image = self._node_image()
        record.suite = self.suite or ""
        version = cgroup_version(self.client)
        options, env = run_options(version, self.cluster, record.name)
        # the shared services (mirror) stay until this node exists: see host_lock
        with named_lock(f"cluster-{self.cluster}"), shared_services_in_use():
            network = self._ensure_network()
            stand_ins = self._use_stand_ins()
            if not record.registry_mirrors and stand_ins:
                record.registry_mirrors = self._mirror(network)
            if stand_ins:
                dns = internet_address(network)
                options["dns"] = [dns]
                env["DOJO_DNS"] = dns
                internet = aside.submit(self._internet, network)  # once this block is left
            self._clear_stale(record)
            self.client.volumes.create(
                record.volume, labels=machine_labels(self.cluster, record.name)
            )
            record.ip = self._free_ip(network)
            host_only = host_only_address(record.ip)
            if host_only:
                env["DOJO_HOST_ONLY_ADDRESS"] = host_only
            env.update(self._engine_env(record))
            labels = machine_labels(self.cluster, record.name)
            labels[LABEL_STORE] = str(self.store.root)
            self.progress(f"({record.name}) Creating container {record.container} ({record.ip})...")
            api = self.client.api
            created = api.create_container(
                record.image,
                name=record.container,
                hostname=record.name,
                labels=labels,
                environment=env,
                detach=True,
                host_config=host_config(api, options, record.volume),
                networking_config=api.create_networking_config(
                    {
                        network.name: api.create_endpoint_config(
                            ipv4_address=record.ip, aliases=[record.name]
                        )
                    }
                ),
            )
            container = self.client.containers.get(created["Id"])
        self.store.save(record)
        self.progress(f"({record.name}) Generating TLS certificates for {record.ip}...")
        server = certs.write_machine_certs(
            self.store.certs_dir, machine_dir, record.name, record.ip
        )
        ca = (machine_dir / "ca.pem").read_bytes()
        archive = _tar(
            {
                f"{TLS_DIR[1:]}/ca.pem": ca,
                f"{TLS_DIR[1:]}/server.pem": server.cert,
                f"{TLS_DIR[1:]}/server-key.pem": server.key,
            }
        )
        container.put_archive("/", archive)
        self.progress(f"({record.name}) Starting the engine...")
        container.start()
        if internet is not None:
            internet.result()  # running, answering every name, before the machine is
        if self.engine.is_local():
            self._answered(record, self.wait_engine(record.name, container))
            return
        unreachable = (
            f"Error creating machine: {record.name}: engine {self.engine.describe()} runs it at "
            f"{record.ip}, which this host cannot reach (route the machines' subnets to that "
            "engine's host: see the README, machines on other engines)"
        )
        if not reachable(record.ip, ENGINE_PORT):
            raise MachineError(unreachable)
        try:
            version = self.wait_engine(record.name, container)
        except MachineError as error:
            raise MachineError(f"{unreachable}: {error}") from None
        self._answered(record, version)

    def _answered(self, record: Machine, version: str) -> None:
        """Record the version the new machine's engine gave (the run's provenance reads it)."""
        record.engine_version = version
        self.store.save(record)

    def _engine_env(self, record: Machine) -> dict[str, str]:
        env: dict[str, str] = {}
        if record.registry_mirrors:
            env["DOJO_REGISTRY_MIRROR"] = record.registry_mirrors[0]
        if record.insecure_registries:
            env["DOJO_INSECURE_REGISTRIES"] = " ".join(record.insecure_registries)
        if record.engine_labels:
            env["DOJO_ENGINE_LABELS"] = " ".join(record.engine_labels)
        for item in record.engine_env:
            key, _, value = item.partition("=")
            env[key] = value
        return env

    def _node_image(self) -> str:
        suite = self.suite or DEFAULT_SUITE
        self.suite = suite
        with named_lock("node-image"):
            return ensure_node_image(self.client, suite, log=self.progress)

    def _use_stand_ins(self) -> bool:
        """The offline stand-ins: as ``mirror`` says, else as :mod:`.offline` decides."""
        if self.mirror is None:
            try:
                self.mirror = use_stand_ins(self.client)
            except ValueError as error:
                raise MachineError(str(error)) from None
        return self.mirror

    def _internet(self, network: Network) -> str:
        """The cluster's internet stand-in (started when missing); its address.

        Under the cluster's lock, as the node's container is made: a second create in the
        cluster finds it there, or waits until it is."""
        labels = machine_labels(self.cluster, role=ROLE_INTERNET)
        name = internet_name(self.cluster)
        with named_lock(f"cluster-{self.cluster}"):
            return ensure_internet(self.client, network, name, labels, log=self.progress)

    def _mirror(self, network: Network) -> builtins.list[str]:
        with named_lock("mirror"):
            mirror = ensure_mirror(self.client, network.name, log=self.progress)
        return [str(mirror.url)]

    def _ensure_network(self) -> Network:
        """The cluster's bridge network, with a subnet that leaves room for static IPs."""
        for network in self.client.networks.list(names=[self.network_name]):
            if network.name == self.network_name:
                return network
        with host_lock(SUBNETS_LOCK):
            return self._create_network()

    def _create_network(self) -> Network:
        """The cluster's network on a subnet that neither this engine nor this host uses."""
        taken: builtins.list[Any] = list(host_networks())
        for network in self.client.networks.list():
            for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
                with contextlib.suppress(ValueError, KeyError):
                    taken.append(ipaddress.ip_network(config["Subnet"], strict=False))
        for subnet in SUBNET_POOL.subnets(new_prefix=24):
            if any(subnet.overlaps(other) for other in taken):
                continue
            hosts = list(subnet.hosts())
            ipam = docker.types.IPAMConfig(
                pool_configs=[
                    docker.types.IPAMPool(
                        subnet=str(subnet),
                        gateway=str(hosts[0]),
                        iprange=f"{subnet.network_address + 128}/25",
                    )
                ]
            )
            try:
                return self.client.networks.create(
                    self.network_name,
                    driver="bridge",
                    ipam=ipam,
                    check_duplicate=True,
                    labels=machine_labels(self.cluster, role=ROLE_NETWORK),
                )
            except docker.errors.APIError as error:
                if "overlap" in str(error).lower():
                    taken.append(subnet)
                    continue
                raise
        raise MachineError(f"No free subnet left in {SUBNET_POOL} for network {self.network_name}")

    def _free_ip(self, network: Network) -> str:
        """The lowest static address not held by a container of the network (created or running)."""
        network.reload()
        subnet = ipaddress.ip_network(network.attrs["IPAM"]["Config"][0]["Subnet"])
        used = set()
        for endpoint in (network.attrs.get("Containers") or {}).values():
            used.add(endpoint.get("IPv4Address", "").split("/")[0])
        for summary in self.client.api.containers(
            all=True, filters={"label": f"{LABEL_CLUSTER}={self.cluster}"}
        ):
            settings = (summary.get("NetworkSettings") or {}).get("Networks") or {}
            ipam = (settings.get(network.name) or {}).get("IPAMConfig") or {}
            used.add(ipam.get("IPv4Address", ""))
        for host in STATIC_HOSTS:
            candidate = str(subnet.network_address + host)
            if candidate not in used:
                return candidate
        raise MachineError(f"No free address left in {subnet} for network {network.name}")

    def _refuse_another_stores(self, record: Machine) -> None:
        """A container of this name that another store still lists as its machine is not
        stale: the same name in one ``DOJO_CLUSTER`` from two stores is refused, not taken."""
        try:
            container = self.client.containers.get(record.container)
        except docker.errors.NotFound:
            return
        except docker.errors.DockerException as error:
            raise MachineError(f"Error creating machine: {record.name}: {error}") from error
        owner = str((container.labels or {}).get(LABEL_STORE) or "")
        listed = owner and (Store(Path(owner)).machine_dir(record.name) / "config.json").exists()
        if listed and Path(owner) != self.store.root:
            raise MachineError(
                f'Host already exists: "{record.name}": its container {record.container} '
                f"is a machine of the store {owner}; give this store its own DOJO_CLUSTER"
            )

    def _clear_stale(self, record: Machine) -> None:
        """Remove a container or volume of the same name left by a crash (the store had none)."""
        with contextlib.suppress(docker.errors.NotFound):
            self.client.containers.get(record.container).remove(force=True, v=True)
        with contextlib.suppress(docker.errors.NotFound):
            self.client.volumes.get(record.volume).remove(force=True)

    def wait_engine(
        self,
        name: str,
        container: Container | None = None,
        timeout: float = ENGINE_TIMEOUT,
        *,
        answer: bool = True,
    ) -> str:
        """Wait until the machine's engine answers over TLS; return its version.

        ``answer=False``: only until it listens on its port (returns ""), as docker-machine's
        ``start`` waits (libmachine's ``WaitForDocker`` looks for the port in ``netstat``): a
        restarted swarm manager's engine listens at once but serves its API only once its
        raft is back, up to 20 s later, while the tutorial's next steps can already run.
        """
        record = self._record(name)
        container = container or self._container(name)
        machine_dir = self.store.machine_dir(name)
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        next_look = 0.0
        while time.monotonic() < deadline:
            # a TLS client and handshake cost ~10 ms of CPU, a refused connect next to nothing;
            # the container is looked at twice a second, not at every poll: with a dozen
            # machines starting at once these polls were hundreds of engine calls a second
            if _accepts(record.ip, ENGINE_PORT):
                if not answer:
                    return ""
                try:
                    return tls_engine_version(machine_dir, record.ip, timeout=2)
                except Exception as error:  # any failure means "not yet"
                    last = error
            else:
                last = ConnectionRefusedError(f"{record.ip}:{ENGINE_PORT} refused the connection")
            if container is not None and time.monotonic() >= next_look:
                next_look = time.monotonic() + CONTAINER_LOOK_INTERVAL
                container.reload()
                if container.status not in ("running", "created", "restarting"):
                    logs = container.logs(tail=15).decode(errors="replace").strip()
                    raise MachineError(
                        f"Error creating machine: {name}: the node's engine exited "
                        f"({container.status}):\n{logs}"
                    )
            time.sleep(0.05)
        raise MachineError(
            f"Error creating machine: {name}: its engine did not answer on "
            f"{record.url} within {timeout:.0f}s: {last}"
        )

    def start(self, name: str) -> None:
        container = self._container(name)
        if container is None:
            raise MachineError(f"Error starting {name}: its container is gone")
        if container.status == "paused":
            container.unpause()
        elif container.status != "running":
            container.start()
        self.wait_engine(name, container, answer=False)

    def stop(self, name: str) -> None:
        container = self._container(name)
        if container is None:
            raise MachineError(f"Error stopping {name}: its container is gone")
        container.stop(timeout=STOP_TIMEOUT)

    def kill(self, name: str) -> None:
        container = self._container(name)
        if container is not None:
            container.kill()

    def remove(self, name: str, force: bool = False) -> None:
        """Remove container, volume, machine directory (and the network after the last one)."""
        record = self._record(name)
        self._remove_objects(record)
        self.store.remove(name)

    def _remove_objects(self, record: Machine, attempts: int = 20) -> None:
        """Remove the machine's container and volume, retrying until neither is there.

        A create interrupted mid-request can leave the engine still creating or starting the
        container: a removal can then fail with a conflict, or miss a container that appears a
        moment later, so this retries until a pass finds nothing left.
        """
        for attempt in range(attempts):
            try:
                if not self._remove_container_and_volume(record):
                    break
            except docker.errors.APIError:
                if attempt == attempts - 1:
                    raise
            if attempt == attempts - 1:
                raise MachineError(
                    f"Error removing {record.name}: container {record.container} or volume "
                    f"{record.volume} is still there after {attempts} attempts"
                )
            time.sleep(0.25 * (attempt + 1))
        remove_cgroup_parent(object_name(record.cluster, record.name))
        with named_lock(f"cluster-{record.cluster}") as discard:
            nodes = [f"{LABEL_CLUSTER}={record.cluster}", f"{LABEL_ROLE}={ROLE_NODE}"]
            # no per-container inspect: races with rm
            remaining = self.client.api.containers(all=True, filters={"label": nodes})
            if not remaining:
                remove_internet(self.client, internet_name(record.cluster))
                remove_network(self.client, record.network or object_name(record.cluster))
                discard()

    def _remove_container_and_volume(self, record: Machine) -> bool:
        """One removal pass; True if the container or the volume is still there after it."""
        for container_id in self._machine_container_ids(record):
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_container(container_id, force=True, v=True)
        with contextlib.suppress(docker.errors.NotFound):
            self.client.api.remove_volume(record.volume, force=True)
        if self._machine_container_ids(record):
            return True
        try:
            self.client.api.inspect_volume(record.volume)
        except docker.errors.NotFound:
            return False
        return True

    def _machine_container_ids(self, record: Machine) -> set[str]:
        labels = [f"{LABEL_CLUSTER}={record.cluster}", f"{LABEL_MACHINE}={record.name}"]
        found = self.client.api.containers(all=True, filters={"label": labels})
        ids = {item["Id"] for item in found}
        with contextlib.suppress(docker.errors.NotFound):
            ids.add(self.client.api.inspect_container(record.container)["Id"])
        return ids

    def engine_version(self, name: str, timeout: float = 10.0) -> str:
        """``docker version``'s server version of a running machine."""
        record = self._record(name)
        return tls_engine_version(self.store.machine_dir(name), record.ip, timeout=timeout)


def remove_network(client: docker.DockerClient, name: str) -> bool:
    """Disconnect everything (e.g. the mirror) from network ``name`` and remove it."""
    removed = False
    for network in client.networks.list(names=[name]):
        if network.name != name:
            continue
        network.reload()
        for container_id in network.attrs.get("Containers") or {}:
            with contextlib.suppress(docker.errors.APIError):
                network.disconnect(container_id, force=True)
        with contextlib.suppress(docker.errors.NotFound):
            network.remove()
            removed = True
    return removed


__all__ = [
    "CONTAINER_STATES",
    "DindDriver",
    "HostDoesNotExist",
    "engine_client",
    "machine_labels",
    "remove_cgroup_parent",
    "remove_network",
    "tls_client",
    "tls_engine_version",
]
