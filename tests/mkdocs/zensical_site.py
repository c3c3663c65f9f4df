"""A site built with Zensical (which runs no MkDocs plugin): the ``dojo_exec.markdown``
extension alone renders the steps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dojo_exec.markdown.assets import install

EXTENSION = "  - dojo_exec.markdown:\n      transcripts: transcripts\n"
REPORT = "# Report\n\n<!-- dojo_exec: report -->\n"


def with_extension(config: Path) -> Path:
    """List the extension under ``markdown_extensions:`` in ``config`` (a copy's mkdocs.yml)
    unless it is listed, as a site that also builds with Zensical does."""
    text = config.read_text()
    if "dojo_exec.markdown" not in text:
        text = text.replace("markdown_extensions:\n", f"markdown_extensions:\n{EXTENSION}", 1)
        config.write_text(text)
    return config


def build_zensical(config: Path, *, clean: bool = True) -> tuple[Path, str]:
    """Build the site of ``config`` with Zensical (``clean``: from scratch, else reusing its
    cache); returns its folder and what the build printed. A failed build fails the test
    with that output."""
    root = config.parent
    command = [sys.executable, "-m", "zensical", "build", "-f", str(config)]
    done = subprocess.run(
        [*command, "--clean"] if clean else command,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    site = root / "site"
    install(site)
    return site, output
