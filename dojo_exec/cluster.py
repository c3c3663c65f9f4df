"""The world a page's shell runs in: a private machine namespace, its PATH and its teardown.

Every page session gets its own cluster: a unique ``DOJO_CLUSTER`` name (so the embedded
machines of parallel pages never collide), its own ``MACHINE_STORAGE_PATH`` (certificates
and machine records), a ``bin/`` folder first on PATH holding ``docker-machine`` (the
embedded shim, or nothing when a real ``docker-machine`` and a real driver are used) and a
scratch working directory.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

EMBEDDED = "embedded"
QEMU = "qemu"
NO_MACHINES = "none"
SHIM_DRIVERS = (EMBEDDED, QEMU)
"""Drivers served by this package's ``docker-machine`` shim (the others by a real binary)."""
# Until a page points its client at a machine (``eval $(docker-machine env NAME)``), a
# ``docker`` command must not reach the engine the machines run on: it fails with this name.
NO_MACHINE_CHOSEN = "unix:///dojo-exec/no-machine-chosen--run-eval-docker-machine-env.sock"


@dataclass
class Cluster:
    """A private namespace for one page session's machines."""

    name: str
    root: Path
    driver: str = EMBEDDED
    extra_env: dict[str, str] = field(default_factory=dict)
    reaper: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def storage(self) -> Path:
        return self.root / "machine"

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    @classmethod
    def create(cls, driver: str = EMBEDDED, *, base: Path | None = None) -> Cluster:
        """Make the folders and the ``docker-machine`` command for ``driver``."""
        name = f"p{uuid.uuid4().hex[:8]}"
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix=f"dojo-{name}-", dir=base))
        cluster = cls(name=name, root=root, driver=driver)
        for folder in (cluster.storage, cluster.bin_dir, cluster.workdir):
            folder.mkdir(parents=True, exist_ok=True)
        if driver != NO_MACHINES:
            cluster._install_docker_machine()
        if driver in SHIM_DRIVERS:
            preload_teardown()
        if driver == EMBEDDED:  # removes the cluster if this process dies without doing it
            from dojo_exec.reaper import start_reaper

            cluster.reaper = start_reaper(name, root, driver)
        return cluster

    def _install_docker_machine(self) -> None:
        # imported here on purpose, as spawn below: the pytest plugin imports this module for
        # its constants in every pytest session, which need neither the shim nor pexpect
        from dojo_exec.machines.cli import choose_docker_machine, install_shim

        if self.driver in SHIM_DRIVERS:
            install_shim(self.bin_dir)
            return
        real = choose_docker_machine(self.driver)
        (self.bin_dir / "docker-machine").symlink_to(real)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for the page's shell."""
        from dojo_exec.machines.engines import ENV_CERT_PATH, ENV_TLS_VERIFY, current_engine

        env = dict(os.environ if base is None else base)
        host_engine = current_engine(env)  # DOJO_ENGINE_HOST, else DOCKER_HOST/CONTEXT, else …
        for leaked in (
            "DOCKER_HOST",
            "DOCKER_TLS_VERIFY",
            "DOCKER_CERT_PATH",
            "DOCKER_CONTEXT",
            "DOCKER_MACHINE_NAME",
            ENV_TLS_VERIFY,
            ENV_CERT_PATH,
        ):
            env.pop(leaked, None)
        if self.driver != NO_MACHINES:
            env.update(host_engine.env())  # the engine the page's machines are made on
            env["DOCKER_HOST"] = NO_MACHINE_CHOSEN
        env.update(
            {
                "PATH": f"{self.bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}",
                "MACHINE_STORAGE_PATH": str(self.storage),
                "DOJO_CLUSTER": self.name,
                "HOME": env.get("HOME", str(self.root)),
                "NO_COLOR": "1",
                # the provider of every machine the page creates, whatever its --driver says
                **({"DOJO_DRIVER": self.driver} if self.driver in SHIM_DRIVERS else {}),
                "LC_ALL": env.get("LC_ALL", "C.UTF-8"),
            }
        )
        env.update(self.extra_env)
        return env

    @property
    def driver_label(self) -> str:
        """How the run's provenance names the machines (qemu: with accelerator, guest kernel)."""
        if self.driver == NO_MACHINES:
            return "none (local shell)"
        from dojo_exec.machines.providers import describe

        return describe(self.driver)

    def teardown(self) -> list[str]:
        """Remove every machine of this cluster; returns what was removed."""
        removed: list[str] = []
        try:
            if self.driver in SHIM_DRIVERS:
                removed = _remove_provided(self)
            elif self.driver != NO_MACHINES:
                removed = _remove_real(self)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            if self.reaper is not None:
                from dojo_exec.reaper import stop_reaper

                stop_reaper(self.reaper)
                self.reaper = None
        return removed


_PRELOAD = threading.Lock()
_preloaded: list[threading.Thread] = []


def _import_sweepers() -> None:
    from dojo_exec.machines.providers import sweepers

    sweepers()  # imports each provider's sweeper (and the Docker SDK), makes no client


def preload_teardown() -> None:
    """Import what a teardown needs (the Docker SDK and every provider's sweeper, 0.4 s of CPU)
    in the background, once per process, while the page runs; not at the page's end, where
    it delayed the run of the last page by as much."""
    with _PRELOAD:
        if not _preloaded:
            thread = threading.Thread(target=_import_sweepers, name="preload-teardown", daemon=True)
            thread.start()
            _preloaded.append(thread)


def _remove_provided(cluster: Cluster) -> list[str]:
    """Every provider's sweep of the cluster (a page may have made machines of several)."""
    from dojo_exec.machines.driver import MachineError, Scope
    from dojo_exec.machines.providers import sweepers
    from dojo_exec.machines.store import Store

    removed: list[str] = []
    scope = Scope(cluster=cluster.name, stores=[Store(cluster.storage)])
    for sweeper in sweepers():
        try:
            removed += sweeper.remove(scope)
        except MachineError as error:  # no engine for the embedded sweep: nothing of it to remove
            log.debug("%s sweep of %s: %s", sweeper.name, cluster.name, error)
    return removed


def _remove_real(cluster: Cluster) -> list[str]:
    from dojo_exec import spawn

    machines = sorted(p.name for p in (cluster.storage / "machines").glob("*") if p.is_dir())
    if machines:
        spawn.run(
            [str(cluster.bin_dir / "docker-machine"), "rm", "-y", "-f", *machines],
            env=cluster.env(),
            check=False,
            timeout=600,
        )
    return machines
