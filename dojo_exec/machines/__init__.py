"""Embedded swarm machines: node image, offline base and stand-in images, mirror, driver."""

from .base_image import ensure_base_image
from .labels import LABEL_CLUSTER, LABEL_MACHINE, LABEL_MANAGED, LABEL_ROLE
from .mirror import Mirror, ensure_mirror, image_source, registry_reachable, remove_mirror
from .node_image import DEFAULT_SUITE, ENGINES, dind_run_options, ensure_node_image, node_image_tag
from .stand_ins import STAND_INS, ensure_stand_ins

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
