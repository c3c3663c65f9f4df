"""Build time of the sample site with the dojo_exec plugin vs without it.

    python benchmarks/bench_site.py [-n 10] [--pages 20] [--goal 1.2]

Copies ``tests/mkdocs/sample`` (multiplying ``swarm.md`` into ``--pages`` pages, each with
its transcript) and builds, N times each, alternating:

- ``with``: the plugin in recorded mode (commands, Promised/Captured tabs, badges, report);
- ``plain``: the plugin removed, the same pages with each step written as the plain code
  blocks an author would have without dojo_exec (the fair baseline: same commands and
  promises, rendered by the same extensions);
- ``disabled``: the plugin present with ``enabled: false`` on the raw pages (the tagged
  fences then render as broken paragraphs, so this baseline is cheaper than a real page).

Reports the medians and the ratio with/plain (goal ≤ 1.2×; exit status 1 when over) and,
for information, with/disabled.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "mkdocs"))
from sample_site import make_site, swarm_run

from dojo_exec.markdown.render import render_page
from dojo_exec.page import parse_page
from dojo_exec.transcripts import record_run


def prepare(root: Path, pages: int) -> dict[str, Path]:
    """The sample site with ``pages`` copies of swarm.md; a config file per variant."""
    config = make_site(root / "site")
    docs = root / "site" / "docs"
    source = (docs / "swarm.md").read_text()
    for number in range(2, pages + 1):
        name = f"swarm{number}.md"
        (docs / name).write_text(source)
        run = swarm_run(docs, "2026-11-25T23:48:34Z", "20.10.24+dfsg1")
        run.page = name
        record_run(root / "site" / "transcripts", run)
    text = config.read_text().replace("  - Report: report.md\n", "")
    disabled = root / "site" / "mkdocs-disabled.yml"
    disabled.write_text(text.replace("      report_page: report.md\n", "      enabled: false\n"))
    plain_docs = root / "plain" / "docs"
    plain_docs.mkdir(parents=True)
    for page_file in docs.glob("*.md"):
        page = parse_page(page_file)
        plain = render_page(page.text, page, 0, None, page_file.name, mode="off").markdown
        (plain_docs / page_file.name).write_text(plain)
    plain_config = root / "plain" / "mkdocs.yml"
    plain_config.write_text(text.split("  - dojo_exec:\n")[0] + text[text.index("\nnav:") :])
    return {"with": config, "plain": plain_config, "disabled": disabled}


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
        configs = prepare(root, args.pages)
        times: dict[str, list[float]] = {name: [] for name in configs}
        for name, config in configs.items():  # warm-up: imports, lexers, templates
            build_once(config, root / f"out-{name}")
        for _ in range(args.repetitions):
            for name, config in configs.items():
                times[name].append(build_once(config, root / f"out-{name}"))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"pages with steps: {args.pages}, repetitions: {args.repetitions}")
    for name, values in times.items():
        print(f"{name:>9}: median {medians[name]:.3f} s  (min {min(values):.3f} s)")
    ratio = medians["with"] / medians["plain"]
    verdict = "ok" if ratio <= args.goal else "OVER GOAL"
    print(f"ratio with/plain:    {ratio:.2f}x  (goal <= {args.goal:.2f}x: {verdict})")
    print(f"ratio with/disabled: {medians['with'] / medians['disabled']:.2f}x  (information)")
    return 0 if ratio <= args.goal else 1


if __name__ == "__main__":
    sys.exit(main())
