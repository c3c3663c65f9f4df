"""The offline Debian base image (debootstrap + docker import) and the shared build helpers."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from dojo_exec.machines.base_image import (
    apt_sources,
    base_image_tag,
    build_recipe,
    debootstrap_image,
    ensure_base_image,
    import_rootfs,
    recipe_hash,
)


def test_apt_sources_add_updates_and_security() -> None:
    text = apt_sources("bookworm")
    assert "deb http://deb.debian.org/debian bookworm main" in text
    assert "bookworm-updates main" in text
    assert "debian-security bookworm-security main" in text
    assert "security" not in apt_sources("sid")


def test_recipe_hash_follows_contents(tmp_path: Path) -> None:
    recipe = tmp_path / "Dockerfile"
    recipe.write_text("FROM scratch\n")
    first = recipe_hash([recipe], "x")
    assert first == recipe_hash([recipe], "x")
    assert first != recipe_hash([recipe], "y")
    recipe.write_text("FROM scratch\nCMD []\n")
    assert recipe_hash([recipe], "x") != first


@pytest.mark.docker
def test_base_image_runs_debian(client: docker.DockerClient) -> None:
    tag = ensure_base_image(client, "bookworm", log=lambda _: None)
    assert tag == base_image_tag("bookworm") == "dojo-base:bookworm"
    assert client.images.get(tag).labels["dojo.managed"] == "1"
    out = client.containers.run(
        tag, ["cat", "/etc/debian_version"], remove=True, labels={"dojo.managed": "1"}
    )
    assert bytes(out).decode().startswith("12.")
    assert ensure_base_image(client, "bookworm", log=pytest.fail) == tag  # present: no work


@pytest.fixture
def scratch_tag(client: docker.DockerClient) -> Iterator[str]:
    tag = f"dojo-test-{uuid.uuid4().hex[:8]}:latest"
    yield tag
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(tag, force=True)


@pytest.mark.docker
def test_import_rootfs_labels_the_image(
    client: docker.DockerClient, tmp_path: Path, scratch_tag: str
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "hello").write_text("hi\n")
    import_rootfs(client, tmp_path, scratch_tag)
    labels = client.images.get(scratch_tag).labels
    assert labels["dojo.managed"] == "1"
    assert labels["dojo.role"] == "image"


@pytest.mark.docker
def test_build_failure_names_the_error(
    client: docker.DockerClient, tmp_path: Path, scratch_tag: str
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM dojo-base:bookworm\nRUN exit 3\n")
    ensure_base_image(client, "bookworm", log=lambda _: None)
    with pytest.raises(RuntimeError, match="returned a non-zero code: 3"):
        build_recipe(client, tmp_path, scratch_tag, log=lambda _: None)


@pytest.mark.docker
@pytest.mark.skipif(not os.environ.get("DOJO_SLOW_TESTS"), reason="set DOJO_SLOW_TESTS=1 (~35 s)")
def test_debootstrap_makes_a_fresh_base(client: docker.DockerClient, scratch_tag: str) -> None:
    debootstrap_image(client, "bookworm", scratch_tag, log=lambda _: None)
    out = client.containers.run(
        scratch_tag, ["cat", "/etc/debian_version"], remove=True, labels={"dojo.managed": "1"}
    )
    assert bytes(out).decode().startswith("12.")
