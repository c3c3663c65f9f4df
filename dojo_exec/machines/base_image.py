"""A Debian base image made offline: ``debootstrap --variant=minbase`` + ``docker import``.

No registry is reachable on the development and CI machines, so ``debian:<suite>`` usually cannot be
pulled; Debian's package archive can. The image is tagged ``dojo-base:<suite>`` and labelled
``dojo.managed=1``.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

from dojo_exec import spawn

from .hub import registry_reachable
from .labels import LABEL_MANAGED, LABEL_RECIPE, LABEL_ROLE, ROLE_IMAGE

Log = Callable[[str], object]

BASE_REPOSITORY = "dojo-base"
BASE_RECIPE = "debootstrap-minbase-2"
"""Label value saying how the base was made; bump it to have existing bases rebuilt."""
ARCHIVE = "http://deb.debian.org/debian"
SECURITY_ARCHIVE = "http://deb.debian.org/debian-security"


ROLLING = ("sid", "unstable")
"""Suites whose Release file is valid for a week only (the stable ones never expire)."""
ROLLING_APT_CONF = (
    "// sid's Release file expires within a week: an archive mirror or snapshot that lags,\n"
    "// or a clock ahead, would refuse every later build of the node image\n"
    'Acquire::Check-Valid-Until "false";\n'
)


def base_image_tag(suite: str = "bookworm") -> str:
    """``dojo-base:<suite>``."""
    return f"{BASE_REPOSITORY}:{suite}"


def _image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _current_base(client: docker.DockerClient, tag: str) -> bool:
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return (image.labels or {}).get(LABEL_RECIPE) in (BASE_RECIPE, "pulled")


def apt_sources(suite: str) -> str:
    """sources.list with the suite's updates and security archives, so builds get fixed packages."""
    lines = [f"deb {ARCHIVE} {suite} main"]
    if suite not in ("sid", "unstable"):
        lines.append(f"deb {ARCHIVE} {suite}-updates main")
        lines.append(f"deb {SECURITY_ARCHIVE} {suite}-security main")
    return "\n".join(lines) + "\n"


def _try_pull_debian(client: docker.DockerClient, suite: str, tag: str, log: Log) -> bool:
    """Use a pulled ``debian:<suite>`` as the base (relabelled) when a registry answers."""
    try:
        client.images.pull("debian", tag=suite)
    except docker.errors.APIError:
        return False
    log(f"base image: pulled debian:{suite}")
    _relabel(client, f"debian:{suite}", tag)
    return True


def _relabel(client: docker.DockerClient, source: str, tag: str) -> None:
    """Give ``source`` our labels under ``tag`` with a one-line build (no RUN, instant)."""
    dockerfile = (
        f"FROM {source}\nLABEL {LABEL_MANAGED}=1 {LABEL_ROLE}={ROLE_IMAGE} {LABEL_RECIPE}=pulled\n"
    )
    client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, pull=False)


def debootstrap(suite: str, target: Path, *, log: Log = print) -> None:
    """Run ``debootstrap --variant=minbase SUITE TARGET`` (needs root and Debian's archive)."""
    exe = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(exe).exists():
        raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
    cmd = [exe, "--variant=minbase", suite, str(target)]
    log(f"base image: {' '.join(cmd)}")
    proc = spawn.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise RuntimeError(f"debootstrap {suite} failed (exit {proc.returncode}):\n{tail}")


def import_rootfs(client: docker.DockerClient, root: Path, tag: str) -> str:
    """``tar -C root -c . | docker import`` with our labels; returns the image id."""
    tar = spawn.popen(
        ["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE
    )
    assert tar.stdout is not None
    repository, _, image_tag = tag.partition(":")
    changes = [
        f'LABEL {LABEL_MANAGED}="1" {LABEL_ROLE}="{ROLE_IMAGE}" {LABEL_RECIPE}="{BASE_RECIPE}"',
        'CMD ["bash"]',
    ]
    try:
        result = client.api.import_image_from_stream(
            tar.stdout, repository=repository, tag=image_tag or "latest", changes=changes
        )
    finally:
        tar.stdout.close()
        if tar.wait() != 0:
            raise RuntimeError(f"tar of {root} failed (exit {tar.returncode})")
    if '"error"' in str(result):
        raise RuntimeError(f"docker import of {root} as {tag} failed: {result}")
    return str(client.images.get(tag).id)


def ensure_base_image(
    client: docker.DockerClient, suite: str = "bookworm", *, log: Log = print
) -> str:
    """Tag of a Debian base image (``dojo-base:<suite>``); made offline when missing.

    Tries ``debian:<suite>`` from a registry only if it is not already known to be unreachable; else
    ``debootstrap --variant=minbase SUITE DIR`` and ``docker import`` (about 30 s).
    """
    tag = base_image_tag(suite)
    if _current_base(client, tag):
        return tag
    if _image_exists(client, f"debian:{suite}"):
        _relabel(client, f"debian:{suite}", tag)
        return tag
    if registry_reachable(client) and _try_pull_debian(client, suite, tag, log):
        return tag
    return debootstrap_image(client, suite, tag, log=log)


def debootstrap_image(
    client: docker.DockerClient, suite: str, tag: str, *, log: Log = print
) -> str:
    """Make ``tag`` from ``debootstrap --variant=minbase SUITE`` (about 30 s); returns ``tag``."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"dojo-debootstrap-{suite}-") as tmp:
        root = Path(tmp) / "root"
        debootstrap(suite, root, log=log)
        # Trim what a container never needs: apt lists and caches are refetched by builds anyway.
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (root / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        (root / "etc/apt/sources.list").write_text(apt_sources(suite))
        if suite in ROLLING:
            (root / "etc/apt/apt.conf.d" / "99dojo-rolling").write_text(ROLLING_APT_CONF)
        import_rootfs(client, root, tag)
    log(f"base image: {tag} made by debootstrap in {time.monotonic() - started:.0f} s")
    return tag


RECIPES = Path(__file__).parent / "recipes"


def recipe_hash(files: list[Path], *extra: str) -> str:
    """12 hex digits over the files' names and contents and ``extra``: the recipe's identity."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for item in extra:
        digest.update(item.encode() + b"\0")
    return digest.hexdigest()[:12]


def build_recipe(
    client: docker.DockerClient,
    context: Path,
    tag: str,
    *,
    dockerfile: str = "Dockerfile",
    buildargs: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    target: str | None = None,
    log: Log = print,
) -> str:
    """Build ``context`` with the classic builder (no BuildKit needed); returns the image id.

    Progress (``Step N/M``) goes to ``log``; on failure the last lines of the build are raised.
    The classic builder leaves each earlier stage of a multi-stage build behind as an untagged
    image: those are removed (tagged ones, e.g. a ``target`` kept as cache, stay).
    """
    lines: list[str] = []
    image_id = ""
    last_layer = ""
    stages: list[str] = []
    stream = client.api.build(
        path=str(context),
        dockerfile=dockerfile,
        tag=tag,
        buildargs=buildargs or {},
        labels={LABEL_MANAGED: "1", LABEL_ROLE: ROLE_IMAGE, **(labels or {})},
        target=target,
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
        timeout=3600,
    )
    for chunk in stream:
        if "error" in chunk:
            tail = "".join(lines[-25:])
            raise RuntimeError(f"building {tag} failed: {chunk['error'].strip()}\n{tail}")
        text = chunk.get("stream", "")
        if text:
            lines.append(text)
            if text.startswith("Step "):
                log(f"{tag}: {text.strip()}")
                if " : FROM " in text and last_layer:
                    stages.append(last_layer)
            elif text.startswith(" ---> ") and " " not in text[6:].strip():
                last_layer = text[6:].strip()
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    image_id = image_id or str(client.images.get(tag).id)
    for stage in stages:
        _remove_untagged(client, stage)
    return image_id


def _remove_untagged(client: docker.DockerClient, image_id: str) -> None:
    try:
        image = client.images.get(image_id)
        if not image.tags:
            client.images.remove(image.id)
    except docker.errors.APIError:
        pass  # gone already, or still a parent of another image: both fine
