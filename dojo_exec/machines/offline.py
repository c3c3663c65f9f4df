"""When the embedded machines use the offline stand-ins, and their VirtualBox-like addresses.

``DOJO_OFFLINE=1`` always uses the stand-ins (registry mirror of stand-in images, an "internet"
stand-in answering every name), ``DOJO_OFFLINE=0`` never; unset (or ``auto``) uses them unless
Docker Hub answers the engine (one bounded probe, cached per engine: :func:`registry_reachable`).

``DOJO_HOST_ONLY_ADDRESSES=0`` turns off the addresses docker-machine's VirtualBox driver would
give (the first machine of a cluster ``192.168.99.100``, the next ``.101`` …); they are on by
default, offline or not, since tutorials hard-code them (``--advertise-addr 192.168.99.100``).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

import docker

from .hub import registry_reachable

ENV_OFFLINE = "DOJO_OFFLINE"
ENV_HOST_ONLY = "DOJO_HOST_ONLY_ADDRESSES"
HOST_ONLY_FIRST = ipaddress.ip_address("192.168.99.100")
"""VirtualBox's host-only DHCP server gives the first machine this address, the next ones +1."""
FIRST_MACHINE_HOST = 2
"""Host number of a cluster's first machine on its network (the driver hands out .2 upwards)."""
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _setting(name: str, environ: Mapping[str, str] | None) -> str:
    value = (os.environ if environ is None else environ).get(name, "").strip().lower()
    if value and value not in (*_TRUE, *_FALSE, "auto"):
        raise ValueError(f"{name}={value!r}: use 1, 0 or auto")
    return value


def use_stand_ins(client: docker.DockerClient, environ: Mapping[str, str] | None = None) -> bool:
    """True when the machines should get the mirror and the internet stand-in (see module doc)."""
    value = _setting(ENV_OFFLINE, environ)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return not registry_reachable(client)


def host_only_address(ip: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The VirtualBox-like address of the machine at ``ip`` on its cluster network, or None.

    The driver gives a cluster's machines ``.2``, ``.3`` … in creation order (the lowest free),
    so ``.2`` gets ``192.168.99.100``, ``.3`` ``192.168.99.101``: unique within the cluster, and
    each cluster has its own network, so parallel clusters do not collide.
    """
    if _setting(ENV_HOST_ONLY, environ) in _FALSE:
        return None
    host = int(ipaddress.ip_address(ip)) & 0xFF
    address = HOST_ONLY_FIRST + (host - FIRST_MACHINE_HOST)
    if host < FIRST_MACHINE_HOST or int(address) & 0xFF >= 255:
        return None
    return str(address)
