"""Update: drifted promises rewritten in place, nothing else touched, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dojo_exec.matching import match
from dojo_exec.page import PageError, parse_page, parse_text
from dojo_exec.update import Edit, PendingUpdates, apply_edits, promise_edit, write_atomic

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
    assert promise_edit(step, capture("08-service-ls")) is None


def test_only_the_drifted_line_changes_and_placeholders_stay() -> None:
    promised = capture("13-service-ps-5", "rerun-20.10-cli-28.2")
    captured = capture("13-service-ps-5").replace(
        "helloworld.5   alpine:latest   worker1    Running",
        "helloworld.5   alpine:latest   worker1    Shutdown",
    )
    text = page_with(promised, "docker service ps helloworld")
    step = parse_text(text, "p.md").steps[0]
    edit = promise_edit(step, captured)
    assert edit is not None
    new_text = apply_edits(text, [edit])
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
        edit = promise_edit(step, captured)
        new_text = apply_edits(text, [edit]) if edit else text
        again = parse_text(new_text, "p.md").steps[0]
        assert again.expected is not None
        assert match(again.expected, captured).ok, path.name
        assert promise_edit(again, captured) is None, path.name


def test_inline_promise_in_an_indented_fence_keeps_its_indentation() -> None:
    text = f"- item\n\n    {FENCE}sh dojo\n    echo one\n    # Result ==>\n    two\n    {FENCE}\n"
    step = parse_text(text, "p.md").steps[0]
    edit = promise_edit(step, "one\n")
    assert edit is not None
    assert apply_edits(text, [edit]) == text.replace("    two\n", "    one\n")


def test_a_captured_fence_line_cannot_be_spliced_into_a_page() -> None:
    step = parse_text(page_with("x\n"), "p.md").steps[0]
    with pytest.raises(PageError, match="code fence"):
        promise_edit(step, "```\n")


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
        write_atomic(page, "rewritten\n")
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
