"""The one judgement of a step: did its commands keep the page's promises?

A step runs one or more commands (a console session runs each prompt line); each command's
capture is matched against its own promise.  The step's verdict, its explanation, its checks
(evaluated once, here) and whether update may rewrite its promises are all decided here, and
every consumer (runner, update, transcripts, site) takes them from a :class:`Judgement`.

Exit status: in a session every command but the last must succeed; the step's ``exit=``
option is the last command's expected status (``exit=any`` accepts any status of any command).
Checks are evaluated on the last command's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dojo_exec.checks import evaluate_checks
from dojo_exec.matching import MatchOptions, MatchResult, match
from dojo_exec.page import Command, Step, session_text
from dojo_exec.shell import StepRun
from dojo_exec.verdicts import Verdict


def match_options(step: Step) -> MatchOptions:
    """The matcher options a step asks for."""
    return MatchOptions(ordered=step.options.ordered, versions=step.options.versions)


@dataclass(frozen=True)
class CommandJudgement:
    """How one command of a step did."""

    command: Command
    run: StepRun
    problems: tuple[str, ...]  # exit status, shell death, timeout
    promise: MatchResult | None  # None when the command promises nothing

    @property
    def promise_kept(self) -> bool:
        return self.promise is None or self.promise.ok


@dataclass(frozen=True)
class Judgement:
    """The verdict on one attempt at a step."""

    step: Step
    commands: tuple[CommandJudgement, ...]
    checks: dict[str, bool] = field(default_factory=dict)
    check_explanation: str = ""

    @property
    def timed_out(self) -> bool:
        return any(each.run.timed_out for each in self.commands)

    @property
    def shell_died(self) -> bool:
        return any(each.run.shell_died for each in self.commands)

    @property
    def commands_succeeded(self) -> bool:
        """Exit statuses as expected, nothing timed out, no shell died: replay may go on."""
        return all(not each.problems for each in self.commands) and len(self.commands) == len(
            self.step.commands
        )

    @property
    def ok(self) -> bool:
        return (
            self.commands_succeeded
            and all(each.promise_kept for each in self.commands)
            and all(self.checks.values())
        )

    @property
    def updatable(self) -> bool:
        """Only drifted promises are rewritten: every command ran as expected, checks held."""
        return self.commands_succeeded and all(self.checks.values()) and not self.ok

    @property
    def drifted(self) -> list[int]:
        """Positions of the commands whose promise was not kept."""
        return [i for i, each in enumerate(self.commands) if not each.promise_kept]

    @property
    def explanation(self) -> str:
        if self.ok:
            return ""
        many = len(self.step.commands) > 1
        lines: list[str] = []
        for number, each in enumerate(self.commands, start=1):
            why = [*each.problems]
            if each.promise is not None and not each.promise.ok:
                why.append(each.promise.explanation)
            if not why:
                continue
            if many:
                lines.append(f"command {number} ({_first_line(each.command.text)}):")
                lines += [f"  {line}" for text in why for line in text.splitlines()]
            else:
                lines += why
        if self.check_explanation:
            lines.append(self.check_explanation)
        return "\n".join(lines)

    @property
    def verdict(self) -> Verdict:
        if self.ok:
            return "passed"
        return "timeout" if self.timed_out else "failed"


def _first_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 60 else first[:57] + "..."


def judge_command(step: Step, command: Command, run: StepRun, last: bool) -> CommandJudgement:
    """Exit status and promise of one command."""
    if command.login is not None and not (run.timed_out or run.shell_died):
        return CommandJudgement(command, run, (), None)  # not run: its banner is not compared
    problems: list[str] = []
    if run.timed_out:
        problems.append(f"timed out after {step.options.timeout:g}s")
    elif run.shell_died:
        status = run.shell_exit_status
        where = f"the shell on {command.machine}" if command.machine else "the page's shell"
        problems.append(
            f"{where} exited during this step"
            + (f" (exit status {status})" if status is not None else "")
            + ": the rest of the page cannot run in it"
        )
    else:
        expected = step.options.exit if last else (0 if step.options.exit is not None else None)
        if expected is not None and run.exit_status != expected:
            problems.append(f"exit status {run.exit_status}, expected {expected}")
    promise = None
    if command.expected is not None and not run.timed_out:
        promise = match(command.expected, run.output, match_options(step))
    return CommandJudgement(command, run, tuple(problems), promise)


def judge(step: Step, runs: list[StepRun]) -> Judgement:
    """Judge the runs of a step's commands (fewer runs than commands: the rest did not run)."""
    judged = tuple(
        judge_command(step, command, run, last=index == len(step.commands) - 1)
        for index, (command, run) in enumerate(zip(step.commands, runs, strict=False))
    )
    checks: dict[str, bool] = {}
    explanation = ""
    if step.options.checks and runs and len(runs) == len(step.commands):
        output = runs[-1].output
        checks = {check: evaluate_checks([check], output).ok for check in step.options.checks}
        if not all(checks.values()):
            explanation = evaluate_checks(step.options.checks, output).explanation
    elif step.options.checks:
        checks = dict.fromkeys(step.options.checks, False)
    return Judgement(step, judged, checks, explanation)


def shown_output(step: Step, runs: list[StepRun]) -> str:
    """What the step printed, as a reader's terminal shows it.

    One command: its output.  Several: each prompt and command, then its output.
    """
    if len(step.commands) == 1:
        return runs[0].output if runs else ""
    return session_text(step.commands, [run.output for run in runs])
