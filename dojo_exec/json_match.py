"""JSON outputs (``docker … inspect``, ``--format '{{json .}}'``) compared as JSON.

When promise and capture each parse as one JSON object or array, they are compared by
structure and value, not by indentation or key order: the same keys, lists of the same
length in the same order, equal numbers, booleans and nulls.  Strings follow the volatile
shapes of a line (IDs, timestamps, digests, IPs, PEM blocks bind or accept by shape, see
:mod:`dojo_exec.volatile`); a number under a key named in ``ANY_INTEGER`` (raft
``Index``, ``Pid``) accepts any integer and a string under a key in ``ANY_TIMESTAMP``
(``CreatedAt``, ``UpdatedAt``) any timestamp.  A mismatch names its path:
``[0].Spec.Mode.Replicated.Replicas: promised 5, captured 3``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dojo_exec.bindings import State, extend
from dojo_exec.lines import pairs
from dojo_exec.volatile import ACCEPT

ANY_INTEGER = frozenset({"Index", "Pid"})
ANY_TIMESTAMP = frozenset({"CreatedAt", "UpdatedAt"})
_TIMESTAMP = re.compile(ACCEPT["timestamp"])


def parse(text: str) -> Any | None:
    """The JSON object or array ``text`` holds, else None (scalars stay text)."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply for the decoder
        return None
    return document if _depth(document) <= MAX_DEPTH else None


MAX_DEPTH = 200
"""Deeper documents are compared as text: the comparison recurses once per level."""


def _depth(document: Any) -> int:
    """How deeply ``document`` nests (without recursion)."""
    deepest = 0
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return deepest


def match_json(promised: Any, captured: Any, versions: bool) -> tuple[State | None, str]:
    """(bindings, "") if the documents match, else (None, the first difference by path)."""
    return _compare(promised, captured, "", "", State(), versions)


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _compare(
    p: Any, c: Any, path: str, key: str, state: State, versions: bool
) -> tuple[State | None, str]:
    where = path or "(document)"
    if isinstance(p, dict) and isinstance(c, dict):
        missing = [k for k in p if k not in c]
        extra = [k for k in c if k not in p]
        if missing or extra:
            what = f"missing key {missing[0]!r}" if missing else f"extra key {extra[0]!r}"
            return None, f"{where}: {what}"
        new: State | None = state
        for k, value in p.items():
            assert new is not None
            new, why = _compare(value, c[k], f"{path}.{k}" if path else k, k, new, versions)
            if new is None:
                return None, why
        return new, ""
    if isinstance(p, list) and isinstance(c, list):
        if len(p) != len(c):
            return None, f"{where}: promised {len(p)} items, captured {len(c)}"
        new = state
        for index, (pv, cv) in enumerate(zip(p, c, strict=True)):
            assert new is not None
            new, why = _compare(pv, cv, f"{path}[{index}]", key, new, versions)
            if new is None:
                return None, why
        return new, ""
    return _scalar(p, c, where, key, state, versions)


def _scalar(
    p: Any, c: Any, where: str, key: str, state: State, versions: bool
) -> tuple[State | None, str]:
    differ = f"{where}: promised {_shown(p)}, captured {_shown(c)}"
    if isinstance(p, str) and isinstance(c, str):
        if key in ANY_TIMESTAMP and _TIMESTAMP.fullmatch(c):
            return state, ""
        found = pairs(p, c, versions, tail=False)
        if found is None:
            return None, differ
        new, why = extend(state, found)
        return new, f"{where}: {why}" if new is None else ""
    if key in ANY_INTEGER and _integer(p) and _integer(c):
        return state, ""
    if type(p) is type(c) and p == c:
        return state, ""
    return None, differ


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
