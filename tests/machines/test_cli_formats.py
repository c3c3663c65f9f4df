"""docker-machine's output formats and error messages (pure functions and store-only commands)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dojo_exec.machines import cli, formats
from dojo_exec.machines.formats import LsItem
from dojo_exec.machines.store import Machine, Store

# docker-machine 0.16 ``ls`` output, as published in its documentation (tabwriter 5/1/3).
DOC_LS = (
    "NAME      ACTIVE   DRIVER       STATE     URL                         SWARM   DOCKER    ERRORS\n"  # noqa: E501
    "default   *        virtualbox   Running   tcp://192.168.99.101:2376           v1.10.1   \n"
)


def test_ls_matches_docker_machine_layout() -> None:
    item = LsItem(
        Name="default",
        Active="*",
        DriverName="virtualbox",
        State="Running",
        URL="tcp://192.168.99.101:2376",
        DockerVersion="v1.10.1",
    )
    assert formats.format_ls([item]) == DOC_LS


def test_ls_stopped_and_empty() -> None:
    stopped = LsItem(Name="myvm1", DriverName="virtualbox", State="Stopped")
    assert formats.format_ls([stopped]).splitlines() == [
        "NAME    ACTIVE   DRIVER       STATE     URL   SWARM   DOCKER    ERRORS",
        "myvm1   -        virtualbox   Stopped                 Unknown   ",
    ]
    assert (
        formats.format_ls([]) == "NAME   ACTIVE   DRIVER   STATE   URL   SWARM   DOCKER   ERRORS\n"
    )


def test_ls_quiet_and_formats() -> None:
    items = [LsItem(Name="m1", State="Running", URL="tcp://1.2.3.4:2376"), LsItem(Name="m2")]
    assert formats.format_ls(items, quiet=True) == "m1\nm2\n"
    assert formats.format_ls(items, "{{.Name}}: {{.URL}}") == "m1: tcp://1.2.3.4:2376\nm2: \n"
    assert formats.format_ls(items, "table {{.Name}}\\t{{.DriverName}}").splitlines() == [
        "NAME   DRIVER",
        "m1     embedded",
        "m2     embedded",
    ]
    assert formats.format_ls(items[:1], "{{.ActiveHost}} {{.State}}") == "false Running\n"
    with pytest.raises(formats.TemplateError, match="can't evaluate field Foo"):
        formats.format_ls(items, "{{.Foo}}")


def test_env_bash_exactly() -> None:
    text = formats.format_env(
        "bash",
        ["docker-machine", "env", "manager1"],
        name="manager1",
        url="tcp://10.0.0.2:2376",
        cert_path="/s/machines/manager1",
    )
    assert text == (
        'export DOCKER_TLS_VERIFY="1"\n'
        'export DOCKER_HOST="tcp://10.0.0.2:2376"\n'
        'export DOCKER_CERT_PATH="/s/machines/manager1"\n'
        'export DOCKER_MACHINE_NAME="manager1"\n'
        "# Run this command to configure your shell: \n"
        "# eval $(docker-machine env manager1)\n"
    )


@pytest.mark.parametrize(
    ("shell", "first", "hint"),
    [
        ("fish", 'set -gx DOCKER_TLS_VERIFY "1";', "# eval (docker-machine env m)"),
        (
            "powershell",
            '$Env:DOCKER_TLS_VERIFY = "1"',
            "# & docker-machine env m | Invoke-Expression",
        ),
        (
            "cmd",
            "SET DOCKER_TLS_VERIFY=1",
            "REM \t@FOR /f \"tokens=*\" %i IN ('docker-machine env m') DO @%i",
        ),
        ("zsh", 'export DOCKER_TLS_VERIFY="1"', "# eval $(docker-machine env m)"),
    ],
)
def test_env_other_shells(shell: str, first: str, hint: str) -> None:
    lines = formats.format_env(
        shell, ["docker-machine", "env", "m"], name="m", url="u", cert_path="p"
    ).splitlines()
    assert lines[0] == first
    assert lines[-1] == hint


def test_env_unset() -> None:
    assert formats.format_env("bash", ["docker-machine", "env", "-u"], unset=True).splitlines()[
        :4
    ] == [
        "unset DOCKER_TLS_VERIFY",
        "unset DOCKER_HOST",
        "unset DOCKER_CERT_PATH",
        "unset DOCKER_MACHINE_NAME",
    ]
    assert formats.format_env("fish", ["x"], unset=True).startswith("set -e DOCKER_TLS_VERIFY;\n")


def test_config_lines() -> None:
    assert formats.format_config("/s/machines/m1", "tcp://10.0.0.2:2376") == (
        "--tlsverify\n"
        '--tlscacert="/s/machines/m1/ca.pem"\n'
        '--tlscert="/s/machines/m1/cert.pem"\n'
        '--tlskey="/s/machines/m1/key.pem"\n'
        "-H=tcp://10.0.0.2:2376\n"
    )


def test_inspect_json_and_format(tmp_path: Path) -> None:
    config = Machine(name="m1", cluster="c", ip="10.0.0.9").to_config(tmp_path)
    text = formats.format_inspect(config)
    assert text.startswith('{\n    "ConfigVersion": 3,\n    "Driver": {\n')
    assert formats.format_inspect(config, "{{.Driver.IPAddress}}") == "10.0.0.9\n"
    assert (
        formats.format_inspect(config, "{{json .HostOptions.EngineOptions.TlsVerify}}") == "true\n"
    )
    assert formats.format_inspect(config, "{{.Nope}}") == "<no value>\n"


def test_rm_preamble() -> None:
    assert formats.rm_preamble(["manager1", "worker1"]) == (
        "About to remove manager1, worker1\n"
        "WARNING: This action will delete both local reference and remote instance.\n"
    )
    assert formats.RM_PROMPT == "Are you sure? (y/n): "


def test_tabwriter_pads_to_minwidth() -> None:
    assert formats.tabwrite("a\tbb\tc\nddd\te\tf") == "a     bb   c\nddd   e    f"


# -- commands that only need the store (no engine) ------------------------------------------------
@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("MACHINE_STORAGE_PATH", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOJO_MACHINE_DRIVER", raising=False)
    return Store(tmp_path)


@pytest.mark.parametrize(
    "command", ["ip", "status", "url", "inspect", "env", "config", "ssh", "stop"]
)
def test_unknown_machine(store: Store, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([command, "nope"]) == 1
    assert capsys.readouterr().err == 'Host does not exist: "nope"\n'


def test_create_existing_name(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    store.reserve("manager1")
    assert cli.main(["create", "--driver", "virtualbox", "manager1"]) == 1
    assert capsys.readouterr().err == 'Host already exists: "manager1"\n'


def test_create_usage_errors(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["create", "-d", "virtualbox"]) == 1
    assert "Error: No machine name specified" in capsys.readouterr().err
    assert cli.main(["create", "bad_name!"]) == 1
    assert "Invalid hostname specified" in capsys.readouterr().err


def test_parse_create_accepts_driver_flags() -> None:
    options, name = cli.parse_create(
        ["--driver", "virtualbox", "--virtualbox-memory", "2048", "--engine-label", "a=b", "m1"]
    )
    assert (options.requested_driver, name, list(options.engine_labels)) == (
        "virtualbox",
        "m1",
        ["a=b"],
    )
    with pytest.raises(cli.UsageError, match=r"Found extra arguments \[m2\]"):
        cli.parse_create(["m1", "m2"])


def test_no_machines(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["active"]) == 1
    assert capsys.readouterr().err == "No active host found\n"
    assert cli.main(["ls", "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert cli.main(["ip"]) == 1
    assert 'no "default" machine exists' in capsys.readouterr().err
    assert cli.main(["rm", "-y"]) == 1
    assert cli.main(["rm", "-y", "ghost"]) == 1
    captured = capsys.readouterr()
    assert 'Error removing host "ghost": Host does not exist: "ghost"' in captured.err
    assert cli.main(["frobnicate"]) == 1
    assert "'frobnicate' is not a docker-machine command" in capsys.readouterr().err
    assert cli.main(["ls", "--filter", "colour=red"]) == 1
    assert capsys.readouterr().err == "Unsupported filter key 'colour'\n"


def test_env_unset_needs_no_machine(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["env", "-u", "--shell", "bash"]) == 0
    assert capsys.readouterr().out.startswith("unset DOCKER_TLS_VERIFY\n")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["version"]) == 0
    assert capsys.readouterr().out.startswith("docker-machine version 0.16.2")


def test_shim_runs_this_cli(tmp_path: Path) -> None:
    shim = cli.install_shim(tmp_path / "bin")
    assert shim.name == "docker-machine"
    assert shim.stat().st_mode & stat.S_IXUSR
    assert "-m dojo_exec.machines.cli" in shim.read_text()
    import subprocess

    env = {**os.environ, "MACHINE_STORAGE_PATH": str(tmp_path / "s")}
    done = subprocess.run([str(shim), "ip", "ghost"], capture_output=True, text=True, env=env)
    assert (done.returncode, done.stderr) == (1, 'Host does not exist: "ghost"\n')


def test_the_shim_lists_no_machines_without_the_docker_sdk(tmp_path: Path) -> None:
    """Every ``docker-machine`` call starts a Python: ``ls`` with no machines, ``version`` and
    ``help`` import neither the Docker SDK nor the image modules."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from dojo_exec.machines import cli\n"
        "for command in (['ls'], ['version'], ['help']):\n"
        "    cli.main(command)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('docker', 'cryptography')\n"
        "               or m in ('dojo_exec.machines.mirror', 'dojo_exec.machines.dind'))\n"
        "print(heavy, file=sys.stderr)\n"
    )
    env = {**os.environ, "MACHINE_STORAGE_PATH": str(tmp_path / "s")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert (done.returncode, done.stderr) == (0, "[]\n")


def test_choose_docker_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shim_dir = tmp_path / "shim"
    cli.install_shim(shim_dir)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}/usr/bin:/bin")
    embedded = cli.choose_docker_machine("embedded")
    assert Path(embedded).read_text().count(cli.SHIM_MARKER) == 1
    with pytest.raises(cli.MachineError, match='driver "virtualbox" needs a real docker-machine'):
        cli.choose_docker_machine("virtualbox")  # our shim on PATH does not count
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real = real_dir / "docker-machine"
    real.write_text("#!/bin/sh\necho real\n")
    real.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{real_dir}")
    assert cli.choose_docker_machine("virtualbox") == str(real)


def test_a_shim_call_on_a_local_engine_leaves_the_ssh_transport_out(tmp_path: Path) -> None:
    """The Docker SDK imports paramiko whenever it is installed (a third of a shim call's
    start-up); a command on a local engine does without it, one on an ssh engine keeps it
    (``ls`` without a docker CLI on PATH: its states are then the SDK's)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from dojo_exec.machines import cli\n"
        "from dojo_exec.machines.store import Machine, Store, storage_path\n"
        "Store(storage_path()).reserve('m1')\n"
        "Store(storage_path()).save(Machine(name='m1', cluster='c', ip='10.0.0.2',"
        " container='dojo-gone-m1'))\n"
        "cli.main(['ls', '-q'])\n"
        "print('docker' in sys.modules, sys.modules.get('paramiko') is not None,"
        " file=sys.stderr)\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOJO_ENGINE"))}
    base["MACHINE_STORAGE_PATH"] = str(tmp_path / "s")
    base["DOCKER_CONFIG"] = str(tmp_path / "no-config")
    base["PATH"] = str(tmp_path / "no-docker-cli")
    local = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=base)
    assert local.stderr.splitlines()[-1] == "True False", local.stderr
    ssh = {**base, "DOJO_ENGINE_HOST": "ssh://nobody@127.0.0.1:1"}
    ssh["MACHINE_STORAGE_PATH"] = str(tmp_path / "ssh")
    remote = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ssh)
    assert remote.stderr.splitlines()[-1] == "True True", remote.stderr
