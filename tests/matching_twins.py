"""Re-randomise the newer volatile shapes of a real capture, as a second run would change them.

Extends ``fixtures.rerandomise`` (IDs, tokens, digests, IPs, ages) with engine IDs, timestamps,
PEM bodies, public keys, kernel versions, sizes, raft indexes and PIDs.  Written with its own
regexes, independently of ``dojo_exec.volatile``, so a test built on it can catch the matcher
missing a shape.  Same literal, same new value within one text.
"""

from __future__ import annotations

import random
import re
import string
from pathlib import Path

from fixtures.rerandomise import Rerandomiser, rerandomise

DATA = Path(__file__).parent / "data" / "matching"
RUN_A = DATA / "engine-20.10-a"
RUN_B = DATA / "engine-20.10-b"

_B32 = string.ascii_uppercase + "234567"
_B64 = string.ascii_letters + string.digits + "+/"
_ENGINE = re.compile(r"\b[A-Z0-9]{4}(?::[A-Z0-9]{4}){11}\b")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_GO_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \+0000 (?:UTC|utc)")
_RFC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")
_PEM_LINE = re.compile(r"^(?=.*[A-Z])(?=.*[a-z])[A-Za-z0-9+/]{40,64}={0,2}$", re.M)
_JSON_PEM_LINE = re.compile(r"(?<=\\n)[A-Za-z0-9+/]{40,64}={0,2}(?=\\n)")
_KEY = re.compile(r"MFkw[A-Za-z0-9+/]{80,}={0,2}")
_KERNEL = re.compile(r"(Kernel Version: )(\S+)")
_SIZE = re.compile(r"(?<![\w.:])(\d+(?:\.\d+)?)( ?)(GiB|MiB|kB|MB|GB|B)(?![\w:])")
_INDEX = re.compile(r'("Index": ?)(\d+)')
_PID = re.compile(r'("Pid": ?)(\d+)')
KERNELS = ["6.1.0-28-amd64", "4.4.17-boot2docker", "5.15.0-91-generic", "6.8.0-1014-azure"]


def rerandomise_more(text: str, seed: int | str = 0, shuffle: bool = False) -> str:
    """``text`` with every volatile value, old shapes and new, as another run would print it."""
    rng = random.Random(f"more-{seed}")
    seen: dict[str, str] = {}

    def keep(old: str, make: object) -> str:
        if old not in seen:
            seen[old] = make()  # type: ignore[operator]
        return seen[old]

    def b64(length: int) -> str:
        return "".join(rng.choice(_B64) for _ in range(length))

    text = _ENGINE.sub(
        lambda m: keep(
            m[0], lambda: ":".join("".join(rng.choice(_B32) for _ in range(4)) for _ in range(12))
        ),
        text,
    )
    text = _UUID.sub(lambda m: keep(m[0], lambda: str(_uuid(rng))), text)
    text = _GO_TIME.sub(
        lambda m: (
            f"20{rng.randrange(27, 40)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)} "
            f"0{rng.randrange(0, 9)}:1{rng.randrange(0, 9)}:2{rng.randrange(0, 9)}."
            f"{rng.randrange(10**8, 10**9)} +0000 {m[0][-3:]}"
        ),
        text,
    )
    text = _RFC.sub(
        lambda m: (
            f"20{rng.randrange(27, 40)}-1{rng.randrange(0, 2)}-0{rng.randrange(1, 9)}T"
            f"1{rng.randrange(0, 9)}:0{rng.randrange(0, 9)}:3{rng.randrange(0, 9)}."
            f"{rng.randrange(10**5, 10**9)}Z"
        ),
        text,
    )
    text = _KEY.sub(lambda m: keep(m[0], lambda: "MFkw" + b64(len(m[0]) - 6) + "=="), text)
    text = _PEM_LINE.sub(lambda m: b64(len(m[0])), text)
    text = _JSON_PEM_LINE.sub(lambda m: b64(len(m[0])), text)
    text = _KERNEL.sub(lambda m: m[1] + rng.choice(KERNELS), text)
    text = _SIZE.sub(lambda m: _same_width_size(rng, m[1], m[2], m[3]), text)
    text = _INDEX.sub(lambda m: m[1] + str(rng.randrange(1, 99999)), text)
    text = _PID.sub(lambda m: m[1] + str(rng.randrange(2, 65000)), text)
    r = Rerandomiser(seed, text)
    pieces = _cut_before_titles(text.split("\n"))
    return "\n".join(rerandomise("\n".join(piece), seed, shuffle, r) for piece in pieces)


_HEADER_NAME = re.compile(r"[A-Z][A-Z0-9]*(?: [A-Z0-9]+)*")


def _cut_before_titles(lines: list[str]) -> list[list[str]]:
    """``lines`` cut where a table ends without a blank line: at a title or another header.

    ``fixtures.rerandomise`` lays out everything from a header to the next blank line as
    rows; a title right under a table (``Local Volumes space usage:``) would be cut into
    cells (``Local Volumes s   pace usage:``), which no Docker prints, and a second table
    right under the first (``docker service ps x; docker ps``) laid out in its columns.  A
    title is a line with no two-space gap that runs past the second column's name.
    """
    pieces: list[list[str]] = [[]]
    second: int | None = None  # where the current table's second column starts
    for line in lines:
        names = list(re.finditer(r"\S+(?: \S+)*", line))
        header = len(names) >= 2 and all(_HEADER_NAME.fullmatch(n[0]) for n in names)
        title = "  " not in line.strip() and len(line.rstrip()) > (second or 0)
        if second is not None and (header or title):
            pieces.append([])
            second = None
        pieces[-1].append(line)
        if header:
            second = names[1].start()
        elif not line.strip():
            second = None
    return pieces


def _same_width_size(rng: random.Random, number: str, space: str, unit: str) -> str:
    """Another size of the same width, so that table columns stay aligned."""
    digits = "".join(c if c == "." else rng.choice("123456789") for c in number)
    units = {3: ["GiB", "MiB", "KiB"], 2: ["MB", "kB", "GB"], 1: ["B"]}[len(unit)]
    return digits + space + rng.choice(units)


def _uuid(rng: random.Random) -> str:
    hexa = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


def capture(name: str, run: Path = RUN_A) -> str:
    """A capture recorded on a real engine (``$ command`` and ``[exit N]`` lines dropped)."""
    return "\n".join(
        line
        for line in (run / name).read_text(encoding="utf-8").splitlines()[1:]
        if not line.startswith("[exit ")
    )
