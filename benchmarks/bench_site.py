"""Build time of the sample site with the dojo_exec plugin vs without it.

    python benchmarks/bench_site.py [-n 10] [--pages 20]

Copies ``tests/mkdocs/sample`` (multiplying ``swarm.md`` into ``--pages`` pages, each with
its transcript), then builds it N times with the plugin enabled and N times with
``enabled: false``, alternating, and reports the median times and their ratio
(goal: ≤ 1.2×).  Exit status 1 when the ratio exceeds ``--goal``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "mkdocs"))
from sample_site import make_site, swarm_run  # noqa: E402

from dojo_exec.transcripts import record_run  # noqa: E402


def prepare(root: Path, pages: int) -> tuple[Path, Path]:
    """The sample site with ``pages`` copies of swarm.md; (plugin config, no-plugin config)."""
    config = make_site(root)
    docs = root / "docs"
    source = (docs / "swarm.md").read_text()
    for number in range(2, pages + 1):
        name = f"swarm{number}.md"
        (docs / name).write_text(source)
        run = swarm_run(docs, "2026-11-25T23:48:34Z", "20.10.24+dfsg1")
        run.page = name
        record_run(root / "transcripts", run)
    without = root / "mkdocs-without.yml"
    text = config.read_text().replace("      report_page: report.md\n", "      enabled: false\n")
    without.write_text(text.replace("  - Report: report.md\n", ""))
    return config, without


def build_once(config_file: Path, site_dir: Path) -> float:
    start = time.perf_counter()
    build(load_config(config_file=str(config_file), site_dir=str(site_dir)))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repetitions", type=int, default=10)
    parser.add_argument("--pages", type=int, default=20, help="pages with steps in the site")
    parser.add_argument("--goal", type=float, default=1.2)
    args = parser.parse_args(argv)
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        with_plugin, without_plugin = prepare(root / "src", args.pages)
        build_once(with_plugin, root / "warmup")  # imports, pygments lexers, theme
        build_once(without_plugin, root / "warmup")
        times: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(args.repetitions):
            times["with"].append(build_once(with_plugin, root / "site-with"))
            times["without"].append(build_once(without_plugin, root / "site-without"))
        shutil.rmtree(root / "warmup", ignore_errors=True)
    median_with = statistics.median(times["with"])
    median_without = statistics.median(times["without"])
    ratio = median_with / median_without
    print(f"pages with steps: {args.pages}, repetitions: {args.repetitions}")
    print(f"with dojo_exec:    median {median_with:.3f} s  (min {min(times['with']):.3f} s)")
    print(f"without dojo_exec: median {median_without:.3f} s  (min {min(times['without']):.3f} s)")
    verdict = "ok" if ratio <= args.goal else "OVER GOAL"
    print(f"ratio: {ratio:.2f}x  (goal <= {args.goal:.2f}x: {verdict})")
    return 0 if ratio <= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
