"""The workshop deck: Markdown slides → a reveal.js presentation, offline, built with the site.

A deck is one Markdown file (``slides/deck.md``): optional YAML front matter (``title``),
then slides separated by lines of ``---``. In a slide:

- the lines after a line ``Note:`` are the speaker notes (every slide must have some);
- a line ``[[step PAGE#ID]]`` (optionally ``lines=N``: show the first N lines of output) shows
  the step of ``PAGE`` (relative to the docs dir) whose fence says ``id=ID``: its command, then,
  as a fragment revealed by the next key press, its last captured output from the page's
  transcript, with verdict, engine and ``dojo_exec`` version in small print. Nothing is
  copied into the deck; a step that is gone is an error naming the slide and the id, a step
  whose latest run failed or that was edited since is marked on the slide;
- ``{: .fragment}`` after a paragraph or list item (``attr_list``) reveals it on a key press;
- images are files beside the deck (``![Raft](raft.svg)``), copied with it.

reveal.js comes from the npm registry at build time (``npm pack``, checked against a pinned
integrity hash, kept in a cache) and is copied into the output folder with the deck, so the
presentation loads nothing from elsewhere; the theme's fonts are inlined in its stylesheet.
``DOJO_REVEAL_TGZ`` names a reveal.js tarball to use instead of asking npm.

``python -m dojo_exec.slides`` builds the deck alone; the MkDocs plugin builds it into
``site/slides/`` after the site (option ``slides``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import markdown
import yaml

from dojo_exec import spawn
from dojo_exec.display import format_date
from dojo_exec.freshness import Status, match_records
from dojo_exec.locations import display_path
from dojo_exec.markdown.render import BADGE_TEXT
from dojo_exec.page import Page, PageError, Step, parse_page, split_front_matter
from dojo_exec.transcripts import (
    RunRecord,
    StepRecord,
    TranscriptError,
    find_secrets,
    load_transcript,
    redact,
)
from dojo_exec.verdicts import FINE

REVEAL_VERSION = "6.0.2"
REVEAL_INTEGRITY = (  # ``npm view reveal.js@6.0.2 dist.integrity``
    "sha512-JYIg5D9aoxoaLeb84O+OvAwsKWdIavVgEDScx"
    "tYEXFCT6t6TQrhNtSgogcjdCpdLsWglhJn3zyE3fUOwiH5KEg=="
)
#: what the deck needs from the package (``package/`` + each), copied to ``<out>/reveal/``
REVEAL_FILES = (
    "LICENSE",
    "dist/reset.css",
    "dist/reveal.css",
    "dist/reveal.js",
    "dist/theme/white.css",
    "dist/plugin/notes.js",
)
DECK_CSS = Path(__file__).parent / "mkdocs" / "assets" / "slides.css"
ASSET_SUFFIXES = frozenset({".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".css"})

_SEPARATOR = re.compile(r"^---[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_NOTE = re.compile(r"^Note:[ \t]*(?P<rest>.*)$")
_REF = re.compile(
    r"^[ \t]*\[\[step[ \t]+(?P<page>[^\s#\]]+)#(?P<id>[^\s\]]*)(?P<opts>[^\]]*)\]\][ \t]*$"
)
_HEADING = re.compile(r"^#{1,6}[ \t]+(?P<title>.+?)[ \t#]*$")


class SlideError(Exception):
    """A deck that cannot be built; ``str()`` is one line naming the deck file and line."""


@dataclass(frozen=True)
class StepRef:
    """``[[step PAGE#ID lines=N]]`` in a slide."""

    page: str
    id: str
    line: int  # in the deck file
    lines: int | None = None


@dataclass
class Slide:
    number: int  # 1-based
    line: int  # of its first line in the deck file
    body: str
    notes: str
    refs: list[StepRef] = field(default_factory=list)

    @property
    def title(self) -> str:
        for text in self.body.splitlines():
            found = _HEADING.match(text.strip())
            if found:
                return re.sub(r"[`*]", "", found["title"])
        return f"slide {self.number}"

    @property
    def label(self) -> str:
        return f"slide {self.number} ({self.title})"


@dataclass(frozen=True)
class Shown:
    """A referenced step with the record the slide shows (None: never recorded)."""

    ref: StepRef
    step: Step
    record: StepRecord | None
    status: Status
    run: RunRecord | None

    @property
    def flagged(self) -> bool:
        return self.status not in FINE


@dataclass
class Built:
    """What one build of the deck made and read."""

    out: Path
    slides: int
    shown: list[Shown]
    pages: list[Path]  # the pages the deck refers to (watched by ``mkdocs serve``)
    seconds: float

    @property
    def flagged(self) -> list[Shown]:
        return [shown for shown in self.shown if shown.flagged]


# --- the deck ----------------------------------------------------------------------------


def parse_deck(text: str, path: Path) -> tuple[dict[str, object], list[Slide]]:
    """Front matter and slides of a deck; malformed ones raise :class:`SlideError`."""
    text = text.replace("\r\n", "\n")
    try:
        meta, offset = split_front_matter(text)
    except (yaml.YAMLError, ValueError) as error:
        raise SlideError(f"{path}:1: malformed front matter: {error}") from None
    start = text.count("\n", 0, offset)  # lines before the first slide
    lines = text.split("\n")
    chunks: list[tuple[int, list[str]]] = [(start + 1, [])]
    fence: str | None = None
    for number, line in enumerate(lines[start:], start=start + 1):
        opener = _FENCE.match(line)
        if fence is None and opener:
            fence = opener[1]
        elif (
            fence is not None
            and line.strip().startswith(fence[0] * len(fence))
            and not line.strip().strip(fence[0])
        ):
            fence = None
        if fence is None and _SEPARATOR.match(line):
            chunks.append((number + 1, []))
            continue
        chunks[-1][1].append(line)
    slides: list[Slide] = []
    for first, chunk in chunks:
        if not "\n".join(chunk).strip():
            continue
        slides.append(_slide(len(slides) + 1, first, chunk, path))
    if not slides:
        raise SlideError(f"{path}:1: the deck has no slide")
    return meta, slides


def _slide(number: int, first: int, chunk: list[str], path: Path) -> Slide:
    body: list[str] = []
    notes: list[str] | None = None
    refs: list[StepRef] = []
    for offset, line in enumerate(chunk):
        note = _NOTE.match(line)
        if notes is None and note:
            notes = [note["rest"]]
            continue
        if notes is not None:
            notes.append(line)
            continue
        ref = _REF.match(line)
        if ref:
            refs.append(_ref(ref, first + offset, path))
            body.append(f"\n{_placeholder(len(refs) - 1)}\n")
        else:
            body.append(line)
    slide = Slide(number, first, "\n".join(body), "\n".join(notes or []).strip(), refs)
    if not slide.notes:
        raise SlideError(f"{path}:{first}: {slide.label} has no speaker notes (a line 'Note:')")
    return slide


def _ref(found: re.Match[str], line: int, path: Path) -> StepRef:
    page, step_id = found["page"], found["id"]
    if not step_id:
        raise SlideError(f"{path}:{line}: [[step {page}#]] names no step id")
    lines: int | None = None
    for token in found["opts"].split():
        key, _, value = token.partition("=")
        if key == "lines" and value.isdigit() and int(value) > 0:
            lines = int(value)
        else:
            raise SlideError(f"{path}:{line}: [[step ...]] option {token!r}: expected lines=N")
    return StepRef(page, step_id, line, lines)


def _placeholder(index: int) -> str:
    return f"DOJOSTEPREF{index}X"


# --- resolving references ----------------------------------------------------------------


class Resolver:
    """Steps by ``page#id`` from the docs dir and the transcripts; each page read once."""

    def __init__(self, docs: Path, transcripts: Path) -> None:
        self.docs = docs
        self.transcripts = transcripts
        self.pages: dict[str, tuple[Page, RunRecord | None]] = {}

    def page(self, uri: str, where: str) -> tuple[Page, RunRecord | None]:
        if uri not in self.pages:
            pure = PurePosixPath(uri)
            if pure.is_absolute() or ".." in pure.parts or not uri.endswith(".md"):
                raise SlideError(f"{where}: {uri!r} is not a page below the docs dir")
            path = self.docs.joinpath(*pure.parts)
            if not path.is_file():
                raise SlideError(f"{where}: page {uri} does not exist (in {self.docs})")
            try:
                page = parse_page(path)
                transcript = load_transcript(self.transcripts, uri)
            except (PageError, TranscriptError) as error:
                raise SlideError(f"{where}: {error}") from None
            self.pages[uri] = (page, transcript.latest if transcript else None)
        return self.pages[uri]

    def resolve(self, ref: StepRef, slide: Slide, deck: Path) -> Shown:
        where = f"{deck}:{ref.line}: {slide.label}"
        page, run = self.page(ref.page, where)
        step = next((s for s in page.steps if s.options.id == ref.id), None)
        if step is None:
            known = ", ".join(s.options.id for s in page.steps if s.options.id) or "none"
            raise SlideError(
                f"{where}: no step with id={ref.id} in {ref.page} (ids there: {known})"
            )
        outcome = match_records(page.steps, run.steps if run else None)[step.index]
        return Shown(ref, step, outcome.record, outcome.status, run)


# --- HTML --------------------------------------------------------------------------------

FLAG_TEXT: dict[Status, str] = {
    "failed": "this step failed in the latest run",
    "timeout": "this step timed out in the latest run",
    "error": "this step errored in the latest run",
    "missing": "this step has no recorded run",
    "stale": "this step was edited since this output was captured",
}


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _output(shown: Shown) -> str:
    if shown.record is None:
        return "(not recorded)"
    text = shown.record.captured.rstrip("\n") or "(no output)"
    limit = shown.ref.lines
    lines = text.split("\n")
    if limit is not None and len(lines) > limit:
        text = "\n".join([*lines[:limit], f"… ({len(lines) - limit} more lines)"])
    return text


FIT_COLUMNS = 88  # characters a code line shows at the deck's code size


def _fit(text: str) -> str:
    """A smaller font for a block whose widest line would not fit (wide tables)."""
    widest = max((len(line.rstrip()) for line in text.split("\n")), default=0)
    if widest <= FIT_COLUMNS:
        return ""
    return f' style="font-size: {max(0.3, 0.5 * FIT_COLUMNS / widest):.2f}em"'


def render_step(shown: Shown, page_url: str) -> str:
    """The command, then (a fragment) the captured output and its small print."""
    step, run, status = shown.step, shown.run, shown.status
    small = [BADGE_TEXT[status]]
    if run is not None and shown.record is not None:
        small += [
            f"Docker engine {run.docker_engine}",
            f"dojo_exec {run.dojo_exec}",
            format_date(run.started),
        ]
    output = _output(shown)
    block = ""  # a step that printed nothing (a file written, a variable set): small print only
    if shown.record is None or shown.record.captured.strip():
        block = f'<pre class="dojo-output"{_fit(output)}><code>{_e(output)}</code></pre>'
    source = f'<a href="{_e(page_url)}">{_e(shown.ref.page)}#{_e(shown.ref.id)}</a>'
    flag = ""
    if shown.flagged:
        flag = f'<p class="dojo-flag dojo-flag--{status}">⚠ {_e(FLAG_TEXT[status])}</p>'
    return (
        f'<div class="dojo-step dojo-step--{status}" data-step="{_e(shown.ref.page)}#'
        f'{_e(shown.ref.id)}" data-status="{status}">{flag}'
        f'<pre class="dojo-command"{_fit(step.command)}><code>{_e(step.command)}</code></pre>'
        f'<div class="fragment dojo-captured">{block}'
        f'<p class="dojo-small">{_e(" · ".join(small))} · {source}</p></div></div>'
    )


def _markdown(text: str) -> str:
    return markdown.markdown(
        text, extensions=["attr_list", "md_in_html", "fenced_code", "tables", "sane_lists"]
    )


def render_deck(
    meta: dict[str, object],
    slides: Sequence[Slide],
    shown: dict[tuple[int, int], Shown],
    page_url: Callable[[str], str],
) -> str:
    title = str(meta.get("title") or "Slides")
    sections: list[str] = []
    for slide in slides:
        body = _markdown(slide.body)
        for index, ref in enumerate(slide.refs):
            one = shown[(slide.number, index)]
            fragment = render_step(one, page_url(ref.page))
            word = _placeholder(index)
            body = body.replace(f"<p>{word}</p>", fragment, 1).replace(word, fragment, 1)
        flagged = any(shown[(slide.number, i)].flagged for i in range(len(slide.refs)))
        classes = ' class="dojo-flagged"' if flagged else ""
        sections.append(
            f'<section id="slide-{slide.number}" data-deck-line="{slide.line}"{classes}>\n'
            f'{body}\n<aside class="notes">{_markdown(slide.notes)}</aside>\n</section>'
        )
    document = PAGE.format(title=_e(title), slides="\n".join(sections))
    if find_secrets(document):  # transcripts are redacted when written; say so if one is not
        document = redact(document)
    return document


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<link rel="stylesheet" href="reveal/reset.css">
<link rel="stylesheet" href="reveal/reveal.css">
<link rel="stylesheet" href="reveal/theme/white.css">
<link rel="stylesheet" href="deck.css">
</head>
<body>
<div class="reveal"><div class="slides">
{slides}
</div></div>
<script src="reveal/reveal.js"></script>
<script src="reveal/plugin/notes.js"></script>
<script>
Reveal.initialize({{
  hash: true,
  slideNumber: "c/t",
  showNotes: false,
  plugins: [RevealNotes],
}});
</script>
</body>
</html>
"""


# --- reveal.js from the npm registry -----------------------------------------------------


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def ensure_reveal(cache: Path) -> Path:
    """The folder holding :data:`REVEAL_FILES` of reveal.js :data:`REVEAL_VERSION`.

    Fetched once with ``npm pack`` (the npm registry the machine's npm is set up for) into
    ``cache``, checked against :data:`REVEAL_INTEGRITY`; later builds need no network.
    """
    target = cache / f"reveal.js-{REVEAL_VERSION}"
    if _complete(target):
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".reveal-") as temporary:
        tgz = _reveal_tarball(Path(temporary))
        data = tgz.read_bytes()
        if _integrity(data) != REVEAL_INTEGRITY:
            raise SlideError(f"{tgz}: not reveal.js {REVEAL_VERSION} (integrity differs)")
        unpacked = Path(temporary) / "unpacked"
        with tarfile.open(tgz, "r:gz") as archive:
            for name in REVEAL_FILES:
                member = archive.getmember(f"package/{name}")
                source = archive.extractfile(member)
                if source is None:
                    raise SlideError(f"{tgz}: {name} is not a file")
                destination = unpacked / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(source.read())
        if target.exists() and not _complete(target):  # an older file list: start again
            target.rename(Path(temporary) / "old")
        try:
            unpacked.rename(target)
        except OSError:  # another build (a parallel test worker) put it there first
            if not _complete(target):
                raise
    return target


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in REVEAL_FILES)


def _reveal_tarball(folder: Path) -> Path:
    given = os.environ.get("DOJO_REVEAL_TGZ")
    if given:
        return Path(given)
    npm = shutil.which("npm")
    if npm is None:
        raise SlideError(
            f"npm is needed once to fetch reveal.js {REVEAL_VERSION} (or set DOJO_REVEAL_TGZ "
            "to its tarball)"
        )
    spec = f"reveal.js@{REVEAL_VERSION}"
    done = spawn.run(
        [npm, "pack", spec, "--pack-destination", str(folder), "--silent"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found = sorted(folder.glob("reveal.js-*.tgz"))
    if done.returncode != 0 or not found:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no tarball"]
        raise SlideError(f"npm pack {spec} failed: {reason[0]}")
    return found[0]


# --- the build ---------------------------------------------------------------------------


def default_page_url(uri: str) -> str:
    """``service.md`` → ``../service.html`` (the site's pages, seen from ``slides/``)."""
    return "../" + uri.removesuffix(".md") + ".html"


def build_deck(
    deck: Path,
    docs: Path,
    transcripts: Path,
    out: Path,
    *,
    cache: Path,
    page_url: Callable[[str], str] = default_page_url,
) -> Built:
    """Build ``deck`` into ``out`` (``index.html``, ``deck.css``, ``reveal/``, its images).

    Every reference is resolved before anything is written: a deck with a missing step
    leaves ``out`` as it was.
    """
    started = time.perf_counter()
    named = Path(display_path(deck))  # how messages name it
    try:
        text = deck.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise SlideError(f"{named}: cannot read the deck: {error.strerror}") from None
    meta, slides = parse_deck(text, named)
    resolver = Resolver(docs, transcripts)
    shown: dict[tuple[int, int], Shown] = {}
    for slide in slides:
        for index, ref in enumerate(slide.refs):
            shown[(slide.number, index)] = resolver.resolve(ref, slide, named)
    document = render_deck(meta, slides, shown, page_url)
    reveal = ensure_reveal(cache)
    out.mkdir(parents=True, exist_ok=True)
    for name in REVEAL_FILES:
        destination = out / "reveal" / name.removeprefix("dist/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(reveal / name, destination)
    shutil.copyfile(DECK_CSS, out / "deck.css")
    for asset in sorted(deck.parent.iterdir()):
        if asset.is_file() and asset.suffix.lower() in ASSET_SUFFIXES:
            shutil.copyfile(asset, out / asset.name)
    (out / "index.html").write_text(document, encoding="utf-8")
    pages = [page.path for page, _ in resolver.pages.values()]
    return Built(out, len(slides), list(shown.values()), pages, time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dojo_exec.slides",
        description="Build the workshop deck (reveal.js, offline) from slides and transcripts.",
    )
    parser.add_argument("--deck", type=Path, default=Path("slides/deck.md"))
    parser.add_argument("--docs", type=Path, default=Path("docs"))
    parser.add_argument("--transcripts", type=Path, default=Path("transcripts"))
    parser.add_argument("--out", type=Path, default=Path("site/slides"))
    parser.add_argument("--cache", type=Path, default=None, help="default: .dojo/vendor")
    parser.add_argument(
        "--strict", action="store_true", help="fail when a step shown is stale or failed"
    )
    args = parser.parse_args(argv)
    cache = args.cache or Path(os.environ.get("DOJO_VENDOR") or ".dojo/vendor")
    try:
        built = build_deck(args.deck, args.docs, args.transcripts, args.out, cache=cache)
    except SlideError as error:
        print(f"slides: error: {error}", file=sys.stderr)
        return 1
    for one in built.flagged:
        print(
            f"slides: warning: {args.deck}:{one.ref.line}: {one.ref.page}#{one.ref.id}: "
            f"{FLAG_TEXT[one.status]}",
            file=sys.stderr,
        )
    print(
        f"slides: {built.slides} slides, {len(built.shown)} steps shown "
        f"({len(built.flagged)} flagged) → {built.out / 'index.html'} in {built.seconds:.2f} s"
    )
    return 1 if args.strict and built.flagged else 0


if __name__ == "__main__":
    raise SystemExit(main())
