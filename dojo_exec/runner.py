"""Run a page (after its prerequisites) in one shell on one cluster, and judge every step.

A :class:`PageSession` owns the page's cluster and shell.  Steps run in page order; asking
for a later step first replays the earlier ones (so ``pytest -k`` can pick one step), and
the first step replays the page's prerequisite pages.  Each step gets a verdict; a failure
carries the command, the promise, the capture, the diff, ``file:line`` and, when the page
talks to a swarm, the swarm's state (collected aside, so the next step sees the shell as the
failed step left it, and never with the ``none`` driver: there are no machines to ask).

A step during which the page's shell exits (``exit 3``, ``set -e`` then a failing command)
fails whatever its ``exit=`` option, saying so; the rest of the page is then not run.

A step's result takes one path: each command's :class:`~dojo_exec.shell.StepRun` (what the
terminal showed) is judged once (:func:`~dojo_exec.judgement.judge`) into a
:class:`StepOutcome`, the runner's working copy while the step may still be retried or
updated; :meth:`StepOutcome.record` makes the :class:`~dojo_exec.transcripts.StepRecord`
that every consumer reads: the transcript, pytest's summary (sent from xdist workers in the
transcripts' own encoding), ``dojo-exec report`` and the site.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dojo_exec import __version__, replay_creates
from dojo_exec.chains import HANDOVER, chain_order
from dojo_exec.cluster import EMBEDDED, NO_MACHINE_CHOSEN, NO_MACHINES, SHIM_DRIVERS, Cluster
from dojo_exec.head_start import HEAD_START
from dojo_exec.interrupts import deferred_interrupts
from dojo_exec.judgement import Judgement, judge, match_options, shown_output
from dojo_exec.machines.driver import MachineError
from dojo_exec.machines.store import Store
from dojo_exec.page import (
    LOGOUTS,
    Command,
    Page,
    PageError,
    Step,
    parse_text,
    resolve_order,
    source_digest,
)
from dojo_exec.shell import MachineShell, Shell, ShellDied, StepRun
from dojo_exec.stability import settle
from dojo_exec.substitution import Substitutions
from dojo_exec.transcripts import RunRecord, StepRecord, page_key, record_run, redact
from dojo_exec.update import PendingUpdates, apply_edits
from dojo_exec.verdicts import FINE, Verdict

RUNNING, CONFIRMING = "run", "confirm"  # kinds of page sessions, kept apart for handovers
BACKOFF_START = 0.5
BACKOFF_LIMIT = 1.0
"""A ``wait=`` step is re-run after 0.5 s, then every second: a read-only docker command costs
~0.1 s, and a longer pause is time the page waits after the swarm has already converged."""
DIAGNOSTIC_TIMEOUT = 20.0
# each machine's own view of the swarm: with no leader, `node ls` on the chosen machine says
# nothing about the others (a manager that did not rejoin, a node that left, its error)
EACH_MACHINE_SWARM = (
    "for m in $(docker-machine ls -q 2>/dev/null); do printf '%s: ' \"$m\"; "
    'if c=$(docker-machine config "$m" 2>&1); then docker $c info --format '
    "'swarm {{.Swarm.LocalNodeState}}{{if .Swarm.ControlAvailable}}, manager{{end}}"
    "{{if .Swarm.Error}}, error: {{.Swarm.Error}}{{end}}' 2>&1 | head -n 1; "
    'else echo "$c" | head -n 1; fi; done'
)
_SERVICE_WORDS = re.compile(r"\bservice\s+(?:ps|inspect|scale|update|rm|logs|create)\b(.*)")


@dataclass
class StepOutcome:
    """What running one step gave."""

    step: Step
    verdict: Verdict
    captured: str = ""
    exit_status: int | None = None
    duration: float = 0.0
    attempts: int = 1
    explanation: str = ""
    replay: bool = False
    updated: bool = False
    checks: dict[str, bool] = field(default_factory=dict)  # check text -> held
    updated_source: str | None = None  # the step's source once its update is written
    updated_promise: str | None = None  # its new promise
    judgement: Judgement | None = None  # the last attempt's, when the step ran
    drifted: bool = False  # a replayed prerequisite whose commands passed but promise drifted

    def _source_record(self) -> tuple[str, str | None]:
        """(digest, promise) the transcript keeps: an updated step is recorded as rewritten,
        so that the transcript is not stale for the very edit this run makes."""
        if self.updated_source is None:
            return self.step.digest, self.step.expected
        return source_digest(self.updated_source), self.updated_promise

    @property
    def ok(self) -> bool:
        return self.verdict in FINE

    def record(self) -> StepRecord:
        digest, expected = self._source_record()
        return StepRecord(
            line=self.step.line,
            digest=digest,
            command=self.step.command,
            expected=expected,
            captured=self.captured,
            exit_status=self.exit_status,
            duration=round(self.duration, 3),
            verdict=self.verdict,
            attempts=self.attempts,
            reason=self.step.options.skip,
            explanation=self.explanation,
            hidden=self.step.options.hidden,
            checks=dict(self.checks),
        )


def failure_report(step: Step, outcome: StepOutcome, state: str = "") -> str:
    """The text a reader needs to see why a step failed."""
    parts = [
        f"{step.location}: step {outcome.verdict}"
        + (f" after {outcome.attempts} attempts" if outcome.attempts > 1 else ""),
        "command:",
        _indent(step.command),
    ]
    if step.expected is not None:
        parts += ["promised:", _indent(step.expected.strip("\n") or "(nothing)")]
    parts += [
        f"captured (exit {outcome.exit_status}):",
        _indent(outcome.captured or "(nothing)"),
        "why:",
        _indent(outcome.explanation),
    ]
    if state:
        parts += ["swarm state:", _indent(state)]
    return redact("\n".join(parts))  # it reaches CI logs: no join token, no private key


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines()) or "    "


@dataclass
class PageSession:
    """One page, its prerequisites, one cluster, one shell."""

    page: Page
    driver: str = EMBEDDED
    updates: PendingUpdates | None = None
    transcripts_root: Path | None = None
    docs_root: Path | None = None
    cluster_base: Path | None = None
    on_outcome: Callable[[StepOutcome], None] | None = None
    outcomes: dict[int, StepOutcome] = field(default_factory=dict)
    replayed: list[str] = field(default_factory=list)
    drifted_prerequisites: list[str] = field(default_factory=list)  # their promises only
    cluster: Cluster | None = None
    shell: Shell | None = None
    machine_shells: dict[str, Shell] = field(default_factory=dict)
    substitutions: Substitutions = field(default_factory=Substitutions)  # quoted -> real
    login: tuple[Path, str] | None = None  # (page, machine) of an interactive docker-machine ssh
    kind: str = RUNNING  # or CONFIRMING: update's second run (kept apart for handovers)
    continued: bool = False  # took over the cluster of the page it continues
    closed: bool = False
    updated_steps: list[tuple[Step, Judgement]] = field(default_factory=list)
    stopped: str | None = None  # why the page stopped early
    confirm: bool = True  # in update mode, check rewritten promises by a second run
    driver_label: str = ""
    started_at: float = 0.0
    started_iso: str = ""

    @classmethod
    def for_path(cls, path: Path | str, **kwargs: object) -> PageSession:
        page = resolve_order(path)[-1]
        return cls(page=page, **kwargs)  # type: ignore[arg-type]

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Create the cluster and the shell, then replay the prerequisites.

        When the session of the page this one continues was kept (:mod:`dojo_exec.chains`),
        its cluster and shells are taken over instead: the prerequisites ran just before.
        """
        if self.shell is not None:
            return
        self.started_at = time.monotonic()
        self.started_iso = datetime.now(timezone.utc).isoformat(timespec="seconds")
        prerequisites = resolve_order(self.page.path)[:-1]
        if prerequisites and self._continue(tuple(p.path.resolve() for p in prerequisites)):
            return
        waits = self.driver != NO_MACHINES  # the longest pages make their machines first
        if waits and HEAD_START.wait(self.page.path) > 0:
            self.started_at = time.monotonic()
            self.started_iso = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.cluster = Cluster.create(self.driver, base=self.cluster_base)
        self.driver_label = self.cluster.driver_label
        self.cluster.extra_env["DOJO_PAGE_DIR"] = str(self.page.path.resolve().parent)
        self.shell = Shell(  # its folder in the cluster's: removed with it, even by a reaper
            env=self.cluster.env(),
            cwd=self.cluster.workdir,
            name=self.page.path.name,
            tmp_base=self.cluster.root,
        )
        self.shell.start()
        for prerequisite in prerequisites:
            self.replayed.append(self._page_key(prerequisite.path))
            for group in replay_creates.groups(prerequisite.steps):
                if replay_creates.at_once(group) and self._creates_at_once():
                    outcomes = self._replay_creates(group)
                else:
                    outcomes = [self.run_step(step, replay=True) for step in group]
                for outcome in outcomes:
                    if outcome.drifted:
                        self.drifted_prerequisites.append(outcome.step.location)
                if self.stopped is not None:
                    return

    def _creates_at_once(self) -> bool:
        """Whether replayed machine creates may overlap (:mod:`dojo_exec.replay_creates`)."""
        return self.driver == EMBEDDED and self.login is None and self.stopped is None

    def _replay_creates(self, group: list[Step]) -> list[StepOutcome]:
        """Replay ``group``'s ``docker-machine create`` commands at once, in the page shell's
        environment and folder; sequentially when that shell's ``docker-machine`` is not the
        cluster's own (a function, an alias, another binary)."""
        assert self.shell is not None and self.cluster is not None
        place = self._shell_place()
        if place is None:
            return [self.run_step(step, replay=True) for step in group]
        env, cwd = place
        creates = {step.index: replay_creates.leading_creates(step) for step in group}
        commands = [
            (self.substitutions.apply(command.text, step.path), step.options.timeout)
            for step in group
            for command in step.commands[: creates[step.index]]
        ]
        if not all(replay_creates.create_name(text) for text, _ in commands):
            # a value the page bound earlier made one more than words: the shell's business
            return [self.run_step(step, replay=True) for step in group]
        store = Store(self.cluster.storage)
        started = time.monotonic()
        runs = replay_creates.run_creates(
            commands,
            env=env,
            cwd=cwd,
            has_address=store.has_address,
            columns=self.shell.columns,
            rows=self.shell.rows,
        )
        outcomes = []
        for step in group:
            count = creates[step.index]
            mine, runs = runs[:count], runs[count:]
            for command, run in zip(step.commands[:count], mine, strict=True):
                self.substitutions.learn_command(step, command, run.output)
            died = None
            if count < len(step.commands):  # a session's other commands: after them, in the shell
                rest, died = self._run_commands(step, first=count)
                mine += rest
            if died is not None:
                self.stopped = f"the page's shell died at {step.location}: {died}"
                outcome = StepOutcome(step, "error", explanation=self.stopped, replay=True)
            else:  # all of them ran: each is judged, and the first failure stops the page
                outcome = self._outcome(
                    step, mine, judge(step, mine), started, attempts=1, replay=True
                )
            if self.on_outcome is not None:
                self.on_outcome(outcome)
            outcomes.append(outcome)
        return outcomes

    def _shell_place(self) -> tuple[dict[str, str], Path] | None:
        """The page shell's exported environment and working directory, if the
        ``docker-machine`` it runs is the cluster's own; else None."""
        assert self.shell is not None and self.cluster is not None
        own = self.cluster.bin_dir / "docker-machine"
        with tempfile.TemporaryDirectory(dir=self.cluster.root) as folder:
            where = Path(folder) / "place"
            probe = (
                f"{{ command -v docker-machine; printf '%s\\0' \"$PWD\"; env -0; }} "
                f"> {shlex.quote(str(where))}"
            )
            if self.shell.probe(probe, 10.0).exit_status != 0:
                return None
            found, _, rest = where.read_bytes().partition(b"\n")
            cwd, _, listing = rest.partition(b"\0")
        if found.decode(errors="replace") != str(own):
            return None
        env = {}
        for item in listing.split(b"\0"):
            key, sep, value = item.decode(errors="surrogateescape").partition("=")
            if sep:
                env[key] = value
        return env, Path(cwd.decode(errors="surrogateescape"))

    def _continue(self, prerequisites: tuple[Path, ...]) -> bool:
        """Take over the kept session that ran exactly ``prerequisites``, if there is one."""
        kept = HANDOVER.take(self.kind, prerequisites)
        if kept is None:
            return False
        assert isinstance(kept, PageSession)
        if kept.driver != self.driver or kept.cluster_base != self.cluster_base:
            kept.release()
            return False
        self.cluster, self.shell, self.machine_shells = (
            kept.cluster,
            kept.shell,
            kept.machine_shells,
        )
        kept.cluster, kept.shell, kept.machine_shells = None, None, {}
        self.substitutions = kept.substitutions  # the values its promises bound
        assert self.cluster is not None
        self.driver_label = self.cluster.driver_label
        self.cluster.extra_env["DOJO_PAGE_DIR"] = str(self.page.path.resolve().parent)
        self.replayed = [*kept.replayed, kept._page_key(kept.page.path)]
        self.continued = True
        return True

    def release(self) -> None:
        """Remove the cluster and shells kept for a page that continues this one."""
        self._teardown()

    def close(self) -> RunRecord | None:
        """Record the run (when every step of the page ran), then remove the cluster.

        The cluster is kept instead when a page of this run continues this one
        (:mod:`dojo_exec.chains`).  In update mode the promises this run rewrote are first
        checked by a second run of the page (:meth:`_confirm_updates`): update writes only
        what a verify will pass.
        """
        if self.closed:
            return None
        self.closed = True
        record: RunRecord | None = None
        complete = self.shell is not None and self._complete()
        try:
            versions = self._versions() if complete else ("unknown", "unknown")
        finally:
            ran = tuple(p.path.resolve() for p in resolve_order(self.page.path))
            alive = self.shell is not None and self.shell.alive
            if complete and alive and self._continuable() and HANDOVER.wants(ran):
                HANDOVER.keep(self.kind, ran, self)
            else:
                self._teardown()
        if complete:
            if self.updates is not None and self.updated_steps and self.confirm:
                self._confirm_updates()
            record = self._run_record(versions)
            if self.transcripts_root is not None:
                record_run(self.transcripts_root, record)
        return record

    def _teardown(self) -> None:
        # an interrupt arriving now (a second Ctrl-C, a SIGTERM) waits until it is done
        with deferred_interrupts():
            for machine_shell in self.machine_shells.values():
                machine_shell.close()
            self.machine_shells.clear()
            try:
                if self.shell is not None:
                    self.shell.close()
            finally:
                if self.cluster is not None:
                    self.cluster.teardown()
                self.shell = None
                self.cluster = None

    def _confirm_updates(self) -> None:
        """Run the page again with its rewritten promises; settle those the second run broke."""
        assert self.updates is not None
        text = apply_edits(self.page.text, self.updates.page_edits(self.page.path))
        try:
            rewritten = parse_text(text, self.page.path)
        except PageError as error:
            self.updates.refused.append(f"{error} (after update; not written)")
            return
        second = PageSession(
            page=rewritten,
            driver=self.driver,
            cluster_base=self.cluster_base,
            confirm=False,
            kind=CONFIRMING,
        )
        with second:
            second.run_all()
        for step, judged in self.updated_steps:
            again = second.outcomes.get(step.index)
            if again is None or again.judgement is None:
                continue
            for part in judged.drifted:
                if part >= len(again.judgement.commands):
                    continue
                confirmed = again.judgement.commands[part]
                if confirmed.promise_kept:
                    continue
                self._settle(step, part, rewritten.steps[step.index], judged, confirmed.run)
            outcome = self.outcomes.get(step.index)
            if outcome is not None:
                outcome.updated_source, outcome.updated_promise = self.updates.updated_step(step)

    def _settle(
        self, step: Step, part: int, rewritten: Step, judged: Judgement, second: StepRun
    ) -> None:
        assert self.updates is not None
        promise = rewritten.commands[part].expected or ""
        first = judged.commands[part].run.output
        settled = settle(promise, first, second.output, match_options(step))
        varied = "; ".join(f"{a.strip()!r} / {b.strip()!r}" for a, b in settled.varied[:3])
        where = f"{step.location}" + (f" (command {part + 1})" if len(step.commands) > 1 else "")
        if settled.promise is None:
            report = (
                f"{where}: unstable: two runs printed different output ({varied}); "
                "promise not rewritten: elide what varies with `...` or state it with a check"
            )
            self.updates.refused.append(report)
        else:
            hint = f"; or {settled.proposal}" if settled.proposal else ""
            report = (
                f"{where}: unstable: two runs differed ({varied}); written with `...` "
                f"where they differ{hint}"
            )
        self.updates.settle(step, part, settled.promise, report)

    def __enter__(self) -> PageSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running -------------------------------------------------------------------

    def run_all(self) -> list[StepOutcome]:
        """Run every step of the page in order."""
        return [self.run_through(step) for step in self.page.steps]

    def run_through(self, step: Step) -> StepOutcome:
        """Run ``step``, first replaying the earlier steps of the page not run yet."""
        self.start()
        for earlier in self.page.steps[: step.index]:
            if earlier.index not in self.outcomes:
                self.run_step(earlier, replay=True)
        return self.run_step(step)

    def run_step(self, step: Step, *, replay: bool = False) -> StepOutcome:
        """Run one step (with waiting and update) and judge it."""
        self.start()
        if step.options.skip is not None:
            outcome = StepOutcome(step, "skipped", explanation=step.options.skip, replay=replay)
        elif self.stopped is not None:
            outcome = StepOutcome(
                step, "error", explanation=f"not run: {self.stopped}", replay=replay
            )
        else:
            outcome = self._execute(step, replay=replay)
        if step.path.resolve() == self.page.path.resolve():
            self.outcomes[step.index] = outcome
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    def _execute(self, step: Step, *, replay: bool) -> StepOutcome:
        assert self.shell is not None
        deadline = time.monotonic() + (step.options.wait or 0.0)
        delay = BACKOFF_START
        attempts = 0
        started = time.monotonic()
        while True:
            attempts += 1
            runs, died = self._run_commands(step)
            if died is not None:
                self.stopped = f"the page's shell died at {step.location}: {died}"
                return StepOutcome(step, "error", explanation=self.stopped, replay=replay)
            judged = judge(step, runs)
            if (
                judged.ok
                or step.options.wait is None
                or judged.timed_out
                or judged.shell_died
                or time.monotonic() >= deadline
            ):
                break
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, BACKOFF_LIMIT)
        return self._outcome(step, runs, judged, started, attempts=attempts, replay=replay)

    def _outcome(
        self,
        step: Step,
        runs: list[StepRun],
        judged: Judgement,
        started: float,
        *,
        attempts: int,
        replay: bool,
    ) -> StepOutcome:
        """The step's outcome from its last attempt's runs and their judgement (and its
        update, its failure report, whether the page stops here)."""
        assert self.shell is not None
        exit_status = next(
            (run.exit_status for run in runs if run.exit_status not in (0, None)),
            runs[-1].exit_status if runs else None,
        )
        outcome = StepOutcome(
            step,
            judged.verdict,
            captured=shown_output(step, runs),
            exit_status=exit_status,
            duration=time.monotonic() - started,
            attempts=attempts,
            explanation=judged.explanation,
            replay=replay,
            checks=dict(judged.checks),
            judgement=judged,
        )
        if replay and not judged.ok and judged.commands_succeeded:
            # a prerequisite's commands did what they should, only its promise drifted:
            # what depends on it can run (the prerequisite's own page reports the drift)
            outcome.verdict = "passed"
            outcome.drifted = True
        if not judged.ok and self.updates is not None and not replay and judged.updatable:
            self._update(step, judged, outcome)
        if not outcome.ok:
            shell_alive = self.shell.alive
            if (
                outcome.verdict == "failed"
                and self.driver != NO_MACHINES
                and shell_alive
                and _talks_to_docker(step.command)
            ):
                outcome.explanation = failure_report(step, outcome, self._swarm_state(step))
            else:
                outcome.explanation = failure_report(step, outcome)
            outcome.explanation += self.substitutions.report(step.commands)
            if step.options.stop_on_failure:
                self.stopped = f"step {step.location} failed and is marked stop"
            elif not shell_alive:
                self.stopped = f"the page's shell did not survive {step.location}"
            elif replay and not judged.commands_succeeded:
                self.stopped = (
                    f"prerequisite step {step.location} {outcome.verdict}:\n{outcome.explanation}"
                )
        return outcome

    def _run_commands(self, step: Step, first: int = 0) -> tuple[list[StepRun], str | None]:
        """Run the step's commands in order (from the ``first``), each in its shell; stop at a
        timeout or death.

        Returns the runs, and why a shell could not run a command (None when all could).
        """
        runs: list[StepRun] = []
        for command in step.commands[first:]:
            if self._logs_in_or_out(step, command):
                runs.append(StepRun(output="", raw="", exit_status=0, duration=0.0))
                continue
            try:
                shell = self._shell_for(command, step)
                text = self.substitutions.apply(command.text, step.path)  # quoted -> real
                run = shell.run(text, step.options.timeout)
            except ShellDied as error:
                return runs, str(error)
            runs.append(run)
            if run.timed_out or run.shell_died:
                break
            self.substitutions.learn_command(step, command, run.output)
        return runs, None

    def _logs_in_or_out(self, step: Step, command: Command) -> bool:
        """An interactive ``docker-machine ssh NAME``, or the ``exit`` that ends it: not run.

        Until the ``exit``, the page's commands whose prompt names no machine run on NAME, as
        in a reader's terminal; a new page is a new terminal.
        """
        if command.login is not None:
            self.login = (step.path, command.login)
            return True
        if self.login is not None and self.login[0] != step.path:
            self.login = None
        if self.login is not None and command.text.strip() in LOGOUTS:
            self.login = None
            return True
        return False

    def _shell_for(self, command: Command, step: Step) -> Shell:
        """The shell on the machine the command's prompt names, else the one the page logged in
        to, else the step's ``machine=`` (or the page's ``machine:``), else the page's shell."""
        assert self.shell is not None and self.cluster is not None
        name = command.machine
        if name is None and self.login is not None and self.login[0] == step.path:
            name = self.login[1]
        name = name or step.options.machine
        if name is None or not self._is_machine(name):
            return self.shell
        shell = self.machine_shells.get(name)
        if shell is None or not shell.alive:
            shell = MachineShell(
                name, env=self.cluster.env(), cwd=self.cluster.workdir, tmp_base=self.cluster.root
            )
            self.machine_shells[name] = shell
            shell.start()
        return shell

    def _is_machine(self, name: str) -> bool:
        """Whether ``name`` is one of this page's machines (as docker-machine stores them)."""
        assert self.cluster is not None
        if self.driver == NO_MACHINES:
            return False
        return (self.cluster.storage / "machines" / name / "config.json").is_file() or (
            self.cluster.storage / "machines" / name
        ).is_dir()

    def _update(self, step: Step, judged: Judgement, outcome: StepOutcome) -> None:
        """In update mode drifted promises are rewritten; the step then keeps its new promises."""
        assert self.updates is not None
        written = False
        for position in judged.drifted:
            each = judged.commands[position]
            output, text = each.run.output, self.page.text
            edit = self.updates.add(
                step, output, text, position, self.substitutions, truncated=each.run.truncated
            )
            written = written or edit is not None
        if not written:
            return
        outcome.verdict = "passed"
        outcome.updated = True
        outcome.explanation = "promise updated from the captured output"
        source, promises = self.updates.updated_step(step)
        outcome.updated_source = source
        outcome.updated_promise = promises
        self.updated_steps.append((step, judged))

    def _swarm_state(self, step: Step) -> str:
        """``docker node ls`` and ``service ps --no-trunc`` of the services the step names.

        Before the page points its client at a machine there is no swarm to ask: the
        machines' own state (``docker-machine ls``) is what explains the failure then.  It is
        asked through :meth:`Shell.probe`: the next step still sees the failed step's ``$?``.
        """
        assert self.shell is not None
        services = _services_named(step.command)
        swarm = "docker node ls 2>&1"
        for service in services:
            swarm += f"; echo; docker service ps --no-trunc {service} 2>&1"
        swarm += "; echo; docker-machine ls 2>&1"  # a machine gone or stopped (Error, Stopped)
        swarm += f"; echo; {EACH_MACHINE_SWARM}"
        script = (
            f'if [ "${{DOCKER_HOST:-}}" = "{NO_MACHINE_CHOSEN}" ]; then '
            "echo '(the client points at no machine yet; docker-machine ls:)'; "
            f"docker-machine ls 2>&1; else {swarm}; fi"
        )
        try:
            state = self.shell.probe(script, DIAGNOSTIC_TIMEOUT)
        except ShellDied:
            return "(the shell died while collecting the swarm's state)"
        if not state.timed_out:
            return state.output
        partial = state.output.rstrip("\n") + "\n" if state.output.strip() else ""
        return f"{partial}(timed out after {DIAGNOSTIC_TIMEOUT:.0f} s collecting the swarm's state)"

    # -- records -------------------------------------------------------------------

    def _continuable(self) -> bool:
        """Whether a dependent page may go on from here, as after replaying this page.

        Replay stops a dependent at a step whose commands failed (a drifted promise does
        not stop it): such a page is not handed over, its dependents replay it and stop.
        """
        return self.stopped is None and all(
            outcome.verdict == "skipped"
            or (outcome.judgement is not None and outcome.judgement.commands_succeeded)
            for outcome in self.outcomes.values()
        )

    def _complete(self) -> bool:
        return len(self.outcomes) == len(self.page.steps) and not any(
            o.replay for o in self.outcomes.values()
        )

    def _page_key(self, path: Path) -> str:
        return page_key(path, self.docs_root)

    def _versions(self) -> tuple[str, str]:
        """Client and engine versions as the page's shell sees them.

        The engine is the machines' own, as ``docker-machine ls`` reports them, whenever
        there are machines: a page that never points its client at a machine (creating
        machines, listing them), or that points it back to the local engine at its end, would
        otherwise record the local engine's version, and a transcript keeps one run per engine.
        Embedded machines the page removed: the engine of their node image.
        """
        if self.shell is None or not self.shell.alive:
            return "unknown", "unknown"
        try:
            run = self.shell.run(
                "docker version --format '{{.Client.Version}}|{{.Server.Version}}' 2>/dev/null", 20
            )
            client, _, engine = run.output.strip().partition("|")
            if self.driver != NO_MACHINES or not engine:
                had = self.cluster is not None and (self.cluster.storage / "machines").is_dir()
                engine = self._machine_engines() or (self._node_engine() if had else "") or engine
        except ShellDied:
            return "unknown", "unknown"
        return client or "unknown", engine or "unknown"

    def _ask_local_engine(self, ask: Callable[[Any], str | None]) -> str | None:
        """``ask(client)`` of the local Docker engine, for embedded machines only (driver=none
        needs no engine); None when it cannot answer: provenance must never fail a run."""
        if self.driver != EMBEDDED:
            return None
        try:
            from dojo_exec.machines.dind import engine_client

            client = engine_client()  # the engine this page's machines are made on
            try:
                return ask(client)
            finally:
                client.close()
        except Exception:
            return None

    def _node_engine(self) -> str | None:
        """Embedded machines the page removed: the engine of the node image they ran."""
        from dojo_exec.machines.node_image import node_engine_version

        return self._ask_local_engine(node_engine_version)

    def _machine_engines(self) -> str:
        """The machines' engine versions (``a, b`` when they differ), or ``""``.

        This package's machines recorded the version their engine gave at creation (no
        ``docker-machine ls``, which asks every running engine: 0.15 s at the end of every
        page); a real docker-machine's are asked.
        """
        assert self.shell is not None and self.cluster is not None
        if self.driver in SHIM_DRIVERS:
            store = Store(self.cluster.storage)
            recorded = []
            for name in store.names():
                with contextlib.suppress(MachineError):
                    recorded.append(store.load(name).engine_version)
            if all(recorded):  # none made by an older version of this package
                return ", ".join(sorted(set(recorded)))
        run = self.shell.run("docker-machine ls --format '{{.DockerVersion}}' 2>/dev/null", 30)
        versions = {
            line.strip().removeprefix("v")  # docker-machine writes v20.10.24
            for line in run.output.splitlines()
            if line.strip() and line.strip().lower() != "unknown"
        }
        return ", ".join(sorted(versions))

    def _engine_host(self) -> str:
        """The engine embedded machines ran on, when not the default local socket."""
        if self.driver != EMBEDDED:
            return ""
        from dojo_exec.machines.engines import DEFAULT_HOST, current_engine

        engine = current_engine()
        return "" if engine.spec == DEFAULT_HOST else engine.describe()

    def _images(self) -> str:
        if self.driver != EMBEDDED:
            return "as pulled by the machines"
        from dojo_exec.machines.mirror import image_source

        return self._ask_local_engine(image_source) or "unknown"

    def _run_record(self, versions: tuple[str, str]) -> RunRecord:
        client, engine = versions
        steps = [self.outcomes[i].record() for i in sorted(self.outcomes)]
        return RunRecord(
            page=self._page_key(self.page.path),
            started=self.started_iso,
            duration=round(time.monotonic() - self.started_at, 2),
            docker_client=client,
            docker_engine=engine,
            driver=self.driver_label,
            images=self._images(),
            engine_host=self._engine_host(),
            dojo_exec=__version__,
            steps=steps,
            replayed=list(self.replayed),
        )


def _talks_to_docker(command: str) -> bool:
    return bool(re.search(r"\bdocker\b", command))


def _services_named(command: str) -> list[str]:
    """Service names a command mentions (``docker service ps NAME`` …)."""
    names: list[str] = []
    for line in command.splitlines():
        found = _SERVICE_WORDS.search(line)
        if not found:
            continue
        words = found.group(1).split()
        if "--name" in words[:-1]:
            names.append(words[words.index("--name") + 1])
            continue
        if " scale" in line:
            names += [w.split("=")[0] for w in words if "=" in w and not w.startswith("-")]
            continue
        plain = [w for w in words if not w.startswith("-") and "=" not in w]
        if plain and " create" not in line:
            names.append(plain[-1] if "update" in line else plain[0])
    return [n for n in dict.fromkeys(names) if re.fullmatch(r"[\w.-]+", n)]


def run_pages(
    paths: list[Path],
    transcripts_root: Path | None,
    *,
    driver: str = EMBEDDED,
    docs_root: Path | None = None,
    updates: PendingUpdates | None = None,
) -> list[RunRecord]:
    """Run whole pages one after the other (the plugin's live mode and the CLI use this)."""
    done: dict[Path, RunRecord] = {}
    HANDOVER.want(paths)
    try:
        for path in chain_order(paths):  # a page right after the one it continues
            session = PageSession.for_path(
                path,
                driver=driver,
                updates=updates,
                transcripts_root=transcripts_root,
                docs_root=docs_root,
            )
            with session:
                session.run_all()
                record = session.close()
            if record is not None:
                done[path] = record
    finally:
        HANDOVER.release()
        HANDOVER.wanted.clear()
    return [done[path] for path in paths if path in done]
