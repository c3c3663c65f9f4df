"""Soak: the full verification of the pages, N times in a row; every run must be green.

    python benchmarks/soak.py [--runs 5] [--pages docs] [--parallel 3] [-- PYTEST ARGS]

Each run is what ``nox -s verify-docs`` runs (every page, in parallel on separate clusters),
with its transcripts recorded in a temporary folder of its own: the committed transcripts and
the pages are never written.  Per run it prints passed/failed, the steps that waited or
retried (``wait=`` polls, from the recorded attempts) and the slowest step; then whether
every run was green.  Each run has its own ``$DOJO_RUN`` (the session's, ``-N`` appended),
and leaves nothing: what it left is listed and counted as a failure.  Exit status 1 when a
run failed or left something.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dojo_exec.cli import PAGE_RUN_OPTIONS
from dojo_exec.transcripts import RunRecord, load_transcript, page_key


@dataclass(frozen=True)
class RunFigures:
    """What one verification run gave."""

    status: int  # pytest's exit status
    pages: int
    recorded: int  # pages with a recorded run
    steps: int
    passed: int
    failed: int
    waited: int  # steps that ran more than once (waits and retries)
    extra_attempts: int  # attempts beyond each step's first
    slowest: str  # "page:line (N.N s) command"
    duration: float
    left: list[str]

    @property
    def green(self) -> bool:
        return (
            self.status == 0 and not self.failed and not self.left and self.recorded == self.pages
        )

    def line(self, number: int) -> str:
        verdict = "passed" if self.green else "FAILED"
        left = f"  left: {', '.join(self.left)}" if self.left else ""
        missing = f"  unrecorded pages: {self.pages - self.recorded}" * (self.recorded < self.pages)
        return (
            f"run {number}: {verdict}  steps: {self.steps}  passed: {self.passed}  "
            f"failed: {self.failed}  waited/retried: {self.waited} steps "
            f"(+{self.extra_attempts} attempts)  slowest: {self.slowest}  "
            f"duration: {self.duration:.0f}s{missing}{left}"
        )


def figures(
    runs: list[RunRecord], pages: int, status: int, duration: float, left: list[str]
) -> RunFigures:
    """The figures of one verification from the runs it recorded (one per page)."""
    steps = [(run.page, step) for run in runs for step in run.steps]
    ran = [(page, step) for page, step in steps if step.verdict != "skipped"]
    slowest = max(ran, key=lambda pair: pair[1].duration, default=None)
    described = "none"
    if slowest is not None:
        page, step = slowest
        first = step.command.strip().splitlines()[0] if step.command.strip() else ""
        described = f"{page}:{step.line} ({step.duration:.1f} s) {first[:50]}"
    return RunFigures(
        status=status,
        pages=pages,
        recorded=len(runs),
        steps=len(steps),
        passed=sum(1 for _, step in steps if step.verdict == "passed"),
        failed=sum(1 for _, step in steps if step.verdict not in ("passed", "skipped")),
        waited=sum(1 for _, step in ran if step.attempts > 1),
        extra_attempts=sum(step.attempts - 1 for _, step in ran),
        slowest=described,
        duration=duration,
        left=left,
    )


def pages_with_steps(folder: Path) -> list[Path]:
    """The pages of ``folder`` that have steps (only those are recorded)."""
    from dojo_exec.page import parse_page

    return [path for path in sorted(folder.rglob("*.md")) if parse_page(path).steps]


def verify_once(
    pages: Path, parallel: str, run_id: str, extra: list[str], transcripts: Path
) -> tuple[int, float, list[str]]:
    """One verification recording into ``transcripts``: (exit status, seconds, leftovers)."""
    env = {**os.environ, "DOJO_RUN": run_id}
    command = [sys.executable, "-m", "pytest", str(pages), *PAGE_RUN_OPTIONS]
    command += ["-n", parallel, "--dist", "loadfile", "--timeout", "1200"]
    command += ["--dojo-transcripts", str(transcripts), "--dojo-docs-root", str(pages), *extra]
    started = time.monotonic()
    status = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, check=False).returncode
    duration = time.monotonic() - started
    leaks = [sys.executable, "-m", "dojo_exec.cli", "leaks", "--run", run_id]
    left = subprocess.run(leaks, env=env, capture_output=True, text=True, check=False)
    found = left.stdout.split("\n")
    down = [sys.executable, "-m", "dojo_exec.cli", "down", "--run", run_id]
    subprocess.run(down, env=env, capture_output=True, check=False)
    return status, duration, [line for line in found if line.strip()]


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in arguments:
        split = arguments.index("--")
        arguments, extra = arguments[:split], arguments[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="how many verifications (default 5)")
    parser.add_argument("--pages", type=Path, default=Path("docs"), help="default: docs")
    parser.add_argument("--parallel", default=os.environ.get("DOJO_PARALLEL", "5"))
    args = parser.parse_args(arguments)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    session = os.environ.get("DOJO_RUN") or f"soak-{os.getpid()}"
    pages = pages_with_steps(args.pages)
    lines: list[str] = []
    green = 0
    for number in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="dojo-soak-") as folder:
            transcripts = Path(folder)
            status, duration, left = verify_once(
                args.pages, args.parallel, f"{session}-{number}", extra, transcripts
            )
            keys = [page_key(path, args.pages.resolve()) for path in pages]
            found = [load_transcript(transcripts, key) for key in keys]
            runs = [t.latest for t in found if t is not None and t.latest is not None]
        result = figures(runs, len(pages), status, duration, left)
        green += result.green
        lines.append(result.line(number))
        print(f"soak: {lines[-1]}", flush=True)
    print("\nsoak summary")
    for line in lines:
        print(f"  {line}")
    print(f"soak: {green}/{args.runs} runs green")
    return 0 if green == args.runs else 1


if __name__ == "__main__":
    raise SystemExit(main())
