"""Shell prompts in ``console`` blocks: which lines are commands, and which machine they run on.

A prompt is written as literal text with placeholders: ``{machine}`` (a machine name: the
command runs in a shell on that machine), ``{user}`` and ``{path}``.  The built-in ones::

    $                      the page's own shell
    [{machine}]$           [manager1]$ docker node ls      (Docker's swarm tutorial)
    {user}@{machine}:{path}$   docker@manager1:~$ docker node ls
    {machine}$             manager1$ docker node ls

``# `` (a root prompt) is not built in, since a comment reads the same: a block, a page's
front matter (``prompts: ["# "]``) or the project (``prompts`` in the MkDocs plugin's options
or ``[tool.dojo-exec]`` in ``pyproject.toml``) adds it, and any other prompt, the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

PLACEHOLDERS = {
    "machine": r"(?P<machine>[A-Za-z0-9][\w.-]*)",
    "user": r"[A-Za-z_][\w.-]*",
    "path": r"[^\s$#]*",
}
BUILT_IN = ("[{machine}]$ ", "{user}@{machine}:{path}$ ", "{machine}$ ", "$ ")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class PromptError(ValueError):
    """A prompt pattern that cannot be used."""


@dataclass(frozen=True)
class PromptLine:
    """A line that starts with a prompt: what was written before the command, and where it runs."""

    prompt: str  # the prompt as written (indentation excluded)
    command: str  # the rest of the line
    machine: str | None  # the machine the prompt names, if any


def compile_prompt(pattern: str) -> re.Pattern[str]:
    """``[{machine}]$ `` → a regex matching that prompt at the start of a line.

    A prompt ending in ``$``, ``#`` or ``>`` also matches a line holding the prompt alone.
    """
    parts: list[str] = []
    position = 0
    for found in _PLACEHOLDER.finditer(pattern):
        name = found.group(1)
        if name not in PLACEHOLDERS:
            known = ", ".join(f"{{{key}}}" for key in PLACEHOLDERS)
            raise PromptError(f"prompt {pattern!r}: unknown placeholder {{{name}}} ({known})")
        parts.append(re.escape(pattern[position : found.start()]))
        parts.append(PLACEHOLDERS[name])
        position = found.end()
    if pattern.count("{machine}") > 1:
        raise PromptError(f"prompt {pattern!r}: {{machine}} may appear once")
    tail = pattern[position:]
    if not pattern.strip():
        raise PromptError("an empty prompt would make every line a command")
    if tail.endswith(" "):  # `$ cmd`, or `$` alone at the end of the line
        parts.append(re.escape(tail[:-1]) + r"(?: |$)")
    else:
        parts.append(re.escape(tail))
    return re.compile(r"^[ \t]*(?P<prompt>" + "".join(parts) + ")")


@lru_cache(maxsize=256)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(compile_prompt(pattern) for pattern in patterns)


@dataclass(frozen=True)
class Prompts:
    """The prompts a console block recognises, tried in order (longest built-ins first)."""

    patterns: tuple[str, ...] = BUILT_IN

    @classmethod
    def with_extra(cls, extra: Iterable[str]) -> Prompts:
        """The built-in prompts and ``extra`` (tried first: a project's prompt wins)."""
        added = tuple(dict.fromkeys(extra))
        return cls((*added, *(p for p in BUILT_IN if p not in added)))

    def validate(self) -> None:
        """Raise :class:`PromptError` for a pattern that cannot be used."""
        _compiled(self.patterns)

    def match(self, line: str) -> PromptLine | None:
        """The prompt that starts ``line``, if any."""
        for regex in _compiled(self.patterns):
            found = regex.match(line)
            if found is None:
                continue
            machine = found.groupdict().get("machine")
            return PromptLine(
                prompt=found.group("prompt").rstrip(" ") + " ",
                command=line[found.end() :],
                machine=machine,
            )
        return None
