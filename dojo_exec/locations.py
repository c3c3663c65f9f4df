"""Where a page's input is wrong: the ``file:line: what is wrong`` error every module raises."""

from __future__ import annotations

from pathlib import Path


def display_path(path: Path) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class PageError(Exception):
    """Malformed page input, located at ``file:line``."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        super().__init__(f"{display_path(self.path)}:{line}: {message}")
