"""Label keys and values put on everything the embedded machines create (shared with the driver)."""

from __future__ import annotations

LABEL_MANAGED = "dojo.managed"
LABEL_CLUSTER = "dojo.cluster"
LABEL_MACHINE = "dojo.machine"
LABEL_ROLE = "dojo.role"
LABEL_RECIPE = "dojo.recipe"
"""Hash of the recipe files an image was built from (rebuild when it changes)."""
LABEL_STAND_IN = "dojo.stand-in"
LABEL_STAND_IN_OF = "dojo.stand-in.of"
LABEL_STAND_IN_FROM = "dojo.stand-in.from"

MANAGED = {LABEL_MANAGED: "1"}
"""The label set every created object carries at least."""

ROLE_MIRROR = "mirror"
ROLE_NODE = "node"
ROLE_IMAGE = "image"
