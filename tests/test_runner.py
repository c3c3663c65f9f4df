"""The runner's provenance on a real embedded machine: versions come from the machines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dojo_exec.runner import run_pages

pytestmark = pytest.mark.docker

PAGE = """# One machine, never pointed at

```sh dojo
docker-machine create --driver virtualbox lone1 > /dev/null 2>&1
docker-machine ls -q
# Result ==>
lone1
```
"""


def test_a_page_that_never_points_its_client_records_the_machines_engine(tmp_path: Path) -> None:
    page = tmp_path / "lone.md"
    page.write_text(PAGE)
    (record,) = run_pages([page], tmp_path / "transcripts", docs_root=tmp_path)
    assert [step.verdict for step in record.steps] == ["passed"]
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", record.docker_engine), record.docker_engine
    assert record.driver.startswith("embedded")
    assert (tmp_path / "transcripts" / "lone.md.json").is_file()


def test_with_no_machine_the_engine_is_unknown_not_the_hosts(tmp_path: Path) -> None:
    page = tmp_path / "plain.md"
    page.write_text("# Plain\n\n```sh dojo\necho hi\n# Result ==>\nhi\n```\n")
    (record,) = run_pages([page], None, docs_root=tmp_path)
    assert record.docker_engine == "unknown"


def test_a_failure_before_eval_env_shows_the_machines_not_a_socket_error(tmp_path: Path) -> None:
    page = tmp_path / "early.md"
    page.write_text(PAGE + "\n```sh dojo\ndocker node ls\n# Result ==>\nID HOSTNAME STATUS\n```\n")
    (record,) = run_pages([page], None, docs_root=tmp_path)
    assert [step.verdict for step in record.steps] == ["passed", "failed"]
    report = record.steps[1].explanation or ""
    assert "(the client points at no machine yet; docker-machine ls:)" in report
    assert re.search(r"^\s*lone1\s+-\s+embedded\s+Running\s+tcp://", report, re.MULTILINE), report
    assert "no-machine-chosen" not in report.split("swarm state:")[1]
