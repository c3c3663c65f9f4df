"""pytest-xdist hands out whole pages by the time their recorded runs say is left.

xdist's ``loadfile`` gives a worker its next file once the worker has two tests or fewer
left to run, whatever they take.  A page's steps take from 0.02 s to half a minute, so the
last page of a run went to the worker whose page had two long waits left (13 s and 12 s:
the dojo's next-steps ran 74–81 s, after every other page had ended by 78 s).

:class:`PageScheduling` keeps xdist's order and its rule, with one more: a worker does not
take the next page while other workers are expected to be free sooner (by the recorded
durations of the steps they have left, plus the replay and teardown of a page not begun)
and those workers are enough for the pages left.  Such a worker finishes its page; at its
last step (which xdist cannot run before it knows the next one) it is shut down instead.
Without recorded runs it schedules as ``loadfile`` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xdist.scheduler import LoadFileScheduling

if TYPE_CHECKING:
    import pytest
    from xdist.workermanage import WorkerController

    from dojo_exec.transcripts import RunRecord

MARGIN = 2.0
"""Seconds by which another worker must be expected free sooner for this one to wait."""
UNKNOWN_STEP = 1.0
"""Seconds assumed for a step that has no recorded duration."""
_LINE = re.compile(r"::line:(\d+)")


class PageScheduling(LoadFileScheduling):
    """``--dist loadfile`` that hands out the next page by the recorded time left."""

    def __init__(
        self,
        config: pytest.Config,
        log: Any = None,
        *,
        run_of: Callable[[Path], RunRecord | None],
        root: Path,
        name_pages: Callable[[list[Path]], None] = lambda pages: None,
    ) -> None:
        """``run_of``: a page's recorded run; ``root``: what node ids are relative to;
        ``name_pages``: told every page of the run before the first ``run_of``."""
        super().__init__(config, log)
        self.run_of = run_of
        self.root = root
        self.name_pages = name_pages
        self._expected: dict[str, tuple[float, dict[int, float]]] = {}

    def _reschedule(self, node: WorkerController) -> None:
        if node.shutting_down or not self.workqueue:
            super()._reschedule(node)
            return
        pending = self._pending_of(self.assigned_work[node])
        if pending > 2:
            return
        mine = self.remaining(node)
        sooner = [
            other
            for other in self.nodes
            if other is not node
            and not other.shutting_down
            and self.remaining(other) + MARGIN < mine
        ]
        if len(sooner) >= len(self.workqueue):  # they can take every page left
            if pending <= 1:
                node.shutdown()  # it runs its last step, then stops
            return
        self._assign_work_unit(node)

    def remaining(self, node: WorkerController) -> float:
        """Seconds the pages assigned to ``node`` are expected to take still."""
        return sum(
            self._unit_remaining(scope, unit)
            for scope, unit in self.assigned_work.get(node, {}).items()
        )

    def _unit_remaining(self, scope: str, unit: Mapping[str, bool]) -> float:
        overhead, steps = self._expected_of(scope)
        left = sum(
            steps.get(_line(nodeid), UNKNOWN_STEP) for nodeid, done in unit.items() if not done
        )
        begun = any(unit.values())
        return left + (0.0 if begun else overhead) if left else 0.0

    def _expected_of(self, scope: str) -> tuple[float, dict[int, float]]:
        """A page's recorded time outside its steps (replay, teardown) and its steps' times."""
        if not self._expected:
            scopes = {self._split_scope(nodeid) for nodeid in self.collection or []}
            self.name_pages(sorted(self.root / name for name in scopes))
        if scope not in self._expected:
            run = self.run_of(self.root / scope)
            if run is None:
                self._expected[scope] = (0.0, {})
            else:
                steps = {step.line: step.duration for step in run.steps}
                self._expected[scope] = (max(0.0, run.duration - sum(steps.values())), steps)
        return self._expected[scope]


def _line(nodeid: str) -> int:
    found = _LINE.search(nodeid)
    return int(found.group(1)) if found else -1
