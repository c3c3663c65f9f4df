"""Tasks: tests, lint, verify-docs, update-docs, matrix, qemu, soak, interrupts, docs,
docs-zensical, slides, serve, bench.

Every session installs the project into its own virtualenv, so a fresh machine needs
only Python, nox and (for the Docker sessions) a running Docker engine.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections.abc import Iterator

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # material's end-of-life banner

PAGES = "docs"
TRANSCRIPTS = "transcripts"
# Pages run in parallel on separate clusters: one pytest-xdist worker per page file.
PARALLEL = os.environ.get("DOJO_PARALLEL", "5")  # 5 measured fastest on 2 cores


def _install(session: nox.Session, *extras: str) -> None:
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", spec)


def _prepare(session: nox.Session) -> None:
    """Build what is missing: node image, stand-in images, registry mirror."""
    session.run("dojo-exec", "prepare")


@contextlib.contextmanager
def _machines(session: nox.Session, engine: str | None = None) -> Iterator[None]:
    """Images are kept between runs; every container, network and volume is removed after.

    ``DOJO_RUN`` labels what this session creates, so that its leak check and its clean-up
    concern only its own machines: another session running meanwhile keeps its swarms.
    ``engine``: the node image's Docker engine (``--engine`` of ``dojo-exec prepare``).
    """
    session.env["DOJO_RUN"] = f"nox-{session.name}-{uuid.uuid4().hex[:8]}"
    if engine:
        session.run("dojo-exec", "prepare", "--engine", engine)
    else:
        _prepare(session)
    try:
        yield
    finally:
        session.run("dojo-exec", "down", silent=True)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests, integration tests on the real engine, site and browser tests."""
    _install(session, "test")
    with _machines(session):
        _pytest_tests(session)


def _pytest_tests(session: nox.Session) -> None:
    session.run(
        "pytest",
        "tests",
        "-p",
        "no:cacheprovider",
        "-m",
        "not tutorial",
        "-n",
        "2",
        "--dist",
        "loadgroup",
        "--timeout",
        "900",
        *session.posargs,
    )


@nox.session
def tutorial(session: nox.Session) -> None:
    """Tutorials as their authors wrote them: one update, then verify, must pass.

    Docker's own swarm tutorial (adopted with options only), one written in its style with
    2016 outputs, and the dojo's pages given back the seed's 2016 promises. Slow (each page
    runs in update, its confirming second run, verify, and a second update), so it is not
    part of ``tests``.
    """
    _install(session, "test")
    with _machines(session):
        session.run(
            "pytest",
            "tests",
            "-p",
            "no:cacheprovider",
            "-m",
            "tutorial",
            "--timeout",
            "3600",
            *session.posargs,
        )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format check) and mypy."""
    _install(session, "lint")
    session.run("ruff", "check", "dojo_exec", "tests", "noxfile.py", "benchmarks")
    session.run("ruff", "format", "--check", "dojo_exec", "tests", "noxfile.py", "benchmarks")
    session.run("mypy", "dojo_exec")


ENGINES = ("20.10", "26", "28")
"""The Docker engines ``nox -s matrix`` verifies the pages on (``--engine`` values)."""


def _page_args(posargs: list[str]) -> tuple[list[str], str | None]:
    """The session's arguments for pytest, and the engine chosen: ``--changed`` is
    ``--dojo-changed``, ``--engine V`` (or ``--engine=V``) is ``--dojo-engine V``."""
    args: list[str] = []
    engine = None
    rest = iter(posargs)
    for arg in rest:
        if arg == "--changed":
            args.append("--dojo-changed")
        elif arg == "--engine":
            engine = next(rest, None)
        elif arg.startswith("--engine="):
            engine = arg.partition("=")[2]
        else:
            args.append(arg)
    if engine:
        args += ["--dojo-engine", engine]
    return args, engine


def _host_engines(session: nox.Session, args: list[str]) -> list[str]:
    """``--engines A,B``: page clusters spread over these Docker engines (``$DOJO_ENGINES``:
    prepare copies the images to each, pytest's ``--dojo-engines``, leaks and down cover them)."""
    kept: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--engines":
            session.env["DOJO_ENGINES"] = next(rest, "")
        elif arg.startswith("--engines="):
            session.env["DOJO_ENGINES"] = arg.partition("=")[2]
        else:
            kept.append(arg)
    return kept


def _run_pages(session: nox.Session, *extra: str) -> None:
    _install(session, "test")
    args, engine = _page_args(session.posargs)
    args = _host_engines(session, args)
    with _machines(session, engine):
        _pytest_pages(session, *extra, *args)


def _on_qemu(args: tuple[str, ...] | list[str]) -> bool:
    """``--dojo-driver qemu`` among ``args``: then one page at a time (three VMs at once)."""
    return any(
        arg == "--dojo-driver=qemu" or (arg == "--dojo-driver" and nxt == "qemu")
        for arg, nxt in itertools.pairwise([*args, ""])  # no args: no pairs
    )


def _pytest_pages(session: nox.Session, *extra: str) -> None:
    session.run(
        "pytest",
        PAGES,
        "-p",
        "no:cacheprovider",
        "--assert=plain",  # as dojo-exec verify: see PAGE_RUN_OPTIONS in dojo_exec/cli.py
        "-n",
        "1" if _on_qemu(extra) else PARALLEL,
        "--dist",
        "loadfile",
        "--dojo-transcripts",
        TRANSCRIPTS,
        "--timeout",
        "1200",
        *extra,
    )
    session.run("dojo-exec", "leaks", "--fail")


@nox.session(name="verify-docs")
def verify_docs(session: nox.Session) -> None:
    """Run every step of every page on embedded swarms, record transcripts, build the site.

    The site build includes the deck (``site/slides/``): a step a slide names that is gone
    fails it, a step shown that failed or is stale fails ``--strict``.
    ``-- --engine 26``: on that Docker engine (default 20.10); ``-- --changed``: only the pages
    whose steps, or whose prerequisites' steps, changed since their recorded run on it.
    ``-- --engines A,B``: the page clusters spread over these Docker engines (URLs or contexts).
    """
    _run_pages(session)
    session.run("mkdocs", "build", "--strict")


@nox.session
def matrix(session: nox.Session) -> None:
    """Verify the pages on every engine of :data:`ENGINES`, one after the other (each engine's
    pages in parallel; a page's transcript keeps the latest run of each engine), then build
    the site.  ``-- --changed``: on each engine, only what changed since its recorded runs."""
    _install(session, "test")
    args, _ = _page_args(session.posargs)
    for engine in ENGINES:
        with _machines(session, engine):
            _pytest_pages(session, *args, "--dojo-engine", engine)
    session.run("mkdocs", "build", "--strict")


@nox.session
def qemu(session: nox.Session) -> None:
    """The qemu provider's tests on real QEMU VMs (also part of ``tests``), one at a time.

    The whole dojo on qemu VMs is ``nox -s verify-docs -- --dojo-driver qemu`` (slow under
    TCG: one page at a time, its transcripts kept beside the embedded runs).
    """
    _install(session, "test")
    with _machines(session):
        session.run(
            "pytest",
            "tests/machines/test_qemu.py",
            "tests/machines/test_qemu_pages.py",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            *session.posargs,
        )


@nox.session(name="update-docs")
def update_docs(session: nox.Session) -> None:
    """Re-run every page and rewrite the promises that drifted (review with git diff)."""
    _run_pages(session, "--dojo-update")


@nox.session
def soak(session: nox.Session) -> None:
    """The full verification N times in a row (``-- --runs N``, default 5): per run passes,
    waits/retries and the slowest step; fails unless every run is green.  Each run records
    in a temporary folder: the committed transcripts are not rewritten."""
    _install(session, "test")
    with _machines(session):
        session.run("python", "benchmarks/soak.py", *session.posargs)


@nox.session
def interrupts(session: nox.Session) -> None:
    """SIGINT/SIGTERM at 24 random points of real runs (``tests`` runs 6 of them): nothing left.

    ``DOJO_INTERRUPT_SEED=N`` repeats a draw; ``DOJO_INTERRUPTS=N`` sets the count."""
    _install(session, "test")
    session.env["DOJO_INTERRUPTS"] = os.environ.get("DOJO_INTERRUPTS", "24")
    with _machines(session):
        session.run("pytest", "tests/test_interrupts.py", "-p", "no:cacheprovider", "-s",
                    "-n", "0", "--timeout", "3600", *session.posargs)  # fmt: skip


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site, and the deck into site/slides/, from the committed transcripts."""
    _install(session)
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session(name="docs-zensical")
def docs_zensical(session: nox.Session) -> None:
    """The same site built with Zensical from the committed transcripts, offline: no MkDocs
    plugin runs there, the ``dojo_exec.markdown`` extension renders the steps and the report;
    then the deck into site/slides/ (``--strict``: a step it shows is stale or failed)."""
    _install(session, "zensical")
    session.run("zensical", "build", "--clean", "--strict", *session.posargs)
    session.run("python", "-m", "dojo_exec.markdown.assets", "site")
    session.run("python", "-m", "dojo_exec.slides", "--strict", "--out", "site/slides")


@nox.session
def slides(session: nox.Session) -> None:
    """Build the workshop deck alone (slides/deck.md → site/slides/), no Docker needed.

    reveal.js is fetched once with npm into .dojo/vendor/; ``-- --strict`` fails when a step
    shown is stale or failed.
    """
    _install(session)
    session.run("python", "-m", "dojo_exec.slides", *session.posargs)


@nox.session
def serve(session: nox.Session) -> None:
    """Preview the site with live reload."""
    _install(session)
    session.run("mkdocs", "serve", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: page engine, machines, site build; figures as ratios from one run.

    ``nox -s bench -- machines`` runs only the benchmarks whose name contains a word given.
    """
    _install(session, "test")
    with _machines(session):
        for script in sorted(os.listdir("benchmarks")):
            if not (script.startswith("bench_") and script.endswith(".py")):
                continue
            if session.posargs and not any(word in script for word in session.posargs):
                continue
            session.run("python", f"benchmarks/{script}")
