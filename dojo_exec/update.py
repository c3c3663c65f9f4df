"""Rewrite drifted promises in place, touching nothing else.

Edits are collected while pages run and written at the end, bottom-up (so earlier
offsets stay valid), each page atomically (temporary file + rename): an interrupt
leaves either the old page or the new one, never half of it.

A page may have been parsed byte-exact (``parse_page``) or as Sybil reads it, with universal
newlines (``\\r\\n`` read as ``\\n``): either way the edits are carried over to the page's
own text when it is written, so a CRLF page stays CRLF, new promise lines included, and every
byte outside the drifted lines stays as it was.

A secret the run printed (a swarm join token, an unlock key, a TLS private key; what
:func:`dojo_exec.transcripts.find_secrets` finds) never reaches a page: a rewritten promise
holds, in its place, the author's own example from that promise when it had one, else a
clearly fake value of the same shape (``SWMTKN-1-0dojo0placeholder0…-…01``), one per real
secret and page, so that a later command pasting it still binds to the run's real value
(:mod:`dojo_exec.substitution`).  Secrets the page already held (an author's examples) stay.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dojo_exec.elisions import ELLIPSIS
from dojo_exec.judgement import match_options
from dojo_exec.matching import reconcile
from dojo_exec.page import Command, PageError, Step, display_path, session_text
from dojo_exec.substitution import Substitutions
from dojo_exec.transcripts import find_secrets, redact
from dojo_exec.writing import splice, write_atomically

_LINE = re.compile(r"[^\r\n]*(\r\n|\r|\n|$)")
_FENCE_RUN = re.compile(r" *(?P<fence>`{3,}|~{3,})")


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` of a page with ``replacement``."""

    path: Path
    start: int
    end: int
    replacement: str
    line: int  # the step's line, for messages
    part: int = 0  # which command of the step


def promise_edits(
    step: Step,
    captured: str,
    part: int = 0,
    authors: Substitutions | None = None,
    *,
    truncated: str | None = None,
) -> list[Edit]:
    """The edits that make ``step``'s promise keep ``captured``; none when nothing drifted.

    ``authors``: the run's substitutions; a value of the run that an earlier promise quoted
    under its own literal is written as that literal (:meth:`Substitutions.authors_values`).
    ``truncated``: what the capture leaves out (:attr:`StepRun.truncated`): such a capture is
    no promise to write (a :class:`PageError` naming the step).

    The promise's lines are replaced. A captured line that would close the fence holding
    the promise (a line of only backticks, or tildes, at least as long as that fence) is
    kept by lengthening a block-form promise's fence, opening and closing; an inline
    promise shares its fence with the step's command, which update does not touch: that
    is a :class:`PageError` naming the step.
    """
    command: Command = step.commands[part]
    if command.expected is None or command.result_span is None:
        return []
    if truncated is not None:  # its first line is the runner's notice, not the command's
        raise PageError(
            step.path,
            step.line,
            f"output too long to promise ({truncated}); "
            "promise not updated (promise its last lines after a `...` line by hand)",
        )
    expected = universal(command.expected)  # a page parsed byte-exact may have CRLF lines
    new_promise = reconcile(expected, captured, match_options(step))
    if new_promise == expected:
        return []
    if authors is not None:
        new_promise = authors.authors_values(new_promise, captured, match_options(step))
    lines = new_promise.strip("\n").splitlines()
    leading = expected[: len(expected) - len(expected.lstrip("\n"))]
    if not expected.strip():
        leading = "\n" if expected.startswith("\n") else ""
    indent = step.result_indent
    body = "".join(f"{indent}{ln}\n" if ln else "\n" for ln in lines)
    start, end = command.result_span
    promise = Edit(step.path, start, end, "\n" * leading.count("\n") + body, step.line, part)
    return [promise, *_longer_fence(step, command, lines, part)]


def _longer_fence(step: Step, command: Command, lines: list[str], part: int) -> list[Edit]:
    """Edits making the fence around ``step``'s promise longer than any of ``lines`` it holds."""
    assert command.result_span is not None
    source = step.source
    starts = [0, *(m.end() for m in re.finditer("\n", source) if m.end() < len(source))]
    if step.result_form == "block":  # its fence: the last non-blank line before the marker
        marker = starts.index(command.result_span[0] - step.span[0]) - 1
        opening = max(i for i in range(marker) if source[starts[i] : starts[i + 1]].strip())
    else:
        opening = 0
    runs = [_FENCE_RUN.match(source, starts[i]) for i in (opening, len(starts) - 1)]
    spans = [run.span("fence") for run in runs if run is not None]
    fence = source[slice(*spans[0])]
    closes = re.compile(rf" *{re.escape(fence[0])}{{{len(fence)},}}\s*")
    closers = [line.strip() for line in lines if closes.fullmatch(line)]
    if not closers:
        return []
    longer = fence[0] * (max(len(line) for line in closers) + 1)
    if step.result_form != "block":
        raise PageError(
            step.path,
            step.line,
            f"captured line {closers[0]!r} would close the step's {fence} fence; "
            f"promise not updated (make the fence {longer} by hand)",
        )
    at = step.span[0]
    return [Edit(step.path, at + start, at + end, longer, step.line, part) for start, end in spans]


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits bottom-up (:func:`dojo_exec.writing.splice`)."""
    return splice(text, [(edit.start, edit.end, edit.replacement) for edit in edits])


def universal(raw: str) -> str:
    """``raw`` as Python's universal newlines read it (as Sybil reads pages)."""
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def on_raw_text(raw: str, text: str, edits: list[Edit]) -> list[Edit]:
    """Edits made on ``text`` (``raw`` itself or ``universal(raw)``), carried over to ``raw``.

    Offsets in the universal text move past the ``\\r`` of each CRLF before them; the new
    lines of a replacement end as the line before it ends in ``raw`` (so a CRLF page gets CRLF
    promise lines whichever way it was read).
    """
    text_starts: list[int] = []  # where each line starts in ``text``
    raw_starts: list[int] = []  # and in ``raw``
    endings: list[str] = []
    text_at = 0
    for line in _LINE.finditer(raw):
        if not line.group():
            break
        text_starts.append(text_at)
        raw_starts.append(line.start())
        endings.append(line.group(1))
        text_at += len(line.group()) if text == raw else line.start(1) - line.start() + 1
    text_starts.append(len(text))  # the end of ``text`` is the end of ``raw``
    raw_starts.append(len(raw))
    endings.append("")

    def raw_offset(offset: int) -> int:
        index = bisect.bisect_right(text_starts, offset) - 1
        return raw_starts[index] + offset - text_starts[index]

    moved: list[Edit] = []
    for edit in edits:
        before = max(bisect.bisect_left(text_starts, edit.start) - 1, 0)
        replacement = edit.replacement.replace("\n", endings[before] or "\n")
        start, end = raw_offset(edit.start), raw_offset(edit.end)
        moved.append(Edit(edit.path, start, end, replacement, edit.line, edit.part))
    return moved


_TOKEN_HEAD = "SWMTKN-1-0dojo0placeholder0not0a0real0join0token"
_PRIVATE_KEY = re.compile(
    r"(?P<begin>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(?P<sep>\\n|\r?\n[ \t]*|\s)?.*?"
    r"(?P<end>-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)


def _family(secret: str) -> str:
    return "pem" if "PRIVATE KEY" in secret else secret[:9]


def fake_secret(secret: str, number: int) -> str:
    """A clearly fake value of ``secret``'s shape (``number`` tells fakes of a page apart)."""
    if secret.startswith("SWMTKN-1-"):
        return f"{_TOKEN_HEAD.ljust(59, '0')}-{number:025d}"
    if secret.startswith("SWMKEY-1-"):
        return f"SWMKEY-1-dojoPlaceholderNotARealUnlockKey{number:04d}"
    found = _PRIVATE_KEY.match(secret)
    if found:
        sep = found["sep"] or "\n"
        end = found["end"] or found["begin"].replace("BEGIN", "END")
        body = base64.b64encode(f"dojo-exec placeholder {number}, not a real key".encode())
        return f"{found['begin']}{sep}{body.decode()}{sep}{end}"
    return redact(secret)


_RUN_PATH = re.compile(r"""[^\s"'=]*/dojo-p[0-9a-f]{8}-\w+(?:/[^\s"']*)?""")
"""A path into a run's private folder (:meth:`dojo_exec.cluster.Cluster.create`)."""


def cut_run_paths(promise: str, page_text: str) -> str:
    """Lines of ``promise`` that show a path of the run (``DOCKER_CERT_PATH``, the TLS files
    of ``docker-machine config``, a working directory) end in ``...`` where the path starts:
    it differs in every run and says where the run kept its machines' certificates."""
    lines = promise.split("\n")
    for number, line in enumerate(lines):
        found = _RUN_PATH.search(line)
        if found is not None and found.group() not in page_text:
            lines[number] = line[: found.start()] + ELLIPSIS
    return "\n".join(lines)


class SecretPlaceholders:
    """Real secrets of a run -> what a page shows instead, consistently within each page."""

    def __init__(self) -> None:
        self._pages: dict[Path, dict[str, str]] = defaultdict(dict)

    def scrub(self, key: Path, promise: str, expected: str, page_text: str) -> str:
        """``promise`` (rewritten from ``expected``) with no secret that ``page_text`` lacks,
        and no path into the run's private folder (see :func:`cut_run_paths`)."""
        promise = cut_run_paths(promise, page_text)
        new = [s for s in dict.fromkeys(find_secrets(promise)) if s not in page_text]
        if not new:
            return promise
        assigned = self._pages[key]
        displaced = [s for s in dict.fromkeys(find_secrets(expected)) if s not in promise]
        for secret in new:
            if secret not in assigned:
                assigned[secret] = self._placeholder(secret, displaced, assigned, page_text)
            promise = promise.replace(secret, assigned[secret])
        return promise

    @staticmethod
    def _placeholder(
        secret: str, displaced: list[str], assigned: dict[str, str], page_text: str
    ) -> str:
        taken = set(assigned.values())
        for author in displaced:  # the author's example at that place, if it had one
            if _family(author) == _family(secret) and author not in taken:
                return author
        for number in itertools.count(1):
            fake = fake_secret(secret, number)
            if fake == fake_secret(secret, number + 1) or (
                fake not in taken and fake not in page_text
            ):
                return fake
        raise AssertionError("unreachable")


class PendingUpdates:
    """Edits collected during a run, written when the run ends; ``refused`` says what was not."""

    def __init__(self) -> None:
        self._edits: dict[Path, list[Edit]] = defaultdict(list)
        self._originals: dict[Path, str] = {}
        self._changed: set[Path] = set()  # read as two different texts during the run
        self.refused: list[str] = []  # one located line per update that was not made
        self.unstable: list[str] = []  # promises a second run broke, and what was written
        self.secrets = SecretPlaceholders()  # what the pages show instead of the run's secrets

    def add(
        self,
        step: Step,
        captured: str,
        page_text: str,
        part: int = 0,
        authors: Substitutions | None = None,
        *,
        truncated: str | None = None,
    ) -> Edit | None:
        """Record the edits for a drifted command of ``step`` (``part``: which command);
        ``page_text`` is the text the step was parsed from; ``authors`` the run's
        substitutions, ``truncated`` what the capture leaves out (see :func:`promise_edits`).

        Returns the promise's edit, or None when nothing drifted or the update is refused
        (then said in :attr:`refused`).
        """
        try:
            edits = promise_edits(step, captured, part, authors, truncated=truncated)
        except PageError as error:
            self.refused.append(str(error))
            return None
        if not edits:
            return None
        key = step.path.resolve()
        self._remember(key, page_text)
        expected = page_text[edits[0].start : edits[0].end]
        scrubbed = self.secrets.scrub(key, edits[0].replacement, expected, page_text)
        edits[0] = replace(edits[0], replacement=scrubbed)
        self._edits[key] = [
            e for e in self._edits[key] if (e.line, e.part) != (step.line, part)
        ] + edits
        return edits[0]

    def page_edits(self, path: Path) -> list[Edit]:
        """The pending edits of one page, on the text it was parsed from."""
        return list(self._edits.get(path.resolve(), []))

    def settle(self, step: Step, part: int, promise: str | None, report: str) -> None:
        """A rewritten promise that a second run broke: write ``promise`` (which keeps both
        runs) instead, or nothing when there is none; ``report`` says so in :attr:`unstable`."""
        key = step.path.resolve()
        kept = [e for e in self._edits.get(key, []) if (e.line, e.part) != (step.line, part)]
        self._edits[key] = kept
        if promise is not None:
            command = step.commands[part]
            assert command.result_span is not None
            indent = step.result_indent
            body = "".join(
                f"{indent}{ln}\n" if ln else "\n" for ln in promise.rstrip("\n").split("\n")
            )
            start, end = command.result_span
            original = self._originals.get(key, "")
            body = self.secrets.scrub(key, body, original[start:end], original)
            self._edits[key].append(Edit(step.path, start, end, body, step.line, part))
        self.unstable.append(redact(report))  # printed: the lines that varied may hold secrets

    def edits_of(self, step: Step) -> list[Edit]:
        """The pending edits of ``step`` (its promises, and its fences when lengthened)."""
        return [e for e in self._edits.get(step.path.resolve(), []) if e.line == step.line]

    def updated_step(self, step: Step) -> tuple[str, str | None]:
        """``step``'s source with its pending edits applied, and its promise as the page
        will then show it (for the transcript, so that it is not stale for this very edit)."""
        at, end = step.span
        edits = [e for e in self.edits_of(step) if at <= e.start <= e.end <= end]
        source = apply_edits(step.source, [_moved(e, -at) for e in edits])
        promised: list[str | None] = [command.expected for command in step.commands]
        for edit in edits:
            command = step.commands[edit.part]
            if command.result_span is not None and edit.start == command.result_span[0]:
                promised[edit.part] = "".join(
                    line.removeprefix(step.result_indent)
                    for line in edit.replacement.splitlines(True)
                )
        if len(step.commands) == 1:
            return source, promised[0]
        if all(promise is None for promise in promised):
            return source, None
        return source, session_text(step.commands, promised)

    def _remember(self, key: Path, page_text: str) -> None:
        if self._originals.setdefault(key, page_text) != page_text:
            self._changed.add(key)

    def __len__(self) -> int:
        """How many promises are to be rewritten."""
        return sum(_promises(edits) for edits in self._edits.values())

    def export(self) -> dict[str, Any]:
        """Plain data, for an xdist worker to hand its edits to the controller that writes them."""
        return {
            "pages": {
                str(path): {
                    "original": self._originals[path],
                    "edits": [[e.start, e.end, e.replacement, e.line, e.part] for e in edits],
                }
                for path, edits in self._edits.items()
            },
            "refused": self.refused,
            "unstable": self.unstable,
        }

    def merge(self, data: dict[str, Any]) -> None:
        """Take over the edits and refusals :meth:`export` gave in another process."""
        for name, page in data["pages"].items():
            key = Path(name)
            self._remember(key, page["original"])
            edits = [Edit(key, *edit) for edit in page["edits"]]
            commands = {(e.line, e.part) for e in edits}
            self._edits[key] = [
                e for e in self._edits[key] if (e.line, e.part) not in commands
            ] + edits
        self.refused += data["refused"]
        self.unstable += data.get("unstable", [])

    def write(self) -> list[str]:
        """Write every changed page; one line per page written.

        A page changed on disk since it was read, or one that cannot be read or written, is
        left as it is, with a line in :attr:`refused`; the other pages are written.
        """
        written: list[str] = []
        for path, edits in sorted(self._edits.items()):
            name = display_path(path)
            try:
                with path.open(encoding="utf-8", newline="") as page:  # CRLF stays CRLF
                    current = page.read()
                original = self._originals[path]
                if original not in (current, universal(current)) or path in self._changed:
                    self.refused.append(f"{name}: changed on disk during the run; not updated")
                    continue
                write_atomically(path, apply_edits(current, on_raw_text(current, original, edits)))
            except OSError as error:
                self.refused.append(f"{name}: {error.strerror or error}; not updated")
                continue
            written.append(f"{name}: {_promises(edits)} promise(s) updated")
        self._edits.clear()
        return written


def _moved(edit: Edit, by: int) -> Edit:
    return Edit(edit.path, edit.start + by, edit.end + by, edit.replacement, edit.line, edit.part)


def _promises(edits: list[Edit]) -> int:
    """How many promises ``edits`` rewrite (a lengthened fence is part of its command's)."""
    return len({(edit.line, edit.part) for edit in edits})
