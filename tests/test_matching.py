"""The matcher on real captures, their re-randomised twins and deliberate mutations."""

from __future__ import annotations

import time

import pytest
from fixtures.rerandomise import ORIGINAL, RERUN, body
from matching_twins import RUN_A, RUN_B, capture, rerandomise_more

from dojo_exec.matching import MatchOptions, match, reconcile

TWINS = [
    "01-swarm-init.txt",
    "06-node-ls.txt",
    "07-service-create-helloworld.txt",
    "08-service-ls.txt",
    "10-service-inspect-pretty.txt",
    "12-service-ls-5.txt",
    "15-node-ls-drain.txt",
    "16-service-ps-drained.txt",
    "20-service-inspect-missing.txt",
    "22-service-inspect-redis.txt",
    "24-service-ps-redis-updating.txt",
    "25-service-inspect-redis-updating.txt",
    "26-service-ps-redis-updated.txt",
    "28-docker-ps.txt",
    "29-docker-info-swarm.txt",
]


def promise(name: str) -> str:
    return body(ORIGINAL / name)


def rerun(name: str) -> str:
    return body(RERUN / name)


@pytest.mark.parametrize("name", sorted(p.name for p in ORIGINAL.glob("*.txt")))
def test_every_fixture_matches_itself(name: str) -> None:
    result = match(promise(name), promise(name))
    assert result.ok, result.explanation


@pytest.mark.parametrize("name", TWINS)
def test_fixture_matches_rerandomised_twin(name: str) -> None:
    if name != "20-service-inspect-missing.txt":  # nothing volatile there
        assert promise(name) != rerun(name)
    result = match(promise(name), rerun(name))
    assert result.ok, result.explanation
    assert result.explanation == ""


def test_version_needs_the_versions_option() -> None:
    changed = (
        promise("30-version.txt").replace("28.2.2", "29.0.1").replace("20.10.24+dfsg1", "24.0.5")
    )
    assert not match(promise("30-version.txt"), changed).ok
    assert match(promise("30-version.txt"), changed, MatchOptions(versions=True)).ok


def test_bindings_report_promised_to_captured() -> None:
    result = match(
        promise("26-service-ps-redis-updated.txt"), rerun("26-service-ps-redis-updated.txt")
    )
    assert result.bindings["6387rh1ejhat"] == rerun("26-service-ps-redis-updated.txt").split()[10]


# --------------------------------------------------------------------------- mismatches


def test_replica_count_changed() -> None:
    result = match(
        promise("12-service-ls-5.txt"), rerun("12-service-ls-5.txt").replace("5/5", "4/5")
    )
    assert not result.ok
    first = result.explanation.splitlines()[0]
    assert first == "row 1 (helloworld), column REPLICAS: promised '5/5', captured '4/5'"
    assert "--- promised" in result.explanation and "+++ captured" in result.explanation
    assert "-vuv02ejgm02p   helloworld   replicated   5/5" in result.explanation


def test_state_changed_running_to_shutdown() -> None:
    captured = rerun("13-service-ps-5.txt").replace(
        "Running         Running", "Running         Shutdown", 1
    )
    result = match(promise("13-service-ps-5.txt"), captured)
    assert not result.ok
    assert "column CURRENT STATE" in result.explanation.splitlines()[0]


def test_availability_drain_vs_active() -> None:
    result = match(promise("15-node-ls-drain.txt"), rerun("06-node-ls.txt"))
    assert not result.ok
    assert result.explanation.splitlines()[0] == (
        "row 1 (manager1), column AVAILABILITY: promised 'Drain', captured 'Active'"
    )


def test_node_name_changed() -> None:
    captured = rerun("09-service-ps.txt").replace("worker2 ", "worker1 ")
    result = match(promise("09-service-ps.txt"), captured)
    assert not result.ok
    assert "column NODE: promised 'worker2', captured 'worker1'" in result.explanation


def test_missing_row() -> None:
    lines = rerun("13-service-ps-5.txt").splitlines()
    captured = "\n".join(line for line in lines if "helloworld.3" not in line)
    result = match(promise("13-service-ps-5.txt"), captured)
    assert not result.ok
    assert result.explanation.startswith("row 3 (helloworld.3) was promised but not captured")


def test_extra_row() -> None:
    lines = promise("13-service-ps-5.txt").splitlines()
    result = match("\n".join(lines[:-1]), rerun("13-service-ps-5.txt"))
    assert not result.ok
    assert "is not in the promise" in result.explanation.splitlines()[0]


def test_two_promised_ids_bound_to_one_captured_id() -> None:
    text = promise("13-service-ps-5.txt")
    captured = text.replace("uvrmx0eqvct1", "d1gl1tq4b3mt")
    result = match(text, captured)
    assert not result.ok
    assert "both captured as 'd1gl1tq4b3mt'" in result.explanation


def test_same_literal_must_bind_same_value() -> None:
    promised = (
        "created vuv02ejgm02pprzc1lzorbob0\nverify: Service vuv02ejgm02pprzc1lzorbob0 converged"
    )
    assert match(
        promised, promised.replace("vuv02ejgm02pprzc1lzorbob0", "abc02ejgm02pprzc1lzorbob9")
    ).ok
    wrong = "created abc02ejgm02pprzc1lzorbob9\nverify: Service xyz02ejgm02pprzc1lzorbob9 converged"
    result = match(promised, wrong)
    assert not result.ok and "stands for" in result.explanation


def test_truncated_id_must_prefix_full_id() -> None:
    promised = "6387rh1ejhat   redis.1\nredis.1.6387rh1ejhatujtcmmg4nbaka"
    assert match(promised, "ab12cd34ef56   redis.1\nredis.1.ab12cd34ef56zzzzzzzzzzzz0").ok
    result = match(promised, "ab12cd34ef56   redis.1\nredis.1.zz12cd34ef56zzzzzzzzzzzz0")
    assert not result.ok and "prefixes" in result.explanation


def test_error_message_mismatch() -> None:
    result = match(promise("20-service-inspect-missing.txt"), "[]\nError: no such service: redis")
    assert not result.ok
    assert result.explanation.splitlines()[0] == (
        "line 2: promised 'Error: no such service: helloworld', captured 'Error: no such service: redis'"  # noqa: E501
    )


def test_table_header_mismatch() -> None:
    result = match(promise("08-service-ls.txt"), promise("09-service-ps.txt"))
    assert not result.ok and "promised columns ID, NAME, MODE" in result.explanation


# --------------------------------------------------------------------------- whitespace, elision, order  # noqa: E501


def test_whitespace_runs_and_blank_edges() -> None:
    captured = "\n\nID:\tabc\n Replicas:   1   \n\n"
    assert match("ID:  abc\n Replicas:\t1", captured).ok
    assert not match("ID:abc\n Replicas: 1", captured).ok


def test_columns_compare_regardless_of_spacing() -> None:
    promised = "ID             NAME         MODE\nvuv02ejgm02p   helloworld   replicated"
    captured = "ID             NAME              MODE\nab12cd34ef56   helloworld        replicated"
    assert match(promised, captured).ok
    assert not match(promised, captured.replace("replicated", "global    ")).ok


def test_ellipsis_in_text() -> None:
    promised = "tr07lz02c1r938y61okp0gndc\noverall progress: 0 out of 3 tasks\n...\nverify: Service tr07lz02c1r938y61okp0gndc converged"  # noqa: E501
    assert match(promised, rerun("21-service-create-redis.txt")).ok
    # zero lines elided
    assert match("a\n...\nb", "a\nb").ok
    assert not match("a\n...\nb", "a\nx\nc").ok


def test_ellipsis_in_table_allows_extra_rows() -> None:
    lines = promise("16-service-ps-drained.txt").splitlines()
    promised = "\n".join([lines[0], lines[3], "..."])
    assert match(promised, rerun("16-service-ps-drained.txt")).ok
    without = "\n".join([lines[0], lines[3]])
    assert not match(without, rerun("16-service-ps-drained.txt")).ok


def test_ordered_vs_unordered_rows() -> None:
    # the rerun of node ls has its rows shuffled
    assert match(promise("06-node-ls.txt"), rerun("06-node-ls.txt")).ok
    result = match(promise("06-node-ls.txt"), rerun("06-node-ls.txt"), MatchOptions(ordered=True))
    assert not result.ok and result.explanation.startswith("row 1 (manager1)")
    assert match(
        promise("16-service-ps-drained.txt"),
        rerun("16-service-ps-drained.txt"),
        MatchOptions(ordered=True),
    ).ok


def test_table_inside_larger_output() -> None:
    promised = "Nodes:\n\n" + promise("06-node-ls.txt") + "\n\nDone."
    assert match(promised, "Nodes:\n\n" + rerun("06-node-ls.txt") + "\n\nDone.").ok
    assert not match(promised, "Nodes:\n\n" + rerun("06-node-ls.txt") + "\n\nFailed.").ok


def test_deterministic_and_fast_on_twenty_rows() -> None:
    header = "ID             NAME       IMAGE           NODE      DESIRED STATE   CURRENT STATE"
    rows = [
        f"{i:02d}abcdefghij   web.{i:<5}  alpine:latest   worker1   Running         Running 5 seconds ago"  # noqa: E501
        for i in range(20)
    ]
    history = [
        f"h{i:02d}bcdefghij    \\_ web.1   alpine:latest   worker1   Shutdown        Shutdown 5 seconds ago"  # noqa: E501
        for i in range(20)
    ]
    promised = "\n".join([header, *rows, *history])
    captured = "\n".join([header, *reversed(rows), *reversed(history)])
    start = time.perf_counter()
    assert match(promised, captured).ok
    broken = captured.replace("web.7 ", "web.x ")
    result = match(promised, broken)
    elapsed = time.perf_counter() - start
    assert not result.ok and "web.7" in result.explanation
    assert elapsed < 1.0
    assert match(promised, broken).explanation == result.explanation


# --------------------------------------------------------------------------- reconcile


def test_reconcile_keeps_a_matching_promise() -> None:
    for name in TWINS:
        assert reconcile(promise(name), rerun(name)) == promise(name)


def test_reconcile_replaces_drifted_row_only() -> None:
    promised = promise("12-service-ls-5.txt")
    captured = rerun("12-service-ls-5.txt").replace("5/5", "4/5")
    new = reconcile(promised, captured)
    assert match(new, captured).ok
    assert "4/5" in new and "5/5" not in new


def test_reconcile_keeps_matching_lines_byte_for_byte() -> None:
    promised = "[]\nError: no such service: helloworld\nsee  vuv02ejgm02pprzc1lzorbob0"
    captured = "[]\nError: no such service: redis\nsee ab12cd34ef56gh78ij90klmno"
    new = reconcile(promised, captured)
    assert new.splitlines() == [
        "[]",
        "Error: no such service: redis",
        "see  vuv02ejgm02pprzc1lzorbob0",
    ]


def test_reconcile_keeps_ellipsis_that_still_elides() -> None:
    promised = "start\n...\nend old"
    new = reconcile(promised, "start\nmiddle 1\nmiddle 2\nend new")
    assert new == "start\n...\nend new"
    assert reconcile("a\n...\nb", "a\nc") == "a\nc"


def test_reconcile_table_with_extra_and_missing_rows() -> None:
    promised = promise("13-service-ps-5.txt")
    captured = rerun("16-service-ps-drained.txt")
    new = reconcile(promised, captured)
    assert match(new, captured).ok
    assert "d1gl1tq4b3mt" in new  # kept promised rows keep their literals


def test_reconcile_keeps_a_drifted_line_between_ellipses() -> None:
    """``...``/``State: updating``/``...`` on a finished update keeps saying which state."""
    captured = promise("27-service-inspect-redis-updated.txt").replace(
        " State:\t\tupdating", " State:\t\tcompleted"
    )
    updated = reconcile("...\n State:\t\tupdating\n...\n", captured)
    # the new line is the capture as a screen shows it: tabs at their tab stops
    assert updated == "...\n" + " State:\t\tcompleted".expandtabs() + "\n...\n"
    assert match(updated, captured).ok
    assert not match(updated, promise("27-service-inspect-redis-updated.txt")).ok


def test_reconcile_never_leaves_a_bare_ellipsis_for_a_promise_that_said_something() -> None:
    updated = reconcile("...\nnothing like it\n...\n", "only-new\n")
    assert updated == "only-new\n"
    assert reconcile("...\nonly-old\n...\n", "only-new\n") == "only-new\n"


def test_an_ellipsis_ending_a_table_also_elides_what_follows_it() -> None:
    table = promise("13-service-ps-5.txt")
    captured = table.rstrip("\n") + "\n\nnote: 5 tasks on 3 nodes\n"
    header, first = table.splitlines()[:2]
    assert match(f"{header}\n{first}\n...\n", captured).ok
    assert not match(f"{header}\n{first}\n", captured).ok  # without it, the note is extra
    wrong = first.replace("Running", "Shutdown", 1)
    assert wrong != first and not match(f"{header}\n{wrong}\n...\n", captured).ok


def test_tabs_zero_width_characters_and_decomposed_accents_match_the_screen() -> None:
    """A promise pasted from a terminal or an editor matches what the pty screen keeps."""
    assert match("KEY\tVALUE\n", "KEY     VALUE\n").ok  # tabs under an all-caps header
    assert match("love \u2764\ufe0f it\n", "love \u2764 it\n").ok  # variation selector
    assert match("cafe\u0301 ok\n", "caf\u00e9 ok\n").ok  # decomposed vs composed
    assert match("a\u200db\n", "ab\n").ok  # zero-width joiner
    assert not match("cafe ok\n", "caf\u00e9 ok\n").ok
    assert not match("KEY\tVALUE\n", "KEY     OTHER\n").ok


def test_a_captured_ellipsis_line_is_promised_escaped_and_matched_literally() -> None:
    captured = "Loading\n...\nDone\n"
    updated = reconcile("Loading\nold\nDone\n", captured)
    assert updated == "Loading\n\\...\nDone\n"  # update escapes it: not a wildcard
    assert match(updated, captured).ok
    assert not match(updated, "Loading\nERROR: disk full\nDone\n").ok
    assert match("Loading\n...\nDone\n", "Loading\nERROR: disk full\nDone\n").ok  # elision


def test_reconcile_keeps_the_ellipsis_ending_a_table_eliding_what_follows() -> None:
    table = promise("13-service-ps-5.txt")
    captured = table.rstrip("\n") + "\n\nnote: 5 tasks on 3 nodes\n"
    header, first = table.splitlines()[:2]
    drifted = first.replace("Running", "Preparing", 1)
    assert drifted != first
    updated = reconcile(f"{header}\n{drifted}\n...\n", captured)
    assert "note:" not in updated and updated.rstrip("\n").endswith("...")
    assert updated.count("...") == 1 and match(updated, captured).ok


def test_reconcile_with_a_title_right_under_a_table_keeps_the_table_as_written() -> None:
    # Found by hypothesis (test_reconcile_fixpoint_with_elisions_in_the_promise): the blank
    # line before ``Containers space usage:`` drifted, the title was read as a row of the
    # images table, so reconcile laid that table out anew (REPOSITORY 26 wide) and a
    # re-randomised second run of the capture cut the title into cells.
    promised = capture("system-df-v.txt", RUN_A)
    lines = capture("system-df-v.txt", RUN_B).split("\n")
    lines[4] = " (changed)"
    captured = "\n".join(lines)
    new = reconcile(promised, captured)
    assert new.split("\n")[:6] == [
        *promised.split("\n")[:4],
        "(changed)",
        "Containers space usage:",
    ]
    assert match(new, captured).ok
    assert reconcile(new, captured) == new
    for seed in range(20):
        twin = rerandomise_more(captured, seed)
        assert "Containers space usage:" in twin.split("\n")
        assert match(new, twin).ok, match(new, twin).explanation
    assert not match(new, captured.replace("Containers space", "Volumes space")).ok
