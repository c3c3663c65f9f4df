"""``pytest /some/dir --dojo-collect`` with no ``--dojo-docs-root``: pages outside the working
directory are named relative to the folder given, each with a transcript of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dojo_exec.pytest_plugin import infer_docs_root

PAGE = """# Greetings

```sh dojo
echo "hello $((6 * 7))"
# Result ==>
hello 42
```
"""

REPO = Path(__file__).parent.parent


@pytest.mark.parametrize("where", ["another folder", "the repository"])
def test_pages_outside_the_working_directory_keep_their_folders(tmp_path: Path, where: str) -> None:
    pages = tmp_path / "site" / "pages"
    for folder in ("a", "b"):  # the same file name twice: one transcript each
        (pages / folder).mkdir(parents=True)
        (pages / folder / "index.md").write_text(PAGE)
    cwd = REPO if where == "the repository" else tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    runs = tmp_path / "runs"
    options = ["--dojo-collect", "--dojo-driver", "none", "--dojo-transcripts", str(runs)]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(pages), *options],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = done.stdout + done.stderr
    assert done.returncode == 0, shown
    assert "Traceback" not in shown and "ValueError" not in shown, shown
    assert "steps: 2  passed: 2  failed: 0" in done.stdout, shown
    recorded = sorted(path.relative_to(runs).as_posix() for path in runs.rglob("*.json"))
    assert recorded == ["a/index.md.json", "b/index.md.json"]
    assert json.loads((runs / "a/index.md.json").read_text())["page"] == "a/index.md"
    assert f"pages named relative to {pages.resolve()} in transcripts" in done.stdout
    assert "--dojo-docs-root DIR" in done.stdout


def test_the_inferred_root(tmp_path: Path) -> None:
    cwd = tmp_path / "project"
    (cwd / "docs" / "sub").mkdir(parents=True)
    docs_page, cwd_page = cwd / "docs" / "sub" / "p.md", cwd / "notes" / "q.md"
    outside = tmp_path / "other" / "x" / "r.md"
    assert infer_docs_root([docs_page], cwd, ["docs/sub/p.md"]) == (cwd / "docs").resolve()
    assert infer_docs_root([docs_page, cwd_page], cwd, ["docs", "notes"]) == cwd.resolve()
    given = str(tmp_path / "other")
    assert infer_docs_root([outside], cwd, [given]) == (tmp_path / "other").resolve()
    assert infer_docs_root([outside], cwd, [str(outside)]) == outside.parent.resolve()
    assert infer_docs_root([outside], cwd, [f"{outside}::line:3"]) == outside.parent.resolve()
    both = infer_docs_root([outside, docs_page], cwd, [given, "docs"])
    assert both == tmp_path.resolve()
