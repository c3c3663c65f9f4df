"""Label keys and values put on everything the embedded machines create (shared with the driver)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

LABEL_MANAGED = "dojo.managed"
LABEL_CLUSTER = "dojo.cluster"
LABEL_MACHINE = "dojo.machine"
LABEL_ROLE = "dojo.role"
LABEL_RECIPE = "dojo.recipe"
"""Hash of the recipe files an image was built from (rebuild when it changes)."""
LABEL_RUN = "dojo.run"
"""``$DOJO_RUN`` at creation: lets a run (a nox session) remove and leak-check only its own."""
LABEL_STAND_IN = "dojo.stand-in"
LABEL_STAND_IN_OF = "dojo.stand-in.of"
LABEL_STAND_IN_FROM = "dojo.stand-in.from"

ROLE_MIRROR = "mirror"
ROLE_NODE = "node"
ROLE_IMAGE = "image"


_RUN_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,62}")


def current_run(env: Mapping[str, str] | None = None) -> str | None:
    """``$DOJO_RUN`` (None when unset or empty); a malformed value is a ``ValueError``."""
    run = (os.environ if env is None else env).get("DOJO_RUN") or None
    if run is not None and not _RUN_ID.fullmatch(run):
        raise ValueError(f"Invalid DOJO_RUN {run!r}: allowed chars are 0-9a-zA-Z _ . -")
    return run


def run_labels(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{dojo.run: $DOJO_RUN}``, or nothing outside a run."""
    run = current_run(env)
    return {LABEL_RUN: run} if run else {}
