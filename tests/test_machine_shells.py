"""A prompt that names a machine runs there, in a shell of its own that lasts the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from dojo_exec.runner import run_pages

SESSION = """# Machine shells

```sh dojo hidden timeout=120s
docker-machine create -d virtualbox m1 > /dev/null 2>&1
```

```console dojo
[m1]$ hostname
m1
[m1]$ cd /tmp && X=42
[m1]$ echo "$X in $PWD"
42 in /tmp
$ echo "page: ${X:-unset} $(hostname)"
page: unset HOST
[m1]$ docker info --format '{{.Swarm.LocalNodeState}}'
inactive
```

```console dojo
docker@m1:~$ echo "still $X"
still 42
not-a-machine$ echo "in the page's shell: ${X:-unset}"
in the page's shell: unset
```
"""


@pytest.mark.docker
def test_machine_prompts_run_on_the_machine_with_their_own_state(tmp_path: Path) -> None:
    import socket

    page = tmp_path / "machines.md"
    page.write_text(SESSION.replace("HOST", socket.gethostname()))
    (record,) = run_pages([page], None, docs_root=tmp_path)
    assert [step.verdict for step in record.steps] == ["passed"] * 3, [
        step.explanation for step in record.steps
    ]
    captured = record.steps[1].captured
    assert captured.startswith("[m1]$ hostname\nm1\n")  # the session as a terminal shows it


@pytest.mark.docker
def test_a_wrong_promise_on_a_machine_fails_naming_the_command(tmp_path: Path) -> None:
    page = tmp_path / "wrong.md"
    page.write_text(
        SESSION.split("```console dojo")[0]
        + "```console dojo\n[m1]$ true\n[m1]$ hostname\nm2\n```\n"
    )
    (record,) = run_pages([page], None, docs_root=tmp_path)
    step = record.steps[1]
    assert step.verdict == "failed"
    assert "command 2 (hostname)" in step.explanation


LOGIN = """---
machine: m1
---
# Logged in as the tutorial says

```sh dojo hidden timeout=120s
docker-machine create -d virtualbox m1 > /dev/null 2>&1
docker-machine create -d virtualbox m2 > /dev/null 2>&1
```

The page's machine is m1: a `$ ` prompt runs there.

```console dojo
$ hostname
m1
```

An interactive login, as docker/machine's docs show it, banner and all:

```console dojo
$ docker-machine ssh m2
                        ##         .
                  ## ## ##        ==
Boot2Docker version 1.9.0, build master : 16e4a2a - Tue Nov  3 19:49:22 UTC 2015
$ hostname
m2
```

```dojo
$ cd /tmp && echo "$(hostname) in $PWD"
m2 in /tmp
$ exit
$ hostname
m1
```
"""


@pytest.mark.docker
def test_a_login_moves_the_prompt_to_the_machine_until_exit(tmp_path: Path) -> None:
    page = tmp_path / "login.md"
    page.write_text(LOGIN)
    (record,) = run_pages([page], None, docs_root=tmp_path)
    assert [step.verdict for step in record.steps] == ["passed"] * 4, [
        step.explanation for step in record.steps
    ]
    # the login waited for no keys and its banner is the page's, not compared
    assert "Boot2Docker" not in record.steps[2].captured
