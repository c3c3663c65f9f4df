"""What the qemu machines' tests share: QEMU present (else skipped; failed under CI=1), the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def require_qemu() -> None:
    """Skip (fail under ``CI=1``) when QEMU cannot run here at all, naming what is missing."""
    missing = [tool for tool in ("qemu-system-x86_64", "qemu-img") if not shutil.which(tool)]
    if not missing:
        return
    why = f"{' and '.join(missing)} not installed (apt-get install qemu-system-x86 qemu-utils)"
    if os.environ.get("CI"):
        pytest.fail(f"{why}; CI installs them for the qemu tests", pytrace=False)
    pytest.skip(why)


def machine_cli(
    env: dict[str, str], *args: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``docker-machine ARGS`` through this package's command line, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "dojo_exec.machines.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def machine_env(store: Path, cluster: str) -> dict[str, str]:
    env = dict(os.environ)
    for leaked in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_MACHINE_NAME"):
        env.pop(leaked, None)
    env.update({"MACHINE_STORAGE_PATH": str(store), "DOJO_CLUSTER": cluster})
    env.pop("DOJO_DRIVER", None)
    return env
