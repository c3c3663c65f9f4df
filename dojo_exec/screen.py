"""Terminal bytes → the text a reader's screen shows.

The captured bytes of a step are fed to a `pyte` terminal emulator of the configured width,
so that what is kept is what a reader sees rather than what the program wrote:

- redraws collapse to their final state (``\\r`` overwrites, cursor-up + erase-line progress
  such as ``docker service create/scale``);
- colours and other escape sequences leave no trace in the text;
- lines that scroll off the top of the screen go to a scrollback list, as a terminal's
  scrollback, so a 5000-line output is returned whole; like a terminal's, the scrollback is
  bounded: a flood (``yes``) keeps its last :data:`MAX_OUTPUT_LINES` lines (of at most
  :data:`MAX_OUTPUT_BYTES` bytes) under a first line saying how much was written;
- lines longer than ``columns`` wrap at ``columns`` as a terminal wraps them (autowrap,
  DECAWM), and nowhere else;
- a bare ``\\n`` starts a new line at column 0 (the pty's ONLCR does the same for programs),
  tabs expand to the terminal's 8-column tab stops;
- trailing spaces of each line and trailing blank lines are dropped.

Cursor movement is relative to the visible screen (``rows`` lines, like the reader's window),
so a redraw cannot reach back into the scrollback — also as a terminal behaves.
"""

from __future__ import annotations

import re
import unicodedata

import pyte
from pyte.screens import Margins
from wcwidth import wcwidth

DEFAULT_COLUMNS = 500
"""Wide enough that Docker's longest lines (``service ps --no-trunc``: IDs, digests) are not
wrapped, as they would be in a narrow terminal; measured no slower to render than 200."""
DEFAULT_ROWS = 50

MAX_OUTPUT_BYTES = 1024 * 1024
"""The most terminal output of one step that is kept and rendered: its last MiB.

A step that floods its terminal (``yes``, ``seq 1 5000000``, a log followed forever) writes
tens of MB before its timeout; the shell keeps only this tail while reading, and
:func:`render` only ever feeds this much to the emulator (about a second at worst), so a
step's run time stays close to its timeout and its transcript stays small.
"""

MAX_OUTPUT_LINES = 10_000
"""The most lines of one step's rendered output that are kept: its last ones.

A terminal's scrollback is bounded the same way (10,000 lines is a common setting); every
output a tutorial promises is far shorter.
"""

_ANSI = re.compile(
    r"""
    \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?   # OSC ... BEL / ST (window titles, hyperlinks)
  | \x1b[P^_X][^\x1b]*(?:\x1b\\)?        # DCS / PM / APC / SOS strings
  | \x1b\[[0-?]*[ -/]*[@-~]              # CSI: colours, cursor movement, erase
  | \x1b[ -/]*[0-~]                      # two-byte escapes: charset, index, save/restore
  | \x9b[0-?]*[ -/]*[@-~]                # 8-bit CSI
    """,
    re.VERBOSE,
)
_OTHER_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class _ScrollbackScreen(pyte.Screen):
    """A pyte screen that keeps the lines scrolling off its top, like a terminal's scrollback."""

    def __init__(self, columns: int, lines: int) -> None:
        super().__init__(columns, lines)
        self.scrollback: list[str] = []
        self.set_mode(pyte.modes.LNM)  # LF implies CR, as ONLCR does on a pty

    def reset(self) -> None:
        super().reset()
        self.scrollback = []

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0:
            self.scrollback.append(self.line_text(0))
        super().index()

    def draw(self, data: str) -> None:
        # pyte stops drawing a chunk at the first non-printable, non-combining character
        # (e.g. U+200B, U+FE0F): drop those so the rest of the line is not lost.
        if not data.isascii():
            data = "".join(c for c in data if wcwidth(c) > 0 or unicodedata.combining(c))
        super().draw(data)

    def line_text(self, y: int) -> str:
        """Row ``y`` of the visible screen as text, trailing spaces dropped."""
        line = self.buffer[y]
        if not line:
            return ""
        return "".join(line[x].data for x in range(max(line) + 1)).rstrip()

    def text_lines(self) -> list[str]:
        """Scrollback then visible rows, trailing blank lines dropped."""
        lines = self.scrollback + [self.line_text(y) for y in range(self.lines)]
        while lines and not lines[-1]:
            lines.pop()
        return lines


def render(
    raw: str | bytes,
    columns: int = DEFAULT_COLUMNS,
    rows: int = DEFAULT_ROWS,
    *,
    written: int | None = None,
) -> str:
    """Terminal bytes -> the text a reader's screen shows.

    The whole output (scrollback included) up to :data:`MAX_OUTPUT_LINES` lines and
    :data:`MAX_OUTPUT_BYTES` bytes, trailing spaces and trailing blank lines dropped.  A
    longer output keeps its last lines, from a line start, under a first line such as
    ``[dojo-exec: 19.5 MB of output, only the last 10000 lines kept]``.  ``written`` is the
    size in bytes of the whole output when ``raw`` is only its tail (the shell keeps no more).
    """
    return render_output(raw, columns, rows, written=written)[0]


def render_output(
    raw: str | bytes,
    columns: int = DEFAULT_COLUMNS,
    rows: int = DEFAULT_ROWS,
    *,
    written: int | None = None,
) -> tuple[str, str | None]:
    """:func:`render`'s text, and what was left out of it (``19.5 MB of output, only the last
    10000 lines kept``, as its first line says) or None when nothing was."""
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8", errors="surrogatepass")
    total = len(data) if written is None else max(written, len(data))
    kept = _tail(data, cut=total > len(data), rows=rows)
    screen = _ScrollbackScreen(columns, rows)
    stream = pyte.Stream(screen)
    stream.feed(kept.decode("utf-8", errors="replace"))
    lines = screen.text_lines()
    left_out = None
    if len(kept) < total or len(lines) > MAX_OUTPUT_LINES:
        lines = lines[-MAX_OUTPUT_LINES:]
        left_out = _left_out(total, len(lines))
        lines.insert(0, f"{NOTICE_PREFIX}{left_out}]")
    return "\n".join(lines), left_out


NOTICE_PREFIX = "[dojo-exec: "


def truncation_notice(written: int, kept_lines: int) -> str:
    """The first line of a truncated output: how much was written, how much is kept."""
    return f"{NOTICE_PREFIX}{_left_out(written, kept_lines)}]"


def _left_out(written: int, kept_lines: int) -> str:
    return f"{_size(written)} of output, only the last {kept_lines} lines kept"


def _tail(data: bytes, *, cut: bool, rows: int) -> bytes:
    """The part of ``data`` worth rendering: its last lines, within the bounds.

    Rendering starts at a line start, so a line cut in its middle (or an escape sequence cut
    in two) never shows.  ``rows`` lines beyond :data:`MAX_OUTPUT_LINES` are fed too: a
    redraw may move the cursor up that far.  ``cut`` says ``data`` is already a tail.
    """
    if len(data) > MAX_OUTPUT_BYTES:
        data, cut = data[-MAX_OUTPUT_BYTES:], True
    start = len(data)
    for _ in range(MAX_OUTPUT_LINES + rows):
        start = data.rfind(b"\n", 0, start)
        if start < 0:
            break
    else:
        return data[start + 1 :]
    if cut and b"\n" in data:
        return data[data.index(b"\n") + 1 :]
    return data


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f} MB"
    if count >= 1_000:
        return f"{count / 1_000:.0f} kB"
    return f"{count} bytes"


def strip_ansi(raw: str | bytes) -> str:
    """Escape sequences and control characters removed, nothing rendered (for diagnostics).

    ``\\r\\n`` becomes ``\\n``; a lone ``\\r`` (an overwrite) also becomes ``\\n`` so every
    intermediate state of a progress line stays visible; tabs are kept.
    """
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _OTHER_CONTROLS.sub("", text)
