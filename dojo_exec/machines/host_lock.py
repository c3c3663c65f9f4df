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
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

SHARED_SERVICES_LOCK = Path("/tmp/dojo-exec-shared-services.lock")


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
