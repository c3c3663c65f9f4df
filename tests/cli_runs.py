"""Run the ``dojo-exec`` command as a user does, and read its summary line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


def run_cli(cwd: Path, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    """``dojo-exec ARGS`` in ``cwd``, with no stdin, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "dojo_exec.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def summary(output: str) -> dict[str, int]:
    """The counts of the ``pages: N  steps: N  passed: N …`` line."""
    line = next(ln for ln in output.splitlines() if ln.startswith("pages: "))
    return {key: int(value) for key, value in re.findall(r"([a-z/]+): (\d+)(?!\.)", line)}


def texts(folder: Path) -> dict[str, str]:
    """Every page of ``folder`` by name."""
    return {page.name: page.read_text() for page in sorted(folder.glob("*.md"))}
