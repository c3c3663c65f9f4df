"""The built sample site in Chromium: tabs work, nothing is fetched from outside.

This module holds the browser fixtures the other browser tests import: ``server`` (a site
over HTTP on 127.0.0.1), ``project_site`` (the dojo's own site built from its transcripts)
and ``chromium`` (Debian's Chromium through Playwright).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must run the browser test")
    pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium)")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def project_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's own site (mkdocs.yml, docs, committed transcripts) built with MkDocs' API."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    out = tmp_path_factory.mktemp("project-site")
    config = load_config(str(Path(__file__).parents[2] / "mkdocs.yml"), site_dir=str(out))
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()
    return out


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, started once per module."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def server(built_site: Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1, a random port, in a thread."""
    yield from _serve(built_site)


@pytest.fixture(scope="module")
def project_server(project_site: Path) -> Iterator[str]:
    """The project's own site over HTTP on 127.0.0.1."""
    yield from _serve(project_site)


def _serve(directory: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def assert_first_search_result(page: Page, document: str) -> None:
    """The first search result comes to link to `document` (e.g. "setup.html").

    Results come per keystroke, so those of a query's first letters are shown
    for a while: wait for the answer rather than read the first list drawn.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    first = "(document.querySelector('.md-search-result__item a') || {}).href || ''"
    try:
        page.wait_for_function(
            f"d => new URL({first} || 'x:/').pathname.endsWith('/' + d)",
            arg=document,
            timeout=30_000,
        )
    except PlaywrightTimeout:
        raise AssertionError(
            f"first search result is {page.evaluate(first)!r}, not {document}"
        ) from None


def test_captured_tab_in_chromium_and_no_outside_request(server: str) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{server}/swarm.html", wait_until="networkidle")
            step = page.locator(".tabbed-set", has_text="CAPTURED-WEB-OUTPUT")
            captured = step.locator(".tabbed-block").nth(0)
            promised = step.locator(".tabbed-block").nth(1)
            assert captured.is_visible() and not promised.is_visible()  # no click needed
            assert "CAPTURED-WEB-OUTPUT" in captured.inner_text()
            step.locator("label", has_text="Promised").click()
            assert promised.is_visible() and not captured.is_visible()
            assert "PROMISED-WEB-OUTPUT" in promised.inner_text()
            step.locator("label", has_text="Captured").click()
            assert '<script>alert("xss")</script>' in captured.inner_text()
            assert page.locator(".dojo-provenance").is_visible()
            assert page.locator(".dojo-badge--failed").first.is_visible()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "site-page.png"), full_page=True)
            page.goto(f"{server}/report.html", wait_until="networkidle")
            assert page.locator("table.dojo-report").first.is_visible()
            # the site's own search finds a line only a step's captured output has
            search = page.locator("input.md-search__input")
            search.click()
            page.wait_for_function(  # the search worker has loaded the index
                "() => !document.querySelector('.md-search-result__meta')"
                ".textContent.includes('Initializing')",
                timeout=60_000,
            )
            search.press_sequentially("CAPTURED-SERVICE-PS")  # keystrokes, as a reader types
            assert_first_search_result(page, "swarm.html")
        finally:
            browser.close()
    origin = urlsplit(server).netloc
    outside = [url for url in requests if urlsplit(url).netloc != origin]
    assert requests and outside == []


def test_tabs_work_from_file_urls(built_site: Path) -> None:
    """The site opened straight from disk (file://): pages and tabs still work."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            outside: list[str] = []
            page.on(
                "request",
                lambda request: (
                    outside.append(request.url)
                    if not request.url.startswith(("file://", "data:", "blob:"))
                    else None
                ),
            )
            page.goto((built_site / "swarm.html").as_uri())
            step = page.locator(".tabbed-set", has_text="CAPTURED-NODE-LS")
            assert step.locator(".tabbed-block").nth(0).is_visible()
            step.locator("label", has_text="Promised").click()
            assert step.locator(".tabbed-block").nth(1).is_visible()
            page.locator("a", has_text="Unrecorded").first.click()
            page.wait_for_load_state()
            assert page.url.endswith("unrecorded.html")
            assert outside == []
        finally:
            browser.close()
