"""Whether Docker Hub answers an engine: one bounded probe, cached per engine.

Below the image modules (base image, stand-ins, mirror, node image) that all ask it.
"""

from __future__ import annotations

import threading

import docker
import docker.errors

PROBE_IMAGE = "hello-world"
"""A Docker Hub name whose manifest is asked for (``/distribution/NAME/json``; no pull)."""

_reachable_cache: dict[str, bool] = {}


def registry_reachable(client: docker.DockerClient, *, timeout: float = 5.0) -> bool:
    """True when the engine can pull from Docker Hub (bounded by ``timeout``; cached per engine)."""
    key = str(client.api.base_url)
    if key in _reachable_cache:
        return _reachable_cache[key]
    result: list[bool] = []

    def probe() -> None:
        try:
            client.images.get_registry_data(PROBE_IMAGE)
        except (docker.errors.DockerException, OSError):
            result.append(False)
        else:
            result.append(True)

    thread = threading.Thread(target=probe, daemon=True, name="dojo-registry-probe")
    thread.start()
    thread.join(timeout)
    reachable = bool(result and result[0])
    _reachable_cache[key] = reachable
    return reachable
