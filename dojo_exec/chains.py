"""Chained pages run once: a finished page's live swarm is handed to the page that continues it.

A page that ``requires:`` others runs after replaying them on a fresh cluster, so a tutorial
of nine chained pages runs its first page nine times.  When the pages of one run are taken in
chain order, a page can instead continue the cluster and shells of the page it requires, as a
reader goes from one page to the next: the page's prerequisites ran just before, on that very
cluster, and were recorded as themselves.

The decision is made here and only here: :func:`chain_order` orders pages so that a page
follows the one it continues; :class:`Handover` keeps at most one finished session per kind
(a run, or update's confirming run) alive for the page whose prerequisites are exactly what
that session ran, and tears it down as soon as it cannot be used.
"""

from __future__ import annotations

import atexit
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from dojo_exec.locations import PageError

if TYPE_CHECKING:
    from dojo_exec.page import Page

Chain = tuple[Path, ...]
"""Resolved paths of pages in the order they ran (prerequisites first)."""

T = TypeVar("T")


class Continuable(Protocol):
    """What a handover needs of a page session."""

    def release(self) -> None:
        """Tear down the cluster and shells that were kept for a continuation."""


def chain_of(path: Path, parsed: dict[Path, Page] | None = None) -> Chain:
    """The pages a run of ``path`` runs, in order: its prerequisites, then itself.

    ``parsed``: pages already parsed, by resolved path (filled with those parsed here).
    """
    # imported here on purpose: the pytest plugin orders every session's items through this
    # module, and a session without pages needs no page parser (nor YAML)
    from dojo_exec.page import resolve_order

    return tuple(page.path.resolve() for page in resolve_order(path, parsed))


def chain_order(
    paths: Sequence[Path], expected: Callable[[Path], float | None] | None = None
) -> list[Path]:
    """``paths`` so that a page comes right after the page it continues, where it can.

    Each page's parent is its last prerequisite; pages are visited depth first from the roots
    (pages with no parent among ``paths``).  Siblings keep their given order, unless
    ``expected`` tells how long a page is expected to take (its latest recorded run, None:
    unknown): then the sibling whose subtree holds the longest page comes first, unknown
    before known, so that parallel workers start the longest chains first.  A page that
    cannot be read keeps its place among the roots (its error is reported when it runs).
    """
    resolved = [path.resolve() for path in paths]
    index = {path: number for number, path in enumerate(resolved)}
    children: dict[int, list[int]] = {number: [] for number in range(len(paths))}
    roots: list[int] = []
    parsed: dict[Path, Page] = {}  # each page parsed once, however many chains it is in
    for number, path in enumerate(resolved):
        try:
            chain = chain_of(path, parsed)
        except (PageError, OSError, RecursionError):
            roots.append(number)
            continue
        parent = index.get(chain[-2]) if len(chain) > 1 else None
        (children[parent] if parent is not None else roots).append(number)
    if expected is not None:
        longest = _longest_below(children, [expected(path) for path in paths])
        roots.sort(key=lambda number: -longest[number])
        for siblings in children.values():
            siblings.sort(key=lambda number: -longest[number])
    ordered: list[int] = []
    stack = list(reversed(roots))
    while stack:
        number = stack.pop()
        ordered.append(number)
        stack += reversed(children[number])
    return [paths[number] for number in ordered]


def _longest_below(children: dict[int, list[int]], seconds: list[float | None]) -> list[float]:
    """For each page, the longest expected time of it and the pages below it (inf: unknown)."""
    longest = [math.inf if value is None else value for value in seconds]

    def visit(number: int, seen: frozenset[int]) -> float:
        for child in children[number]:
            if child not in seen:
                longest[number] = max(longest[number], visit(child, seen | {child}))
        return longest[number]

    for number in children:
        visit(number, frozenset({number}))
    return longest


def order_by_chain(
    items: Sequence[T],
    path_of: Callable[[T], Path | None],
    expected: Callable[[Path], float | None] | None = None,
) -> list[T]:
    """``items`` (a page's items together, in page order) regrouped by :func:`chain_order`.

    Items with no page keep their positions; the pages' items fill the other positions.
    """
    pages: dict[Path, list[T]] = {}
    for item in items:
        path = path_of(item)
        if path is not None:
            pages.setdefault(path, []).append(item)
    if len(pages) < 2:
        return list(items)
    ordered = chain_order(list(pages), expected)
    regrouped = iter([item for path in ordered for item in pages[path]])
    return [next(regrouped) if path_of(item) is not None else item for item in items]


@dataclass
class Handover:
    """Finished sessions kept alive, one per kind, for the page that continues them."""

    wanted: set[Chain] = field(default_factory=set)  # prerequisites of the pages of this run
    kept: dict[str, tuple[Chain, Continuable]] = field(default_factory=dict)

    def want(self, paths: Iterable[Path]) -> None:
        """Remember which chains the pages of this run continue."""
        parsed: dict[Path, Page] = {}
        for path in paths:
            try:
                chain = chain_of(path, parsed)
            except (PageError, OSError, RecursionError):
                continue
            if len(chain) > 1:
                self.wanted.add(chain[:-1])

    def wants(self, ran: Chain) -> bool:
        """Whether a page of this run continues what ``ran`` ran."""
        return ran in self.wanted

    def keep(self, kind: str, ran: Chain, session: Continuable) -> None:
        """Keep ``session`` (which ran ``ran``) for a continuation; one per kind."""
        self.release(kind)
        self.kept[kind] = (ran, session)

    def take(self, kind: str, prerequisites: Chain) -> Continuable | None:
        """The kept session that ran exactly ``prerequisites``; any other is released."""
        found = self.kept.pop(kind, None)
        if found is None:
            return None
        ran, session = found
        if ran == prerequisites:
            return session
        session.release()
        return None

    def release(self, kind: str | None = None) -> None:
        """Tear down what is kept (of one kind, or all)."""
        for name in [kind] if kind is not None else list(self.kept):
            found = self.kept.pop(name, None) if name is not None else None
            if found is not None:
                found[1].release()


HANDOVER = Handover()
"""The process's handover (pytest runs pages one after another in one process per worker)."""
atexit.register(HANDOVER.release)
