"""The dojo's site built twice, with MkDocs (plugin and extension) and with Zensical (the
extension alone), read in Chromium: every step shows the same captured text and verdict,
no ``dojo`` tag or ``# Result ==>`` line reaches a reader of either, and the report page and
the deck's link work in both. Screenshots of the Zensical build go to
``test-artifacts/site-zensical/``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    _serve,
    chromium,
    project_server,
    project_site,
)
from test_reader_browser import PAGES, STEP_PAGES
from zensical_site import build_zensical

from dojo_exec.page import RESULT_MARKER
from dojo_exec.slides import build_deck

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

REPO = Path(__file__).parents[2]
SHOTS = ARTIFACTS / "site-zensical"
# a fence's info string as an author writes it, or one of its options: never for readers
TAGGED = re.compile(
    r"\b(?:sh|bash|shell|console|shell-session)[ \t]+dojo\b"
    r"|\bdojo[ \t]+(?:timeout|wait|exit|hidden|skip|check|ordered|versions|stop|machine"
    r"|prompt|id)\b"
)
STEPS = """() => [...document.querySelectorAll('.dojo-result')].map(step => {
    const badge = step.querySelector('.dojo-badge');
    const open = step.querySelector('.tabbed-block');
    return [step.id, badge ? badge.innerText : '',
            open && open.checkVisibility() ? open.innerText : ''];
})"""


TABS = """() => [...document.querySelectorAll('.tabbed-block')]
    .map(block => block.textContent).join('\\n')"""


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's site built by Zensical from a copy of the project, with the deck."""
    root = tmp_path_factory.mktemp("zensical-project")
    for folder in ("docs", "transcripts", "slides"):
        shutil.copytree(REPO / folder, root / folder)
    for name in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy(REPO / name, root / name)
    site, _ = build_zensical(root / "mkdocs.yml")
    vendor = Path(os.environ.get("DOJO_VENDOR") or REPO / ".dojo" / "vendor")
    build_deck(
        root / "slides" / "deck.md",
        root / "docs",
        root / "transcripts",
        site / "slides",
        cache=vendor,
    )
    return site


@pytest.fixture(scope="module")
def zensical_server(zensical_site: Path) -> Iterator[str]:
    yield from _serve(zensical_site)


def _steps(page: Page, url: str) -> list[list[str]]:
    page.goto(url, wait_until="networkidle")
    found: list[list[str]] = page.evaluate(STEPS)
    return found


def test_each_step_shows_the_same_capture_and_verdict_in_both_sites(
    chromium: Browser,  # noqa: F811
    project_server: str,  # noqa: F811
    zensical_server: str,
) -> None:
    seen: list[str] = []
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda request: seen.append(request.url))
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for name in STEP_PAGES:
            by_mkdocs = _steps(page, f"{project_server}/{name}.html")
            by_zensical = _steps(page, f"{zensical_server}/{name}.html")
            page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
            assert by_zensical == by_mkdocs, name
            assert by_mkdocs and all(badge for _, badge, _ in by_mkdocs), name
            assert any(captured.strip() for _, _, captured in by_mkdocs), name
    finally:
        page.close()
    local = {urlsplit(project_server).netloc, urlsplit(zensical_server).netloc, ""}
    assert [url for url in seen if urlsplit(url).netloc not in local] == []


@pytest.mark.parametrize("which", ["mkdocs", "zensical"])
def test_no_tag_or_result_marker_reaches_a_reader(
    chromium: Browser,  # noqa: F811
    project_site: Path,  # noqa: F811
    zensical_site: Path,
    which: str,
) -> None:
    site = project_site if which == "mkdocs" else zensical_site
    pages = sorted(site.glob("*.html"))
    assert {path.stem for path in pages} >= set(PAGES)
    for path in pages:  # what the page's source holds, attributes included
        source = path.read_text()
        assert RESULT_MARKER not in source and not TAGGED.search(source), path.name
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        for path in pages:  # what a reader sees, with every fold opened, and every tab
            page.goto(path.as_uri(), wait_until="load")
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            shown = page.evaluate("() => document.body.innerText")
            shown += page.evaluate(TABS)
            assert RESULT_MARKER not in shown and not TAGGED.search(shown), path.name
    finally:
        page.close()


def test_report_and_deck_work_in_the_zensical_site(
    chromium: Browser,  # noqa: F811
    project_server: str,  # noqa: F811
    zensical_server: str,
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        summaries = []
        for server in (project_server, zensical_server):
            page.goto(f"{server}/report.html", wait_until="networkidle")
            summaries.append(page.locator(".dojo-summary").inner_text())
            assert page.locator("table.dojo-report").first.is_visible()
        assert summaries[0] == summaries[1] and "Docker engine" in summaries[0]
        page.screenshot(path=str(SHOTS / "report-desktop.png"), full_page=True)
        page.goto(f"{zensical_server}/index.html", wait_until="networkidle")
        page.locator("a[href$='report.html']").first.click()
        page.wait_for_load_state()
        assert urlsplit(page.url).path.endswith("/report.html")
        assert page.locator(".dojo-summary").is_visible()
        page.goto(f"{zensical_server}/slides.html", wait_until="networkidle")
        page.get_by_text("Open the slides").click()
        page.wait_for_load_state("networkidle")
        assert urlsplit(page.url).path.endswith("/slides/index.html")
        assert page.locator(".reveal .slides section").count() > 1
    finally:
        page.close()
