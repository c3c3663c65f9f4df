"""The site around the page being rendered: its pages in nav order, their titles, URLs and
transcripts, for the report page; read from the generator's config when no plugin says.

No generator objects here: a nav is MkDocs' raw ``nav:`` list (``- Title: page.md``) or
Zensical's resolved one (``{"title": …, "url": "page.md", "children": […]}``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dojo_exec.page import TAG, Page, PageError, first_h1, parse_text
from dojo_exec.transcripts import Transcript, TranscriptError, load_transcript


@dataclass(frozen=True)
class SiteReport:
    """What the report page lists: pages (path → title, step count) in the reader's order,
    their parsed steps, transcripts and URLs, and where the report itself is."""

    pages: dict[str, tuple[str, int]]
    parsed: dict[str, Page]
    transcripts: dict[str, Transcript | None]
    urls: dict[str, str]
    report_uri: str


def nav_entries(nav: object) -> list[tuple[str, str | None]]:
    """(page path, nav title or None) of every page in a nav, in order."""
    found: list[tuple[str, str | None]] = []

    def walk(item: object, title: str | None = None) -> None:
        if isinstance(item, str):
            found.append((item, title))
        elif isinstance(item, dict) and "children" in item and "title" in item:  # Zensical
            url = item.get("url")
            if isinstance(url, str) and url.endswith(".md"):
                found.append((url, str(item["title"]) if item["title"] else None))
            walk(item["children"])
        elif isinstance(item, dict):
            for key, value in item.items():
                walk(value, str(key))
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(nav)
    return found


def nav_order(nav: object) -> dict[str, int]:
    """Page path → position in the nav (the report follows the reader's order)."""
    order: dict[str, int] = {}
    for path, _ in nav_entries(nav):
        order.setdefault(path, len(order))
    return order


def nav_titles(nav: object) -> dict[str, str]:
    """Page path → its title in the nav (``- Title: page.md``)."""
    titles: dict[str, str] = {}
    for path, title in nav_entries(nav):
        if title is not None:
            titles.setdefault(path, title)
    return titles


def page_url(uri: str, directory_urls: bool) -> str:
    """A page's URL on the site, as MkDocs and Zensical make it."""
    stem = uri.removesuffix(".md")
    name = posixpath.basename(stem)
    if not directory_urls:
        return stem + ".html"
    if name in ("index", "README"):
        parent = posixpath.dirname(stem)
        return parent + "/" if parent else ""
    return stem + "/"


def page_title(page: Page, nav: Mapping[str, str], uri: str) -> str:
    """The page's own title (front matter, first H1), else its nav title, else its name."""
    if "title" in page.meta or first_h1(page.text, page.path) is not None:
        return page.title
    return nav.get(uri, page.title)


def site_report(
    parsed: Mapping[str, Page],
    transcripts: Mapping[str, Transcript | None],
    nav: object,
    urls: Mapping[str, str],
    report_uri: str,
) -> SiteReport:
    """The report's inputs: the pages with steps in nav order (then by path)."""
    order, titles = nav_order(nav), nav_titles(nav)
    uris = sorted(parsed, key=lambda uri: (order.get(uri, len(order)), uri))
    return SiteReport(
        pages={uri: (page_title(parsed[uri], titles, uri), len(parsed[uri].steps)) for uri in uris},
        parsed={uri: parsed[uri] for uri in uris},
        transcripts={uri: transcripts.get(uri) for uri in uris},
        urls=dict(urls),
        report_uri=report_uri,
    )


def scan_site(
    docs: Path,
    root: Path,
    nav: object,
    report_uri: str,
    *,
    directory_urls: bool = False,
    error: Callable[[str], None],
) -> SiteReport:
    """Every page under ``docs`` with steps, parsed, with its transcript from ``root``;
    ``error`` gets a one-line message for a page or transcript that cannot be read."""
    parsed: dict[str, Page] = {}
    transcripts: dict[str, Transcript | None] = {}
    urls: dict[str, str] = {}
    for path in sorted(docs.rglob("*.md")):
        uri = path.relative_to(docs).as_posix()
        urls[uri] = page_url(uri, directory_urls)
        try:
            text = path.read_text(encoding="utf-8-sig")
            if TAG not in text:
                continue
            page = parse_text(text, path)
        except PageError as problem:
            error(f"{uri}:{problem.line}: {problem.message}")
            continue
        except (OSError, UnicodeDecodeError) as problem:
            error(f"{uri}: cannot read it: {problem}")
            continue
        if not page.steps:
            continue
        parsed[uri] = page
        try:
            transcripts[uri] = load_transcript(root, uri)
        except TranscriptError as problem:
            error(str(problem))
            transcripts[uri] = None
    return site_report(parsed, transcripts, nav, urls, report_uri)
