"""The Docker engine of the tests marked ``docker``: skipped without one, failed under CI=1."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import docker


@functools.cache
def _engine() -> tuple[docker.DockerClient | None, str]:
    """A client of the engine ``DOCKER_HOST`` names (or the default socket), or why there is
    none; asked once per test process."""
    import docker
    import docker.errors

    try:
        engine = docker.from_env()
        engine.ping()
    except docker.errors.DockerException as error:
        return None, str(error)
    return engine, ""


def docker_engine() -> docker.DockerClient:
    """The Docker engine, or the calling test is skipped (under ``CI=1``: failed)."""
    engine, problem = _engine()
    if engine is None:
        why = f"no Docker engine answers ({problem})"
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI needs one for the tests marked docker", pytrace=False)
        pytest.skip(f"{why}; tests marked docker need one")
    return engine
