"""Fixtures of the machines' tests."""

from __future__ import annotations

import docker
import pytest
from docker_engine import docker_engine


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    """The Docker engine (no engine: the test is skipped, or fails under ``CI=1``)."""
    return docker_engine()
