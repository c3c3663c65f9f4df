"""Mutation check: every promise and check of the real pages, changed one at a time, fails.

The committed transcripts hold what each step of ``docs/`` printed in the last verified run.
Each step's promise and checks are judged against that capture with the runner's own
judgement (:func:`dojo_exec.judgement.judge`, the matcher options the step asks for, the
checks evaluated as the runner evaluates them): unchanged, every step passes (so this test
can fail).  Then one thing at a time is changed in a promise or a check, the way a wrong page
would differ from the truth, and the judgement must fail:

* replica counts (``5/5`` → ``6/5`` and ``5/6``), check counts (``5 rows`` → ``6 rows``,
  ``no rows`` → ``1 rows``, ``at least 2`` → ``at least 9``);
* task and node states (``Running`` → ``Shutdown``, ``Ready`` → ``Down``), availability
  (``Active`` → ``Drain``/``Pause``), manager status (``Leader`` → ``Unreachable``);
* node names where a promise or a check asserts them, swapped for another node the capture
  shows (``manager1`` → ``worker1``);
* image tags (``redis:3.0.7`` → ``redis:3.0.8``, ``alpine:latest`` → ``alpine:edge``; digests
  and ports are volatile shapes, not mutated).

A word among a regex's alternatives (``Leader|Reachable``) is not asserted alone, and a
``no rows where …`` check is mutated by its count only (changing what it rules out to
something else that is absent holds as well): neither is mutated otherwise.

Transcripts redact join tokens (``SWMTKN-1-<redacted>``); the run saw a real token, so a
token-shaped value stands for it here.

No Docker: only pages, transcripts and the judgement.  The figure (caught/total by kind) is
printed; every mutation must be caught.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from dojo_exec.freshness import match_records
from dojo_exec.judgement import judge
from dojo_exec.page import Step, parse_page
from dojo_exec.shell import StepRun
from dojo_exec.transcripts import StepRecord, load_transcript, page_key

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TRANSCRIPTS = ROOT / "transcripts"  # noxfile.py: verify-docs records there (TRANSCRIPTS)

NODES = ("manager1", "manager2", "worker1", "worker2", "worker3")
STATES = {
    "Running": "Shutdown", "Shutdown": "Running", "Ready": "Down", "Down": "Ready",
    "Complete": "Failed", "Failed": "Complete", "Pending": "Running", "Accepted": "Rejected",
    "Preparing": "Running", "Starting": "Running", "Rejected": "Accepted",
}  # fmt: skip
AVAILABILITY = {"Active": "Drain", "Drain": "Active", "Pause": "Active"}
MANAGER_STATUS = {"Leader": "Unreachable", "Reachable": "Unreachable"}  # (with two managers,
# Leader ↔ Reachable swaps which one is which: the same table)
REPLICAS = re.compile(r"(?<![\w./:-])(\d+)/(\d+)(?![\w./:-])")
TAG = re.compile(r"(?<![\w./-])((?:[a-z0-9]+[./-])*[a-z0-9]+):([\w][\w.-]*)(?![\w.:/@-])")
CHECK_COUNT = re.compile(r"^(?:(exactly|at least|at most) )?(no|\d+)\b")


@dataclass(frozen=True)
class Mutant:
    kind: str
    where: str  # file:line and what changed
    step: Step


def _word_swaps(text: str, table: dict[str, str], kind: str) -> Iterator[tuple[str, str, str]]:
    for word, other in table.items():
        for found in re.finditer(rf"(?<![\w.|-]){re.escape(word)}(?![\w.|-])", text):
            # a word among a regex's alternatives (Leader|Reachable) is not asserted alone
            yield kind, f"{word} → {other}", text[: found.start()] + other + text[found.end() :]


def _promise_mutations(text: str, captured: str) -> Iterator[tuple[str, str, str]]:
    """(kind, what, mutated text) for each place of a promise that a mutation can change."""
    for found in REPLICAS.finditer(text):
        running, wanted = int(found[1]), int(found[2])
        for new in (f"{running + 1}/{wanted}", f"{running}/{wanted + 1}"):
            yield (
                "replicas",
                f"{found[0]} → {new}",
                text[: found.start()] + new + text[found.end() :],
            )
    yield from _word_swaps(text, STATES, "state")
    yield from _word_swaps(text, AVAILABILITY, "availability")
    yield from _word_swaps(text, MANAGER_STATUS, "manager status")
    yield from _word_swaps(text, _node_swaps(text, captured), "node name")
    for found in TAG.finditer(text):
        if found[1] in NODES or found[1] == "sha256" or found[2].isdigit():  # address:port, digest
            continue
        new = _other_tag(found[2])
        mutated = text[: found.start(2)] + new + text[found.end(2) :]
        yield "image tag", f"{found[0]} → {found[1]}:{new}", mutated


def _node_swaps(text: str, captured: str) -> dict[str, str]:
    """Each node name the text asserts → another node of the cluster (one the capture shows).

    A name among alternatives (``^(manager1|worker1)$``) is not asserted alone: not swapped.
    """
    shown = [node for node in NODES if re.search(rf"(?<![\w.-]){node}(?![\w-])", captured)]
    swaps: dict[str, str] = {}
    for node in NODES:
        places = list(re.finditer(rf"(?<![\w.-]){node}(?![\w-])", text))
        alone = [m for m in places if "|" not in text[max(0, m.start() - 1) : m.end() + 1]]
        others = [other for other in shown if other != node]
        if alone and others:
            swaps[node] = others[0]
    return swaps


def _other_tag(tag: str) -> str:
    digits = re.search(r"(\d+)(?!.*\d)", tag)
    if digits is None:
        return "edge" if tag != "edge" else "latest"
    return tag[: digits.start()] + str(int(digits[1]) + 1) + tag[digits.end() :]


def _check_mutations(check: str, captured: str) -> Iterator[tuple[str, str, str]]:
    count = CHECK_COUNT.match(check)
    if count is not None:
        bound, number = count[1], count[2]
        if number == "no":
            new = "1"
        elif bound == "at least":
            new = f"at least {int(number) + 7}"
        elif bound == "at most":
            new = "at most 0" if number != "0" else "at least 99"
        else:
            new = f"{bound + ' ' if bound else ''}{int(number) + 1}"
        yield "check count", f"{count[0]!r} → {new!r}", new + check[count.end() :]
        if number == "no":
            return  # what a no-rows check rules out, changed to another absent thing, holds too
    for kind, what, mutated in _promise_mutations(check, captured):
        if kind != "replicas":
            yield f"check {kind}", what, mutated


TOKEN = "SWMTKN-1-" + "0" * 50 + "-" + "1" * 25  # the shape of a join token


def _captured(record: StepRecord) -> str:
    """What the step printed: the transcript redacts join tokens, the run saw a real one."""
    return record.captured.replace("SWMTKN-1-<redacted>", TOKEN)


def _runs(step: Step, record: StepRecord) -> list[StepRun]:
    return [StepRun(output=_captured(record), raw="", exit_status=record.exit_status, duration=0)]


def _recorded_steps() -> tuple[list[tuple[Step, StepRecord]], list[str]]:
    """Each judged step of docs/ with its latest recorded capture; and those left out, why."""
    found: list[tuple[Step, StepRecord]] = []
    left: list[str] = []
    for path in sorted(DOCS.glob("*.md")):
        page = parse_page(path)
        transcript = load_transcript(TRANSCRIPTS, page_key(path, DOCS))
        latest = transcript.latest if transcript else None
        for outcome in match_records(page.steps, latest.steps if latest else None):
            step, record = outcome.step, outcome.record
            if step.expected is None and not step.options.checks:
                continue  # promises nothing but its exit status
            if record is None or outcome.status != "passed":
                left.append(f"{step.location}: {outcome.status}")
            elif len(step.commands) != 1:
                left.append(f"{step.location}: a session of {len(step.commands)} commands")
            else:
                found.append((step, record))
    return found, left


def _mutants(step: Step, record: StepRecord) -> Iterator[Mutant]:
    command = step.commands[0]
    captured = _captured(record)
    if step.expected is not None:
        for kind, what, text in _promise_mutations(step.expected, captured):
            changed = replace(command, expected=text)
            yield Mutant(
                kind, f"{step.location}: {what}", replace(step, expected=text, commands=(changed,))
            )
    for index, check in enumerate(step.options.checks):
        for kind, what, text in _check_mutations(check, captured):
            checks = (*step.options.checks[:index], text, *step.options.checks[index + 1 :])
            options = replace(step.options, checks=checks)
            yield Mutant(kind, f"{step.location}: check {what}", replace(step, options=options))


STEPS, LEFT_OUT = _recorded_steps()


def test_the_pages_steps_have_recorded_captures() -> None:
    assert len(STEPS) >= 30, (len(STEPS), LEFT_OUT)
    assert len(LEFT_OUT) <= len(STEPS) // 4, LEFT_OUT  # the transcripts are the current pages'


@pytest.mark.parametrize("step_and_record", STEPS, ids=[s.location for s, _ in STEPS])
def test_unmutated_promises_and_checks_hold(step_and_record: tuple[Step, StepRecord]) -> None:
    step, record = step_and_record
    judged = judge(step, _runs(step, record))
    assert judged.ok, f"{step.location}:\n{judged.explanation}"


def test_every_mutation_is_caught() -> None:
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: list[str] = []
    for step, record in STEPS:
        for mutant in _mutants(step, record):
            total[mutant.kind] += 1
            if judge(mutant.step, _runs(mutant.step, record)).ok:
                missed.append(f"{mutant.kind}: {mutant.where}")
            else:
                caught[mutant.kind] += 1
    by_kind = ", ".join(f"{kind} {caught[kind]}/{total[kind]}" for kind in sorted(total))
    print(
        f"\nmutations caught: {sum(caught.values())}/{sum(total.values())} over {len(STEPS)} "
        f"steps of docs/ ({by_kind}); steps left out: {len(LEFT_OUT)}"
    )
    for line in LEFT_OUT:
        print(f"  left out: {line}")
    assert total["replicas"] and total["state"] and total["check count"] and total["image tag"]
    assert not missed, "mutations not caught:\n" + "\n".join(missed)
