"""Which pages of a parallel run make their machines first: the longest ones.

At the start of a parallel run every worker begins a page at once, and every page begins by
making machines and forming a swarm (its own, or its prerequisites' replayed): a dozen
engines booting on one host engine.  The page that takes longest then waits its turn like
the others.  Measured on 2 cores with five pages starting together: the rolling-update page
(the dojo's longest) replayed setup and swarm in 14–15 s instead of 6–8 s alone, and the run
took 78–86 s; with the other pages starting 6 s later 72–73 s, 9 s later 71 s.  Once the
mirror no longer had to be filled at every start, the longest page replayed in 7–9 s but its
first ``service create`` (7 s alone) ran while the other pages made their machines: 9 s
in the run.  Starting them 14 s after the run began, it ended at 72.3–74.7 s (four runs)
instead of 73.0–76.0 s with 9 s.

So in a parallel run the *leading* pages — recorded runs at least :data:`LEADING_SHARE` of the
longest recorded one, and pages never recorded — start at once, and every other page makes
its machines no earlier than the head start after the run began.  A worker's later pages
start after that anyway; a page that continues its prerequisite's swarm, or runs without
machines (``--dojo-driver none``), never waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

LEADING_SHARE = 0.8
"""A page whose recorded run took at least this share of the longest one starts at once."""
DEFAULT_SECONDS = 14.0
"""The head start of ``--dojo-head-start``: about what the longest page needs, alone, to
make its machines, form its swarm and start its first service (rolling-update: 6–8 s to
replay setup and swarm, then 7 s for its first ``service create``)."""


@dataclass
class HeadStart:
    """The leading pages of this process's run and when the run began."""

    seconds: float = 0.0
    began: float = field(default_factory=time.monotonic)
    leading: frozenset[Path] = frozenset()

    def plan(
        self,
        pages: Iterable[Path],
        duration: Callable[[Path], float | None] | None,
        seconds: float,
    ) -> None:
        """Give the leading ``pages`` (by their recorded ``duration``) a head start of
        ``seconds``; without recorded durations nobody waits."""
        paths = [path.resolve() for path in pages]
        durations = {path: duration(path) if duration else None for path in paths}
        known = [value for value in durations.values() if value is not None]
        if not known or seconds <= 0:
            self.seconds, self.leading = 0.0, frozenset(paths)
            return
        longest = max(known)
        self.seconds = seconds
        self.leading = frozenset(
            path
            for path, value in durations.items()
            if value is None or value >= LEADING_SHARE * longest
        )

    def delay(self, page: Path, now: float) -> float:
        """Seconds ``page`` still waits at monotonic time ``now`` before making machines."""
        if self.seconds <= 0 or page.resolve() in self.leading:
            return 0.0
        return max(0.0, self.began + self.seconds - now)

    def wait(self, page: Path) -> float:
        """Wait for ``page``'s turn (an interrupt ends the wait); the seconds waited."""
        delay = self.delay(page, time.monotonic())
        if delay > 0:
            time.sleep(delay)
        return delay


HEAD_START = HeadStart()
"""This process's plan (pytest-xdist: each worker plans alike from the same transcripts)."""
