"""Offline image supply: a local registry mirror of the stand-ins (whether Docker Hub answers
is :mod:`.hub`'s).

The mirror is Debian's ``docker-registry`` in a small container (``dojo-mirror``; a host process
would not survive between sessions or CI steps; the container comes back with the engine). It
serves the stand-ins under their Docker Hub names (``library/alpine``, ``library/redis``), so a
node started with ``DOJO_REGISTRY_MIRROR=<Mirror.url>`` resolves ``docker pull alpine`` and
``docker service create … redis:3.0.6`` through it, digests included. Its storage is the
container's own filesystem, started from a *filled* image (``dojo-mirror:<recipe>-<stand-ins>``:
the mirror image with the stand-ins already pushed, committed once and kept as a cache like the
images it holds), so a run's first machine does not wait while the host engine compresses and
pushes every stand-in again (2 s idle, 6-8 s on a busy start). Container and images carry
``dojo.managed=1 dojo.role=mirror``; nothing of the mirror outlives its container but images.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import docker
import docker.errors
from docker.models.containers import Container

from .base_image import RECIPES, Log, build_recipe, ensure_base_image, recipe_hash
from .host_lock import named_lock
from .hub import registry_reachable
from .labels import LABEL_MANAGED, LABEL_RECIPE, LABEL_ROLE, ROLE_MIRROR
from .stand_ins import ensure_stand_ins, stand_ins

MIRROR_NAME = "dojo-mirror"
MIRROR_PORT = 5000
MIRROR_RECIPE = RECIPES / "mirror"
MIRROR_REPOSITORY = "dojo-mirror"
MIRROR_SUITE = "bookworm"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DEFAULT_NETWORKS = ("bridge", "host", "none")


@dataclass(frozen=True)
class Mirror:
    """A running mirror: its container name and its URL as the nodes on one network reach it."""

    container: str
    url: str


def image_source(client: docker.DockerClient) -> str:
    """For provenance: ``docker hub`` or ``local stand-ins (dojo mirror)``."""
    return "docker hub" if registry_reachable(client) else "local stand-ins (dojo mirror)"


def mirror_labels() -> dict[str, str]:
    return {LABEL_MANAGED: "1", LABEL_ROLE: ROLE_MIRROR}


def mirror_image_tag() -> str:
    """``dojo-mirror:<hash of the recipe>``."""
    files = sorted(p for p in MIRROR_RECIPE.iterdir() if p.is_file())
    return f"{MIRROR_REPOSITORY}:{recipe_hash(files, MIRROR_SUITE)}"


def ensure_mirror_image(client: docker.DockerClient, *, log: Log = print) -> str:
    """Build the mirror image when missing; returns its tag."""
    tag = mirror_image_tag()
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        base = ensure_base_image(client, MIRROR_SUITE, log=log)
        log(f"mirror: building {tag}")
        build_recipe(
            client,
            MIRROR_RECIPE,
            tag,
            buildargs={"BASE": base},
            labels={**mirror_labels(), LABEL_RECIPE: tag.partition(":")[2]},
            log=log,
        )
    return tag


def filled_image_tag(client: docker.DockerClient, base: str) -> str:
    """``<base>-<hash of the stand-ins' image ids>``: what a mirror started from it serves."""
    served = []
    for stand_in in stand_ins():
        with contextlib.suppress(docker.errors.ImageNotFound):
            served.append(f"{stand_in.ref}={client.images.get(stand_in.ref).id}")
    fill = hashlib.sha256("\n".join(sorted(served)).encode()).hexdigest()[:12]
    return f"{base}-{fill}"


def ensure_filled_image(client: docker.DockerClient, *, log: Log = print) -> str:
    """The mirror image with the stand-ins pushed into it (made when missing); its tag.

    The stand-ins are the images present (see :func:`.stand_ins.ensure_stand_ins`). Made by
    pushing them to a mirror container started from the plain image and committing it; fills
    of older stand-ins of the same recipe are removed when no container uses them.
    """
    base = ensure_mirror_image(client, log=log)
    with named_lock("mirror-image"):
        tag = filled_image_tag(client, base)
        try:
            client.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        log(f"mirror: filling {tag} with the stand-ins")
        container = client.containers.run(
            base,
            detach=True,
            labels=mirror_labels(),  # a dojo object: `dojo-exec down` removes it if we die
            ports={f"{MIRROR_PORT}/tcp": ("127.0.0.1", None)},
        )
        try:
            port = _host_port(container)
            _wait_ready(port)
            push_stand_ins(client, port, log=log)
            container.stop(timeout=10)
            repository, _, name = tag.partition(":")
            container.commit(repository, name, changes=[f"LABEL {LABEL_RECIPE}={name}"])
        finally:
            container.remove(force=True, v=True)
        _remove_older_fills(client, base, tag)
    return tag


def _remove_older_fills(client: docker.DockerClient, base: str, keep: str) -> None:
    for image in client.images.list(name=MIRROR_REPOSITORY):
        tags = [t for t in image.tags if t.startswith(f"{base}-") and t != keep]
        for tag in tags:
            with contextlib.suppress(docker.errors.APIError):  # 409: a mirror still runs it
                client.images.remove(tag)


def _container(client: docker.DockerClient, name: str) -> Container | None:
    try:
        return client.containers.get(name)
    except docker.errors.NotFound:
        return None


def _host_port(container: Container, timeout: float = 10.0) -> int:
    """The 127.0.0.1 port the mirror is published on (waits while it is being started)."""
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        bindings = container.attrs["NetworkSettings"]["Ports"] or {}
        for binding in bindings.get(f"{MIRROR_PORT}/tcp") or []:
            if binding.get("HostIp") in ("127.0.0.1", "") and binding.get("HostPort"):
                return int(binding["HostPort"])
        if time.monotonic() > deadline:
            raise RuntimeError(f"mirror {container.name}: port {MIRROR_PORT} is not published")
        time.sleep(0.1)


def _start(client: docker.DockerClient, name: str, log: Log) -> Container:
    """The mirror container, created or restarted as needed (current recipe, running)."""
    image = ensure_mirror_image(client, log=log)
    container = _container(client, name)
    if container is not None and container.labels.get(LABEL_ROLE) != ROLE_MIRROR:
        raise RuntimeError(f"a container named {name} exists and is not a dojo mirror")
    if container is not None and container.labels.get(LABEL_RECIPE) != image.partition(":")[2]:
        log(f"mirror: replacing {name} (recipe changed)")
        remove_mirror(client, name=name)
        container = None
    if container is None:
        filled = ensure_filled_image(client, log=log)
        try:
            container = client.containers.run(
                filled,
                name=name,
                detach=True,
                labels={**mirror_labels(), LABEL_RECIPE: image.partition(":")[2]},
                ports={f"{MIRROR_PORT}/tcp": ("127.0.0.1", None)},
                restart_policy={"Name": "unless-stopped"},
            )
        except docker.errors.APIError as error:
            if error.status_code != 409:  # 409: another cluster started it at the same moment
                raise
            return client.containers.get(name)
        log(f"mirror: started {name}")
    elif container.status != "running":
        container.start()
    return container


def _get(url: str, *, accept: str = "", timeout: float = 2.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), b""


def _wait_ready(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError):
            if _get(f"http://127.0.0.1:{port}/v2/")[0] == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"mirror on 127.0.0.1:{port} did not answer within {timeout:.0f} s")
        time.sleep(0.1)


def _hub_path(ref: str) -> tuple[str, str]:
    """``alpine:latest`` -> (``library/alpine``, ``latest``)."""
    repository, _, tag = ref.partition(":")
    return (repository if "/" in repository else f"library/{repository}"), tag or "latest"


def _served_image_id(port: int, ref: str) -> str | None:
    """Image id (config digest) the mirror serves for ``ref``, or None."""
    path, tag = _hub_path(ref)
    status, body = _get(f"http://127.0.0.1:{port}/v2/{path}/manifests/{tag}", accept=MANIFEST_V2)
    if status != 200:
        return None
    return str(json.loads(body).get("config", {}).get("digest")) or None


def push_stand_ins(client: docker.DockerClient, port: int, *, log: Log = print) -> list[str]:
    """Push the stand-ins (a project's too) the mirror does not serve yet, or serves older."""
    pushed: list[str] = []
    for stand_in in stand_ins():
        try:
            image = client.images.get(stand_in.ref)
        except docker.errors.ImageNotFound:
            continue
        if _served_image_id(port, stand_in.ref) == image.id:
            continue
        path, tag = _hub_path(stand_in.ref)
        repository = f"127.0.0.1:{port}/{path}"
        image.tag(repository, tag)
        try:
            for chunk in client.api.push(repository, tag, stream=True, decode=True):
                if "error" in chunk:
                    raise RuntimeError(f"pushing {stand_in.ref} to the mirror: {chunk['error']}")
        finally:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(f"{repository}:{tag}", noprune=True)
        log(f"mirror: pushed {stand_in.ref}")
        pushed.append(stand_in.ref)
    return pushed


def _attach(client: docker.DockerClient, container: Container, network: str) -> str:
    """Connect the mirror to ``network`` (if needed); returns the host name nodes use there."""
    networks = container.attrs["NetworkSettings"]["Networks"]
    if network not in networks:
        try:
            client.networks.get(network).connect(container)
        except docker.errors.APIError:
            container.reload()  # connected concurrently by another cluster's call?
            if network not in container.attrs["NetworkSettings"]["Networks"]:
                raise
        container.reload()
        networks = container.attrs["NetworkSettings"]["Networks"]
    if network in DEFAULT_NETWORKS:  # no embedded DNS on the default bridge: use the address
        return str(networks[network]["IPAddress"])
    return str(container.name)


def ensure_mirror(
    client: docker.DockerClient, network: str, *, name: str = MIRROR_NAME, log: Log = print
) -> Mirror:
    """A running mirror serving the stand-ins, attached to ``network``; idempotent and fast.

    Builds what is missing (stand-ins, mirror image), starts the container (port published on
    127.0.0.1 only), pushes the stand-ins it does not serve yet, and connects it to ``network``
    (called once per cluster network, it joins them all). ``url`` is valid on ``network``.
    """
    ensure_stand_ins(client, log=log)
    container = _start(client, name, log)
    port = _host_port(container)
    _wait_ready(port)
    push_stand_ins(client, port, log=log)
    host = _attach(client, container, network)
    return Mirror(container=str(container.name), url=f"http://{host}:{MIRROR_PORT}")


def ensure_mirror_port(client: docker.DockerClient, *, log: Log = print) -> int:
    """The running mirror's port on 127.0.0.1 (started and filled when needed): for VMs, which
    reach the host's loopback through their user network, not through a Docker network."""
    ensure_stand_ins(client, log=log)
    container = _start(client, MIRROR_NAME, log)
    port = _host_port(container)
    _wait_ready(port)
    push_stand_ins(client, port, log=log)
    return port


def remove_mirror(client: docker.DockerClient, *, name: str = MIRROR_NAME) -> None:
    """Remove the mirror container (its images are kept as caches), and the storage volume
    mirrors of earlier versions had."""
    container = _container(client, name)
    if container is not None:
        container.remove(force=True, v=True)
    with contextlib.suppress(docker.errors.NotFound):
        client.volumes.get(f"{name}-data").remove(force=True)
