"""Machines on more than one Docker engine: a second real dockerd on this host (``second_engine``).

Machines made on it (named by its socket, by TLS over tcp, by a docker context) form a swarm and
run a service; a run with ``--dojo-engines`` spreads its pages over both engines and records which
engine each ran on; ``dojo-exec down``/``leaks`` find what a run left on either engine.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path

import docker
import pytest
from second_dockerd import SecondEngine
from ssh_server import SshServer

from dojo_exec.machines.driver import MachineError
from dojo_exec.machines.engines import (
    Engine,
    host_networks,
    parse_engines,
    reachable,
    remember,
    remembered,
)
from dojo_exec.machines.teardown import run_leaks

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("second-engine")]


def _subnets(client: docker.DockerClient) -> list[ipaddress.IPv4Network]:
    found = []
    for network in client.networks.list():
        for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
            if "Subnet" in config:
                found.append(ipaddress.IPv4Network(config["Subnet"]))
    return found


def _sh(script: str, env: Mapping[str, str], timeout: float = 300) -> str:
    """Run ``script`` as a page's shell would; its output (a failure shows it)."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dojo_exec.cli", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _plain_env(tmp_path: Path, run: str) -> dict[str, str]:
    """This process's environment with no engine chosen and a machine store of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOJO_ENGINE"))}
    env.update({"DOJO_RUN": run, "MACHINE_STORAGE_PATH": str(tmp_path / "machines")})
    return env


SWARM = """
dm() { "$PYTHON" -m dojo_exec.machines.cli "$@"; }
dm create m1 > /dev/null 2>&1
dm create m2 > /dev/null 2>&1
eval "$(dm env m1)"
docker swarm init --advertise-addr "$(dm ip m1)" > /dev/null
token=$(docker swarm join-token -q worker)
eval "$(dm env m2)"
docker swarm join --token "$token" "$(dm ip m1):2377" > /dev/null
eval "$(dm env m1)"
docker service create --quiet --name web --replicas 2 nginx > /dev/null
docker node ls --format '{{.Hostname}} {{.Status}}' | sort
docker service ps web --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' \
  | cut -d' ' -f1,2 | sort
"""


def test_machines_on_the_second_engine_over_tls_form_a_swarm_and_down_finds_them(
    second_engine: SecondEngine, client: docker.DockerClient, tmp_path: Path
) -> None:
    run = f"d-engines-{uuid.uuid4().hex[:8]}"
    env = _plain_env(tmp_path, run)
    tls = second_engine.tls_engine
    env.update(tls.env())  # DOJO_ENGINE_HOST=tcp://127.0.0.1:PORT with TLS, as a page gets it
    env.update({"DOJO_CLUSTER": f"e{uuid.uuid4().hex[:8]}", "PYTHON": sys.executable})
    out = _sh(SWARM, env)
    # both nodes in the swarm, a replica running on each (nginx from the second engine's mirror)
    assert out.split("\n") == [
        "m1 Ready",
        "m2 Ready",
        "m1 Running",
        "m2 Running",
        "",
    ], out
    second = second_engine.engine.client()
    made = {c.name for c in second.containers.list(filters={"label": f"dojo.run={run}"})}
    assert {f"dojo-{env['DOJO_CLUSTER']}-m1", f"dojo-{env['DOJO_CLUSTER']}-m2"} <= made
    assert run_leaks(client, run) == []  # nothing of it on the first engine
    # its cluster network is on a subnet the first engine's networks do not use (one host)
    cluster = second.networks.get(f"dojo-{env['DOJO_CLUSTER']}")
    subnet = ipaddress.IPv4Network(cluster.attrs["IPAM"]["Config"][0]["Subnet"])
    assert not any(subnet.overlaps(other) for other in _subnets(client))

    # down and leaks, with no engine named, find the run's machines on the engine it used
    plain = _plain_env(tmp_path, run)
    listed = _cli("leaks", "--run", run, env=plain)
    assert f"container dojo-{env['DOJO_CLUSTER']}-m1 (on {tls.describe()})" in listed.stdout
    assert _cli("down", "--run", run, env=plain).returncode == 0
    assert run_leaks(second, run) == [] and run_leaks(client, run) == []
    assert _cli("leaks", "--run", run, "--fail", env=plain).returncode == 0
    assert not (tmp_path / "machines" / "machines" / "m1").exists()
    assert remembered(run) == []  # down forgot the engines of a run it cleaned


def test_an_engine_named_by_a_docker_context_is_the_one_its_clients_reach(
    second_engine: SecondEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    (tmp_path / "docker-config").mkdir()
    (tmp_path / "docker-config" / "config.json").write_text("{}")
    made = subprocess.run(  # as a reader makes one (docker-py's own writes http+unix://)
        ["docker", "context", "create", "dojo-second", "--docker", f"host={second_engine.socket}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    engine = Engine("dojo-second")
    root = engine.client().info()["DockerRootDir"]
    assert root == str(second_engine.root / "data")
    assert engine.describe() == f"context dojo-second ({second_engine.socket})"
    assert engine.is_local()
    # the docker CLI (``docker-machine ssh`` runs ``docker exec`` so) reaches the same engine
    cli = subprocess.run(
        ["docker", "info", "--format", "{{.DockerRootDir}}"],
        env={**os.environ, **engine.cli_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.stdout.strip() == root, cli.stderr
    with pytest.raises(MachineError, match=r"^Docker context 'nowhere' not found"):
        Engine("nowhere").client()


def test_a_run_with_dojo_engines_puts_its_pages_on_both_engines(
    second_engine: SecondEngine,
    client: docker.DockerClient,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = f"d-engines-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DOJO_RUN", run)
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOJO_ENGINE_HOST", "DOJO_ENGINES"):
        monkeypatch.delenv(var, raising=False)
    page = "\n".join(
        [
            "# A swarm of two",
            "",
            "```sh dojo timeout=300s",
            SWARM.replace('"$PYTHON" -m dojo_exec.machines.cli', "docker-machine").strip(),
            "```",
            "",
            "```",
            "# Result ==>",
            "m1 Ready",
            "m2 Ready",
            "m1 Running",
            "m2 Running",
            "```",
            "",
        ]
    )
    pytester.makefile(".md", one=page, two=page)
    engines = f"unix:///var/run/docker.sock,{second_engine.socket}"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--dojo-collect", "--dojo-transcripts", "transcripts",
        "-n", "2", "--dist", "loadfile", "--dojo-engines", engines, "one.md", "two.md",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-3000:]
    hosts = set()
    for name in ("one", "two"):
        runs = json.loads((pytester.path / "transcripts" / f"{name}.md.json").read_text())["runs"]
        assert [step["verdict"] for step in runs[0]["steps"]] == ["passed"]
        hosts.add(runs[0].get("engine_host", "default"))
    # one page on each engine; the second named by its socket, the default one not written
    assert hosts == {"default", second_engine.socket}
    second = second_engine.engine.client()
    assert run_leaks(client, run) == [] and run_leaks(second, run) == []
    # leaks knows both engines the run used; down forgets them once both are clean
    assert remembered(run) == [second_engine.engine]  # the default engine is always covered
    assert _cli("leaks", "--run", run, "--fail", env=os.environ).returncode == 0
    assert _cli("down", "--run", run, env=os.environ).returncode == 0
    assert remembered(run) == []


def test_dojo_engines_names_an_engine_that_does_not_answer(pytester: pytest.Pytester) -> None:
    pytester.makefile(".md", page="# nothing\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--dojo-collect", "page.md",
        "--dojo-engines", "unix:///var/run/docker.sock,unix:///nowhere/docker.sock",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if "--dojo-engines" in line]
    assert errors and "engine unix:///nowhere/docker.sock does not answer" in errors[0], errors
    assert "Traceback" not in result.stderr.str()


def test_engine_names_in_messages_carry_no_secrets_and_lists_reject_empty_items() -> None:
    assert Engine("ssh://deploy:hunter2@build.example:2222").describe() == (
        "ssh://build.example:2222"
    )
    tls = parse_engines("tcp://10.0.0.5:2376", {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/c"})
    assert tls == [Engine("tcp://10.0.0.5:2376", tls_verify=True, cert_path="/c")]
    assert "/c" not in tls[0].describe()
    with pytest.raises(ValueError, match="empty item"):
        parse_engines("unix:///a.sock,,tcp://b:2376")


def test_reachable_tells_a_closed_port_from_an_address_no_host_answers(
    second_engine: SecondEngine,
) -> None:
    bridge = second_engine.engine.client().networks.get("bridge")  # on this host, no container
    subnet = ipaddress.IPv4Network(bridge.attrs["IPAM"]["Config"][0]["Subnet"])
    assert subnet in host_networks()  # its bridge, up with no carrier: a cluster avoids it
    assert reachable("127.0.0.1", 9, timeout=2)  # refused: routed here, nothing listens
    assert not reachable(str(subnet.network_address + 250), 2376, timeout=5)  # no ARP answer


def test_an_ssh_engine_makes_machines_reached_through_ssh(
    ssh_server: SshServer, client: docker.DockerClient, tmp_path: Path
) -> None:
    engine = Engine(ssh_server.url)
    assert engine.client().info()["DockerRootDir"] == client.info()["DockerRootDir"]
    assert engine.describe() == f"ssh://127.0.0.1:{ssh_server.port}"  # no user
    run = f"d-engines-{uuid.uuid4().hex[:8]}"
    env = _plain_env(tmp_path, run)
    env.update(engine.env())
    env.update({"DOJO_CLUSTER": f"e{uuid.uuid4().hex[:8]}", "PYTHON": sys.executable})
    out = _sh(
        'dm() { "$PYTHON" -m dojo_exec.machines.cli "$@"; }\n'
        "dm create m1 > /dev/null 2>&1\n"
        "dm ssh m1 hostname\n"  # docker exec over ssh://
        'eval "$(dm env m1)"\n'
        "docker info --format '{{.Name}} {{.Swarm.LocalNodeState}}'\n",
        env,
    )
    assert out == "m1\nm1 inactive\n"
    assert remembered(run) == [engine]
    plain = _plain_env(tmp_path, run)
    assert _cli("down", "--run", run, env=plain).returncode == 0  # through ssh too
    assert run_leaks(client, run) == [] and remembered(run) == []


def test_a_remembered_engine_whose_socket_is_gone_is_forgotten(tmp_path: Path) -> None:
    run = f"d-engines-{uuid.uuid4().hex[:8]}"
    gone = Engine(f"unix://{tmp_path}/stopped.sock")  # a second dockerd stopped since
    remember(run, gone)
    assert remembered(run) == [gone]
    listed = _cli("leaks", "--run", run, "--fail", env=_plain_env(tmp_path, run))
    assert listed.returncode == 0, listed.stderr  # not "does not answer" for ever after
    assert remembered(run) == []


def test_the_second_engine_leaves_the_first_engines_default_bridge_alone(
    second_engine: SecondEngine, client: docker.DockerClient
) -> None:
    options = client.networks.get("bridge").attrs.get("Options") or {}
    interface = options.get("com.docker.network.bridge.name", "docker0")
    # a dockerd started with --bridge=none deletes docker0, whichever engine it belongs to
    assert Path(f"/sys/class/net/{interface}").exists()
    assert second_engine.bridge != interface


@pytest.mark.parametrize(
    ("environ", "config", "expected"),
    [
        ({}, None, False),  # the default socket
        ({"DOJO_ENGINE_HOST": "ssh://me@host"}, None, True),
        ({"DOJO_ENGINE_HOST": "tcp://10.0.0.1:2376", "DOCKER_HOST": "ssh://x"}, None, False),
        ({"DOCKER_HOST": "unix:///run/other.sock"}, None, False),
        ({"DOCKER_HOST": "ssh://me@host"}, None, True),
        ({"DOCKER_MACHINE_NAME": "m1", "DOCKER_HOST": "tcp://10.0.0.2:2376"}, None, False),
        ({"DOCKER_CONTEXT": "remote"}, None, True),  # a context may hold an ssh host
        ({}, {"currentContext": "remote"}, True),
        ({}, {"currentContext": "default"}, False),
        ({}, "not json", False),
    ],
)
def test_may_use_ssh_tells_without_docker_whether_an_engine_may_be_ssh(
    tmp_path: Path, environ: dict[str, str], config: object, expected: bool
) -> None:
    from dojo_exec.machines.engines import current_engine, may_use_ssh

    if config is not None:
        text = config if isinstance(config, str) else json.dumps(config)
        (tmp_path / "config.json").write_text(text)
    env = {**environ, "DOCKER_CONFIG": str(tmp_path)}
    assert may_use_ssh(env) is expected
    if not expected:  # never wrong the unsafe way: the engine chosen is not an ssh one
        assert not current_engine(env).spec.startswith("ssh://")
