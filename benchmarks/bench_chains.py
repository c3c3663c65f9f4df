"""Benchmark of chained pages: continuing the page one requires vs replaying it.

A chain of pages, each requiring the one before, run together (each page continues the
shell of the page it requires, :mod:`dojo_exec.chains`) against the same pages run one at
a time (each replays its prerequisites on a fresh shell).  Pages run in a plain local
shell (driver ``none``) with a fixed amount of work per step, so that the ratio shows the
handover and nothing of Docker.

    python benchmarks/bench_chains.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from dojo_exec.runner import run_pages

PAGES = 6
STEP = "sleep 0.2"


def write_chain(folder: Path) -> list[Path]:
    pages = []
    for number in range(PAGES):
        page = folder / f"page{number}.md"
        front = f"---\nrequires: [page{number - 1}.md]\n---\n" if number else ""
        page.write_text(f"{front}# Page {number}\n\n```sh dojo\n{STEP}\necho {number}\n```\n")
        pages.append(page)
    return pages


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        pages = write_chain(Path(scratch))
        started = time.perf_counter()
        together = run_pages(pages, None, docs_root=Path(scratch), driver="none")
        chained = time.perf_counter() - started
        started = time.perf_counter()
        alone = [run_pages([page], None, docs_root=Path(scratch), driver="none") for page in pages]
        replayed = time.perf_counter() - started
    assert all(s.verdict == "passed" for r in together for s in r.steps)
    assert all(s.verdict == "passed" for (r,) in alone for s in r.steps)
    runs_replayed = PAGES * (PAGES + 1) // 2
    print(
        f"chains: {PAGES} chained pages run together {chained:.2f} s vs one at a time "
        f"{replayed:.2f} s ({chained / replayed:.2f}x; {PAGES} page runs instead of "
        f"{runs_replayed})"
    )


if __name__ == "__main__":
    main()
