"""Project settings the page parser reads: the prompts a project adds to console blocks,
and the values it gives placeholders that commands write (``<MANAGER-IP>``).

They are found next to the pages, so that pytest, the CLI and the site read a page alike:
the nearest ``pyproject.toml`` with a ``[tool.dojo-exec]`` table (``prompts = ["# "]``) and
the nearest ``mkdocs.yml`` whose ``dojo_exec`` plugin has a ``prompts`` option, looking up
from the page's folder.  A page adds its own in its front matter (``prompts:``).

``values`` (same places, and a page's front matter ``values:``; the MkDocs plugin's option
must also be declared in :mod:`dojo_exec.mkdocs.config`) maps placeholder text to
what a command runs with instead: ``{"<MANAGER-IP>": "192.168.99.100"}`` or a shell
expression, ``{"<MANAGER-IP>": "$(docker-machine ip manager1)"}``
(:mod:`dojo_exec.substitution`).
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from dojo_exec.locations import PageError

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
    if pyproject is not None:
        found += _prompt_list(pyproject, _pyproject_option(folder, "prompts"))
    mkdocs = _nearest(folder, MKDOCS_FILES)
    if mkdocs is not None:
        found += _prompt_list(mkdocs, _mkdocs_option(mkdocs, "prompts"))
    return tuple(dict.fromkeys(found))


def _prompt_list(source: Path, value: Any) -> list[str]:
    """The ``prompts`` setting of ``source``; a ``PageError`` at its line when malformed."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise PageError(source, _line_of(source, "prompts"), "'prompts' must be a prompt or a list")


def _line_of(source: Path, option: str) -> int:
    """The line of ``source`` that sets ``option`` (1 if none is found)."""
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return 1
    pattern = re.compile(rf"^\s*[\"']?{re.escape(option)}[\"']?\s*[=:]")
    return next((n for n, line in enumerate(lines, start=1) if pattern.match(line)), 1)


def _pyproject_option(folder: Path, option: str) -> Any:
    """``[tool.dojo-exec]`` ``option`` of the nearest ``pyproject.toml``, or None.

    A ``pyproject.toml`` that is not TOML is a ``PageError`` at its line: the settings it may
    hold would otherwise be silently ignored.
    """
    pyproject = _nearest(folder, ("pyproject.toml",))
    if pyproject is None or tomllib is None:
        return None
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except OSError:
        return None
    except ValueError as error:  # TOMLDecodeError, UnicodeDecodeError
        at = re.search(r"at line (\d+)", str(error))
        what = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error).splitlines()[0])
        raise PageError(pyproject, int(at[1]) if at else 1, f"malformed TOML: {what}") from None
    tools = table.get("tool")
    tool = tools.get("dojo-exec") if isinstance(tools, dict) else None
    return tool.get(option) if isinstance(tool, dict) else None


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
    if not isinstance(plugins, (dict, list)):
        return None  # MkDocs says what is wrong with it
    items = plugins.items() if isinstance(plugins, dict) else enumerate(plugins)
    for _, plugin in items:
        if isinstance(plugin, dict) and isinstance(plugin.get("dojo_exec"), dict):
            return plugin["dojo_exec"].get(option)
    if isinstance(plugins, dict) and isinstance(plugins.get("dojo_exec"), dict):
        return plugins["dojo_exec"].get(option)
    return None


def values_setting(value: Any) -> dict[str, str]:
    """A ``values`` setting as a dict; ``ValueError`` saying why when it is not one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(
            '\'values\' must map placeholders to values, e.g. {"<MANAGER-IP>": "192.168.99.100"}'
        )
    found: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"'values': a placeholder must be non-empty text (got {key!r})")
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise ValueError(f"'values': {key!r} must be text or a number (got {item!r})")
        found[key] = str(item)
    return found


def project_values(page: Path) -> dict[str, str]:
    """The placeholder values the project around ``page`` sets (mkdocs.yml, then pyproject)."""
    return dict(_values_from(page.resolve().parent))


@lru_cache(maxsize=128)
def _values_from(folder: Path) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    mkdocs = _nearest(folder, MKDOCS_FILES)
    if mkdocs is not None:
        found.update(_valid_values(mkdocs, _mkdocs_option(mkdocs, "values")))
    pyproject = _nearest(folder, ("pyproject.toml",))
    if pyproject is not None:
        found.update(_valid_values(pyproject, _pyproject_option(folder, "values")))
    return tuple(found.items())


def _valid_values(source: Path, value: Any) -> dict[str, str]:
    """The ``values`` setting of ``source``; a ``PageError`` at its line when malformed."""
    try:
        return values_setting(value)
    except ValueError as error:
        raise PageError(source, _line_of(source, "values"), str(error)) from None
