"""The Sybil harness end to end: real pages, real bash, pytest run in a subprocess."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dojo_exec.page import parse_page

SAMPLE = Path(__file__).parent / "sample"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def pages(pytester: pytest.Pytester) -> Path:
    """A copy of the sample pages (and the fixtures they read) in a scratch folder."""
    root = pytester.path
    shutil.copytree(SAMPLE, root / "sample")
    shutil.copytree(FIXTURES, root / "fixtures")
    return root / "sample"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)


def test_every_sample_step_is_an_item_and_passes(pytester: pytest.Pytester, pages: Path) -> None:
    steps = [s for name in ("basics.md", "every-option.md") for s in parse_page(pages / name).steps]
    skipped = [s for s in steps if s.options.skip]
    result = run(pytester, str(pages))
    result.assert_outcomes(passed=len(steps) - len(skipped), skipped=len(skipped))
    result.stdout.fnmatch_lines(["*dojo_exec summary*", "pages: 2  steps: 13*waited/retried: 1*"])


def test_items_are_named_by_line_and_selectable_with_k(
    pytester: pytest.Pytester, pages: Path
) -> None:
    result = run(pytester, str(pages), "-k", "GREETING and every")
    # the selected step needs the prerequisite page's variable: it was replayed first
    result.assert_outcomes(passed=1, deselected=12)


def test_a_changed_promise_fails_with_location_promise_capture_and_diff(
    pytester: pytest.Pytester, pages: Path
) -> None:
    page = pages / "every-option.md"
    text = page.read_text()
    wrong = text.replace(
        "helloworld.5   alpine:latest   worker1    Running",
        "helloworld.5   alpine:latest   worker1    Shutdown",
        1,
    )
    assert wrong != text
    page.write_text(wrong)
    line = next(s.line for s in parse_page(page).steps if "13-service-ps-5" in s.command)
    result = run(pytester, str(pages))
    result.assert_outcomes(failed=1, passed=11, skipped=1)
    out = result.stdout.str()
    assert f"every-option.md:{line}: step failed" in out
    for part in ("command:", "promised:", "captured (exit 0):", "--- promised", "+++ captured"):
        assert part in out
    assert "DESIRED STATE: promised 'Shutdown', captured 'Running'" in out


def test_a_failing_semantic_check_fails_the_step(pytester: pytest.Pytester, pages: Path) -> None:
    page = pages / "every-option.md"
    page.write_text(page.read_text().replace("no rows where NODE = manager1 and", "no rows where"))
    result = run(pytester, str(pages))
    result.assert_outcomes(failed=1, passed=11, skipped=1)


def test_update_rewrites_only_drifted_lines_and_is_a_fixpoint(
    pytester: pytest.Pytester, pages: Path
) -> None:
    page = pages / "every-option.md"
    original = page.read_text()
    drifted = original.replace("hello from the prerequisite\n/tmp", "hello from before\n/tmp")
    drifted = drifted.replace(
        "Error: no such service: helloworld", "Error: no such service or task: helloworld"
    )
    page.write_text(drifted)
    first = run(pytester, str(pages), "--dojo-update")
    first.assert_outcomes(passed=12, skipped=1)
    first.stdout.fnmatch_lines(["*updated*every-option.md: 2 promise(s) updated*"])
    assert page.read_text() == original  # every other byte identical, drift repaired
    second = run(pytester, str(pages))
    second.assert_outcomes(passed=12, skipped=1)
    third = run(pytester, str(pages), "--dojo-update")
    third.assert_outcomes(passed=12, skipped=1)
    assert page.read_text() == original


def test_a_timeout_is_reported_and_the_page_goes_on(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    folder = pytester.path / "pages"
    folder.mkdir()
    (folder / "conftest.py").write_text((SAMPLE / "conftest.py").read_text())
    (folder / "slow.md").write_text(
        "# Slow\n\n```sh dojo\nX=kept\n```\n\n```sh dojo timeout=1s\nsleep 30\n```\n\n"
        "```sh dojo\necho $X\n# Result ==>\nkept\n```\n"
    )
    result = run(pytester, str(folder))
    result.assert_outcomes(passed=2, failed=1)
    assert "slow.md:7: step timeout" in result.stdout.str()
    assert "timed out after 1s" in result.stdout.str()


def test_a_malformed_page_is_a_collection_error_naming_file_and_line(
    pytester: pytest.Pytester,
) -> None:
    folder = pytester.path / "pages"
    folder.mkdir()
    (folder / "conftest.py").write_text((SAMPLE / "conftest.py").read_text())
    (folder / "bad.md").write_text("# Bad\n\n```sh dojo tiemout=5\ntrue\n```\n")
    result = run(pytester, str(folder))
    assert result.ret != 0
    assert re.search(r"bad\.md:3: unknown option 'tiemout=5'", result.stdout.str())
