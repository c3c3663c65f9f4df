"""The bench's floor model (``benchmarks/bench_verify.py``): what the pages' own commands impose."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).parent.parent / "benchmarks" / "bench_verify.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_verify", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("delay", "completed"), [(0, 5.0), (4, 9.0), (10, 21.0), (20, 41.0)])
def test_one_task_s_update_completes_as_measured_after_the_task_ran(
    bench: ModuleType, delay: int, completed: float
) -> None:
    """Measured on Docker 20.10.24 and 26.1.5: one task with ``--update-delay`` 0/4/10/20 s
    is "completed" 5/9/21/41 s after its replacement ran (then the task's late stop)."""
    model = bench.FloorModel()
    model.command_floor(f"docker service create --update-delay {delay}s --name web redis:3.0.6")
    updated = model.command_floor("docker service update --detach --image redis:3.0.7 web")
    assert updated == completed + bench.STOP_RETRY


@pytest.mark.parametrize(
    ("replicas", "parallelism", "delay"), [(3, 1, 10), (6, 2, 4), (1, 1, 0), (1, 1, 20)]
)
def test_a_rolling_update_waits_its_delay_after_every_batch_then_monitors(
    bench: ModuleType, replicas: int, parallelism: int, delay: int
) -> None:
    model = bench.FloorModel()
    created = model.command_floor(
        f"docker service create --replicas {replicas} --update-parallelism {parallelism} "
        f"--update-delay {delay}s --name web redis:3.0.6"
    )
    assert created == bench.STABILITY  # the CLI watches the new service converge
    one = bench.FloorModel()
    one.command_floor(f"docker service create --update-delay {delay}s --name one redis:3.0.6")
    single = one.command_floor("docker service update --detach --image redis:3.0.7 one")
    batches = -(-replicas // parallelism)
    # every batch but the last adds its delay and its late stop to what one task's takes
    updated = model.command_floor("docker service update --detach --image redis:3.0.7 web")
    assert updated == single + (batches - 1) * (delay + bench.STOP_RETRY)


def test_a_longer_update_monitor_is_waited_after_the_last_batch(bench: ModuleType) -> None:
    model = bench.FloorModel()
    model.command_floor(
        "docker service create --update-delay 4s --update-monitor 30s --name web redis:3.0.6"
    )
    updated = model.command_floor("docker service update --detach --image redis:3.0.7 web")
    assert updated == 4 + 30 + bench.STOP_RETRY


def test_a_rollback_counts_no_stop_retry(bench: ModuleType) -> None:
    """What a rollback replaces may never have run (the failed update's task)."""
    model = bench.FloorModel()
    model.command_floor("docker service create --replicas 3 --update-delay 10s --name r redis")
    assert model.command_floor("docker service rollback r") == bench.STABILITY


def test_an_update_to_an_image_that_does_not_exist_imposes_nothing(bench: ModuleType) -> None:
    model = bench.FloorModel()
    model.command_floor("docker service create --replicas 3 --update-delay 10s --name r redis")
    assert model.command_floor("docker service update --image redis:3.0.8 r") == 0.0


def test_a_page_s_chain_floor_adds_its_longest_prerequisite_chain(bench: ModuleType) -> None:
    from dojo_exec.page import parse_page

    docs = Path(__file__).parent.parent / "docs"
    pages = {path.name: parse_page(path) for path in sorted(docs.glob("*.md"))}
    floors = {name: bench.page_floor(page) for name, page in pages.items()}
    assert any(floors.values())  # the dojo's pages do impose waits
    for name, page in pages.items():
        before = [bench.chain_floor(p.name, pages, floors) for p in page.requires]
        assert bench.chain_floor(name, pages, floors) == floors[name] + max(before, default=0.0)


def test_a_promised_no_leader_answer_waits_the_election_and_request_timeouts(
    bench: ModuleType, tmp_path: Path
) -> None:
    """The managers page stops one of two managers and promises swarm's no-leader error."""
    from dojo_exec.page import parse_page

    managers = parse_page(Path(__file__).parent.parent / "docs" / "managers.md")
    wait = bench.ELECTION_TIMEOUT + bench.REQUEST_TIMEOUT
    assert bench.page_floor(managers) == wait  # its other steps impose nothing
    page = tmp_path / "quorum.md"
    page.write_text(
        "```console dojo\n$ docker node ls\nError response from daemon: rpc error: code = Unknown "
        "desc = The swarm does not have a leader. It's possible that too few managers are "
        "online.\n$ docker node ls\nID   HOSTNAME\n```\n"
    )
    assert bench.page_floor(parse_page(page)) == wait  # a console session's promise too
    page.write_text("```console dojo\n$ docker node ls\nID   HOSTNAME\n```\n")
    assert bench.page_floor(parse_page(page)) == 0.0
