"""How every process the tool starts begins: the one place that decides its signal state.

A process started from ``nohup … &``, a job runner or a non-interactive shell's ``&``
inherits SIGINT and SIGQUIT (and, under ``nohup``, SIGHUP) *ignored*, and may inherit a
blocked signal mask. A child keeps ignored dispositions and the mask across ``exec``, so
the page's bash and everything it runs would ignore the Ctrl-C that ends a step past its
timeout, and ``docker-machine create`` could not be interrupted. Every spawn site of the
tool goes through this module, so each child starts with the default disposition for each
of :data:`DEFAULT_SIGNALS` and nothing blocked, whatever state the runner was started in.
(:mod:`subprocess`'s ``restore_signals`` covers only SIGPIPE and SIGXFSZ.)

The runner's own dispositions are left as its caller set them, except SIGCHLD: ignored, it
would let the kernel reap the children before they can be waited for (:func:`waitable`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pexpect

DEFAULT_SIGNALS: tuple[signal.Signals, ...] = (
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGHUP,
    signal.SIGTERM,
    signal.SIGPIPE,
    signal.SIGXFSZ,
    signal.SIGCHLD,  # ignored, children would be reaped behind bash's back: no $?
)
"""Signals a child starts with at their default disposition."""


def reset_signals() -> None:
    """Default dispositions for :data:`DEFAULT_SIGNALS` and an empty signal mask.

    Meant for a child between ``fork`` and ``exec`` (``preexec_fn``), or for a process about
    to replace itself with ``exec``.
    """
    for sig in DEFAULT_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, ())


def waitable() -> None:
    """Give this process SIGCHLD's default back if it was started with it ignored.

    With SIGCHLD ignored, a child's exit status is lost (``waitpid`` fails): pexpect takes the
    shell for dead at once. Only the main thread may change a disposition.
    """
    if (
        signal.getsignal(signal.SIGCHLD) == signal.SIG_IGN
        and threading.current_thread() is threading.main_thread()
    ):
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)


def run(argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """:func:`subprocess.run` with the child's signal state reset."""
    waitable()
    return subprocess.run(list(argv), preexec_fn=reset_signals, **kwargs)


def call(argv: Sequence[str], **kwargs: Any) -> int:
    """:func:`subprocess.call` with the child's signal state reset."""
    waitable()
    return subprocess.call(list(argv), preexec_fn=reset_signals, **kwargs)


def popen(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """:class:`subprocess.Popen` with the child's signal state reset."""
    waitable()
    return subprocess.Popen(list(argv), preexec_fn=reset_signals, **kwargs)


def pty(program: str, argv: Sequence[str], **kwargs: Any) -> pexpect.spawn:
    """:class:`pexpect.spawn` (a new session on a new pty) with the child's signal state reset."""
    import pexpect  # only here: a ``docker-machine`` shim call runs no pty

    waitable()
    return pexpect.spawn(program, list(argv), preexec_fn=reset_signals, **kwargs)


def exec_replacing(program: str, argv: Sequence[str]) -> None:
    """Replace this process by ``program`` (``argv[0]`` included), its signal state reset."""
    reset_signals()
    os.execv(program, list(argv))
