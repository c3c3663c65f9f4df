"""``dojo-exec verify|update`` on a folder of pages that has no conftest, in a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
