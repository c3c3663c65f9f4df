"""What a run left behind, found by a variable set in the environment of what it started."""

from __future__ import annotations

import time

from dojo_exec.shell import marked_processes


def wait_none_left(mark: str, within: float = 5) -> list[int]:
    """The processes still started under ``mark`` (``NAME=value``) after up to ``within`` s."""
    deadline = time.monotonic() + within
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left
