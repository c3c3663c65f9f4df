"""Stand-ins for Docker Hub images, built offline from Debian packages (or a project's recipes).

Each is a small image tagged with the real name (``alpine:latest``, ``nginx:latest``,
``redis:3.0.6`` …) and labelled ``dojo.stand-in=true``, ``dojo.stand-in.of=<name>``,
``dojo.stand-in.from=<what it really is>`` and ``dojo.recipe=<hash>`` (rebuilt when the recipe
changes). An image of the same name that is not a stand-in (really pulled) is never replaced.

The mirror serves **any tag** of a repository that has a ``latest`` stand-in (``redis:7.4.1``,
``nginx:1.27``) with that stand-in, except the tags listed in its ``dojo.stand-in.absent-tags``
label (tags that do not exist upstream, which a tutorial may rely on failing to pull).

A project adds its own: ``DOJO_STAND_INS=dir[:dir…]``, each ``dir`` holding ``Dockerfile.<name>``
recipes (build context: that directory; build argument ``BASE``: a Debian base image). Each
becomes ``<name>:latest`` (so any ``<name>:TAG``) and replaces a built-in of the same name.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from .base_image import RECIPES, Log, build_recipe, ensure_base_image, recipe_hash
from .labels import LABEL_RECIPE, LABEL_STAND_IN, LABEL_STAND_IN_FROM, LABEL_STAND_IN_OF

STAND_IN_RECIPES = RECIPES / "stand-ins"
STAND_IN_SUITE = "bookworm"
BUILD_REPOSITORY = "dojo-stand-in-build"
LABEL_ABSENT_TAGS = "dojo.stand-in.absent-tags"
"""Space-separated tags the mirror must not serve (they do not exist upstream)."""
ENV_PROJECT = "DOJO_STAND_INS"


@dataclass(frozen=True)
class StandIn:
    """One stand-in image: the Docker Hub reference it replaces and the recipe that makes it.

    ``context`` is None for a built-in recipe (two-stage: a Debian ``build`` stage whose
    ``/out/etc/dojo-stand-in`` says what it packages, then ``target``), else a project's directory.
    """

    ref: str
    dockerfile: str
    package: str = ""
    target: str | None = None
    files: tuple[str, ...] = ()
    absent_tags: tuple[str, ...] = ()
    context: Path | None = field(default=None, compare=False)

    @property
    def repository(self) -> str:
        return self.ref.partition(":")[0]

    @property
    def tag(self) -> str:
        return self.ref.partition(":")[2] or "latest"

    @property
    def recipe_dir(self) -> Path:
        return self.context or STAND_IN_RECIPES

    def recipe_files(self) -> list[Path]:
        if self.context is not None:  # a project's recipe may COPY anything from its directory
            return sorted(p for p in self.context.rglob("*") if p.is_file())
        return [STAND_IN_RECIPES / self.dockerfile, *(STAND_IN_RECIPES / f for f in self.files)]

    def recipe_hash(self, suite: str = STAND_IN_SUITE) -> str:
        extra = [self.ref, suite, self.target or "", " ".join(self.absent_tags)]
        return recipe_hash(self.recipe_files(), *extra)


def _busybox(ref: str, target: str, *files: str) -> StandIn:
    return StandIn(ref, "Dockerfile.busybox", "busybox-static", target, files)


def _redis(ref: str, *absent: str) -> StandIn:
    return StandIn(ref, "Dockerfile.redis", "redis-server", absent_tags=absent)


STAND_INS: tuple[StandIn, ...] = (
    _busybox("alpine:latest", "shell"),
    _busybox("busybox:latest", "shell"),
    _busybox("nginx:latest", "nginx", "web/nginx.html"),
    _busybox("httpd:latest", "httpd", "web/httpd.html"),
    _redis("redis:latest", "3.0.8"),  # the 3.0 series ended at 3.0.7: pages rely on 3.0.8 failing
    _redis("redis:3.0.6"),
    _redis("redis:3.0.7"),
)
"""The built-in stand-ins; two distinct redis tags so that a rolling update changes the image."""


def project_stand_ins(environ: Mapping[str, str] | None = None) -> list[StandIn]:
    """``Dockerfile.<name>`` recipes of the directories in ``$DOJO_STAND_INS`` (``os.pathsep``)."""
    value = (os.environ if environ is None else environ).get(ENV_PROJECT, "")
    found: dict[str, StandIn] = {}
    for entry in filter(None, value.split(os.pathsep)):
        directory = Path(entry).expanduser().resolve()
        if not directory.is_dir():
            raise ValueError(f"{ENV_PROJECT}: {entry} is not a directory")
        for path in sorted(directory.glob("Dockerfile.*")):
            name = path.name.partition(".")[2].lower()
            if name and path.is_file():
                found[name] = StandIn(f"{name}:latest", path.name, context=directory)
    return list(found.values())


def stand_ins(environ: Mapping[str, str] | None = None) -> list[StandIn]:
    """Built-in stand-ins, a project's recipe replacing the built-ins of its repository."""
    project = project_stand_ins(environ)
    replaced = {s.repository for s in project}
    return [s for s in STAND_INS if s.repository not in replaced] + project


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


def _labels(stand_in: StandIn, origin: str) -> dict[str, str]:
    labels = {
        LABEL_RECIPE: stand_in.recipe_hash(),
        LABEL_STAND_IN: "true",
        LABEL_STAND_IN_OF: stand_in.ref,
        LABEL_STAND_IN_FROM: origin,
    }
    if stand_in.absent_tags:
        labels[LABEL_ABSENT_TAGS] = " ".join(stand_in.absent_tags)
    return labels


def build_stand_in(client: docker.DockerClient, stand_in: StandIn, *, log: Log = print) -> str:
    """Build one stand-in; returns the image id.

    A built-in's Debian build stage stays tagged ``dojo-stand-in-build:…`` so stand-ins sharing a
    recipe reuse it; :func:`ensure_stand_ins` removes it at the end.
    """
    base = ensure_base_image(client, STAND_IN_SUITE, log=log)
    if stand_in.context is not None:
        origin = f"project recipe {stand_in.context / stand_in.dockerfile}"
        return build_recipe(
            client,
            stand_in.context,
            stand_in.ref,
            dockerfile=stand_in.dockerfile,
            buildargs={"BASE": base},
            labels=_labels(stand_in, origin),
            log=log,
        )
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
        labels=_labels(stand_in, origin),
        target=stand_in.target,
        log=log,
    )


def ensure_stand_ins(client: docker.DockerClient, *, log: Log = print) -> list[str]:
    """Build the missing or stale stand-ins; returns the references of all that are usable."""
    ready: list[str] = []
    build_tags: set[str] = set()
    try:
        for stand_in in stand_ins():
            status = stand_in_status(client, stand_in)
            if status == "real":
                log(f"stand-ins: {stand_in.ref} is a real image, kept")
            elif status != "current":
                log(f"stand-ins: building {stand_in.ref} ({status})")
                if stand_in.context is None:
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
