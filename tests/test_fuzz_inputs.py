"""Fuzzing the page parser, the check parser and the matcher: no crash but a located error.

Hypothesis builds pages from the pieces the format is made of (fences of any length and
indent, info strings with options right and wrong, ``# Result ==>`` markers, prompts, front
matter, list items, comments, BOMs, CRLF, tabs, stray bytes) and outputs from what Docker
prints (tables, IDs, elisions, JSON, ages, unicode).  What must hold:

* :func:`dojo_exec.page.parse_text` returns a page or raises :class:`PageError` (and its
  message names ``file:line`` on one line), nothing else;
* :func:`dojo_exec.checks.parse_check` accepts a check or raises ``CheckSyntaxError``;
  an accepted one evaluates on any captured text without raising;
* :func:`dojo_exec.matching.match` and :func:`reconcile` never raise, with any options,
  and what reconcile writes matches the capture it was written from whenever the promise
  did not already match (the promise update writes is verified).

``DOJO_FUZZ_EXAMPLES`` (default 300 each) searches harder; the figure is printed.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dojo_exec.checks import CheckSyntaxError, evaluate_checks, parse_check
from dojo_exec.matching import MatchOptions, match, reconcile
from dojo_exec.page import PageError, parse_page, parse_text
from dojo_exec.transcripts import TranscriptError, loads

EXAMPLES = int(os.environ.get("DOJO_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PATH = Path("fuzz/page.md")
RAN: dict[str, int] = {}


def _count(name: str) -> None:
    RAN[name] = RAN.get(name, 0) + 1


# -- pages -------------------------------------------------------------------------------------

FENCES = ["```", "````", "~~~", "``", "`````", "~~~~"]
INDENTS = ["", " ", "  ", "   ", "    ", "\t", "  \t", "        "]
LANGUAGES = ["sh", "bash", "console", "shell-session", "shell", "python", "", "dojo", "text"]
OPTIONS = [
    "dojo",
    "hidden",
    "stop",
    "ordered",
    "versions",
    "wait=30s",
    "wait=soon",
    "wait=",
    "timeout=2m",
    "timeout=0",
    "timeout=-1s",
    "exit=1",
    "exit=any",
    "exit=256",
    "exit=x",
    'skip="not here"',
    "skip",
    'check="3 rows where NAME ~ web"',
    'check="bogus"',
    'check="no rows where NODE = manager1 and CURRENT STATE ~ Running"',
    'check="a ~ ("',
    "machine=manager1",
    "machine=bad!",
    'prompt="# "',
    'prompt=""',
    "colour=red",
    '"unclosed',
    "id=first",
    "id=",
    "timeout=1s",
    "=",
    "dojo=1",
]
BODY_LINES = [
    "echo hi",
    "# Result ==>",
    "hi",
    "$ echo hi",
    "[manager1]$ docker node ls",
    "manager1$ ls",
    "root@worker1:~# ls",
    "# ",
    "> continued",
    "docker service ps web \\",
    "cat <<EOF",
    "EOF",
    "...",
    "…",
    "[...]",
    "\\...",
    "ID   NAME   REPLICAS",
    "abc123def456   web   1/1",
    "",
    "docker-machine ssh worker1",
    "exit",
    "<!--",
    "-->",
    "---",
    "requires: [a.md]",
    "\x00",
    "\ufeff",
    "\r",
    "é",
    "👍🏽",
    "\u200d",
    "  - item",
    "1. step",
    "!!! note",
    '=== "Tab"',
]
FRONT_MATTER = [
    "", "---\n---\n", "---\nrequires: [other.md]\n---\n", "---\nrequires: [page.md]\n---\n",
    "---\nmachine: manager1\n---\n", "---\nmachine: 5\n---\n", "---\nprompts: ['# ']\n---\n",
    "---\nprompts: {a: 1}\n---\n", "---\nvalues: {'<IP>': '1.2.3.4'}\n---\n",
    "---\nvalues: [a]\n---\n", "---\nrequires: [a\n---\n", "---\n: :\n---\n", "---\n- a\n---\n",
    "\ufeff---\ntitle: x\n---\n", "---\ntitle: x\n", "---\r\ntitle: x\r\n---\r\n",
]  # fmt: skip

fences = st.builds(
    lambda indent, fence, language, options, body, close, close_indent: (
        f"{indent}{fence}{language}{(' ' if options else '') + ' '.join(options)}\n"
        + "".join(f"{indent}{line}\n" for line in body)
        + (f"{close_indent}{close}\n" if close is not None else "")
    ),
    st.sampled_from(INDENTS),
    st.sampled_from(FENCES),
    st.sampled_from(LANGUAGES),
    st.lists(st.sampled_from(OPTIONS), max_size=4),
    st.lists(st.sampled_from(BODY_LINES) | st.text(max_size=20), max_size=8),
    st.sampled_from([*FENCES, None, "```   ", "``` x"]),
    st.sampled_from(INDENTS),
)
prose = st.lists(st.sampled_from(BODY_LINES) | st.text(max_size=30), max_size=4).map(
    lambda lines: "".join(f"{line}\n" for line in lines)
)
pages = st.builds(
    lambda front, parts, crlf: (front + "".join(parts)).replace("\n", "\r\n" if crlf else "\n"),
    st.sampled_from(FRONT_MATTER),
    st.lists(fences | prose, max_size=8),
    st.booleans(),
)


@FUZZ
@given(pages)
def test_the_parser_gives_a_page_or_a_located_error(text: str) -> None:
    _count("pages")
    try:
        page = parse_text(text, PATH)
    except PageError as error:
        _count("page errors")
        assert str(error).startswith(f"{PATH}:{error.line}: "), str(error)
        assert 1 <= error.line <= text.count("\n") + 2, (error.line, str(error))
        assert "\n" not in error.message.strip(), error.message
        return
    for step in page.steps:
        assert text[step.span[0] : step.span[1]] == step.source
        assert step.command.strip() or step.options.skip is not None


@FUZZ
@given(st.text(max_size=400))
@example("---\ntitle: " + "[" * 20_000 + "\n---\n")  # found by hand: a RecursionError in YAML
def test_the_parser_on_any_text(text: str) -> None:
    _count("texts")
    try:
        parse_text(text, PATH)
    except PageError as error:
        assert "\n" not in error.message.strip(), error.message


@FUZZ
@given(pages, st.binary(max_size=20), st.integers(min_value=0))
def test_a_page_file_with_stray_bytes_gives_a_page_or_a_located_error(
    text: str, stray: bytes, where: int
) -> None:
    _count("page files")
    raw = text.encode()
    at = where % (len(raw) + 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "page.md"
        path.write_bytes(raw[:at] + stray + raw[at:])
        try:
            parse_page(path)
        except PageError as error:
            assert "\n" not in error.message.strip(), error.message


# -- transcripts -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
STEP = {"line": 3, "digest": "abc", "command": ["echo hi"], "expected": None, "captured": ["hi"],
        "exit_status": 0, "duration": 0.1, "verdict": "passed"}  # fmt: skip
RUN = {"page": "page.md", "started": "2026-11-30T00:00:00Z", "duration": 1.0,
       "docker_client": "x", "docker_engine": "y", "driver": "none", "images": "", "dojo_exec": "0",
       "steps": [STEP]}  # fmt: skip


DEEP = object()  # JSON nested 100,000 deep: a RecursionError in json before it was caught


def _spoilt(data: st.DataObject) -> object:
    """A valid transcript with one value somewhere replaced by any JSON value."""
    document: dict[str, object] = {"format": 1, "page": "page.md", "runs": [dict(RUN)]}
    run = document["runs"][0]  # type: ignore[index]
    step = dict(STEP)
    run["steps"] = [step]
    where = data.draw(st.sampled_from([document, run, step]))
    key = data.draw(st.sampled_from([*where.keys(), "extra"]))
    where[key] = data.draw(json_values)
    return document


@FUZZ
@given(st.data())
def test_a_transcript_loads_or_says_why_in_one_line(data: st.DataObject) -> None:
    _count("transcripts")
    document = data.draw(json_values | st.builds(_spoilt, st.data()) | st.just(DEEP))
    text = json.dumps(document) if document is not DEEP else "[" * 100_000 + "]" * 100_000
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:cut]
    try:
        loads(text, source="transcripts/page.md.json")
    except TranscriptError as error:
        assert str(error).startswith("transcripts/page.md.json"), str(error)
        assert "\n" not in str(error), str(error)


# -- checks ------------------------------------------------------------------------------------

CHECK_WORDS = [
    "no", "all", "rows", "row", "where", "have", "exactly", "at", "least", "most", "distinct",
    "3", "0", "-1", "99999999999999999999", "NAME", "CURRENT STATE", "NODE", "=", "!=", "~",
    "!~", "and", "Running", "manager1", "(", "[a-", "\\", "'", '"', "", "é",
]  # fmt: skip
TABLES = [
    "ID   NAME   NODE       CURRENT STATE\nabc  web.1  manager1   Running 5 minutes ago\n",
    "NAME   REPLICAS\nweb    3/3\n",
    "",
    "not a table at all\n",
    "ID\n\n\nx\n",
    "A  B\n1\n1  2  3\n",
]
COUNTS = ["no", "all", "3", "exactly 1", "at least 2", "at most 0", "at least 2 distinct NODE"]
COLUMNS = ["NAME", "NODE", "CURRENT STATE", "ID", "REPLICAS", "MISSING", "A", "B"]
OPERATORS = ["=", "!=", "~", "!~"]
VALUES = ["web.1", "manager1", "Running", "Running|Pending", "(", "[", ".*", "3/3", "", "é"]
comparison = st.builds(
    "{} {} {}".format, st.sampled_from(COLUMNS), st.sampled_from(OPERATORS), st.sampled_from(VALUES)
)
structured = st.builds(
    lambda count, where, have: (
        f"{count} rows where {' and '.join(where)}" + (f" have {have}" if have else "")
    ),
    st.sampled_from(COUNTS),
    st.lists(comparison, min_size=1, max_size=3),
    st.none() | comparison,
)
checks = (
    structured
    | st.lists(st.sampled_from(CHECK_WORDS), max_size=10).map(" ".join)
    | st.text(max_size=40)
)


@FUZZ
@given(checks, st.sampled_from(TABLES) | st.text(max_size=120))
def test_a_check_parses_or_says_why_and_evaluates_without_crashing(check: str, table: str) -> None:
    _count("checks")
    try:
        parse_check(check)
    except CheckSyntaxError:
        return
    _count("valid checks")
    result = evaluate_checks([check], table)
    assert isinstance(result.ok, bool)


# -- the matcher -------------------------------------------------------------------------------

OUTPUT_LINES = [
    "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS",
    "4xa92vmz4v3sunsp15oey0lwz *   manager1   Ready     Active         Leader",
    "gaz7btqqxhw9v9382vhsc4b0d     worker1    Down      Drain",
    "ID             NAME        IMAGE           NODE      DESIRED STATE   CURRENT STATE",
    "xbazzrvs0bxb   web.1       alpine:latest   worker1   Running         Running 5 minutes ago",
    "uvqps62v2lcl    \\_ web.1   alpine:latest   worker2   Shutdown        Failed 2 hours ago",
    "NAME   REPLICAS   IMAGE",
    "web    5/5        nginx:1.27",
    "...", "…", "[...]", "<snip>", "\\...", "Server Version: 20...", "a ... b",
    "[", "]", "{", "}", '  "Replicas": 3,', '[{"Spec": {"Mode": {"Replicated": {"Replicas": 3}}}}]',
    "Swarm initialized: current node (k1qovxjy3hrue0dlnud6yei3e) is now a manager.",
    "    docker swarm join --token SWMTKN-1-5o0xb6f3r6tfv5ke6y82y4jt4uv89fo0mjftxgx6mbo9b1fi0u-"
    "6892fbuiiwcvj5lbo15jkrwbb 172.20.0.2:2377",
    "sha256:375012c1d1c600e4515624b46766b55d180cf8fb65efde3300aaea53ef6268d5",
    "2026-11-30 13:48:25.013972024 +0000 UTC", "Up 5 minutes", "less than a second ago",
    "\t", "", " ", "é", "e\u0301", "👍🏽", "\u200d", "\x1b[31mred\x1b[0m", "\r",
]  # fmt: skip
outputs = st.lists(st.sampled_from(OUTPUT_LINES) | st.text(max_size=40), max_size=12).map("\n".join)
options = st.builds(MatchOptions, ordered=st.booleans(), versions=st.booleans())


NESTED = "[" * 3000 + "]" * 3000  # found by the fuzz: a RecursionError in the JSON matcher


@FUZZ
@given(outputs, outputs, options)
@example(NESTED, NESTED, MatchOptions())
@example(NESTED, "x", MatchOptions())
@example("[" * 150 + "1" + "]" * 150, "[" * 150 + "2" + "]" * 150, MatchOptions())
def test_match_and_reconcile_never_crash(promised: str, captured: str, how: MatchOptions) -> None:
    _count("matches")
    result = match(promised, captured, how)
    assert isinstance(result.ok, bool)
    rewritten = reconcile(promised, captured, how)
    assert isinstance(rewritten, str)
    if not result.ok:
        _count("mismatches reconciled")
        assert match(rewritten, captured, how).ok, (promised, captured, rewritten)


@FUZZ
@given(outputs, options)
def test_a_capture_matches_itself(captured: str, how: MatchOptions) -> None:
    _count("self matches")
    written = reconcile("", captured, how)  # what update writes for a step that promised nothing
    assert match(written, captured, how).ok, (captured, written)


@pytest.fixture(scope="module", autouse=True)
def _figure() -> object:
    yield
    if RAN:
        print("\nfuzz examples: " + ", ".join(f"{name} {count}" for name, count in RAN.items()))
