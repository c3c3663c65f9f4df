"""Which steps of a page a recorded run still vouches for: fresh, stale or missing.

A step's record is *fresh* when the transcript holds the digest of the step's current source,
*stale* when the step was edited since (matched by command, then by line), *missing* when no
record fits. Both the site and ``dojo-exec report`` judge freshness here.

Per engine: :func:`engine_matrix` judges every page against its latest run on each Docker
engine version (page × engine → verdict, step × engine → status).  For incremental runs:
:func:`changed_pages` says which pages must run again on an engine (their steps, or their
prerequisites' steps, changed since their latest run on it) and why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dojo_exec.display import format_date
from dojo_exec.locations import PageError
from dojo_exec.page import Page, Step, resolve_order
from dojo_exec.transcripts import (
    RunRecord,
    StepRecord,
    Transcript,
    TranscriptError,
    load_transcript,
    page_key,
    steps_digest,
    version_key,
)
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


# --- per engine ---------------------------------------------------------------------------

#: the order in which a page's verdict is chosen from its steps' statuses: the worst first
_WORST: tuple[Status, ...] = ("failed", "timeout", "error", "stale", "missing", "passed")


def page_verdict(statuses: Iterable[Status]) -> Status:
    """One verdict for a page from its steps' statuses: the worst (failed, timeout, error,
    stale, missing), else passed, else skipped (every step skipped, or no step)."""
    found = set(statuses)
    return next((status for status in _WORST if status in found), "skipped")


def engine_freshness(page: Page, transcript: Transcript | None) -> dict[str, PageFreshness]:
    """Engine version → ``page`` judged against its latest run on that engine (any driver),
    newest version first; an engine the page never ran on is absent."""
    if transcript is None:
        return {}
    judged: dict[str, PageFreshness] = {}
    for engine in transcript.engines:
        run = transcript.latest_on(engine)
        if run is not None:
            judged[engine] = page_freshness(page, run)
    return judged


@dataclass(frozen=True)
class EngineMatrix:
    """Every page against its latest run on each Docker engine version.

    ``engines``: the recorded versions (``26.1.5+dfsg1``…), newest version first;
    ``pages[uri][engine]``: the page's verdict on it (:func:`page_verdict`);
    ``steps[uri][i][engine]``: the status of the page's step ``i`` (its index in
    ``Page.steps``) on it; ``runs[uri][engine]``: the run judged (its date, driver…).
    A page or step with no run on an engine has no entry for it.
    """

    engines: list[str]
    pages: dict[str, dict[str, Status]] = field(default_factory=dict)
    steps: dict[str, list[dict[str, Status]]] = field(default_factory=dict)
    runs: dict[str, dict[str, RunRecord]] = field(default_factory=dict)


def engine_matrix(
    pages: Mapping[str, Page], transcripts: Mapping[str, Transcript | None]
) -> EngineMatrix:
    """Page × engine → verdict and step × engine → status, for ``pages`` (uri → parsed page)
    and their transcripts (uri → transcript, None or absent: never recorded)."""
    engines = sorted(
        {engine for t in transcripts.values() if t for engine in t.engines},
        key=version_key,
        reverse=True,
    )
    matrix = EngineMatrix(engines)
    for uri, page in pages.items():
        judged = engine_freshness(page, transcripts.get(uri))
        matrix.pages[uri] = {
            engine: page_verdict(o.status for o in j.outcomes) for engine, j in judged.items()
        }
        matrix.steps[uri] = [
            {engine: j.outcomes[index].status for engine, j in judged.items()}
            for index in range(len(page.steps))
        ]
        matrix.runs[uri] = {engine: j.run for engine, j in judged.items() if j.run is not None}
    return matrix


def passed_on(matrix: EngineMatrix, uri: str, index: int) -> list[str]:
    """The engine versions step ``index`` of page ``uri`` passed on (fresh records only)."""
    statuses = matrix.steps.get(uri, [])
    if index >= len(statuses):
        return []
    return [engine for engine in matrix.engines if statuses[index].get(engine) == "passed"]


# --- incremental runs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a run will happen: a Docker engine version (None: any) and a driver."""

    engine: str | None
    driver: str

    def __str__(self) -> str:
        return f"engine {self.engine}" if self.engine else f"driver {self.driver}"


def _digests(steps: Iterable[Step | StepRecord]) -> list[str]:
    return [step.digest for step in steps]


def changed_pages(
    paths: Sequence[Path], transcripts: Path, docs_root: Path | None, target: Target
) -> dict[Path, str | None]:
    """For each page: why it must run again on ``target`` (None: it need not).

    A page runs again when it has no run recorded on that engine and driver, when its steps
    (their digests) are not those of that run, when its prerequisites are not those that run
    ran after, when a prerequisite's steps are not those of the prerequisite's own latest
    run there, or when that run was recorded, after the page's, with other steps (the
    page's run notes its prerequisites' :func:`~dojo_exec.transcripts.steps_digest`).  A
    page with no steps never runs; a page that cannot be read runs (and reports its error).
    """
    loaded: dict[str, RunRecord | None] = {}

    def latest(page: Page) -> RunRecord | None:
        key = page_key(page.path, docs_root)
        if key not in loaded:
            transcript = load_transcript(transcripts, key)
            on = transcript.latest_on(target.engine, target.driver) if transcript else None
            loaded[key] = on
        return loaded[key]

    cache: dict[Path, Page] = {}
    found: dict[Path, str | None] = {}
    for path in paths:
        try:
            chain = resolve_order(path, cache)
            found[path] = _why(chain, latest, docs_root, target)
        except (PageError, TranscriptError, OSError) as error:
            found[path] = f"cannot be judged ({error})"
    return found


def _why(
    chain: Sequence[Page],
    latest: Callable[[Page], RunRecord | None],
    docs_root: Path | None,
    target: Target,
) -> str | None:
    page, prerequisites = chain[-1], chain[:-1]
    if not page.steps:
        return None
    run = latest(page)
    if run is None:
        return f"no recorded run on {target}"
    when = format_date(run.started)
    if _digests(page.steps) != _digests(run.steps):
        return f"its steps changed since its run of {when}"
    if run.replayed != [page_key(p.path, docs_root) for p in prerequisites]:
        return f"its prerequisites are not those of its run of {when}"
    for prerequisite in prerequisites:
        name = page_key(prerequisite.path, docs_root)
        before = latest(prerequisite)
        if before is None or _digests(prerequisite.steps) != _digests(before.steps):
            return f"its prerequisite {name} changed since its run of {when}"
        if name in run.prerequisites and run.prerequisites[name] != steps_digest(before.steps):
            return f"its prerequisite {name} was recorded with other steps after its run of {when}"
    return None
