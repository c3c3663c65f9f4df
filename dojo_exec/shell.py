"""One persistent ``bash`` per page, behind a pseudo-terminal.

How a step runs
    The step's text is written to a file in the shell's private temp dir and the shell is
    sent one line, ``. FILE``.  Terminal echo is off and bash runs ``--noediting`` (no
    readline, which would echo by itself), so neither that line nor the step's text appears
    in the output; a sourced file never shows PS2, so multi-line commands and here-docs run
    exactly as written.  Being sourced, the step changes the shell itself: variables, ``cd``,
    functions, aliases, ``eval $(...)`` carry to the next step.  A step may change the
    terminal's settings (``stty sane`` turns echo back on): they are kept, except that echo
    is turned off again before each line the shell is sent, so the runner's own plumbing
    never shows.

How its end is seen
    ``PROMPT_COMMAND`` prints ``\\x1e<token>:<$?>\\x1e`` before each prompt, where ``token`` is
    random per shell; PS1/PS2/PS0 are empty.  Everything read before that sentinel is the
    step's output (stdout and stderr are merged: both are the terminal), ``$?`` its exit
    status.  ``$?`` is preserved for the next step, as at a real prompt.

Output
    What a step prints is read as it comes, but only its last
    :data:`~dojo_exec.screen.MAX_OUTPUT_BYTES` bytes are kept, and the rendered output is
    bounded too (:func:`dojo_exec.screen.render`): a step that floods its terminal costs
    neither memory nor time beyond its timeout, and its output says it was truncated.

Stdin
    A step's stdin is the terminal, as for a reader (``docker run -it`` and
    ``docker-machine ssh NAME`` see a TTY), but nothing is ever typed while a step runs.  A
    command that waits for input therefore waits until the step's timeout, which interrupts
    it (below): it never hangs the page.

Timeouts
    Past its timeout, a step gets Ctrl-C through the pty (SIGINT to the foreground process
    group, as a reader's Ctrl-C).  If the prompt comes back within ``interrupt_grace``
    seconds the shell lives on, its state intact.  Otherwise the foreground group gets
    SIGTERM, then every process of the shell's session gets SIGKILL, and the shell is dead:
    the next ``run`` raises :class:`ShellDied`.  Either way the step is reported
    ``timed_out=True`` with what it printed so far.

Death
    A step that makes bash exit (``exit 3``, ``set -e`` then a failing command) is reported
    ``shell_died=True`` with bash's own exit status in ``shell_exit_status``; the next ``run``
    raises :class:`ShellDied`.  Bash is also checked while a step is silent, so a background
    job still holding the terminal does not hide its death until the timeout.

Leftovers
    :meth:`Shell.close` kills every process of the shell's session, and every process whose
    environment holds the shell's own ``DOJO_SHELL`` value: also what left the session
    (``setsid CMD &``, a daemon's double fork) and ignores SIGHUP.

Signals
    Bash is spawned through :mod:`dojo_exec.spawn`: it and all it runs start with default
    dispositions and nothing blocked, even when the runner was started with SIGINT ignored
    (``nohup … &``, a job runner), so the Ctrl-C of a timeout works, and a pipe closed early
    ends its writer quietly (Python ignores SIGPIPE, which a child would otherwise inherit).

Job notices
    A job that ended between steps is reported by bash (``[1]+  Done  CMD``) as it reads the
    next step's line, at a moment that depends on timing: such notices are not the next step's
    output. A step's own ``[1] PID`` and the notices printed while it runs are kept.

Probes
    :meth:`Shell.probe` runs a command for the runner's own diagnostics in a subshell and
    leaves ``$?`` as it was: the next step cannot tell that it ran.

Terminal
    ``TERM=xterm-256color`` (overridable) with the configured size (default 500×50): programs
    behave as in a reader's terminal (``TERM=dumb`` would change what they print); colours
    and redraws are then resolved by :mod:`dojo_exec.screen`.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import tempfile
import termios
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pexpect

from dojo_exec import spawn
from dojo_exec.screen import DEFAULT_COLUMNS, MAX_OUTPUT_BYTES, render_output, strip_ansi

DEFAULT_TERM = "xterm-256color"
_READ_SIZE = 65536
_POLL = 0.25  # seconds between liveness checks while waiting for output
_SENTINEL_ROOM = 64  # bytes held back while reading, in case a sentinel is split across reads


_STATUS = "__dojo_status"
_FLAGS = "__dojo_flags"
_XTRACE_BACK = (
    "{ printf '\\037%s\\037' BEGIN; "
    f"[[ ${_FLAGS} == *x* ]] && set -x; "
    f'[[ ${_FLAGS} == *e* ]] || __dojo_return "${_STATUS}"; }} 2>/dev/null\n'
)
"""First line of every step's file: a marker where the step begins (``BEGIN`` is replaced by
the shell's token), then ``set -x`` again if a step had set it (its own trace
hidden), so that a trace shows the step's commands and none of the runner's; then ``$?``
is the previous step's status again (``__dojo_return``, defined at start, sets it without a
subshell). Under ``set -e`` it is left at 0, which is what a step can see there anyway:
a non-zero status would have ended the shell (and setting one would now)."""

_JOB_NOTICE = re.compile(rb"(?m)^\[\d+\][-+ ] +\S[^\r\n]*(?:\r?\n)?")
"""A job status notice as bash prints it: ``[JOB]`` then ``+``, ``-`` or a space."""

MARK_VARIABLE = "DOJO_SHELL"
"""Set, to a value unique to each shell, in the environment of the shell (and so of all it
starts): :meth:`Shell.close` finds by it what left the shell's session, and kills it too."""

PAGERS = ("PAGER", "GIT_PAGER", "SYSTEMD_PAGER", "MANPAGER")
"""Pager variables set to ``cat`` (unless the page's environment sets them): a pager would
wait for keys no one presses, and the step would only end at its timeout."""


@dataclass(frozen=True)
class StepRun:
    """The outcome of one step."""

    output: str  # screen-rendered
    raw: str  # raw decoded pty text of the step (escape sequences included), its last MiB
    exit_status: int | None  # None when timed out / shell died
    duration: float
    timed_out: bool = False
    shell_died: bool = False  # the shell did not survive this step
    shell_exit_status: int | None = None  # bash's own, when it exited (128+N: killed by N)
    written: int = 0  # bytes the step wrote to the terminal in all (raw may be a tail)
    truncated: str | None = None  # what output leaves out (its first line says so), if anything

    @property
    def plain(self) -> str:
        """The raw text with escape sequences stripped but not rendered (diagnostics)."""
        return strip_ansi(self.raw)


class ShellDied(RuntimeError):
    """The page's shell is dead (exited, killed after a timeout, or closed)."""


class _Tail:
    """The last ``limit`` bytes added to it, and how many were added in all."""

    def __init__(self, limit: int = MAX_OUTPUT_BYTES) -> None:
        self.limit = limit
        self.written = 0
        self._buf = bytearray()

    def add(self, data: bytes | bytearray) -> None:
        self.written += len(data)
        self._buf += data
        if len(self._buf) > 2 * self.limit:  # trimmed in halves: amortised O(1) per byte
            del self._buf[: -self.limit]

    def data(self) -> bytes:
        return bytes(self._buf[-self.limit :])


class Shell:
    """A persistent interactive bash on a pty; :meth:`run` runs one step in it."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        columns: int = DEFAULT_COLUMNS,
        rows: int = 50,
        name: str = "page",
        term: str = DEFAULT_TERM,
        interrupt_grace: float = 3.0,
        start_timeout: float = 10.0,
        tmp_base: Path | None = None,
    ) -> None:
        self.env = dict(os.environ if env is None else env)
        self.tmp_base = tmp_base  # where its private folder is made (default: $TMPDIR)
        self.cwd = os.fspath(cwd) if cwd is not None else None
        self.columns = columns
        self.rows = rows
        self.name = name
        self.term = term
        self.interrupt_grace = interrupt_grace
        self.start_timeout = start_timeout
        self._child: pexpect.spawn | None = None
        self._dead = False
        self._tmpdir: Path | None = None
        self._token = secrets.token_hex(8)
        self._mark = f"{MARK_VARIABLE}={secrets.token_hex(8)}"  # in the env of all it starts
        self._begin = b"\x1f" + self._token.encode() + b"\x1f"
        self._sentinel = re.compile(rb"\x1e" + self._token.encode() + rb":(\d+)\x1e")
        self._pending = b""  # bytes read after the last sentinel (e.g. job notices)
        self._steps = 0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Spawn bash and wait for its first (silent) prompt."""
        if self._child is not None:
            return
        self._tmpdir = Path(
            tempfile.mkdtemp(prefix=f"dojo-shell-{_safe(self.name)}-", dir=self.tmp_base)
        )
        env = {**self.env, "TERM": self.term, MARK_VARIABLE: self._mark.partition("=")[2]}
        for var in ("PROMPT_COMMAND", "PS0", "PS1", "PS2", "BASH_ENV", "ENV", "HISTFILE"):
            env.pop(var, None)
        for var in PAGERS:  # no one is there to page through `git log` or `systemctl status`
            env.setdefault(var, "cat")
        program, argv = self._argv()
        self._child = spawn.pty(
            program,
            argv,
            env=env,
            cwd=self.cwd,
            dimensions=(self.rows, self.columns),
            echo=False,
            encoding=None,
            use_poll=True,
        )
        self._child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
        self._child.send(self._before_setup())
        setup = (
            "stty -echo; unset HISTFILE MAILCHECK; set +o history; "
            "__dojo_return() { return $1; }; "
            # The prompt is cleared on every prompt too: a step may set PS1 (venv activate).
            # xtrace (`set -x`) is paused while the runner's plumbing runs, in a group whose
            # own trace goes nowhere; the next step's file turns it back on (see run()).
            f"PROMPT_COMMAND='{{ {_STATUS}=$? {_FLAGS}=$-; set +x; }} 2>/dev/null; "
            f'printf "\\036%s:%s\\036" {self._token} "${_STATUS}"; PS1= PS2= PS0=\'; '
            # Steps are sourced, one level deeper than typed commands: a trace would read
            # `++ cmd`. PS4's first character is repeated per level: a carriage return,
            # invisible on the screen, leaves `+ cmd` as a terminal shows it.
            "PS1=; PS2=; PS0=; PS4=$'\\r+ '\n"
        )
        self._child.send(setup.encode())
        status, _ = self._read_until_prompt(time.monotonic() + self.start_timeout, _Tail())
        if status is None:
            self.close()
            raise ShellDied(f"{self.name}: bash did not start")
        self._pending = b""

    @property
    def alive(self) -> bool:
        """True while the shell can run a step."""
        return self._child is not None and not self._dead and self._child.isalive()

    @property
    def pid(self) -> int | None:
        """The bash process id (its session id too), once started."""
        return self._child.pid if self._child is not None else None

    def close(self) -> None:
        """Kill the shell and every process of its session; idempotent, reaps bash."""
        self._dead = True
        child = self._child
        if child is not None and not child.closed:
            if child.pid is not None:
                _kill_session(child.pid, signal.SIGKILL)
            kill_marked(self._mark)
            with contextlib.suppress(Exception):
                _await_exit(child)
                child.close(force=True)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> Shell:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- steps -------------------------------------------------------------------------

    def run(self, command: str, timeout: float) -> StepRun:
        """Run one step; raises ShellDied if the shell is dead."""
        if self._child is None and not self._dead:
            self.start()
        if not self.alive or self._child is None or self._tmpdir is None:
            raise ShellDied(f"{self.name}: the shell is dead")
        self._steps += 1
        text = _XTRACE_BACK.replace("BEGIN", self._token) + (
            command if command.endswith("\n") else command + "\n"
        )
        started = time.monotonic()
        if not self._deliver(text, started + timeout):
            self._dead = True
            self.close()
            return self._step(_Tail(), None, started, shell_died=True)
        out = _Tail()
        status, eof = self._read_until_prompt(started + timeout, out)
        if status is not None:
            return self._step(out, status, started)
        if eof:
            exit_status = self._exit_status()
            self._dead = True
            self.close()
            return self._step(out, None, started, shell_died=True, shell_exit_status=exit_status)
        return self._interrupt(out, started)

    def probe(self, command: str, timeout: float) -> StepRun:
        """Run ``command`` aside, for diagnostics: the next step cannot tell it ran.

        It runs in a subshell (variables, ``cd``, options and traps stay as they were, and
        ``set -e`` cannot end it early) that exits with the status the shell had before, so
        ``$?`` is kept; the file is sourced from the same path as a step's, so ``$_`` is
        kept too.  ``command`` must not ``exit`` by itself.  Raises ShellDied as :meth:`run`.
        """
        status = f"__dojo_probe_status_{self._token}"
        return self.run(f"( {status}=$?; set +e\n{command}\nexit ${status} )", timeout)

    # -- what differs for a shell on a machine ------------------------------------------

    def _argv(self) -> tuple[str, list[str]]:
        """The program to spawn on the pty, and its arguments."""
        return "bash", ["--noprofile", "--norc", "--noediting", "-i"]

    def _before_setup(self) -> bytes:
        """What to send before the setup line (nothing: bash is already the one we want)."""
        return b""

    def _deliver(self, text: str, deadline: float) -> bool:
        """Make bash source ``text`` as a step; False if the shell died meanwhile."""
        assert self._tmpdir is not None
        script = self._tmpdir / "step.sh"
        script.write_text(text)
        self._send(f". {shlex.quote(str(script))}\n".encode())
        return True

    def _send(self, line: bytes) -> None:
        """Send the runner's own line to bash, echo off first (a step may have turned it on)."""
        assert self._child is not None
        with contextlib.suppress(termios.error, OSError):
            # On Linux the pty master's termios calls act on the terminal bash reads from.
            attrs = termios.tcgetattr(self._child.child_fd)
            if attrs[3] & (termios.ECHO | termios.ECHONL):
                attrs[3] &= ~(termios.ECHO | termios.ECHONL)
                termios.tcsetattr(self._child.child_fd, termios.TCSANOW, attrs)
        self._child.send(line)

    def _exit_status(self) -> int | None:
        """Bash's exit status once it has exited (128+N when killed by signal N), else None."""
        assert self._child is not None
        deadline = time.monotonic() + 1.0
        while True:
            try:
                alive = self._child.isalive()
            except Exception:
                return None
            if not alive:
                break
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)
        if self._child.exitstatus is not None:
            return int(self._child.exitstatus)
        if self._child.signalstatus is not None:
            return 128 + int(self._child.signalstatus)
        return None

    def _interrupt(self, out: _Tail, started: float) -> StepRun:
        """Ctrl-C a step past its timeout; escalate and kill the shell if it stays busy."""
        assert self._child is not None
        self._child.sendintr()
        status, eof = self._read_until_prompt(time.monotonic() + self.interrupt_grace, out)
        if status is not None and self._resync():
            return self._step(out, None, started, timed_out=True)
        if status is None and not eof:
            self._escalate(out)
        self.close()
        return self._step(out, None, started, timed_out=True, shell_died=True)

    def _resync(self) -> bool:
        """Skip any stray prompt left by the Ctrl-C (it may hit bash idle at its prompt).

        A marker unique to this call is printed; everything up to the prompt that follows it
        is discarded, so a stale sentinel can never end the next step early.  Bash may lose
        the first byte it was reading when SIGINT arrives: the line starts with spaces.
        """
        assert self._child is not None
        marker = secrets.token_hex(8).encode()
        self._send(b"    printf '\\035%s\\035' " + marker + b"\n")
        deadline = time.monotonic() + self.interrupt_grace
        seen = _Tail(limit=4096)
        while marker not in seen.data():
            status, _ = self._read_until_prompt(deadline, seen)
            if status is None:
                return False
        self._pending = b""
        return True

    def _escalate(self, out: _Tail) -> None:
        """SIGTERM the foreground process group, then SIGKILL the session; keep late output."""
        assert self._child is not None
        pid = self._child.pid
        with contextlib.suppress(OSError):
            group = os.tcgetpgrp(self._child.child_fd)
            if group not in (pid, os.getpgrp()):
                os.killpg(group, signal.SIGTERM)
        self._read_until_prompt(time.monotonic() + min(1.0, self.interrupt_grace), out)
        if pid is not None:
            _kill_session(pid, signal.SIGKILL)

    def _step(
        self,
        out: _Tail,
        status: int | None,
        started: float,
        *,
        timed_out: bool = False,
        shell_died: bool = False,
        shell_exit_status: int | None = None,
    ) -> StepRun:
        data, dropped = self._own_bytes(out.data())
        written = out.written - dropped
        output, truncated = render_output(data, self.columns, self.rows, written=written)
        return StepRun(
            output=output,
            raw=data.decode("utf-8", errors="replace"),
            exit_status=status,
            duration=time.monotonic() - started,
            timed_out=timed_out,
            shell_died=shell_died,
            shell_exit_status=shell_exit_status,
            written=written,
            truncated=truncated,
        )

    def _own_bytes(self, data: bytes) -> tuple[bytes, int]:
        """The step's bytes, and how many were dropped: its begin marker, and the job notices
        (``[2]+  Done  CMD``) bash printed as it read the line that started it."""
        at = data.find(self._begin)
        if at < 0:
            return data, 0
        before = _JOB_NOTICE.sub(b"", data[:at])
        return before + data[at + len(self._begin) :], at + len(self._begin) - len(before)

    def _read_until_prompt(self, deadline: float, out: _Tail) -> tuple[int | None, bool]:
        """Read into ``out`` until the sentinel or the deadline: (exit status or None, eof).

        Only the bytes not searched yet (and a sentinel's length before them) are searched,
        and ``out`` keeps only a tail: a flood of output costs no more than reading it.  A
        silent wait checks every ``_POLL`` seconds that bash is still alive.
        """
        assert self._child is not None
        held = bytearray(self._pending)  # read, not yet known to precede no sentinel
        self._pending = b""
        while True:
            match = self._sentinel.search(held)
            if match:
                out.add(held[: match.start()])
                self._pending = bytes(held[match.end() :])
                return int(match.group(1)), False
            if len(held) > _SENTINEL_ROOM:
                out.add(held[:-_SENTINEL_ROOM])
                del held[:-_SENTINEL_ROOM]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                out.add(held)
                return None, False
            try:
                held += self._child.read_nonblocking(_READ_SIZE, timeout=min(remaining, _POLL))
            except pexpect.TIMEOUT:
                if not self._child.isalive():  # dead, its terminal held open by a job
                    out.add(held)
                    return None, True
            except (pexpect.EOF, OSError, ValueError):
                out.add(held)
                return None, True


class MachineShell(Shell):
    """A persistent bash *on a machine*: what a reader gets after ``docker-machine ssh NAME``.

    It is spawned as ``docker-machine ssh NAME`` (the page's own command, with the page's
    environment: its cluster, its storage path), whose login shell is at once replaced by a
    bash with the same plumbing as the page's (``exec bash --noprofile --norc --noediting
    -i``).  The machine cannot read the runner's files, so a step's text is sent through the
    terminal, base64-encoded in lines short enough for a terminal's line buffer, decoded into
    a file in a private folder on the machine and sourced from there: variables, ``cd`` and
    functions carry from step to step on that machine, as in a reader's ssh session.
    """

    CHUNK = 3000  # base64 characters per line: a terminal's line buffer holds 4095

    def __init__(self, machine: str, **kwargs: object) -> None:
        kwargs.setdefault("name", f"machine-{machine}")
        kwargs.setdefault("start_timeout", 30.0)
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.machine = machine

    def _argv(self) -> tuple[str, list[str]]:
        return "docker-machine", ["ssh", self.machine]

    def _before_setup(self) -> bytes:
        return (
            b"exec bash --noprofile --norc --noediting -i\n"
            b"__dojo_dir=$(mktemp -d /tmp/dojo-step.XXXXXX)\n"
        )

    def _deliver(self, text: str, deadline: float) -> bool:
        encoded = base64.b64encode(text.encode()).decode()
        chunks = [encoded[i : i + self.CHUNK] for i in range(0, len(encoded), self.CHUNK)]
        target = '"$__dojo_dir/step"'
        for number, chunk in enumerate(chunks[:-1]):
            redirect = ">" if number == 0 else ">>"
            # each line keeps $? as the previous step left it (the next prompt records it)
            line = f'printf %s {chunk} {redirect} {target}.b64; __dojo_return "$__dojo_status"\n'
            self._send(line.encode())
            status, _ = self._read_until_prompt(deadline, _Tail(limit=4096))
            if status is None:
                return False
        last = chunks[-1] if chunks else ""
        redirect = ">>" if len(chunks) > 1 else ">"
        self._send(
            f"printf %s {last} {redirect} {target}.b64; base64 -d {target}.b64 > {target}.sh; "
            f". {target}.sh\n".encode()
        )
        return True


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:40] or "page"


def session_members(sid: int) -> list[int]:
    """Process ids whose session id is ``sid`` (read from /proc), excluding zombies."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry))
    return members


def marked_processes(mark: str) -> list[int]:
    """Process ids whose environment (as they were started) holds ``mark`` (``NAME=value``)."""
    needle = mark.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry))
    return found


KILL_SETTLE = 0.05
"""Seconds between two rounds of :func:`kill_marked`: back to back, the five rounds could all
pass before a child that a killed ``setsid sh -c 'sleep &'`` was forking existed (it was left,
once, in a loaded test run)."""


def kill_marked(mark: str, rounds: int = 5) -> None:
    """SIGKILL every process started under ``mark``, also those that left the shell's session
    (``setsid CMD &``, a daemon's double fork); repeated while a dying one spawned another."""
    for _ in range(rounds):
        pids = marked_processes(mark)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(KILL_SETTLE)  # a fork in flight when its parent died shows up by the next look


def _await_exit(child: pexpect.spawn, within: float = 1.0) -> None:
    """Wait (a few milliseconds) until a SIGKILLed ``child`` is reaped, so that closing it
    skips ptyprocess's fixed 0.1 s "give the kernel time" sleep: a page's teardown closed
    its shell 0.1 s later than needed, the last page's at the end of every run."""
    deadline = time.monotonic() + within
    while child.isalive() and time.monotonic() < deadline:
        time.sleep(0.002)
    process = getattr(child, "ptyproc", None)  # pexpect's ptyprocess (not in its stubs)
    if process is not None and not child.isalive():
        process.delayafterclose = 0.0


def _kill_session(sid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to every process of the shell's session (its jobs' groups included)."""
    for pid in session_members(sid):
        with contextlib.suppress(OSError):
            os.kill(pid, sig)
