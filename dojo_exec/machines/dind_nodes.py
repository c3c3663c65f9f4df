"""Questions about existing embedded machines, answered without the Docker SDK.

A page's shell calls ``docker-machine env``, ``ip``, ``ssh``, ``ls`` … dozens of times per page,
each a new process; importing the Docker SDK (requests, urllib3, the http stack) and opening a
client cost most of such a call's ~0.2 s of CPU.  What these commands need is the machine's
record (the store), its container's status, and for ``ls`` its engine's version; ``ssh`` runs
``docker exec`` anyway: so :class:`DindNodes` asks the docker CLI (``docker container inspect``,
one for all the machines ``ls`` lists), and uses the SDK only where there is no docker CLI; it
asks a machine's engine its version over TLS with the standard library.
:class:`.dind.DindDriver`, which makes and changes machines, extends it and answers the same
questions with the client it already has.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dojo_exec import spawn
from dojo_exec.machines.driver import HostNotRunning, MachineError, State
from dojo_exec.machines.engines import current_engine
from dojo_exec.machines.labels import LABEL_MANAGED
from dojo_exec.machines.store import (
    DRIVER_NAME,
    ENGINE_PORT,
    Machine,
    Store,
    cluster_name,
    object_name,
)

if TYPE_CHECKING:
    import docker

ENGINE_ENV_VARS = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT")
CONTAINER_STATES = {
    "running": State.RUNNING,
    "created": State.STOPPED,
    "exited": State.STOPPED,
    "paused": State.PAUSED,
    "restarting": State.STARTING,
    "removing": State.STOPPING,
    "dead": State.ERROR,
}
"""A node container's status as a machine state."""

_SHELL = "if command -v bash >/dev/null; then exec bash -l; else exec sh -l; fi"
API_VERSION = "1.41"
"""The API version engines are asked their version in (:data:`.dind.API_VERSION`)."""


def engine_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment that reaches the *host* engine, not a machine.

    After ``eval $(docker-machine env manager1)`` the ``DOCKER_*`` variables point at a machine;
    the engine ``DOJO_ENGINE_HOST`` names (see :mod:`.engines`) is used then.
    """
    env = dict(os.environ if environ is None else environ)
    engine = current_engine(env)
    for var in ENGINE_ENV_VARS:
        env.pop(var, None)
    env.update(engine.cli_env())
    return env


def container_status_by_cli(docker_cli: str, container: str) -> str | None:
    """The container's status (``running``, ``exited`` …) as the docker CLI reports it on the
    host engine; None when there is no such container."""
    result = spawn.run(
        [docker_cli, "container", "inspect", "--format", "{{.State.Status}}", container],
        env=engine_environ(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode == 0:
        return result.stdout.strip()
    if "no such" in result.stderr.lower():
        return None
    raise MachineError(
        f"Error checking the state of {container}: "
        + (result.stderr.strip() or f"docker exited {result.returncode}")
    )


def managed_statuses_by_cli(docker_cli: str, containers: Sequence[str]) -> dict[str, str]:
    """The status of each of ``containers`` (at least one) that exists and carries
    ``dojo.managed=1``, as one ``docker container inspect`` reports them on the host engine."""
    template = "{{.Name}}\t{{.State.Status}}\t{{json .Config.Labels}}"
    result = spawn.run(
        [docker_cli, "container", "inspect", "--format", template, *containers],
        env=engine_environ(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    problems = [line for line in result.stderr.splitlines() if "no such" not in line.lower()]
    if result.returncode != 0 and (problems or not result.stderr.strip()):
        raise MachineError(
            "Error listing machines: "
            + ("\n".join(problems).strip() or f"docker exited {result.returncode}")
        )
    statuses: dict[str, str] = {}
    for line in result.stdout.splitlines():
        name, status, labels = line.split("\t", 2)
        if (json.loads(labels) or {}).get(LABEL_MANAGED) == "1":
            statuses[name.lstrip("/")] = status
    return statuses


def tls_engine_version(
    machine_dir: Path, host: str, timeout: float = 10.0, port: int = ENGINE_PORT
) -> str:
    """The server version a machine's engine gives over TLS, verified as the docker CLI
    verifies it (the machine's CA and client certificate): :func:`.dind.tls_engine_version`
    with :mod:`ssl` and :mod:`http.client` instead of the Docker SDK."""
    import http.client
    import ssl

    url = f"https://{host}:{port}/v{API_VERSION}/version"
    try:
        context = ssl.create_default_context(cafile=str(machine_dir / "ca.pem"))
        context.load_cert_chain(str(machine_dir / "cert.pem"), str(machine_dir / "key.pem"))
        connection = http.client.HTTPSConnection(
            host, port, timeout=int(max(timeout, 1)), context=context
        )
        try:
            connection.request("GET", f"/v{API_VERSION}/version")
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
    except (OSError, http.client.HTTPException) as error:  # ssl's errors are OSErrors
        raise MachineError(f"Unable to query docker version: Get {url}: {error}") from None
    if response.status != 200:
        raise MachineError(
            f"Unable to query docker version: Get {url}: {response.status} {response.reason}"
        )
    return str(json.loads(body)["Version"])


def _stdin_is_tty() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):
        return False


class DindNodes:
    """The embedded machines of a store: their state, address, and commands run in them."""

    name = DRIVER_NAME

    def __init__(self, store: Store | None = None, cluster: str | None = None) -> None:
        self.store = store or Store()
        self.cluster = cluster or cluster_name()

    # -- naming ------------------------------------------------------------------------------
    def container_name(self, name: str) -> str:
        return object_name(self.cluster, name)

    def _record(self, name: str) -> Machine:
        return self.store.load(name)

    # -- the engine's answers ----------------------------------------------------------------
    def _sdk_client(self) -> docker.DockerClient:
        """A client of the host engine, for the few hosts without a docker CLI."""
        return current_engine().client()

    def _container_status(self, container: str) -> str | None:
        """``container``'s status; None when it does not exist."""
        docker_cli = shutil.which("docker")
        if docker_cli:
            return container_status_by_cli(docker_cli, container)
        import docker.errors

        try:
            return str(self._sdk_client().api.inspect_container(container)["State"]["Status"])
        except docker.errors.NotFound:
            return None

    def _managed_statuses(self, containers: Sequence[str]) -> dict[str, str]:
        """The status of each of ``containers`` that the embedded machines made (one query)."""
        if not containers:
            return {}
        docker_cli = shutil.which("docker")
        if docker_cli:
            return managed_statuses_by_cli(docker_cli, containers)
        return self._managed_statuses_by_sdk()

    def _managed_statuses_by_sdk(self) -> dict[str, str]:
        """Every embedded machine's container status, from the Docker SDK (one query)."""
        import docker.errors

        try:
            listed = self._sdk_client().api.containers(
                all=True, filters={"label": f"{LABEL_MANAGED}=1"}
            )
        except docker.errors.DockerException as error:
            raise MachineError(f"Error listing machines: {error}") from error
        return {name.lstrip("/"): c["State"] for c in listed for name in c.get("Names") or []}

    # -- the interface -----------------------------------------------------------------------
    def list(self) -> builtins.list[str]:
        """Machines of this store (any cluster: the store is what docker-machine lists)."""
        return self.store.names()

    def state(self, name: str) -> State:
        record = self._record(name)
        status = self._container_status(record.container or self.container_name(name))
        if status is None:
            return State.ERROR if record.container else State.NONE
        return CONTAINER_STATES.get(status, State.ERROR)

    def states(self, names: Sequence[str]) -> dict[str, tuple[State, str]]:
        """Every machine's state from one engine query: containers of other clusters may be
        removed meanwhile (pages run in parallel), which must not break ``ls``."""
        records = {name: self._record(name) for name in names}
        containers = [record.container for record in records.values() if record.container]
        statuses = self._managed_statuses(list(dict.fromkeys(containers)))
        found: dict[str, tuple[State, str]] = {}
        for name, record in records.items():
            status = statuses.get(record.container)
            if not record.ip and not status:
                found[name] = (State.NONE, "")  # being created
            elif status is None:
                found[name] = (State.ERROR, f"container {record.container} not found")
            else:
                found[name] = (CONTAINER_STATES.get(status, State.ERROR), "")
        return found

    def url(self, name: str) -> str:
        return self._record(name).url

    def ip(self, name: str) -> str:
        record = self._record(name)
        if self.state(name) is not State.RUNNING:
            raise HostNotRunning(name)
        return record.ip

    def engine_version(self, name: str, timeout: float = 10.0) -> str:
        """``docker version``'s server version of a running machine."""
        record = self._record(name)
        return tls_engine_version(self.store.machine_dir(name), record.ip, timeout=timeout)

    def exec(self, name: str, command: Sequence[str], interactive: bool = False) -> int:
        """``ssh``: a command through ``sh -c`` (as sshd runs it), or an interactive shell."""
        record = self._record(name)
        if self.state(name) is not State.RUNNING:
            raise MachineError(f'Error: Cannot run SSH command: Host "{name}" is not running')
        argv = ["sh", "-c", " ".join(command)] if command else ["sh", "-c", _SHELL]
        docker_cli = shutil.which("docker")
        if docker_cli:
            flags = []
            if not command:
                flags = ["-it"] if interactive else ["-i"]
            elif not _stdin_is_tty():
                flags = ["-i"]
            env = engine_environ()  # DOCKER_HOST or DOCKER_CONTEXT of the host engine
            return spawn.call([docker_cli, "exec", *flags, record.container, *argv], env=env)
        return self._exec_sdk(record.container, argv)

    def _exec_sdk(self, container_name: str, argv: builtins.list[str]) -> int:
        client = self._sdk_client()
        container = client.containers.get(container_name)
        exec_id = client.api.exec_create(container.id, argv, stdout=True, stderr=True)["Id"]
        for out, err in client.api.exec_start(exec_id, stream=True, demux=True):
            if out:
                sys.stdout.buffer.write(out)
                sys.stdout.flush()
            if err:
                sys.stderr.buffer.write(err)
                sys.stderr.flush()
        return int(client.api.exec_inspect(exec_id).get("ExitCode") or 0)
