"""The ``dojo_exec`` MkDocs plugin: what only a plugin can do, around the Markdown extension.

The steps are rendered by :mod:`dojo_exec.markdown` (the same extension Zensical and any
Python-Markdown generator run); the plugin configures it and tells it which page it renders
and with which run. Hooks: ``on_config`` sets up the extension (adding it when
``markdown_extensions:`` does not list it) and links the stylesheet; ``on_files`` parses the
pages (a bad page fails the build at its line), runs them in ``live`` mode, loads the
transcripts and adds the report page, the slides page and the stylesheet when the docs do
not have them; ``on_page_markdown`` names the page to the extension, whose issues become
warnings (``--strict``); ``on_page_content`` is a last secret check before search indexes
the page; ``on_post_build`` builds the workshop deck (``slides``) into ``site/slides/``.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page as MkDocsPage

from dojo_exec.markdown.extension import REPORT_START, DojoExtension, Target
from dojo_exec.markdown.render import Issue, revision_date
from dojo_exec.markdown.report import HEADING
from dojo_exec.markdown.site import site_report
from dojo_exec.mkdocs.config import DojoExecConfig
from dojo_exec.page import TAG, Page, PageError, parse_page, parse_text
from dojo_exec.slides import FLAG_TEXT, SlideError, build_deck
from dojo_exec.transcripts import Transcript, TranscriptError, find_secrets, load_transcript, redact

log = get_plugin_logger("dojo_exec")
ASSET = Path(__file__).parent / "assets" / "dojo.css"
EXTENSION = "dojo_exec.markdown"
ASSET_URI = "assets/dojo_exec/dojo.css"
# material's offline plugin loads this Web Worker shim from unpkg.com (search over file://);
# the plugin serves a vendored copy instead, so nothing is fetched from outside
SHIM = Path(__file__).parent / "assets" / "iframe-worker-shim.js"
SHIM_URI = "assets/dojo_exec/iframe-worker-shim.js"
# what material's search does to a page's HTML after indexing it (it would do it to ours)
SEARCH_ATTRIBUTES = re.compile(r"\s?data-search-\w+=\"[^\"]+\"")


class DojoExecPlugin(BasePlugin[DojoExecConfig]):
    """Render dojo steps with their promise, latest capture and verdict."""

    supports_multiple_instances = False

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.transcripts: dict[str, Transcript | None] = {}
        self.root = Path("transcripts")
        self.extension = DojoExtension()
        self.deck: Path | None = None
        self.vendor = Path(".dojo/vendor")
        self.urls: dict[str, str] = {}  # page path → its URL on the site (slides link to it)
        self.searched: dict[str, tuple[str, str]] = {}  # page path → (its HTML, searched HTML)
        self.shown: dict[str, str] = {}  # page path → its HTML while search sees the other

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
        self._setup_extension(config, base)
        if self.config.mode != "off" and ASSET_URI not in config.extra_css:
            config.extra_css.append(ASSET_URI)
        if _offline(config):
            polyfills = [p for p in config.extra.get("polyfills") or [] if "iframe-worker" not in p]
            config.extra["polyfills"] = [*polyfills, SHIM_URI]
        return config

    def _setup_extension(self, config: MkDocsConfig, base: Path) -> None:
        """The ``dojo_exec.markdown`` entry of ``markdown_extensions`` (added when missing)
        becomes one instance the plugin talks to; both must name the same transcripts."""
        options = dict(config.mdx_configs.pop(EXTENSION, {}) or {})
        named = options.get("transcripts")
        if named is not None and (base / str(named)).resolve() != self.root:
            raise PluginError(
                f"dojo_exec: the plugin reads transcripts from {self.config.transcripts!r}, "
                f"the {EXTENSION} extension from {named!r}: name one folder"
            )
        options.update(transcripts=str(self.root), mode=self.config.mode, styles=False)
        self.extension = DojoExtension(**options)
        self.extension.sink = self._report
        entries = [e for e in config.markdown_extensions if e != EXTENSION]
        config.markdown_extensions = [*entries, self.extension]

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
        self._add_report(files, config)
        if self.config.mode == "off":
            return files
        if self.config.mode == "live":
            self._run_live(Path(config.docs_dir))
        for uri in self.pages:
            self.transcripts[uri] = self._load(uri)
        report = str(self.config.report_page or "report.md")
        self.extension.site = site_report(
            self.pages, self.transcripts, config.nav, self.urls, report
        )
        if files.get_file_from_path(ASSET_URI) is None:
            files.append(File.generated(config, ASSET_URI, abs_src_path=str(ASSET)))
        return files

    def _add_report(self, files: Files, config: MkDocsConfig) -> None:
        """The report page: the docs' own (its marked region filled by the extension), else
        a generated one that is all region."""
        report = self.config.report_page
        if not (isinstance(report, str) and report):
            return
        own = files.get_file_from_path(report)
        if own is None:
            content = f"{HEADING}\n\n{REPORT_START}\n"
            files.append(File.generated(config, report, content=content))
        elif REPORT_START not in own.content_string:
            raise PluginError(
                f"dojo_exec: report_page {report!r} exists in the docs dir without a "
                f"{REPORT_START} line for the report: add one, or name another page"
            )

    def _add_slides_page(self, files: Files, config: MkDocsConfig) -> None:
        """The page the nav links to the deck through (the deck itself is not a doc page)."""
        page = self.config.slides_page
        if self.deck is None or not (isinstance(page, str) and page):
            return
        own = files.get_file_from_path(page)  # the docs' own (for generators without plugins)
        file = own or File.generated(config, page, content=SLIDES_PAGE)
        if file.dest_uri.startswith("slides/"):  # use_directory_urls: slides.md → slides/
            raise PluginError(
                f"dojo_exec: slides_page {page!r} would be built into slides/, where the deck "
                "goes: give it another name (slides_page: deck.md)"
            )
        if own is None:
            files.append(file)

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

    # -- pages ---------------------------------------------------------------------------

    def on_page_markdown(
        self, markdown: str, /, *, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str | None:
        """Name the page to the extension, which renders its steps in the Markdown pass."""
        if not self.active:
            return markdown
        uri = page.file.src_uri
        target = Target(uri, self.pages.get(uri), self.transcripts.get(uri))
        if target.run is not None and target.page is not None and target.page.steps:
            page.meta.setdefault("revision_date", revision_date(target.run))  # "last update"
        self.extension.target = target
        return markdown

    def _report(self, issue: Issue) -> None:
        text = f"{issue.location}: {issue.message}"
        if issue.kind in ("secret", "error"):
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
        """Nothing token-shaped passes into the page (or the search index built from it)."""
        if not self.active:
            return html
        uri = page.file.src_uri
        if self.extension.marker in html:
            log.error("%s: step result(s) lost in the Markdown pass", uri)
        searched, self.extension.searched_html = self.extension.searched_html, None
        if find_secrets(html):
            level = logging.ERROR if uri == self.config.report_page else logging.INFO
            log.log(level, "%s: token-shaped text in the page; redacted on the site", uri)
            html = redact(html)
            searched = redact(searched) if searched is not None else None
        if searched is not None:
            self.searched[uri] = (html, searched)
        return html

    @event_priority(100)  # before the search plugins (priority 0) index the page
    def _index_results_as_text(
        self, context: Any, /, *, page: MkDocsPage, config: MkDocsConfig, nav: Any
    ) -> Any:
        """Search indexes each step's result as its text, not its tabs and badges.

        Search plugins parse ``page.content`` in ``on_page_context``; a step's result is
        ~20 tags of which search keeps only the text, and parsing them was most of the
        plugin's cost in a build.  The page's HTML comes back right after them.
        """
        uri = page.file.src_uri
        entry = self.searched.pop(uri, None)
        if entry is not None and page.content == entry[0]:
            self.shown[uri], page.content = entry
        return context

    @event_priority(-100)  # after the search plugins
    def _restore_results(
        self, context: Any, /, *, page: MkDocsPage, config: MkDocsConfig, nav: Any
    ) -> Any:
        uri = page.file.src_uri
        shown = self.shown.pop(uri, None)
        if shown is not None:
            page.content = SEARCH_ATTRIBUTES.sub("", shown)  # as material's search leaves it
        return context

    on_page_context = CombinedEvent(_index_results_as_text, _restore_results)

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
