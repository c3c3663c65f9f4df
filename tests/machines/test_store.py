"""Store layout and naming: docker-machine's directories, config.json shape, env variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dojo_exec.machines.driver import HostAlreadyExists, HostDoesNotExist, MachineError
from dojo_exec.machines.store import (
    Machine,
    Store,
    cluster_name,
    natural_key,
    node_suite,
    object_name,
    storage_path,
)


def test_storage_path_default_and_env() -> None:
    assert storage_path({"MACHINE_STORAGE_PATH": "/x/y"}) == Path("/x/y")
    assert storage_path({}) == Path.home() / ".docker" / "machine"


def test_cluster_and_names() -> None:
    assert cluster_name({}) == "default"
    assert cluster_name({"DOJO_CLUSTER": "ci-7"}) == "ci-7"
    with pytest.raises(MachineError):
        cluster_name({"DOJO_CLUSTER": "bad name"})
    default_store = {"MACHINE_STORAGE_PATH": str(Path.home() / ".docker" / "machine")}
    assert cluster_name(default_store) == "default"
    assert object_name("ci-7") == "dojo-ci-7"


def test_each_store_has_its_own_namespace(tmp_path: Path) -> None:
    """Two stores (two projects, two terminals) with a ``manager1`` each: two namespaces."""
    one = cluster_name({"MACHINE_STORAGE_PATH": str(tmp_path / "one")})
    two = cluster_name({"MACHINE_STORAGE_PATH": str(tmp_path / "two")})
    assert len({one, two, "default"}) == 3
    assert cluster_name({"MACHINE_STORAGE_PATH": str(tmp_path / "x" / ".." / "one")}) == one
    assert cluster_name({"MACHINE_STORAGE_PATH": str(tmp_path / "two"), "DOJO_CLUSTER": "c"}) == "c"
    assert object_name(one, "manager1") != object_name(two, "manager1")
    assert object_name("ci-7", "manager1") == "dojo-ci-7-manager1"


def test_node_suite() -> None:
    assert node_suite({}) is None
    assert node_suite({"DOJO_NODE_SUITE": "trixie"}) == "trixie"
    assert node_suite({"DOJO_NODE_SUITE": "sid"}) == "sid"
    with pytest.raises(MachineError, match="bookworm"):
        node_suite({"DOJO_NODE_SUITE": "buster"})


def test_save_load_roundtrip_and_layout(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.reserve("manager1")
    machine = Machine(name="manager1", cluster="c1", ip="10.0.0.2", container="dojo-c1-manager1")
    store.save(machine)
    assert (tmp_path / "machines" / "manager1" / "config.json").is_file()
    assert store.load("manager1") == machine
    config = json.loads(store.config_path("manager1").read_text())
    assert config["ConfigVersion"] == 3
    assert config["DriverName"] == "embedded"
    assert config["Name"] == "manager1"
    assert config["Driver"]["IPAddress"] == "10.0.0.2"
    auth = config["HostOptions"]["AuthOptions"]
    assert auth["CertDir"] == str(tmp_path / "certs")
    assert auth["CaCertPath"] == str(tmp_path / "certs" / "ca.pem")
    assert auth["ServerCertPath"] == str(tmp_path / "machines" / "manager1" / "server.pem")
    assert auth["StorePath"] == str(tmp_path / "machines" / "manager1")
    assert machine.url == "tcp://10.0.0.2:2376"


def test_reserve_twice_and_missing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.reserve("m1")
    with pytest.raises(HostAlreadyExists, match='Host already exists: "m1"'):
        store.reserve("m1")
    with pytest.raises(HostDoesNotExist, match='Host does not exist: "nope"'):
        store.load("nope")


def test_names_in_natural_order(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for name in ("worker10", "worker2", "Manager1", "worker1"):
        store.reserve(name)
    assert store.names() == ["Manager1", "worker1", "worker2", "worker10"]
    assert natural_key("a10") > natural_key("a9")
    store.remove("worker2")
    assert "worker2" not in store.names()
