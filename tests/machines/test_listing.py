"""``docker-machine ls``/``active`` on a real engine: the same rows and output through the
embedded reader (one docker CLI call for the states, versions over TLS with the standard
library) as through the driver, which asks both with the Docker SDK."""

from __future__ import annotations

import pytest

from dojo_exec.machines import cli, providers
from dojo_exec.machines.dind import DindDriver
from dojo_exec.machines.driver import Reader
from dojo_exec.machines.formats import LsItem
from dojo_exec.machines.listing import list_items
from dojo_exec.machines.store import Machine, Store

pytestmark = pytest.mark.docker

COMMANDS = (
    ["ls"],
    ["ls", "-q"],
    ["ls", "--filter", "state=Stopped"],
    ["ls", "--filter", "state=Running", "--format", "{{.Name}}: {{.DockerVersion}} {{.Error}}"],
    ["ls", "--format", "table {{.Name}}\t{{.Active}}\t{{.URL}}\t{{.Swarm}}\t{{.Error}}"],
    ["ls", "--format", "{{json .Name}} {{.ActiveHost}} {{.State}}"],
    ["active"],
)


def _rows(store: Store, need_versions: bool) -> list[LsItem]:
    items = list_items(store, need_versions=need_versions)
    for item in items:
        item.ResponseTime = ""  # a duration
    return items


def _outputs(capsys: pytest.CaptureFixture[str]) -> list[tuple[int, str, str]]:
    found = []
    for command in COMMANDS:
        status = cli.main(command)
        captured = capsys.readouterr()
        found.append((status, captured.out, captured.err))
    return found


def test_ls_is_the_same_without_the_docker_sdk(
    driver: DindDriver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A running (active), a stopped, a gone and a machine being created: the same ``ls``."""
    driver.create("m1")
    driver.create("m2")
    driver.stop("m2")
    gone = Machine(name="gone", cluster=driver.cluster, ip="10.0.0.2", container="dojo-gone-m1")
    for record in (gone, Machine(name="new", cluster=driver.cluster)):
        driver.store.reserve(record.name)
        driver.store.save(record)
    monkeypatch.setenv("MACHINE_STORAGE_PATH", str(driver.store.root))
    monkeypatch.setenv("DOJO_CLUSTER", driver.cluster)
    monkeypatch.delenv("DOJO_MACHINE_DRIVER", raising=False)
    monkeypatch.setenv("DOCKER_HOST", driver.url("m1"))  # as after `docker-machine env m1`
    monkeypatch.setenv("DOCKER_MACHINE_NAME", "m1")
    assert isinstance(providers.reader(providers.EMBEDDED, driver.store), Reader)
    reader_rows = [_rows(driver.store, need) for need in (True, False)]
    reader_outputs = _outputs(capsys)

    monkeypatch.setattr(providers, "reader", lambda provider, store=None: driver)
    assert [_rows(driver.store, need) for need in (True, False)] == reader_rows
    assert _outputs(capsys) == reader_outputs
    assert reader_outputs[-1] == (0, "m1\n", "")
    assert f"m1: v{driver.engine_version('m1')} \n" in reader_outputs[3][1]
