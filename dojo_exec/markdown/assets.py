"""``python -m dojo_exec.markdown.assets SITE``: the files a site built without the MkDocs
plugin needs from ``dojo_exec`` (the plugin adds them itself).

The only one is the Web Worker shim material's offline search loads over ``file://``; the
config names it in ``extra.polyfills`` (``assets/dojo_exec/iframe-worker-shim.js``), so that
Zensical does not load it from a CDN. The steps' stylesheet is in each page already.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

ASSETS = Path(__file__).parents[1] / "mkdocs" / "assets"
SHIM = "assets/dojo_exec/iframe-worker-shim.js"


def install(site: Path) -> Path:
    """Copy the shim into ``site`` (built); returns where it went."""
    target = site / SHIM
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ASSETS / Path(SHIM).name, target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dojo_exec.markdown.assets")
    parser.add_argument("site", type=Path, help="the built site's folder")
    args = parser.parse_args(argv)
    if not args.site.is_dir():
        print(f"dojo_exec: {args.site}: no built site there", file=sys.stderr)
        return 1
    print(f"dojo_exec: {install(args.site)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
