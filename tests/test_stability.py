"""Update writes only what a second run keeps: unstable outputs are elided, and said so."""

from __future__ import annotations

from pathlib import Path

from dojo_exec.matching import MatchOptions, match
from dojo_exec.runner import run_pages
from dojo_exec.stability import settle
from dojo_exec.update import PendingUpdates

OUTPUTS = Path(__file__).parent / "fixtures" / "outputs"


def output(run: str, name: str) -> str:
    lines = (OUTPUTS / run / name).read_text().splitlines()
    return "\n".join(lines[1:-1]) + "\n"


def test_a_task_on_another_node_is_elided_in_its_cell_and_a_check_proposed() -> None:
    first = output("engine-20.10-cli-28.2", "09-service-ps.txt")
    second = first.replace("worker2", "manager1")  # the scheduler chose another node
    assert not match(first, second).ok
    settled = settle(first, first, second, MatchOptions())
    assert settled.promise is not None
    assert match(settled.promise, first).ok and match(settled.promise, second).ok
    assert "worker2" not in settled.promise and "helloworld.1" in settled.promise
    assert "NODE" in settled.proposal
    assert settled.varied and "worker2" in settled.varied[0][0]


def test_a_different_number_of_lines_becomes_one_elision_line() -> None:
    first = "overall progress: 1 out of 1 tasks\nverify: Service converged\n"
    second = "overall progress: 0 out of 1 tasks\n" + first
    settled = settle(first, first, second, MatchOptions())
    assert settled.promise is not None and settled.promise.startswith("...\n")
    assert match(settled.promise, second).ok


def test_the_same_output_twice_needs_no_settling() -> None:
    real = output("engine-20.10-cli-28.2", "06-node-ls.txt")
    rerun = output("rerun-20.10-cli-28.2", "06-node-ls.txt")
    assert match(real, rerun).ok  # only volatile values differ: nothing to elide


def test_update_converges_on_a_step_whose_output_varies_between_runs(tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    page = tmp_path / "varies.md"
    command = f"n=$(cat {counter} 2>/dev/null || echo 0); echo $((n + 1)) > {counter}; echo run $n"
    page.write_text(f"# Varies\n\n```sh dojo\n{command}\n# Result ==>\nrun zero\n```\n")
    updates = PendingUpdates()
    run_pages([page], None, driver="none", docs_root=tmp_path, updates=updates)
    updates.write()
    assert "run ..." in page.read_text()  # "run 0" then "run 1": the number varies
    assert any("unstable" in line and "varies.md:3" in line for line in updates.unstable)
    (record,) = run_pages([page], None, driver="none", docs_root=tmp_path)
    assert [step.verdict for step in record.steps] == ["passed"]  # verify right after passes
