"""Splices and atomic writes, the one way every module changes a text or a file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dojo_exec.writing import splice, write_atomically


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_splices_are_made_bottom_up_on_the_original_offsets() -> None:
    assert splice("aaa bbb ccc", [(0, 3, "A"), (8, 11, "CCCC"), (4, 7, "")]) == "A  CCCC"
    assert splice("ab", [(1, 1, "-"), (2, 2, "!")]) == "a-b!"
    with pytest.raises(ValueError, match="overlapping edits at offset 0 \\(line 1\\)"):
        splice("aaa bbb", [(0, 5, "x"), (3, 7, "y")])


def test_a_rewritten_file_keeps_its_mode_and_a_new_one_gets_the_umask_default(
    tmp_path: Path,
) -> None:
    page = tmp_path / "page.md"
    page.write_text("old\n")
    page.chmod(0o640)
    write_atomically(page, "new\r\nline\n")
    assert page.read_bytes() == b"new\r\nline\n"  # newlines untranslated
    assert mode_of(page) == 0o640
    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "deeper" / "fresh.json"
    write_atomically(fresh, "{}\n")
    assert (fresh.read_text(), mode_of(fresh)) == ("{}\n", 0o666 & ~umask)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deeper", "page.md"]  # no temporary


def test_a_given_mode_is_the_file_s_from_its_first_byte(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    seen: list[int] = []
    real_fdopen = os.fdopen

    def watching(descriptor: int, *args: object, **kwargs: object) -> object:
        seen.append(stat.S_IMODE(os.fstat(descriptor).st_mode))
        return real_fdopen(descriptor, *args, **kwargs)  # type: ignore[call-overload]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fdopen", watching)
        write_atomically(key, b"secret", mode=0o600)
    assert seen and seen[0] & 0o077 == 0
    assert (key.read_bytes(), mode_of(key)) == (b"secret", 0o600)
    write_atomically(tmp_path / "run", "#!/bin/sh\n", mode=0o755)
    assert mode_of(tmp_path / "run") == 0o755


def test_no_module_writes_a_file_its_own_atomic_way() -> None:
    """Temporary files and renames are writing.py's: the decision is in one place."""
    import dojo_exec

    package = Path(dojo_exec.__file__).parent
    own_ways = ("os.replace(", "os.rename(", "mkstemp(", "NamedTemporaryFile(", '.tmp"')
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        if path.name != "writing.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if any(way in line for way in own_ways)
    ]
    assert offenders == []
