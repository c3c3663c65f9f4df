"""Update: drifted promises rewritten in place, nothing else touched, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dojo_exec.matching import match
from dojo_exec.page import PageError, parse_page, parse_text
from dojo_exec.update import Edit, PendingUpdates, apply_edits, promise_edits
from dojo_exec.writing import write_atomically

OUTPUTS = Path(__file__).parent / "fixtures" / "outputs"
FENCE = "```"


def capture(name: str, run: str = "engine-20.10-cli-28.2") -> str:
    """A fixture's output without its `$ command` and `[exit N]` lines."""
    path = next((OUTPUTS / run).glob(f"{name}*"))
    return "\n".join(path.read_text().splitlines()[1:-1]) + "\n"


def page_with(promise: str, command: str = "docker service ls") -> str:
    return (
        "# Title\n\nSome prose.\n\n"
        f"{FENCE}sh dojo\n{command}\n{FENCE}\n\n"
        f"{FENCE}\n# Result ==>\n\n{promise}{FENCE}\n\nMore prose.\n"
    )


def test_a_promise_that_still_matches_is_left_alone() -> None:
    text = page_with(capture("08-service-ls", "rerun-20.10-cli-28.2"))
    step = parse_text(text, "p.md").steps[0]
    assert promise_edits(step, capture("08-service-ls")) == []


def test_only_the_drifted_line_changes_and_placeholders_stay() -> None:
    promised = capture("13-service-ps-5", "rerun-20.10-cli-28.2")
    captured = capture("13-service-ps-5").replace(
        "helloworld.5   alpine:latest   worker1    Running",
        "helloworld.5   alpine:latest   worker1    Shutdown",
    )
    text = page_with(promised, "docker service ps helloworld")
    step = parse_text(text, "p.md").steps[0]
    edits = promise_edits(step, captured)
    assert len(edits) == 1
    new_text = apply_edits(text, edits)
    old_lines, new_lines = text.splitlines(), new_text.splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert len(changed) == 1
    old_row, new_row = changed[0]
    assert "Shutdown" in new_row and "helloworld.5" in new_row
    # within the drifted row, only the drifted cell changes: its ID placeholder and age stay
    assert new_row.split() == old_row.replace("Running    ", "Shutdown   ", 1).split()
    # the other rows keep the promise's own IDs (from the other run), not the capture's
    assert "qlue5sqmdvhy" in new_text and "d1gl1tq4b3mt" not in new_text
    assert new_text.startswith("# Title\n\nSome prose.\n") and new_text.endswith("More prose.\n")
    updated = parse_text(new_text, "p.md").steps[0]
    assert updated.expected is not None and match(updated.expected, captured).ok


def test_update_then_verify_is_a_fixpoint_on_every_fixture() -> None:
    for path in sorted((OUTPUTS / "engine-20.10-cli-28.2").glob("*.txt")):
        captured = capture(path.stem)
        stale = capture(path.stem, "rerun-20.10-cli-28.2").replace("Running", "Preparing")
        text = page_with(stale)
        step = parse_text(text, "p.md").steps[0]
        new_text = apply_edits(text, promise_edits(step, captured))
        again = parse_text(new_text, "p.md").steps[0]
        assert again.expected is not None
        assert match(again.expected, captured).ok, path.name
        assert promise_edits(again, captured) == [], path.name


def test_inline_promise_in_an_indented_fence_keeps_its_indentation() -> None:
    text = f"- item\n\n    {FENCE}sh dojo\n    echo one\n    # Result ==>\n    two\n    {FENCE}\n"
    step = parse_text(text, "p.md").steps[0]
    edits = promise_edits(step, "one\n")
    assert apply_edits(text, edits) == text.replace("    two\n", "    one\n")


def updated(text: str, captured: str) -> str:
    """``text`` with its first step's promise updated to ``captured``, checked to verify."""
    edits = promise_edits(parse_text(text, "p.md").steps[0], captured)
    new_text = apply_edits(text, edits)
    again = parse_text(new_text, "p.md").steps[0]
    assert again.expected is not None and match(again.expected, captured).ok
    assert promise_edits(again, captured) == []
    return new_text


FENCED = f"a\n{FENCE}\nb\n"  # output with a line that closes a ``` fence


def test_a_longer_inline_fence_holds_a_captured_fence_line() -> None:
    text = f"{FENCE}`sh dojo\nshow\n# Result ==>\nold\n{FENCE}`\n"
    assert updated(text, FENCED) == text.replace("old\n", FENCED)
    tildes = "~~~sh dojo\nshow\n# Result ==>\nold\n~~~\n"
    assert updated(tildes, FENCED) == tildes.replace("old\n", FENCED)


def test_a_promise_block_gets_a_longer_fence_when_the_output_needs_one() -> None:
    text = page_with("old\n", "show")
    new_text = updated(text, FENCED)
    promise_block = f"{FENCE}\n# Result ==>\n\nold\n{FENCE}\n"
    longer = f"{FENCE}`\n# Result ==>\n\n{FENCED}{FENCE}`\n"
    assert new_text == text.replace(promise_block, longer)
    # a fence of four: one more than the longest line that would close it
    four = text.replace(promise_block, promise_block.replace(FENCE, "````"))
    quoted = "```\n````\n"
    assert updated(four, quoted) == text.replace(
        promise_block, f"`````\n# Result ==>\n\n{quoted}`````\n"
    )
    # in a list item: the fences keep their indentation, the promise lines take it
    item = "- item\n\n" + "".join(
        f"  {line}\n" if line else "\n"
        for line in (f"{FENCE}sh dojo", "show", FENCE, "", FENCE, "# Result ==>", "old", FENCE)
    )
    assert updated(item, FENCED) == item.replace(
        f"  {FENCE}\n  # Result", "  ````\n  # Result"
    ).replace(f"  old\n  {FENCE}\n", "  a\n  ```\n  b\n  ````\n")


def test_an_inline_promise_whose_fence_cannot_hold_the_output_is_refused() -> None:
    text = (
        page_with("x\n")
        + f"\n- in a list\n\n  {FENCE}sh dojo\n  show\n  # Result ==>\n  x\n  {FENCE}\n"
    )
    step = parse_text(text, "p.md").steps[1]
    with pytest.raises(PageError, match=f"p.md:{step.line}: captured line '{FENCE}' would close"):
        promise_edits(step, FENCED)
    pending = PendingUpdates()
    assert pending.add(step, FENCED, text) is None
    assert len(pending) == 0
    assert len(pending.refused) == 1 and f"make the fence {FENCE}` by hand" in pending.refused[0]
    # the other steps of the page are still updated
    assert pending.add(parse_text(text, "p.md").steps[0], FENCED, text) is not None
    assert len(pending) == 1
    controller = PendingUpdates()  # refused in an xdist worker: the controller says so
    controller.merge(pending.export())
    assert controller.refused == pending.refused and len(controller) == 1


def test_edits_are_applied_bottom_up_and_overlaps_refused() -> None:
    text = "aaa bbb ccc"
    path = Path("p.md")
    edits = [Edit(path, 0, 3, "A", 1), Edit(path, 8, 11, "CCCC", 1), Edit(path, 4, 7, "", 1)]
    assert apply_edits(text, edits) == "A  CCCC"
    with pytest.raises(ValueError, match="overlapping"):
        apply_edits(text, [Edit(path, 0, 5, "x", 1), Edit(path, 3, 7, "y", 2)])


def test_pending_updates_write_all_edits_of_a_page_at_the_end(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(page_with("ID     NAME\nold    row\n") + page_with("old\n", "echo new"))
    parsed = parse_page(page)
    pending = PendingUpdates()
    pending.add(parsed.steps[0], "ID        NAME\nnew       row\n", parsed.text)
    pending.add(parsed.steps[1], "new\n", parsed.text)
    assert len(pending) == 2
    assert page.read_text() == parsed.text  # nothing written during the run
    assert pending.write() == [f"{page}: 2 promise(s) updated"]
    rewritten = parse_page(page)
    # the header still matches and stays as written; the drifted row takes the promise's layout
    assert [s.expected for s in rewritten.steps] == ["\nID     NAME\nnew    row\n", "\nnew\n"]


def test_a_page_edited_during_the_run_is_skipped_and_the_others_written(tmp_path: Path) -> None:
    edited, other = tmp_path / "edited.md", tmp_path / "other.md"
    for page in (edited, other):
        page.write_text(page_with("old\n", "echo new"))
    pending = PendingUpdates()
    for page in (edited, other):
        parsed = parse_page(page)
        pending.add(parsed.steps[0], "new\n", parsed.text)
    edited.write_text(edited.read_text() + "\nan author's edit\n")
    assert pending.write() == [f"{other}: 1 promise(s) updated"]
    assert pending.refused == [f"{edited}: changed on disk during the run; not updated"]
    assert edited.read_text().endswith("an author's edit\n")
    assert "old" in edited.read_text() and "old" not in other.read_text()


def test_an_interrupted_write_leaves_the_old_page_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "page.md"
    page.write_text("original\n")

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(page, "rewritten\n")
    assert page.read_text() == "original\n"
    assert [p.name for p in tmp_path.iterdir()] == ["page.md"]


def test_edits_handed_over_by_an_xdist_worker_are_written_by_the_controller(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text(page_with("old\n", "echo new") + page_with("two\n", "echo 2"))
    parsed = parse_page(page)
    worker, other_worker, controller = PendingUpdates(), PendingUpdates(), PendingUpdates()
    worker.add(parsed.steps[0], "new\n", parsed.text)
    other_worker.add(parsed.steps[1], "2\n", parsed.text)
    controller.merge(worker.export())
    controller.merge(other_worker.export())
    assert len(controller) == 2
    assert page.read_text() == parsed.text  # a worker writes nothing itself
    assert controller.write() == [f"{page}: 2 promise(s) updated"]
    assert [s.expected for s in parse_page(page).steps] == ["\nnew\n", "\n2\n"]


def test_a_page_two_workers_read_differently_is_not_overwritten(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(page_with("old\n", "echo new"))
    before = parse_page(page)
    page.write_text(before.text + "\nan author's edit\n")
    after = parse_page(page)
    worker, controller = PendingUpdates(), PendingUpdates()
    worker.add(before.steps[0], "new\n", before.text)
    controller.add(after.steps[0], "new\n", after.text)
    controller.merge(worker.export())
    assert controller.write() == []
    assert controller.refused == [f"{page}: changed on disk during the run; not updated"]
    assert page.read_text() == after.text


def updated_bytes(page: Path, text: str, captures: list[str], read: str) -> bytes:
    """``page`` holding ``text``, its steps updated to ``captures``, as bytes on disk.

    ``read``: "exact" as ``parse_page`` reads a page, "universal" as Sybil does (CRLF → LF).
    """
    page.write_bytes(text.encode())
    parsed = parse_page(page)
    if read == "universal":
        parsed = parse_text(page.read_text(), page)
    pending = PendingUpdates()
    for step, captured in zip(parsed.steps, captures, strict=True):
        pending.add(step, captured, parsed.text)
    assert pending.write() == [f"{page}: {len(captures)} promise(s) updated"]
    return page.read_bytes()


@pytest.mark.parametrize("read", ["exact", "universal"])
def test_a_crlf_page_keeps_its_line_endings_and_every_other_byte(tmp_path: Path, read: str) -> None:
    text = page_with("ID     NAME\nold    row\n") + page_with("old\n", "echo new")
    captures = ["ID        NAME\nnew       row\n", "new\n"]
    lf = updated_bytes(tmp_path / "lf.md", text, captures, read)
    crlf = updated_bytes(tmp_path / "crlf.md", text.replace("\n", "\r\n"), captures, read)
    assert crlf == lf.replace(b"\n", b"\r\n")
    assert lf != text.encode()


@pytest.mark.parametrize("read", ["exact", "universal"])
def test_new_promise_lines_end_as_the_line_before_them(tmp_path: Path, read: str) -> None:
    # a page of mixed endings: the prose keeps its own, the promise takes its marker's
    text = "# Mixed\r\n\r\n" + page_with("old\n", "echo new")
    updated = updated_bytes(tmp_path / "mixed.md", text, ["new\n"], read)
    assert updated == text.replace("\nold\n", "\nnew\n").encode()
    crlf_block = text.replace("# Result ==>\n\nold\n", "# Result ==>\r\n\r\nold\r\n")
    updated = updated_bytes(tmp_path / "mixed.md", crlf_block, ["new\nline\n"], read)
    assert updated == crlf_block.replace("old\r\n", "new\r\nline\r\n").encode()


def test_a_truncated_capture_is_never_written_into_a_page() -> None:
    """The runner's notice on an over-long output is not the command's output."""
    from dojo_exec.screen import truncation_notice

    text = "```sh dojo\nseq 1 300000\n# Result ==>\n1\n```\n"
    (step,) = parse_text(text, "long.md").steps
    captured = truncation_notice(2_300_000, 3) + "\n299998\n299999\n300000\n"
    left_out = "2.3 MB of output, only the last 3 lines kept"  # as StepRun.truncated says
    with pytest.raises(
        PageError, match=r"output too long to promise \(2\.3 MB of output, only the last 3"
    ) as caught:
        promise_edits(step, captured, truncated=left_out)
    assert caught.value.line == 1
    pending = PendingUpdates()
    assert pending.add(step, captured, text, truncated=left_out) is None
    assert pending.refused and "long.md:1" in pending.refused[0]
