"""The machine store in docker-machine's layout (``$MACHINE_STORAGE_PATH``) and the naming scheme.

::

    $MACHINE_STORAGE_PATH/certs/{ca,ca-key,cert,key}.pem
    $MACHINE_STORAGE_PATH/machines/<name>/{ca,cert,key,server,server-key}.pem, config.json

``config.json`` has docker-machine's shape (ConfigVersion 3, Driver, DriverName, HostOptions, Name);
the embedded driver keeps its own facts (cluster, container, network, ...) in ``Driver``.
What only writing, removing or an unset ``$DOJO_CLUSTER`` needs is imported where it is used:
every ``docker-machine`` shim call reads the store, in a new Python.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dojo_exec.machines.driver import HostAlreadyExists, HostDoesNotExist, MachineError

DRIVER_NAME = "embedded"
ENGINE_PORT = 2376
DEFAULT_CLUSTER = "default"
SUITES = ("bookworm", "trixie", "sid")
_VALID_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-\.]*$")


def storage_path(env: Mapping[str, str] | None = None) -> Path:
    """``$MACHINE_STORAGE_PATH`` or docker-machine's default ``~/.docker/machine``."""
    env = os.environ if env is None else env
    value = env.get("MACHINE_STORAGE_PATH")
    return Path(value).expanduser() if value else Path.home() / ".docker" / "machine"


def cluster_name(env: Mapping[str, str] | None = None) -> str:
    """``$DOJO_CLUSTER``: the namespace of containers, volumes and network.

    Unset, it is "default" for docker-machine's default store and one of its own for any
    other ``$MACHINE_STORAGE_PATH`` (``s`` and a digest of the path): machines of the same
    name in two stores are two machines, as with docker-machine, never one container that
    the second ``create`` takes from the first.
    """
    env = os.environ if env is None else env
    name = env.get("DOJO_CLUSTER")
    if not name:
        store = storage_path(env).resolve()
        if store == storage_path({}).resolve():
            return DEFAULT_CLUSTER
        import hashlib

        return "s" + hashlib.sha256(str(store).encode()).hexdigest()[:8]
    if not _VALID_NAME.match(name):
        raise MachineError(f"Invalid DOJO_CLUSTER {name!r}: allowed chars are 0-9a-zA-Z . -")
    return name


def node_suite(env: Mapping[str, str] | None = None) -> str | None:
    """``$DOJO_NODE_SUITE`` (bookworm|trixie|sid) or None for the images helper's default."""
    env = os.environ if env is None else env
    suite = env.get("DOJO_NODE_SUITE") or None
    if suite is not None and suite not in SUITES:
        raise MachineError(
            f"Invalid DOJO_NODE_SUITE {suite!r}: expected one of {', '.join(SUITES)}"
        )
    return suite


def valid_name(name: str) -> bool:
    """docker-machine's host name rule."""
    return bool(_VALID_NAME.match(name))


def object_name(cluster: str, machine: str | None = None) -> str:
    """``dojo-<cluster>`` (network) or ``dojo-<cluster>-<machine>`` (container, volume)."""
    return f"dojo-{cluster}" if machine is None else f"dojo-{cluster}-{machine}"


def natural_key(name: str) -> list[Any]:
    """Sort key of docker-machine's ``ls`` (natural order, case-insensitive)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name.lower())]


@dataclass
class Machine:
    """One machine as recorded in its config.json."""

    name: str
    cluster: str
    ip: str = ""
    container: str = ""
    network: str = ""
    volume: str = ""
    image: str = ""
    suite: str = ""
    requested_driver: str = DRIVER_NAME
    registry_mirrors: list[str] = field(default_factory=list)
    insecure_registries: list[str] = field(default_factory=list)
    engine_labels: list[str] = field(default_factory=list)
    engine_env: list[str] = field(default_factory=list)
    driver_name: str = DRIVER_NAME
    api_host: str = ""
    """Where this host reaches the engine when not at ``ip`` (a VM's forwarded port)."""
    api_port: int = 0
    ssh_port: int = 0
    runtime: str = ""
    """A VM's runtime folder (disk, sockets, pid: see :mod:`.qemu.vm`)."""
    engine_version: str = ""
    """The version its engine gave once it answered at creation (``Server.Version``)."""

    @property
    def url(self) -> str:
        if self.api_port:
            return f"tcp://{self.api_host or '127.0.0.1'}:{self.api_port}"
        return f"tcp://{self.ip}:{ENGINE_PORT}"

    def to_config(self, root: Path) -> dict[str, Any]:
        """docker-machine's config.json for this machine."""
        machine_dir = str(root / "machines" / self.name)
        certs = root / "certs"
        return {
            "ConfigVersion": 3,
            "Driver": {
                "IPAddress": self.ip,
                "MachineName": self.name,
                "SSHUser": "root",
                "SSHPort": self.ssh_port,
                "SSHKeyPath": f"{machine_dir}/id_rsa" if self.ssh_port else "",
                "StorePath": str(root),
                "SwarmMaster": False,
                "SwarmHost": "",
                "SwarmDiscovery": "",
                "Cluster": self.cluster,
                "ContainerName": self.container,
                "Network": self.network,
                "Volume": self.volume,
                "Image": self.image,
                "NodeSuite": self.suite,
                "RequestedDriver": self.requested_driver,
                "EnginePort": ENGINE_PORT,
                "APIHost": self.api_host,
                "APIPort": self.api_port,
                "RuntimeDir": self.runtime,
                "EngineVersion": self.engine_version,
            },
            "DriverName": self.driver_name,
            "HostOptions": {
                "Driver": "",
                "Memory": 0,
                "Disk": 0,
                "EngineOptions": {
                    "ArbitraryFlags": [],
                    "Dns": None,
                    "GraphDir": "",
                    "Env": list(self.engine_env),
                    "Ipv6": False,
                    "InsecureRegistry": list(self.insecure_registries),
                    "Labels": list(self.engine_labels),
                    "LogLevel": "",
                    "StorageDriver": "",
                    "SelinuxEnabled": False,
                    "TlsVerify": True,
                    "RegistryMirror": list(self.registry_mirrors),
                    "InstallURL": "",
                },
                "SwarmOptions": {
                    "IsSwarm": False,
                    "Address": "",
                    "Discovery": "",
                    "Agent": False,
                    "Master": False,
                    "Host": "",
                    "Image": "",
                    "Strategy": "",
                    "Heartbeat": 0,
                    "Overcommit": 0,
                    "ArbitraryFlags": [],
                    "ArbitraryJoinFlags": [],
                    "Env": None,
                    "IsExperimental": False,
                },
                "AuthOptions": {
                    "CertDir": str(certs),
                    "CaCertPath": str(certs / "ca.pem"),
                    "CaPrivateKeyPath": str(certs / "ca-key.pem"),
                    "CaCertRemotePath": "/etc/docker/tls/ca.pem",
                    "ServerCertPath": f"{machine_dir}/server.pem",
                    "ServerKeyPath": f"{machine_dir}/server-key.pem",
                    "ClientKeyPath": str(certs / "key.pem"),
                    "ServerCertRemotePath": "/etc/docker/tls/server.pem",
                    "ServerKeyRemotePath": "/etc/docker/tls/server-key.pem",
                    "ClientCertPath": str(certs / "cert.pem"),
                    "ServerCertSANs": [],
                    "StorePath": machine_dir,
                },
            },
            "Name": self.name,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Machine:
        driver = config.get("Driver") or {}
        engine = (config.get("HostOptions") or {}).get("EngineOptions") or {}
        return cls(
            name=config["Name"],
            cluster=driver.get("Cluster", ""),
            ip=driver.get("IPAddress", ""),
            container=driver.get("ContainerName", ""),
            network=driver.get("Network", ""),
            volume=driver.get("Volume", ""),
            image=driver.get("Image", ""),
            suite=driver.get("NodeSuite", ""),
            requested_driver=driver.get("RequestedDriver", ""),
            registry_mirrors=list(engine.get("RegistryMirror") or []),
            insecure_registries=list(engine.get("InsecureRegistry") or []),
            engine_labels=list(engine.get("Labels") or []),
            engine_env=list(engine.get("Env") or []),
            driver_name=config.get("DriverName", ""),
            api_host=driver.get("APIHost", ""),
            api_port=int(driver.get("APIPort") or 0),
            ssh_port=int(driver.get("SSHPort") or 0),
            runtime=driver.get("RuntimeDir", ""),
            engine_version=driver.get("EngineVersion", ""),
        )


class Store:
    """Machines on disk under one storage path."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or storage_path()).absolute()

    @property
    def machines_dir(self) -> Path:
        return self.root / "machines"

    @property
    def certs_dir(self) -> Path:
        return self.root / "certs"

    def machine_dir(self, name: str) -> Path:
        return self.machines_dir / name

    def config_path(self, name: str) -> Path:
        return self.machine_dir(name) / "config.json"

    def exists(self, name: str) -> bool:
        return self.machine_dir(name).is_dir()

    def names(self) -> list[str]:
        """All machine directories, in docker-machine's ``ls`` order."""
        if not self.machines_dir.is_dir():
            return []
        return sorted((p.name for p in self.machines_dir.iterdir() if p.is_dir()), key=natural_key)

    def reserve(self, name: str) -> Path:
        """Create the machine's directory; ``HostAlreadyExists`` when it is there already."""
        self.machines_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.machine_dir(name).mkdir()
        except FileExistsError:
            raise HostAlreadyExists(name) from None
        return self.machine_dir(name)

    def load(self, name: str) -> Machine:
        try:
            config = json.loads(self.config_path(name).read_text())
        except FileNotFoundError:
            raise HostDoesNotExist(name) from None
        except (OSError, ValueError) as error:
            raise MachineError(f"Error loading host {name!r}: {error}") from error
        return Machine.from_config(config)

    def has_address(self, name: str) -> bool:
        """Whether machine ``name`` has its address yet (drivers record it as soon as they
        allot it, before the machine runs); False while there is no readable record."""
        try:
            return bool(self.load(name).ip)
        except MachineError:
            return False

    def save(self, machine: Machine) -> None:
        from dojo_exec.writing import write_atomically

        config = json.dumps(machine.to_config(self.root), indent=4) + "\n"
        write_atomically(self.config_path(machine.name), config)

    def remove(self, name: str) -> None:
        import shutil

        shutil.rmtree(self.machine_dir(name), ignore_errors=True)
