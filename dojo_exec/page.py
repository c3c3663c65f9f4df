"""Markdown page → Steps: the one parser of the page format.

A step is a fenced shell block whose info string carries the ``dojo`` tag.  Its commands
and promises are written in one of two ways:

* a script (``sh``/``bash``/``shell``) whose promised output follows a ``# Result ==>``
  line, inside the block (inline form) or as the first line of the next block (block form)::

      ```sh dojo timeout=60 wait=30 check="no rows where NODE = manager1"
      docker service ps helloworld
      # Result ==>
      ID   NAME   ...
      ```

* a console session (:mod:`dojo_exec.console`), as tutorials show a terminal: prompt lines
  are commands, the lines after each are its promise; ``[manager1]$`` runs on ``manager1``.
  ``console`` and ``shell-session`` blocks are read so, and so is a script block whose first
  line starts with a prompt.

The lexing of fences is :mod:`dojo_exec.fences`, the options :mod:`dojo_exec.options`, the
prompts :mod:`dojo_exec.prompts`; this module builds steps and pages and orders prerequisites.
"""

from __future__ import annotations

import functools
import hashlib
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import yaml

from dojo_exec.console import SessionCommand, SourceLine, parse_session, starts_with_prompt
from dojo_exec.fences import Fence, _split, _split_keepends, iter_fences
from dojo_exec.locations import PageError, display_path
from dojo_exec.options import (
    DEFAULT_TIMEOUT,
    MACHINE_NAME,
    OPTION_HELP,
    StepOptions,
    claim_id,
    parse_options,
)
from dojo_exec.prompts import PromptError, Prompts
from dojo_exec.settings import project_prompts, project_values, values_setting

__all__ = [
    "DEFAULT_TIMEOUT",
    "OPTION_HELP",
    "TAG",
    "Command",
    "Page",
    "PageError",
    "Step",
    "StepOptions",
    "display_path",
    "first_h1",
    "parse_page",
    "parse_text",
    "resolve_order",
    "session_text",
    "source_digest",
]

TAG = "dojo"
DEFAULT_LANGUAGE = "sh"  # of a block tagged ```dojo with no language
SHELL_LANGUAGES = frozenset({"sh", "bash", "shell", "console", "shell-session"})
PROMPT_LANGUAGES = frozenset({"console", "shell-session"})
"""Languages whose blocks are console sessions (prompt lines and their output)."""
RESULT_MARKER = "# Result ==>"


_ID_OPTION = re.compile(r"""[ \t]+id=(["']?)[A-Za-z0-9][A-Za-z0-9_-]*\1(?=[ \t]|$)""")


def source_digest(source: str) -> str:
    """The digest of a step's source text, whatever its line endings.

    The opening fence's ``id=`` option does not count: a name is not behaviour, so naming a
    step (or renaming it) leaves its recorded runs fresh.
    """
    text = source.replace("\r\n", "\n")
    first, newline, rest = text.partition("\n")
    text = _ID_OPTION.sub("", first) + newline + rest
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_LOGIN = re.compile(r"docker-machine\s+ssh\s+([A-Za-z0-9][\w.-]*)")
LOGOUTS = frozenset({"exit", "logout"})
"""Commands that end an interactive login (they run nowhere else while logged in)."""


@dataclass(frozen=True)
class Command:
    """One command of a step, where it runs, and the output the page promises for it."""

    text: str  # what is run (prompts and continuation prompts removed)
    expected: str | None = None  # its promise, None when the page promises nothing
    machine: str | None = None  # the machine its prompt names (``[manager1]$``), if any
    prompt: str = ""  # the prompt as written ("" in a script block)
    line: int = 0  # 1-based line of the command
    result_span: tuple[int, int] | None = None  # offsets of its promise in the page
    result_line: int | None = None  # 1-based line of the marker, or of the first output line

    @property
    def login(self) -> str | None:
        """The machine an interactive ``docker-machine ssh NAME`` (no command) logs in to.

        A reader's terminal is then on NAME until ``exit``: such a command is not run (it
        would wait for keys), and the commands after it whose prompt names no machine run on
        NAME; its promise (a login banner) is not compared.
        """
        found = _LOGIN.fullmatch(self.text.strip())
        return found[1] if found else None


@dataclass(frozen=True)
class Step:
    """One executable step of a page, located exactly in its source.

    ``commands`` run in order; ``command`` and ``expected`` are what a reader sees: for one
    command its text and promise, for a console session of several the commands (one per
    line, prompts removed: what a reader copies) and the session as the page shows it.
    """

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
    commands: tuple[Command, ...] = ()

    def __post_init__(self) -> None:
        if not self.commands:  # a step built by hand: one command, the step's own promise
            one = Command(
                self.command,
                self.expected,
                line=self.line,
                result_span=self.result_span,
                result_line=self.result_line,
            )
            object.__setattr__(self, "commands", (one,))

    @property
    def session(self) -> bool:
        """Whether the step shows its commands with prompts (a console session)."""
        return any(command.prompt for command in self.commands)

    @functools.cached_property
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


def _front_matter_error(path: Path, error: Exception) -> PageError:
    """A YAML error as one line, at the page line it points at (front matter starts at 2)."""
    mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
    said = [getattr(error, "context", None), getattr(error, "problem", None)]
    what = ": ".join(str(part) for part in said if part) or str(error)
    line = 2 + mark.line if mark is not None else 1
    return PageError(path, line, f"malformed front matter: {' '.join(what.split())}")


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
        raise _front_matter_error(path, error) from None
    except RecursionError:
        raise PageError(path, 1, "malformed front matter: nested too deeply") from None
    requires = _requires(meta, path)
    page_prompts = _page_prompts(meta, path)
    page_machine = _page_machine(meta, path)
    page_values(meta, path)  # refused here, at its line, when malformed
    project_values(path)  # and the project's (pyproject.toml, mkdocs.yml), at theirs
    examples: list[Fence] = []
    fences = iter_fences(text, path, body_offset, examples)
    _refuse_tagged_examples(examples, path)
    steps: list[Step] = []
    untagged: list[int] = []
    consumed: set[int] = set()
    ids: dict[str, int] = {}
    for number, fence in enumerate(fences):
        if number in consumed:
            continue
        tokens = _split_info(fence.info, path, fence.line) if fence.info else []
        if tokens[:1] == [TAG]:
            # ```dojo: a block with no language (docker/machine's and SwarmKit's ``` + `$ `)
            tokens = [DEFAULT_LANGUAGE, *tokens]
        language = tokens[0] if tokens else ""
        tagged = len(tokens) > 1 and tokens[1] == TAG
        if not tagged and TAG in tokens[1:]:
            raise PageError(
                path, fence.line, f"the {TAG!r} tag must follow the language: ```sh dojo"
            )
        if _is_result_block(fence) and not tagged:  # a tagged one is a step with no command
            raise PageError(
                path, fence.line, f"{RESULT_MARKER!r} block with no dojo step before it"
            )
        if not tagged:
            if language in SHELL_LANGUAGES:
                untagged.append(fence.line)
            continue
        if language not in SHELL_LANGUAGES:
            raise PageError(
                path,
                fence.line,
                f"dojo step in language {language!r}: use one of "
                + ", ".join(sorted(SHELL_LANGUAGES)),
            )
        options = parse_options(tokens[2:], path=path, line=fence.line)
        claim_id(options, ids, path=path, line=fence.line)
        prompts = _prompts(page_prompts, options, path, fence.line)
        following = fences[number + 1] if number + 1 < len(fences) else None
        if following is not None and not (
            _is_result_block(following) and not text[fence.end : following.start].strip()
        ):
            following = None
        if options.machine is None and page_machine is not None:
            options = replace(options, machine=page_machine)
        step = _step(text, path, fence, following, options, prompts, language, len(steps))
        if step.result_form == "block":
            consumed.add(number + 1)
        steps.append(step)
    return Page(
        path=path,
        text=text,
        meta=meta,
        requires=requires,
        steps=tuple(steps),
        untagged_shell_lines=tuple(untagged),
    )


def _step(
    text: str,
    path: Path,
    fence: Fence,
    following: Fence | None,
    options: StepOptions,
    prompts: Prompts,
    language: str,
    index: int,
) -> Step:
    """The step of a tagged fence (and of the Result block after it, if any)."""
    body_lines = _split(fence.body)
    marker = next((i for i, ln in enumerate(body_lines) if ln.strip() == RESULT_MARKER), None)
    lines = _source_lines(text, fence)
    commands: list[Command]
    form: Literal["inline", "block"] | None = None
    result_indent = fence.indent
    end = fence.end
    if marker is None and following is None and _is_session(lines, prompts, language):
        session = parse_session(lines, prompts, path)
        if not session:
            raise PageError(path, fence.line, "dojo step with no command")
        commands = [_from_session(command) for command in session]
        if any(command.expected is not None for command in commands):
            form = "inline"
    else:
        expected: str | None = None
        result_span: tuple[int, int] | None = None
        result_line: int | None = None
        command_lines = lines
        if marker is not None:
            command_lines = lines[:marker]
            expected, result_span = _promise_after_marker(text, fence, marker)
            result_line = fence.line + 1 + marker
            form = "inline"
        elif following is not None:
            f_lines = _split(following.body)
            f_marker = next(i for i, ln in enumerate(f_lines) if ln.strip() == RESULT_MARKER)
            expected, result_span = _promise_after_marker(text, following, f_marker)
            result_line = following.line + 1 + f_marker
            form = "block"
            result_indent = following.indent
            end = following.end
        script = _script(command_lines, prompts, language, path, fence.line)
        commands = [
            Command(
                script.text,
                expected,
                script.machine,
                script.prompt,
                script.line,
                result_span,
                result_line,
            )
        ]
    if not any(command.text.strip() for command in commands):
        raise PageError(path, fence.line, "dojo step with no command")
    one = commands[0] if len(commands) == 1 else None
    return Step(
        path=path,
        line=fence.line,
        index=index,
        command=one.text if one else "\n".join(command.text for command in commands),
        expected=one.expected if one else _session_promise(commands),
        options=options,
        span=(fence.start, end),
        source=text[fence.start : end],
        result_span=one.result_span if one else None,
        result_line=one.result_line if one else None,
        result_form=form,
        result_indent=result_indent,
        language=language,
        commands=tuple(commands),
    )


def _from_session(command: SessionCommand) -> Command:
    return Command(
        text=command.text,
        expected=command.expected,
        machine=command.machine,
        prompt=command.prompt,
        line=command.line,
        result_span=command.output_span,
        result_line=command.output_line,
    )


def _script(
    lines: list[SourceLine], prompts: Prompts, language: str, path: Path, line: int
) -> Command:
    """The command of a step whose promise follows ``# Result ==>``: one script.

    Prompt lines there (``$ a`` / ``$ b``) are one script whose output is the one promise;
    they must all run in the same place.
    """
    if _is_session(lines, prompts, language):
        session = parse_session(lines, prompts, path)
        stray = next((c for c in session if c.expected is not None), None)
        if stray is not None and stray.output_line is not None:
            shown = (stray.expected or "").strip().splitlines()[0]
            raise PageError(
                path,
                stray.output_line,
                f"console step: {shown!r} has no prompt; output belongs after {RESULT_MARKER!r}",
            )
        if session:
            places = {command.machine for command in session}
            if len(places) > 1:
                raise PageError(
                    path,
                    line,
                    f"one {RESULT_MARKER!r} for commands on different machines: leave the "
                    "marker out and write each command's output after it",
                )
            return Command(
                "\n".join(command.text for command in session),
                machine=session[0].machine,
                prompt=session[0].prompt,
                line=session[0].line,
            )
    text = "\n".join(source.text for source in lines).strip("\n")
    return Command(text, line=line + 1)


def _is_session(lines: list[SourceLine], prompts: Prompts, language: str) -> bool:
    """A console block with a prompt line, or a script block that starts with one."""
    if language in PROMPT_LANGUAGES:
        return any(prompts.match(line.text) for line in lines)
    return starts_with_prompt(lines, prompts)


def _session_promise(commands: list[Command]) -> str | None:
    """A session's promise as the page shows it: each prompt, command and promised output."""
    if all(command.expected is None for command in commands):
        return None
    return session_text(commands, [command.expected for command in commands])


def session_text(commands: Sequence[Command], outputs: Sequence[str | None]) -> str:
    """Commands and their outputs as a terminal shows them: prompt, command, output.

    The one rendering of a session, for its promise, its capture and its updated promise.
    """
    shown: list[str] = []
    for command, output in zip(commands, outputs, strict=False):
        shown.append((command.prompt or "$ ") + command.text.replace("\n", "\n> ") + "\n")
        if output:
            shown.append(output if output.endswith("\n") else output + "\n")
    return "".join(shown)


def _source_lines(text: str, fence: Fence) -> list[SourceLine]:
    """The body lines of ``fence`` with their offsets in ``text``."""
    lines: list[SourceLine] = []
    offset = fence.body_start
    for number, raw in enumerate(_split_keepends(text[fence.body_start : fence.body_end])):
        content = raw.removesuffix("\n").removesuffix("\r")
        if fence.indent and content.startswith(fence.indent):
            content = content[len(fence.indent) :]
        lines.append(SourceLine(content, offset, offset + len(raw), fence.line + 1 + number))
        offset += len(raw)
    return lines


def _page_prompts(meta: dict[str, object], path: Path) -> tuple[str, ...]:
    """Prompts the project's settings and the page's front matter (``prompts:``) add."""
    raw = meta.get("prompts", [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise PageError(path, 2, "front matter 'prompts' must be a prompt or a list of them")
    return (*raw, *project_prompts(path))


def _page_machine(meta: dict[str, object], path: Path) -> str | None:
    """The front matter's ``machine:``: where the page's commands run unless a prompt says."""
    raw = meta.get("machine")
    if raw is None:
        return None
    if not isinstance(raw, str) or not MACHINE_NAME.fullmatch(raw):
        raise PageError(path, 2, f"front matter 'machine' must be a machine name (got {raw!r})")
    return raw


def page_values(meta: dict[str, object], path: Path) -> dict[str, str]:
    """The front matter's ``values:``: placeholder -> what commands run with instead."""
    try:
        return values_setting(meta.get("values"))
    except ValueError as error:
        raise PageError(path, 2, f"front matter {error}") from None


def _prompts(extra: tuple[str, ...], options: StepOptions, path: Path, line: int) -> Prompts:
    prompts = Prompts.with_extra((*options.prompts, *extra))
    try:
        prompts.validate()
    except PromptError as error:
        raise PageError(path, line, str(error)) from None
    return prompts


def _refuse_tagged_examples(examples: list[Fence], path: Path) -> None:
    """A tagged fence that Markdown reads as an indented code block must not vanish silently."""
    for example in examples:
        tokens = example.info.split()
        if TAG in tokens[:2]:
            raise PageError(
                path,
                example.line,
                f"this {TAG} step is indented {len(example.indent.expandtabs(4))} spaces outside "
                "a list item, "
                "so Markdown reads it as an indented code block (text), not a step: indent it "
                "under its list item (no blank-line-separated paragraph in between) or by fewer "
                "than 4 spaces",
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
