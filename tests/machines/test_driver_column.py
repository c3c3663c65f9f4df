"""``docker-machine ls``'s DRIVER column: the provider shown depends on where a page runs."""

from __future__ import annotations

from dojo_exec.match import match
from dojo_exec.matching import MatchOptions

HEAD = "URL                     SWARM   DOCKER            ERRORS\n"
PROMISED = (
    "NAME       ACTIVE   DRIVER     STATE     "
    + HEAD
    + """\
manager1   -        embedded   Running   tcp://10.213.0.2:2376           v20.10.24+dfsg1
worker1    -        embedded   Running   tcp://10.213.0.3:2376           v20.10.24+dfsg1
"""
)
ON_QEMU = (
    "NAME       ACTIVE   DRIVER   STATE     "
    + HEAD
    + """\
manager1   -        qemu     Running   tcp://127.18.3.2:2376           v20.10.24+dfsg1
worker1    -        qemu     Running   tcp://127.18.3.3:2376           v20.10.24+dfsg1
"""
)
VERSIONS = MatchOptions(versions=True)


def test_a_promised_machine_driver_accepts_the_one_the_run_used() -> None:
    assert match(PROMISED, ON_QEMU, VERSIONS).ok
    virtualbox = PROMISED.replace("DRIVER     ", "DRIVER       ")
    virtualbox = virtualbox.replace("embedded   ", "virtualbox   ")
    assert match(virtualbox, ON_QEMU, VERSIONS).ok


def test_what_is_no_machine_driver_stays_literal() -> None:
    result = match(PROMISED, ON_QEMU.replace("qemu    ", "bridge  ", 1), VERSIONS)
    assert not result.ok
    assert "column DRIVER: promised 'embedded', captured 'bridge'" in result.explanation


def test_a_network_tables_driver_column_stays_literal() -> None:
    head = "NETWORK ID     NAME      DRIVER    SCOPE\n"
    promised = head + "1c2b3a4d5e6f   ingress   overlay   swarm\n"
    captured = head + "1c2b3a4d5e6f   ingress   bridge    swarm\n"
    assert not match(promised, captured).ok


def test_machines_at_one_address_do_not_match_machines_at_several() -> None:
    """Why each qemu machine has a loopback address of its own: one for all breaks bindings."""
    shared = ON_QEMU.replace("127.18.3.3:2376", "127.18.3.2:2376")
    assert not match(PROMISED, shared, VERSIONS).ok
