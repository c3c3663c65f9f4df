"""Console sessions: a block of prompt lines (commands) each followed by its output (promise).

This is how tutorials show a terminal::

    $ docker service create --replicas 1 --name helloworld \\
        alpine ping docker.com
    9uk4639qpg7npwf3fn2aasksr
    [manager1]$ docker service ls
    ID            NAME        REPLICAS  IMAGE   COMMAND
    9uk4639qpg7n  helloworld  1/1       alpine  ping docker.com

A line that starts with a prompt (:mod:`dojo_exec.prompts`) is a command; a command ending
in ``\\`` goes on on the next line, ``> `` lines right after it are its continuation lines,
and a here-document's lines run up to its delimiter.  The lines after a command up to the next
prompt line are its output, blank lines included (blank lines at the end are the block's
layout, not output).  A command with no output lines promises nothing.  Comment lines before
the first prompt are ignored; any other line there is an error: it is nobody's output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dojo_exec.locations import PageError
from dojo_exec.prompts import Prompts

_CONTINUATION = re.compile(r"^[ \t]*>(?: |$)")
_HEREDOC = re.compile(r"<<-?[ \t]*(?P<quote>['\"]?)(?P<word>[A-Za-z_][\w-]*)(?P=quote)")


@dataclass(frozen=True)
class SourceLine:
    """One line of a block's body: its text (fence indentation removed) and where it is."""

    text: str  # without its line ending
    start: int  # offset of the raw line in the page
    end: int  # offset just after the raw line (its line ending included)
    number: int  # 1-based line number in the page


@dataclass(frozen=True)
class SessionCommand:
    """One command of a console session and the output the page shows for it."""

    prompt: str
    machine: str | None
    text: str  # what is run: prompts and continuation prompts removed
    line: int  # 1-based line of the prompt
    expected: str | None  # the promised output, None when the page shows none
    output_span: tuple[int, int] | None  # offsets of the output lines in the page
    output_line: int | None  # 1-based line of the first output line


def starts_with_prompt(lines: list[SourceLine], prompts: Prompts) -> bool:
    """Whether the block's first line that is neither blank nor a comment is a prompt line."""
    for line in lines:
        if not line.text.strip() or (
            line.text.lstrip().startswith("#") and prompts.match(line.text) is None
        ):
            continue
        return prompts.match(line.text) is not None
    return False


def parse_session(lines: list[SourceLine], prompts: Prompts, path: Path) -> list[SessionCommand]:
    """The commands of a console session, each with its output; malformed input is an error."""
    commands: list[SessionCommand] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        found = prompts.match(line.text)
        if found is None:
            if line.text.strip() and not line.text.lstrip().startswith("#"):
                raise PageError(
                    path,
                    line.number,
                    f"console step: {line.text.strip()!r} comes before any prompt line "
                    "(a command starts with a prompt such as '$ ')",
                )
            index += 1
            continue
        parts = [found.command]
        index += 1
        index = _continuation(lines, index, parts, prompts)
        output: list[SourceLine] = []
        while index < len(lines) and prompts.match(lines[index].text) is None:
            output.append(lines[index])
            index += 1
        text = "\n".join(parts).strip("\n")
        if not text.strip():  # a prompt alone: nothing was typed there
            continue
        commands.append(_command(found.prompt, found.machine, text, line.number, output))
    return commands


def _continuation(lines: list[SourceLine], index: int, parts: list[str], prompts: Prompts) -> int:
    """Take the command's continuation lines into ``parts``; returns the next line's index."""
    while index < len(lines):
        current = "\n".join(parts)
        line = lines[index].text
        if _open_backslash(current):
            parts.append(
                _CONTINUATION.sub("", line, count=1) if _CONTINUATION.match(line) else line
            )
        elif _CONTINUATION.match(line) and prompts.match(line) is None:
            parts.append(_CONTINUATION.sub("", line, count=1))
        else:
            delimiters = _open_heredocs(current)
            if not delimiters:
                return index
            parts.append(
                _CONTINUATION.sub("", line, count=1) if _CONTINUATION.match(line) else line
            )
        index += 1
    return index


def _open_backslash(command: str) -> bool:
    last = command.rsplit("\n", 1)[-1]
    return (len(last) - len(last.rstrip("\\"))) % 2 == 1


def _open_heredocs(command: str) -> list[str]:
    """Here-document delimiters of ``command`` whose closing line has not come yet."""
    lines = command.split("\n")
    pending: list[str] = []
    for line in lines:
        if pending and line.strip() == pending[0]:
            pending.pop(0)
            continue
        if not pending:
            pending.extend(found["word"] for found in _HEREDOC.finditer(line))
    return pending


def _command(
    prompt: str, machine: str | None, text: str, line: int, output: list[SourceLine]
) -> SessionCommand:
    while output and not output[-1].text.strip():
        output.pop()
    if not output:
        return SessionCommand(prompt, machine, text, line, None, None, None)
    expected = "".join(f"{o.text}\n" for o in output)
    return SessionCommand(
        prompt,
        machine,
        text,
        line,
        expected,
        (output[0].start, output[-1].end),
        output[0].number,
    )
