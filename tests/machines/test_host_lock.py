"""Named host-wide locks: one holder at a time, even while their files are being discarded."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dojo_exec.machines import host_lock
from dojo_exec.machines.host_lock import lock_file, named_lock


def test_a_lock_whose_file_is_discarded_is_never_held_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Holders that discard the file (a removed cluster) while others wait on it: a waiter
    that wakes on the removed file must not hold the lock alongside one that made a new file."""
    monkeypatch.setattr(host_lock, "LOCK_DIR", tmp_path / "locks")
    counter = threading.Lock()
    holding: list[int] = []
    most = 0

    def hold(discards: bool) -> None:
        nonlocal most
        with named_lock("cluster-race") as discard:
            with counter:
                holding.append(1)
                most = max(most, len(holding))
            time.sleep(0.005)
            if discards:
                discard()
            with counter:
                holding.pop()

    threads = [threading.Thread(target=hold, args=(i % 2 == 0,)) for i in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert most == 1


def test_the_lock_file_is_in_a_fixed_place_whatever_tmpdir_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes with different ``$TMPDIR`` must agree on the lock (they did not)."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert not lock_file("node-image").is_relative_to(tmp_path)
    assert lock_file("node-image").parent == host_lock.LOCK_DIR
