"""Host-wide locks: one place every process on this host agrees on, whatever its settings.

The shared service containers (the registry mirror, ``dojo-mirror``, and any other container that
serves the machines of every cluster) are started by the first ``create`` and removed once no
machine of any run is left. Both sides hold :data:`SHARED_SERVICES_LOCK`:

* ``create`` holds it *shared* from "ensure the services" until its node container exists, so
  several clusters create machines at once;
* removal holds it *exclusive* from "count the nodes" to "remove the services", so it never
  removes a service that a machine being created is about to use.

The path is fixed (``/tmp/dojo-exec-shared-services.lock``): it does not depend on
``$MACHINE_STORAGE_PATH``, ``$TMPDIR``, ``$XDG_RUNTIME_DIR`` or the user, which two processes
sharing one engine may set differently. The file is made readable by everyone and opened
read-only (``flock`` needs no write access), so two users of the same engine share it too.
Processes on *other* hosts using the same (remote) engine are not covered.

:func:`named_lock` gives the other host-wide locks (a cluster's, the node image's, the
mirror's) the same fixed place, :data:`LOCK_DIR`; a cluster's lock file goes with the cluster
(:func:`named_lock`'s ``discard``), instead of one file per cluster ever made piling up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

SHARED_SERVICES_LOCK = Path("/tmp/dojo-exec-shared-services.lock")
LOCK_DIR = Path(f"/tmp/dojo-exec-locks-{os.getuid()}")
"""Named locks: fixed, like :data:`SHARED_SERVICES_LOCK` (not ``$TMPDIR``, which may differ)."""


def _open(path: Path) -> int:
    """A read-only descriptor of ``path``, created (mode 0644 whatever the umask) if missing.

    An existing file is opened without ``O_CREAT``: with ``fs.protected_regular`` set, creating
    (even "if missing") a file another user owns in sticky ``/tmp`` is refused.
    """
    while True:
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            pass
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            continue  # another process created it in between: open it
        os.fchmod(fd, 0o644)
        return fd


@contextlib.contextmanager
def host_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    """``flock`` ``path`` (shared or exclusive) for the block; released if the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def shared_services_in_use() -> contextlib.AbstractContextManager[None]:
    """Held by ``create`` from ensuring the shared services until its node container exists."""
    return host_lock(SHARED_SERVICES_LOCK, shared=True)


def shared_services_exclusive() -> contextlib.AbstractContextManager[None]:
    """Held by removal from counting the nodes until the shared services are removed."""
    return host_lock(SHARED_SERVICES_LOCK, shared=False)


def lock_file(name: str) -> Path:
    """The file of the named lock ``name`` (see :func:`named_lock`)."""
    return LOCK_DIR / f"{name}.lock"


@contextlib.contextmanager
def named_lock(name: str) -> Iterator[Callable[[], None]]:
    """Hold the exclusive host-wide lock ``name``; yields ``discard``, which removes its file.

    ``discard`` is for a lock whose subject is gone (a removed cluster). A process that was
    waiting on the removed file notices, once it holds it, that the path no longer names the
    file it locked, and locks the path again: two holders never think they hold it at once.
    """
    path = lock_file(name)
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)  # discarded while we waited: lock the file now at the path

    def discard() -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    try:
        yield discard
    finally:
        os.close(fd)
