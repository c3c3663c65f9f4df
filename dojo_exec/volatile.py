"""Docker's volatile value shapes: what changes from run to run, and how to recognise it.

A promised line is scanned for volatile *literals*; each becomes a slot that accepts any
captured value of the same *shape*.  Recognition (in the promise) is strict, acceptance (in
the capture) is lenient:

=========  ==========================================  =================================
kind       recognised in a promise                     accepted in a capture
=========  ==========================================  =================================
token      ``SWMTKN-1-<alnum>-<alnum>``                same
digest     ``sha256:<64 hex>``                         same
pem        a PEM block (``-----BEGIN CERTIFICATE-----``  same, any number of base64 lines
           , base64 lines, ``-----END …-----``)
timestamp  RFC 3339 ``2026-11-25T23:48:34.17Z``,       either form, any zone
           ``…+00:00``; Go's ``2026-11-30 13:48:25.01
           +0000 UTC`` (zone in any case)
engine     engine ID of ``docker info``: 12 groups of  either form
           4 ``[A-Z0-9]`` joined by ``:``, or a UUID
           (``docker info`` 23+)
key        40+ base64 chars mixing upper and lower     any 40+ base64 chars
           case and digits (public keys)
hex64      64 lowercase hex chars (full container ID)  same
id25       25 chars of ``[a-z0-9]`` with ≥1 digit      any 25 chars of ``[a-z0-9]``
           and ≥1 letter (node/service/task IDs)
id12       12 chars of ``[a-z0-9]`` with ≥1 digit      any 12 chars of ``[a-z0-9]``
           and ≥1 letter (truncated IDs, 12-hex IDs)
ip         dotted IPv4                                 same
port       digits right after ``IP:``                  same
size       ``23.47GiB``, ``1.953 GiB``, ``15.6MB``,   any size in those units
           ``2.5kB``, ``512 B``, ``0B``
kernel     any ``<digits>.<digits>…`` word right       any such word
           after ``Kernel Version:``
index      digits right after ``"Index":`` (raft       any digits
           version numbers in inspect JSON) or
           ``"Pid":``
elapsed    ``<duration>`` or ``<duration> ago`` right   either form
           after a task state (``Running 26 seconds``
           of Docker 1.12, ``Running 5 minutes ago``,
           ``Shutdown 2 minutes ago``, ``RUNNING 1
           minute ago``)
age        ``<duration> ago`` (``5 minutes ago``,      same
           ``about a minute ago``, ``less than a
           second ago``; any case)
uptime     ``<duration>`` right after ``Up ``          same
version    Docker version strings (``20.10.24+dfsg1``, same; only with the ``versions``
           ``28.2.2``, ``1.6.20~ds1``, ``go1.24.3``)   option
=========  ==========================================  =================================

The ID rule and its trade-offs: a bare word of the ID alphabet and ID length counts as an
ID only if it mixes digits and letters.  Words such as ``helloworld``, ``replicated``,
``manager1`` (wrong length) or ``alpine:latest`` (wrong alphabet) stay literal.
*False positives*: a 12- or 25-character lowercase word with a digit (``helloworld12``)
would be taken for an ID and match any ID-shaped value.  *False negatives*: about 2% of
random 12-character IDs have no digit (``(26/36)**12``) and stay literal in prose; inside a
table column named ``ID``/``CONTAINER ID`` the digit rule is dropped (see
:func:`scan` ``id_cell``), which covers the outputs that show truncated IDs.

The other new shapes keep ordinary words literal by needing context or a rare mix: a
kernel version only after ``Kernel Version:``, a raft index or PID only after
``"Index":``/``"Pid":``, a size only as a number glued to (or one space before) a unit
``B``/``kB``/``MiB``/…, a key only as 40+ base64 characters mixing upper case, lower case
and digits (a long path of such characters would be taken for a key).  A kernel version
elsewhere (``uname -r``) stays literal.  *False positive*: a number before a lone ``B``
in prose (``2 B``) is taken for a size.

Identities (IDs, tokens, digests, PEM blocks, keys, engine IDs, IPs, ports) *bind*: the
same promised literal must capture the same value everywhere, and two different literals
must capture different values.  Ages, elapsed times, uptimes, timestamps, sizes, kernel
versions, raft indexes and versions match freely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_DURATION = (
    r"(?:[Ll]ess than a second"
    r"|[Aa]bout an? (?:minute|hour)"
    r"|an? (?:second|minute|hour|day|week|month|year)"
    r"|\d+ (?:second|minute|hour|day|week|month|year)s?)"
)
_TASK_STATES = (
    *("new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting"),
    *("running", "complete", "shutdown", "failed", "rejected", "remove", "orphaned"),
)
"""Swarm task states, as ``service ps`` (``Running``) and ``swarmctl`` (``RUNNING``) print them."""
_AFTER_STATE = "|".join(
    f"(?<=\\b{word} )" for state in _TASK_STATES for word in (state.title(), state.upper())
)
_RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
_GO_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [+-]\d{4} [A-Za-z]{1,5}"
_ENGINE_ID = r"[A-Z0-9]{4}(?::[A-Z0-9]{4}){11}"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_PEM = r"-----BEGIN [A-Z0-9 ]+-----(?:\s+[A-Za-z0-9+/=]+)*\s+-----END [A-Z0-9 ]+-----"
_SIZE = r"\d+(?:\.\d+)? ?(?:[kKMGTPE]i?B|B)"
_KEY = r"(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*\d)[A-Za-z0-9+/]{40,}={0,2}"
_ALNUM_EDGE_L = r"(?<![A-Za-z0-9])"
_ALNUM_EDGE_R = r"(?![A-Za-z0-9])"

#: kind → regex accepting a captured value of that shape (no groups)
ACCEPT: dict[str, str] = {
    "token": r"SWMTKN-1-[A-Za-z0-9]+-[A-Za-z0-9]+",
    "digest": r"sha256:[0-9a-f]{64}",
    "pem": _PEM,
    "timestamp": _RFC3339 + "|" + _GO_TIME,
    "engine": _ENGINE_ID + "|" + _UUID,
    "key": r"[A-Za-z0-9+/]{40,}={0,2}",
    "hex64": r"[0-9a-f]{64}",
    "id25": r"[a-z0-9]{25}",
    "id12": r"[a-z0-9]{12}",
    "ip": r"(?:\d{1,3}\.){3}\d{1,3}",
    "port": r"\d{1,5}",
    "size": _SIZE,
    "kernel": r"\d+\.\d+[^\s]*",
    "index": r"\d+",
    "elapsed": _DURATION + r"(?: ago)?",
    "age": _DURATION + r" ago",
    "uptime": _DURATION,
    "version": r"(?:go|v)?\d+\.\d+(?:\.\d+)?(?:[-+~][0-9A-Za-z.+~-]*)?",
}

#: kinds whose literals bind to one captured value (and injectively)
BINDING_KINDS = frozenset(
    {"token", "digest", "pem", "engine", "key", "hex64", "id25", "id12", "ip", "port"}
)
CONTEXT_KINDS = frozenset({"kernel", "index"})
"""Kinds recognised after a label; their match starts with the whitespace after it."""


def accept(kind: str, literal: str) -> str:
    """Regex accepting a captured value for a promised literal (a PEM block keeps its label)."""
    if kind == "pem":
        label = literal[len("-----BEGIN ") : literal.index("-----", 5)]
        return _PEM.replace("[A-Z0-9 ]+", re.escape(label))
    return ACCEPT[kind]


def _id(length: int) -> str:
    return (
        rf"{_ALNUM_EDGE_L}(?=[a-z]{{0,{length - 1}}}\d)(?=\d{{0,{length - 1}}}[a-z])"
        rf"[a-z0-9]{{{length}}}{_ALNUM_EDGE_R}"
    )


_RECOGNISE = [
    ("token", ACCEPT["token"]),
    ("digest", r"(?<![A-Za-z0-9])" + ACCEPT["digest"] + _ALNUM_EDGE_R),
    ("pem", _PEM),
    ("timestamp", r"(?<![\d.])(?:" + ACCEPT["timestamp"] + r")(?![\w])"),
    ("engine", r"(?<![\w:-])(?:" + ACCEPT["engine"] + r")(?![\w:-])"),
    ("key", r"(?<![\w+/=.:-])" + _KEY + r"(?![\w+/=.:-])"),
    ("hex64", _ALNUM_EDGE_L + ACCEPT["hex64"] + _ALNUM_EDGE_R),
    ("id25", _id(25)),
    ("id12", _id(12)),
    ("ip", r"(?<![\w.])" + ACCEPT["ip"] + r"(?!\w|\.\d)"),
    ("size", r"(?<![\w.])" + _SIZE + r"(?![\w.])"),
    ("kernel", r"(?<=Kernel Version:)[ \t]+" + ACCEPT["kernel"]),
    ("index", r'(?:(?<="Index":)|(?<="Pid":))[ \t]*\d+(?![\w.])'),
    ("elapsed", f"(?:{_AFTER_STATE})" + ACCEPT["elapsed"] + r"\b"),
    ("age", r"(?<![\w])" + ACCEPT["age"] + r"\b"),
    ("uptime", r"(?<=\bUp )" + _DURATION + r"\b"),
]
_VERSION = ("version", r"(?<![\w.:/@-])" + ACCEPT["version"] + r"(?![\w.])")
_PORT_AFTER_IP = re.compile(r":(\d{1,5})(?!\d)")


def _master(versions: bool) -> re.Pattern[str]:
    parts = [*_RECOGNISE, _VERSION] if versions else _RECOGNISE
    return re.compile("|".join(f"(?P<{kind}>{rx})" for kind, rx in parts))


_MASTERS = {False: _master(False), True: _master(True)}
_ID_CELL = re.compile(r"(?P<id>[a-z0-9]{25}|[a-z0-9]{12})(?P<rest> \*)?")


@dataclass(frozen=True)
class Piece:
    """A piece of a promised line: literal text (``kind`` None) or a volatile literal."""

    text: str
    kind: str | None = None


def scan(text: str, versions: bool = False, id_cell: bool = False) -> tuple[Piece, ...]:
    """Split ``text`` into literal and volatile pieces.

    ``id_cell``: ``text`` is a whole cell of an ID column, so an ID-shaped cell is an ID
    even without a digit (``node ls`` keeps its ``*`` marker as literal text).
    """
    return _scan(text, versions, id_cell)


@lru_cache(maxsize=4096)
def _scan(text: str, versions: bool, id_cell: bool) -> tuple[Piece, ...]:
    if id_cell:
        cell = _ID_CELL.fullmatch(text)
        if cell:
            kind = "id25" if len(cell["id"]) == 25 else "id12"
            rest = (Piece(cell["rest"]),) if cell["rest"] else ()
            return (Piece(cell["id"], kind), *rest)
    pieces: list[Piece] = []
    pos = 0
    for found in _MASTERS[versions].finditer(text):
        if found.start() > pos:
            pieces.append(Piece(text[pos : found.start()]))
        value, found_kind = found.group(), found.lastgroup
        if found_kind in CONTEXT_KINDS:
            value = value.lstrip(" \t")
            pieces.append(Piece(found.group()[: len(found.group()) - len(value)]))
        pieces.append(Piece(value, found_kind))
        pos = found.end()
        if found.lastgroup == "ip":
            port = _PORT_AFTER_IP.match(text, pos)
            if port:
                pieces.append(Piece(":"))
                pieces.append(Piece(port.group(1), "port"))
                pos = port.end()
    if pos < len(text):
        pieces.append(Piece(text[pos:]))
    return _merge_literals(pieces)


def _merge_literals(pieces: list[Piece]) -> tuple[Piece, ...]:
    merged: list[Piece] = []
    for piece in pieces:
        if piece.kind is None and merged and merged[-1].kind is None:
            merged[-1] = Piece(merged[-1].text + piece.text)
        else:
            merged.append(piece)
    return tuple(merged)


def classify(token: str, versions: bool = False) -> str | None:
    """The volatile kind of a whole token (``None`` if it is a plain literal)."""
    pieces = scan(token, versions)
    if len(pieces) == 1 and pieces[0].kind is not None:
        return pieces[0].kind
    return None


def volatile_values(text: str, versions: bool = False) -> list[tuple[str, str]]:
    """All (kind, literal) volatile values found in ``text``, in order."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        found.extend((p.kind, p.text) for p in scan(line, versions) if p.kind is not None)
    return found
