"""Unit tests of dojo_exec.screen: terminal bytes → what a reader's screen shows."""

from __future__ import annotations

import time

from dojo_exec.screen import (
    MAX_OUTPUT_BYTES,
    MAX_OUTPUT_LINES,
    render,
    strip_ansi,
    truncation_notice,
)


def test_plain_lines_trailing_spaces_and_blank_lines_dropped() -> None:
    assert render("a  \r\nb\t \r\n\r\n\r\n") == "a\nb"


def test_bare_newline_starts_a_new_line_at_column_zero() -> None:
    assert render("abc\ndef\n") == "abc\ndef"


def test_leading_and_inner_blank_lines_are_kept() -> None:
    assert render("\r\na\r\n\r\nb\r\n") == "\na\n\nb"


def test_bytes_are_decoded_as_utf8() -> None:
    assert render("ping localhost…  \r\n".encode()) == "ping localhost…"


def test_carriage_return_overwrites() -> None:
    assert render("10%\r50%\r100%\r\ndone\r\n") == "100%\ndone"


def test_shorter_overwrite_needs_erase_like_a_terminal() -> None:
    # A terminal only replaces the characters that are drawn again.
    assert render("downloading 100%\rok\r\n") == "okwnloading 100%"
    assert render("downloading 100%\r\x1b[2Kok\r\n") == "ok"


def test_cursor_up_and_erase_line_collapse_to_final_state() -> None:
    raw = "overall progress: 0 out of 1 tasks\r\n1/1:  \r\n"
    raw += "\x1b[2A\x1b[2K\roverall progress: 1 out of 1 tasks\r\n\x1b[2K\r1/1: running\r\n"
    raw += "verify: Waiting 1 seconds\r\n\x1b[1A\x1b[2K\rverify: Service converged\r\n"
    assert render(raw) == (
        "overall progress: 1 out of 1 tasks\n1/1: running\nverify: Service converged"
    )


def test_colours_do_not_leak() -> None:
    raw = "\x1b[1;32mRunning\x1b[0m \x1b[38;5;196mred\x1b[m\x1b]0;title\x07\r\n"
    assert render(raw) == "Running red"


def test_long_lines_wrap_exactly_at_columns() -> None:
    assert render("x" * 25 + "\r\n", columns=10) == "xxxxxxxxxx\nxxxxxxxxxx\nxxxxx"
    # A line of exactly `columns` characters does not produce an extra blank line.
    assert render("y" * 10 + "\r\nz\r\n", columns=10) == "yyyyyyyyyy\nz"
    assert render("w" * 150 + "\r\n") == "w" * 150


def test_whole_output_kept_beyond_screen_height() -> None:
    raw = "".join(f"line {i}\r\n" for i in range(5000))
    started = time.monotonic()
    lines = render(raw, rows=50).splitlines()
    assert time.monotonic() - started < 10
    assert lines == [f"line {i}" for i in range(5000)]


def test_redraw_near_the_end_of_a_long_output() -> None:
    raw = "".join(f"line {i}\r\n" for i in range(100)) + "0/1\r\n\x1b[1A\x1b[2K\r1/1\r\n"
    lines = render(raw, rows=10).splitlines()
    assert lines[-2:] == ["line 99", "1/1"]
    assert len(lines) == 101


def test_wide_and_zero_width_characters() -> None:
    assert render("日本語 ok\r\n") == "日本語 ok"
    # pyte would drop the rest of the chunk after a zero-width non-combining character.
    assert render("a\u200bb\ufe0fc\r\n") == "abc"
    assert render("e\u0301\r\n") == "é"


def test_no_trailing_newline() -> None:
    assert render("abc") == "abc"
    assert render("") == ""


def test_strip_ansi_keeps_every_intermediate_state() -> None:
    raw = "a\x1b[31mb\x1b[0m\r\n10%\r100%\r\n\x1b]0;t\x07\x1b[2Kc\td"
    assert strip_ansi(raw) == "ab\n10%\n100%\nc\td"
    assert strip_ansi(raw.encode()) == strip_ansi(raw)


def test_a_long_output_keeps_its_last_lines_under_a_notice() -> None:
    raw = "".join(f"line {i}\r\n" for i in range(MAX_OUTPUT_LINES + 500))
    first, *rest = render(raw).splitlines()
    assert rest == [f"line {i}" for i in range(500, MAX_OUTPUT_LINES + 500)]
    assert first == truncation_notice(len(raw), MAX_OUTPUT_LINES)
    assert first.startswith("[dojo-exec: ") and first.endswith(" lines kept]")


def test_a_tail_starts_at_a_line_start_and_says_how_much_was_written() -> None:
    tail = b"tial line\r\n\x1b[31mred\x1b[0m\r\nlast\r\n"
    out = render(tail, written=19_500_000)
    notice = "[dojo-exec: 19.5 MB of output, only the last 2 lines kept]"
    assert out.splitlines() == [notice, "red", "last"]


def test_wrapped_lines_count_towards_the_limit() -> None:
    raw = ("w" * 150 + "\r\n") * (MAX_OUTPUT_LINES // 2 + 10)  # each wraps to two rows
    assert len(raw) < MAX_OUTPUT_BYTES
    lines = render(raw, columns=100).splitlines()
    assert len(lines) == MAX_OUTPUT_LINES + 1
    assert lines[0] == truncation_notice(len(raw), MAX_OUTPUT_LINES)
    assert lines[-2:] == ["w" * 100, "w" * 50]


def test_a_flood_renders_in_bounded_time() -> None:
    for raw in (
        b"y\r\n" * 10_000_000,
        b"x" * 150 * 1024 + b"\r\n" + (b"z" * 150 + b"\r\n") * 100_000,
    ):
        started = time.monotonic()
        lines = render(raw).splitlines()
        assert time.monotonic() - started < 5
        assert len(lines) <= MAX_OUTPUT_LINES + 1
        assert len("\n".join(lines).encode()) <= MAX_OUTPUT_BYTES + 200
        assert lines[0].startswith("[dojo-exec: ") and lines[-1] in ("y", "z" * 150)


def test_an_output_within_the_limits_has_no_notice() -> None:
    raw = "".join(f"{i}\r\n" for i in range(MAX_OUTPUT_LINES))
    assert render(raw).splitlines() == [str(i) for i in range(MAX_OUTPUT_LINES)]
