"""What a run left behind, found by a variable set in the environment of what it started."""

from __future__ import annotations

import time

from dojo_exec.shell import marked_processes


def wait_none_left(mark: str, within: float = 15) -> list[int]:
    """The processes still started under ``mark`` (``NAME=value``) after up to ``within`` s
    (a SIGKILLed process can take seconds to go on a loaded machine; a leak stays)."""
    deadline = time.monotonic() + within
    while (left := marked_processes(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left
