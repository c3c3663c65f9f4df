"""The Python-Markdown extension: each step becomes its command, verdict and captured output.

A preprocessor (before whitespace normalisation, so the text is the page's own) replaces
every step with its command fence and a one-word marker, and fills the report page's
marked region; a postprocessor puts each step's result HTML in place of its marker.

Which page is being rendered, and its recorded run, comes from a plugin that says so
(:attr:`DojoExtension.target`, the MkDocs plugin), else from Zensical's rendering context,
else nobody: then every step is shown as not verified, never as verified.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from dojo_exec.freshness import engine_freshness
from dojo_exec.markdown.render import (
    Issue,
    fill_fragments,
    render_page,
    revision_date,
    unrendered,
)
from dojo_exec.markdown.report import render_report
from dojo_exec.markdown.site import SiteReport, page_url, scan_site
from dojo_exec.page import TAG, Page, PageError, parse_text
from dojo_exec.transcripts import (
    RunRecord,
    Transcript,
    TranscriptError,
    find_secrets,
    load_transcript,
    redact,
)

log = logging.getLogger("dojo_exec")
STYLESHEET = Path(__file__).parents[1] / "mkdocs" / "assets" / "dojo.css"
REPORT_START = "<!-- dojo_exec: report -->"
REPORT_END = "<!-- /dojo_exec: report -->"
OFF_REPORT = "This build does not show verification results (`dojo_exec`, `mode: off`)."
Mode = Literal["recorded", "live", "off"]
_REPORTED: set[str] = set()  # option problems already reported by this process


@dataclass(frozen=True)
class Target:
    """The page being rendered: its path in the docs dir, its parsed source (front matter
    included; None: parse the Markdown given) and its recorded runs."""

    uri: str
    page: Page | None
    transcript: Transcript | None

    @property
    def run(self) -> RunRecord | None:
        """The run the page shows: its newest, whatever the engine."""
        return self.transcript.latest if self.transcript else None


@dataclass(frozen=True)
class Located:
    """Where a page sits when no plugin says: the generator's folders, nav and URL style."""

    uri: str | None
    docs: Path
    base: Path  # relative transcript folders start here
    nav: object = None
    directory_urls: bool = False
    meta: dict[str, Any] | None = None  # the page's metadata, which the theme reads


@dataclass
class _PageState:
    fragments: dict[str, str] = field(default_factory=dict)
    searched: dict[str, str] = field(default_factory=dict)
    styled: bool = False
    uri: str = "<page>"


def _log_issue(issue: Issue) -> None:
    """Where issues go when no plugin takes them: Python's logging, as warnings."""
    text = f"dojo_exec: {issue.location}: {issue.message}"
    if issue.kind in ("secret", "error"):
        log.error(text)
    elif issue.kind == "page-secret":
        log.info(text)
    else:
        log.warning(text)


class DojoExtension(Extension):
    """``dojo_exec.markdown``: options ``transcripts``, ``docs``, ``mode``, ``styles``."""

    def __init__(self, **kwargs: Any) -> None:
        self.config = {
            "transcripts": [
                "transcripts",
                "folder of the recorded runs, relative to the config file's folder "
                "(Zensical) or the working directory",
            ],
            "docs": ["docs", "the pages' folder, when the generator does not say"],
            "mode": ["recorded", "recorded: steps with their results; off: commands only"],
            "styles": [True, "put the stylesheet in each page that shows results"],
        }
        unknown = sorted(set(kwargs) - set(self.config))
        super().__init__(**{key: value for key, value in kwargs.items() if key in self.config})
        self.problems = [  # a bad option is an error line, never a traceback in a build
            f"unknown option {key!r} (options: {', '.join(self.config)})" for key in unknown
        ]
        if self.getConfig("mode") not in ("recorded", "live", "off", False):
            self.problems.append(
                f"mode must be recorded or off, got {self.getConfig('mode')!r}: "
                "steps are shown without results"
            )
            self.setConfig("mode", "off")
        self.target: Target | None = None  # set by a plugin before each page
        self.site: SiteReport | None = None  # set by a plugin: the report's inputs
        self.sink: Callable[[Issue], None] = _log_issue
        self.marker = f"DOJOEXEC{secrets.token_hex(4)}"  # letters and digits: Markdown keeps it
        # the last page's HTML with each result as its searched text (a plugin indexes that)
        self.searched_html: str | None = None

    @property
    def mode(self) -> Mode:
        mode = self.getConfig("mode")
        return "off" if mode is False else mode  # unquoted `mode: off` is a YAML boolean

    def extendMarkdown(self, md: Markdown) -> None:
        for problem in self.problems:  # once per build, not once per page
            if problem not in _REPORTED:
                _REPORTED.add(problem)
                self.sink(Issue("error", "markdown_extensions: dojo_exec.markdown", problem))
        self.problems = []
        md.registerExtension(self)
        state = _PageState()
        md.preprocessors.register(StepsPreprocessor(md, self, state), "dojo_exec", 35)
        md.postprocessors.register(ResultsPostprocessor(md, self, state), "dojo_exec", 25)

    # -- where the page is --------------------------------------------------------------

    def locate(self, md: Markdown) -> Located:
        """The page's place from Zensical's rendering context, else the options alone."""
        found = "rendering_context" in md.preprocessors
        context = md.preprocessors["rendering_context"] if found else None
        page, config = getattr(context, "page", None), getattr(context, "config", None)
        if page is not None and isinstance(config, dict):
            base = Path(str(config.get("root_dir") or "."))
            return Located(
                uri=str(page.path),
                docs=base / str(config.get("docs_dir") or "docs"),
                base=base,
                nav=config.get("nav"),
                directory_urls=bool(config.get("use_directory_urls")),
                meta=page.meta if isinstance(getattr(page, "meta", None), dict) else None,
            )
        return Located(uri=None, docs=Path(self.getConfig("docs")), base=Path.cwd())

    def transcripts(self, base: Path) -> Path:
        return (base / str(self.getConfig("transcripts"))).resolve()

    def resolve(self, where: Located, text: str) -> Target:
        """The page and its latest run, read from the docs dir and the transcripts."""
        if where.uri is None:
            return Target("<page>", None, None)
        path = where.docs / where.uri
        try:
            source = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return Target(where.uri, None, None)
        page = parse_text(source, path) if TAG in source else None
        try:
            transcript = load_transcript(self.transcripts(where.base), where.uri)
        except TranscriptError as error:
            self.sink(Issue("error", where.uri, str(error)))
            transcript = None
        return Target(where.uri, page, transcript)

    def report(self, where: Located, uri: str) -> SiteReport:
        if self.site is not None:
            return self.site
        return scan_site(
            where.docs,
            self.transcripts(where.base),
            where.nav,
            uri,
            directory_urls=where.directory_urls,
            error=lambda message: self.sink(Issue("error", uri, message)),
        )


class StepsPreprocessor(Preprocessor):
    """Steps → command fences and markers; the report's region → the report."""

    def __init__(self, md: Markdown, ext: DojoExtension, state: _PageState) -> None:
        super().__init__(md)
        self.ext, self.state = ext, state

    def run(self, lines: list[str]) -> list[str]:
        ext, target = self.ext, self.ext.target
        self.ext.target = None  # one page each
        self.state.fragments, self.state.searched, self.state.styled = {}, {}, False
        ext.searched_html = None
        text = "\n".join(lines)
        where = None if target else ext.locate(self.md)
        if REPORT_START in text:
            uri = target.uri if target else (where.uri if where else None) or "report.md"
            text = self._report(text, where or ext.locate(self.md), uri)
        if TAG not in text:
            return text.split("\n")
        try:
            if target is None:
                assert where is not None
                target = ext.resolve(where, text)
            page, offset = _source(target, text, where)
        except PageError as error:
            uri = target.uri if target else (where and where.uri) or "<page>"
            ext.sink(Issue("error", f"{uri}:{error.line}", error.message))
            return unrendered(text).split("\n")
        if not page.steps:
            return text.split("\n")
        if target.uri == "<page>":
            message = "the generator does not say which page this is: steps shown as not verified"
            ext.sink(Issue("missing", target.uri, message))
        judged = engine_freshness(page, target.transcript)
        passed_on = {
            step.index: [e for e, j in judged.items() if j.outcomes[step.index].status == "passed"]
            for step in page.steps
        }
        rendered = render_page(
            text,
            page,
            offset,
            target.run,
            target.uri,
            mode=ext.mode,
            marker=ext.marker,
            passed_on=passed_on,
        )
        for issue in rendered.issues:
            ext.sink(issue)
        if where is not None and where.meta is not None and target.run is not None:
            where.meta.setdefault("revision_date", revision_date(target.run))
        self.state.fragments, self.state.uri = rendered.fragments, target.uri
        self.state.searched = rendered.searched
        self.state.styled = ext.mode != "off"
        return rendered.markdown.split("\n")

    def _report(self, text: str, where: Located, uri: str) -> str:
        start = text.index(REPORT_START)
        end = text.find(REPORT_END, start)
        end = start + len(REPORT_START) if end < 0 else end + len(REPORT_END)
        if self.ext.mode == "off":
            body = OFF_REPORT
        else:
            site = self.ext.report(where, uri)
            urls = site.urls or {u: page_url(u, where.directory_urls) for u in site.pages}
            body = render_report(
                site.pages,
                site.transcripts,
                lambda value: self._clean(value, uri),
                parsed=site.parsed,
                urls=urls,
                report_uri=uri,
                heading=False,
            )
            self.state.styled = True
        return text[:start] + body + text[end:]

    def _clean(self, value: str, uri: str) -> str:
        if not find_secrets(value):
            return value
        self.ext.sink(Issue("secret", uri, "a transcript field holds a secret; redacted"))
        return redact(value)


def _source(target: Target, text: str, where: Located | None) -> tuple[Page, int]:
    """The parsed page whose text ends with ``text`` (the Markdown given, front matter
    removed), and where ``text`` starts in it; the Markdown itself when it was changed."""
    page = target.page
    if page is not None:
        offset = len(page.text) - len(text)
        if offset >= 0 and page.text[offset:] == text:
            return page, offset
        path = page.path
    else:
        docs = where.docs if where else Path("docs")
        path = docs / (target.uri if target.uri != "<page>" else "page.md")
    return parse_text(text, path), 0


class ResultsPostprocessor(Postprocessor):
    """Each step's result HTML in place of its marker; the stylesheet where results show."""

    def __init__(self, md: Markdown, ext: DojoExtension, state: _PageState) -> None:
        super().__init__(md)
        self.ext, self.state = ext, state

    def run(self, text: str) -> str:
        """Runs on the page, and before it on each heading's text (``toc`` does that): the
        page is the text with the markers in it."""
        fragments = self.state.fragments
        if not any(word in text for word in fragments):
            return text
        self.state.fragments = {}
        html, lost = fill_fragments(text, fragments)
        self.ext.searched_html, _ = fill_fragments(text, self.state.searched)
        if lost:
            message = f"{len(lost)} step result(s) lost in the Markdown pass"
            self.ext.sink(Issue("error", self.state.uri, message))
        if self.state.styled and self.ext.getConfig("styles"):
            html = f"<style>{STYLESHEET.read_text(encoding='utf-8')}</style>\n{html}"
        return html
