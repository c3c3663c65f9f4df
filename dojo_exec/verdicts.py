"""What a step's result is called, and which results count as failed: decided once, here.

A run gives each step a :data:`Verdict` (recorded in its transcript).  Shown against the
page as it is now (site, ``dojo-exec report``), a step has a :data:`Status`: its recorded
verdict, or ``stale`` (edited since its record) or ``missing`` (no record).  Every summary
(pytest's, the CLI report, the site's issues) counts :data:`FAILED` as failed, and
:data:`FINE` as needing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

Verdict = Literal["passed", "failed", "timeout", "skipped", "error"]
Status = Literal[Verdict, "stale", "missing"]
VERDICTS: tuple[str, ...] = get_args(Verdict)

FAILED: frozenset[str] = frozenset({"failed", "timeout", "error"})
"""The step broke a promise, ran out of time, or could not run."""
FINE: frozenset[str] = frozenset({"passed", "skipped"})
"""Nothing to answer for: the step kept its promises, or the page says not to run it."""


def failed(verdict: str) -> bool:
    """Whether a verdict (or status) counts as failed."""
    return verdict in FAILED


def count_failed(counts: Mapping[str, int]) -> int:
    """How many failed, from a count of verdicts (or statuses)."""
    return sum(counts.get(verdict, 0) for verdict in FAILED)
