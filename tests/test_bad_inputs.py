"""Bad input, through the commands a user types: one line naming ``file:line``, never a traceback.

Each case is a small project (``mkdocs.yml``, ``docs/``, ``transcripts/``) with one thing wrong:
a malformed page, front matter, step option, check, prerequisite, encoding, file, transcript or
plugin option.  Every case is run, in real subprocesses, through each entry point a user has:

* ``dojo-exec verify docs`` (plain shell driver: no Docker needed),
* ``dojo-exec report docs``,
* ``pytest docs --dojo-collect``,
* ``mkdocs build`` with the ``dojo_exec`` plugin.

Where an entry point reads the wrong thing, it must fail with the expected one-line message
(``docs/page.md:LINE: …``, or the page's name relative to ``docs/`` for MkDocs); none may show a
Python traceback.  Inputs that are odd but valid (a BOM, CRLF line endings, an empty page) must
work.  The figure (cases, runs, clear errors) is printed at the end of the module.
"""

# ruff: noqa: E501 (the table of cases reads best one case a line or two)
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

F = "```"
OK_PAGE = f"# Fine\n\n{F}sh dojo\necho hi\n# Result ==>\nhi\n{F}\n"
MKDOCS = """site_name: bad inputs
docs_dir: docs
theme: mkdocs
plugins:
  - dojo_exec:
      transcripts: transcripts
"""
ENTRIES = ("verify", "report", "pytest", "mkdocs")
PAGE_ENTRIES = ENTRIES  # what reads a page
RUN_ENTRIES = ("verify", "pytest")  # what runs pages (and records their transcripts)
TRANSCRIPT_ENTRIES = ("verify", "report", "pytest", "mkdocs")
ORDER_ENTRIES = ("verify", "report", "pytest")
UNTAGGED_ENTRIES = (
    "verify",
    "report",
    "pytest",
)  # the site reads only pages with a dojo tag  # what orders prerequisites (the site does not)


def step(info: str, body: str = "echo hi") -> str:
    return f"# Page\n\n{F}{info}\n{body}\n{F}\n"


def transcript(text: str | bytes) -> dict[str, str | bytes]:
    return {"docs/page.md": OK_PAGE, "transcripts/page.md.json": text}


def mkdocs_plugin(options: str) -> str:
    return MKDOCS.replace("      transcripts: transcripts\n", options)


@dataclass(frozen=True)
class Case:
    """A project with one thing wrong, and the one-line error each entry point must give."""

    name: str
    files: dict[str, str | bytes]
    error: str | None  # regex of the message after ``file:line: ``; None: the input is valid
    where: str = "page.md:3"  # the file (relative to docs/ for pages) and line it names
    entries: tuple[str, ...] = PAGE_ENTRIES  # those that must give the error (others: no crash)
    mkdocs: str = MKDOCS
    prepare: Callable[[Path], None] | None = None  # what cannot be written as text
    needs: tuple[str, ...] = field(default_factory=tuple)


def _huge(root: Path) -> None:
    """A 40,000-step page (about 2 MB) whose last step has a malformed option."""
    good = f"{F}sh dojo\necho hi\n# Result ==>\nhi\n{F}\n\n" * 40_000
    (root / "docs" / "page.md").write_text(f"# Huge\n\n{good}{F}sh dojo wait=never\ntrue\n{F}\n")


def _directory(root: Path) -> None:
    (root / "docs" / "folder.md").mkdir()
    (root / "docs" / "folder.md" / "inner.md").write_text(step("sh dojo wait=soon"))


def _unreadable(root: Path) -> None:
    (root / "docs" / "page.md").chmod(0)


NO_MACHINES = ("--", "--dojo-driver", "none")
CONFIG = "Config value 'plugins'"  # how MkDocs names a plugin's option in mkdocs.yml
HUGE_LINE = 2 + 40_000 * 6 + 1  # the title, a blank line, 6 lines a step

CASES = [
    # -- fences and the Result marker ---------------------------------------------------------
    Case("unterminated fence", {"docs/page.md": f"# Page\n\n{F}sh dojo\necho hi\n"},
         r"unterminated code fence '```' \(no closing fence\)"),
    Case("unterminated tilde fence", {"docs/page.md": "# Page\n\n~~~~sh dojo\necho hi\n~~~\n"},
         r"unterminated code fence '~~~~'"),
    Case("result block with no step", {"docs/page.md": f"# Page\n\n{F}\n# Result ==>\nhi\n{F}\n"},
         r"'# Result ==>' block with no dojo step before it", entries=UNTAGGED_ENTRIES),
    Case("a second result block",
         {"docs/page.md": step("sh dojo") + f"\n{F}\n# Result ==>\nhi\n{F}\n\n{F}\n# Result ==>\nhi\n{F}\n"},
         r"'# Result ==>' block with no dojo step before it", where="page.md:12"),
    Case("promise with no command", {"docs/page.md": step("sh dojo", "# Result ==>\nhi")},
         r"dojo step with no command"),
    Case("empty step", {"docs/page.md": f"# Page\n\n{F}sh dojo\n{F}\n"}, r"dojo step with no command"),
    Case("console output before any prompt", {"docs/page.md": step("console dojo", "hello\n$ echo hi\nhi")},
         r"console step: 'hello' comes before any prompt line", where="page.md:4"),
    Case("tagged step in another language", {"docs/page.md": step("python dojo", "print(1)")},
         r"dojo step in language 'python'"),
    Case("tag after an option", {"docs/page.md": step("sh wait=1s dojo")},
         r"the 'dojo' tag must follow the language"),
    Case("step indented as a code block", {"docs/page.md": f"# Page\n\n    {F}sh dojo\n    echo hi\n    {F}\n"},
         r"this dojo step is indented 4 spaces outside a list item"),
    Case("step indented by a tab", {"docs/page.md": f"# Page\n\n\t{F}sh dojo\n\techo hi\n\t{F}\n"},
         r"this dojo step is indented 4 spaces outside a list item"),
    # -- step options --------------------------------------------------------------------------
    Case("unknown option", {"docs/page.md": step("sh dojo colour=red")},
         r"unknown option 'colour=red' \(known options: .*\)"),
    Case("malformed duration", {"docs/page.md": step("sh dojo wait=soon")},
         r"option wait='soon': expected a duration like 30s or 2m"),
    Case("negative duration", {"docs/page.md": step("sh dojo timeout=-5s")},
         r"option timeout='-5s': expected a duration"),
    Case("zero timeout", {"docs/page.md": step("sh dojo timeout=0s")}, r"option timeout=0s: must be more than 0"),
    Case("duplicate option", {"docs/page.md": step("sh dojo timeout=1s timeout=2s")},
         r"option timeout given twice"),
    Case("option value on a flag", {"docs/page.md": step("sh dojo hidden=yes")},
         r"option hidden takes no value"),
    Case("exit status out of range", {"docs/page.md": step("sh dojo exit=300")},
         r"option exit=300: an exit status is 0 to 255"),
    Case("exit status not a number", {"docs/page.md": step("sh dojo exit=maybe")},
         r"option exit='maybe': expected a number or 'any'"),
    Case("skip with no reason", {"docs/page.md": step("sh dojo skip")}, r"option skip needs a reason"),
    Case("unclosed quote in the info string", {"docs/page.md": step('sh dojo skip="unclosed')},
         r"malformed info string"),
    Case("malformed machine name", {"docs/page.md": step("sh dojo machine=bad!name")},
         r"option machine='bad!name': expected a machine name"),
    Case("empty prompt", {"docs/page.md": step('console dojo prompt=""', "$ echo hi\nhi")},
         r"option prompt needs a prompt"),
    # -- checks ---------------------------------------------------------------------------------
    Case("check that is not a check", {"docs/page.md": step('sh dojo check="seven rows where X = 1"')},
         r"check 'seven rows where X = 1': "),
    Case("check with a bad regular expression", {"docs/page.md": step('sh dojo check="no rows where NAME ~ ("')},
         r"check 'no rows where NAME ~ \(': .*bad regular expression"),
    Case("empty check", {"docs/page.md": step('sh dojo check=""')}, r"option check needs a check"),
    # -- front matter and prerequisites ---------------------------------------------------------
    Case("malformed front matter", {"docs/page.md": "---\ntitle: x\nrequires: [a\n---\n" + OK_PAGE},
         r"malformed front matter: while parsing a flow sequence: expected ',' or '\]'", where="page.md:3"),
    Case("front matter nested too deeply", {"docs/page.md": "---\ntitle: " + "[" * 20_000 + "\n---\n" + OK_PAGE},
         r"malformed front matter: nested too deeply", where="page.md:1"),
    Case("front matter machine not a name", {"docs/page.md": "---\nmachine: 5\n---\n" + OK_PAGE},
         r"front matter 'machine' must be a machine name \(got 5\)", where="page.md:2"),
    Case("front matter prompts not text", {"docs/page.md": "---\nprompts: {a: 1}\n---\n" + OK_PAGE},
         r"front matter 'prompts' must be a prompt or a list of them", where="page.md:2"),
    Case("front matter values not a mapping", {"docs/page.md": "---\nvalues: [a]\n---\n" + OK_PAGE},
         r"front matter 'values' must map placeholders to values", where="page.md:2"),
    Case("front matter values with an empty placeholder", {"docs/page.md": '---\nvalues: {"": x}\n---\n' + OK_PAGE},
         r"front matter 'values': a placeholder must be non-empty text", where="page.md:2"),
    Case("front matter requires not a path", {"docs/page.md": "---\nrequires: {a: 1}\n---\n" + OK_PAGE},
         r"front matter 'requires' must be a page path or a list of them", where="page.md:2"),
    Case("missing prerequisite", {"docs/page.md": "---\nrequires: [nope.md]\n---\n" + OK_PAGE},
         r"prerequisite 'nope.md' does not exist", where="page.md:2", entries=ORDER_ENTRIES),
    Case("page requires itself", {"docs/page.md": "---\nrequires: [page.md]\n---\n" + OK_PAGE},
         r"prerequisite cycle: page.md → page.md", where="page.md:2", entries=ORDER_ENTRIES),
    Case("prerequisite cycle",
         {"docs/page.md": "---\nrequires: [other.md]\n---\n" + OK_PAGE,
          "docs/other.md": "---\nrequires: [page.md]\n---\n" + OK_PAGE},
         r"prerequisite cycle: (page|other).md → (page|other).md → (page|other).md",
         where="(page|other).md:2", entries=ORDER_ENTRIES),
    # -- encodings, line endings, files ---------------------------------------------------------
    Case("not UTF-8", {"docs/page.md": b"# Page\n\n```sh dojo\necho \xff\xfe\n```\n"},
         r"not UTF-8 text \(byte 0xff\)", where="page.md:4"),
    Case("Latin-1 page", {"docs/page.md": "# Café\n\n```sh dojo colour=red\necho hi\n```\n".encode("latin-1")},
         r"not UTF-8 text \(byte 0xe9\)", where="page.md:1"),
    Case("BOM and an error", {"docs/page.md": "\ufeff" + step("sh dojo colour=red")}, r"unknown option 'colour=red'"),
    Case("BOM, front matter and an error", {"docs/page.md": "\ufeff---\nmachine: 5\n---\n" + OK_PAGE},
         r"front matter 'machine' must be a machine name", where="page.md:2"),
    Case("CRLF and an error", {"docs/page.md": step("sh dojo colour=red").replace("\n", "\r\n")},
         r"unknown option 'colour=red'"),
    Case("tab before an option", {"docs/page.md": step("sh dojo\twait=soon")}, r"option wait='soon'"),
    Case("huge page with an error at its end", {}, r"option wait='never'", where=f"page.md:{HUGE_LINE}",
         prepare=_huge),
    Case("folder named like a page", {"docs/page.md": OK_PAGE}, r"option wait='soon'",
         where="folder.md/inner.md:3", prepare=_directory),
    Case("unreadable page", {"docs/page.md": OK_PAGE}, r"cannot read it: Permission denied",
         where="page.md", prepare=_unreadable, needs=("unreadable",)),
    # -- transcripts ---------------------------------------------------------------------------
    Case("transcript is corrupt JSON", transcript('{\n  "format": 1,\n  not json'),
         r"malformed JSON: Expecting property name", where="transcripts/page.md.json:3",
         entries=TRANSCRIPT_ENTRIES),
    Case("transcript nested too deeply", transcript("[" * 100_000 + "]" * 100_000),
         r"malformed JSON: nested too deeply", where="transcripts/page.md.json", entries=TRANSCRIPT_ENTRIES),
    Case("transcript from a future format", transcript('{"format": 99, "page": "page.md", "runs": []}'),
         r"transcript format 99 is newer than this dojo_exec reads \(\d+\): upgrade dojo_exec",
         where="transcripts/page.md.json", entries=TRANSCRIPT_ENTRIES),
    Case("transcript with no format", transcript('{"page": "page.md", "runs": []}'),
         r"not a dojo transcript", where="transcripts/page.md.json", entries=TRANSCRIPT_ENTRIES),
    Case("transcript that is a list", transcript("[1, 2]"), r"not a dojo transcript",
         where="transcripts/page.md.json", entries=TRANSCRIPT_ENTRIES),
    Case("transcript run that is not an object", transcript('{"format": 1, "page": "page.md", "runs": [5]}'),
         r"malformed transcript: a run must be an object, got 5", where="transcripts/page.md.json",
         entries=TRANSCRIPT_ENTRIES),
    Case("transcript run missing its fields", transcript('{"format": 1, "page": "page.md", "runs": [{}]}'),
         r"malformed transcript: .*missing", where="transcripts/page.md.json", entries=TRANSCRIPT_ENTRIES),
    Case("transcript with an unknown verdict",
         transcript('{"format": 1, "page": "page.md", "runs": [{"steps": [{"verdict": "great"}]}]}'),
         r"malformed transcript: unknown verdict 'great'", where="transcripts/page.md.json",
         entries=TRANSCRIPT_ENTRIES),
    Case("transcript not UTF-8", transcript(b'{"format": 1, "page": "\xff", "runs": []}'),
         r"not UTF-8 text", where="transcripts/page.md.json:1", entries=TRANSCRIPT_ENTRIES),
    # -- mkdocs.yml plugin options -------------------------------------------------------------
    Case("plugin mode unknown", {"docs/page.md": OK_PAGE}, r"Plugin 'dojo_exec' option 'mode': Expected one of: .* but received: 'sometimes'", where=CONFIG,
         entries=("mkdocs",), mkdocs=mkdocs_plugin("      mode: sometimes\n")),
    Case("plugin missing: explode", {"docs/page.md": OK_PAGE}, r"Plugin 'dojo_exec' option 'missing': .*'explode'", where=CONFIG,
         entries=("mkdocs",), mkdocs=mkdocs_plugin("      missing: explode\n")),
    Case("plugin prompts not a list", {"docs/page.md": OK_PAGE}, r"Plugin 'dojo_exec' option 'prompts': Expected a list", where=CONFIG,
         entries=("mkdocs",), mkdocs=mkdocs_plugin("      prompts: 5\n")),
    Case("plugin values not a mapping", {"docs/page.md": OK_PAGE}, r"Plugin 'dojo_exec' option 'values': Expected type: <class 'dict'>", where=CONFIG,
         entries=("mkdocs",), mkdocs=mkdocs_plugin("      values: [a, b]\n")),
    Case("plugin report page not Markdown", {"docs/page.md": OK_PAGE},
         r"report_page must be a .md path or false, got 'report.txt'", where="dojo_exec",
         entries=("mkdocs",), mkdocs=mkdocs_plugin("      report_page: report.txt\n")),
    Case("plugin options not a mapping", {"docs/page.md": OK_PAGE}, r"Invalid config options for the 'dojo_exec' plugin", where=CONFIG,
         entries=("mkdocs",), mkdocs=mkdocs_plugin("      - transcripts\n")),
    Case("plugins that are not a list", {"docs/page.md": OK_PAGE}, r"Invalid Plugins configuration. Expected a list or dict", where=CONFIG,
         entries=("mkdocs",), mkdocs=MKDOCS.split("plugins:")[0] + "plugins: 5\n"),
    Case("plugin values wrong for the parser", {"docs/page.md": OK_PAGE},
         r"'values': '<IP>' must be text or a number", where="mkdocs.yml:6", entries=RUN_ENTRIES,
         mkdocs=mkdocs_plugin("      values: {'<IP>': [1, 2]}\n")),
    # -- pyproject.toml [tool.dojo-exec] --------------------------------------------------------
    Case("pyproject that is not TOML", {"docs/page.md": OK_PAGE, "pyproject.toml": "[tool.dojo-exec]\nprompts = [\n"},
         r"(malformed TOML: Invalid value|Invalid value \(at end of document\))", where=r"\S*pyproject.toml(:\d+)?",
         entries=("verify", "report", "pytest")),  # pytest itself reads it first: its own one line
    Case("pyproject prompts not text", {"docs/page.md": OK_PAGE, "pyproject.toml": "[tool.dojo-exec]\nprompts = 5\n"},
         r"'prompts' must be a prompt or a list", where="pyproject.toml:2", entries=("verify", "report", "pytest")),
    Case("pyproject values not a table", {"docs/page.md": OK_PAGE, "pyproject.toml": "[tool.dojo-exec]\nvalues = [1]\n"},
         r"'values' must map placeholders to values", where="pyproject.toml:2", entries=("verify", "report", "pytest")),
    # -- odd but valid ---------------------------------------------------------------------------
    Case("empty page", {"docs/page.md": ""}, None),
    Case("BOM", {"docs/page.md": "\ufeff" + OK_PAGE}, None),
    Case("CRLF", {"docs/page.md": OK_PAGE.replace("\n", "\r\n")}, None),
    Case("front matter that is a list", {"docs/page.md": "---\n- a\n---\n" + OK_PAGE}, None),
    Case("NUL in a command", {"docs/page.md": OK_PAGE.replace("echo hi", "echo \x00hi")}, None),
]  # fmt: skip


def _command(entry: str) -> list[str]:
    cli = [sys.executable, "-m", "dojo_exec.cli"]
    pytest_ = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--dojo-collect"]
    return {
        "verify": [*cli, "verify", "docs", "--transcripts", "transcripts", *NO_MACHINES],
        "report": [*cli, "report", "docs", "--transcripts", "transcripts"],
        "pytest": [*pytest_, "docs", "--dojo-transcripts", "transcripts", *NO_MACHINES[1:]],
        "mkdocs": [sys.executable, "-m", "mkdocs", "build", "-q", "-d", "site"],
    }[entry]


def _without_dac_override(command: list[str]) -> list[str]:
    """Root reads any file: drop the capabilities that let it (the file's mode then counts)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root reads an unreadable file, and setpriv is missing to drop that right")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]


def _project(root: Path, case: Case) -> None:
    (root / "docs").mkdir(parents=True)
    (root / "transcripts").mkdir()
    (root / "mkdocs.yml").write_text(case.mkdocs)
    for name, data in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    if case.prepare is not None:
        case.prepare(root)


TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|During handling of the above exception"
    r"|^\S+\.py:\d+: \w+(Error|Exception)\b|^E\s+\w+(Error|Exception):",
    re.MULTILINE,
)
TALLY: dict[str, int] = {"cases": 0, "runs": 0, "errors": 0, "clear": 0}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_line_naming_file_and_line(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "project"
    _project(root, case)
    TALLY["cases"] += 1
    for entry in ENTRIES:
        command = _command(entry)
        if "unreadable" in case.needs:
            command = _without_dac_override(command)
        done = subprocess.run(
            command,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "COLUMNS": "200"},
        )
        output = done.stdout + done.stderr
        shown = f"{entry} ({done.returncode}):\n{output[-3000:]}"
        TALLY["runs"] += 1
        assert not TRACEBACK.search(output), f"a traceback from {shown}"
        if case.error is None or entry not in case.entries:
            if case.error is None:
                assert done.returncode in (0, 5), shown  # 5: pytest found no step to run
            continue
        TALLY["errors"] += 1
        assert done.returncode != 0, shown
        where = case.where if entry == "mkdocs" else _below_docs(case.where)
        line = re.compile(rf"^.*?(?<![\w/.-]){where}: {case.error}.*$", re.MULTILINE)
        found = line.search(output)
        assert found, f"no one-line '{where}: {case.error}' from {shown}"
        TALLY["clear"] += 1


def _below_docs(where: str) -> str:
    """Pages are named from the working directory by the CLI and pytest (docs/page.md)."""
    return f"docs/{where}" if re.match(r"\(?(page|other|folder)\b", where) else where


@pytest.fixture(scope="module", autouse=True)
def _figure() -> object:
    yield
    if TALLY["cases"]:
        print(
            f"\nbad inputs: {TALLY['cases']} cases, {TALLY['runs']} runs through "
            f"{len(ENTRIES)} entry points, {TALLY['clear']}/{TALLY['errors']} expected errors "
            "given as one line naming file and line, 0 tracebacks"
        )
