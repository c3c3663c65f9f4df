"""The Debian suites node images are built from and the Docker engine each one ships.

Kept apart from :mod:`.node_image` (which needs the Docker SDK) so that choosing a suite, or
naming a run's engine while pytest collects pages, imports nothing heavy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

ENGINES = {"bookworm": "20.10.24", "trixie": "26.1.5", "sid": "28.5"}
"""Debian suite -> version of its ``docker.io`` engine (sid, forky's, moves: its minor)."""
DEFAULT_SUITE = "bookworm"


def current_suite(env: Mapping[str, str] | None = None) -> str:
    """The suite machines are made of: ``$DOJO_NODE_SUITE``, else :data:`DEFAULT_SUITE`."""
    env = os.environ if env is None else env
    return env.get("DOJO_NODE_SUITE") or DEFAULT_SUITE


def suite_engine(suite: str | None = None) -> str | None:
    """The Docker engine version of ``suite``'s node image (default: :func:`current_suite`),
    known without building or running it; None for a suite not in :data:`ENGINES`."""
    return ENGINES.get(suite or current_suite())


def suite_for(engine: str) -> str:
    """The suite of an engine given as a suite name or a version (or its start): ``26``,
    ``26.1``, ``26.1.5`` and ``trixie`` are all trixie.  Anything else is a ValueError that
    lists the choices."""
    if engine in ENGINES:
        return engine
    found = [
        suite
        for suite, version in ENGINES.items()
        if version == engine or version.startswith(engine.rstrip(".") + ".")
    ]
    if len(found) == 1:
        return found[0]
    choices = ", ".join(f"{version} ({suite})" for suite, version in ENGINES.items())
    raise ValueError(f"unknown Docker engine {engine!r}: choose one of {choices}")
