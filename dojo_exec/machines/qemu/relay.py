"""One guest connection to the registry mirror, relayed to wherever the mirror listens now.

QEMU runs this once per connection a VM opens to ``10.0.2.100:5000`` (``guestfwd=…-cmd:``),
with the connection as stdin/stdout.  The mirror is shared by every run and is removed and
started again between them, on a new host port each time: a port written into a VM at create
would go stale, this looks it up at each connection (starting the mirror if it is gone).
"""

from __future__ import annotations

import os
import selectors
import socket
import sys

GUEST_ADDRESS = "10.0.2.100"
GUEST_PORT = 5000
CHUNK = 65536


def _mirror_port() -> int:
    from dojo_exec.machines import certs
    from dojo_exec.machines.dind import engine_client, lock_path
    from dojo_exec.machines.mirror import ensure_mirror_port

    with certs.file_lock(lock_path("mirror")):
        return ensure_mirror_port(engine_client(), log=lambda _: None)


def relay(inbound: int, outbound: int, upstream: socket.socket) -> None:
    """Copy ``inbound`` to ``upstream`` and ``upstream`` to ``outbound`` until both ends close."""
    selector = selectors.DefaultSelector()
    selector.register(inbound, selectors.EVENT_READ, "guest")
    selector.register(upstream, selectors.EVENT_READ, "mirror")
    open_ends = 2
    while open_ends:
        for key, _ in selector.select():
            if key.data == "guest":
                data = os.read(inbound, CHUNK)
                if not data:
                    selector.unregister(inbound)
                    upstream.shutdown(socket.SHUT_WR)
                    open_ends -= 1
                    continue
                upstream.sendall(data)
            else:
                data = upstream.recv(CHUNK)
                if not data:
                    selector.unregister(upstream)
                    open_ends -= 1
                    continue
                while data:
                    data = data[os.write(outbound, data) :]


def main() -> int:
    try:
        upstream = socket.create_connection(("127.0.0.1", _mirror_port()), timeout=30)
    except Exception as error:  # the guest sees its connection closed; QEMU logs this line
        print(f"dojo mirror relay: {error}", file=sys.stderr)
        return 1
    upstream.settimeout(None)
    with upstream:
        relay(sys.stdin.fileno(), sys.stdout.fileno(), upstream)
    return 0


if __name__ == "__main__":
    sys.exit(main())
