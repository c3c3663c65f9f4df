"""Sybil adapter: one test item per step, a page's steps run in order in one shell.

Wire it in a ``conftest.py`` next to the pages::

    from pathlib import Path
    from dojo_exec.sybil import dojo_sybil

    pytest_collect_file = dojo_sybil(Path(__file__).parent).pytest()

Settings (driver, update mode, transcripts) come from the ``dojo_settings`` fixture of
the ``dojo_exec`` pytest plugin (command-line options ``--dojo-*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Region, Sybil

from dojo_exec.page import PageError, Step, display_path, parse_page, parse_text, resolve_order
from dojo_exec.runner import PageSession, StepOutcome
from dojo_exec.transcripts import TranscriptError

SESSION_KEY = "dojo_session"
SETTINGS_KEY = "dojo_settings"


class DojoSybil(Sybil):
    """A Sybil whose items are named by line and command, so ``-k drain`` picks steps."""

    def identify(self, example: Example) -> str:
        step: Step = example.parsed
        first = step.command.strip().splitlines()[0] if step.command.strip() else ""
        slug = re.sub(r"[^\w.:=/-]+", "_", first).strip("_")[:60]
        return f"line:{example.line}[{slug}]"

    def parse(self, path: Path) -> Document:
        """The page's document; a page that is not UTF-8 is ``file:line: not UTF-8 text``."""
        try:
            return super().parse(path)
        except OSError as error:
            problem = f"{display_path(Path(path))}: cannot read it: {error.strerror}"
            raise pytest.Collector.CollectError(problem) from None
        except UnicodeDecodeError:
            try:
                parse_page(path)  # the parser's own message, at the undecodable byte's line
            except PageError as error:
                raise pytest.Collector.CollectError(str(error)) from None
            raise


def parse_steps(document: Document) -> Iterator[Region]:
    """Sybil parser: every step of the page is a region.

    A malformed page is a collection error that reads as just ``file:line: what is wrong``.
    """
    try:
        page = parse_text(document.text, Path(document.path))
        if page.requires:  # a missing prerequisite or a cycle is found before anything runs
            resolve_order(page.path, {page.path.resolve(): page})
    except PageError as error:
        raise pytest.Collector.CollectError(str(error)) from error
    document.namespace["dojo_page"] = page
    for step in page.steps:
        yield Region(step.span[0], step.span[1], step, evaluate_step)


def _session(example: Example) -> PageSession:
    namespace = example.namespace
    session = namespace.get(SESSION_KEY)
    if session is None:
        settings = namespace[SETTINGS_KEY]
        session = PageSession(
            page=namespace["dojo_page"],
            driver=namespace.get("dojo_driver") or settings.driver,
            updates=settings.updates,
            transcripts_root=settings.transcripts,
            docs_root=settings.docs_root,
            cluster_base=settings.cluster_base,
            on_outcome=settings.observe,
        )
        namespace[SESSION_KEY] = session
    return session


def evaluate_step(example: Example) -> str | None:
    """Sybil evaluator: run the step (replaying what it builds on) and judge it."""
    session = _session(example)
    outcome: StepOutcome = session.run_through(example.parsed)
    if outcome.verdict == "skipped":
        pytest.skip(f"{outcome.step.location}: {outcome.explanation}")
    return None if outcome.ok else outcome.explanation


def close_session(namespace: dict[str, Any]) -> None:
    """Sybil teardown: record the page's run and remove its cluster."""
    session: PageSession | None = namespace.pop(SESSION_KEY, None)
    if session is not None:
        try:
            session.close()
        except TranscriptError as error:  # the page's transcript file cannot be recorded to
            problem = str(error)
        else:
            return
        pytest.fail(f"{problem}: the run is not recorded", pytrace=False)


def dojo_sybil(
    root: Path | str,
    patterns: tuple[str, ...] = ("*.md", "**/*.md"),
    *,
    driver: str | None = None,
    **kwargs: Any,
) -> DojoSybil:
    """The Sybil for the dojo pages below ``root``; ``driver`` overrides ``--dojo-driver``."""

    def setup(namespace: dict[str, Any]) -> None:
        if driver is not None:
            namespace["dojo_driver"] = driver

    return DojoSybil(
        parsers=[parse_steps],
        path=str(Path(root).resolve()),
        patterns=list(patterns),
        setup=setup,
        teardown=close_session,
        fixtures=[SETTINGS_KEY],
        **kwargs,
    )
