"""DOJO_OFFLINE and DOJO_HOST_ONLY_ADDRESSES: what they choose (no engine needed)."""

from __future__ import annotations

import pytest

from dojo_exec.machines.offline import host_only_address, use_stand_ins


def test_host_only_addresses_follow_creation_order() -> None:
    assert host_only_address("10.213.4.2", {}) == "192.168.99.100"
    assert host_only_address("10.213.4.3", {}) == "192.168.99.101"
    assert host_only_address("10.213.4.156", {}) == "192.168.99.254"
    assert host_only_address("10.213.4.157", {}) is None  # .255 would be the broadcast
    assert host_only_address("10.213.4.2", {"DOJO_HOST_ONLY_ADDRESSES": "0"}) is None


def test_offline_can_be_forced_either_way() -> None:
    never_asked = object()  # a forced setting does not probe the engine
    assert use_stand_ins(never_asked, {"DOJO_OFFLINE": "1"}) is True  # type: ignore[arg-type]
    assert use_stand_ins(never_asked, {"DOJO_OFFLINE": "0"}) is False  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="DOJO_OFFLINE"):
        use_stand_ins(never_asked, {"DOJO_OFFLINE": "maybe"})  # type: ignore[arg-type]
