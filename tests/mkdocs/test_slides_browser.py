"""The workshop deck in Chromium, from the built site, with the network cut.

Keyboard navigation to a slide that shows a step, its command and captured output, the
speaker view, the print view; no request leaves the local host. Screenshots of three slides
and a PDF of the print view go to ``test-artifacts/slides/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from test_browser import ARGS, ARTIFACTS, CHROMIUM, _require_chromium, server  # noqa: F401

from dojo_exec.transcripts import load_transcript

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).parents[2]
SHOTS = ARTIFACTS / "slides"
LOCAL = ("127.0.0.1", "localhost")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's own site (docs, transcripts, deck) built with MkDocs' API.

    It stands in for the sample site in ``test_browser``'s ``server`` fixture.
    """
    out = tmp_path_factory.mktemp("site")
    config = load_config(str(ROOT / "mkdocs.yml"), site_dir=str(out))
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()
    assert (out / "slides" / "index.html").is_file()
    return out


def _settle(page: Page) -> None:
    """Wait for the slide transition and fragment fades to end (for screenshots)."""
    page.wait_for_function(
        "() => document.getAnimations().filter(a => a instanceof CSSTransition)"
        ".every(a => a.playState !== 'running')"
    )


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.scheme in ("http", "https") and parts.hostname in LOCAL


def test_deck_offline_keyboard_step_speaker_view_and_print(server: str) -> None:  # noqa: F811
    _require_chromium()
    from playwright.sync_api import Route, sync_playwright

    requests: list[str] = []
    blocked: list[str] = []

    def cut(route: Route) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    run = load_transcript(ROOT / "transcripts", "service.md")
    assert run is not None and run.latest is not None
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.set_default_timeout(60_000)  # two cores, shared: slow, not broken
            context.route("**/*", cut)
            context.on("request", lambda request: requests.append(request.url))
            page = context.new_page()
            page.goto(f"{server}/slides.html")  # the site's page for the deck, in the nav
            assert page.locator("nav a", has_text="Slides").count() > 0
            page.locator("a", has_text="Open the slides").click()
            page.wait_for_function("() => window.Reveal && Reveal.isReady()")
            _settle(page)
            page.screenshot(path=str(SHOTS / "01-title.png"))

            # keyboard only: → until the slide that shows service.md#scale-5
            step = page.locator('section.present .dojo-step[data-step="service.md#scale-5"]')
            for _ in range(40):
                if step.count():
                    break
                page.keyboard.press("ArrowRight")
            assert step.count() == 1, "no slide shows service.md#scale-5"
            command = step.locator(".dojo-command")
            assert command.inner_text().strip() == "docker service scale helloworld=5"
            captured = step.locator(".dojo-captured")
            assert "visible" not in (captured.get_attribute("class") or "")
            page.keyboard.press("ArrowRight")  # the output comes after the command
            captured.wait_for(state="visible")  # after the fragment's fade-in
            text = captured.inner_text()
            assert "helloworld scaled to 5" in text
            assert f"Docker engine {run.latest.docker_engine}" in text
            assert "passed" in text
            page.keyboard.press("ArrowRight")  # the second step's output too
            _settle(page)
            page.screenshot(path=str(SHOTS / "03-scaling.png"))
            page.wait_for_function("() => location.hash.startsWith('#/slide-')")  # linkable

            # speaker view: a new window with the notes of the current slide
            with context.expect_page() as opened:
                page.keyboard.press("s")
            speaker = opened.value
            notes = speaker.locator(".speaker-controls-notes")
            notes.wait_for(state="visible")
            speaker.wait_for_function(
                "() => document.querySelector('.speaker-controls-notes')"
                ".textContent.includes('desired count')"
            )
            _settle(speaker)
            speaker.screenshot(path=str(SHOTS / "speaker-view.png"))
            speaker.close()

            # the Raft diagram, by the keyboard's overview-free path: Home, then → to it
            page.keyboard.press("Home")
            raft = page.locator('section.present img[src="raft-quorum.svg"]')
            for _ in range(40):
                if raft.count():
                    break
                page.keyboard.press("ArrowRight")
            assert raft.count() == 1 and raft.is_visible()
            assert (
                page.evaluate("() => document.querySelector('section.present img').naturalWidth")
                > 0
            )  # the SVG loaded
            _settle(page)
            page.screenshot(path=str(SHOTS / "02-raft-quorum.png"))

            # print view: every slide on its own page, then a PDF
            printed = context.new_page()
            printed.goto(f"{server}/slides/index.html?print-pdf")
            printed.wait_for_function("() => window.Reveal && Reveal.isReady()")
            printed.wait_for_selector(".pdf-page")
            slides = printed.locator(".slides > section").count()
            assert printed.locator(".pdf-page").count() >= slides
            printed.pdf(path=str(SHOTS / "deck.pdf"), width="1280px", height="720px")
        finally:
            browser.close()
    assert requests and blocked == []
    assert [url for url in requests if not _is_local(url)] == []
