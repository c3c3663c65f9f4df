"""``dojo-exec verify|update`` on a folder of pages that has no conftest, in a real subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = """# Greetings

```sh dojo
echo "hello $((6 * 7))"
# Result ==>
hello 42
```
"""


def dojo_exec(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dojo_exec.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_runs_a_bare_folder_and_records_transcripts(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "greet.md").write_text(PAGE)
    result = dojo_exec(
        tmp_path, "verify", "pages", "--transcripts", "runs", "--", "--dojo-driver", "none"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pages: 1  steps: 1  passed: 1  failed: 0" in result.stdout
    recorded = [json.loads(path.read_text()) for path in (tmp_path / "runs").rglob("*.json")]
    assert len(recorded) == 1


def test_verify_fails_on_a_broken_promise_and_update_repairs_it(tmp_path: Path) -> None:
    page = tmp_path / "greet.md"
    page.write_text(PAGE.replace("hello 42", "hello 41"))
    failed = dojo_exec(tmp_path, "verify", "greet.md", "--", "--dojo-driver", "none")
    assert failed.returncode == 1
    assert "greet.md:3" in failed.stdout
    updated = dojo_exec(tmp_path, "update", "greet.md", "--", "--dojo-driver", "none")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert page.read_text() == PAGE
    again = dojo_exec(tmp_path, "verify", "greet.md", "--", "--dojo-driver", "none")
    assert again.returncode == 0, again.stdout


def test_report_names_stale_and_unrecorded_steps_and_fails_on_them(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "greet.md").write_text(PAGE)
    (docs / "later.md").write_text(PAGE.replace("Greetings", "Later"))
    assert (
        dojo_exec(tmp_path, "verify", "docs/greet.md", "--", "--dojo-driver", "none").returncode
        == 0
    )

    fresh = dojo_exec(tmp_path, "report", "docs/greet.md", "--fail")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    row = r"greet\.md\s+\S+ \S+ UTC\s+\S+\s+none \(local shell\)\s+1\s+0\s+0\s+0\s+0"
    assert re.search(row, fresh.stdout), fresh.stdout

    (docs / "greet.md").write_text(PAGE.replace("6 * 7", "7 * 6"))
    stale = dojo_exec(tmp_path, "report", "--fail")
    assert stale.returncode == 1
    assert "docs/greet.md:3: edited since its latest run" in stale.stdout
    assert "docs/later.md:3: no recorded run" in stale.stdout
    assert dojo_exec(tmp_path, "report").returncode == 0  # without --fail it only reports


def test_report_names_a_malformed_page_by_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("# Bad\n\n```sh dojo wait=soon\ntrue\n```\n")
    result = dojo_exec(tmp_path, "report", "bad.md")
    assert result.returncode == 2
    assert "bad.md:3:" in result.stderr


def test_verify_with_workers_keeps_each_page_on_one_worker(tmp_path: Path) -> None:
    """``-n 2`` alone would spread a page's steps over workers and record no transcript."""
    pages = tmp_path / "pages"
    (pages / "sub").mkdir(parents=True)
    two_steps = PAGE + "\n```sh dojo\necho more\n# Result ==>\nmore\n```\n"
    for name in ("a.md", "b.md", "sub/c.md"):
        (pages / name).write_text(two_steps)
    result = dojo_exec(
        tmp_path,
        *("verify", "pages", "--docs-root", "pages", "--transcripts", "runs"),
        *("--", "--dojo-driver", "none", "-n", "2"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = sorted(
        p.relative_to(tmp_path / "runs").as_posix() for p in (tmp_path / "runs").rglob("*.json")
    )
    assert recorded == ["a.md.json", "b.md.json", "sub/c.md.json"]  # named relative to pages/
    report = dojo_exec(
        tmp_path, "report", "pages", "--docs-root", "pages", "--transcripts", "runs", "--fail"
    )
    assert report.returncode == 0, report.stdout


def test_prepare_writes_the_package_s_bytecode_even_where_python_would_not() -> None:
    """With ``PYTHONDONTWRITEBYTECODE`` Python reads bytecode caches but never writes them:
    ``prepare`` compiles the package, so the shim's calls do not compile it again."""
    import importlib.util

    import dojo_exec
    from dojo_exec.cli import compile_bytecode

    package = Path(dojo_exec.__file__).parent
    sources = sorted(package.rglob("*.py"))
    caches = [Path(importlib.util.cache_from_source(str(path))) for path in sources]
    stale = next(cache for cache in caches if cache.parent.name == "__pycache__")
    stale.unlink(missing_ok=True)  # one cache missing, as on a fresh checkout
    assert compile_bytecode()
    missing = [
        str(cache)
        for cache, source in zip(caches, sources, strict=True)
        if not cache.is_file() or cache.stat().st_mtime < source.stat().st_mtime
    ]
    assert missing == []


LOADER_PROBE = """
from pathlib import Path


def pytest_sessionfinish(session):
    import dojo_exec.pytest_plugin  # loaded by pytest, as a plugin

    loader = type(dojo_exec.pytest_plugin.__loader__).__name__
    Path(__file__).with_name("loader.txt").write_text(loader)
"""


def test_verify_does_not_rewrite_the_plugin_s_modules(tmp_path: Path) -> None:
    """pytest would rewrite this package's asserts in every process of a run (it is a plugin
    installed with an entry point, importable from the project's folder, where the dojo's
    pages are verified): a run of pages has no use for it."""
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "greet.md").write_text(PAGE)
    (pages / "conftest.py").write_text(LOADER_PROBE)
    runs = str(tmp_path / "runs")
    result = dojo_exec(
        ROOT, "verify", str(pages), "--transcripts", runs, "--", "--dojo-driver", "none"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "pages" / "loader.txt").read_text() == "SourceFileLoader"
