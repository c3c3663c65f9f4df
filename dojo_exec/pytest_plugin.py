"""pytest plugin (entry point ``dojo_exec``): options, settings fixture, update writing, summary.

Options::

    --dojo-update              rewrite drifted promises at the end of the run
    --dojo-driver DRIVER       embedded (default), none (plain shell) or a docker-machine driver
    --dojo-transcripts DIR     record each fully run page's transcript under DIR
    --dojo-docs-root DIR       pages are named relative to DIR in transcripts (default: see
                               :func:`infer_docs_root`)
    --dojo-collect             collect every ``.md`` file as a page, no conftest needed
                               (files a conftest's Sybil already collects are left to it)
    --dojo-engine V            embedded machines on Docker engine V (20.10, 26, 28, or a suite:
                               bookworm, trixie, sid); sets ``$DOJO_NODE_SUITE``
    --dojo-changed             run only the pages whose steps, or whose prerequisites' steps,
                               changed since their latest run recorded (in --dojo-transcripts)
                               on this engine and driver (:func:`dojo_exec.freshness.changed_pages`)
    --dojo-engines A,B         embedded machines on these Docker engines (URLs or docker
                               contexts; ini ``dojo_engines``): xdist worker gwN makes its pages'
                               machines on the N-th, round robin (:mod:`dojo_exec.machines.engines`)

pytest loads this plugin in every session of an environment that has dojo_exec installed:
the engine (update, Sybil, chains, the page parser) is imported inside the hooks that need it.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from dojo_exec.cluster import EMBEDDED
from dojo_exec.head_start import DEFAULT_SECONDS as DEFAULT_HEAD_START
from dojo_exec.head_start import HEAD_START
from dojo_exec.verdicts import count_failed

if TYPE_CHECKING:  # the engine is imported only when pages are collected
    from dojo_exec.freshness import Target
    from dojo_exec.runner import StepOutcome
    from dojo_exec.transcripts import RunRecord, StepRecord
    from dojo_exec.update import PendingUpdates

PROPERTY = "dojo_step"


@dataclass
class DojoSettings:
    """What the Sybil evaluator needs to know about this run."""

    driver: str = EMBEDDED
    updates: PendingUpdates | None = None
    transcripts: Path | None = None
    docs_root: Path | None = None
    cluster_base: Path | None = None
    docs_root_note: str | None = None  # a line for the summary when the root was guessed
    changed: bool = False  # --dojo-changed: only the pages changed since their recorded runs
    selection: list[str] | None = None  # with --dojo-changed: the lines saying what runs, why
    outcomes: list[StepOutcome] = field(default_factory=list)

    def observe(self, outcome: StepOutcome) -> None:
        self.outcomes.append(outcome)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dojo_exec", "dojo_exec page steps")
    group.addoption("--dojo-update", action="store_true", help="rewrite drifted promises")
    group.addoption(
        "--dojo-driver",
        default=os.environ.get("DOJO_DRIVER", EMBEDDED),
        help="machine driver: embedded (default), none, or a real docker-machine driver",
    )
    group.addoption("--dojo-transcripts", default=None, help="record transcripts under this folder")
    group.addoption(
        "--dojo-docs-root",
        default=None,
        help="folder pages are named relative to in transcripts (default: docs if the pages are "
        "below it, else the working directory if they are below it, else the folders given)",
    )
    group.addoption(
        "--dojo-collect",
        action="store_true",
        help="collect .md files as pages without a conftest (dojo-exec verify/update set it)",
    )
    group.addoption(
        "--dojo-engine",
        default=None,
        metavar="V",
        help="embedded machines' Docker engine: a version or its start (20.10, 26) or a Debian "
        "suite (bookworm, trixie, sid); default: $DOJO_NODE_SUITE, else bookworm",
    )
    group.addoption(
        "--dojo-changed",
        action="store_true",
        help="run only the pages whose steps, or whose prerequisites' steps, changed since "
        "their latest run recorded on this engine and driver (needs --dojo-transcripts)",
    )
    group.addoption(
        "--dojo-engines",
        default=os.environ.get("DOJO_ENGINES") or None,
        metavar="A,B",
        help="Docker engines the embedded machines are made on (URLs: unix://, tcp://, ssh://, "
        "or docker context names); xdist worker gwN uses the N-th, round robin; each page's "
        "machines stay on one engine (default: $DOJO_ENGINES, ini dojo_engines, else the "
        "engine DOCKER_HOST names)",
    )
    group.addoption(
        "--dojo-head-start",
        type=float,
        default=DEFAULT_HEAD_START,
        metavar="SECONDS",
        help="in a parallel run (pytest-xdist), pages other than the longest recorded ones "
        f"make their machines this long after the run began (default {DEFAULT_HEAD_START:g}; "
        "0: all at once; needs --dojo-transcripts)",
    )
    parser.addini("dojo_engines", "Docker engines of --dojo-engines, one a line", type="linelist")


def pytest_configure(config: pytest.Config) -> None:
    from dojo_exec.interrupts import terminate_as_interrupt

    # SIGTERM (a job runner's cancel, ``timeout``, ``kill``) ends the run as Ctrl-C does:
    # every page's cluster, shell and temporary folder is removed, update writes nothing
    config.add_cleanup(terminate_as_interrupt())
    engine = config.getoption("dojo_engine")
    if engine is not None:
        from dojo_exec.machines.suites import suite_for

        try:
            os.environ["DOJO_NODE_SUITE"] = suite_for(engine)  # machines read it when made
        except ValueError as error:
            raise pytest.UsageError(f"--dojo-engine: {error}") from None
    _choose_host_engine(config)
    config.stash[_SETTINGS] = DojoSettings(
        driver=config.getoption("dojo_driver"),
        updates=_pending_updates() if config.getoption("dojo_update") else None,
        transcripts=_path(config, config.getoption("dojo_transcripts")),
        docs_root=_path(config, config.getoption("dojo_docs_root")),
        changed=config.getoption("dojo_changed"),
    )
    if config.getoption("dojo_changed") and config.getoption("dojo_transcripts") is None:
        raise pytest.UsageError(
            "--dojo-changed needs --dojo-transcripts DIR: the recorded runs it compares with"
        )
    config.stash[_STARTED] = HEAD_START.began = time.monotonic()
    if config.stash[_SETTINGS].transcripts is not None and _by_file(config):
        # pages come ordered longest chain first (recorded_durations): xdist must not reorder
        # them by their number of steps
        config.option.loadscopereorder = False
    config.pluginmanager.register(DojoReporter(config), "dojo_exec_reporter")
    if config.stash[_SETTINGS].changed:
        _fewer_workers(config)  # before xdist's own pytest_configure (trylast) starts them


def _by_file(config: pytest.Config) -> bool:
    """Whether pytest-xdist hands out whole files (``--dist loadfile``/``loadscope``)."""
    return getattr(config.option, "dist", "no") in ("loadfile", "loadscope")


def _choose_host_engine(config: pytest.Config) -> None:
    """``--dojo-engines``: this process's engine (a worker's by its number), for its pages'
    machines, their reaper and teardown (``$DOJO_ENGINE_HOST``); every engine is checked first
    by the controller, a one-line usage error naming one that does not answer."""
    listed = config.getoption("dojo_engines") or ",".join(config.getini("dojo_engines"))
    if not listed:
        return
    from dojo_exec.machines.engines import (
        ENV_CERT_PATH,
        ENV_ENGINES,
        ENV_TLS_VERIFY,
        for_worker,
        parse_engines,
    )

    try:
        engines = parse_engines(listed)
    except ValueError as error:
        raise pytest.UsageError(f"--dojo-engines: {error}") from None
    if not hasattr(config, "workerinput"):
        for engine in engines:
            try:
                client = engine.client(timeout=20)
                try:
                    client.ping()
                finally:
                    client.close()
            except Exception as error:  # MachineError, the SDK's, an ssh failure
                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise pytest.UsageError(
                    f"--dojo-engines: engine {engine.describe()} does not answer: {message}"
                ) from None
    chosen = for_worker(engines, getattr(config, "workerinput", {}).get("workerid"))
    for var in (ENV_TLS_VERIFY, ENV_CERT_PATH):
        os.environ.pop(var, None)
    os.environ.update(chosen.env())
    os.environ[ENV_ENGINES] = listed  # dojo-exec down/leaks in this run cover them all


_SETTINGS = pytest.StashKey[DojoSettings]()
_STARTED = pytest.StashKey[float]()


def _pending_updates() -> PendingUpdates:
    from dojo_exec.update import PendingUpdates

    return PendingUpdates()


def _path(config: pytest.Config, value: str | None) -> Path | None:
    return None if value is None else (Path(config.invocation_params.dir) / value).resolve()


@pytest.fixture(scope="session")
def dojo_settings(request: pytest.FixtureRequest) -> DojoSettings:
    """Settings of this run, shared by every page session."""
    return request.config.stash[_SETTINGS]


def infer_docs_root(pages: list[Path], cwd: Path, args: list[str]) -> Path:
    """The folder pages are named relative to when ``--dojo-docs-root`` is not given.

    ``CWD/docs`` if every page is below it, else ``cwd`` if every page is below it (as before),
    else the nearest common folder of the command-line arguments the pages were found through
    (a folder itself, a file's folder): ``pytest /some/dir`` names ``/some/dir/a/x.md`` ``a/x.md``,
    so pages of the same name in different folders keep different transcripts.
    """
    resolved = [page.resolve() for page in pages]
    for candidate in (cwd / "docs", cwd):
        if resolved and all(page.is_relative_to(candidate.resolve()) for page in resolved):
            return candidate.resolve()
    given = [(cwd / arg.split("::")[0]).resolve() for arg in args]
    folders = set()
    for page in resolved:
        found = [arg for arg in given if page != arg and page.is_relative_to(arg)]
        folders.add(max(found, key=lambda a: len(a.parts)) if found else page.parent)
    return Path(os.path.commonpath(sorted(folders)))


def choose_docs_root(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ``--dojo-docs-root``, choose the folder pages are named relative to."""
    pages = {
        Path(example.path)
        for item in items
        if (example := getattr(item, "example", None)) is not None
        and getattr(example, "namespace", {}).get("dojo_page") is not None
    }
    choose_docs_root_of(config, pages)


def choose_docs_root_of(config: pytest.Config, pages: Iterable[Path]) -> None:
    """Without ``--dojo-docs-root``, choose the folder ``pages`` are named relative to."""
    settings = config.stash[_SETTINGS]
    pages = sorted(pages)
    if settings.docs_root is not None or not pages:
        return
    cwd = Path(config.invocation_params.dir)
    settings.docs_root = infer_docs_root(pages, cwd, list(config.args))
    if not settings.docs_root.is_relative_to(cwd.resolve()):
        settings.docs_root_note = (
            f"pages named relative to {settings.docs_root} in transcripts "
            "(--dojo-docs-root DIR to choose another folder)"
        )


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    """With ``--dojo-collect``, a Markdown file no conftest collected becomes a page."""
    collected = yield
    if collected or file_path.suffix != ".md" or not parent.config.getoption("dojo_collect"):
        return collected
    from dojo_exec.sybil import dojo_sybil

    sybil = dojo_sybil(file_path.parent, patterns=(file_path.name,))
    own = sybil.pytest()(file_path, parent)
    return [own] if own is not None else collected


PAGES_ONLY_UNUSED = ("hypothesispytest",)
"""Plugins a run of Markdown pages alone has no use for: hypothesis's terminal summary imports
hypothesis (0.5 s of CPU, at the end of every run) even when no test of it ran."""


def drop_unused_plugins(config: pytest.Config, files: Iterable[str]) -> None:
    """Unregister :data:`PAGES_ONLY_UNUSED` when every collected file is a Markdown page."""
    suffixes = {Path(file).suffix for file in files}
    if suffixes != {".md"}:
        return
    for name in PAGES_ONLY_UNUSED:
        plugin = config.pluginmanager.get_plugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Pages in chain order, so that a page continues the swarm of the page it requires;
    with ``--dojo-changed``, only the pages changed since their recorded runs.  In a parallel
    run the longest pages get a head start (:mod:`dojo_exec.head_start`)."""
    from dojo_exec.chains import HANDOVER, order_by_chain

    drop_unused_plugins(config, (str(item.path) for item in items))

    if config.stash[_SETTINGS].changed:
        select_changed(config, items)
    durations = recorded_durations(config, items)
    items[:] = order_by_chain(items, _page_of, durations)
    pages = {path for path in map(_page_of, items) if path is not None}
    HANDOVER.want(pages)
    parallel = hasattr(config, "workerinput")  # a pytest-xdist worker: pages start together
    seconds = config.getoption("dojo_head_start") if parallel else 0.0
    HEAD_START.plan(pages, durations, seconds)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` with recorded runs: the next page goes to the worker expected to be
    free first (:mod:`dojo_exec.xdist_scheduling`)."""
    if getattr(config.option, "dist", "no") != "loadfile":
        return None
    run_of = recorded_runs(config)
    if run_of is None:
        return None
    from dojo_exec.xdist_scheduling import PageScheduling

    return PageScheduling(
        config,
        log,
        run_of=run_of,
        root=config.rootpath,
        name_pages=lambda pages: choose_docs_root_of(config, pages),
    )


def recorded_durations(
    config: pytest.Config, items: list[pytest.Item]
) -> Callable[[Path], float | None] | None:
    """How long each page took in its latest recorded run on this run's engine and driver
    (any run when there is none there; None: never recorded), so that the longest chains
    start first; None without ``--dojo-transcripts``."""
    choose_docs_root(config, items)
    run_of = recorded_runs(config)
    if run_of is None:
        return None

    def duration(path: Path) -> float | None:
        run = run_of(path)
        return run.duration if run is not None else None

    return duration


def recorded_runs(config: pytest.Config) -> Callable[[Path], RunRecord | None] | None:
    """Each page's latest recorded run on this run's engine and driver (any run when there is
    none there; None: never recorded); None without ``--dojo-transcripts``."""
    from dojo_exec.transcripts import TranscriptError, load_transcript, page_key

    settings = config.stash[_SETTINGS]
    if settings.transcripts is None:
        return None
    target = run_target(settings.driver)
    transcripts = settings.transcripts

    def run_of(path: Path) -> RunRecord | None:
        try:
            transcript = load_transcript(transcripts, page_key(path, settings.docs_root))
        except (TranscriptError, OSError):
            return None
        if transcript is None:
            return None
        return transcript.latest_on(target.engine, target.driver) or transcript.latest

    return run_of


def run_target(driver: str) -> Target:
    """The engine and driver a run's pages will run on, known without running anything:
    the node image's engine (``$DOJO_NODE_SUITE``) for embedded machines, any engine else."""
    from dojo_exec.freshness import Target

    if driver == EMBEDDED:
        from dojo_exec.machines.suites import suite_engine

        return Target(suite_engine(), driver)
    return Target(None, driver)


NOTHING_CHANGED = "nothing changed since the recorded runs: 0 pages to run"


def describe_selection(why: dict[str, str | None], target: Target) -> list[str]:
    """What ``--dojo-changed`` runs and why, as lines (page name → reason, None: unchanged)."""
    changed = {name: reason for name, reason in why.items() if reason is not None}
    if not changed:
        return [NOTHING_CHANGED]
    lines = [f"changed since the recorded runs on {target}: {len(changed)} of {len(why)} page(s)"]
    return lines + [f"  {name}: {reason}" for name, reason in changed.items()]


def changed_in_args(config: pytest.Config) -> tuple[dict[str, str | None], Target]:
    """``--dojo-changed`` before collection: each page found through the command-line
    arguments (folders searched for ``.md`` files), by name, with why it runs (None: not)."""
    from dojo_exec.freshness import changed_pages
    from dojo_exec.transcripts import page_key

    settings = config.stash[_SETTINGS]
    target = run_target(settings.driver)
    if settings.transcripts is None:
        return {}, target
    cwd = Path(config.invocation_params.dir)
    pages: list[Path] = []
    for arg in config.args:
        path = cwd / arg.split("::")[0]
        pages += sorted(path.rglob("*.md")) if path.is_dir() else [path]
    pages = [page for page in pages if page.suffix == ".md" and page.is_file()]
    docs_root = settings.docs_root or infer_docs_root(pages, cwd, list(config.args))
    why = changed_pages(pages, settings.transcripts, docs_root, target)
    return {page_key(path, docs_root): reason for path, reason in why.items()}, target


def _fewer_workers(config: pytest.Config) -> None:
    """``--dojo-changed`` with pytest-xdist: no more workers than pages to run (none when
    nothing changed: a run with nothing to do must not wait for workers to start)."""
    tx = getattr(config.option, "tx", None)
    if hasattr(config, "workerinput") or getattr(config.option, "dist", "no") == "no" or not tx:
        return
    why, _ = changed_in_args(config)
    wanted = sum(1 for reason in why.values() if reason is not None)
    if wanted == 0:
        config.option.dist, config.option.tx, config.option.numprocesses = "no", [], 0
    elif wanted < len(tx):
        config.option.tx = tx[:wanted]
        config.option.numprocesses = wanted


def select_changed(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the items of the pages that need not run again (``--dojo-changed``)."""
    from dojo_exec.freshness import changed_pages
    from dojo_exec.transcripts import page_key

    settings = config.stash[_SETTINGS]
    choose_docs_root(config, items)
    assert settings.transcripts is not None  # pytest_configure refused it
    pages = list(dict.fromkeys(path for path in map(_page_of, items) if path is not None))
    target = run_target(settings.driver)
    why = changed_pages(pages, settings.transcripts, settings.docs_root, target)
    unchanged = {path for path, reason in why.items() if reason is None}
    kept = [item for item in items if _page_of(item) not in unchanged]
    dropped = [item for item in items if _page_of(item) in unchanged]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    named = {page_key(path, settings.docs_root): reason for path, reason in why.items()}
    settings.selection = describe_selection(named, target)
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None and not hasattr(config, "workerinput"):
        for line in settings.selection:
            terminal.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the swarm kept for a page that did not come (deselected, failed collection).

    With ``--dojo-changed``, a run with nothing to run succeeds."""
    from dojo_exec.chains import HANDOVER

    HANDOVER.release()
    if session.config.stash[_SETTINGS].changed and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK


def _page_of(item: pytest.Item) -> Path | None:
    """The page a step's item runs (None for any other item)."""
    from dojo_exec.page import Step

    example = getattr(item, "example", None)
    return Path(item.path) if isinstance(getattr(example, "parsed", None), Step) else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" and not (call.when == "setup" and report.skipped):
        return
    settings = item.config.stash[_SETTINGS]
    mine = [o for o in settings.outcomes if not o.replay]
    step = getattr(getattr(item, "example", None), "parsed", None)
    found = next((o for o in reversed(mine) if o.step is step), None)
    if found is not None:
        from dojo_exec.transcripts import step_to_json

        report.user_properties.append(
            (
                PROPERTY,
                {
                    "page": str(found.step.path),
                    "updated": found.updated,
                    "step": step_to_json(found.record()),  # the transcripts' own encoding
                },
            )
        )


class ReportedStep(NamedTuple):
    """A step's result as the summary gets it (from this process or an xdist worker)."""

    page: str
    record: StepRecord  # the very record its transcript keeps
    updated: bool  # its promise was rewritten by this run


class DojoReporter:
    """Collects step results (also from xdist workers), writes updates, prints the summary.

    Updates are written once, by the process that knows how the whole run ended: the
    controller when xdist runs the steps in workers (they hand it their edits), and only
    when the run was not interrupted.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.steps: list[ReportedStep] = []
        self.written: list[str] = []
        self.refused: list[str] = []
        self.unstable: list[str] = []
        self.interrupted = False

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        choose_docs_root(self.config, items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == PROPERTY and isinstance(value, dict):
                from dojo_exec.transcripts import step_from_json

                record = step_from_json(value["step"])
                self.steps.append(ReportedStep(value["page"], record, bool(value["updated"])))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist: the controller collects nothing itself; what its workers collected says."""
        drop_unused_plugins(self.config, (test_id.split("::")[0] for test_id in ids))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """xdist: a worker that finished hands its pending updates to the controller."""
        updates = self.config.stash[_SETTINGS].updates
        handed = getattr(node, "workeroutput", {}).get(_WORKER_UPDATES)
        if updates is not None and handed:
            updates.merge(handed)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        updates = self.config.stash[_SETTINGS].updates
        if updates is None:
            return
        worker_output = getattr(self.config, "workeroutput", None)
        if worker_output is not None:  # an xdist worker: the controller writes
            worker_output[_WORKER_UPDATES] = updates.export()
        elif exitstatus == pytest.ExitCode.INTERRUPTED:
            self.interrupted = True
        else:
            self.written += updates.write()
            self.refused += updates.refused
            self.unstable += updates.unstable
            if updates.refused and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED  # an update was not made

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int) -> None:
        settings = self.config.stash[_SETTINGS]
        chosen = (settings.selection or self._controller_selection()) if settings.changed else []
        if chosen and not self.steps:
            terminalreporter.section("dojo_exec summary")
            terminalreporter.line(chosen[0])
        if not (self.steps or self.written or self.refused or self.interrupted):
            return
        note = self.config.stash[_SETTINGS].docs_root_note
        verdicts: Counter[str] = Counter(r.record.verdict for r in self.steps)
        waited = sum(1 for r in self.steps if r.record.attempts > 1)
        updated = 0 if self.interrupted else sum(1 for r in self.steps if r.updated)
        pages = len({r.page for r in self.steps})
        duration = time.monotonic() - self.config.stash[_STARTED]
        failed = count_failed(verdicts)
        terminalreporter.section("dojo_exec summary")
        terminalreporter.line(
            f"pages: {pages}  steps: {len(self.steps)}  passed: {verdicts['passed']}  "
            f"failed: {failed}  skipped: {verdicts['skipped']}  waited/retried: {waited}  "
            f"updated: {updated}  duration: {duration:.1f}s"
        )
        if chosen:
            terminalreporter.line(chosen[0])
        if note is not None:
            terminalreporter.line(note)
        for line in self.written:
            terminalreporter.line(f"updated {line}")
        for line in self.unstable:
            terminalreporter.line(line, yellow=True)
        for line in self.refused:
            terminalreporter.line(line, red=True)
        if self.interrupted:
            terminalreporter.line("update interrupted: no page rewritten", yellow=True)

    def _controller_selection(self) -> list[str]:
        """xdist's controller collects nothing: what ``--dojo-changed`` chose, from the
        arguments (the workers chose the same)."""
        return describe_selection(*changed_in_args(self.config))


_WORKER_UPDATES = "dojo_exec_updates"
