"""The "internet" stand-in of an offline cluster: every name resolves to it; it answers ping, HTTP.

One small container per cluster network, ``dojo-<cluster>_internet``, at the fixed address
:data:`INTERNET_HOST` of the cluster's subnet (so it keeps its address when restarted). Nodes are
started with ``--dns <that address>`` and their inner engine with ``--dns`` too, so
``ping -c 1 docker.com`` works on a node and inside its containers and tasks, while the names
Docker's embedded DNS knows (machines, the mirror) still resolve to them. It carries the cluster's
labels (``dojo.role=internet``): it goes with the cluster's last machine and with any teardown.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.networks import Network

from .base_image import RECIPES, Log, build_recipe, ensure_base_image, recipe_hash
from .labels import LABEL_RECIPE, LABEL_ROLE

ROLE_INTERNET = "internet"
INTERNET_RECIPE = RECIPES / "internet"
INTERNET_REPOSITORY = "dojo-internet"
INTERNET_SUITE = "bookworm"
INTERNET_HOST = 127
"""Host number of the stand-in in the cluster's /24 (machines take .2 upwards, Docker .128+)."""
READY_TIMEOUT = 10.0


def internet_image_tag() -> str:
    """``dojo-internet:<hash of the recipe>``."""
    files = sorted(p for p in INTERNET_RECIPE.iterdir() if p.is_file())
    return f"{INTERNET_REPOSITORY}:{recipe_hash(files, INTERNET_SUITE)}"


def ensure_internet_image(client: docker.DockerClient, *, log: Log = print) -> str:
    """Build the stand-in's image when missing; returns its tag."""
    tag = internet_image_tag()
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        base = ensure_base_image(client, INTERNET_SUITE, log=log)
        log(f"internet: building {tag}")
        build_recipe(
            client,
            INTERNET_RECIPE,
            tag,
            buildargs={"BASE": base},
            labels={LABEL_ROLE: "image", LABEL_RECIPE: tag.partition(":")[2]},
            log=log,
        )
    return tag


def internet_address(network: Network) -> str:
    """The stand-in's address on ``network`` (host :data:`INTERNET_HOST` of its subnet)."""
    subnet = ipaddress.ip_network(network.attrs["IPAM"]["Config"][0]["Subnet"])
    return str(subnet.network_address + INTERNET_HOST)


def _wait_ready(container: Container, timeout: float = READY_TIMEOUT) -> None:
    """Wait until dnsmasq runs (its start line is logged just before it is exec'ed)."""
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        if container.status != "running" and container.status != "created":
            logs = bytes(container.logs(tail=10)).decode(errors="replace")
            raise RuntimeError(f"internet stand-in {container.name} exited:\n{logs}")
        if b"dojo-internet: every name" in bytes(container.logs()):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"internet stand-in {container.name} not ready in {timeout:.0f} s")
        time.sleep(0.05)


def ensure_internet(
    client: docker.DockerClient,
    network: Network,
    name: str,
    labels: Mapping[str, str],
    *,
    log: Log = print,
) -> str:
    """A running stand-in ``name`` on ``network`` (labelled ``labels``); returns its address."""
    address = internet_address(network)
    image = ensure_internet_image(client, log=log)
    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        container = None
    if container is not None and container.labels.get(LABEL_RECIPE) != image.partition(":")[2]:
        container.remove(force=True, v=True)  # made from an older recipe: replace it
        container = None
    if container is None:
        api = client.api
        created = api.create_container(
            image,
            name=name,
            hostname="internet",
            labels={**labels, LABEL_ROLE: ROLE_INTERNET, LABEL_RECIPE: image.partition(":")[2]},
            detach=True,
            host_config=api.create_host_config(restart_policy={"Name": "unless-stopped"}),
            networking_config=api.create_networking_config(
                {network.name: api.create_endpoint_config(ipv4_address=address)}
            ),
        )
        container = client.containers.get(created["Id"])
        log(f"internet: starting {name} ({address})")
    if container.status != "running":
        container.start()
    _wait_ready(container)
    return address


def remove_internet(client: docker.DockerClient, name: str) -> bool:
    """Remove the stand-in ``name``; True if it was there."""
    try:
        client.containers.get(name).remove(force=True, v=True)
    except docker.errors.NotFound:
        return False
    return True
