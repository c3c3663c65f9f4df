"""SIGINT and SIGTERM while `dojo-exec prepare` builds an image: nothing left, the next builds.

The image is a project stand-in (``$DOJO_STAND_INS``) whose recipe is new to the engine (a
fresh marker in it, so no layer is cached) and has a slow ``RUN`` step: the signal goes while
that step's build container runs, chosen from the build's own progress lines.  After it: the
run ends within seconds saying it was interrupted (no traceback), no container of the build
is left, the image is not tagged, and the next ``prepare`` builds it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import docker
import docker.errors
import pytest
from engine import engine_or_skip

from dojo_exec.spawn import reset_signals

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("interrupts")]

PREPARE = [sys.executable, "-m", "dojo_exec.cli", "prepare"]


def _build_containers(client: docker.DockerClient, marker: str) -> list[str]:
    """Containers whose command carries ``marker``: the build's own (classic builder)."""
    return [
        str(c["Id"])[:12]
        for c in client.api.containers(all=True)
        if marker in str(c.get("Command", ""))
    ]


def _wait_for_line(log: Path, text: str, process: subprocess.Popen[str], limit: float) -> None:
    deadline = time.monotonic() + limit
    while text not in log.read_text():
        assert process.poll() is None, f"prepare ended before {text!r}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {text!r} after {limit} s:\n{log.read_text()}"
        time.sleep(0.1)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_image_build_leaves_nothing(tmp_path: Path, signum: signal.Signals) -> None:
    client = engine_or_skip()
    marker = uuid.uuid4().hex[:12]
    image = f"dojo-build-{marker}"
    recipes = tmp_path / "stand-ins"
    recipes.mkdir()
    (recipes / f"Dockerfile.{image}").write_text(
        f"ARG BASE\nFROM ${{BASE}}\nRUN echo first-{marker} > /first\n"
        f"RUN sleep 120; echo slow-{marker}\n"
    )
    env = {"DOJO_STAND_INS": str(recipes)}
    log = tmp_path / "prepare.log"
    try:
        with log.open("w") as out:
            process = subprocess.Popen(
                PREPARE,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                preexec_fn=reset_signals,  # as from a terminal, whatever this test inherited
            )
            _wait_for_line(log, f"slow-{marker}", process, 600)  # the slow step began
            deadline = time.monotonic() + 60
            while not _build_containers(client, f"slow-{marker}"):  # the step's container runs
                assert time.monotonic() < deadline, "the slow step's container never ran"
                time.sleep(0.1)
            process.send_signal(signum)
            status = process.wait(timeout=60)
        output = log.read_text()
        assert status != 0, output
        assert "Traceback" not in output, output
        assert "interrupted" in output.splitlines()[-1], output
        deadline = time.monotonic() + 30
        while _build_containers(client, marker):
            assert time.monotonic() < deadline, (
                f"the build's containers are left: {_build_containers(client, marker)}"
            )
            time.sleep(0.2)
        with pytest.raises(docker.errors.ImageNotFound):
            client.images.get(f"{image}:latest")
        # the next prepare builds it (a faster recipe: the interrupted one's first layer is cache)
        (recipes / f"Dockerfile.{image}").write_text(
            f"ARG BASE\nFROM ${{BASE}}\nRUN echo first-{marker} > /first\n"
        )
        again = subprocess.run(
            PREPARE,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=600,
            preexec_fn=reset_signals,
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert client.images.get(f"{image}:latest").labels["dojo.stand-in"] == "true"
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(f"{image}:latest", force=True)
