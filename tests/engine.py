"""The host's Docker engine for a test: skipped where there is none, an error on CI."""

from __future__ import annotations

import os

import docker
import docker.errors
import pytest


def engine_or_skip() -> docker.DockerClient:
    """A client of the running engine; no engine skips the test (fails it on CI)."""
    try:
        engine = docker.from_env()
        engine.ping()
    except docker.errors.DockerException as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Docker engine: {error}")
    return engine
