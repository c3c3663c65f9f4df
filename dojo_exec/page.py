"""Markdown page → Steps: the one parser of the page format.

A step is a fenced shell block whose info string carries the ``dojo`` tag::

    ```sh dojo timeout=60 wait=30 exit=1 check="no rows where NODE = manager1"
    docker service ps helloworld
    # Result ==>
    ID   NAME   ...
    ```

GitHub renders the block as ``sh`` and ignores the rest of the info string; the site
replaces the block.  The promised output follows a ``# Result ==>`` line either inside
the block (inline form) or as the first line of the next fenced block (block form).
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

TAG = "dojo"
BOM = "\ufeff"
SHELL_LANGUAGES = frozenset({"sh", "bash", "shell", "console", "shell-session"})
PROMPT_LANGUAGES = frozenset({"console", "shell-session"})
"""Languages whose commands may show a ``$ `` prompt, which is not part of the command."""
_PROMPT = re.compile(r"^[ \t]*\$(?: |$)")
_CONTINUATION = re.compile(r"^[ \t]*>(?: |$)")
RESULT_MARKER = "# Result ==>"
DEFAULT_TIMEOUT = 120.0

# Fences may be indented (nested in list items, as pymdownx.superfences allows).
_FENCE_OPEN = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_DURATION = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def display_path(path: Path) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class PageError(Exception):
    """Malformed page input, located at ``file:line``."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(f"{display_path(self.path)}:{line}: {message}")


@dataclass(frozen=True)
class StepOptions:
    """Per-step options written in the fence's info string."""

    timeout: float = DEFAULT_TIMEOUT
    wait: float | None = None  # re-run a read-only step until it matches, for at most this long
    exit: int | None = 0  # expected exit status; None accepts any status
    hidden: bool = False  # run, but not shown on the site
    skip: str | None = None  # not run; the reason is shown
    checks: tuple[str, ...] = ()  # semantic checks evaluated on the captured table
    ordered: bool = False  # table rows must come in the promised order
    versions: bool = False  # Docker version strings match any version
    stop_on_failure: bool = False  # a failure of this step stops the page


OPTION_HELP = {
    "timeout": "timeout=DURATION  interrupt the step after this long (default 120s)",
    "wait": "wait=DURATION     re-run until the output matches, for at most this long "
    "(read-only commands only)",
    "exit": "exit=N|any        expected exit status (default 0)",
    "hidden": "hidden            run the step but do not show it on the site",
    "skip": 'skip="REASON"     do not run the step; the reason is shown',
    "check": 'check="CHECK"     a semantic check on the captured table (repeatable)',
    "ordered": "ordered           table rows must appear in the promised order",
    "versions": "versions          Docker version strings match any version",
    "stop": "stop              stop the page if this step fails",
}


def source_digest(source: str) -> str:
    """The digest of a step's source text, whatever its line endings."""
    return hashlib.sha256(source.replace("\r\n", "\n").encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Step:
    """One executable step of a page, located exactly in its source."""

    path: Path
    line: int  # 1-based line of the opening fence
    index: int  # 0-based position among the page's steps
    command: str
    expected: str | None  # the promise, None when the page promises nothing
    options: StepOptions
    span: tuple[int, int]  # character offsets of the step's source (fence(s) included)
    source: str  # exact text of ``span``
    result_span: tuple[int, int] | None = None  # offsets of the promise text (for update)
    result_line: int | None = None  # 1-based line of the ``# Result ==>`` marker
    result_form: Literal["inline", "block"] | None = None
    result_indent: str = ""  # indentation of the promise's fence (kept by update)
    language: str = "sh"

    @property
    def digest(self) -> str:
        """Digest of the step's source: a transcript older than an edit is stale.

        Line endings do not count: the same page read byte-exact (CRLF) or with universal
        newlines (as Sybil and MkDocs read it) has one digest.
        """
        return source_digest(self.source)

    @property
    def location(self) -> str:
        return f"{display_path(self.path)}:{self.line}"

    @property
    def indent(self) -> str:
        """Indentation of the opening fence (a step in a list item, admonition or tab)."""
        return self.source[: len(self.source) - len(self.source.lstrip(" \t"))]

    @property
    def name(self) -> str:
        """Name used for test items: page and line."""
        return f"{self.path.name}:{self.line}"


@dataclass(frozen=True)
class Fence:
    """A fenced block as found in the text."""

    start: int  # offset of the opening fence line
    end: int  # offset just after the closing fence line (newline included)
    line: int  # 1-based line of the opening fence
    info: str
    body: str
    body_start: int  # offset of the first body character
    body_end: int  # offset of the closing fence line
    indent: str


@dataclass(frozen=True)
class Page:
    """A parsed page: front matter, prerequisites and steps."""

    path: Path
    text: str
    meta: dict[str, object] = field(default_factory=dict)
    requires: tuple[Path, ...] = ()
    steps: tuple[Step, ...] = ()
    untagged_shell_lines: tuple[int, ...] = ()  # shell blocks that are not steps

    @property
    def title(self) -> str:
        title = self.meta.get("title")
        if isinstance(title, str):
            return title
        heading = first_h1(self.text, self.path)
        return heading[2] if heading else self.path.stem


def parse_duration(text: str, *, path: Path, line: int, option: str) -> float:
    """``30``, ``30s``, ``1.5m``, ``500ms`` → seconds."""
    match = _DURATION.match(text)
    if not match:
        raise PageError(path, line, f"option {option}={text!r}: expected a duration like 30s or 2m")
    return float(match["value"]) * _UNITS[match["unit"]]


def parse_options(tokens: list[str], *, path: Path, line: int) -> StepOptions:
    """Info-string tokens after the tag → options; unknown or malformed ones are errors."""
    values: dict[str, object] = {}
    checks: list[str] = []
    seen: set[str] = set()
    for token in tokens:
        key, sep, value = token.partition("=")
        if key in seen and key != "check":
            raise PageError(path, line, f"option {key} given twice")
        seen.add(key)
        if key in {"hidden", "ordered", "versions", "stop"}:
            if sep:
                raise PageError(path, line, f"option {key} takes no value (got {token!r})")
            values["stop_on_failure" if key == "stop" else key] = True
        elif key in {"timeout", "wait"}:
            if not value:
                raise PageError(path, line, f"option {key} needs a duration, e.g. {key}=30s")
            values[key] = parse_duration(value, path=path, line=line, option=key)
            if not values[key]:
                raise PageError(path, line, f"option {key}={value}: must be more than 0")
        elif key == "exit":
            if value == "any":
                values["exit"] = None
            elif re.fullmatch(r"\d{1,3}", value):
                if int(value) > 255:
                    raise PageError(path, line, f"option exit={value}: an exit status is 0 to 255")
                values["exit"] = int(value)
            else:
                raise PageError(path, line, f"option exit={value!r}: expected a number or 'any'")
        elif key == "skip":
            if not value.strip():
                raise PageError(path, line, 'option skip needs a reason: skip="why"')
            values["skip"] = value.strip()
        elif key == "check":
            if not value.strip():
                raise PageError(path, line, 'option check needs a check: check="5 rows where ..."')
            checks.append(value.strip())
        else:
            known = ", ".join(sorted(OPTION_HELP))
            raise PageError(path, line, f"unknown option {token!r} (known options: {known})")
    if checks:
        _validate_checks(checks, path=path, line=line)
    return StepOptions(checks=tuple(checks), **values)  # type: ignore[arg-type]


def _validate_checks(checks: list[str], *, path: Path, line: int) -> None:
    """Reject checks that do not parse, at page-parse time."""
    from dojo_exec.checks import CheckSyntaxError, parse_check

    for check in checks:
        try:
            parse_check(check)
        except CheckSyntaxError as error:
            raise PageError(path, line, f"check {check!r}: {error}") from None


_FRONT_MATTER = re.compile(
    r"\A(?:\ufeff)?---\r?\n(?P<yaml>.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL
)


def split_front_matter(text: str) -> tuple[dict[str, object], int]:
    """YAML front matter → (meta, offset where the body starts).

    A leading BOM and CRLF line endings are allowed. Only a YAML mapping is front matter:
    a paragraph between two rules is the page's text, as MkDocs reads it.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, 0
    meta = yaml.safe_load(match["yaml"] or "") or {}
    if not isinstance(meta, dict):
        return {}, 0
    return meta, match.end()


_COMMENT_START = re.compile(r"^ {0,3}<!--")
_CONTAINER = re.compile(
    r"^[ \t]*(?:[-*+][ \t]|\d+[.)][ \t]|!!!|\?\?\?|===\+?[ \t]|<div\b[^>]*\bmarkdown\b)"
)
"""A line that opens a block whose content is indented: a list item, an admonition or a
collapsible block, a content tab, an HTML block with ``markdown`` (its fences are real)."""


def _width(indent: str) -> int:
    return len(indent.expandtabs(4))


def _in_container(previous: list[tuple[int, str]], indent: int) -> bool:
    """Whether a fence indented by ``indent`` sits in a container, not in an indented code block.

    ``previous`` holds (indent, line) of the non-blank lines before it that are outside fences
    and comments; the nearest one indented less than the fence decides.
    """
    for width, line in reversed(previous):
        if width < indent:
            return bool(_CONTAINER.match(line))
    return False


def iter_fences(text: str, path: Path, start: int = 0) -> list[Fence]:
    """All fenced blocks (``` or ~~~) from ``start``; an unterminated one is an error.

    Like the site's Markdown, it sees no fence inside an HTML comment (``<!-- … -->``) or inside
    an indented code block (a fence indented 4 spaces or more outside a list item, admonition,
    content tab or ``markdown`` HTML block is an example of a fence, shown as text).
    """
    fences: list[Fence] = []
    lines = _split_keepends(text)
    offset = 0
    index = 0
    # advance to ``start``
    while index < len(lines) and offset < start:
        offset += len(lines[index])
        index += 1
    previous: list[tuple[int, str]] = []  # non-blank lines outside fences and comments
    in_comment = False
    while index < len(lines):
        raw = lines[index]
        line_no = index + 1
        stripped = raw.rstrip("\n")
        if index == 0:
            stripped = stripped.removeprefix(BOM)
        if in_comment:
            in_comment = "-->" not in stripped
            offset += len(raw)
            index += 1
            continue
        match = _FENCE_OPEN.match(stripped)
        if not match:
            # an HTML comment block starts a line (``<!--`` in a sentence or a code span
            # does not hide what follows, for the site's Markdown either)
            opened = stripped.rfind("<!--") if _COMMENT_START.match(stripped) else -1
            in_comment = opened >= 0 and "-->" not in stripped[opened + 4 :]
            if stripped.strip():
                previous.append(
                    (_width(stripped[: len(stripped) - len(stripped.lstrip())]), stripped)
                )
            offset += len(raw)
            index += 1
            continue
        fence = match["fence"]
        indent = match["indent"]
        if _width(indent) >= 4 and not _in_container(previous, _width(indent)):
            # a line of an indented code block (an example of a fence): text, not a fence
            previous.append((_width(indent), stripped))
            offset += len(raw)
            index += 1
            continue
        open_offset = offset
        body_start = offset + len(raw)
        close = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        offset = body_start
        index += 1
        body_parts: list[str] = []
        closed = False
        body_end = offset
        while index < len(lines):
            candidate = lines[index]
            body_end = offset
            offset += len(candidate)
            index += 1
            if close.match(candidate.rstrip("\n")):
                closed = True
                break
            body_parts.append(_dedent(candidate, indent))
        if not closed:
            raise PageError(path, line_no, f"unterminated code fence {fence!r} (no closing fence)")
        fences.append(
            Fence(
                start=open_offset,
                end=offset,
                line=line_no,
                info=match["info"].strip(),
                body="".join(body_parts),
                body_start=body_start,
                body_end=body_end,
                indent=indent,
            )
        )
    return fences


_ATX_H1 = re.compile(r"^ {0,3}#(?!#)[ \t]+(?P<title>\S.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
_SETEXT_H1 = re.compile(r"^ {0,3}(?P<title>\S.*)\n {0,3}=+[ \t]*$", re.MULTILINE)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)


def first_h1(text: str, path: Path) -> tuple[int, int, str] | None:
    """(start, end, plain title) of the first H1 outside fences and HTML comments, if any."""
    try:
        fences = iter_fences(text, path)
    except PageError:
        fences = []
    hidden = [(f.start, f.end) for f in fences]
    hidden += [(m.start(), m.end()) for m in _COMMENT.finditer(text)]
    candidates = sorted(
        (*_ATX_H1.finditer(text), *_SETEXT_H1.finditer(text)), key=lambda m: m.start()
    )
    for match in candidates:
        if not any(start <= match.start() < end for start, end in hidden):
            title = re.sub(r"`+|\*\*", "", match["title"]).strip()
            return match.start(), match.end(), title
    return None


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if indent and line.startswith(indent) else line


def _split_keepends(text: str) -> list[str]:
    """Lines with their endings, split at ``\n`` only (``str.splitlines`` also splits at form
    feeds and U+2028, which Markdown does not: line numbers would drift)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def _split(text: str) -> list[str]:
    """Lines without their endings (``\n`` or ``\r\n``)."""
    return [line.removesuffix("\n").removesuffix("\r") for line in _split_keepends(text)]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _without_prompts(command: str, path: Path, line: int) -> str:
    """A console step's command without its ``$ `` prompts and ``> `` continuation prompts.

    A line with neither (once one line has a prompt) would be output shown in the command:
    an error, since output belongs after the Result marker.
    """
    lines = command.split("\n")
    if not any(_PROMPT.match(text) for text in lines):
        return command
    kept: list[str] = []
    for number, text in enumerate(lines, start=line + 1):
        if _PROMPT.match(text):
            kept.append(_PROMPT.sub("", text))
        elif _CONTINUATION.match(text) and kept:
            kept.append(_CONTINUATION.sub("", text))
        elif not text.strip():
            kept.append("")
        else:
            raise PageError(
                path,
                number,
                f"console step: {text.strip()!r} has no '$ ' prompt; "
                f"output belongs after {RESULT_MARKER!r}",
            )
    return "\n".join(kept)


def _split_info(info: str, path: Path, line: int) -> list[str]:
    try:
        return shlex.split(info)
    except ValueError as error:
        raise PageError(path, line, f"malformed info string {info!r}: {error}") from None


def _is_result_block(fence: Fence) -> bool:
    first = next((ln for ln in _split(fence.body) if ln.strip()), "")
    return first.strip() == RESULT_MARKER


def _promise_after_marker(
    text: str, fence: Fence, marker_index: int
) -> tuple[str, tuple[int, int]]:
    """Promise text (dedented) after the marker line, and its raw offsets in ``text``."""
    raw = _split_keepends(text[fence.body_start : fence.body_end])
    start = fence.body_start + sum(len(ln) for ln in raw[: marker_index + 1])
    promise = "".join(_split_keepends(fence.body)[marker_index + 1 :])
    return promise, (start, fence.body_end)


def parse_text(text: str, path: Path | str) -> Page:
    """Parse a page's text; every malformed input raises :class:`PageError`."""
    path = Path(path)
    try:
        meta, body_offset = split_front_matter(text)
    except (yaml.YAMLError, ValueError) as error:
        raise PageError(path, 1, f"malformed front matter: {error}") from None
    requires = _requires(meta, path)
    fences = iter_fences(text, path, body_offset)
    steps: list[Step] = []
    untagged: list[int] = []
    consumed: set[int] = set()
    for number, fence in enumerate(fences):
        if number in consumed:
            continue
        tokens = _split_info(fence.info, path, fence.line) if fence.info else []
        language = tokens[0] if tokens else ""
        tagged = len(tokens) > 1 and tokens[1] == TAG
        if not tagged and TAG in tokens[1:]:
            raise PageError(
                path, fence.line, f"the {TAG!r} tag must follow the language: ```sh dojo"
            )
        if _is_result_block(fence):
            raise PageError(
                path, fence.line, f"{RESULT_MARKER!r} block with no dojo step before it"
            )
        if not tagged:
            if language in SHELL_LANGUAGES:
                untagged.append(fence.line)
            continue
        if language not in SHELL_LANGUAGES:
            raise PageError(
                path, fence.line, f"dojo step in language {language!r}: use one of sh, bash, shell"
            )
        options = parse_options(tokens[2:], path=path, line=fence.line)
        body_lines = _split(fence.body)
        marker = next((i for i, ln in enumerate(body_lines) if ln.strip() == RESULT_MARKER), None)
        expected: str | None = None
        result_span: tuple[int, int] | None = None
        result_line: int | None = None
        form: Literal["inline", "block"] | None = None
        result_indent = fence.indent
        end = fence.end
        if marker is not None:
            command = "\n".join(body_lines[:marker])
            expected, result_span = _promise_after_marker(text, fence, marker)
            result_line = fence.line + 1 + marker
            form = "inline"
        else:
            command = "\n".join(body_lines)
            following = fences[number + 1] if number + 1 < len(fences) else None
            if (
                following is not None
                and _is_result_block(following)
                and not text[fence.end : following.start].strip()
            ):
                consumed.add(number + 1)
                f_lines = _split(following.body)
                f_marker = next(i for i, ln in enumerate(f_lines) if ln.strip() == RESULT_MARKER)
                expected, result_span = _promise_after_marker(text, following, f_marker)
                result_line = following.line + 1 + f_marker
                form = "block"
                result_indent = following.indent
                end = following.end
        if language in PROMPT_LANGUAGES:  # `$ docker node ls`: the prompt is not typed
            command = _without_prompts(command, path, fence.line)
        if not command.strip():
            raise PageError(path, fence.line, "dojo step with no command")
        steps.append(
            Step(
                path=path,
                line=fence.line,
                index=len(steps),
                command=command.strip("\n"),
                expected=expected,
                options=options,
                span=(fence.start, end),
                source=text[fence.start : end],
                result_span=result_span,
                result_line=result_line,
                result_form=form,
                result_indent=result_indent,
                language=language,
            )
        )
    return Page(
        path=path,
        text=text,
        meta=meta,
        requires=requires,
        steps=tuple(steps),
        untagged_shell_lines=tuple(untagged),
    )


def _requires(meta: dict[str, object], path: Path) -> tuple[Path, ...]:
    raw = meta.get("requires", [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise PageError(path, 2, "front matter 'requires' must be a page path or a list of them")
    return tuple((path.parent / item).resolve() for item in raw)


def parse_page(path: Path | str) -> Page:
    """Read and parse one page."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise PageError(path, line, f"not UTF-8 text (byte {raw[error.start]:#04x})") from None
    return parse_text(text, path)  # read byte-exact: CRLF stays CRLF, spans are exact


def _requires_line(page: Page, required: Path) -> int:
    """Line of the front matter that names ``required`` (for error messages)."""
    for number, line in enumerate(_split(page.text), start=1):
        if line.strip() == "---" and number > 1:
            break
        if required.name in line:
            return number
    return 1


def resolve_order(path: Path | str, _cache: dict[Path, Page] | None = None) -> list[Page]:
    """The page and its prerequisites, prerequisites first, each once.

    A missing prerequisite or a cycle is a :class:`PageError` naming the page and line.
    """
    cache = _cache if _cache is not None else {}
    order: list[Page] = []
    seen: set[Path] = set()

    def visit(current: Path, stack: tuple[Path, ...]) -> None:
        current = current.resolve()
        if current in seen:
            return
        page = cache.get(current)
        if page is None:
            page = parse_page(current)
            cache[current] = page
        for required in page.requires:
            if required in stack or required == current:
                cycle = " → ".join(p.name for p in (*stack, current, required))
                raise PageError(
                    page.path, _requires_line(page, required), f"prerequisite cycle: {cycle}"
                )
            if not required.is_file():
                raise PageError(
                    page.path,
                    _requires_line(page, required),
                    f"prerequisite {required.name!r} does not exist ({required})",
                )
            visit(required, (*stack, current))
        seen.add(current)
        order.append(page)

    visit(Path(path), ())
    return order
