"""``dojo-exec update`` end to end, in a real subprocess with ``--dojo-driver none``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import dojo_exec

from dojo_exec.spawn import reset_signals

FENCE = "```"
NONE = ("--", "--dojo-driver", "none")


def step(command: str, promise: str, fence: str = FENCE) -> str:
    """An inline step: the promise inside the command's own fence."""
    return f"{fence}sh dojo\n{command}\n# Result ==>\n{promise}{fence}\n"


def block_step(command: str, promise: str) -> str:
    """A block-form step: the promise in a block of its own."""
    return f"{FENCE}sh dojo\n{command}\n{FENCE}\n\n{FENCE}\n# Result ==>\n{promise}{FENCE}\n"


def interrupted_update(folder: Path, page: str, *pytest_args: str) -> subprocess.CompletedProcess:
    """``update`` of a page whose second step signals that it runs, Ctrl-C'd during that step."""
    started = folder / "second-step-started"
    process = subprocess.Popen(
        [sys.executable, "-m", "dojo_exec.cli", "update", page, *NONE, *pytest_args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=reset_signals,  # Ctrl-C works there even if this suite runs under nohup
    )
    deadline = time.monotonic() + 60
    while not started.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("workers", [(), ("-p", "xdist", "-n", "1")], ids=["plain", "xdist"])
def test_an_interrupted_update_rewrites_no_page(tmp_path: Path, workers: tuple[str, ...]) -> None:
    page = tmp_path / "intr.md"
    text = (
        "# Interrupted\n\n"
        + step("echo one-new", "one-old\n")
        + "\n"
        + step('touch "$DOJO_PAGE_DIR/second-step-started"; sleep 30', "slow\n")
    )
    page.write_text(text)
    result = interrupted_update(tmp_path, "intr.md", *workers)
    assert result.returncode == pytest.ExitCode.INTERRUPTED, result.stdout + result.stderr
    assert page.read_text() == text
    assert "update interrupted: no page rewritten" in result.stdout
    assert "promise(s) updated" not in result.stdout
    if "dojo_exec summary" in result.stdout:  # the summary does not count unwritten updates
        assert "updated: 0" in result.stdout


def test_with_xdist_workers_the_update_is_written(tmp_path: Path) -> None:
    page = tmp_path / "greet.md"
    page.write_text("# Greet\n\n" + step("echo hello", "bye\n"))
    result = dojo_exec(tmp_path, "update", "greet.md", *NONE, "-p", "xdist", "-n", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert page.read_text() == "# Greet\n\n" + step("echo hello", "hello\n")
    assert "updated greet.md: 1 promise(s) updated" in result.stdout


def test_a_page_edited_during_the_run_is_skipped_and_the_others_written(tmp_path: Path) -> None:
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    edit = 'echo "an author\'s edit" >> "$DOJO_PAGE_DIR/a.md"'
    drifted = step("echo a-new", "a-old\n")
    a.write_text(f"# A\n\n{drifted}\n{FENCE}sh dojo\n{edit}\n{FENCE}\n")
    b.write_text("# B\n\n" + step("echo b-new", "b-old\n"))
    a_during_run = a.read_text() + "an author's edit\n"
    result = dojo_exec(tmp_path, "update", "a.md", "b.md", *NONE)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "a.md: changed on disk during the run; not updated" in result.stdout
    assert "updated b.md: 1 promise(s) updated" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    # the page as the author left it: update's second run (which checks the new promise)
    # ran the editing step again, but no promise of it was rewritten
    assert a.read_text().startswith(a_during_run) and "a-old" in a.read_text()
    assert b.read_text() == "# B\n\n" + step("echo b-new", "b-new\n")


def test_a_crlf_page_keeps_its_line_endings(tmp_path: Path) -> None:
    page = tmp_path / "crlf.md"
    lf = "# CRLF\n\nSome prose.\n\n" + block_step("echo new", "old\n")
    page.write_bytes(lf.replace("\n", "\r\n").encode())
    result = dojo_exec(tmp_path, "update", "crlf.md", *NONE)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = lf.replace("\nold\n", "\nnew\n").replace("\n", "\r\n")
    assert page.read_bytes() == expected.encode()
    assert dojo_exec(tmp_path, "verify", "crlf.md", *NONE).returncode == 0


def test_captured_fence_lines_are_held_by_a_long_enough_fence(tmp_path: Path) -> None:
    fenced = "printf 'a\\n```\\nb\\n'"
    page = tmp_path / "fences.md"
    inline_long = step(fenced, "old\n", "````")
    block = block_step(fenced, "old\n")
    inline_short = step(fenced, "old\n")
    text = f"# Fences\n\n{inline_long}\n{block}\n{inline_short}"
    page.write_text(text)
    short_line = 1 + text.count("\n", 0, text.rindex(inline_short))
    other = tmp_path / "other.md"
    other.write_text("# Other\n\n" + step("echo new", "old\n"))

    result = dojo_exec(tmp_path, "update", "fences.md", "other.md", *NONE)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # the short inline fence's step is refused
    assert "Traceback" not in output and "PageError" not in output
    assert f"fences.md:{short_line}: captured line '```' would close the step's ``` fence" in output
    assert "updated fences.md: 2 promise(s) updated" in result.stdout
    assert "updated other.md: 1 promise(s) updated" in result.stdout
    captured = "a\n```\nb\n"
    held = inline_long.replace("old\n", captured)
    lengthened = block.replace(f"{FENCE}\n# Result", "````\n# Result").replace(
        f"old\n{FENCE}\n", f"{captured}````\n"
    )
    assert page.read_text() == text.replace(inline_long, held).replace(block, lengthened)

    again = dojo_exec(tmp_path, "verify", "fences.md", *NONE)
    assert again.returncode == 1  # only the refused step still fails
    assert "passed: 2  failed: 1" in again.stdout, again.stdout
