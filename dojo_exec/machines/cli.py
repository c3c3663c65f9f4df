"""``docker-machine``-compatible command line over the machine providers (``dojo-machine``).

Commands, output and exit codes follow docker/machine 0.16 (``commands/*.go``); every machine is
handled by its provider's driver, chosen by :mod:`.providers` (``embedded`` Docker-in-Docker,
``qemu`` VMs), and shown honestly in ``ls``.  ``install_shim`` writes the ``docker-machine``
script that the page runner puts first on ``PATH``; ``choose_docker_machine`` picks our shim or
a real docker-machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from dojo_exec.machines import providers
from dojo_exec.machines.driver import (
    CreateOptions,
    Driver,
    HostNotRunning,
    MachineError,
    Reader,
    Scope,
    State,
)
from dojo_exec.machines.engines import may_use_ssh
from dojo_exec.machines.real import SHIM_MARKER, delegate_if_real, find_real_docker_machine

# The shim starts a Python for every ``docker-machine`` call: the output formats, the listing
# and the drivers are imported inside the commands that need them, and the questions about
# existing machines (ls, env, ip, ssh …) never import the Docker SDK (tests/machines/
# test_cli_formats.py and test_dind_nodes.py check it).
from dojo_exec.machines.store import DRIVER_NAME, Store, cluster_name, storage_path, valid_name

if TYPE_CHECKING:
    from dojo_exec.machines.formats import LsItem

VERSION = "0.16.2"
DEFAULT_MACHINE = "default"
EMBEDDED_NAMES = (DRIVER_NAME, "dind")


class UsageError(MachineError):
    """Wrong command line (exit 1, like docker-machine's ``Incorrect Usage``)."""


# -- shim and driver choice ------------------------------------------------------------------
def install_shim(directory: Path) -> Path:
    """Write an executable ``docker-machine`` into ``directory`` that runs this command line."""
    import shlex

    from dojo_exec.writing import write_atomically

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "docker-machine"
    lines = [
        "#!/bin/sh",
        SHIM_MARKER,
        "DOJO_MACHINE_PROG=docker-machine; export DOJO_MACHINE_PROG",
    ]
    engine = os.environ.get("DOJO_ENGINE_HOST") or (
        os.environ.get("DOCKER_HOST") if not os.environ.get("DOCKER_MACHINE_NAME") else None
    )
    if engine:
        quoted = shlex.quote(engine)
        lines.append(f'[ -n "${{DOJO_ENGINE_HOST:-}}" ] || DOJO_ENGINE_HOST={quoted}')
        lines.append("export DOJO_ENGINE_HOST")
    lines.append(f'exec {shlex.quote(sys.executable)} -m dojo_exec.machines.cli "$@"')
    write_atomically(path, "\n".join(lines) + "\n", mode=0o755)
    return path


def default_shim_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "dojo-exec" / "bin"


def choose_docker_machine(driver: str) -> str:
    """The ``docker-machine`` to run for ``driver``: our shim, or a real one for a real driver."""
    if providers.provider_name(driver) is not None:
        return str(install_shim(default_shim_dir()))
    real = find_real_docker_machine()
    if real is None:
        raise MachineError(
            f'driver "{driver}" needs a real docker-machine on PATH, and none was found '
            "(install docker-machine, or use the embedded driver: --driver embedded)"
        )
    return str(real)


# -- helpers -------------------------------------------------------------------------------------
def prog_name() -> str:
    return os.environ.get("DOJO_MACHINE_PROG") or "docker-machine"


def out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def err(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()


class Context:
    """Store + the drivers of its machines' providers (made when first needed)."""

    def __init__(self, store: Store, argv: Sequence[str] = ()) -> None:
        self.store = store
        self.argv = list(argv)  # the whole command line, for env's usage hint
        self._drivers: dict[str, Driver] = {}

    def provider_driver(self, provider: str) -> Driver:
        if provider not in self._drivers:
            self._drivers[provider] = providers.driver(provider, self.store, progress=self.progress)
        return self._drivers[provider]

    def driver(self, name: str) -> Driver:
        """The driver of the provider that made machine ``name``."""
        return self.provider_driver(providers.provider_of(self.store, name))

    def reader(self, name: str) -> Reader:
        """What answers questions about machine ``name`` (state, address, ``ssh``): cheaper
        to make than its driver (:func:`.providers.reader`)."""
        provider = providers.provider_of(self.store, name)
        if provider in self._drivers:
            return self._drivers[provider]
        return providers.reader(provider, self.store)

    def progress(self, message: str) -> None:
        out(message + "\n")

    def target(self, names: Sequence[str]) -> list[str]:
        """Names given, or docker-machine's implicit "default" machine."""
        if names:
            return list(names)
        if self.store.exists(DEFAULT_MACHINE):
            return [DEFAULT_MACHINE]
        raise MachineError(
            f'Error: No machine name(s) specified and no "{DEFAULT_MACHINE}" machine exists'
        )

    def load(self, name: str) -> None:
        """Raise ``HostDoesNotExist`` unless ``name`` is in the store."""
        self.store.load(name)


def _each(names: Sequence[str], action: Callable[[str], None]) -> None:
    """Run ``action`` for every machine concurrently; raise the errors joined (docker-machine)."""
    import concurrent.futures  # only here: a shim call that needs no threads skips the import

    errors: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        futures = {pool.submit(action, name): name for name in names}
        for future in futures:
            try:
                future.result()
            except MachineError as error:
                errors.append(str(error))
    if errors:
        raise MachineError("\n".join(errors))


# -- commands ------------------------------------------------------------------------------------
def cmd_create(ctx: Context, argv: list[str]) -> int:
    options, name = parse_create(argv)
    requested = options.requested_driver
    if not valid_name(name):
        raise MachineError(
            "Error creating machine: Invalid hostname specified. "
            "Allowed hostname chars are: 0-9a-zA-Z . -"
        )
    if ctx.store.exists(name):
        raise MachineError(f'Host already exists: "{name}"')
    provider = providers.provider_for_create(requested)
    if providers.provider_name(requested) != provider:
        err(f"({name}) {_INSTEAD[provider]} {requested}")
    certs_dir = ctx.store.certs_dir
    if not (certs_dir / "ca.pem").exists():
        out(f"Creating CA: {certs_dir / 'ca.pem'}\n")
    if not (certs_dir / "cert.pem").exists():
        out(f"Creating client certificate: {certs_dir / 'cert.pem'}\n")
    out("Running pre-create checks...\n")
    driver = ctx.provider_driver(provider)
    out("Creating machine...\n")
    driver.progress = lambda message: out(  # type: ignore[attr-defined]
        message + "\n" if message.startswith("(") else f"({name}) {message}\n"
    )
    driver.create(name, options)
    out("Checking connection to Docker...\n")
    out("Docker is up and running!\n")
    out(
        "To see how to connect your Docker Client to the Docker Engine running on this virtual "
        f"machine, run: {prog_name()} env {name}\n"
    )
    return 0


_INSTEAD = {
    providers.EMBEDDED: "embedded driver: running as a Docker-in-Docker container instead of",
    providers.QEMU: "qemu driver: running as a QEMU virtual machine instead of",
}

_CREATE_VALUED = {
    "--engine-install-url",
    "--engine-opt",
    "--engine-storage-driver",
    "--swarm-image",
    "--swarm-discovery",
    "--swarm-strategy",
    "--swarm-opt",
    "--swarm-join-opt",
    "--swarm-host",
    "--swarm-addr",
    "--tls-san",
}
_CREATE_BOOL = {"--swarm", "--swarm-master", "--swarm-experimental"}


def parse_create(argv: list[str]) -> tuple[CreateOptions, str]:
    """``create`` flags; driver flags (``--virtualbox-memory 2048``) are accepted and unused."""
    parser = _parser("create")
    parser.add_argument("-d", "--driver", default=os.environ.get("MACHINE_DRIVER") or "virtualbox")
    for flag in _CREATE_LISTS:
        parser.add_argument(flag, action="append", default=[])
    known: list[str] = []
    positionals: list[str] = []
    words = list(argv)
    while words:
        word = words.pop(0)
        flag = word.split("=", 1)[0]
        if word == "--":
            positionals += words
            break
        if not word.startswith("-"):
            positionals.append(word)
        elif flag in ("-d", "--driver", *_CREATE_LISTS):
            known.append(word)
            if "=" not in word and words:
                known.append(words.pop(0))
        elif flag in _CREATE_BOOL or "=" in word:
            continue  # accepted, not used by the embedded driver
        elif (flag in _CREATE_VALUED and words) or (
            len(words) > 1 and not words[0].startswith("-")
        ):
            words.pop(0)  # a valued flag (a driver's own flag, ...): value skipped
    args = parser.parse_args(known)
    if not positionals:
        raise UsageError("Error: No machine name specified")
    if len(positionals) > 1:
        extra = "[" + " ".join(positionals[1:]) + "]"
        raise UsageError(f"Invalid command line. Found extra arguments {extra}")
    options = CreateOptions(
        requested_driver=args.driver,
        registry_mirrors=args.engine_registry_mirror,
        insecure_registries=args.engine_insecure_registry,
        engine_labels=args.engine_label,
        engine_env=args.engine_env,
    )
    return options, positionals[0]


_CREATE_LISTS = (
    "--engine-registry-mirror",
    "--engine-insecure-registry",
    "--engine-label",
    "--engine-env",
)


def cmd_ls(ctx: Context, argv: list[str]) -> int:
    parser = _parser("ls")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--filter", action="append", default=[])
    parser.add_argument("-t", "--timeout", type=int, default=10)
    parser.add_argument("-f", "--format", default=None)
    args = parser.parse_args(argv)
    filters = parse_filters(args.filter)
    from dojo_exec.machines import formats
    from dojo_exec.machines.listing import list_items

    items = list_items(ctx.store, timeout=args.timeout, need_versions=not args.quiet)
    items = [item for item in items if matches(item, filters)]
    out(formats.format_ls(items, args.format, args.quiet))
    return 0


def parse_filters(values: Sequence[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for value in values:
        key, sep, wanted = value.partition("=")
        if not sep:
            raise MachineError("Unsupported filter syntax")
        key = key.lower()
        if key not in ("swarm", "driver", "state", "name", "label"):
            raise MachineError(f"Unsupported filter key '{key}'")
        filters.setdefault(key, []).append(wanted)
    return filters


def matches(item: LsItem, filters: dict[str, list[str]]) -> bool:
    checks = {
        "driver": lambda v: v.lower() == item.DriverName.lower(),
        "state": lambda v: v.lower() == item.State.lower(),
        "name": lambda v: re.search(v, item.Name) is not None,
        "swarm": lambda v: False,
        "label": lambda v: False,
    }
    return all(any(checks[key](v) for v in values) for key, values in filters.items())


def cmd_env(ctx: Context, argv: list[str]) -> int:
    parser = _parser("env")
    parser.add_argument("--shell", default="")
    parser.add_argument("-u", "--unset", action="store_true")
    parser.add_argument("--swarm", action="store_true")
    parser.add_argument("--no-proxy", action="store_true")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    from dojo_exec.machines import formats

    shell = args.shell or detect_shell()
    command_line = [prog_name(), *(ctx.argv or ["env", *argv])]
    if args.unset:
        if args.names:
            raise MachineError("Error: Expected no machine name when the -u flag is present")
        out(formats.format_env(shell, command_line, unset=True))
        return 0
    if len(args.names) > 1:
        raise MachineError("Error: Expected one machine name as an argument")
    (name,) = ctx.target(args.names)
    ctx.load(name)
    if ctx.reader(name).state(name) is not State.RUNNING:
        raise MachineError("Error checking TLS connection: Host is not running")
    out(
        formats.format_env(
            shell,
            command_line,
            name=name,
            url=ctx.reader(name).url(name),
            cert_path=str(ctx.store.machine_dir(name)),
        )
    )
    return 0


def detect_shell() -> str:
    """docker-machine's detection: the basename of ``$SHELL`` (bash when unknown)."""
    from dojo_exec.machines.formats import SHELLS

    shell = os.path.basename(os.environ.get("SHELL", "")) or "bash"
    return shell if shell in SHELLS else "bash"


def cmd_inspect(ctx: Context, argv: list[str]) -> int:
    parser = _parser("inspect")
    parser.add_argument("-f", "--format", default="")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    if len(args.names) > 1:
        raise MachineError("Error: Expected one machine name as an argument")
    (name,) = ctx.target(args.names)
    ctx.load(name)
    config = json.loads(ctx.store.config_path(name).read_text())
    from dojo_exec.machines.formats import format_inspect

    out(format_inspect(config, args.format or None))
    return 0


def cmd_config(ctx: Context, argv: list[str]) -> int:
    parser = _parser("config")
    parser.add_argument("--swarm", action="store_true")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    (name, *_) = ctx.target(args.names)
    ctx.load(name)
    if ctx.reader(name).state(name) is not State.RUNNING:
        raise MachineError("Error running connection boilerplate: Host is not running")
    from dojo_exec.machines.formats import format_config

    out(format_config(str(ctx.store.machine_dir(name)), ctx.reader(name).url(name)))
    return 0


def cmd_ip(ctx: Context, argv: list[str]) -> int:
    names = ctx.target(_names(argv, "ip"))
    for name in names:
        ctx.load(name)
    lines: list[str] = []
    errors: list[str] = []
    for name in names:
        try:
            lines.append(ctx.reader(name).ip(name) + "\n")
        except HostNotRunning as error:
            errors.append(f"Error getting IP address: {error}")
    out("".join(lines))
    if errors:
        raise MachineError("\n".join(errors))
    return 0


def cmd_url(ctx: Context, argv: list[str]) -> int:
    names = _names(argv, "url")
    if len(names) > 1:
        raise MachineError("Error: Expected one machine name as an argument")
    (name,) = ctx.target(names)
    ctx.load(name)
    if ctx.reader(name).state(name) is not State.RUNNING:
        raise HostNotRunning(name)
    out(ctx.reader(name).url(name) + "\n")
    return 0


def cmd_status(ctx: Context, argv: list[str]) -> int:
    names = _names(argv, "status")
    if len(names) > 1:
        raise MachineError("Error: Expected one machine name as an argument")
    (name,) = ctx.target(names)
    ctx.load(name)
    out(f"{ctx.reader(name).state(name)}\n")
    return 0


def cmd_active(ctx: Context, argv: list[str]) -> int:
    parser = _parser("active")
    parser.add_argument("-t", "--timeout", type=int, default=10)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    if args.names:
        raise MachineError("Error: Too many arguments given")
    from dojo_exec.machines.listing import list_items

    for item in list_items(ctx.store, timeout=args.timeout, need_versions=False):
        if item.ActiveHost:
            out(item.Name + "\n")
            return 0
    raise MachineError("No active host found")


_ING = {"Start": "Starting", "Stop": "Stopping", "Kill": "Killing", "Restart": "Restarting"}


def _state_action(
    verb: str, past: str, expected: State | None
) -> Callable[[Context, list[str]], int]:
    def command(ctx: Context, argv: list[str]) -> int:
        names = ctx.target(_names(argv, verb.lower()))
        for name in names:
            ctx.load(name)

        def act(name: str) -> None:
            state = ctx.driver(name).state(name)
            if expected is not None and state is expected:
                raise MachineError(f'Machine "{name}" is already {str(expected).lower()}.')
            out(f'{_ING[verb]} "{name}"...\n')
            method = {"Start": "start", "Stop": "stop", "Kill": "kill", "Restart": "restart"}[verb]
            _call(ctx, method, name)
            out(f'Machine "{name}" was {past}.\n')

        _each(names, act)
        if verb in ("Start", "Restart"):
            out(
                f"{past.capitalize()} machines may have new IP addresses. You may need to re-run "
                f"the `{prog_name()} env` command.\n"
            )
        return 0

    return command


def _call(ctx: Context, method: str, name: str) -> None:
    driver = ctx.driver(name)
    if method == "restart":
        driver.stop(name)
        driver.start(name)
    else:
        getattr(driver, method)(name)


cmd_start = _state_action("Start", "started", State.RUNNING)
cmd_stop = _state_action("Stop", "stopped", State.STOPPED)
cmd_kill = _state_action("Kill", "killed", State.STOPPED)
cmd_restart = _state_action("Restart", "restarted", None)


def cmd_rm(ctx: Context, argv: list[str]) -> int:
    parser = _parser("rm")
    parser.add_argument("-f", "--force", action="store_true")
    parser.add_argument("-y", action="store_true")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    if not args.names:
        raise UsageError("Error: Expected to get one or more machine names as arguments")
    from dojo_exec.machines import formats

    out(formats.rm_preamble(args.names))
    if not (args.y or args.force):
        out(formats.RM_PROMPT)
        answer = sys.stdin.readline()
        if not answer.strip().lower().startswith("y"):
            return 0
    errors: list[str] = []

    def remove(name: str) -> tuple[str, str]:
        """Remove one machine; returns (stdout, stderr) text, printed in argument order."""
        try:
            ctx.driver(name).remove(name, force=args.force)
        except MachineError as error:
            message = f'Error removing host "{name}": {error}'
            if args.force:
                if ctx.store.exists(name):
                    ctx.store.remove(name)
                    return f"Successfully removed {name}\n", message + "\n"
                return "", message + "\n"
            errors.append(message)
            return "", ""
        return f"Successfully removed {name}\n", ""

    import concurrent.futures

    # removed in parallel, reported in the order given (as docker-machine does)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(args.names))) as pool:
        for stdout, stderr in pool.map(remove, args.names):
            if stderr:
                err(stderr.rstrip("\n"))
            if stdout:
                out(stdout)
    _release_shared_services(ctx)
    if errors and not args.force:
        raise MachineError("\n".join(errors))
    return 0


def _release_shared_services(ctx: Context) -> None:
    """After ``rm``: the shared services (mirror) go if no machine of any run is left.

    A failure here is reported on stderr and does not fail ``rm`` (its machines are gone);
    ``dojo-machine down --all`` removes what is left.
    """
    if providers.EMBEDDED not in ctx._drivers:
        return  # no embedded machine was removed: the shared services are its
    import docker.errors

    from dojo_exec.machines.teardown import DindSweeper

    try:
        DindSweeper().release()
    except (MachineError, docker.errors.DockerException) as error:
        err(f"could not remove the shared services: {error}")


def cmd_ssh(ctx: Context, argv: list[str]) -> int:
    names = argv[:1]
    (name,) = ctx.target(names)
    ctx.load(name)
    command = argv[1:]
    if command and command[0] == "--":
        command = command[1:]
    return int(ctx.reader(name).exec(name, command, interactive=sys.stdin.isatty()))


def cmd_version(ctx: Context, argv: list[str]) -> int:
    names = _names(argv, "version")
    if not names:
        out(f"{prog_name()} version {VERSION}, build dojo-exec (embedded driver)\n")
        return 0
    if len(names) != 1:
        raise MachineError("Error: Expected one machine name as an argument")
    ctx.load(names[0])
    if ctx.reader(names[0]).state(names[0]) is not State.RUNNING:
        raise HostNotRunning(names[0])
    out(ctx.reader(names[0]).engine_version(names[0]) + "\n")
    return 0


def cmd_down(ctx: Context, argv: list[str]) -> int:
    """Extension: remove a cluster (``--cluster C``, default ``$DOJO_CLUSTER``) or ``--all``."""
    parser = _parser("down")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--cluster", default=None)
    group.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)
    cluster = None if args.all else (args.cluster or cluster_name())
    removed: list[str] = []
    for sweeper in providers.sweepers():
        removed += sweeper.remove(Scope(cluster=cluster, stores=[ctx.store]))
    for item in removed:
        out(f"Removed {item}\n")
    return 0


def cmd_unsupported(command: str) -> Callable[[Context, list[str]], int]:
    def run(ctx: Context, argv: list[str]) -> int:
        raise MachineError(f'"{command}" is not supported by the embedded driver')

    return run


def cmd_help(ctx: Context, argv: list[str]) -> int:
    out(HELP.format(prog=prog_name(), version=VERSION))
    return 0


HELP = """Usage: {prog} [OPTIONS] COMMAND [arg...]

Create and manage machines running Docker (dojo-exec's providers: embedded, each machine a
Docker-in-Docker container, or qemu, each machine a QEMU VM; both serve a TLS engine;
docker-machine {version} compatible commands).

Options:
  --debug, -D                       Enable debug mode
  --storage-path, -s                Configures storage path [$MACHINE_STORAGE_PATH]
  --help, -h                        show help
  --version, -v                     print the version

Commands:
  active            Print which machine is active
  config            Print the connection config for machine
  create            Create a machine
  env               Display the commands to set up the environment for the Docker client
  inspect           Inspect information about a machine
  ip                Get the IP address of a machine
  kill              Kill a machine
  ls                List machines
  restart           Restart a machine
  rm                Remove a machine
  ssh               Log into or run a command on a machine (docker exec; ssh on qemu)
  start             Start a machine
  status            Get the status of a machine
  stop              Stop a machine
  url               Get the URL of a machine
  version           Show the Docker Machine version or a machine docker version
  down              Remove every object of a cluster (--cluster C, or --all) [dojo extension]
  help              Shows a list of commands or help for one command

Environment: MACHINE_STORAGE_PATH, DOJO_CLUSTER (namespace), DOJO_NODE_SUITE (bookworm|trixie|sid),
DOJO_DRIVER (embedded|qemu: the provider of new machines, whatever --driver says).
Run '{prog} COMMAND --help' for more information on a command.
"""

WALKS_REMEMBERED_ENGINES = frozenset({"down"})
"""Commands that may reach engines other than this process's (every engine a run used)."""

COMMANDS: dict[str, Callable[[Context, list[str]], int]] = {
    "active": cmd_active,
    "config": cmd_config,
    "create": cmd_create,
    "env": cmd_env,
    "inspect": cmd_inspect,
    "ip": cmd_ip,
    "kill": cmd_kill,
    "ls": cmd_ls,
    "restart": cmd_restart,
    "rm": cmd_rm,
    "ssh": cmd_ssh,
    "start": cmd_start,
    "status": cmd_status,
    "stop": cmd_stop,
    "url": cmd_url,
    "version": cmd_version,
    "down": cmd_down,
    "help": cmd_help,
    "h": cmd_help,
}
for _name in ("provision", "regenerate-certs", "scp", "upgrade", "mount"):
    COMMANDS[_name] = cmd_unsupported(_name)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"Incorrect Usage: {message}")


def _parser(command: str) -> argparse.ArgumentParser:
    return _Parser(prog=f"{prog_name()} {command}", add_help=True)


def _names(argv: list[str], command: str) -> list[str]:
    parser = _parser(command)
    parser.add_argument("names", nargs="*")
    return list(parser.parse_args(argv).names)


def split_globals(argv: list[str]) -> tuple[dict[str, str | bool], list[str]]:
    """Global options before the command (``-s PATH``, ``-D``, ...); the rest."""
    options: dict[str, str | bool] = {}
    valued = {"-s", "--storage-path", "--github-api-token", "--bugsnag-api-token"}
    valued |= {"--tls-ca-cert", "--tls-ca-key", "--tls-client-cert", "--tls-client-key"}
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        flag, sep, value = argv[i].partition("=")
        if flag in valued:
            if not sep:
                i += 1
                value = argv[i] if i < len(argv) else ""
            options[flag.lstrip("-")] = value
        else:
            options[flag.lstrip("-")] = True
        i += 1
    return options, argv[i:]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    options, rest = split_globals(args)
    if options.get("v") or options.get("version"):
        out(f"{prog_name()} version {VERSION}, build dojo-exec (embedded driver)\n")
        return 0
    if not rest or options.get("h") or options.get("help"):
        return cmd_help(Context(Store()), [])
    path = options.get("s") or options.get("storage-path")
    store = Store(Path(str(path)) if path else storage_path())
    command, command_args = rest[0], rest[1:]
    handler = COMMANDS.get(command)
    # the Docker SDK imports its ssh transport (paramiko, ~80 ms of the ~260 ms a shim call
    # costs) whenever paramiko is installed; without an ssh engine it is not needed, and None
    # in sys.modules makes `import paramiko` an ImportError, which the SDK expects
    skip_ssh = command not in WALKS_REMEMBERED_ENGINES and not may_use_ssh()
    if skip_ssh and "paramiko" not in sys.modules:
        sys.modules["paramiko"] = None  # type: ignore[assignment]
    if handler is None:
        err(f"{prog_name()}: '{command}' is not a {prog_name()} command. See '{prog_name()} help'.")
        return 1
    started = time.monotonic()
    try:
        delegate_if_real(store, command, command_args, args)
        return handler(Context(store, args), command_args)
    except SystemExit as exit_:  # argparse --help
        return int(exit_.code or 0)
    except MachineError as error:
        err(str(error))
    except KeyboardInterrupt:
        err(f"{prog_name()} {command}: interrupted")
        return 130
    except Exception as error:  # the engine's own errors, named with the command
        from dojo_exec.machines.formats import TemplateError

        if isinstance(error, TemplateError):  # a --format's error, shown as it is
            err(str(error))
        else:
            err(f"Error running {prog_name()} {command}: {error}")
    if options.get("D") or options.get("debug"):
        err(f"({time.monotonic() - started:.2f}s)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
