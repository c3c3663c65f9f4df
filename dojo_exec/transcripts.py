"""Recorded runs: one JSON file per page, committed, secrets redacted.

A transcript lives at ``<root>/<page path relative to the docs dir>.json``.  The file is
written atomically (:func:`dojo_exec.writing.write_atomically`) with a stable key order and
two-space indentation; multi-line texts (command, promise, captured output, explanation) are stored
as lists of lines so that a changed output shows as a line diff in review.

What is kept (format 2, :func:`merge_run`):

- ``runs``: the latest full run per (Docker engine version, driver), each in its place (a run
  on a new engine or driver comes first), so that every engine a page was verified on stays
  on record however many runs another engine gets;
- ``history``: superseded runs in short (date, engine, driver, each step's line, digest and
  verdict), newest first, at most :data:`HISTORY`.

A run whose outcome is the same as the kept run of its engine and driver (same steps, same
verdicts, same exit statuses, same failure texts; captured outputs of passed steps may
differ: IDs and addresses change every run) does not replace it: only the date and the
durations (and attempts) are updated, and ``unchanged_since`` says since when the outcome
(and the captured outputs shown) is the same.  A verify on an unchanged tree thus changes a
few lines per page; a real change shows in full, the run it replaced kept in ``history``.

Format 1 files (every run in full, newest first) still load: the newest run per engine and
driver becomes the kept run, the others go to the history.  A file of a newer format is a
one-line :class:`TranscriptError`.

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

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any

from dojo_exec.locations import display_path
from dojo_exec.verdicts import FAILED, FINE, VERDICTS, Verdict
from dojo_exec.writing import write_atomically

FORMAT = 2
READABLE = (1, 2)
"""Formats this version reads (it writes :data:`FORMAT`)."""
HISTORY = 10
"""How many superseded runs a transcript keeps in short."""
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


_HINTED = tuple(zip(SECRET_PATTERNS, _HINTS, strict=True))


def _candidates(text: str) -> list[tuple[re.Pattern[str], str]]:
    contains = text.lower().__contains__  # every page's text passes here: no generator
    return [pair for pair, hints in _HINTED if any(map(contains, hints))]


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
    # the date of the first of the runs with this same outcome: the captured outputs are its own
    unchanged_since: str | None = None
    # prerequisite page → steps_digest() of its latest run on this engine and driver when
    # this run was recorded: a prerequisite recorded since with other steps is a change
    prerequisites: dict[str, str] = field(default_factory=dict)
    # the Docker engine the machines ran on, as ``dojo_exec.machines.engines`` names it
    # (no user, password or certificate path); "" (not written): the default local socket
    engine_host: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """(engine version, driver): a transcript keeps the latest run of each."""
        return (self.docker_engine, self.driver)

    @property
    def since(self) -> str:
        """When this outcome (and these captured outputs) was first recorded."""
        return self.unchanged_since or self.started

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
class RunSummary:
    """A superseded run, in short: when, where, and each step's line, digest and verdict."""

    started: str
    duration: float
    docker_engine: str
    driver: str
    dojo_exec: str
    steps: list[str]  # "LINE DIGEST VERDICT", one per step, in page order

    @classmethod
    def of(cls, run: RunRecord) -> RunSummary:
        return cls(
            started=run.started,
            duration=run.duration,
            docker_engine=run.docker_engine,
            driver=run.driver,
            dojo_exec=run.dojo_exec,
            steps=[f"{step.line} {step.digest} {step.verdict}" for step in run.steps],
        )

    def verdicts(self) -> list[tuple[int, str, str]]:
        """(line, digest, verdict) of each step."""
        found = []
        for entry in self.steps:
            line, digest, verdict = entry.split(" ")
            found.append((int(line), digest, verdict))
        return found


@dataclass
class Transcript:
    """The kept runs of one page: the latest per (engine, driver), and a short history."""

    page: str
    runs: list[RunRecord]
    history: list[RunSummary] = field(default_factory=list)  # newest first

    @property
    def latest(self) -> RunRecord | None:
        """The newest kept run (whatever its engine)."""
        return max(self.runs, key=lambda run: run.started) if self.runs else None

    def latest_on(self, engine: str | None, driver: str | None = None) -> RunRecord | None:
        """The newest run on Docker ``engine`` (a recorded version such as ``20.10.24+dfsg1``,
        or its prefix before ``+``: ``20.10.24``; None: any), with ``driver`` (a recorded
        driver label, or its first word: ``embedded``) when given."""
        found = [
            run
            for run in self.runs
            if (engine is None or same_engine(run.docker_engine, engine))
            and (driver is None or same_driver(run.driver, driver))
        ]
        return max(found, key=lambda run: run.started) if found else None

    @property
    def engines(self) -> list[str]:
        """The engine versions of the kept runs, newest version first."""
        return sorted({run.docker_engine for run in self.runs}, key=version_key, reverse=True)


def same_engine(recorded: str, engine: str) -> bool:
    """Whether a recorded engine version is ``engine``: ``20.10.24`` matches ``20.10.24+dfsg1``,
    ``28.5`` matches ``28.5.2+dfsg4``."""
    version, wanted = recorded.partition("+")[0], engine.partition("+")[0]
    return recorded == engine or version == wanted or version.startswith(wanted + ".")


def same_driver(recorded: str, driver: str) -> bool:
    """Whether a recorded driver label (``embedded (Docker-in-Docker)``) is ``driver``."""
    return recorded == driver or recorded.partition(" ")[0] == driver.partition(" ")[0]


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """A sort key for versions: ``26.1.5+dfsg1`` after ``20.10.24+dfsg1``, ``unknown`` first."""
    parts = re.split(r"[.+~-]", version)
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in parts)


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


def step_to_json(step: StepRecord) -> dict[str, Any]:
    """A step's record as JSON (redacted): in transcripts, and from pytest's workers."""
    data = asdict(step)
    for name in TEXT_FIELDS:
        data[name] = _encode_text(data[name])
    return _redacted(data)


def _run_to_json(run: RunRecord) -> dict[str, Any]:
    data = asdict(run)
    data["steps"] = [step_to_json(step) for step in run.steps]  # keeps the key's place
    if not data["engine_host"]:
        del data["engine_host"]  # the default engine: files recorded on it stay as they were
    return _redacted(data)


def step_from_json(data: dict[str, Any]) -> StepRecord:
    """The inverse of :func:`step_to_json` (a ``TypeError``/``TranscriptError`` if malformed)."""
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
    values["steps"] = [step_from_json(step) for step in values.get("steps", [])]
    return RunRecord(**values)


def _summary_from_json(data: dict[str, Any]) -> RunSummary:
    if not isinstance(data, dict):
        raise TypeError(f"a history entry must be an object, got {data!r}")
    known = {f.name for f in fields(RunSummary)}
    summary = RunSummary(**{key: value for key, value in data.items() if key in known})
    if not isinstance(summary.steps, list) or not all(
        isinstance(entry, str) and len(entry.split(" ")) == 3 for entry in summary.steps
    ):
        raise TypeError("a history entry's steps must be texts 'LINE DIGEST VERDICT'")
    try:
        summary.verdicts()
    except ValueError:
        raise TypeError("a history entry's steps must be texts 'LINE DIGEST VERDICT'") from None
    return summary


def _split_format_1(runs: list[RunRecord]) -> tuple[list[RunRecord], list[RunSummary]]:
    """Format 1's runs (newest first): the newest per engine and driver, the rest in short."""
    kept: dict[tuple[str, str], RunRecord] = {}
    history: list[RunSummary] = []
    drivers = {run.driver for run in runs if run.docker_engine != "unknown"}
    for run in runs:
        # a run whose engine could not be asked says nothing another run of its driver does not
        if run.key in kept or (run.docker_engine == "unknown" and run.driver in drivers):
            history.append(RunSummary.of(run))
        else:
            kept[run.key] = run
    return list(kept.values()), history


def dumps(transcript: Transcript) -> str:
    """The file text of ``transcript``: stable, indented, redacted, newline-terminated."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "page": transcript.page,
        "runs": [_run_to_json(run) for run in transcript.runs],
    }
    if transcript.history:
        data["history"] = [_redacted(asdict(entry)) for entry in transcript.history]
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
    if version not in READABLE or isinstance(version, bool):
        raise TranscriptError(
            f"{source}: unknown transcript format {version!r} (expected {FORMAT})"
        )
    try:
        runs, history = data["runs"], data.get("history", [])
        if not isinstance(data["page"], str) or not isinstance(runs, list):
            raise TypeError("'page' must be a text and 'runs' a list")
        if not isinstance(history, list):
            raise TypeError("'history' must be a list")
        records = [_run_from_json(run) for run in runs]
        summaries = [_summary_from_json(entry) for entry in history]
        if version == 1:
            records, older = _split_format_1(records)
            summaries = older + summaries
        return Transcript(page=data["page"], runs=records, history=summaries)
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


_STEP_OUTCOME = ("line", "digest", "command", "expected", "exit_status", "verdict", "reason",
                 "hidden", "checks")  # fmt: skip
_RUN_OUTCOME = ("page", "docker_client", "docker_engine", "driver", "images", "dojo_exec",
                "replayed")  # fmt: skip


def same_outcome(kept: RunRecord, run: RunRecord) -> bool:
    """Whether ``run`` tells nothing ``kept`` does not: same provenance, same steps (digest,
    line, texts), same verdicts and exit statuses, and for a failed step the same captured
    output and explanation.  Timings, attempts and passed steps' captured outputs may differ."""
    if any(getattr(kept, name) != getattr(run, name) for name in _RUN_OUTCOME):
        return False
    if len(kept.steps) != len(run.steps):
        return False
    for old, new in zip(kept.steps, run.steps, strict=True):
        if any(getattr(old, name) != getattr(new, name) for name in _STEP_OUTCOME):
            return False
        if old.verdict not in FINE and (old.captured, old.explanation) != (
            new.captured,
            new.explanation,
        ):
            return False
    return True


def _redacted_run(run: RunRecord) -> RunRecord:
    """``run`` as it reads back from its file (texts redacted)."""
    return _run_from_json(_run_to_json(run))


def merge_run(transcript: Transcript | None, run: RunRecord, keep: int = HISTORY) -> Transcript:
    """``transcript`` with ``run`` recorded: it replaces, in place, the kept run of its engine
    and driver (which goes to the history in short), or, when its outcome is the same
    (:func:`same_outcome`), only refreshes that run's date, durations and attempts; a run on
    a new engine or driver comes first.  The history keeps the newest ``keep`` entries."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    runs = list(transcript.runs) if transcript else []
    history = list(transcript.history) if transcript else []
    new = _redacted_run(run)
    for index, kept in enumerate(runs):
        if kept.key != new.key:
            continue
        if same_outcome(kept, new):
            runs[index] = replace(
                kept,
                started=new.started,
                duration=new.duration,
                unchanged_since=kept.since,
                prerequisites=new.prerequisites,
                engine_host=new.engine_host,
                steps=[
                    replace(old, duration=step.duration, attempts=step.attempts)
                    for old, step in zip(kept.steps, new.steps, strict=True)
                ],
            )
        else:
            runs[index] = run
            history.insert(0, RunSummary.of(kept))
        break
    else:
        runs.insert(0, run)
    history.sort(key=lambda entry: entry.started, reverse=True)
    return Transcript(page=run.page, runs=runs, history=history[:keep])


def steps_digest(steps: Sequence[StepRecord]) -> str:
    """One digest for the steps of a run (their digests, in order)."""
    return hashlib.sha256("\n".join(step.digest for step in steps).encode()).hexdigest()[:16]


def _with_prerequisites(root: Path, run: RunRecord) -> RunRecord:
    """``run`` with the digests of its prerequisites' latest runs on its engine and driver."""
    found: dict[str, str] = {}
    for name in run.replayed:
        try:
            transcript = load_transcript(root, name)
        except (TranscriptError, ValueError):
            continue
        before = transcript.latest_on(run.docker_engine, run.driver) if transcript else None
        if before is not None and before.key == run.key:
            found[name] = steps_digest(before.steps)
    return replace(run, prerequisites=found)


def record_run(root: Path, run: RunRecord, keep: int = HISTORY) -> Path:
    """Record ``run`` in its page's transcript (:func:`merge_run`) and write it.

    Secrets are redacted before anything touches the disk; the previous file stays intact
    if serialising fails.
    """
    if keep < 1:
        raise ValueError("keep must be at least 1")
    path = transcript_path(root, run.page)
    if run.replayed and not run.prerequisites:
        run = _with_prerequisites(root, run)
    text = dumps(merge_run(load_transcript(root, run.page), run, keep))
    write_atomically(path, text)
    return path


__all__ = [
    "FORMAT",
    "HISTORY",
    "SECRET_PATTERNS",
    "RunRecord",
    "RunSummary",
    "StepRecord",
    "Transcript",
    "TranscriptError",
    "Verdict",
    "find_secrets",
    "load_transcript",
    "merge_run",
    "record_run",
    "redact",
    "same_driver",
    "same_engine",
    "same_outcome",
    "steps_digest",
    "transcript_path",
]
