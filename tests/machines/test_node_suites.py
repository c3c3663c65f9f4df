"""The node image of every supported suite has what a shell on a docker-machine host has."""

from __future__ import annotations

import docker
import docker.errors
import pytest

from dojo_exec.machines.node_image import ENGINES, ensure_node_image

TOOLS = "docker dockerd ping wget curl dojo-mesh"


@pytest.mark.docker
@pytest.mark.parametrize("suite", sorted(ENGINES))
def test_node_has_the_docker_cli_and_network_tools(client: docker.DockerClient, suite: str) -> None:
    """trixie's docker.io ships no client: the image adds docker-cli (built once, ~1 min)."""
    image = ensure_node_image(client, suite, log=lambda _: None)
    script = f"for tool in {TOOLS}; do command -v $tool || exit 1; done; docker --version"
    container = client.containers.run(
        image, ["-c", script], entrypoint="sh", detach=True, labels={"dojo.managed": "1"}
    )
    try:
        container.wait(timeout=60)
        out = container.logs(stdout=True, stderr=False)
    finally:
        container.remove(v=True, force=True)  # the image declares VOLUME /var/lib/docker
    lines = bytes(out).decode().splitlines()
    assert len(lines) == len(TOOLS.split()) + 1, lines
    assert lines[-1].startswith(f"Docker version {ENGINES[suite]}")
