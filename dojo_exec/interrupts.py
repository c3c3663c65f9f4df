"""How a run ends when it is told to: SIGTERM as Ctrl-C, and clean-ups that finish first.

A job runner, ``timeout``, ``kill`` or a CI cancel ends a run with SIGTERM, whose default
action kills Python at once: no page's cluster removed, no shell killed, no temporary folder
deleted.  :func:`terminate_as_interrupt` makes SIGTERM raise :class:`KeyboardInterrupt`, so
that it ends the run as Ctrl-C does (pytest tears everything down, update writes nothing).
:func:`deferred_interrupts` holds SIGINT and SIGTERM while a clean-up runs, so that an
interrupt arriving then (a second Ctrl-C, or the first one during a page's teardown) takes
effect once it is done instead of leaving half of a cluster behind.
:func:`settled` blocks both once a command's work is done: Python puts the default actions
back while it shuts down, and a SIGTERM arriving then would kill a run that had finished
(status -15 for a run that passed).

Both act only in the main thread (where Python runs signal handlers) and never override a
disposition they did not expect: a signal the parent ignored (``nohup``, a background job)
stays ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

HELD = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"{signal.Signals(signum).name} received")


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def terminate_as_interrupt() -> Callable[[], None]:
    """From now on SIGTERM raises KeyboardInterrupt (when its action is the default one);
    returns what puts the default back."""
    if not _main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None
    signal.signal(signal.SIGTERM, _interrupt)

    def undo() -> None:
        if _main_thread() and signal.getsignal(signal.SIGTERM) is _interrupt:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return undo


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM received in the block are delivered at its end, to the handlers
    they had before it (a signal ignored before stays ignored, and is not held)."""
    if not _main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int] = {}
    for sig in HELD:
        handler = signal.getsignal(sig)
        if handler is None or handler is signal.SIG_IGN:  # not set from Python, or ignored
            continue
        previous[sig] = handler
        signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


def settled() -> None:
    """The command's work is done and its exit status decided: SIGINT and SIGTERM are blocked
    until the process exits (a pending one is dropped with it).

    While the interpreter shuts down (threads joined, modules torn down, pexpect's children
    closed) Python restores each signal's default action, so an interrupt then would end a
    finished run as killed instead of with its status. Children started later get an empty
    mask from :mod:`dojo_exec.spawn`.
    """
    if _main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
