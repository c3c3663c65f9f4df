"""Handing out pages by recorded time (``dojo_exec/xdist_scheduling.py``), against xdist's own
``loadfile``, on a simulated clock: each step takes what its recorded run says, and a worker
runs a step only once it knows the next one (or is shut down), as xdist's workers do."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

from dojo_exec.transcripts import RunRecord, StepRecord
from dojo_exec.xdist_scheduling import PageScheduling

Configs = Callable[[int], pytest.Config]
PAGES = {  # the dojo's shape: a page ending in two long waits, a page of short steps, a tail
    "docs/waits.md": [1.0, 1.0, 13.0, 12.0],
    "docs/short.md": [1.0] * 10,
    "docs/tail.md": [3.0, 3.0],
}


def nodeids(pages: dict[str, list[float]]) -> list[str]:
    return [f"{page}::line:{10 * (n + 1)}[step]" for page, steps in pages.items()
            for n in range(len(steps))]  # fmt: skip


def recorded(pages: dict[str, list[float]]) -> dict[Path, RunRecord]:
    runs = {}
    for page, durations in pages.items():
        steps = [
            StepRecord(10 * (n + 1), "", "", None, "", 0, seconds, "passed")
            for n, seconds in enumerate(durations)
        ]
        runs[Path("/root") / page] = RunRecord(page, "", sum(durations), "", "", "", "", "", steps)
    return runs


class Worker:
    """What the scheduler sees of an xdist worker, and the worker's rule for running steps."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.gateway = SimpleNamespace(id=name)
        self.queue: list[int] = []
        self.shutting_down = False
        self.pages: list[str] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue += indices

    def shutdown(self) -> None:
        self.shutting_down = True

    def can_run(self) -> bool:
        return len(self.queue) >= 2 or (self.shutting_down and bool(self.queue))


def simulate(
    scheduler: LoadFileScheduling, pages: dict[str, list[float]], workers: int
) -> dict[str, Any]:
    """Run the pages on ``workers`` simulated workers; each worker's pages and end time."""
    collection = nodeids(pages)
    seconds = [d for durations in pages.values() for d in durations]
    nodes = [Worker(f"gw{n}") for n in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    clock: list[tuple[float, int, Worker]] = []
    ends = {node.name: 0.0 for node in nodes}

    def start(node: Worker, now: float) -> None:
        if node.can_run():
            heapq.heappush(clock, (now + seconds[node.queue[0]], id(node), node))

    for node in nodes:
        start(node, 0.0)
    while clock:
        now, _, node = heapq.heappop(clock)
        index = node.queue.pop(0)
        page = collection[index].split("::")[0]
        if page not in node.pages:
            node.pages.append(page)
        ends[node.name] = now
        waiting = [other for other in nodes if other is not node and not other.can_run()]
        scheduler.mark_test_complete(node, index)
        start(node, now)
        for other in waiting:  # a worker that was waiting for its next step may go on
            start(other, now)
    assert scheduler.tests_finished
    return {"pages": {node.name: node.pages for node in nodes}, "end": max(ends.values())}


@pytest.fixture
def config(pytester: pytest.Pytester) -> Callable[[int], pytest.Config]:
    """A real pytest configuration for ``n`` xdist workers."""
    return lambda n: pytester.parseconfig("--tx", f"{n}*popen", "--dist", "loadfile")


def test_the_last_page_goes_to_the_worker_free_first(config: Configs) -> None:
    runs = recorded(PAGES)
    plain = simulate(LoadFileScheduling(config(2)), PAGES, 2)
    timed = simulate(PageScheduling(config(2), run_of=runs.get, root=Path("/root")), PAGES, 2)
    # xdist's own rule gives the tail to the worker with two steps left: 25 s of them
    assert sorted(plain["pages"].values()) == [
        ["docs/short.md"],
        ["docs/waits.md", "docs/tail.md"],
    ], plain
    assert plain["end"] == sum(PAGES["docs/waits.md"]) + sum(PAGES["docs/tail.md"])
    assert sorted(timed["pages"].values()) == [
        ["docs/short.md", "docs/tail.md"],
        ["docs/waits.md"],
    ], timed
    assert timed["end"] == sum(PAGES["docs/waits.md"]) < plain["end"]


def test_without_recorded_runs_it_schedules_as_loadfile(config: Configs) -> None:
    plain = simulate(LoadFileScheduling(config(2)), PAGES, 2)
    none = PageScheduling(config(2), run_of=lambda path: None, root=Path("/"))
    unknown = simulate(none, PAGES, 2)
    assert unknown == plain


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
def test_every_page_runs_once_whatever_the_workers(config: Configs, workers: int) -> None:
    pages = {**PAGES, **{f"docs/more{n}.md": [float(n + 1)] * (n + 1) for n in range(6)}}
    runs = recorded(pages)
    timed = simulate(PageScheduling(config(workers), run_of=runs.get, root=Path("/root")),
                     pages, workers)  # fmt: skip
    ran = [page for names in timed["pages"].values() for page in names]
    assert sorted(ran) == sorted(pages)
