"""Verification time of the dojo's pages against the floor the pages themselves impose.

    python benchmarks/bench_verify.py [--docs docs] [--parallel 5] [--repeat 3] [--cold]

Copies the pages (``docs/``) to a scratch folder and runs them as ``nox -s verify-docs``
does (pytest, one page per worker, transcripts recorded in the scratch folder: the committed
ones are not touched), then prints:

- per page: the time its run took (its own steps, from its transcript), its floor, and when
  it started and ended in the run (the committed transcripts are copied first, so that the
  pages are handed out longest recorded chain first, as in ``verify-docs``);
- the total wall time of a run and the **floor**: the waits written into the pages along
  the longest chain of prerequisites (see :func:`page_floor`), and total/floor; the warm run
  is repeated (``--repeat``, 3 by default) and its median is the figure, each run printed
  too: swarm's own timers (the managers page's elections) vary from run to run;
- the no-change incremental run (``--dojo-changed`` on the same scratch transcripts);
- with ``--cold``: the same run after removing the project's images (node, base, stand-ins,
  mirror), so that they are built from nothing, offline. Only on a machine where nothing
  else uses them: a run in progress would lose its images.

The floor is what no engine can make faster: docker's CLI watches a created, scaled, updated
or rolled-back service for 5 s after it converges (unless ``--detach``); a rolling update
waits ``--update-delay`` after each batch of ``--update-parallelism`` tasks, the last one
included (swarmkit's updater worker sleeps the delay after every slot it updates), then
monitors the service for ``--update-monitor`` (5 s) — or for the delay and one second more
when the delay is at least that long (``updater.go``: ``monitoringPeriod = Delay + 1s``) —
before its state says ``completed``; ``sleep N`` sleeps;
each batch of an update stops its running tasks 1 s late (swarmkit's agent re-runs a
cancelled wait after a fixed second, see :data:`STOP_RETRY`);
``--stop-grace-period`` given on a service delays each stop-first replacement by up to that
long (only an explicit one counts: most processes stop at once on SIGTERM). An update to an
image the stand-ins leave out on purpose (say ``redis:3.0.8``) fails at its first task and
pauses: it imposes nothing. A promise of swarm's no-leader error (a manager whose swarm
lost its quorum) comes only after the leader's quorum check and dockerd's request timeout
(:data:`ELECTION_TIMEOUT`, :data:`REQUEST_TIMEOUT`).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from dojo_exec.cli import PAGE_RUN_OPTIONS
from dojo_exec.machines.stand_ins import stand_ins
from dojo_exec.page import Page, parse_page
from dojo_exec.transcripts import load_transcript

STABILITY = 5.0
"""Seconds docker's CLI watches a converged service before returning (and a task's monitor)."""
MONITOR_PAST_DELAY = 1.0
"""Seconds an update monitors past its delay when the delay is at least the monitor period:
swarmkit's updater sets ``monitoringPeriod = updateConfig.Delay + 1*time.Second`` so that it
does not stop watching while the last task still delays (``manager/orchestrator/update/
updater.go``; measured on 20.10.24 and 26.1.5: one task, delay 4/10/20 s, completed 9/21/41 s
after it ran; delay 0: 5 s)."""
STOP_RETRY = 1.0
"""Seconds before a node's agent stops a *running* task an update replaces: the update cancels
the agent's wait on the task, which swarmkit's task manager treats as "retry" and re-runs
1 s later (``agent/task.go``: ``exec.ErrTaskRetry`` -> ``time.AfterFunc(time.Second, …)``;
measured 1.0 s between the assignment and SIGTERM in a node's debug log, Docker 20.10.24)."""

ELECTION_TIMEOUT = 10.0
"""Seconds a swarm's leader goes on leading without hearing from a quorum of managers:
its raft checks the quorum every election timeout (docker's default ``ElectionTick`` 10 of
1 s ticks) and steps down at the first check that finds too few of them active."""
REQUEST_TIMEOUT = 20.0
"""Seconds dockerd waits for its swarm manager's answer (moby's ``swarmRequestTimeout`` in
``daemon/cluster``): a manager without a leader answers a ``docker node ls`` when it runs out."""
NO_LEADER = "The swarm does not have a leader"
"""What a manager answers once its swarm lost the quorum: a promise of it waits
:data:`ELECTION_TIMEOUT` then :data:`REQUEST_TIMEOUT` at least (measured 34.6–37.9 s after a
``docker-machine stop`` of the other of two managers on Docker 20.10.24)."""

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def seconds(value: str) -> float:
    """A Go-style duration as docker's flags take it (``10s``, ``1m``, ``500ms``); 0 if unknown."""
    total = 0.0
    for part in re.findall(r"\d+(?:\.\d+)?(?:ms|s|m|h)?", value):
        match = _DURATION.match(part)
        if match:
            total += float(match.group(1)) * _UNITS[match.group(2)]
    return total


def _flag(tokens: list[str], *names: str) -> str | None:
    """The value of the last of ``names`` in ``tokens`` (``--name v`` or ``--name=v``)."""
    found = None
    for index, token in enumerate(tokens):
        for name in names:
            if token == name and index + 1 < len(tokens):
                found = tokens[index + 1]
            elif token.startswith(name + "="):
                found = token.split("=", 1)[1]
    return found


@dataclass
class ServiceModel:
    """What the floor needs of a service: its replicas and update settings."""

    replicas: int = 1
    delay: float = 0.0
    parallelism: int = 1
    grace: float = 0.0
    monitor: float = STABILITY  # --update-monitor

    def completion(self, delay: float, monitor: float) -> float:
        """Seconds from the last batch's delay to ``completed``: the monitor period."""
        return delay + MONITOR_PAST_DELAY if delay >= monitor else monitor


@dataclass
class FloorModel:
    """The services a page's commands have created so far, by name."""

    services: dict[str, ServiceModel] = field(default_factory=dict)
    absent: frozenset[str] = field(
        default_factory=lambda: frozenset(
            f"{s.ref.partition(':')[0]}:{tag}" for s in stand_ins() for tag in s.absent_tags
        )
    )

    def command_floor(self, command: str) -> float:
        """Seconds ``command`` (one shell line) must wait whatever the engine's speed."""
        try:
            tokens = shlex.split(command, comments=True)
        except ValueError:
            return 0.0
        floor = 0.0
        for start, token in enumerate(tokens):
            if token == "sleep" and start + 1 < len(tokens):
                floor += seconds(tokens[start + 1])
            if token == "docker" and tokens[start + 1 : start + 2] == ["service"]:
                floor += self._service(tokens[start + 2 :])
        return floor

    def _service(self, tokens: list[str]) -> float:
        if not tokens:
            return 0.0
        verb, rest = tokens[0], tokens[1:]
        detached = any(t in ("-d", "--detach", "--detach=true") for t in rest)
        watched = 0.0 if detached else STABILITY
        if verb == "create":
            name = _flag(rest, "--name") or ""
            self.services[name] = ServiceModel(
                replicas=int(_flag(rest, "--replicas") or 1),
                delay=seconds(_flag(rest, "--update-delay") or "0s"),
                parallelism=int(_flag(rest, "--update-parallelism") or 1),
                grace=seconds(_flag(rest, "--stop-grace-period") or "0s"),
                monitor=seconds(_flag(rest, "--update-monitor") or f"{STABILITY}s"),
            )
            return watched
        if verb == "scale":
            for target in rest:
                name, _, count = target.partition("=")
                if count.isdigit():
                    self.services.setdefault(name, ServiceModel()).replicas = int(count)
            return watched
        if verb in ("update", "rollback") and rest:
            service = self.services.setdefault(rest[-1], ServiceModel())
            if verb == "update" and _flag(rest, "--image") in self.absent:
                return 0.0  # its first task fails and the update pauses at once
            if verb == "update":
                service.delay = seconds(_flag(rest, "--update-delay") or f"{service.delay}s")
                service.monitor = seconds(_flag(rest, "--update-monitor") or f"{service.monitor}s")
            batches = math.ceil(service.replicas / max(service.parallelism, 1))
            delay = service.delay if verb == "update" else 0.0  # rollback: its own, default 0
            monitor = service.monitor if verb == "update" else STABILITY
            # an update stops running tasks (1 s each batch, STOP_RETRY); what a rollback
            # replaces may have never run (the failed update's task): not counted
            stop = STOP_RETRY if verb == "update" else 0.0
            # a detached update is waited for by the page's next steps all the same; after
            # its last batch the update is "completed" only after the delay, then the monitor
            # period (MONITOR_PAST_DELAY)
            return batches * (delay + service.grace + stop) + service.completion(delay, monitor)
        return 0.0


def page_floor(page: Page) -> float:
    """The floor of one page's own steps (its prerequisites not included)."""
    model = FloorModel()
    floor = 0.0
    for step in page.steps:
        if step.options.skip:
            continue
        commands = [command.text for command in step.commands] or [step.command]
        floor += sum(model.command_floor(line) for line in commands)
        floor += promise_floor(step.expected)
    return floor


def promise_floor(expected: str | None) -> float:
    """Seconds a promised output can only come after: swarm's no-leader answer."""
    if expected is not None and NO_LEADER in expected:
        return ELECTION_TIMEOUT + REQUEST_TIMEOUT
    return 0.0


def chain_floor(name: str, pages: dict[str, Page], floors: dict[str, float]) -> float:
    """The floor of ``name`` and of the prerequisites it needs before it can run."""
    page = pages[name]
    before = max(
        (chain_floor(p.name, pages, floors) for p in page.requires if p.name in pages),
        default=0.0,
    )
    return before + floors[name]


def run_pages(docs: Path, transcripts: Path, parallel: str, *extra: str) -> float:
    """Wall seconds of a pytest run of the pages as ``nox -s verify-docs`` runs them."""
    command = [
        sys.executable, "-m", "pytest", str(docs), "-q", *PAGE_RUN_OPTIONS,
        "-n", parallel, "--dist", "loadfile", "--dojo-transcripts", str(transcripts),
        "--timeout", "1200", *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.perf_counter() - started
    tail = done.stdout.strip().splitlines()[-1:] or ["(no output)"]
    print(f"  pytest {' '.join(extra) or '(all pages)'}: {tail[0]}")
    if done.returncode:
        print(done.stdout[-3000:])
        raise SystemExit(f"bench_verify: the run failed (exit {done.returncode})")
    return elapsed


def remove_images() -> None:
    """Remove the project's images so that the next run builds them from nothing."""
    import docker

    client = docker.from_env()
    for image in client.images.list(filters={"label": "dojo.managed"}):
        client.images.remove(image.id, force=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=Path("docs"))
    parser.add_argument("--transcripts", type=Path, default=Path("transcripts"))
    parser.add_argument("--parallel", default=os.environ.get("DOJO_PARALLEL", "5"))
    parser.add_argument("--cold", action="store_true", help="remove the images first")
    parser.add_argument("--floor-only", action="store_true", help="print the floors, run nothing")
    parser.add_argument("--keep", type=Path, help="copy the run's transcripts to this folder")
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("DOJO_BENCH_REPEAT", "3")),
        help="warm runs, one after the other; their median is the figure (default 3)",
    )
    args = parser.parse_args(argv)
    paths = sorted(args.docs.glob("*.md"))
    pages = {path.name: parse_page(path) for path in paths}
    floors = {name: page_floor(page) for name, page in pages.items()}
    chains = {name: chain_floor(name, pages, floors) for name in pages}
    longest = max(chains, key=chains.__getitem__)
    if args.floor_only:
        for name in pages:
            print(f"{name:<18} floor {floors[name]:6.1f} s, with its chain {chains[name]:6.1f} s")
        print(f"floor along the longest chain (…→ {longest}): {chains[longest]:.1f} s")
        return 0
    with tempfile.TemporaryDirectory(prefix="dojo-bench-verify-") as scratch:
        docs = Path(scratch) / "docs"
        shutil.copytree(args.docs, docs)
        transcripts = Path(scratch) / "transcripts"
        if args.transcripts.is_dir():  # as verify-docs: the recorded runs order the pages
            shutil.copytree(args.transcripts, transcripts)
        begun = datetime.now(timezone.utc).replace(microsecond=0)
        runs: list[tuple[str, float]] = []
        if args.cold:
            remove_images()
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "dojo_exec.cli", "prepare"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            runs.append(("cold (images from nothing)", time.perf_counter() - started))
            runs[-1] = (runs[-1][0], runs[-1][1] + run_pages(docs, transcripts, args.parallel))
        warm: list[float] = []
        for _ in range(max(args.repeat, 1)):
            begun = datetime.now(timezone.utc).replace(microsecond=0)  # the table: the last
            warm.append(run_pages(docs, transcripts, args.parallel))
        unchanged = run_pages(docs, transcripts, args.parallel, "--dojo-changed")
        slowest: list[tuple[float, str]] = []
        print(f"{'page':<18}{'run':>9}{'floor':>9}{'chain floor':>13}{'from':>8}{'to':>8}")
        for name in pages:
            transcript = load_transcript(transcripts, name)
            latest = transcript.latest if transcript else None
            if latest is None or datetime.fromisoformat(latest.started) < begun:
                print(f"{name:<18}{'-':>9}{floors[name]:8.1f}s{chains[name]:12.1f}s")
                continue
            start = (datetime.fromisoformat(latest.started) - begun).total_seconds()
            slowest += [
                (step.duration, f"{name}:{step.line} ({step.attempts} attempts)")
                for step in latest.steps
            ]
            print(
                f"{name:<18}{latest.duration:8.1f}s{floors[name]:8.1f}s{chains[name]:12.1f}s"
                f"{start:7.0f}s{start + latest.duration:7.0f}s"
            )
        print("slowest steps: " + ", ".join(f"{w} {t:.1f}s" for t, w in sorted(slowest)[-5:]))
        if args.keep:
            shutil.copytree(transcripts, args.keep, dirs_exist_ok=True)
    floor = chains[longest]
    print(f"floor along the longest chain (…→ {longest}): {floor:.1f} s")
    for label, took in runs:
        print(f"{label}: {took:.1f} s, {took / floor:.2f}x the floor")
    each = ", ".join(f"{took:.1f}" for took in warm)
    middle = statistics.median(warm)
    print(
        f"warm (images present), median of {len(warm)} run{'s' if len(warm) > 1 else ''}: "
        f"{middle:.1f} s, "
        f"{middle / floor:.2f}x the floor (runs: {each} s; worst {max(warm) / floor:.2f}x)"
    )
    print(f"no-change incremental run (--dojo-changed): {unchanged:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
