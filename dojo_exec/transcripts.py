"""Recorded runs: one JSON file per page, committed, newest run first, secrets redacted.

A transcript lives at ``<root>/<page path relative to the docs dir>.json``.  The file is
written atomically (:func:`dojo_exec.writing.write_atomically`) with a stable key order and
two-space indentation; multi-line texts (command, promise, captured output, explanation) are stored
as lists of lines so that a changed output shows as a line diff in review.

Redaction (:func:`redact`) runs on every string before it is written.  What counts as a
secret (:data:`SECRET_PATTERNS`):

- swarm join tokens ``SWMTKN-1-…`` and swarm unlock keys ``SWMKEY-1-…``;
- PEM *private* keys (any ``-----BEGIN … PRIVATE KEY-----`` block, also JSON-escaped or
  truncated);
- registry credentials: Docker Hub tokens ``dckr_pat_…``/``dckr_oat_…``, GitHub tokens,
  AWS access key IDs, ``"auth": "…"`` entries of a Docker ``config.json``, HTTP
  ``Authorization: Bearer/Basic …`` values, JWTs, ``--password VALUE``.

Not secrets, kept verbatim: certificates (a swarm's TLS ``TrustRoot`` is the public CA
certificate every node and client receives), public keys, node/service/task IDs, image
digests and IP addresses.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

from dojo_exec.locations import display_path
from dojo_exec.verdicts import FAILED, VERDICTS, Verdict
from dojo_exec.writing import write_atomically

FORMAT = 1
TEXT_FIELDS = frozenset({"command", "expected", "captured", "explanation"})

#: (pattern, replacement) pairs; each replacement no longer matches its pattern.
SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"SWMTKN-1-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"), "SWMTKN-1-<redacted>"),
    (re.compile(r"SWMKEY-1-[A-Za-z0-9+/=_-]+"), "SWMKEY-1-<redacted>"),
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*\Z)",
            re.DOTALL,
        ),
        "<redacted private key>",
    ),
    (re.compile(r"\b(dckr_(?:pat|oat)_)[A-Za-z0-9_-]{16,}"), r"\1<redacted>"),
    (re.compile(r"(?<![A-Za-z0-9])(gh[pousr]_)[A-Za-z0-9]{30,}"), r"\1<redacted>"),
    (re.compile(r"\b(github_pat_)[A-Za-z0-9_]{22,}"), r"\1<redacted>"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "AKIA<redacted>"),
    (re.compile(r"(\"auth\"\s*:\s*\")[A-Za-z0-9+/=]{8,}(\")"), r"\1<redacted>\2"),
    (re.compile(r"(?i)\b(Authorization:\s*(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{8,}"),
     r"\1<redacted>"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "<redacted JWT>"),
    (re.compile(r"(--password(?:=|[ \t]+))(?![-<])\S+"), r"\1<redacted>"),
)  # fmt: skip


#: a cheap first pass: pattern i only runs when _HINTS[i] is in the lower-cased text.
_HINTS: tuple[tuple[str, ...], ...] = (
    ("swmtkn-",), ("swmkey-",), ("private key",), ("dckr_",),
    ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), ("github_pat_",), ("akia",), ('"auth"',),
    ("authorization",), ("eyj",), ("--password",),
)  # fmt: skip


def _candidates(text: str) -> list[tuple[re.Pattern[str], str]]:
    lowered = text.lower()
    return [
        pair
        for pair, hints in zip(SECRET_PATTERNS, _HINTS, strict=True)
        if any(hint in lowered for hint in hints)
    ]


def redact(text: str) -> str:
    """``text`` with every secret (see the module docstring) replaced by a marker."""
    for pattern, replacement in _candidates(text):
        text = pattern.sub(replacement, text)
    return text


def find_secrets(text: str) -> list[str]:
    """The secrets :func:`redact` would remove from ``text``, in order of the patterns."""
    found: list[str] = []
    for pattern, _ in _candidates(text):
        found.extend(match.group(0) for match in pattern.finditer(text))
    return found


@dataclass
class StepRecord:
    """What one step did in one run."""

    line: int
    digest: str  # Step.digest of the source that was run
    command: str
    expected: str | None
    captured: str
    exit_status: int | None
    duration: float
    verdict: Verdict
    attempts: int = 1
    reason: str | None = None  # why the step was skipped
    explanation: str = ""  # why it failed (matcher diff, diagnostics)
    hidden: bool = False
    checks: dict[str, bool] = field(default_factory=dict)  # semantic check → held


@dataclass
class RunRecord:
    """One run of a page, with its provenance."""

    page: str  # path relative to the docs dir, posix, e.g. "swarm.md"
    started: str  # ISO 8601 UTC
    duration: float
    docker_client: str
    docker_engine: str
    driver: str
    images: str
    dojo_exec: str
    steps: list[StepRecord]
    replayed: list[str] = field(default_factory=list)  # prerequisite pages replayed first

    def count(self, verdict: str) -> int:
        return sum(1 for step in self.steps if step.verdict == verdict)

    @property
    def passed(self) -> int:
        return self.count("passed")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def timeout(self) -> int:
        return self.count("timeout")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def error(self) -> int:
        return self.count("error")

    @property
    def ok(self) -> bool:
        """No step failed, timed out or errored (:data:`dojo_exec.verdicts.FAILED`)."""
        return not any(step.verdict in FAILED for step in self.steps)


@dataclass
class Transcript:
    """All kept runs of one page, newest first."""

    page: str
    runs: list[RunRecord]

    @property
    def latest(self) -> RunRecord | None:
        return self.runs[0] if self.runs else None


class TranscriptError(ValueError):
    """A transcript file that cannot be read."""


def _check_page(page: str) -> PurePosixPath:
    pure = PurePosixPath(page)
    if not page or pure.is_absolute() or ".." in pure.parts or "\\" in page:
        raise ValueError(f"page must be a relative posix path below the docs dir: {page!r}")
    return pure


def page_key(path: Path, docs_root: Path | None) -> str:
    """How a page is named in transcripts: relative to ``docs_root`` when below it."""
    if docs_root is not None:
        try:
            return path.resolve().relative_to(docs_root.resolve()).as_posix()
        except ValueError:
            pass
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:  # below neither: named by its file name (pass a docs root to keep folders)
        return path.name


def transcript_path(root: Path, page: str) -> Path:
    """``<root>/<page>.json``, e.g. ``transcripts/swarm.md.json``."""
    pure = _check_page(page)
    return Path(root).joinpath(*pure.parts[:-1], pure.name + ".json")


# --- (de)serialisation -------------------------------------------------------------------


def _encode_text(value: str | None) -> list[str] | None:
    return None if value is None else value.split("\n")


def _decode_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "\n".join(value)
    raise TranscriptError(f"expected a text or a list of lines, got {value!r}")


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {redact(key): _redacted(item) for key, item in value.items()}
    return value


def _run_to_json(run: RunRecord) -> dict[str, Any]:
    data = asdict(run)
    for step in data["steps"]:
        for name in TEXT_FIELDS:
            step[name] = _encode_text(step[name])
    return _redacted(data)


def _step_from_json(data: dict[str, Any]) -> StepRecord:
    if not isinstance(data, dict):
        raise TypeError(f"a step must be an object, got {data!r}")
    known = {f.name for f in fields(StepRecord)}
    values = {key: value for key, value in data.items() if key in known}
    for name in TEXT_FIELDS & values.keys():
        values[name] = _decode_text(values[name])
    if values.get("explanation") is None:
        values["explanation"] = ""
    if values.get("verdict") not in VERDICTS:
        raise TranscriptError(f"unknown verdict {values.get('verdict')!r}")
    return StepRecord(**values)


def _run_from_json(data: dict[str, Any]) -> RunRecord:
    if not isinstance(data, dict):
        raise TypeError(f"a run must be an object, got {data!r}")
    known = {f.name for f in fields(RunRecord)}
    values = {key: value for key, value in data.items() if key in known}
    values["steps"] = [_step_from_json(step) for step in values.get("steps", [])]
    return RunRecord(**values)


def dumps(transcript: Transcript) -> str:
    """The file text of ``transcript``: stable, indented, redacted, newline-terminated."""
    data = {
        "format": FORMAT,
        "page": transcript.page,
        "runs": [_run_to_json(run) for run in transcript.runs],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def loads(text: str, *, source: str = "<transcript>") -> Transcript:
    """Parse a transcript file's text; anything wrong is one line naming ``source``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TranscriptError(f"{source}:{error.lineno}: malformed JSON: {error.msg}") from None
    except RecursionError:
        raise TranscriptError(f"{source}: malformed JSON: nested too deeply") from None
    if not isinstance(data, dict) or "format" not in data:
        raise TranscriptError(f"{source}: not a dojo transcript (no format)")
    version = data["format"]
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT:
        raise TranscriptError(
            f"{source}: transcript format {version} is newer than this dojo_exec reads "
            f"({FORMAT}): upgrade dojo_exec"
        )
    if version != FORMAT:
        raise TranscriptError(
            f"{source}: unknown transcript format {version!r} (expected {FORMAT})"
        )
    try:
        runs = data["runs"]
        if not isinstance(data["page"], str) or not isinstance(runs, list):
            raise TypeError("'page' must be a text and 'runs' a list")
        return Transcript(page=data["page"], runs=[_run_from_json(run) for run in runs])
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        what = f"missing {error}" if isinstance(error, KeyError) else str(error)
        raise TranscriptError(f"{source}: malformed transcript: {what}") from None


def load_transcript(root: Path, page: str) -> Transcript | None:
    """The page's transcript, or None when it was never recorded."""
    path = transcript_path(root, page)
    source = display_path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise TranscriptError(f"{source}: cannot read it: {error.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise TranscriptError(f"{source}:{line}: not UTF-8 text") from None
    return loads(text, source=source)


def record_run(root: Path, run: RunRecord, keep: int = 10) -> Path:
    """Prepend ``run`` to its page's transcript, keep the newest ``keep`` runs, write it.

    Secrets are redacted before anything touches the disk; the previous file stays intact
    if serialising fails.
    """
    if keep < 1:
        raise ValueError("keep must be at least 1")
    path = transcript_path(root, run.page)
    existing = load_transcript(root, run.page)
    runs = [run, *(existing.runs if existing else [])][:keep]
    text = dumps(Transcript(page=run.page, runs=runs))
    write_atomically(path, text)
    return path


__all__ = [
    "SECRET_PATTERNS",
    "RunRecord",
    "StepRecord",
    "Transcript",
    "TranscriptError",
    "Verdict",
    "find_secrets",
    "load_transcript",
    "record_run",
    "redact",
    "transcript_path",
]
