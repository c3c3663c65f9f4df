"""``dojo-exec``: prepare images, run or update pages, find and remove leftovers.

dojo-exec prepare [--engine V] [--engines A,B]  build what is missing (node image, stand-in
                              images); on each engine of A,B, copied from the default one
dojo-exec verify [PAGES] [--changed] [--engine V] [-- PYTEST ARGS]
                              run pages (default docs/), record transcripts; --changed: only
                              the pages changed since their recorded runs on that engine
dojo-exec update [PAGES]      run pages and rewrite drifted promises
dojo-exec report [PAGES] [--engine V]  each page against its latest recorded run (on engine V)
dojo-exec leaks [--fail]      list what machines left (containers, VMs; $DOJO_RUN's only)
dojo-exec down [--all]        remove embedded machines, networks, volumes ($DOJO_RUN's or all)
                              leaks and down cover every engine the run made machines on
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from collections.abc import Callable

    import docker

    from dojo_exec.machines.driver import Sweeper
    from dojo_exec.machines.engines import Engine

err = Console(stderr=True, emoji=False, highlight=False)


DEFAULT_DOCS_ROOT = "docs"
DOCS_ROOT_HELP = "pages are named relative to it (default: docs, or the one folder given)"


def _client() -> docker.DockerClient:
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except DockerException as error:
        err.print(f"[red]dojo-exec: no Docker engine answers ({error}); start one first[/red]")
        raise SystemExit(2) from None
    return client


def _engines(args: argparse.Namespace) -> list[Engine]:
    """``--engines A,B`` (else ``$DOJO_ENGINES``): the Docker engines named, [] for none."""
    from dojo_exec.machines.engines import ENV_ENGINES, parse_engines

    listed = getattr(args, "engines", None) or os.environ.get(ENV_ENGINES, "")
    if not listed:
        return []
    try:
        return parse_engines(listed)
    except ValueError as error:
        err.print(f"dojo-exec: --engines: {error}", style="red", markup=False)
        raise SystemExit(2) from None


def _engine_client(engine: Engine) -> docker.DockerClient:
    """A client of ``engine`` that answers, or a one-line error naming it."""
    from dojo_exec.machines.driver import MachineError

    try:
        client = engine.client()
        client.ping()
    except Exception as error:  # MachineError, the SDK's, an ssh failure
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if not isinstance(error, MachineError):
            message = f"engine {engine.describe()} does not answer: {message}"
        err.print(f"dojo-exec: {message}", style="red", markup=False, soft_wrap=True)
        raise SystemExit(2) from None
    return client


def prepare(args: argparse.Namespace) -> int:
    """Build the node image and the stand-in images when missing (or stale); with
    ``--engines``, on each engine, copying from the default engine what it already has."""
    from dojo_exec.machines.engine_images import copy_images, wanted_images
    from dojo_exec.machines.suites import DEFAULT_SUITE

    _choose_engine(args)
    client = _client()
    compile_bytecode()
    suite = os.environ.get("DOJO_NODE_SUITE", DEFAULT_SUITE)
    engines = _engines(args)
    if not engines:
        return _prepare_on(client, suite)
    source = _identity(client)
    for engine in engines:
        target = _engine_client(engine)
        err.print(f"engine {engine.describe()}:")
        if _identity(target) != source:
            with err.status("copying images from the default engine…"):
                copy_images(client, target, wanted_images(suite), log=lambda m: err.print(f"  {m}"))
        if _prepare_on(target, suite):
            return 1
    return 0


def compile_bytecode() -> bool:
    """Write this package's bytecode caches where they are missing or stale.

    Pages call the ``docker-machine`` shim hundreds of times per run; with
    ``PYTHONDONTWRITEBYTECODE`` set, Python reads bytecode caches but never writes them, so
    every call compiled the modules it imports again (15-20 ms of CPU each). A package
    folder that cannot be written is left as it is.
    """
    import compileall

    return bool(compileall.compile_dir(Path(__file__).parent, quiet=2))


def _identity(client: docker.DockerClient) -> tuple[str, str]:
    """An engine's ID and data root: two dockerd of one host share the ID (``key.json``)."""
    info = client.info()
    return str(info.get("ID")), str(info.get("DockerRootDir"))


def _prepare_on(client: docker.DockerClient, suite: str) -> int:
    """Build what is missing on ``client``'s engine (node image of ``suite``, stand-ins)."""
    from dojo_exec.machines.internet import ensure_internet_image
    from dojo_exec.machines.mirror import ensure_filled_image
    from dojo_exec.machines.node_image import ensure_node_image
    from dojo_exec.machines.offline import use_stand_ins
    from dojo_exec.machines.stand_ins import ensure_stand_ins

    with err.status(f"node image ({suite})…"):
        tag = ensure_node_image(client, suite, log=lambda m: err.print(f"  {m}"))
    err.print(f"node image: {tag}")
    if not use_stand_ins(client):
        err.print("images: a registry is reachable; the machines pull the real images")
        return 0
    with err.status("stand-in images…"):
        images = ensure_stand_ins(client, log=lambda m: err.print(f"  {m}"))
        internet = ensure_internet_image(client, log=lambda m: err.print(f"  {m}"))
        mirror = ensure_filled_image(client, log=lambda m: err.print(f"  {m}"))
    err.print(f"stand-in images: {', '.join(images)}; internet stand-in: {internet}")
    err.print(f"registry mirror image: {mirror}")
    return 0


def _run_scope() -> str | None:
    """``$DOJO_RUN``: nox sessions set it, so that they touch only what they created."""
    from dojo_exec.machines.labels import current_run

    try:
        return current_run()
    except ValueError as error:
        err.print(f"[red]dojo-exec: {error}[/red]")
        raise SystemExit(2) from None


def leaks(args: argparse.Namespace) -> int:
    """List what machines left behind; with --fail, exit 1 when anything is left.

    Inside a run (``$DOJO_RUN``) only what that run created is listed. The registry mirror is
    shared by every cluster and kept between runs on purpose; it is listed only with
    ``--all`` (``dojo-exec down`` removes it).
    """
    from dojo_exec.machines.driver import Scope
    from dojo_exec.machines.engines import engines_to_sweep
    from dojo_exec.machines.mirror import MIRROR_NAME
    from dojo_exec.machines.providers import sweepers

    _client()  # no engine: a one-line error
    run = None if args.all else (args.scope or _run_scope())
    if run is not None:
        err.print(f"(what run {run} created; DOJO_RUN= or --all for everything)")
    kept = set() if args.all else {f"container {MIRROR_NAME}"}
    found, unreachable = _per_engine(
        sweepers(engines_to_sweep(run, _engines(args))), lambda s: s.leaks(Scope(run=run))
    )
    found = [item for item in found if item.partition(" (on ")[0] not in kept]
    for item in found:
        print(item)
    if not found and not unreachable:
        err.print("no leftovers")
    return 1 if ((found or unreachable) and args.fail) else 0


def _per_engine(
    sweepers: Sequence[Sweeper], act: Callable[[Sweeper], list[str]]
) -> tuple[list[str], int]:
    """``act`` on every sweeper; the items (those of an engine other than the default named
    ``… (on ENGINE)``) and how many engines did not answer (each a one-line error)."""
    from dojo_exec.machines.driver import MachineError
    from dojo_exec.machines.engines import current_engine

    default = current_engine()
    items: list[str] = []
    unreachable = 0
    for sweeper in sweepers:
        engine = getattr(sweeper, "engine", None)
        try:
            found = act(sweeper)
        except MachineError as error:
            message = f"dojo-exec: {error}".splitlines()[0]
            err.print(message, style="red", markup=False, soft_wrap=True)
            unreachable += 1
            continue
        if engine is not None and engine != default:
            found = [f"{item} (on {engine.describe()})" for item in found]
        items += found
    return items, unreachable


def down(args: argparse.Namespace) -> int:
    """Remove what the machines created (every provider's): this run's (``$DOJO_RUN``) or all."""
    from dojo_exec.machines.driver import Scope
    from dojo_exec.machines.engines import engines_to_sweep, forget
    from dojo_exec.machines.providers import sweepers

    _client()  # no engine: a one-line error
    run = None if args.all else (args.scope or _run_scope())
    removed, unreachable = _per_engine(
        sweepers(engines_to_sweep(run, _engines(args))), lambda s: s.remove(Scope(run=run))
    )
    for item in removed:
        print(f"removed {item}")
    if unreachable:
        return 1
    forget(run)  # every engine it used is clean
    return 0


ENGINES_HELP = (
    "Docker engines the machines run on (URLs: unix://, tcp://, ssh://, or docker context "
    "names); default: $DOJO_ENGINES, with the default engine and those the run used"
)
ENGINE_HELP = (
    "the machines' Docker engine: a version or its start (20.10, 26, 28) or a Debian suite "
    "(bookworm, trixie, sid); default: $DOJO_NODE_SUITE, else bookworm (20.10)"
)


def _choose_engine(args: argparse.Namespace) -> None:
    """``--engine V``: the node image suite of that engine, for this process and its children."""
    from dojo_exec.machines.suites import suite_for

    engine = getattr(args, "engine", None)
    if engine is None:
        return
    try:
        os.environ["DOJO_NODE_SUITE"] = suite_for(engine)
    except ValueError as error:
        err.print(f"dojo-exec: {error}", style="red", markup=False, soft_wrap=True)
        raise SystemExit(2) from None


def _engine_version(engine: str | None) -> str | None:
    """The Docker version ``--engine`` names (``26`` → ``26.1.5``), None when not given."""
    from dojo_exec.machines.suites import ENGINES, suite_for

    if engine is None:
        return None
    try:
        return ENGINES[suite_for(engine)]
    except ValueError as error:
        err.print(f"dojo-exec: {error}", style="red", markup=False, soft_wrap=True)
        raise SystemExit(2) from None


PAGE_RUN_OPTIONS = ("-p", "no:cacheprovider", "--assert=plain")
"""pytest options of a run of pages (``nox -s verify-docs`` passes the same): no cache folder
in the reader's project, and no assertion rewriting.  pytest rewrites the modules of every
plugin installed with an entry point (this package, 41 modules at start-up) in each process;
with ``PYTHONDONTWRITEBYTECODE`` set it cannot cache them and does it again each time: a
parallel run's workers reached their command line with 0.46 s of CPU each, 0.27 s without,
all of them at once, while the first pages make their machines.  Pages have no Python asserts."""


def _pytest(args: argparse.Namespace, *options: str) -> int:
    import pytest

    _choose_engine(args)
    if args.changed:
        options = (*options, "--dojo-changed")
    if args.engine is not None:
        options = (*options, "--dojo-engine", args.engine)
    if args.engines:
        options = (*options, "--dojo-engines", args.engines)

    extra = list(args.pytest_args)
    docs_root = args.docs_root
    targets = args.pages or ["docs"]
    if docs_root == DEFAULT_DOCS_ROOT and len(targets) == 1 and Path(targets[0]).is_dir():
        docs_root = targets[0]  # transcripts are named relative to the folder verified
    parallel = any(arg == "-n" or arg.startswith(("-n", "--numprocesses")) for arg in extra)
    if parallel and not any(arg.startswith("--dist") for arg in extra):
        # a page's steps share one shell: each page must stay on one worker, or its
        # transcript is never recorded
        extra += ["--dist", "loadfile"]
    return int(
        pytest.main(
            [
                *PAGE_RUN_OPTIONS,
                "--dojo-collect",
                "--dojo-transcripts",
                args.transcripts,
                "--dojo-docs-root",
                docs_root,
                *options,
                *targets,
                *extra,
            ]
        )
    )


def verify(args: argparse.Namespace) -> int:
    return _pytest(args)


def update(args: argparse.Namespace) -> int:
    return _pytest(args, "--dojo-update")


def _page_files(targets: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for target in targets:
        path = Path(target)
        # a folder named like a page (``notes.md/``) is no page; one given by name is refused
        files += sorted(p for p in path.rglob("*.md") if p.is_file()) if path.is_dir() else [path]
    return files


def report(args: argparse.Namespace) -> int:
    """Every page with steps against its latest recorded run; --fail: exit 1 on any problem."""
    from rich.table import Column, Table

    from dojo_exec.display import format_date
    from dojo_exec.freshness import page_freshness
    from dojo_exec.page import PageError, parse_page, resolve_order
    from dojo_exec.transcripts import TranscriptError, load_transcript, page_key
    from dojo_exec.verdicts import count_failed

    transcripts, docs_root = Path(args.transcripts), Path(args.docs_root)
    engine = _engine_version(args.engine)
    headers = ("page", "last run", "engine", "driver", "passed", "failed", "skipped", "stale",
               "missing")  # fmt: skip
    table = Table(*(Column(name, no_wrap=True) for name in headers), box=None)
    problems: list[str] = []
    for path in _page_files(args.pages or ["docs"]):
        try:
            page = parse_page(path)
            if page.requires:  # a missing prerequisite or a cycle, as verify finds it
                resolve_order(path)
            if not page.steps:
                continue
            transcript = load_transcript(transcripts, page_key(path, docs_root))
        except (PageError, TranscriptError) as error:
            err.print(str(error), style="red", markup=False, soft_wrap=True)
            return 2
        except OSError as error:
            err.print(
                f"{path}: cannot read it: {error.strerror}",
                style="red",
                markup=False,
                soft_wrap=True,
            )
            return 2
        if transcript is None:
            run = None
        else:
            run = transcript.latest if engine is None else transcript.latest_on(engine)
        judged = page_freshness(page, run)
        counts = judged.counts
        failed = count_failed(counts)
        table.add_row(
            page_key(path, docs_root),
            format_date(run.started) if run else "never",
            run.docker_engine if run else "",
            run.driver if run else "",
            *(str(n) for n in (counts["passed"], failed, counts["skipped"])),
            *(str(n) for n in (counts["stale"], counts["missing"])),
        )
        for outcome in judged.problems:
            why = {"stale": "edited since its latest run", "missing": "no recorded run"}.get(
                outcome.status, f"{outcome.status} in its latest run"
            )
            problems.append(f"{outcome.step.location}: {why}")
    Console(width=max(160, Console().width)).print(table)
    for line in problems:
        print(line)
    return 1 if (problems and args.fail) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dojo-exec", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    preparing = commands.add_parser("prepare", help="build node and stand-in images")
    preparing.add_argument("--engine", metavar="V", help=ENGINE_HELP)
    preparing.add_argument("--engines", metavar="A,B", help=ENGINES_HELP)
    preparing.set_defaults(run=prepare)
    for name, run in (("verify", verify), ("update", update)):
        sub = commands.add_parser(name, help=f"{name} pages (pytest arguments after --)")
        sub.add_argument("pages", nargs="*")
        sub.add_argument("--transcripts", default="transcripts")
        sub.add_argument("--docs-root", default=DEFAULT_DOCS_ROOT, help=DOCS_ROOT_HELP)
        sub.add_argument(
            "--changed",
            action="store_true",
            help="only the pages whose steps, or whose prerequisites' steps, changed since "
            "their latest run recorded on this engine",
        )
        sub.add_argument("--engine", metavar="V", help=ENGINE_HELP)
        sub.add_argument("--engines", metavar="A,B", help=ENGINES_HELP)
        sub.set_defaults(run=run, pytest_args=[])
    shown = commands.add_parser("report", help="pages against their latest recorded runs")
    shown.add_argument("pages", nargs="*", help="pages or folders (default: docs)")
    shown.add_argument("--transcripts", default="transcripts")
    shown.add_argument(
        "--docs-root", default=DEFAULT_DOCS_ROOT, help="pages are named relative to it"
    )
    shown.add_argument(
        "--fail", action="store_true", help="exit 1 on a failed, stale or missing step"
    )
    shown.add_argument(
        "--engine", metavar="V", help="against the latest run on this engine (20.10, 26, 28)"
    )
    shown.set_defaults(run=report)
    found = commands.add_parser("leaks", help="list leftovers of embedded machines")
    found.add_argument("--fail", action="store_true", help="exit 1 when anything is left")
    found.add_argument(
        "--all", action="store_true", help="every run's leftovers and the shared registry mirror"
    )
    found.add_argument("--run", dest="scope", metavar="RUN", help="this run's (as $DOJO_RUN=RUN)")
    found.add_argument("--engines", metavar="A,B", help=ENGINES_HELP)
    found.set_defaults(run=leaks)
    removing = commands.add_parser("down", help="remove embedded machines ($DOJO_RUN's or all)")
    scope = removing.add_mutually_exclusive_group()
    scope.add_argument("--all", action="store_true", help="every run's, even with $DOJO_RUN")
    scope.add_argument("--run", dest="scope", metavar="RUN", help="this run's (as $DOJO_RUN=RUN)")
    removing.add_argument("--engines", metavar="A,B", help=ENGINES_HELP)
    removing.set_defaults(run=down)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in arguments:
        split = arguments.index("--")
        arguments, extra = arguments[:split], arguments[split + 1 :]
    args = build_parser().parse_args(arguments)
    if extra:
        args.pytest_args = extra
    from dojo_exec.interrupts import settled, terminate_as_interrupt

    terminate_as_interrupt()  # a SIGTERM ends any command as Ctrl-C does, cleaning up
    try:
        status = int(args.run(args))
        settled()  # done: a late signal must not turn the status into "killed" as Python exits
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM outside pytest's session (its summary)
        settled()
        err.print("dojo-exec: interrupted", style="red", markup=False)
        return int(INTERRUPTED)
    return status


INTERRUPTED = 2
"""The exit status of an interrupted command, as pytest's for an interrupted run."""


if __name__ == "__main__":
    raise SystemExit(main())
