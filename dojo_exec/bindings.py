"""Bindings: which captured value each promised identity literal stands for.

One promised identity literal (ID, token, digest, PEM block, key, engine ID, IP, port)
stands for one captured value throughout an output, and two different literals for two
different values; a promised 12-char ID that prefixes a promised 25-char ID must stay a
prefix.  A :class:`State` is immutable: :func:`extend` returns a new one or says why not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dojo_exec.volatile import BINDING_KINDS

Pair = tuple[str, str, str]
"""(kind, promised literal, captured value)."""


@dataclass(frozen=True)
class State:
    fwd: dict[str, str] = field(default_factory=dict)  # promised literal -> captured value
    rev: dict[str, str] = field(default_factory=dict)  # captured value -> promised literal
    kinds: dict[str, str] = field(default_factory=dict)  # promised literal -> kind


def extend(state: State, pairs: Sequence[Pair]) -> tuple[State | None, str]:
    """Add bindings; (None, why) on a conflict."""
    fwd, rev, kinds = state.fwd, state.rev, state.kinds
    copied = False
    for kind, literal, value in pairs:
        if kind not in BINDING_KINDS:
            continue
        bound = fwd.get(literal)
        if bound is not None:
            if bound != value:
                why = f"promised {literal!r} stands for {bound!r} elsewhere, here {value!r}"
                return None, why
            continue
        other = rev.get(value)
        if other is not None:
            return None, f"promised {other!r} and {literal!r} both captured as {value!r}"
        why = _prefix_conflict(fwd, kinds, kind, literal, value)
        if why:
            return None, why
        if not copied:
            fwd, rev, kinds, copied = dict(fwd), dict(rev), dict(kinds), True
        fwd[literal], rev[value], kinds[literal] = value, literal, kind
    return (State(fwd, rev, kinds) if copied else state), ""


def _prefix_conflict(
    fwd: dict[str, str], kinds: dict[str, str], kind: str, literal: str, value: str
) -> str:
    """A truncated ID that prefixes a full one in the promise must do so in the capture."""
    if kind not in ("id12", "id25"):
        return ""
    for other, other_value in fwd.items():
        if kinds.get(other) not in ("id12", "id25") or len(other) == len(literal):
            continue
        (short, short_v), (long_, long_v) = sorted(
            [(literal, value), (other, other_value)], key=lambda p: len(p[0])
        )
        if long_.startswith(short) and not long_v.startswith(short_v):
            return (
                f"promised {short!r} prefixes {long_!r}, but {short_v!r} does not prefix {long_v!r}"
            )
    return ""
