"""Benchmark of the page engine, reported as ratios from one run.

- matcher: mean time to match each real capture against its re-randomised twin;
- shell: per-step overhead of the persistent pty shell, against a bare `bash -c true`;
- page: running tests/sample through the runner (parse, shell, match, checks) against
  running the same commands as one plain bash script.

    python benchmarks/bench_engine.py
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from dojo_exec.matching import match
from dojo_exec.page import resolve_order
from dojo_exec.runner import PageSession
from dojo_exec.shell import Shell

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ROOT / "tests" / "fixtures" / "outputs"
SAMPLE = ROOT / "tests" / "sample" / "every-option.md"


def body(path: Path) -> str:
    return "\n".join(path.read_text().splitlines()[1:-1])


def bench_matcher(rounds: int = 20) -> tuple[float, int]:
    pairs = [
        (body(twin), body(OUTPUTS / "engine-20.10-cli-28.2" / twin.name))
        for twin in sorted((OUTPUTS / "rerun-20.10-cli-28.2").glob("*.txt"))
    ]
    started = time.perf_counter()
    for _ in range(rounds):
        for promised, captured in pairs:
            match(promised, captured)
    return (time.perf_counter() - started) / (rounds * len(pairs)), len(pairs)


def bench_overhead(steps: int = 200) -> float:
    """Mean wall-clock seconds per ``true`` step of the page shell over ``steps`` steps."""
    with Shell(name="bench") as shell:
        shell.run("true", timeout=10)
        started = time.perf_counter()
        for _ in range(steps):
            shell.run("true", timeout=10)
        return (time.perf_counter() - started) / steps


def bench_bare_bash(count: int = 50) -> float:
    started = time.perf_counter()
    for _ in range(count):
        subprocess.run(["bash", "-c", "true"], check=True)
    return (time.perf_counter() - started) / count


def bench_page(rounds: int = 3) -> tuple[float, float]:
    pages = resolve_order(SAMPLE)
    script = "\n".join(
        step.command for page in pages for step in page.steps if step.options.skip is None
    )
    engine, plain = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        with PageSession.for_path(SAMPLE, driver="none") as session:
            outcomes = session.run_all()
        engine.append(time.perf_counter() - started)
        assert all(o.ok for o in outcomes), [o.explanation for o in outcomes if not o.ok]
        started = time.perf_counter()
        subprocess.run(
            ["bash", "-c", script],
            check=False,
            capture_output=True,
            cwd="/tmp",
            env={"PATH": "/usr/bin:/bin", "DOJO_PAGE_DIR": str(SAMPLE.parent)},
        )
        plain.append(time.perf_counter() - started)
    return statistics.median(engine), statistics.median(plain)


def main() -> None:
    per_match, count = bench_matcher()
    per_step = bench_overhead(200)
    bare = bench_bare_bash()
    engine, plain = bench_page()
    print("page engine benchmark (one run)")
    print(f"  matcher: {per_match * 1000:.2f} ms per capture ({count} real captures vs twins)")
    print(
        f"  shell: {per_step * 1000:.2f} ms per step in the page shell vs "
        f"{bare * 1000:.2f} ms for a new `bash -c true`: ratio {per_step / bare:.2f}x"
    )
    print(
        f"  page: tests/sample through the runner {engine:.2f} s vs the same commands as one "
        f"bash script {plain:.2f} s: ratio {engine / plain:.2f}x"
    )


if __name__ == "__main__":
    main()
