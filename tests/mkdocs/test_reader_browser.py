"""The dojo's own site as a reader meets it, in Chromium at desktop and phone sizes.

Each step's captured output is visible without a click; the phone never scrolls sideways;
every badge's contrast, computed from the rendered colours, is at least 4.5:1 (WCAG AA);
the keyboard sees where it is; the footer leads to the next page; search works from
``file://``; nothing is requested from any host but the local one. Screenshots of every
page go to ``test-artifacts/site/`` (desktop, phone, and desktop in dark mode).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    assert_first_search_result,
    chromium,
    project_server,
    project_site,
    server,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "site"
PAGES = [
    "index",
    "setup",
    "swarm",
    "service",
    "rolling-update",
    "stack",
    "routing-mesh",
    "scheduling",
    "managers",
    "next-steps",
    "report",
]
STEP_PAGES = PAGES[1:-1]
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
AA = 4.5


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: tuple[float, float, float], bg: tuple[float, float, float]) -> float:
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rgb(css: str) -> tuple[float, float, float]:
    """``rgb(1, 2, 3)`` / ``rgba(1, 2, 3, 1)`` → (1, 2, 3)."""
    values = css[css.index("(") + 1 : css.index(")")].replace(",", " ").split()
    assert len(values) == 3 or float(values[3]) == 1, f"translucent colour {css}"
    return float(values[0]), float(values[1]), float(values[2])


BADGE_COLOURS = """() => [...document.querySelectorAll('.dojo-badge')].map(b => {
    const style = getComputedStyle(b);
    return [b.className, b.textContent, style.color, style.backgroundColor];
})"""

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

# code blocks whose copy button lies over the code's box (hence over a long line's text)
COVERED = """() => [...document.querySelectorAll('pre > .md-code__nav')].filter(nav => {
    const button = nav.getBoundingClientRect();
    const code = nav.parentElement.querySelector('code').getBoundingClientRect();
    return button.width > 0 && button.left < code.right - 0.5;
}).map(nav => nav.parentElement.textContent.slice(0, 60))"""


def _watch(page: Page, seen: list[str]) -> None:
    page.on("request", lambda request: seen.append(request.url))


def _outside(seen: list[str], origin: str) -> list[str]:
    return [url for url in seen if urlsplit(url).netloc not in (origin, "")]


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_page_as_a_reader_sees_it(
    chromium: Browser,  # noqa: F811
    project_server: str,  # noqa: F811
    size: str,
) -> None:
    width, height = VIEWPORTS[size]
    SHOTS.mkdir(parents=True, exist_ok=True)
    seen: list[str] = []
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    _watch(page, seen)
    ratios: dict[str, float] = {}
    try:
        for name in PAGES:
            page.goto(f"{project_server}/{name}.html", wait_until="networkidle")
            assert page.locator("html").get_attribute("lang") == "en"
            if size == "phone":
                assert page.evaluate(OVERFLOW) <= 0, f"{name}: the phone scrolls sideways"
            assert page.evaluate(COVERED) == [], f"{name}: a copy button covers code"
            if name in STEP_PAGES:
                # the first step that printed something shows it, with its verdict, unclicked
                result = page.locator(".dojo-result:has(.tabbed-set)").first
                captured = result.locator(".tabbed-block").first
                result.scroll_into_view_if_needed()
                assert result.locator("label").first.inner_text() == "Captured"
                assert captured.is_visible() and captured.inner_text().strip()
                assert result.locator(".dojo-badge").first.is_visible()
                # a step that printed nothing is one line: no tabs, no empty block
                for silent in page.locator(".dojo-result:has(.dojo-meta:text('no output'))").all():
                    assert silent.locator(".tabbed-set, pre").count() == 0
            for cls, text, fg, bg in page.evaluate(BADGE_COLOURS):
                ratio = contrast(_rgb(fg), _rgb(bg))
                assert ratio >= AA, f"{name}: badge {text!r} ({cls}) {fg} on {bg}: {ratio:.2f}:1"
                kind = cls.split("--")[-1]
                ratios[kind] = min(ratios.get(kind, 99.0), ratio)
            page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    finally:
        context.close()
    assert ratios, "no badge found"
    (SHOTS / f"contrast-{size}.txt").write_text(
        "".join(f"{kind} {ratio:.2f}:1\n" for kind, ratio in sorted(ratios.items()))
    )
    assert _outside(seen, urlsplit(project_server).netloc) == []


def test_dark_mode_toggle_and_badges(
    chromium: Browser,  # noqa: F811
    project_server: str,  # noqa: F811
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{project_server}/service.html", wait_until="networkidle")
        before = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
        page.locator("label.md-header__button[for^='__palette']:visible").first.click()
        after = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
        assert {before, after} == {"default", "slate"}
        for _, text, fg, bg in page.evaluate(BADGE_COLOURS):
            assert contrast(_rgb(fg), _rgb(bg)) >= AA, text
        page.screenshot(path=str(SHOTS / "service-dark.png"))
    finally:
        context.close()


def test_footer_leads_to_the_next_page_and_back_to_top(
    chromium: Browser,  # noqa: F811
    project_server: str,  # noqa: F811
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{project_server}/setup.html", wait_until="networkidle")
        following = page.locator("a.md-footer__link--next")
        assert "Create a swarm" in following.inner_text()
        following.click()
        page.wait_for_load_state()
        assert page.url.endswith("/swarm.html")
        previous = page.locator("a.md-footer__link--prev")
        assert (previous.get_attribute("href") or "").endswith("setup.html")
        page.mouse.wheel(0, 4000)  # down, then a little up: material shows "back to top"
        page.wait_for_timeout(300)
        page.mouse.wheel(0, -300)
        top = page.locator(".md-top")
        top.wait_for(state="visible", timeout=5_000)
        top.click()
        page.wait_for_function("() => window.scrollY === 0", timeout=5_000)
    finally:
        page.close()


def test_keyboard_focus_is_visible_and_steps_cost_few_tab_stops(
    chromium: Browser,  # noqa: F811
    project_server: str,  # noqa: F811
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{project_server}/service.html", wait_until="networkidle")
        radios = page.locator(".dojo-result .tabbed-set > input")
        radios.first.focus()
        page.keyboard.press("Tab")  # into the page, then back: focus-visible as a keyboard user
        page.keyboard.press("Shift+Tab")
        label = page.locator(".dojo-result .tabbed-labels > label").first
        assert label.evaluate("l => getComputedStyle(l).outlineStyle") == "solid"
        # from one step's tabs to the next step's: the command's copy button and the tabs
        stops = []
        for _ in range(3):
            count = 0
            while True:
                page.keyboard.press("Tab")
                count += 1
                focused = page.evaluate(
                    "() => document.activeElement.matches('.dojo-result .tabbed-set > input')"
                )
                if focused or count > 10:
                    break
            stops.append(count)
        assert all(count <= 3 for count in stops), stops
    finally:
        page.close()


def test_report_links_reach_the_steps_and_fit_a_phone(
    chromium: Browser,  # noqa: F811
    project_server: str,  # noqa: F811
) -> None:
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(f"{project_server}/report.html", wait_until="networkidle")
        assert page.evaluate(OVERFLOW) <= 0
        summary = page.locator(".dojo-summary").inner_text()
        assert "page(s)" in summary and "step(s)" in summary and "Docker engine" in summary
        assert page.locator("table.dojo-report").first.is_visible()  # page × engine
        for link in page.locator(".dojo-attention a").all():  # every step to look at
            href = link.get_attribute("href") or ""
            target = href.split("#")[1] if "#" in href else ""
            link.click()
            page.wait_for_load_state()
            if target:
                assert page.locator(f"[id='{target}']").count() == 1
            page.go_back()
    finally:
        page.close()


def test_search_works_from_file_urls(chromium: Browser, project_site: Path) -> None:  # noqa: F811
    """Opened from disk: the search box is there and finds a word only a capture prints."""
    seen: list[str] = []
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    _watch(page, seen)
    try:
        page.goto((project_site / "index.html").as_uri(), wait_until="load")
        search = page.locator("input.md-search__input")
        assert search.count() == 1
        search.click()
        search.press_sequentially("Generating")  # only the captured create outputs say it
        assert_first_search_result(page, "setup.html")
    finally:
        page.close()
    assert [url for url in seen if not url.startswith(("file://", "data:", "blob:"))] == []


def test_every_kind_of_badge_meets_aa(chromium: Browser, server: str) -> None:  # noqa: F811
    """The sample site has a badge of each verdict (the dojo's own pages all passed)."""
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    ratios: dict[str, float] = {}
    try:
        for name in ("swarm", "unrecorded", "report"):
            page.goto(f"{server}/{name}.html", wait_until="networkidle")
            for cls, text, fg, bg in page.evaluate(BADGE_COLOURS):
                ratio = contrast(_rgb(fg), _rgb(bg))
                assert ratio >= AA, f"{name}: badge {text!r} ({cls}) {fg} on {bg}: {ratio:.2f}:1"
                kind = cls.split("--")[-1]
                ratios[kind] = min(ratios.get(kind, 99.0), ratio)
    finally:
        page.close()
    assert {"passed", "failed", "timeout", "skipped", "missing"} <= set(ratios), ratios
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "contrast-every-badge.txt").write_text(
        "".join(f"{kind} {ratio:.2f}:1\n" for kind, ratio in sorted(ratios.items()))
    )


def test_short_outputs_stand_beside_their_promise_on_a_wide_screen(
    chromium: Browser,  # noqa: F811
    project_server: str,  # noqa: F811
) -> None:
    """Desktop: a short capture and its promise are both open, side by side, captured
    first; a wide one keeps its tabs. Phone: every step has tabs, the capture open."""
    pairs = 0
    for size, (width, height) in VIEWPORTS.items():
        page = chromium.new_page(viewport={"width": width, "height": height})
        try:
            page.goto(f"{project_server}/service.html", wait_until="networkidle")
            results = page.locator(".dojo-result:has(.tabbed-set)").all()
            for result in results:
                blocks = result.locator(".tabbed-block")
                paired = result.locator(".dojo-pair").count() == 1
                if size == "desktop" and paired:
                    result.scroll_into_view_if_needed()
                    left, right = blocks.nth(0).bounding_box(), blocks.nth(1).bounding_box()
                    assert left and right and blocks.nth(1).is_visible()
                    assert left["y"] == right["y"] and left["x"] + left["width"] <= right["x"]
                    pairs += 1
                else:
                    assert blocks.nth(0).is_visible()
                    assert [blocks.nth(i).is_visible() for i in range(1, blocks.count())] == [
                        False
                    ] * (blocks.count() - 1)
        finally:
            page.close()
    assert pairs >= 2
