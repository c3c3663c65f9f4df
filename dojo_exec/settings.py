"""Project settings the page parser reads: the prompts a project adds to console blocks.

They are found next to the pages, so that pytest, the CLI and the site read a page alike:
the nearest ``pyproject.toml`` with a ``[tool.dojo-exec]`` table (``prompts = ["# "]``) and
the nearest ``mkdocs.yml`` whose ``dojo_exec`` plugin has a ``prompts`` option, looking up
from the page's folder.  A page adds its own in its front matter (``prompts:``).
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = None

MKDOCS_FILES = ("mkdocs.yml", "mkdocs.yaml")


class _AnyTagLoader(yaml.SafeLoader):
    """Reads ``mkdocs.yml`` whatever its ``!!python/name:`` or ``!ENV`` tags (values unused)."""


_AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def project_prompts(page: Path) -> tuple[str, ...]:
    """The prompts the project around ``page`` adds (pyproject first, then mkdocs.yml)."""
    return _prompts_from(page.resolve().parent)


@lru_cache(maxsize=128)
def _prompts_from(folder: Path) -> tuple[str, ...]:
    found: list[str] = []
    pyproject = _nearest(folder, ("pyproject.toml",))
    if pyproject is not None and tomllib is not None:
        try:
            table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            table = {}
        found += _strings(table.get("tool", {}).get("dojo-exec", {}).get("prompts"))
    mkdocs = _nearest(folder, MKDOCS_FILES)
    if mkdocs is not None:
        found += _strings(_mkdocs_option(mkdocs, "prompts"))
    return tuple(dict.fromkeys(found))


def _nearest(folder: Path, names: tuple[str, ...]) -> Path | None:
    for candidate in (folder, *folder.parents):
        for name in names:
            if (candidate / name).is_file():
                return candidate / name
    return None


def _mkdocs_option(path: Path, option: str) -> Any:
    try:
        config = yaml.load(path.read_text(encoding="utf-8"), Loader=_AnyTagLoader)
    except (OSError, yaml.YAMLError):
        return None
    plugins = config.get("plugins", []) if isinstance(config, dict) else []
    items = plugins.items() if isinstance(plugins, dict) else enumerate(plugins)
    for _, plugin in items:
        if isinstance(plugin, dict) and isinstance(plugin.get("dojo_exec"), dict):
            return plugin["dojo_exec"].get(option)
    if isinstance(plugins, dict) and isinstance(plugins.get("dojo_exec"), dict):
        return plugins["dojo_exec"].get(option)
    return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
