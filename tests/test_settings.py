"""Prompts a project adds, read from pyproject.toml and mkdocs.yml next to the pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from dojo_exec.page import PageError, parse_page

FENCE = "```"
BODY = f"{FENCE}console dojo\nroot@node:/# hostname\nnode\n$ echo hi\nhi\n{FENCE}\n"


def _page(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    page = root / "docs" / "p.md"
    page.write_text(BODY)
    return page


def test_pyproject_adds_a_prompt(tmp_path: Path) -> None:
    without = _page(tmp_path / "without")
    with pytest.raises(PageError, match="comes before any prompt"):
        parse_page(without)
    page = _page(tmp_path / "with")
    (tmp_path / "with" / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.dojo-exec]\nprompts = ["root@{machine}:{path}# "]\n'
    )
    commands = parse_page(page).steps[0].commands
    assert [(c.machine, c.text) for c in commands] == [("node", "hostname"), (None, "echo hi")]


def test_mkdocs_plugin_option_adds_a_prompt_whatever_its_tags(tmp_path: Path) -> None:
    page = _page(tmp_path)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: x\n"
        "markdown_extensions:\n"
        "  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "plugins:\n"
        "  - search\n"
        "  - dojo_exec:\n"
        '      prompts: ["root@{machine}:{path}# "]\n'
    )
    commands = parse_page(page).steps[0].commands
    assert [c.machine for c in commands] == ["node", None]
