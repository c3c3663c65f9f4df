"""Fixtures: the sample site copied to a temporary folder and built with MkDocs' own API."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_site import build_site, make_site


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site built once per session (recorded mode, warnings allowed)."""
    root = tmp_path_factory.mktemp("sample")
    config = make_site(root)
    return build_site(config, root / "site")


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A fresh copy of the sample site (its mkdocs.yml) to modify in one test."""
    return make_site(tmp_path / "src")
