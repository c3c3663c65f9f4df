"""Which steps of a page a recorded run still vouches for: fresh, stale or missing.

A step's record is *fresh* when the transcript holds the digest of the step's current source,
*stale* when the step was edited since (matched by command, then by line), *missing* when no
record fits. Both the site and ``dojo-exec report`` judge freshness here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from dojo_exec.page import Page, Step
from dojo_exec.transcripts import RunRecord, StepRecord
from dojo_exec.verdicts import FINE, Status


@dataclass(frozen=True)
class Outcome:
    """A step with the record it is shown with (None: no record) and its status."""

    step: Step
    record: StepRecord | None
    status: Status


def match_records(steps: Sequence[Step], records: Sequence[StepRecord] | None) -> list[Outcome]:
    """Pair each step with a record: same digest (fresh), else same command or line (stale)."""
    available = list(records or [])
    chosen: dict[int, tuple[StepRecord, bool]] = {}

    def take(step_index: int, candidates: list[StepRecord], fresh: bool) -> None:
        if not candidates:
            return
        step = steps[step_index]
        best = min(candidates, key=lambda record: abs(record.line - step.line))
        available.remove(best)
        chosen[step_index] = (best, fresh)

    for index, step in enumerate(steps):
        take(index, [r for r in available if r.digest == step.digest], True)
    for index, step in enumerate(steps):
        if index not in chosen:
            take(index, [r for r in available if r.command.strip() == step.command.strip()], False)
    for index, step in enumerate(steps):
        if index not in chosen:
            take(index, [r for r in available if r.line == step.line], False)

    outcomes: list[Outcome] = []
    for index, step in enumerate(steps):
        record, fresh = chosen.get(index, (None, False))
        status: Status
        if step.options.skip is not None:
            status = "skipped"
        elif record is None:
            status = "missing"
        elif not fresh:
            status = "stale"
        else:
            status = record.verdict
        outcomes.append(Outcome(step, record, status))
    return outcomes


@dataclass(frozen=True)
class PageFreshness:
    """A page against its latest recorded run."""

    page: Page
    run: RunRecord | None
    outcomes: list[Outcome]

    @property
    def counts(self) -> Counter[str]:
        return Counter(outcome.status for outcome in self.outcomes)

    @property
    def problems(self) -> list[Outcome]:
        """Steps whose latest run failed, or that no run vouches for."""
        return [o for o in self.outcomes if o.status not in FINE]


def page_freshness(page: Page, run: RunRecord | None) -> PageFreshness:
    """Judge every step of ``page`` against ``run`` (None: never recorded)."""
    records = [record for record in run.steps] if run is not None else None
    return PageFreshness(page, run, match_records(page.steps, records))
