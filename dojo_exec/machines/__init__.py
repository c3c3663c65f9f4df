"""Embedded swarm machines: node image, offline base and stand-in images, mirror, driver."""

from .base_image import ensure_base_image
from .labels import LABEL_CLUSTER, LABEL_MACHINE, LABEL_MANAGED, LABEL_ROLE
from .node_image import DEFAULT_SUITE, ENGINES, dind_run_options, ensure_node_image, node_image_tag

__all__ = [
    "DEFAULT_SUITE",
    "ENGINES",
    "LABEL_CLUSTER",
    "LABEL_MACHINE",
    "LABEL_MANAGED",
    "LABEL_ROLE",
    "dind_run_options",
    "ensure_base_image",
    "ensure_node_image",
    "node_image_tag",
]
