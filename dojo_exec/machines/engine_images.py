"""Images for another engine: the node, stand-in, internet and mirror images copied from an engine
that has them (``docker save`` streamed into ``docker load``), so ``dojo-exec prepare`` on a new
engine needs neither a registry nor network access for builds there.

A second engine without outbound network (a second local ``dockerd`` started with
``--iptables=false``: see the README) cannot build them at all; and a copy is faster than a
build anyway (figures in the README). What the source engine lacks is left to the usual
``ensure_*`` builds on the target.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import docker
import docker.errors

from dojo_exec.machines.internet import internet_image_tag
from dojo_exec.machines.mirror import mirror_image_tag
from dojo_exec.machines.node_image import node_image_tag
from dojo_exec.machines.stand_ins import stand_ins

Log = Callable[[str], None]


def wanted_images(suite: str) -> list[str]:
    """The images embedded machines of ``suite`` use (node, mirror, internet, stand-ins)."""
    return [
        node_image_tag(suite),
        mirror_image_tag(),
        internet_image_tag(),
        *(stand_in.ref for stand_in in stand_ins()),
    ]


def _present(client: docker.DockerClient, tag: str) -> str | None:
    """The image id of ``tag`` on ``client``'s engine, or None."""
    try:
        return str(client.images.get(tag).id)
    except docker.errors.ImageNotFound:
        return None


def copy_images(
    source: docker.DockerClient,
    target: docker.DockerClient,
    tags: list[str],
    *,
    log: Log = print,
) -> list[str]:
    """Copy the ``tags`` the target lacks (or holds as another image) and the source has, in one
    ``save``/``load`` stream; returns the tags copied."""
    missing = [
        tag
        for tag in tags
        if (found := _present(source, tag)) is not None and _present(target, tag) != found
    ]
    if not missing:
        return []
    started = time.monotonic()
    for message in target.api.load_image(_save(source, missing), quiet=True):
        if isinstance(message, dict) and message.get("error"):
            raise RuntimeError(f"copying images: {message['error']}")
    absent = [tag for tag in missing if _present(target, tag) is None]
    if absent:
        raise RuntimeError(f"copying images: {', '.join(absent)} did not arrive")
    took = time.monotonic() - started
    log(f"copied {len(missing)} image(s) in {took:.1f} s: {', '.join(missing)}")
    return missing


def _save(client: docker.DockerClient, tags: list[str]) -> Iterator[bytes]:
    """``docker save TAG…`` as a stream of chunks (one archive; shared layers once)."""
    response = client.api._get(client.api._url("/images/get"), params={"names": tags}, stream=True)
    client.api._raise_for_status(response)
    yield from response.iter_content(chunk_size=1 << 20)
