"""Questions about existing embedded machines, answered without the Docker SDK.

A page's shell calls ``docker-machine env``, ``ip``, ``ssh`` … dozens of times per page, each a
new process; importing the Docker SDK (requests, urllib3, the http stack) and opening a client
cost most of such a call's ~0.2 s of CPU.  What these commands need is the machine's record
(the store) and its container's status, and ``ssh`` runs ``docker exec`` anyway: so
:class:`DindNodes` asks the docker CLI (``docker container inspect``), and uses the SDK only
where there is no docker CLI.  :class:`.dind.DindDriver`, which makes and changes machines,
extends it and answers the same questions with the client it already has.
"""

from __future__ import annotations

import builtins
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dojo_exec import spawn
from dojo_exec.machines.driver import HostNotRunning, MachineError, State
from dojo_exec.machines.engines import current_engine
from dojo_exec.machines.store import DRIVER_NAME, Machine, Store, cluster_name, object_name

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

    def url(self, name: str) -> str:
        return self._record(name).url

    def ip(self, name: str) -> str:
        record = self._record(name)
        if self.state(name) is not State.RUNNING:
            raise HostNotRunning(name)
        return record.ip

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
