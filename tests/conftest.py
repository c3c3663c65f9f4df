"""Shared test configuration.

Tests marked ``docker`` need a running Docker engine: without one they are skipped, saying
why, or, under ``CI=1``, fail (a CI job that was meant to run them must not pass by skipping).
"""

from __future__ import annotations

import pytest
from docker_engine import docker_engine

pytest_plugins = ["pytester"]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is not None:
        docker_engine()
