"""The node image: one embedded swarm machine = one container running its own Docker engine.

Runtime contract (what the driver sets on ``docker run``; the full list is at the top of
``recipes/node/dojo-node-entrypoint``):

- ``DOJO_TLS=1`` — serve ``--tlsverify`` on ``tcp://0.0.0.0:2376`` and ``unix:///var/run/docker.sock``
  with ``/etc/docker/tls/{ca.pem,server.pem,server-key.pem}`` (mounted read-only by the driver);
- ``DOJO_CGROUP_PARENT=/name`` — ``--cgroup-parent /name``;
- ``DOJO_REGISTRY_MIRROR=url`` — ``--registry-mirror url``
  (+ ``--insecure-registry host:port`` for an http url);
- ``DOJO_CGROUP_V2=1`` — moby's hack/dind cgroup v2 nesting step before dockerd starts;
- ``DOJO_DNS=ip`` — ``--dns ip`` (the cluster's internet stand-in: see :mod:`.internet`);
- ``DOJO_HOST_ONLY_ADDRESS=ip`` — a VirtualBox-like second address (see :mod:`.offline`);
- ``DOJO_MESH=auto|on|off`` — ``dojo-mesh``: swarm's routing mesh with iptables on a kernel
  without IPVS (auto: only then);
- ``DOJO_INSECURE_REGISTRIES``, ``DOJO_ENGINE_LABELS``, ``DOJO_SHUTDOWN_TIMEOUT`` (default 2 s),
  ``DOJO_IPTABLES``, ``DOJO_DOCKERD_ARGS``, ``DOJO_DEBUG``; container arguments go to dockerd.

dockerd runs in the foreground under ``tini`` (zombies reaped, ``docker stop`` fast). The container
needs its own volume at ``/var/lib/docker``, a hostname (``--hostname manager1``: what
``docker node ls`` shows) and, on a cgroup v1 host without ``--privileged``, the flags of
:func:`dind_run_options`.

``DEFAULT_SUITE`` is **bookworm** (engine 20.10.24): its engine starts in about 1 s, it is the
engine the recorded fixtures were captured on, and the same as the host's Debian ``docker.io``.
``trixie`` (engine 26.1.5, client from ``docker-cli``) is newer and fully supported, but its engine
starts noticeably slower; choose it to verify the pages on a current engine.  ``sid`` (forky's
engine, 28.5 as built here, client from ``docker-cli``) is the newest; its archive moves, so its
image is as of its build (its base trusts an expired Release file: see
:data:`.base_image.ROLLING_APT_CONF`).
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path
from typing import Any

import docker
import docker.errors

from .base_image import RECIPES, Log, build_recipe, ensure_base_image, recipe_hash
from .hub import registry_reachable
from .labels import LABEL_RECIPE, LABEL_ROLE, ROLE_NODE
from .suites import DEFAULT_SUITE, ENGINES, current_suite

NODE_REPOSITORY = "dojo-node"
NODE_RECIPE = RECIPES / "node"
ENTRYPOINT = NODE_RECIPE / "dojo-node-entrypoint"
MESH = NODE_RECIPE / "dojo-mesh"
"""The routing mesh on kernels without IPVS (started by the entrypoint; ``DOJO_MESH``)."""
SOURCES = ("debian", "dind")


_ENGINE_VERSIONS: dict[str, str] = {}


def node_engine_version(client: docker.DockerClient, suite: str | None = None) -> str | None:
    """The engine version of the built node image of ``suite`` as ``docker version`` reports
    it (``28.5.2+dfsg4``), read from the image's package list without starting it; None when
    the image is not built or has no ``docker.io`` package."""
    tag = node_image_tag(suite or current_suite())
    if tag in _ENGINE_VERSIONS:
        return _ENGINE_VERSIONS[tag]
    try:
        container = client.containers.create(tag, entrypoint=["true"], labels={})
    except docker.errors.DockerException:
        return None
    try:
        stream, _ = container.get_archive("/var/lib/dpkg/status")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
            member = archive.extractfile("status")
            text = member.read().decode("utf-8", "replace") if member else ""
    except (docker.errors.DockerException, tarfile.TarError, KeyError):
        return None
    finally:
        container.remove(force=True, v=True)
    for entry in text.split("\n\n"):
        if "\nPackage: docker.io\n" in f"\n{entry}\n":
            found = re.search(r"^Version: (?:\d+:)?(\S+)", entry, re.MULTILINE)
            if found:
                upstream = found.group(1).rpartition("-")[0] or found.group(1)  # no revision
                _ENGINE_VERSIONS[tag] = upstream
                return upstream
    return None


def _dockerfile(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown node image source {source!r} (choose from {', '.join(SOURCES)})")
    return "Dockerfile" if source == "debian" else "Dockerfile.dind"


def recipe_files(source: str = "debian", recipe_dir: Path = NODE_RECIPE) -> list[Path]:
    """The files whose contents define the node image of ``source``."""
    return [recipe_dir / _dockerfile(source), recipe_dir / ENTRYPOINT.name, recipe_dir / MESH.name]


def node_image_tag(
    suite: str = DEFAULT_SUITE, source: str = "debian", *, recipe_dir: Path = NODE_RECIPE
) -> str:
    """``dojo-node:<suite>-<hash of recipe files>`` (``dojo-node:dind-<hash>`` for docker:dind).

    The tag changes, and the image is rebuilt, exactly when a recipe file changes.
    """
    files = recipe_files(source, recipe_dir)
    if source == "dind":
        return f"{NODE_REPOSITORY}:dind-{recipe_hash(files, source)}"
    return f"{NODE_REPOSITORY}:{suite}-{recipe_hash(files, source, suite)}"


def ensure_node_image(
    client: docker.DockerClient,
    suite: str = DEFAULT_SUITE,
    *,
    source: str = "debian",
    log: Log = print,
) -> str:
    """Build the node image when missing and return its tag.

    ``source="debian"``: from the debootstrap base (``dojo-base:<suite>``) + Debian's ``docker.io``
    (and ``docker-cli`` where the engine ships without client), offline apart from Debian's archive.
    ``source="dind"``: ``FROM docker:dind`` (needs a reachable registry; chosen by the user).
    """
    tag = node_image_tag(suite, source)
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    buildargs: dict[str, str] = {}
    if source == "dind" and not registry_reachable(client):
        raise RuntimeError(
            "node image source 'dind' needs docker:dind from a registry and none is reachable; "
            "use source='debian' (built offline from Debian packages)"
        )
    if source == "debian":
        if suite not in ENGINES:
            log(f"node image: suite {suite!r} is untested (known: {', '.join(ENGINES)})")
        buildargs["BASE"] = ensure_base_image(client, suite, log=log)
    log(f"node image: building {tag} from {source}")
    build_recipe(
        client,
        NODE_RECIPE,
        tag,
        dockerfile=_dockerfile(source),
        buildargs=buildargs,
        labels={LABEL_ROLE: ROLE_NODE, LABEL_RECIPE: tag.partition(":")[2]},
        log=log,
    )
    return tag


def dind_run_options(cgroup_version: str = "1") -> dict[str, Any]:
    """``client.containers.run`` keyword arguments that let the inner engine run nested containers.

    cgroup v1 (this project's hosts, where ``--privileged`` fails): all capabilities but
    SYS_RESOURCE, seccomp/apparmor/systempaths unconfined, ``/sys/fs/cgroup`` mounted rw (pair with
    ``DOJO_CGROUP_PARENT``). cgroup v2: ``--privileged`` with a private cgroup namespace (pair with
    ``DOJO_CGROUP_V2=1``).
    """
    if str(cgroup_version) == "2":
        return {"privileged": True, "cgroupns": "private"}
    return {
        "cap_add": ["ALL"],
        "cap_drop": ["SYS_RESOURCE"],
        "security_opt": [
            "seccomp=unconfined",
            "apparmor=unconfined",
            "systempaths=unconfined",
        ],
        "volumes": {"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}},
    }
