"""Stand-ins for the Docker Hub images the workshop's pages use, built offline from Debian packages.

Each is a small ``FROM scratch`` image tagged with the real name (``alpine:latest``,
``redis:3.0.6``, ``redis:3.0.7``) and labelled ``dojo.stand-in=true``,
``dojo.stand-in.of=<name>``, ``dojo.stand-in.from=debian <suite> <package> <version>`` and
``dojo.recipe=<hash>`` (rebuilt when the recipe changes). An image of the same name that is not a
stand-in (really pulled from Docker Hub) is never replaced.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import docker
import docker.errors

from .base_image import RECIPES, Log, build_recipe, ensure_base_image, recipe_hash
from .labels import LABEL_RECIPE, LABEL_STAND_IN, LABEL_STAND_IN_FROM, LABEL_STAND_IN_OF

STAND_IN_RECIPES = RECIPES / "stand-ins"
STAND_IN_SUITE = "bookworm"
BUILD_REPOSITORY = "dojo-stand-in-build"


@dataclass(frozen=True)
class StandIn:
    """One stand-in image: the Docker Hub reference it replaces and the recipe that makes it."""

    ref: str
    dockerfile: str
    package: str

    @property
    def repository(self) -> str:
        return self.ref.partition(":")[0]

    @property
    def tag(self) -> str:
        return self.ref.partition(":")[2] or "latest"

    def recipe_hash(self, suite: str = STAND_IN_SUITE) -> str:
        return recipe_hash([STAND_IN_RECIPES / self.dockerfile], self.ref, suite)


STAND_INS: tuple[StandIn, ...] = (
    StandIn("alpine:latest", "Dockerfile.alpine", "busybox-static"),
    StandIn("redis:3.0.6", "Dockerfile.redis", "redis-server"),
    StandIn("redis:3.0.7", "Dockerfile.redis", "redis-server"),
)


def stand_in_status(client: docker.DockerClient, stand_in: StandIn) -> str:
    """``current``, ``stale`` (old recipe), ``missing``, or ``real`` (not a stand-in: keep it)."""
    try:
        image = client.images.get(stand_in.ref)
    except docker.errors.ImageNotFound:
        return "missing"
    labels = image.labels or {}
    if labels.get(LABEL_STAND_IN) != "true":
        return "real"
    return "current" if labels.get(LABEL_RECIPE) == stand_in.recipe_hash() else "stale"


def _provenance(client: docker.DockerClient, build_tag: str) -> str:
    """The ``debian <suite> <package> <version>`` line the build stage wrote."""
    out = client.containers.run(
        build_tag, ["cat", "/out/etc/dojo-stand-in"], remove=True, labels={"dojo.managed": "1"}
    )
    return bytes(out).decode().strip()


def _build_stage_tag(stand_in: StandIn) -> str:
    name = stand_in.dockerfile.rpartition(".")[2]
    return f"{BUILD_REPOSITORY}:{name}-{recipe_hash([STAND_IN_RECIPES / stand_in.dockerfile])}"


def build_stand_in(client: docker.DockerClient, stand_in: StandIn, *, log: Log = print) -> str:
    """Build one stand-in; returns the image id.

    The Debian build stage stays tagged ``dojo-stand-in-build:…`` so tags sharing a recipe reuse it;
    :func:`ensure_stand_ins` removes it at the end.
    """
    base = ensure_base_image(client, STAND_IN_SUITE, log=log)
    build_tag = _build_stage_tag(stand_in)
    build_recipe(
        client,
        STAND_IN_RECIPES,
        build_tag,
        dockerfile=stand_in.dockerfile,
        buildargs={"BASE": base},
        target="build",
        log=log,
    )
    origin = _provenance(client, build_tag)
    return build_recipe(
        client,
        STAND_IN_RECIPES,
        stand_in.ref,
        dockerfile=stand_in.dockerfile,
        buildargs={"BASE": base, "STAND_IN_OF": stand_in.ref, "STAND_IN_FROM": origin},
        labels={LABEL_RECIPE: stand_in.recipe_hash(), LABEL_STAND_IN_OF: stand_in.ref},
        log=log,
    )


def ensure_stand_ins(client: docker.DockerClient, *, log: Log = print) -> list[str]:
    """Build the missing or stale stand-ins; returns the references of all that are usable."""
    ready: list[str] = []
    build_tags: set[str] = set()
    try:
        for stand_in in STAND_INS:
            status = stand_in_status(client, stand_in)
            if status == "real":
                log(f"stand-ins: {stand_in.ref} is a real image, kept")
            elif status != "current":
                log(f"stand-ins: building {stand_in.ref} ({status})")
                build_tags.add(_build_stage_tag(stand_in))
                build_stand_in(client, stand_in, log=log)
            ready.append(stand_in.ref)
    finally:
        for tag in build_tags:  # the build stages are hundreds of MB: do not leave them behind
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(tag)
    return ready


def describe(client: docker.DockerClient, ref: str) -> str:
    """What ``ref`` really is, for provenance: ``stand-in for X (from ...)`` or ``ref``."""
    try:
        labels = client.images.get(ref).labels or {}
    except docker.errors.ImageNotFound:
        return f"{ref} (missing)"
    if labels.get(LABEL_STAND_IN) == "true":
        return (
            f"stand-in for {labels.get(LABEL_STAND_IN_OF, ref)} ({labels.get(LABEL_STAND_IN_FROM)})"
        )
    return ref
