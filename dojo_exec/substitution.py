"""Values quoted in a tutorial, used for real: the author's IDs and tokens in later commands.

Tutorials paste values from earlier output into later commands: ``docker swarm init``
prints a join token, and a later page runs ``docker swarm join --token SWMTKN-1-49nj…``;
``docker node ls`` shows an ID, and the next step inspects it.  The matcher binds each
volatile literal of a promise (IDs, tokens, digests, IPs, ports, keys; see
:mod:`dojo_exec.volatile`) to the value the run captured in its place.  A
:class:`Substitutions` record collects those bindings while a page runs (its prerequisite
pages included, in the same run) and, before each later command runs, replaces every such
literal in it by the value it was bound to.  The page, the command shown and recorded and
the transcript keep the author's text; only what the shell runs changes.

What is replaced, and what is not:

* only literals that an earlier promise of the run quoted *and* that were bound to a
  different captured value: an author's literal that never appeared in a promise, or that
  captured itself (``192.168.99.100`` on embedded machines), is left as it is;
* only whole tokens, with the edges the matcher itself uses: ``dxn1zf6l61qsb1josjja83ngz``
  in ``helloworld.1.dxn1zf6l61qsb1josjja83ngz`` (a task name) is replaced, never inside a
  longer word; a port only right after a ``:``;
* a 12-or-more character prefix of a bound ID (``docker stop 1f2a3b4c5d6e`` after ``docker
  run -d`` printed the 64-character ID) becomes the same prefix of the real ID, when only one
  bound ID starts with it;
* the latest binding of a literal wins (a later promise quoting the same literal rebinds it).

When a promise did not match (its output drifted, or an update is about to rewrite it), its
literals are still bound where that is unambiguous: a kind of which the promise quotes one
literal and the capture holds one value (so a drifted ``swarm init`` still hands its token
and node ID to the ``swarm join`` that follows; see :func:`loose_pairs`).

Placeholders that Docker's docs write in commands (``docker swarm init --advertise-addr
<MANAGER-IP>``) are given a value in the page's front matter, ``values: {"<MANAGER-IP>":
"192.168.99.100"}``, or for every page in ``pyproject.toml`` (``[tool.dojo-exec]`` table,
``values``; the page's win; see :mod:`dojo_exec.settings`).  A value may be a
shell expression, ``"$(docker-machine ip manager1)"``: it is written into the command, and
the shell that runs the command evaluates it.  A placeholder is replaced as written,
wherever it appears (``<MANAGER-IP>:2377``), in the commands of the page that sets it.

:meth:`Substitutions.notes` says what a command was run with, for a failure report; a join
token or private key is never shown there (only which page line printed it).

The other way round, for ``update`` (:meth:`Substitutions.authors_values`): a promise it
rewrites shows, for a value of the run that an earlier promise quoted under a literal of its
own, that literal again (the tutorial's node ID in a rewritten ``node ls``, not this run's),
wherever the promise still matches the capture.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dojo_exec.judgement import match_options
from dojo_exec.locations import display_path
from dojo_exec.matching import MatchOptions, MatchResult, match
from dojo_exec.page import Command, PageError, Step, split_front_matter
from dojo_exec.page import page_values as front_matter_values
from dojo_exec.settings import project_values
from dojo_exec.volatile import ACCEPT, BINDING_KINDS, volatile_values

MIN_PREFIX = 12
"""The shortest ID prefix that is replaced (Docker's own truncation)."""

_ALNUM_L, _ALNUM_R = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
_EDGES: dict[str, tuple[str, str]] = {
    "ip": (r"(?<![\w.])", r"(?!\w|\.\d)"),
    "port": (r"(?<=:)", r"(?!\d)"),
    "key": (r"(?<![\w+/=.:-])", r"(?![\w+/=.:-])"),
    "token": (r"(?<![\w-])", r"(?![\w-])"),
    "pem": ("", ""),
}
_SHAPE_ORDER = ("token", "digest", "pem", "engine", "hex64", "id25", "id12", "ip", "port", "key")
_ID_KINDS = frozenset({"id12", "id25", "hex64"})
_SECRET_KINDS = frozenset({"token"})
_PREFIX = re.compile(_ALNUM_L + rf"[a-z0-9]{{{MIN_PREFIX},63}}" + _ALNUM_R)


def kind_of(literal: str) -> str | None:
    """The identity kind of a bound literal, by its shape (when the matcher did not say)."""
    for kind in _SHAPE_ORDER:
        if re.fullmatch(ACCEPT[kind], literal):
            return kind
    return None


@dataclass(frozen=True)
class Bound:
    """A promised literal, the value the run captured for it, and where."""

    literal: str
    value: str
    kind: str
    where: str  # ``page.md:12``: the step whose promise bound it
    loose: bool = False  # bound in a promise that did not match (one of its kind each side)

    def shown(self) -> str:
        """The replacement as a failure report may show it (secrets never)."""
        value = self.value
        if self.kind in _SECRET_KINDS or "PRIVATE KEY" in value:
            value = f"the {self.kind} captured there"
        literal = self.literal if len(self.literal) <= 40 else self.literal[:37] + "…"
        how = ", the one value of its kind in a promise that did not match" if self.loose else ""
        return f"{literal} -> {value} (bound by {self.where}{how})"


@dataclass
class Substitutions:
    """Bindings learnt from the promises of a run, replaced in the commands that follow."""

    placeholders: dict[str, str] = field(default_factory=dict)  # ``<MANAGER-IP>`` -> value
    bound: dict[str, Bound] = field(default_factory=dict)  # promised literal -> binding
    _patterns: dict[tuple[str, ...], re.Pattern[str] | None] = field(
        default_factory=dict, repr=False
    )
    _values: dict[Path, dict[str, str]] = field(default_factory=dict, repr=False)
    _used: dict[str, list[str]] = field(default_factory=dict, repr=False)  # command -> notes

    # -- learning ------------------------------------------------------------------

    def learn_command(self, step: Step, command: Command, captured: str) -> None:
        """Learn from one command of ``step`` that ran and printed ``captured``."""
        where = f"{display_path(step.path)}:{command.line or step.line}"
        self.learn(command.expected, captured, match_options(step), where)

    def learn(self, expected: str | None, captured: str, options: MatchOptions, where: str) -> None:
        """Bind the literals of the promise ``expected`` to what ``captured`` holds there."""
        if expected is None or not _has_identities(expected, options):
            return
        result = match(expected, captured, options)
        if result.ok:
            self.learn_result(result, where)
        else:
            self.add(loose_pairs(expected, captured, options), where, loose=True)

    def learn_result(self, result: MatchResult, where: str) -> None:
        """Take the bindings of a successful match."""
        pairs = []
        for literal, value in result.bindings.items():
            kind = result.kinds.get(literal) or kind_of(literal)
            if kind is not None:
                pairs.append((kind, literal, value))
        self.add(pairs, where)

    def add(self, pairs: Iterable[tuple[str, str, str]], where: str, loose: bool = False) -> None:
        """Record (kind, literal, captured value) bindings; the latest of a literal wins."""
        for kind, literal, value in pairs:
            if kind not in BINDING_KINDS or not literal:
                continue
            old = self.bound.get(literal)
            if old is not None and old.value == value:
                continue
            self.bound.pop(literal, None)  # kept in the order bound: the latest last
            self.bound[literal] = Bound(literal, value, kind, where, loose)
            self._patterns.clear()

    # -- applying ------------------------------------------------------------------

    def apply(self, command: str, page: Path | None = None) -> str:
        """``command`` (of ``page``) with every bound literal and placeholder replaced."""
        placeholders = self.values_for(page)
        pattern = self._compiled(placeholders)
        self._used.pop(command, None)
        if pattern is None:
            return command
        used = self._used.setdefault(command, [])

        def replace(found: re.Match[str]) -> str:
            text = found.group()
            if found.lastgroup == "placeholder":
                used.append(f"{text} -> {placeholders[text]} (a value the page sets)")
                return placeholders[text]
            if found.lastgroup == "prefix":
                bound = self._prefix_of(text)
                if bound is None:
                    return text
                used.append(f"{text}… (a prefix) {bound.shown()}")
                return bound.value[: len(text)]
            bound = self.bound[text]
            used.append(bound.shown())
            return bound.value

        return pattern.sub(replace, command)

    def authors_values(self, promise: str, captured: str, options: MatchOptions) -> str:
        """``promise``, rewritten by update to keep ``captured``, with the run's values that an
        earlier promise quoted under a literal of its own written as that literal again (and a
        12-character ID as the same prefix of it), wherever the promise still matches: a
        rewritten ``node ls`` shows the tutorial's node IDs, not this run's."""
        reverse: dict[str, Bound] = {}
        for bound in self.changed().values():  # in the order bound: the latest wins
            if bound.kind in ("port", "pem"):
                continue
            reverse[bound.value] = bound
            if bound.kind in ("id25", "hex64"):
                short = Bound(bound.literal[:MIN_PREFIX], bound.value[:MIN_PREFIX], "id12", "")
                reverse.setdefault(short.value, short)
        swaps = []
        for value, bound in reverse.items():
            if bound.literal in promise:
                continue
            left, right = _EDGES.get(bound.kind, (_ALNUM_L, _ALNUM_R))
            pattern = re.compile(left + re.escape(value) + right)
            if pattern.search(promise):
                swaps.append((pattern, bound.literal))
        if not swaps:
            return promise
        every = promise
        for pattern, literal in swaps:
            every = _put(pattern, literal, every)
        if match(every, captured, options).ok:
            return every
        for pattern, literal in swaps:  # one at a time, each kept only if it still matches
            candidate = _put(pattern, literal, promise)
            if match(candidate, captured, options).ok:
                promise = candidate
        return promise

    def notes(self, commands: Iterable[Command]) -> list[str]:
        """What :meth:`apply` last replaced in ``commands`` (a step's), for a failure report."""
        found = [note for c in commands for note in self._used.get(c.text, [])]
        return list(dict.fromkeys(found))

    def report(self, commands: Iterable[Command]) -> str:
        """``""``, or a paragraph to add to a failure's explanation: what the step ran with."""
        notes = self.notes(commands)
        if not notes:
            return ""
        lines = "\n".join(f"    {note}" for note in notes)
        return f"\nrun with the values of this run in place of the page's:\n{lines}"

    def values_for(self, page: Path | None) -> dict[str, str]:
        """The placeholders of ``page``: the project's, its front matter's, then this record's."""
        if page is None:
            return self.placeholders
        key = page.resolve()
        if key not in self._values:
            self._values[key] = {**project_values(key), **page_values(key)}
        return {**self._values[key], **self.placeholders}

    def changed(self) -> dict[str, Bound]:
        """The bindings that change a command: literals bound to another value."""
        return {k: b for k, b in self.bound.items() if b.value != b.literal}

    def _compiled(self, placeholders: dict[str, str]) -> re.Pattern[str] | None:
        key = tuple(sorted(placeholders))
        if key not in self._patterns:
            self._patterns[key] = self._pattern(placeholders)
        return self._patterns[key]

    def _pattern(self, placeholders: dict[str, str]) -> re.Pattern[str] | None:
        changed = self.changed()
        parts = []
        if placeholders:
            names = sorted(placeholders, key=len, reverse=True)
            parts.append("(?P<placeholder>" + "|".join(map(re.escape, names)) + ")")
        if changed:
            exact = []
            for bound in sorted(changed.values(), key=lambda b: len(b.literal), reverse=True):
                left, right = _EDGES.get(bound.kind, (_ALNUM_L, _ALNUM_R))
                exact.append(left + re.escape(bound.literal) + right)
            parts.append("(?P<exact>" + "|".join(exact) + ")")
            if any(b.kind in ("id25", "hex64") for b in changed.values()):
                parts.append("(?P<prefix>" + _PREFIX.pattern + ")")
        return re.compile("|".join(parts)) if parts else None

    def _prefix_of(self, text: str) -> Bound | None:
        """The one changed ID binding whose literal starts with ``text`` (longer than it)."""
        found = [
            b
            for b in self.changed().values()
            if b.kind in _ID_KINDS and len(b.literal) > len(text) and b.literal.startswith(text)
        ]
        values = {b.value[: len(text)] for b in found}
        return found[0] if len(values) == 1 else None


def _put(pattern: re.Pattern[str], literal: str, text: str) -> str:
    """``text`` with every match of ``pattern`` replaced by ``literal`` as it is."""
    return pattern.sub(lambda _: literal, text)


def _has_identities(expected: str, options: MatchOptions) -> bool:
    """Cheap test: does the promise quote any value that binds?  (Else nothing to learn.)"""
    if any(kind in BINDING_KINDS for kind, _ in volatile_values(expected, options.versions)):
        return True
    # ID columns bind IDs without a digit too: let the matcher decide
    return bool(re.search(r"(?m)^\s*[a-z0-9]{12}(?:[a-z0-9]{13})?(?: \*)?(?:\s|$)", expected))


def loose_pairs(expected: str, captured: str, options: MatchOptions) -> list[tuple[str, str, str]]:
    """Bindings of a promise that did not match, where they are unambiguous.

    A kind of which the promise quotes one distinct literal and the capture holds one
    distinct value binds that literal to that value (the token and node ID of a ``swarm
    init`` whose text drifted); kinds with several (a ``node ls`` table) bind nothing, since
    pairing them by order could pair the wrong rows.
    """
    promised = _distinct_by_kind(volatile_values(expected, options.versions))
    found = _distinct_by_kind(volatile_values(captured, options.versions))
    return [
        (kind, literals[0], found[kind][0])
        for kind, literals in promised.items()
        if kind in BINDING_KINDS and len(literals) == 1 and len(found.get(kind, ())) == 1
    ]


def _distinct_by_kind(values: list[tuple[str, str]]) -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {}
    for kind, value in values:
        seen = by_kind.setdefault(kind, [])
        if value not in seen:
            seen.append(value)
    return by_kind


def page_values(page: Path) -> dict[str, str]:
    """The ``values:`` of ``page``'s front matter (``{}`` when it has none or cannot be read:
    the page's parser refuses a malformed one)."""
    try:
        meta, _ = split_front_matter(page.read_text(encoding="utf-8"))
        return front_matter_values(meta, page)
    except (OSError, ValueError, PageError, yaml.YAMLError):
        return {}
