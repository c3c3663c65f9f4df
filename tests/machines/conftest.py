"""Fixtures of the machines' tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import docker
import pytest
import second_dockerd
from docker_engine import docker_engine
from second_dockerd import SecondEngine


@pytest.fixture(scope="module")
def client() -> docker.DockerClient:
    """The Docker engine (no engine: the test is skipped, or fails under ``CI=1``)."""
    return docker_engine()


@pytest.fixture(scope="session")
def second_engine() -> Iterator[SecondEngine]:
    """A second real dockerd on this host (see ``second_dockerd``), with the machines' images
    copied from the first by ``dojo-exec prepare --engines``; stopped and removed after, and
    nothing of it may be left. Skipped, saying what is missing, where it cannot run."""
    why = second_dockerd.missing()
    if why is not None:
        pytest.skip(f"no second Docker engine: {why}")
    docker_engine()  # the first engine: the images come from it
    engine = second_dockerd.start()
    try:
        prepared = subprocess.run(
            [sys.executable, "-m", "dojo_exec.cli", "prepare", "--engines", engine.socket],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert prepared.returncode == 0, prepared.stderr[-2000:]
        yield engine
    finally:
        second_dockerd.stop(engine)
    left = second_dockerd.leftovers(engine)
    assert left == [], f"the second dockerd left {left}"
