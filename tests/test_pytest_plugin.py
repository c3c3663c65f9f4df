"""The pytest plugin's ``--dojo-collect``: pages run without a conftest, never twice with one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dojo_exec.page import parse_page

SAMPLE = Path(__file__).parent / "sample"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def bare_pages(pytester: pytest.Pytester) -> Path:
    """The sample pages in a scratch folder, without their conftest."""
    shutil.copytree(SAMPLE, pytester.path / "sample", ignore=shutil.ignore_patterns("conftest.py"))
    shutil.copytree(FIXTURES, pytester.path / "fixtures")
    return pytester.path / "sample"


@pytest.fixture
def dojo_pages(pytester: pytest.Pytester) -> Path:
    """The dojo's pages (without their conftest) and transcripts in a scratch folder."""
    root = Path(__file__).parent.parent
    shutil.copytree(root / "docs", pytester.path / "docs", ignore=shutil.ignore_patterns("*.py"))
    shutil.copytree(root / "transcripts", pytester.path / "transcripts")
    return pytester.path / "docs"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)


def _counts(folder: Path) -> tuple[int, int]:
    pages = [parse_page(folder / name) for name in ("basics.md", "every-option.md")]
    steps = [step for page in pages for step in page.steps]
    skipped = sum(1 for s in steps if s.options.skip)
    return len(steps) - skipped, skipped


def test_without_a_conftest_pages_are_not_collected_unless_asked(
    pytester: pytest.Pytester, bare_pages: Path
) -> None:
    result = run(pytester, str(bare_pages), "--dojo-driver", "none")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_dojo_collect_runs_pages_that_have_no_conftest(
    pytester: pytest.Pytester, bare_pages: Path
) -> None:
    passed, skipped = _counts(bare_pages)
    result = run(pytester, str(bare_pages), "--dojo-collect", "--dojo-driver", "none")
    result.assert_outcomes(passed=passed, skipped=skipped)
    result.stdout.fnmatch_lines(["pages: 2  steps: 13*"])


def test_dojo_collect_leaves_pages_to_their_conftest(pytester: pytest.Pytester) -> None:
    shutil.copytree(SAMPLE, pytester.path / "sample")
    shutil.copytree(FIXTURES, pytester.path / "fixtures")
    passed, skipped = _counts(pytester.path / "sample")
    # the conftest says driver=none; were the plugin to collect too, it would run each step twice
    result = run(pytester, str(pytester.path / "sample"), "--dojo-collect")
    result.assert_outcomes(passed=passed, skipped=skipped)


def test_a_missing_prerequisite_is_a_collection_error_without_a_traceback(
    pytester: pytest.Pytester,
) -> None:
    page = pytester.path / "lonely.md"
    page.write_text("---\nrequires: [gone.md]\n---\n# Lonely\n\n```sh dojo\ntrue\n```\n")
    result = run(pytester, str(page), "--dojo-collect", "--dojo-driver", "none")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["lonely.md:2: prerequisite 'gone.md' does not exist*"])
    assert "Traceback" not in result.stdout.str()
    assert "PageError" not in result.stdout.str()


def test_a_prerequisite_cycle_names_both_pages(pytester: pytest.Pytester) -> None:
    (pytester.path / "a.md").write_text("---\nrequires: b.md\n---\n```sh dojo\ntrue\n```\n")
    (pytester.path / "b.md").write_text("---\nrequires: a.md\n---\n```sh dojo\ntrue\n```\n")
    result = run(pytester, str(pytester.path / "a.md"), "--dojo-collect", "--dojo-driver", "none")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["b.md:2: prerequisite cycle: a.md → b.md → a.md"])


def test_pages_are_handed_out_longest_recorded_chain_first(
    pytester: pytest.Pytester, dojo_pages: Path
) -> None:
    """With recorded runs, the pages come in chain order, the longest chains first, and
    pytest-xdist's ``loadfile`` keeps that order (it would sort files by their step count)."""
    pytester.makeconftest(
        "def pytest_unconfigure(config):\n"
        "    if not hasattr(config, 'workerinput'):\n"
        "        print('reorder:', config.option.loadscopereorder)\n"
    )
    common = ("docs", "--dojo-collect", "--dojo-driver", "none", "-n", "2", "--dist", "loadfile")
    listed = run(pytester, *common, "--collect-only", "--dojo-transcripts", "transcripts")
    pages = list(dict.fromkeys(line.split("::")[0] for line in listed.outlines if "::" in line))
    from dojo_exec.transcripts import load_transcript

    def recorded(page: str) -> float:
        transcript = load_transcript(pytester.path / "transcripts", Path(page).name)
        assert transcript is not None and transcript.latest is not None, page
        return transcript.latest.duration

    chained = [p for p in pages if p not in ("docs/setup.md", "docs/swarm.md")]
    assert pages[:2] == ["docs/setup.md", "docs/swarm.md"], pages
    assert [recorded(p) for p in chained] == sorted(map(recorded, chained), reverse=True)
    assert "reorder: False" in listed.outlines, listed.outlines
    plain = run(pytester, *common, "--collect-only")  # no recorded runs: xdist's own choice
    assert "reorder: True" in plain.outlines, plain.outlines


REPORT_PLUGINS = (
    "def pytest_unconfigure(config):\n"
    "    if not hasattr(config, 'workerinput'):\n"
    "        print('hypothesis plugin:', config.pluginmanager.has_plugin('hypothesispytest'))\n"
)


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_run_of_pages_alone_drops_the_hypothesis_plugin(
    pytester: pytest.Pytester, bare_pages: Path, workers: str
) -> None:
    """Its summary would import hypothesis (0.5 s) at the end of every verification."""
    pytester.makeconftest(REPORT_PLUGINS)
    common = ("--dojo-collect", "--dojo-driver", "none", "-n", workers, "--dist", "loadfile")
    pages = run(pytester, str(bare_pages / "basics.md"), *common)
    assert "hypothesis plugin: False" in pages.outlines, pages.outlines
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    mixed = run(pytester, str(bare_pages / "basics.md"), "test_plain.py", *common)
    assert "hypothesis plugin: True" in mixed.outlines, mixed.outlines


def test_collecting_pages_imports_no_docker_sdk(
    pytester: pytest.Pytester, dojo_pages: Path
) -> None:
    """Each xdist worker collects every page before any starts: the Docker SDK (0.3 s of CPU
    per process) waits for the first page that makes machines."""
    pytester.makeconftest(
        "import sys\n"
        "def pytest_collection_finish(session):\n"
        "    print('docker imported:', 'docker' in sys.modules)\n"
    )
    listed = run(pytester, "docs", "--dojo-collect", "--collect-only", "--dojo-transcripts",
                 "transcripts")  # fmt: skip
    assert "docker imported: False" in listed.outlines, listed.outlines
