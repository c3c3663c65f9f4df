"""Run a page (after its prerequisites) in one shell on one cluster, and judge every step.

A :class:`PageSession` owns the page's cluster and shell.  Steps run in page order; asking
for a later step first replays the earlier ones (so ``pytest -k`` can pick one step), and
the first step replays the page's prerequisite pages.  Each step gets a verdict; a failure
carries the command, the promise, the capture, the diff, ``file:line`` and, when the page
talks to a swarm, the swarm's state (collected aside, so the next step sees the shell as the
failed step left it, and never with the ``none`` driver: there are no machines to ask).

A step during which the page's shell exits (``exit 3``, ``set -e`` then a failing command)
fails whatever its ``exit=`` option, saying so; the rest of the page is then not run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from dojo_exec import __version__
from dojo_exec.checks import evaluate_checks
from dojo_exec.cluster import EMBEDDED, NO_MACHINE_CHOSEN, NO_MACHINES, Cluster
from dojo_exec.matching import match
from dojo_exec.page import Page, Step, resolve_order, source_digest
from dojo_exec.shell import Shell, ShellDied, StepRun
from dojo_exec.transcripts import RunRecord, StepRecord, Verdict, page_key, record_run
from dojo_exec.update import PendingUpdates, match_options

BACKOFF_START = 0.5
BACKOFF_LIMIT = 5.0
DIAGNOSTIC_TIMEOUT = 20.0
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

    def _source_record(self) -> tuple[str, str | None]:
        """(digest, promise) the transcript keeps: an updated step is recorded as rewritten,
        so that the transcript is not stale for the very edit this run makes."""
        if self.updated_source is None:
            return self.step.digest, self.step.expected
        return source_digest(self.updated_source), self.updated_promise

    @property
    def ok(self) -> bool:
        return self.verdict in ("passed", "skipped")

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


def judge(step: Step, run: StepRun) -> tuple[bool, str]:
    """Does a captured run keep the step's promise?  Returns (ok, explanation)."""
    if run.timed_out:
        return False, f"timed out after {step.options.timeout:g}s"
    problems: list[str] = []
    expected_exit = step.options.exit
    if run.shell_died:
        status = run.shell_exit_status
        problems.append(
            "the page's shell exited during this step"
            + (f" (exit status {status})" if status is not None else "")
            + ": the rest of the page cannot run in it"
        )
    elif expected_exit is not None and run.exit_status != expected_exit:
        problems.append(f"exit status {run.exit_status}, expected {expected_exit}")
    if step.expected is not None:
        result = match(step.expected, run.output, match_options(step))
        if not result.ok:
            problems.append(result.explanation)
    if step.options.checks:
        checked = evaluate_checks(step.options.checks, run.output)
        if not checked.ok:
            problems.append(checked.explanation)
    return not problems, "\n".join(problems)


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
    return "\n".join(parts)


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
    cluster: Cluster | None = None
    shell: Shell | None = None
    stopped: str | None = None  # why the page stopped early
    started_at: float = 0.0
    started_iso: str = ""

    @classmethod
    def for_path(cls, path: Path | str, **kwargs: object) -> PageSession:
        page = resolve_order(path)[-1]
        return cls(page=page, **kwargs)  # type: ignore[arg-type]

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Create the cluster and the shell, then replay the prerequisites."""
        if self.shell is not None:
            return
        self.started_at = time.monotonic()
        self.started_iso = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.cluster = Cluster.create(self.driver, base=self.cluster_base)
        self.cluster.extra_env["DOJO_PAGE_DIR"] = str(self.page.path.resolve().parent)
        self.shell = Shell(
            env=self.cluster.env(), cwd=self.cluster.workdir, name=self.page.path.name
        )
        self.shell.start()
        for prerequisite in resolve_order(self.page.path)[:-1]:
            self.replayed.append(self._page_key(prerequisite.path))
            for step in prerequisite.steps:
                outcome = self.run_step(step, replay=True)
                if not outcome.ok:
                    self.stopped = (
                        f"prerequisite step {step.location} {outcome.verdict}:\n"
                        f"{failure_report(step, outcome)}"
                    )
                    return

    def close(self) -> RunRecord | None:
        """Record the run (when every step of the page ran), then remove the cluster."""
        record: RunRecord | None = None
        try:
            if self.shell is not None and self._complete():
                record = self._run_record()
                if self.transcripts_root is not None:
                    record_run(self.transcripts_root, record)
        finally:
            if self.shell is not None:
                self.shell.close()
            if self.cluster is not None:
                self.cluster.teardown()
            self.shell = None
            self.cluster = None
        return record

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
            try:
                run = self.shell.run(step.command, step.options.timeout)
            except ShellDied as error:
                self.stopped = f"the page's shell died at {step.location}: {error}"
                return StepOutcome(step, "error", explanation=self.stopped, replay=replay)
            ok, why = judge(step, run)
            if (
                ok
                or step.options.wait is None
                or run.timed_out
                or run.shell_died
                or time.monotonic() >= deadline
            ):
                break
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, BACKOFF_LIMIT)
        verdict: Verdict = "passed" if ok else ("timeout" if run.timed_out else "failed")
        outcome = StepOutcome(
            step,
            verdict,
            captured=run.output,
            exit_status=run.exit_status,
            duration=time.monotonic() - started,
            attempts=attempts,
            explanation="" if ok else why,
            replay=replay,
            checks={c: evaluate_checks([c], run.output).ok for c in step.options.checks},
        )
        if not ok and self.updates is not None and not replay and not run.timed_out:
            self._update(step, run, outcome)
        if not outcome.ok:
            if (
                outcome.verdict == "failed"
                and self.driver != NO_MACHINES
                and self.shell.alive
                and _talks_to_docker(step.command)
            ):
                outcome.explanation = failure_report(step, outcome, self._swarm_state(step))
            else:
                outcome.explanation = failure_report(step, outcome)
            if step.options.stop_on_failure:
                self.stopped = f"step {step.location} failed and is marked stop"
            elif not self.shell.alive:
                self.stopped = f"the page's shell did not survive {step.location}"
        return outcome

    def _update(self, step: Step, run: StepRun, outcome: StepOutcome) -> None:
        """In update mode a drifted promise is rewritten; the step then keeps its new promise."""
        assert self.updates is not None
        if run.shell_died:  # its promise cannot be kept, whatever it printed
            return
        expected_exit = step.options.exit
        if expected_exit is not None and run.exit_status != expected_exit:
            return
        if step.options.checks and not evaluate_checks(step.options.checks, run.output).ok:
            return
        edit = self.updates.add(step, run.output, self.page.text)
        if edit is not None:
            outcome.verdict = "passed"
            outcome.updated = True
            outcome.explanation = "promise updated from the captured output"
            at, end = step.span
            edits = [e for e in self.updates.edits_of(step) if at <= e.start <= e.end <= end]
            if edit in edits:
                source = step.source
                for each in sorted(edits, key=lambda e: e.start, reverse=True):
                    source = source[: each.start - at] + each.replacement + source[each.end - at :]
                outcome.updated_source = source
                indent = step.result_indent
                outcome.updated_promise = "".join(
                    line.removeprefix(indent) for line in edit.replacement.splitlines(True)
                )

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
        script = (
            f'if [ "${{DOCKER_HOST:-}}" = "{NO_MACHINE_CHOSEN}" ]; then '
            "echo '(the client points at no machine yet; docker-machine ls:)'; "
            f"docker-machine ls 2>&1; else {swarm}; fi"
        )
        try:
            state = self.shell.probe(script, DIAGNOSTIC_TIMEOUT)
        except ShellDied:
            return "(the shell died while collecting the swarm's state)"
        return state.output if not state.timed_out else "(timed out collecting the swarm's state)"

    # -- records -------------------------------------------------------------------

    def _complete(self) -> bool:
        return len(self.outcomes) == len(self.page.steps) and not any(
            o.replay for o in self.outcomes.values()
        )

    def _page_key(self, path: Path) -> str:
        return page_key(path, self.docs_root)

    def _versions(self) -> tuple[str, str]:
        """Client and engine versions as the page's shell sees them.

        A page that never points its client at a machine (creating machines, listing them)
        has no engine behind ``docker``: the engines are then the machines' own, as
        ``docker-machine ls`` reports them.
        """
        if self.shell is None or not self.shell.alive:
            return "unknown", "unknown"
        try:
            run = self.shell.run(
                "docker version --format '{{.Client.Version}}|{{.Server.Version}}' 2>/dev/null", 20
            )
            client, _, engine = run.output.strip().partition("|")
            if not engine:
                engine = self._machine_engines()
        except ShellDied:
            return "unknown", "unknown"
        return client or "unknown", engine or "unknown"

    def _machine_engines(self) -> str:
        """The machines' engine versions (``a, b`` when they differ), or ``""``."""
        assert self.shell is not None
        run = self.shell.run("docker-machine ls --format '{{.DockerVersion}}' 2>/dev/null", 30)
        versions = {
            line.strip().removeprefix("v")  # docker-machine writes v20.10.24
            for line in run.output.splitlines()
            if line.strip() and line.strip().lower() != "unknown"
        }
        return ", ".join(sorted(versions))

    def _images(self) -> str:
        if self.driver != EMBEDDED:
            return "as pulled by the machines"
        try:
            import docker

            from dojo_exec.machines.mirror import image_source

            client = docker.from_env()
            try:
                return image_source(client)
            finally:
                client.close()
        except Exception:  # provenance must never fail a run
            return "unknown"

    def _run_record(self) -> RunRecord:
        client, engine = self._versions()
        steps = [self.outcomes[i].record() for i in sorted(self.outcomes)]
        assert self.cluster is not None
        return RunRecord(
            page=self._page_key(self.page.path),
            started=self.started_iso,
            duration=round(time.monotonic() - self.started_at, 2),
            docker_client=client,
            docker_engine=engine,
            driver=self.cluster.driver_label,
            images=self._images(),
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
    records: list[RunRecord] = []
    for path in paths:
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
            records.append(record)
    return records
