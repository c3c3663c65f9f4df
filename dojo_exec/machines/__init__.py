"""Embedded swarm machines: node image, offline base and stand-in images, mirror, driver.

Importing the package imports none of its modules: the ``docker-machine`` shim runs
``python -m dojo_exec.machines.cli`` on every call, and must not pay for the Docker SDK (or
the mirror, the images) when a command needs neither.  The names below are loaded from their
modules when first asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base_image import ensure_base_image
    from .hub import registry_reachable
    from .labels import LABEL_CLUSTER, LABEL_MACHINE, LABEL_MANAGED, LABEL_ROLE
    from .mirror import Mirror, ensure_mirror, image_source, remove_mirror
    from .node_image import dind_run_options, ensure_node_image, node_image_tag
    from .stand_ins import STAND_INS, ensure_stand_ins
    from .suites import DEFAULT_SUITE, ENGINES

_MODULES = {
    "ensure_base_image": "base_image",
    "LABEL_CLUSTER": "labels",
    "LABEL_MACHINE": "labels",
    "LABEL_MANAGED": "labels",
    "LABEL_ROLE": "labels",
    "Mirror": "mirror",
    "ensure_mirror": "mirror",
    "image_source": "mirror",
    "registry_reachable": "hub",
    "remove_mirror": "mirror",
    "DEFAULT_SUITE": "suites",
    "ENGINES": "suites",
    "dind_run_options": "node_image",
    "ensure_node_image": "node_image",
    "node_image_tag": "node_image",
    "STAND_INS": "stand_ins",
    "ensure_stand_ins": "stand_ins",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "DEFAULT_SUITE",
    "ENGINES",
    "LABEL_CLUSTER",
    "LABEL_MACHINE",
    "LABEL_MANAGED",
    "LABEL_ROLE",
    "STAND_INS",
    "Mirror",
    "dind_run_options",
    "ensure_base_image",
    "ensure_mirror",
    "ensure_node_image",
    "ensure_stand_ins",
    "image_source",
    "node_image_tag",
    "registry_reachable",
    "remove_mirror",
]
