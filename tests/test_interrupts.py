"""SIGINT and SIGTERM at random points of real runs: nothing left, no half-written file.

Each trial starts ``dojo-exec verify``, ``dojo-exec update`` or the nox sessions' pytest
command (``pytest PAGES --dojo-collect -n 1``) on a small page with an embedded machine in a
folder of its own, with its own ``$DOJO_RUN``, ``$TMPDIR`` and an environment marker.  The
page's steps leave marks as they go (machine create, swarm init, a step that sleeps, the last
step; update's second, confirming, run leaves them again), and the test picks its moment from
them: the phase the run is in when the signal goes is the phase of the latest mark (after
the last one: the teardown, or, for update, its second run's teardown then its writes).
Whatever the moment, once the run ends: no container, network or volume labelled with its
run, no process started under its marker, nothing in its temporary folder (but the embedded
machines' lock files, counted apart), no temporary file beside the page or the transcripts,
the page byte for byte as before or as update writes it, and every transcript readable.
After the trials, a run of the same page from nothing passes and leaves nothing.  A runner
killed outright (SIGKILL) leaves nothing either: its clusters' reapers remove them
(:mod:`dojo_exec.reaper`).

Moments and signals are drawn from a seeded generator (``DOJO_INTERRUPT_SEED``, printed);
``DOJO_INTERRUPTS`` trials (default 6, ``nox -s interrupts`` runs 24).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from engine import engine_or_skip
from leftovers import labelled, wait_none_left

from dojo_exec.spawn import reset_signals
from dojo_exec.transcripts import TranscriptError, loads

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("interrupts")]

FENCE = "```"
PAGE = f"""# Interrupted

{FENCE}sh dojo
echo >> "$MARKS/create"
made=$(docker-machine create -d virtualbox manager1 2>&1) && echo created || echo "$made"
# Result ==>
created
{FENCE}

{FENCE}sh dojo
eval $(docker-machine env manager1)
echo >> "$MARKS/init"
docker swarm init --advertise-addr $(docker-machine ip manager1) >/dev/null; echo inited
# Result ==>
inited
{FENCE}

{FENCE}sh dojo
echo >> "$MARKS/step"
sleep 2; docker node ls --format '{{{{.Hostname}}}} {{{{.Status}}}}'
# Result ==>
manager1 Ready
{FENCE}

{FENCE}sh dojo
echo >> "$MARKS/last"; echo "value: VALUE"
# Result ==>
value: one
{FENCE}
"""
MARKS = ("create", "init", "step", "last")
MARK = "DOJO_INTERRUPT_TEST"
LOCKS = "dojo-machines-"
"""The embedded machines' lock folder in ``$TMPDIR``: its per-cluster lock files are never
removed (dojo_exec/machines/dind.py), counted apart."""
PYTEST_OWN = "pytest-of-"
"""pytest's own temporary folders (xdist's controller makes one; pytest keeps the last 3)."""

CLI = [sys.executable, "-m", "dojo_exec.cli"]
RUNNERS = {
    "verify": [*CLI, "verify", "page.md", "--transcripts", "runs"],
    "update": [*CLI, "update", "page.md", "--transcripts", "runs"],
    "pytest -n 1": [sys.executable, "-m", "pytest", "page.md", "-p", "no:cacheprovider",
                    "--dojo-collect", "--dojo-transcripts", "runs", "-n", "1",
                    "--dist", "loadfile"],
}  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """One trial: how the run is started, which mark to wait for, how long after, which signal."""

    runner: str
    after: str  # the mark (of the confirming run for update: "confirm-…")
    delay: float
    sig: signal.Signals


def plans(rng: random.Random, count: int) -> list[Plan]:
    """``count`` trials across the phases, runners and both signals."""
    points = [
        ("verify", "create", 2.5),
        ("pytest -n 1", "init", 1.5),
        ("verify", "step", 2.0),
        ("update", "step", 2.0),
        ("verify", "last", 1.5),  # the teardown
        ("update", "confirm-last", 2.0),  # the confirming run's teardown, then update's writes
    ]
    chosen = []
    for number in range(count):
        runner, after, spread = points[number % len(points)]
        sig = rng.choice([signal.SIGINT, signal.SIGTERM])
        chosen.append(Plan(runner, after, round(rng.uniform(0, spread), 2), sig))
    return chosen


def _phase(marks: Path, runner: str) -> str:
    """The phase the run is in, from the marks its steps left."""
    seen = [(name, len((marks / name).read_text())) for name in MARKS if (marks / name).exists()]
    if not seen:
        return "start"
    name, count = seen[-1]
    confirming = runner == "update" and count > 1
    if name == "last":
        return (
            "update: end of its 2nd run, writes" if confirming else f"{runner.split()[0]}: teardown"
        )
    return f"{runner.split()[0]}: {'confirm ' if confirming else ''}{name}"


def _reached(marks: Path, after: str) -> bool:
    name = after.removeprefix("confirm-")
    path = marks / name
    return path.exists() and len(path.read_text()) >= (2 if after.startswith("confirm-") else 1)


@dataclass
class Trial:
    folder: Path
    run: str
    mark: str

    @property
    def marks(self) -> Path:
        return self.folder / "marks"

    @property
    def tmp(self) -> Path:
        return self.folder / "tmp"

    def start(self, runner: str, value: str) -> subprocess.Popen[str]:
        self.folder.mkdir(parents=True)
        (self.folder / "page.md").write_text(PAGE.replace("VALUE", value))
        self.marks.mkdir()
        self.tmp.mkdir()
        env = {**os.environ, "DOJO_RUN": self.run, "MARKS": str(self.marks)}
        env.update({"TMPDIR": str(self.tmp), MARK: self.mark})
        return subprocess.Popen(
            RUNNERS[runner],
            cwd=self.folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: only it is signalled, and killed
            preexec_fn=reset_signals,  # SIGINT may be ignored here (a background job): not there
        )

    def left_in_tmp(self) -> tuple[list[str], int]:
        """(what is left in the run's ``$TMPDIR``, the lock files among it)."""
        files = [
            p
            for p in self.tmp.rglob("*")
            if (not p.is_dir() or not any(p.iterdir()))
            and not p.relative_to(self.tmp).parts[0].startswith(PYTEST_OWN)
        ]
        locks = [p for p in files if p.relative_to(self.tmp).parts[0].startswith(LOCKS)]
        others = [str(p.relative_to(self.tmp)) for p in files if p not in locks]
        return others, len(locks)

    def half_written(self) -> list[str]:
        """Temporary files of atomic writes left beside the page or the transcripts."""
        return [
            str(p.relative_to(self.folder))
            for p in self.folder.rglob(".*.tmp")
            if not p.is_relative_to(self.tmp)
        ]

    def unreadable_transcripts(self) -> list[str]:
        problems = []
        for path in sorted((self.folder / "runs").rglob("*.json")):
            try:
                loads(path.read_text(), source=str(path))
            except TranscriptError as error:
                problems.append(str(error))
        return problems


def _stop(process: subprocess.Popen[str]) -> None:
    """Kill what is still running of a trial's own process group (a test failure)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _trial(client: docker.DockerClient, base: Path, number: int, plan: Plan, seed: int) -> str:
    """Run one trial; returns the phase the signal reached (or why none was sent)."""
    trial = Trial(base / f"t{number}", f"c-intr-{seed}-{number}", uuid.uuid4().hex)
    value = "two" if plan.runner == "update" else "one"
    process = trial.start(plan.runner, value)
    before = (trial.folder / "page.md").read_bytes()
    written = before.replace(b"==>\nvalue: one\n", b"==>\nvalue: two\n")  # what update writes
    assert written != before or plan.runner != "update"
    try:
        deadline = time.monotonic() + 600
        while not _reached(trial.marks, plan.after) and process.poll() is None:
            assert time.monotonic() < deadline, f"trial {number}: {plan.after} never reached"
            time.sleep(0.05)
        time.sleep(plan.delay)
        phase = _phase(trial.marks, plan.runner)
        if process.poll() is None:
            process.send_signal(plan.sig)
        else:
            phase = "ended before the signal"
        output, _ = process.communicate(timeout=300)
    finally:
        _stop(process)
    shown = f"trial {number} {plan} ({phase}):\n{output}"
    if phase.endswith(("teardown", "writes")):  # it may be done before the signal counts
        assert process.returncode in (0, 2), shown
    elif phase != "ended before the signal":
        assert process.returncode == 2, shown  # interrupted
    if not plan.runner.startswith("pytest"):  # pytest's own summary may show one
        assert "Traceback" not in output, shown
    # a reaper may still be removing the cluster of a process that was killed: wait for it
    assert wait_none_left(f"{MARK}={trial.mark}", within=120) == [], shown
    assert labelled(client, trial.run) == [], shown
    left, locks = trial.left_in_tmp()
    assert left == [], shown
    assert trial.half_written() == [], shown
    page = (trial.folder / "page.md").read_bytes()
    assert page in (before, written), shown
    assert trial.unreadable_transcripts() == [], shown
    print(f"trial {number}: {plan.runner} {plan.sig.name} {plan.delay:.2f}s after {plan.after}: "
          f"{phase}, exit {process.returncode}, page {'as before' if page == before else 'updated'}"
          f", lock files {locks}")  # fmt: skip
    return phase


def test_interrupts_at_random_points_leave_nothing(tmp_path: Path) -> None:
    client = engine_or_skip()
    seed = int(os.environ.get("DOJO_INTERRUPT_SEED") or random.randrange(10**6))
    count = int(os.environ.get("DOJO_INTERRUPTS") or 6)
    print(f"interrupts: seed {seed} (DOJO_INTERRUPT_SEED={seed} repeats it), {count} trials")
    phases: Counter[str] = Counter()
    signals: Counter[str] = Counter()
    for number, plan in enumerate(plans(random.Random(seed), count)):
        phase = _trial(client, tmp_path, number, plan, seed)
        phases[phase] += 1
        if phase != "ended before the signal":
            signals[plan.sig.name] += 1
    # then a run from nothing passes and leaves nothing
    final = Trial(tmp_path / "final", f"c-intr-{seed}-final", uuid.uuid4().hex)
    process = final.start("verify", "one")
    try:
        output, _ = process.communicate(timeout=600)
    finally:
        _stop(process)
    assert process.returncode == 0, output
    assert "steps: 4  passed: 4  failed: 0" in output, output
    assert labelled(client, final.run) == []
    assert final.left_in_tmp()[0] == []
    sent = sum(signals.values())
    print(
        f"interrupts: {sent} sent ({', '.join(f'{n} {s}' for s, n in sorted(signals.items()))}); "
        f"by phase: {', '.join(f'{p} {n}' for p, n in sorted(phases.items()))}; leaks found: 0; "
        "the next run passed"
    )
    assert sent >= count // 2, phases  # most signals reach a running run


def test_a_killed_runner_leaves_nothing_either(tmp_path: Path) -> None:
    """SIGKILL (no clean-up possible) mid-step: the cluster's reaper removes what it left."""
    client = engine_or_skip()
    trial = Trial(tmp_path / "killed", f"c-intr-kill-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex)
    process = trial.start("verify", "one")
    try:
        deadline = time.monotonic() + 600
        while not _reached(trial.marks, "step") and process.poll() is None:
            assert time.monotonic() < deadline, "the sleeping step never started"
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()[0]
        assert labelled(client, trial.run) != []  # a machine is there to be left behind
        os.killpg(process.pid, signal.SIGKILL)  # the runner and what it started in its group
        process.communicate(timeout=60)
    finally:
        _stop(process)
    assert wait_none_left(f"{MARK}={trial.mark}", within=120) == []
    assert labelled(client, trial.run) == []
    assert trial.left_in_tmp()[0] == []


def test_interrupts_in_a_clean_up_wait_for_its_end() -> None:
    """A signal received in :func:`deferred_interrupts` is delivered once the block is done;
    one that was ignored before it stays ignored."""
    from dojo_exec.interrupts import deferred_interrupts, terminate_as_interrupt

    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # however pytest started
    undo = terminate_as_interrupt()
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            done = []
            with pytest.raises(KeyboardInterrupt), deferred_interrupts():
                os.kill(os.getpid(), sig)
                time.sleep(0.1)  # a handler would have run by now
                done.append(sig)
            assert done == [sig]
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        undo()
        signal.signal(signal.SIGINT, before)


LATE_SIGNAL = """
import os, signal, sys, time
from dojo_exec.cli import main
status = main(["report", sys.argv[1]])
os.kill(os.getpid(), signal.{sig})  # after the work, as a late Ctrl-C or kill would come
time.sleep(0.2)
raise SystemExit(status)
"""


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_after_the_work_leaves_the_status_as_it_was(tmp_path: Path, sig: str) -> None:
    """Once a command is done, an interrupt (which Python, shutting down, would deliver with
    the default action: killed, -15) changes neither its exit status nor its output."""
    script = LATE_SIGNAL.format(sig=sig)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=reset_signals,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "interrupted" not in done.stderr, done.stderr
