"""The search shared by lines and table rows: options, one comparison's state, a budget.

:func:`seq` matches a sequence of promised items, some of them elisions (any number of
captured items), against captured items, depth first and deterministically; the deepest
failure is kept to explain a mismatch.  A comparison gives up after ``STEP_BUDGET`` steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dojo_exec.bindings import State
from dojo_exec.lines import indent, normalise, unescaped

STEP_BUDGET = 200_000


@dataclass(frozen=True)
class MatchOptions:
    ordered: bool = False  # table rows must appear in promised order (default: a multiset)
    versions: bool = False  # Docker version strings match any version


DEFAULT_OPTIONS = MatchOptions()


class GaveUp(Exception):
    pass


class Budget:
    def __init__(self) -> None:
        self.steps = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps > STEP_BUDGET:
            raise GaveUp


@dataclass
class Failure:
    depth: int = -1
    why: str = ""

    def note(self, depth: int, why: str) -> None:
        if depth > self.depth:
            self.depth, self.why = depth, why


@dataclass
class Run:
    """One comparison: normalised promise and capture lines, options, budget."""

    plines: list[str]
    clines: list[str]
    options: MatchOptions
    budget: Budget = field(default_factory=Budget)
    literal: frozenset[int] = frozenset()  # promise lines that were escaped elisions
    exact_indent: bool = False  # leading spaces compared exactly (an indentation shift)

    @classmethod
    def of(cls, expected: str, captured: str, options: MatchOptions) -> Run:
        plines = normalise(expected)
        literal = unescaped(plines)
        return cls(plines, normalise(captured), options, literal=literal)

    def shifted(self, shift: int) -> Run:
        """The same comparison with every non-blank promised line indented by ``shift``."""
        if not shift:
            return self
        plines = [
            " " * shift + line if line and shift > 0 else line[min(-shift, indent(line)) :]
            for line in self.plines
        ]
        return Run(plines, self.clines, self.options, self.budget, self.literal, True)


Matcher = Callable[[int, int, State], tuple["State | None", str]]


def seq(
    dots: Sequence[bool],
    count: int,
    item: Matcher,
    state: State,
    budget: Budget,
    failure: Failure,
    missing: Callable[[int], str],
    extra: Callable[[int], str],
    i: int = 0,
    j: int = 0,
) -> State | None:
    """Match promise items (``dots[i]`` marks an elision) against ``count`` captured items."""
    while i < len(dots) and not dots[i]:
        budget.tick()
        if j >= count:
            failure.note(i, missing(i))
            return None
        new, why = item(i, j, state)
        if new is None:
            failure.note(i, why)
            return None
        state, i, j = new, i + 1, j + 1
    if i == len(dots):
        if j < count:
            failure.note(i, extra(j))
            return None
        return state
    for k in range(j, count + 1):
        found = seq(dots, count, item, state, budget, failure, missing, extra, i + 1, k)
        if found is not None:
            return found
    return None
