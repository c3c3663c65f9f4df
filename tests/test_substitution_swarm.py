"""Values quoted in a tutorial, used for real, on a real embedded swarm.

Page 1 starts a swarm and promises, as Docker's tutorial does, a made-up join token and node
ID; page 2 pastes them into ``docker swarm join`` on ``worker1`` and ``docker node inspect``
on ``manager1``.  Both run as written.  Then ``update`` rewrites page 1 from a run: the real
join tokens of that run and the paths of its certificates never reach the page, and the page
still verifies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dojo_exec.runner import PageSession, run_pages
from dojo_exec.transcripts import find_secrets
from dojo_exec.update import PendingUpdates, fake_secret

FENCE = "```"
TOKEN = "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c"
NODE = "dxn1zf6l61qsb1josjja83ngz"

MACHINES = f"""# Create a swarm

{FENCE}sh dojo hidden timeout=300s
docker-machine create -d virtualbox manager1 > /dev/null 2>&1
docker-machine create -d virtualbox worker1 > /dev/null 2>&1
{FENCE}
"""

INIT = f"""
{FENCE}console dojo timeout=120s
[manager1]$ docker swarm init --advertise-addr 192.168.99.100
Swarm initialized: current node ({NODE}) is now a manager.

To add a worker to this swarm, run the following command:

    docker swarm join --token {TOKEN} 192.168.99.100:2377

To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.
{FENCE}
"""

# Docker 1.12's output: the join command over three lines (drifted: update rewrites it)
INIT_1_12 = (
    INIT.replace(
        f"    docker swarm join --token {TOKEN} 192.168.99.100:2377\n",
        f"    docker swarm join \\\n    --token {TOKEN} \\\n    192.168.99.100:2377\n",
    )
    + f"""
The manager's join command, which the page does not quote:

{FENCE}console dojo
[manager1]$ docker swarm join-token manager
To add a manager to this swarm, run the following command:
{FENCE}

{FENCE}console dojo
$ docker-machine env manager1
export DOCKER_TLS_VERIFY="1"
export DOCKER_HOST="tcp://192.168.99.100:2376"
export DOCKER_CERT_PATH="/Users/mary/.docker/machine/machines/manager1"
export DOCKER_MACHINE_NAME="manager1"
# Run this command to configure your shell:
# eval $(docker-machine env manager1)
{FENCE}

{FENCE}sh dojo hidden
docker-machine ssh manager1 docker swarm join-token -q worker
docker-machine ssh manager1 docker swarm join-token -q manager
{FENCE}
"""
)

JOIN = f"""---
requires: [swarm.md]
---
# Join

{FENCE}console dojo timeout=120s
[worker1]$ docker swarm join --token {TOKEN} 192.168.99.100:2377
This node joined a swarm as a worker.
{FENCE}

{FENCE}console dojo wait=30s
[manager1]$ docker node inspect --format '{{{{.Status.State}}}}' {NODE}
ready
{FENCE}
"""


def _verify(tmp_path: Path) -> PageSession:
    session = PageSession.for_path(tmp_path / "join.md", docs_root=tmp_path)
    with session:
        session.run_all()
    return session


@pytest.mark.docker
def test_a_made_up_token_and_node_id_from_an_earlier_page_work_for_real(tmp_path: Path) -> None:
    (tmp_path / "swarm.md").write_text(MACHINES + INIT)
    (tmp_path / "join.md").write_text(JOIN)
    session = _verify(tmp_path)
    outcomes = [session.outcomes[i] for i in sorted(session.outcomes)]
    assert [o.verdict for o in outcomes] == ["passed", "passed"], [o.explanation for o in outcomes]
    assert session.drifted_prerequisites == []
    real_node = session.substitutions.bound[NODE].value
    assert real_node != NODE and session.substitutions.bound[TOKEN].value != TOKEN
    # the run replaced only what it must: the address is the machine's own
    assert session.substitutions.bound["192.168.99.100"].value == "192.168.99.100"
    # what is recorded is the author's command
    assert outcomes[1].record().command == (
        f"docker node inspect --format '{{{{.Status.State}}}}' {NODE}"
    )


@pytest.mark.docker
def test_update_writes_no_real_token_and_the_page_still_verifies(tmp_path: Path) -> None:
    swarm = tmp_path / "swarm.md"
    swarm.write_text(MACHINES + INIT_1_12)
    (tmp_path / "join.md").write_text(JOIN)
    updates = PendingUpdates()
    (record,) = run_pages([swarm], None, docs_root=tmp_path, updates=updates)
    real = record.steps[-1].captured.split()  # this run's worker and manager tokens
    assert len(real) == 2 and all(t.startswith("SWMTKN-1-") for t in real), real
    verdicts = [(s.verdict, s.explanation) for s in record.steps]
    assert [v for v, _ in verdicts] == ["passed"] * 5, verdicts
    assert updates.refused == [] and updates.unstable == []
    (line,) = updates.write()
    assert line.endswith("swarm.md: 3 promise(s) updated"), line
    written = swarm.read_text()
    assert written != MACHINES + INIT_1_12
    for token in real:
        assert token not in written
    # the author's token where the promise had one, a fake where it had none
    assert set(find_secrets(written)) == {TOKEN, fake_secret(real[1], 1)}, find_secrets(written)
    assert f"docker swarm join --token {TOKEN} 192.168.99.100:2377" in written
    assert 'export DOCKER_CERT_PATH="...\n' in written and "/dojo-p" not in written
    session = _verify(tmp_path)
    outcomes = [session.outcomes[i] for i in sorted(session.outcomes)]
    assert [o.verdict for o in outcomes] == ["passed", "passed"], [o.explanation for o in outcomes]
    assert session.drifted_prerequisites == []
