"""Without a Docker engine, tests marked docker say so: skipped, or failed under CI=1."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("ci", ["", "1"])
def test_without_an_engine_docker_tests_are_skipped_or_fail_in_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    pytester.makeini("[pytest]\nmarkers =\n    docker: needs a running Docker engine\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.docker
        def test_needs_an_engine():
            raise AssertionError("ran without an engine")

        def test_needs_nothing():
            pass
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/dojo-no-engine.sock")
    monkeypatch.setenv("CI", ci)
    result = pytester.runpytest_subprocess("-rsf", "-p", "no:cacheprovider")
    if ci:
        result.assert_outcomes(passed=1, errors=1)  # at its setup
        result.stdout.fnmatch_lines(["*no Docker engine answers*CI needs one*"])
    else:
        result.assert_outcomes(passed=1, skipped=1)
        result.stdout.fnmatch_lines(["*no Docker engine answers*tests marked docker need one*"])
