"""A page's cluster: its own namespace, its docker-machine, and a guard for the host engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from dojo_exec.cluster import EMBEDDED, NO_MACHINE_CHOSEN, NO_MACHINES, Cluster
from dojo_exec.page import parse_text
from dojo_exec.runner import PageSession


def test_embedded_cluster_env_points_docker_nowhere_until_a_machine_is_chosen() -> None:
    cluster = Cluster.create(EMBEDDED)
    try:
        env = cluster.env({"PATH": "/usr/bin", "DOCKER_HOST": "unix:///custom.sock"})
        assert env["DOCKER_HOST"] == NO_MACHINE_CHOSEN
        assert env["DOJO_ENGINE_HOST"] == "unix:///custom.sock"
        assert env["PATH"].startswith(str(cluster.bin_dir))
        assert (cluster.bin_dir / "docker-machine").is_file()
        assert env["MACHINE_STORAGE_PATH"] == str(cluster.storage)
        assert env["DOJO_CLUSTER"] == cluster.name
    finally:
        cluster.teardown()
    assert not cluster.root.exists()


def test_two_clusters_never_share_a_namespace() -> None:
    one, two = Cluster.create(NO_MACHINES), Cluster.create(NO_MACHINES)
    try:
        assert one.name != two.name and one.root != two.root
        assert "DOCKER_HOST" not in one.env({"PATH": "/usr/bin"})
    finally:
        one.teardown()
        two.teardown()


@pytest.mark.docker
def test_a_docker_step_before_docker_machine_env_cannot_reach_the_host_engine(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text("# P\n\n```sh dojo\ndocker ps -q\n```\n")
    session = PageSession(page=parse_text(page.read_text(), page), driver=EMBEDDED)
    with session:
        (outcome,) = session.run_all()
    assert outcome.verdict == "failed"
    assert "no-machine-chosen--run-eval-docker-machine-env" in outcome.captured


PRELOAD_CHECK = """
import sys
from dojo_exec import cluster
assert "docker" not in sys.modules, "imported before any cluster"
made = [cluster.Cluster.create(cluster.EMBEDDED) for _ in range(2)]
assert len(cluster._preloaded) == 1, cluster._preloaded  # once per process
cluster._preloaded[0].join(60)
for name in ("docker", "dojo_exec.machines.teardown", "dojo_exec.machines.qemu.sweeper"):
    assert name in sys.modules, name
for one in made:
    one.teardown()
"""


def test_a_cluster_imports_its_teardown_in_the_background_once() -> None:
    """The Docker SDK and the sweepers are imported while the page runs, not at its end."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", PRELOAD_CHECK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
