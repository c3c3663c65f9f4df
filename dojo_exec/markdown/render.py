"""Steps + recorded runs → Markdown for the site (command, Promised/Captured tabs, verdict).

Pure functions: no generator objects.  What the generator must report (a failed, stale or
unrecorded step, a secret found on the way to the HTML) comes back as :class:`Issue`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from dojo_exec.display import format_date, format_duration
from dojo_exec.freshness import Outcome, match_records
from dojo_exec.page import RESULT_MARKER, TAG, Page, Step, first_h1
from dojo_exec.transcripts import RunRecord, find_secrets, redact
from dojo_exec.verdicts import FAILED, Status
from dojo_exec.writing import splice

IssueKind = Literal["missing", "failed", "stale", "secret", "page-secret", "error"]
Origin = Literal["transcript", "page"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BACKTICKS = re.compile(r"`+")


@dataclass(frozen=True)
class Issue:
    """Something the plugin logs: ``kind`` selects the level (see the plugin)."""

    kind: IssueKind
    location: str  # "page.md:12"
    message: str


@dataclass(frozen=True)
class Rendered:
    """A page's Markdown with its steps replaced, and what goes in after the Markdown pass."""

    markdown: str
    fragments: dict[str, str]  # marker word → result HTML
    searched: dict[str, str]  # marker word → what the search index holds for the step
    outcomes: list[Outcome]
    issues: list[Issue]


class Sanitizer:
    """Everything that goes into the HTML passes here: secrets are redacted and reported."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def __call__(self, text: str, *, origin: Origin, location: str, what: str) -> str:
        text = _CONTROL.sub("", text)
        secrets = find_secrets(text)
        if not secrets:
            return text
        kinds = sorted(
            {secret.split("-1-")[0] if "-1-" in secret else "token" for secret in secrets}
        )
        if origin == "transcript":
            message = (
                f"{what} holds {len(secrets)} unredacted secret(s) ({', '.join(kinds)}): "
                "replaced by a redaction marker; re-record the transcript"
            )
            self.issues.append(Issue("secret", location, message))
        else:
            message = f"{what} holds {len(secrets)} token-shaped value(s): redacted on the site"
            self.issues.append(Issue("page-secret", location, message))
        return redact(text)


# --- small formatting helpers ------------------------------------------------------------


def fence(text: str, language: str, indent: str = "") -> str:
    """A fenced block that no backtick run inside ``text`` can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    body = text.rstrip("\n")
    lines = (
        [f"{ticks}{language}", *body.split("\n"), ticks] if body else [f"{ticks}{language}", ticks]
    )
    return "\n".join(f"{indent}{line}" if line else "" for line in lines) + "\n"


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


# --- one step ----------------------------------------------------------------------------

BADGE_TEXT: dict[Status, str] = {
    "passed": "passed",
    "failed": "failed",
    "timeout": "timed out",
    "error": "error",
    "skipped": "skipped",
    "missing": "not verified",
    "stale": "not verified since the step was edited",
}
# the title of the tab that explains a step that did not pass (with the diff, if any)
_WHY: dict[Status, str] = {
    "failed": "Why it failed",
    "timeout": "Why it timed out",
    "error": "Why it errored",
}


def badge(
    outcome: Outcome,
    clean: Sanitizer,
    location: str,
    *,
    silent: bool = False,
    engines: Sequence[str] = (),
) -> str:
    """The verdict line (raw HTML, escaped); ``silent``: the step printed and promised
    nothing, and the line says so (no empty output block follows); ``engines``: the Docker
    engine versions the step, as it is now, passed on (each engine's latest run)."""
    record, status = outcome.record, outcome.status
    text = BADGE_TEXT[status]
    if status == "passed" and record is not None and record.attempts > 1:
        text = (
            f"passed after {record.attempts} attempts (waited {format_duration(record.duration)})"
        )
    if status == "skipped":
        reason = outcome.step.options.skip or (record.reason if record else None) or ""
        if reason:
            reason = clean(reason, origin="page", location=location, what="skip reason")
            text = f"skipped: {reason}"
    meta: list[str] = []
    if record is not None and status not in ("skipped", "missing"):
        if status != "passed" or record.attempts == 1:
            meta.append(format_duration(record.duration))
        if record.exit_status not in (0, None):
            meta.append(f"exit status {record.exit_status}")
    if silent:
        meta.append("no output")
    if engines and status not in ("skipped", "stale", "missing"):
        versions = ", ".join(dict.fromkeys(clean_version(engine) for engine in engines))
        meta.append(f"{'on' if status == 'passed' else 'passed on'} Docker {versions}")
    meta_html = f' <span class="dojo-meta">{_attr(" · ".join(meta))}</span>' if meta else ""
    return (
        f'<p class="dojo-verdict"><span class="dojo-badge dojo-badge--{status}">'
        f"{_attr(text)}</span>{meta_html}</p>\n"
    )


def clean_version(engine: str) -> str:
    """``26.1.5+dfsg1`` → ``26.1.5``: the Docker version a reader knows."""
    return engine.split("+", 1)[0]


_CHECK_STATE: dict[bool | None, tuple[str, str]] = {
    True: ("passed", "held"),
    False: ("failed", "did not hold"),
    None: ("missing", "not verified"),
}


def _checks(outcome: Outcome) -> str:
    checks = outcome.step.options.checks
    if not checks:
        return ""
    record = outcome.record
    items: list[str] = []
    for check in checks:
        held: bool | None = None
        if record is not None and check in record.checks:
            held = bool(record.checks[check])
        if held is None and record is not None and outcome.status == "passed":
            held = True  # a passed step passed all its checks
        if outcome.status in ("stale", "missing", "skipped"):
            held = None
        state, label = _CHECK_STATE[held]
        items.append(
            f'<li><span class="dojo-badge dojo-badge--{state}">{label}</span> '
            f"<code>{_attr(check)}</code></li>"
        )
    return f'<ul class="dojo-checks">{"".join(items)}</ul>\n'


def _pre(text: str) -> str:
    """Output as a Material code block; newlines as ``&#10;`` keep the HTML block one line."""
    body = html.escape(text.rstrip("\n") + "\n", quote=False).replace("\n", "&#10;")
    return f'<div class="highlight"><pre><span></span><code>{body}</code></pre></div>'


def tabs(panels: Sequence[tuple[str, str]], key: str, *, pair: bool = False) -> str:
    """pymdownx.tabbed (alternate style) markup, written directly: no Markdown pass needed.

    The outputs are plain text: rendering them as raw HTML instead of nested fences keeps
    the plugin's build overhead small (no Pygments run per output). The first panel is
    shown. Outputs get no copy button (``no-copy``): the command above has one, and a
    button per output would cost a Tab stop and cover the end of a wide table's first line.
    ``pair``: two panels narrow enough to stand side by side on a wide screen (the
    stylesheet does it there; elsewhere they are tabs like any other).
    """
    name = f"__tabbed_{key}"
    checked = ' checked="checked"'
    inputs = "".join(
        f'<input{checked if number == 1 else ""} id="{name}_{number}" name="{name}" type="radio" />'
        for number in range(1, len(panels) + 1)
    )
    labels = "\n".join(  # separate words for the search index, not "PromisedCaptured"
        f'<label for="{name}_{number}">{_attr(title)}</label>'
        for number, (title, _) in enumerate(panels, start=1)
    )
    blocks = "".join(f'<div class="tabbed-block">{_pre(text)}</div>' for _, text in panels)
    return (
        f'<div class="tabbed-set tabbed-alternate no-copy{" dojo-pair" if pair else ""}" '
        f'data-tabs="{key}:{len(panels)}">'
        f'{inputs}<div class="tabbed-labels">{labels}</div>'
        f'<div class="tabbed-content">{blocks}</div></div>'
    )


PAIR_COLUMNS = 36
"""The widest output line that still fits half the content column of a wide screen."""


def side_by_side(panels: Sequence[tuple[str, str]]) -> bool:
    """Whether a step's panels are its capture and its promise alone, both narrow."""
    if [title for title, _ in panels] != ["Captured", "Promised"]:
        return False
    return all(len(line) <= PAIR_COLUMNS for _, text in panels for line in text.splitlines())


def step_anchor(step: Step) -> str:
    """The HTML id of a step's result on its page (the report links to it): its ``id=``
    when it has one, else its line."""
    return f"step-{step.options.id}" if step.options.id else f"step-{step.line}"


class RenderedStep(NamedTuple):
    """One step on the site: its command (Markdown), its result (HTML) and the result as
    the search index holds it (its captured output, else its promise: a plain code block,
    without the tabs and badges a search parser would only skip)."""

    command: str
    result: str
    searched: str


def render_step(
    outcome: Outcome, clean: Sanitizer, page_uri: str, engines: Sequence[str] = ()
) -> RenderedStep:
    """Command, result and searched text for one step; all empty when hidden.

    The command is a ``sh`` fence (highlighted, with Material's copy button); verdict,
    tabs, checks and explanation are HTML, every text escaped, that the plugin puts in
    place of a marker after the Markdown pass (it needs none, and skipping it keeps the
    plugin's overhead small).

    What a reader sees first is what the step really printed: the **Captured** tab is the
    open one, next to the verdict; **Promised** and, for a step that failed, the
    explanation with its diff are one click away. A step that printed nothing and
    promised nothing is one line: its verdict and "no output".
    """
    step, record, status = outcome.step, outcome.record, outcome.status
    if step.options.hidden:
        return RenderedStep("", "", "")
    location = f"{page_uri}:{step.line}"
    command = clean(step.command, origin="page", location=location, what="command")
    promised = None
    if step.expected is not None:
        promised = clean(step.expected, origin="page", location=location, what="promise")
    captured = None
    if record is not None and status != "skipped":
        captured = clean(
            record.captured, origin="transcript", location=location, what="captured output"
        )
    silent = captured is not None and not captured.strip() and not (promised or "").strip()
    parts = [badge(outcome, clean, location, silent=silent, engines=engines).rstrip("\n")]
    if status == "skipped" and promised is not None:  # what it would print
        parts.append(tabs([("Promised", promised)], f"dojo{step.index}"))
    if status != "skipped":
        panels: list[tuple[str, str]] = []
        if captured is not None and not silent:
            panels.append(("Captured", captured if captured.strip() else "(no output)"))
        if promised is not None and not silent:
            panels.append(("Promised", promised))
        why = _WHY.get(status)
        if why and record is not None and record.explanation.strip():
            explanation = clean(
                record.explanation, origin="transcript", location=location, what="explanation"
            )
            panels.append((why, explanation))
        if panels:
            parts.append(tabs(panels, f"dojo{step.index}", pair=side_by_side(panels)))
        parts.append(_checks(outcome).rstrip("\n"))
    result = "".join(parts)
    anchor = _attr(step_anchor(step))
    shown = captured if captured is not None and captured.strip() else promised
    return RenderedStep(
        fence(command, "sh", step.indent),
        f'<div class="dojo-result dojo-result--{status}" id="{anchor}">{result}</div>',
        f"<pre><code>{html.escape(shown, quote=False)}</code></pre>" if shown else "",
    )


def plain_step(step: Step) -> str:
    """``mode: off``: the command and its promise as plain code blocks, tags removed."""
    if step.options.hidden:
        return ""
    text = fence(step.command, "sh", step.indent)
    if step.expected is not None:
        text += "\n" + fence(step.expected, "text", step.indent)
    return text


# --- the page ----------------------------------------------------------------------------


_COUNT_LABEL: dict[Status, str] = {
    **BADGE_TEXT,
    "stale": "edited since the run",
    "missing": "not verified",
}


def provenance(
    run: RunRecord | None, outcomes: Sequence[Outcome], clean: Sanitizer, page: str
) -> str:
    """The header line under the page title (raw HTML, escaped)."""
    total = len(outcomes)
    verified = sum(1 for outcome in outcomes if outcome.status == "passed")
    if run is None:
        text = f"0 of {total} steps verified · no recorded run yet"
    else:
        counts: dict[str, int] = {}
        for outcome in outcomes:
            if outcome.status != "passed":
                label = _COUNT_LABEL[outcome.status]
                counts[label] = counts.get(label, 0) + 1
        hidden = sum(1 for outcome in outcomes if outcome.step.options.hidden)
        if hidden:  # run and counted, but not shown: say so, or the count looks wrong
            counts[f"setup step{'s' if hidden > 1 else ''} not shown"] = hidden
        extra = f" ({', '.join(f'{n} {label}' for label, n in counts.items())})" if counts else ""
        values = [
            f"{verified} of {total} steps verified{extra}",
            f"Docker engine {run.docker_engine}, client {run.docker_client}",
            f"driver {run.driver}",
            format_date(run.started),
            format_duration(run.duration),
        ]
        text = clean(" · ".join(values), origin="transcript", location=page, what="provenance")
    return f'<p class="dojo-provenance">{_attr(text)}</p>\n'


def revision_date(run: RunRecord) -> str:
    """The page's "last update" as themes show it (``page.meta.revision_date``): when its
    steps last ran, not when its text last changed."""
    return f"verified {format_date(run.started)}"


def header_offset(markdown: str, page_uri: str) -> int:
    """Offset just after the first H1 outside code blocks and comments (0 when none)."""
    heading = first_h1(markdown, Path(page_uri))
    if heading is None:
        return 0
    end = heading[1]
    return end + 1 if markdown[end : end + 1] == "\n" else end


def render_page(
    markdown: str,
    page: Page,
    offset: int,
    run: RunRecord | None,
    page_uri: str,
    *,
    mode: Literal["recorded", "live", "off"] = "recorded",
    marker: str = "DOJOEXEC",
    passed_on: Mapping[int, Sequence[str]] | None = None,
) -> Rendered:
    """Replace every step of ``page`` in ``markdown`` (``page.text[offset:]``).

    Each step's result HTML is left out of the Markdown: a paragraph of one word,
    ``{marker}R{N}E``, indented like the step (so that a step in a list item, an admonition
    or a content tab stays there), stands in its place; :attr:`Rendered.fragments` maps
    that word to the HTML. ``passed_on``: step index → the Docker engines it passed on.
    """
    clean = Sanitizer()
    outcomes = match_records(page.steps, run.steps if run else None)
    fragments: dict[str, str] = {}
    searched: dict[str, str] = {}
    edits: list[tuple[int, int, str]] = []
    for outcome in outcomes:
        start, end = (position - offset for position in outcome.step.span)
        if mode == "off":
            text = plain_step(outcome.step)
        else:
            engines = (passed_on or {}).get(outcome.step.index, ())
            command, result, search_text = render_step(outcome, clean, page_uri, engines)
            text = command
            if result:
                word = f"{marker}R{outcome.step.index}E"
                fragments[word] = result
                searched[word] = search_text
                text += f"\n{outcome.step.indent}{word}\n"
        edits.append((start, end, text))
    if mode != "off" and page.steps:
        at = header_offset(markdown, page_uri)
        edits.append((at, at, "\n" + provenance(run, outcomes, clean, page_uri) + "\n"))
    markdown = splice(markdown, edits)
    markdown = untag_commented_fences(markdown)
    issues = list(clean.issues)
    if mode != "off":
        issues += _outcome_issues(outcomes, run, page_uri)
    return Rendered(markdown, fragments, searched, outcomes, issues)


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAGGED_OPENER = re.compile(
    rf"^(?P<head>[ \t]*(?:`{{3,}}|~{{3,}})[\w+-]+)[ \t]+{TAG}\b[^\n]*$", re.MULTILINE
)


def untag_commented_fences(markdown: str) -> str:
    """Drop the tag from fences in HTML comments (commented-out steps, which do not run).

    The Markdown extensions do not read a tagged fence as a fence; left tagged, its closing
    line would open a code block that swallows the page after the comment.
    """
    return _COMMENT.sub(lambda m: _TAGGED_OPENER.sub(r"\g<head>", m.group(0)), markdown)


_ANY_OPENER = re.compile(
    rf"^(?P<head>[ \t]*(?:`{{3,}}|~{{3,}})[\w+-]*?)[ \t]*\b{TAG}\b[^\n]*$", re.MULTILINE
)
_RESULT_LINE = re.compile(rf"^[ \t]*{re.escape(RESULT_MARKER)}[ \t]*\n", re.MULTILINE)


def unrendered(markdown: str) -> str:
    """A page whose steps cannot be read: its fences untagged, its ``# Result ==>`` lines
    gone, so that neither reaches the reader (the error is reported)."""
    return _RESULT_LINE.sub("", _ANY_OPENER.sub(r"\g<head>", markdown))


def fill_fragments(html_text: str, fragments: dict[str, str]) -> tuple[str, list[str]]:
    """Put each fragment in place of its marker word (its own paragraph, or bare in a tight
    list item); returns the HTML and the markers not found."""
    lost: list[str] = []
    for word, fragment in fragments.items():
        paragraph = f"<p>{word}</p>"
        if paragraph in html_text:
            html_text = html_text.replace(paragraph, fragment, 1)
        elif word in html_text:
            html_text = html_text.replace(word, fragment, 1)
        else:
            lost.append(word)
    return html_text, lost


def _outcome_issues(
    outcomes: Sequence[Outcome], run: RunRecord | None, page_uri: str
) -> list[Issue]:
    if run is None:
        count = sum(1 for outcome in outcomes if outcome.status == "missing")
        message = f"no recorded run: {count} step(s) not verified"
        return [Issue("missing", page_uri, message)] if count else []
    issues: list[Issue] = []
    for outcome in outcomes:
        location = f"{page_uri}:{outcome.step.line}"
        if outcome.status == "missing":
            message = "step not verified: no record in the latest run"
            issues.append(Issue("missing", location, message))
        elif outcome.status == "stale":
            message = "step edited since its latest run (stale transcript)"
            issues.append(Issue("stale", location, message))
        elif outcome.status in FAILED:
            message = f"step {BADGE_TEXT[outcome.status]} in the latest run ({run.started})"
            issues.append(Issue("failed", location, message))
    return issues
