"""The Docker engines embedded machines run on: how one is named, reached and remembered.

An engine is named by a URL the Docker SDK reaches (``unix:///path``, ``tcp://host:2376``,
``ssh://user@host``) or by a docker context name (a name without ``://``: the context holds its
host and TLS files). A ``tcp://`` engine uses TLS as the docker CLI would: ``DOCKER_TLS_VERIFY``
and ``DOCKER_CERT_PATH`` where it was chosen; give each TLS engine a context when they differ.

Which engine a process uses (:func:`current_engine`): ``$DOJO_ENGINE_HOST`` (with
``$DOJO_ENGINE_TLS_VERIFY``/``$DOJO_ENGINE_CERT_PATH``), which a page's shell keeps while its
own ``DOCKER_*`` variables point at a machine; else ``$DOCKER_HOST``/``$DOCKER_CONTEXT``; else the
docker CLI's current context; else the default socket.

Machines are reached from this host at their container's address, so an engine must be *local*
(its bridge networks routed on this host: a unix socket, or a tcp/ssh host that is this host);
a remote engine works only when its machine subnets are routed to it (see the README), and a
machine this host cannot reach is a one-line error naming its engine. Every engine a run
(``$DOJO_RUN``) creates machines on is remembered (:func:`remember`), so that ``dojo-exec down``
and ``leaks`` cover all of them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from dojo_exec import spawn
from dojo_exec.machines.driver import MachineError

if TYPE_CHECKING:
    import docker

ENV_HOST = "DOJO_ENGINE_HOST"
ENV_TLS_VERIFY = "DOJO_ENGINE_TLS_VERIFY"
ENV_CERT_PATH = "DOJO_ENGINE_CERT_PATH"
ENV_ENGINES = "DOJO_ENGINES"
"""A comma-separated list of engines (``--dojo-engines``): what ``down``/``leaks`` also cover."""
DEFAULT_HOST = "unix:///var/run/docker.sock"
RTF_GATEWAY = 0x2  # /proc/net/route's flag of a route through a gateway
PROBE_VERSION = "1.24"
"""The API version of the one request that asks an engine which version it speaks."""
DOCKER_VARS = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT")
REGISTRY = Path("/tmp/dojo-exec-engines")
"""``<run>.json``: the engines run ``<run>`` created machines on (host-wide, like the locks)."""


@dataclass(frozen=True)
class Engine:
    """One Docker engine: a URL or a docker context name, and TLS settings for ``tcp://``."""

    spec: str
    tls_verify: bool = False
    cert_path: str = ""

    @property
    def context(self) -> str | None:
        """The docker context's name when the engine is named by one."""
        return None if "://" in self.spec else self.spec

    def host(self) -> str:
        """The engine's URL (a context's resolved)."""
        if self.context is None:
            return self.spec
        from docker.context import ContextAPI

        found = ContextAPI.get_context(self.context)
        if found is None:
            raise MachineError(f"Docker context {self.context!r} not found (docker context ls)")
        return str(found.Host or DEFAULT_HOST)

    def client(self, timeout: int = 600) -> docker.DockerClient:
        """A client of the engine; a :class:`MachineError` naming it when it cannot be made."""
        import docker
        import docker.errors
        from docker.utils import kwargs_from_env

        try:
            if self.context is not None:
                from docker.context import ContextAPI

                found = ContextAPI.get_context(self.context)
                if found is None:
                    raise MachineError(
                        f"Docker context {self.context!r} not found (docker context ls)"
                    )
                kwargs = {"base_url": found.Host or DEFAULT_HOST, "tls": found.TLSConfig or False}
            else:
                kwargs = kwargs_from_env(environment=self.cli_env())
            ssh = str(kwargs.get("base_url", "")).startswith("ssh://")
            if ssh and importlib.util.find_spec("paramiko") is None:
                raise MachineError(
                    f"Cannot use Docker engine {self.describe()}: docker-py's ssh transport "
                    "needs paramiko (pip install 'dojo-exec[ssh]')"
                )
            client = docker.DockerClient(
                **kwargs, use_ssh_client=ssh, timeout=timeout, version=PROBE_VERSION
            )
            # requests would let $REQUESTS_CA_BUNDLE override the engine's CA: ignore the
            # environment, then ask the engine its API version (as version="auto" would)
            client.api.trust_env = False
            client.api._version = client.api._retrieve_server_version()
            return client
        except docker.errors.DockerException as error:
            raise MachineError(f"Cannot use Docker engine {self.describe()}: {error}") from None

    def cli_env(self) -> dict[str, str]:
        """``DOCKER_*`` variables that point the docker CLI (and SDK) at this engine."""
        if self.context is not None:
            return {"DOCKER_CONTEXT": self.context}
        env = {"DOCKER_HOST": self.spec}
        if self.tls_verify:
            env["DOCKER_TLS_VERIFY"] = "1"
        if self.cert_path:
            env["DOCKER_CERT_PATH"] = self.cert_path
        return env

    def env(self) -> dict[str, str]:
        """``DOJO_ENGINE_*`` variables that name this engine to a page's shell and its tools."""
        env = {ENV_HOST: self.spec}
        if self.tls_verify:
            env[ENV_TLS_VERIFY] = "1"
        if self.cert_path:
            env[ENV_CERT_PATH] = self.cert_path
        return env

    def describe(self) -> str:
        """How messages and provenance name the engine: its URL without user or password
        (a context: its name and host), never certificate paths."""
        if self.context is not None:
            try:
                return f"context {self.context} ({_public(self.host())})"
            except Exception:
                return f"context {self.context}"
        return _public(self.spec)

    def is_local(self) -> bool:
        """Whether the engine runs on this host (its bridge networks are routed here)."""
        try:
            url = urlsplit(self.host())
        except MachineError:
            return False
        if url.scheme in ("unix", "npipe", "http+unix"):
            return True
        return url.hostname is not None and _is_this_host(url.hostname)


def _public(url: str) -> str:
    """``url`` without its user and password (docker-py's ``http+unix://`` as ``unix://``)."""
    if url.startswith("http+unix://"):
        url = url.replace("http+unix://", "unix://", 1)
    parts = urlsplit(url)
    if parts.scheme in ("unix", "npipe") or not parts.hostname:
        return url
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path.rstrip('/')}"


def _truthy(value: str | None) -> bool:
    return value is not None and value != "" and value != "0"


def current_engine(environ: Mapping[str, str] | None = None) -> Engine:
    """The engine this process's machines run on (see the module docstring)."""
    env = os.environ if environ is None else environ
    chosen = env.get(ENV_HOST)
    if chosen:
        return Engine(chosen, _truthy(env.get(ENV_TLS_VERIFY)), env.get(ENV_CERT_PATH, ""))
    if env.get("DOCKER_MACHINE_NAME"):  # DOCKER_* point at a machine: not the host engine
        return Engine(DEFAULT_HOST)
    return from_docker_env(env)


def may_use_ssh(environ: Mapping[str, str] | None = None) -> bool:
    """Whether :func:`current_engine` might name an ``ssh://`` engine, decided without
    importing docker: an ``ssh://`` URL, or a docker context (it may hold one)."""
    env = os.environ if environ is None else environ
    chosen = env.get(ENV_HOST)
    if not chosen:
        if env.get("DOCKER_MACHINE_NAME"):
            return False
        chosen = env.get("DOCKER_HOST") or env.get("DOCKER_CONTEXT") or _context_in_config(env)
    if not chosen or chosen == "default":
        return False
    return chosen.startswith("ssh://") or "://" not in chosen


def _context_in_config(env: Mapping[str, str]) -> str:
    """The docker CLI's ``currentContext`` (its config file), "" when none or unreadable:
    read as the CLI and the SDK's ``get_current_context_name`` read it, without importing
    docker (a ``docker-machine`` shim call would pay ~60 ms for it)."""
    folder = Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker")
    try:
        return str(json.loads((folder / "config.json").read_text()).get("currentContext") or "")
    except (OSError, ValueError, AttributeError):
        return ""


def from_docker_env(env: Mapping[str, str]) -> Engine:
    """The engine the docker CLI would use with ``env`` (``DOCKER_HOST``, ``DOCKER_CONTEXT``,
    the current context, the default socket)."""
    if env.get("DOCKER_HOST"):
        return Engine(
            env["DOCKER_HOST"],
            env.get("DOCKER_TLS_VERIFY", "") != "",
            env.get("DOCKER_CERT_PATH", ""),
        )
    name = env.get("DOCKER_CONTEXT") or _context_in_config(env)
    return Engine(name) if name and name != "default" else Engine(DEFAULT_HOST)


def parse_engines(text: str, environ: Mapping[str, str] | None = None) -> list[Engine]:
    """``a,b``: each a URL or a context name; a ``tcp://`` one takes ``DOCKER_TLS_VERIFY`` and
    ``DOCKER_CERT_PATH`` from ``environ``. A ``ValueError`` for an empty item."""
    env = os.environ if environ is None else environ
    specs = [item.strip() for item in text.split(",")]
    if not text.strip() or any(not spec for spec in specs):
        raise ValueError(f"engine list {text!r} has an empty item: give URLs or context names")
    engines = []
    for spec in specs:
        if spec.startswith("tcp://"):
            engines.append(from_docker_env({**env, "DOCKER_HOST": spec}))
        else:
            engines.append(Engine(spec))
    return list(dict.fromkeys(engines))


def for_worker(engines: list[Engine], worker: str | None) -> Engine:
    """The engine of pytest-xdist worker ``gwN``: the N-th, round robin (no worker: the first)."""
    index = 0
    if worker and worker.startswith("gw") and worker[2:].isdigit():
        index = int(worker[2:])
    return engines[index % len(engines)]


# -- this host's networks --------------------------------------------------------------------
def _interfaces() -> list[ipaddress.IPv4Interface]:
    """This host's IPv4 interface addresses (``ip -o -4 addr``), a bridge that is down too."""
    found: list[ipaddress.IPv4Interface] = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = spawn.run(
            ["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, timeout=10
        ).stdout
        for line in out.splitlines():
            words = line.split()
            if "inet" in words:
                with contextlib.suppress(ValueError, IndexError):
                    found.append(ipaddress.IPv4Interface(words[words.index("inet") + 1]))
    return found


def host_networks() -> list[ipaddress.IPv4Network]:
    """IPv4 networks on this host's links: interface addresses and directly connected routes
    (a bridge of any engine here, down or up), so that a new cluster network overlaps none of
    them. Routes through a gateway are not counted: the route that sends the machines' subnets
    to a remote engine's host must not keep that engine from using them."""
    found = [interface.network for interface in _interfaces()]
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/route").read_text().splitlines()[1:]:
            fields = line.split()
            with contextlib.suppress(ValueError, IndexError):
                if int(fields[3], 16) & RTF_GATEWAY:
                    continue
                destination = ipaddress.IPv4Address(int(fields[1], 16).to_bytes(4, "little"))
                mask = ipaddress.IPv4Address(int(fields[7], 16).to_bytes(4, "little"))
                if int(mask):  # the default route covers everything: not "in use"
                    found.append(ipaddress.IPv4Network(f"{destination}/{mask}", strict=False))
    return found


def _is_this_host(name: str) -> bool:
    """Whether ``name`` resolves to a loopback address or one of this host's."""
    import socket  # here and in reachable(): only creating a machine needs it

    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None, socket.AF_INET)}
    except OSError:
        return False
    own = {str(interface.ip) for interface in _interfaces()}
    return any(ipaddress.ip_address(a).is_loopback or a in own for a in addresses)


def reachable(ip: str, port: int, timeout: float = 3.0) -> bool:
    """Whether this host reaches ``ip``: a connection made or refused says so; a timeout or
    "no route" says it does not."""
    import socket

    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


# -- engines a run used ----------------------------------------------------------------------
def _registry(run: str) -> Path:
    return REGISTRY / f"{run}.json"


def remember(run: str | None, engine: Engine) -> None:
    """Record that run ``run`` makes machines on ``engine`` (nothing outside a run, nor for
    the default socket, which ``down`` and ``leaks`` always cover)."""
    if not run or engine.spec == DEFAULT_HOST:
        return
    known = remembered(run)
    if engine in known:
        return
    REGISTRY.mkdir(parents=True, exist_ok=True)
    path = _registry(run)
    with path.open("a", encoding="utf-8") as out:  # one short line per write: appends are atomic
        out.write(json.dumps(asdict(engine)) + "\n")


def remembered(run: str | None = None) -> list[Engine]:
    """The engines run ``run`` made machines on (every run's when None)."""
    paths = [_registry(run)] if run else sorted(REGISTRY.glob("*.json"))
    found: list[Engine] = []
    for path in paths:
        with contextlib.suppress(OSError):
            for line in path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError, TypeError):
                    found.append(Engine(**json.loads(line)))
    return list(dict.fromkeys(found))


def _gone(engine: Engine) -> bool:
    """A unix-socket engine whose socket file is gone (a stopped second dockerd): for good."""
    url = urlsplit(engine.spec)
    return url.scheme == "unix" and not Path(url.path).exists()


def prune() -> list[Engine]:
    """Forget the remembered engines that are gone for good (see :func:`_gone`); those."""
    dropped: list[Engine] = []
    for path in sorted(REGISTRY.glob("*.json")):
        engines = remembered(path.stem)
        kept = [engine for engine in engines if not _gone(engine)]
        if len(kept) == len(engines):
            continue
        dropped += [engine for engine in engines if _gone(engine)]
        if kept:
            path.write_text("".join(json.dumps(asdict(e)) + "\n" for e in kept), encoding="utf-8")
        else:
            path.unlink(missing_ok=True)
    return list(dict.fromkeys(dropped))


def forget(run: str | None) -> None:
    """Drop the record of the engines run ``run`` used (every run's when None)."""
    paths = [_registry(run)] if run else list(REGISTRY.glob("*.json"))
    for path in paths:
        path.unlink(missing_ok=True)


def engines_to_sweep(
    run: str | None, extra: Iterable[Engine] = (), environ: Mapping[str, str] | None = None
) -> list[Engine]:
    """The engines ``down``/``leaks`` cover: this process's, ``$DOJO_ENGINES``, ``extra``, and
    those run ``run`` (every run when None) made machines on."""
    env = os.environ if environ is None else environ
    prune()  # a run's engine whose socket is gone left nothing to find there
    engines = [current_engine(env)]
    listed = env.get(ENV_ENGINES, "")
    if listed.strip():
        with contextlib.suppress(ValueError):
            engines += parse_engines(listed, env)
    engines += list(extra)
    engines += remembered(run)
    return list(dict.fromkeys(engines))
