"""The repository link and edit buttons: shown when the build names the repository, never broken."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config

ROOT = Path(__file__).parents[2]
REPO = "https://git.example.test/dojo/swarm-mode-dojo"


def build_dojo_site(tmp_path: Path) -> Path:
    """The project's own site (its mkdocs.yml, pages and transcripts) built in ``tmp_path``."""
    for name in ("docs", "transcripts", "slides"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    site = tmp_path / "site"
    build(load_config(config_file=str(tmp_path / "mkdocs.yml"), site_dir=str(site)))
    return site


def edit_links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]*)" title="Edit this page"', html)


def test_without_a_repository_no_edit_button_or_repository_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOJO_REPO_URL", raising=False)
    monkeypatch.delenv("DOJO_EDIT_URL", raising=False)
    html = (build_dojo_site(tmp_path) / "swarm.html").read_text()
    assert edit_links(html) == []  # a relative "edit/main/…" would be a broken link
    assert 'data-md-component="source"' not in html


def test_a_named_repository_gives_each_page_its_own_edit_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOJO_REPO_URL", REPO)
    monkeypatch.setenv("DOJO_EDIT_URL", f"{REPO}/edit/main/docs/")
    site = build_dojo_site(tmp_path)
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    for page in pages:
        html = (site / page.replace(".md", ".html")).read_text()
        assert edit_links(html) == [f"{REPO}/edit/main/docs/{page}"], page
        assert f'href="{REPO}"' in html, page
