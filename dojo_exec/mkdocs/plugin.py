"""The ``dojo_exec`` MkDocs plugin: a thin adapter over page.py, transcripts.py and render.py.

Hooks: ``on_config`` adds the badge stylesheet; ``on_files`` parses the pages, runs them in
``live`` mode, loads the transcripts and adds the report page and the stylesheet;
``on_page_markdown`` replaces each step; ``on_page_content`` is a last secret check on
the page's HTML; ``on_post_build`` builds the workshop deck (``slides``) into ``site/slides/``.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page as MkDocsPage

from dojo_exec.mkdocs.config import DojoExecConfig
from dojo_exec.mkdocs.render import Issue, fill_fragments, render_page
from dojo_exec.mkdocs.report import render_report
from dojo_exec.page import TAG, Page, PageError, first_h1, parse_page, parse_text
from dojo_exec.slides import FLAG_TEXT, SlideError, build_deck
from dojo_exec.transcripts import Transcript, TranscriptError, find_secrets, load_transcript, redact

log = get_plugin_logger("dojo_exec")
ASSET = Path(__file__).parent / "assets" / "dojo.css"
ASSET_URI = "assets/dojo_exec/dojo.css"
# material's offline plugin loads this Web Worker shim from unpkg.com (search over file://);
# the plugin serves a vendored copy instead, so nothing is fetched from outside
SHIM = Path(__file__).parent / "assets" / "iframe-worker-shim.js"
SHIM_URI = "assets/dojo_exec/iframe-worker-shim.js"


class DojoExecPlugin(BasePlugin[DojoExecConfig]):
    """Render dojo steps with their promise, latest capture and verdict."""

    supports_multiple_instances = False

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.transcripts: dict[str, Transcript | None] = {}
        self.root = Path("transcripts")
        self.fragments: dict[str, dict[str, str]] = {}
        self.marker = f"DOJOEXEC{secrets.token_hex(4)}"  # letters and digits: Markdown keeps it
        self.deck: Path | None = None
        self.vendor = Path(".dojo/vendor")
        self.urls: dict[str, str] = {}  # page path → its URL on the site (slides link to it)

    # -- configuration ------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return bool(self.config.enabled)

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.active:
            return config
        if self.config.mode is False:  # unquoted `mode: off` is a YAML boolean
            self.config.mode = "off"
        base = Path(config.config_file_path or ".").resolve().parent
        self.root = (base / self.config.transcripts).resolve()
        report = self.config.report_page
        if report is True:
            self.config.report_page = "report.md"
        elif isinstance(report, str) and not report.endswith(".md"):
            raise PluginError(f"dojo_exec: report_page must be a .md path or false, got {report!r}")
        if self.config.slides:
            self.deck = (base / self.config.slides).resolve()
            self.vendor = Path(os.environ.get("DOJO_VENDOR") or base / ".dojo" / "vendor")
        if self.config.mode != "off" and ASSET_URI not in config.extra_css:
            config.extra_css.append(ASSET_URI)
        if _offline(config):
            polyfills = [p for p in config.extra.get("polyfills") or [] if "iframe-worker" not in p]
            config.extra["polyfills"] = [*polyfills, SHIM_URI]
        return config

    # -- files: parse, run (live), load, report ------------------------------------------

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if not self.active:
            return files
        self.pages = {}
        self.transcripts = {}
        self._add_slides_page(files, config)
        if _offline(config) and files.get_file_from_path(SHIM_URI) is None:
            files.append(File.generated(config, SHIM_URI, abs_src_path=str(SHIM)))
        for file in files.documentation_pages():
            self.urls[file.src_uri] = file.url
            if not file.abs_src_path:
                continue
            page = self._parse(file.abs_src_path, file.src_uri)
            if page.steps:
                self.pages[file.src_uri] = page
        if self.config.mode == "off":
            self._add_report(files, config, "")
            return files
        if self.config.mode == "live":
            self._run_live(Path(config.docs_dir))
        for uri in self.pages:
            self.transcripts[uri] = self._load(uri)
        order = nav_order(config.nav)
        uris = sorted(self.pages, key=lambda uri: (order.get(uri, len(order)), uri))
        titles = nav_titles(config.nav)
        pages = {uri: (self._title(uri, titles), len(self.pages[uri].steps)) for uri in uris}
        report = render_report(
            pages,
            self.transcripts,
            self._clean_report,
            parsed=self.pages,
            urls=self.urls,
            report_uri=str(self.config.report_page or "report.md"),
        )
        self._add_report(files, config, report)
        if files.get_file_from_path(ASSET_URI) is None:
            files.append(File.generated(config, ASSET_URI, abs_src_path=str(ASSET)))
        return files

    def _add_report(self, files: Files, config: MkDocsConfig, content: str) -> None:
        """The report page (``content``; empty: a page saying results are not shown)."""
        report = self.config.report_page
        if not (isinstance(report, str) and report):
            return
        if files.get_file_from_path(report) is not None:
            raise PluginError(f"dojo_exec: report_page {report!r} exists in the docs dir")
        if not content:
            content = (
                "# Verification report\n\nThis build does not show verification results "
                "(`dojo_exec` plugin, `mode: off`).\n"
            )
        files.append(File.generated(config, report, content=content))

    def _add_slides_page(self, files: Files, config: MkDocsConfig) -> None:
        """The page the nav links to the deck through (the deck itself is not a doc page)."""
        page = self.config.slides_page
        if self.deck is None or not (isinstance(page, str) and page):
            return
        if files.get_file_from_path(page) is not None:
            raise PluginError(f"dojo_exec: slides_page {page!r} exists in the docs dir")
        file = File.generated(config, page, content=SLIDES_PAGE)
        if file.dest_uri.startswith("slides/"):  # use_directory_urls: slides.md → slides/
            raise PluginError(
                f"dojo_exec: slides_page {page!r} would be built into slides/, where the deck "
                "goes: give it another name (slides_page: deck.md)"
            )
        files.append(file)

    def _title(self, uri: str, nav: dict[str, str]) -> str:
        """The page's own title (front matter, first H1), else its nav title, else its name."""
        page = self.pages[uri]
        if "title" in page.meta or first_h1(page.text, page.path) is not None:
            return page.title
        return nav.get(uri, page.title)

    def _parse(self, abs_src_path: str, uri: str) -> Page:
        try:
            text = Path(abs_src_path).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            try:
                parse_page(abs_src_path)  # the parser's message, at the undecodable byte's line
            except PageError as error:
                raise PluginError(f"dojo_exec: {uri}:{error.line}: {error.message}") from None
            raise
        except OSError as error:
            raise PluginError(f"dojo_exec: {uri}: cannot read it: {error.strerror}") from None
        if TAG not in text:  # no step can be there: skip the parse
            return Page(path=Path(abs_src_path), text=text)
        try:
            return parse_text(text, Path(abs_src_path))
        except PageError as error:
            raise PluginError(f"dojo_exec: {uri}:{error.line}: {error.message}") from None

    def _load(self, uri: str) -> Transcript | None:
        try:
            return load_transcript(self.root, uri)
        except TranscriptError as error:
            raise PluginError(f"dojo_exec: {error}") from None

    def _run_live(self, docs_dir: Path) -> None:
        try:
            from dojo_exec.runner import run_pages
        except ImportError as error:
            raise PluginError(
                "dojo_exec: mode 'live' needs dojo_exec.runner.run_pages, which is not "
                f"available ({error}); build with mode: recorded"
            ) from None
        paths = [page.path for page in self.pages.values()]
        log.info("running %d page(s) live; transcripts go to %s", len(paths), self.root)
        run_pages(paths, self.root, docs_root=docs_dir, driver=self.config.driver)

    def _clean_report(self, text: str) -> str:
        if find_secrets(text):
            log.error("report: a transcript field holds a secret; redacted")
            return redact(text)
        return text

    # -- pages ---------------------------------------------------------------------------

    def on_page_markdown(
        self, markdown: str, /, *, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.active:
            return markdown
        uri = page.file.src_uri
        parsed = self.pages.get(uri)
        if parsed is None:
            return markdown
        offset = len(parsed.text) - len(markdown)
        if offset < 0 or parsed.text[offset:] != markdown:
            # another plugin changed the Markdown: parse what we were given
            parsed = self._reparse(markdown, parsed.path, uri)
            offset = 0
        transcript = self.transcripts.get(uri)
        run = transcript.latest if transcript else None
        mode: Literal["recorded", "live", "off"] = self.config.mode  # type: ignore[assignment]
        rendered = render_page(markdown, parsed, offset, run, uri, mode=mode, marker=self.marker)
        for issue in rendered.issues:
            self._report(issue)
        self.fragments[uri] = rendered.fragments
        return rendered.markdown

    def _reparse(self, markdown: str, path: Path, uri: str) -> Page:
        try:
            return parse_text(markdown, path)
        except PageError as error:
            raise PluginError(f"dojo_exec: {uri}:{error.line}: {error.message}") from None

    def _report(self, issue: Issue) -> None:
        text = f"{issue.location}: {issue.message}"
        if issue.kind == "secret":
            log.error(text)
        elif issue.kind == "page-secret":
            log.info(text)
        elif getattr(self.config, issue.kind) == "warn":
            log.warning(text)
        else:
            log.debug(text)

    def on_page_content(
        self, html: str, /, *, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str | None:
        """Put the steps' result HTML in place of their markers, before search indexes the page.

        Filled in here (not after the theme) so that the site's search finds what a step
        printed as well as its command. Nothing token-shaped passes.
        """
        if not self.active:
            return html
        uri = page.file.src_uri
        html, lost = fill_fragments(html, self.fragments.pop(uri, {}))
        if lost:
            log.error("%s: %d step result(s) lost in the Markdown pass", uri, len(lost))
        if not find_secrets(html):
            return html
        level = logging.ERROR if uri == self.config.report_page else logging.INFO
        log.log(level, "%s: token-shaped text in the page; redacted on the site", uri)
        return redact(html)

    def on_post_page(self, output: str, /, *, page: MkDocsPage, config: MkDocsConfig) -> str | None:
        """Check the built page once more: nothing token-shaped leaves the build."""
        if self.active and find_secrets(output):
            log.error("%s: token-shaped text in the built page; redacted", page.file.src_uri)
            return redact(output)
        return output

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Build the deck into ``<site_dir>/slides/``; a step it names that is gone fails."""
        if not self.active or self.deck is None:
            return
        docs, out = Path(config.docs_dir), Path(config.site_dir) / "slides"
        try:
            built = build_deck(
                self.deck, docs, self.root, out, cache=self.vendor, page_url=self._page_url
            )
        except SlideError as error:
            raise PluginError(f"dojo_exec: slides: {error}") from None
        for shown in built.flagged:
            kind = {"stale": "stale", "missing": "missing"}.get(shown.status, "failed")
            level = logging.WARNING if getattr(self.config, kind) == "warn" else logging.DEBUG
            where = f"{self.config.slides}:{shown.ref.line}"
            log.log(level, "%s: slides show %s#%s: %s", where, shown.ref.page, shown.ref.id,
                    FLAG_TEXT[shown.status])  # fmt: skip
        log.info("slides: %d slides, %d steps shown, built in %.2f s", built.slides,
                 len(built.shown), built.seconds)  # fmt: skip

    def _page_url(self, uri: str) -> str:
        url = self.urls.get(uri, uri.removesuffix(".md") + ".html")
        return "../" + url

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        if self.active and self.root.is_dir():
            server.watch(str(self.root))
        if self.active and self.deck is not None and self.deck.parent.is_dir():
            server.watch(str(self.deck.parent))  # a slide changed: rebuild (pages are watched)
        return server


SLIDES_PAGE = """# Slides

The workshop is also a deck:
<a class="md-button md-button--primary" href="slides/index.html">Open the slides</a>

Every command on a slide is a step of these pages, named by its `id=`; the output under it is
the one captured at the last verification, with its verdict, the Docker engine and the
`dojo_exec` version in small print. A step that failed or was edited since is marked.

| Key | |
| --- | --- |
| → or Space | next fragment or slide (a command's output appears after the command) |
| S | speaker view: notes, next slide, timer (a new window) |
| Esc | overview of all slides |
| F | full screen |

To print the deck or save it as PDF, open
<a href="slides/index.html?print-pdf">the print view</a> and print it from the browser.
Everything the deck needs is in the site: it works offline.
"""


def _offline(config: MkDocsConfig) -> bool:
    """Whether material's offline plugin is on (``- offline`` or ``- material/offline``)."""
    return any(name.split("/")[-1] == "offline" for name in config.plugins)


def nav_entries(nav: object) -> list[tuple[str, str | None]]:
    """(page path, nav title or None) of every page in ``mkdocs.yml``'s nav, in order."""
    found: list[tuple[str, str | None]] = []

    def walk(item: object, title: str | None = None) -> None:
        if isinstance(item, str):
            found.append((item, title))
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
