"""Tests of dojo_exec.shell on a real bash behind a real pty."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dojo_exec.screen import MAX_OUTPUT_BYTES, MAX_OUTPUT_LINES
from dojo_exec.shell import Shell, ShellDied, session_members

DATA = Path(__file__).parent / "data" / "shell"


@pytest.fixture
def shell() -> Iterator[Shell]:
    with Shell(name="test", interrupt_grace=1.0) as sh:
        yield sh


def ok(shell: Shell, command: str, timeout: float = 10) -> str:
    run = shell.run(command, timeout)
    assert (run.exit_status, run.timed_out) == (0, False), run
    return run.output


def gone(pid: int) -> bool:
    """True when ``pid`` no longer exists (or is a zombie awaiting its new parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def wait_gone(pids: list[int], within: float = 5) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(gone(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


# -- state carries from step to step --------------------------------------------------------


def test_variables_cd_functions_aliases_and_eval_carry(shell: Shell, tmp_path: Path) -> None:
    ok(shell, "GREETING=hello")
    ok(shell, f"cd {tmp_path}")
    ok(shell, 'greet() { echo "$GREETING $1"; }')
    ok(shell, "alias ll='echo aliased'")
    ok(shell, "eval $(echo export X=1)")
    assert ok(shell, "echo $GREETING; pwd; greet world; ll; echo X=$X") == (
        f"hello\n{tmp_path}\nhello world\naliased\nX=1"
    )
    assert ok(shell, "bash -c 'echo child sees X=$X'") == "child sees X=1"


def test_exit_status_of_the_previous_step_is_kept(shell: Shell) -> None:
    assert shell.run("false", 10).exit_status == 1
    assert ok(shell, "echo $?") == "1"


# -- what a step is ---------------------------------------------------------------------------


def test_multi_line_command_and_here_doc(shell: Shell) -> None:
    command = 'for i in 1 2; do\n  echo "n=$i"\ndone\ncat <<EOF\nfirst $((1 + 1))\n  second\nEOF\n'
    run = shell.run(command, 10)
    assert run.output == "n=1\nn=2\nfirst 2\n  second"
    assert "done" not in run.raw and "EOF" not in run.raw and ">" not in run.raw


def test_quoted_here_doc_and_continuation_lines(shell: Shell) -> None:
    command = "cat <<'EOF'\n$NOT_EXPANDED\nEOF\necho a \\\n  b"
    assert ok(shell, command) == "$NOT_EXPANDED\na b"


def test_command_text_is_not_echoed(shell: Shell) -> None:
    run = shell.run("true # a-unique-marker", 10)
    assert run.raw == "" and run.output == ""


@pytest.mark.parametrize(
    ("command", "status"),
    [("true", 0), ("false", 1), ("(exit 3)", 3), ("exit_ () { return 1; }; exit_", 1)],
)
def test_exit_statuses(shell: Shell, command: str, status: int) -> None:
    run = shell.run(command, 10)
    assert (run.exit_status, run.timed_out, run.shell_died) == (status, False, False)
    assert run.duration >= 0


def test_stderr_is_captured_merged(shell: Shell) -> None:
    assert ok(shell, "echo out; echo err >&2; echo out2") == "out\nerr\nout2"


def test_utf8_output(shell: Shell) -> None:
    out = ok(shell, "printf '%s\\n' 'COMMAND' '\"ping localhost…\"' 'naïve ✓'")
    assert out == 'COMMAND\n"ping localhost…"\nnaïve ✓'


def test_output_without_trailing_newline(shell: Shell) -> None:
    assert ok(shell, "printf abc") == "abc"
    assert ok(shell, "echo next") == "next"


def test_5000_lines_captured_whole(shell: Shell) -> None:
    started = time.monotonic()
    out = ok(shell, "seq 5000", timeout=30)
    assert out.splitlines() == [str(i) for i in range(1, 5001)]
    assert time.monotonic() - started < 15


def test_a_flood_stops_at_its_timeout_and_keeps_only_its_last_lines(shell: Shell) -> None:
    started = time.monotonic()
    run = shell.run("yes", 1)
    elapsed = time.monotonic() - started
    assert run.timed_out and not run.shell_died
    assert elapsed < 4, elapsed  # 1 s timeout, Ctrl-C, bounded rendering
    assert run.written > 2 * MAX_OUTPUT_BYTES  # it did flood
    assert len(run.raw.encode()) <= MAX_OUTPUT_BYTES
    first, *rest = run.output.splitlines()
    assert first.startswith("[dojo-exec: ") and first.endswith(
        f"MB of output, only the last {len(rest)} lines kept]"
    )
    assert 0 < len(rest) <= MAX_OUTPUT_LINES and set(rest) <= {"y", "^C"}
    assert run.truncated == first[len("[dojo-exec: ") : -1]  # the run knows, as it says
    still = shell.run("echo still here", 5)
    assert (still.output, still.truncated) == ("still here", None)


def test_a_long_output_that_ends_keeps_its_last_lines_in_order(shell: Shell) -> None:
    started = time.monotonic()
    run = shell.run("seq 1 5000000", 60)
    assert time.monotonic() - started < 20
    assert (run.exit_status, run.timed_out) == (0, False)
    first, *rest = run.output.splitlines()
    assert first == f"[dojo-exec: 43.9 MB of output, only the last {MAX_OUTPUT_LINES} lines kept]"
    assert run.truncated == f"43.9 MB of output, only the last {MAX_OUTPUT_LINES} lines kept"
    assert rest == [str(i) for i in range(5_000_001 - MAX_OUTPUT_LINES, 5_000_001)]


# -- terminal rendering -------------------------------------------------------------------------


def test_progress_redraw_collapses_to_final_state(shell: Shell) -> None:
    run = shell.run(f"bash {DATA / 'service_scale.sh'}", 10)
    assert run.exit_status == 0
    bar = "[==================================================>]"
    assert run.output.splitlines() == [
        "helloworld scaled to 5",
        "overall progress: 5 out of 5 tasks",
        *(f"{i}/5: running   {bar}" for i in range(1, 6)),
        "verify: Service converged",
    ]
    assert run.raw.count("overall progress") == 6  # raw keeps every redraw


def test_carriage_return_progress_bar(shell: Shell) -> None:
    command = "for p in 0 25 50 75 100; do printf '\\rDownloading [%3d%%]' $p; done; echo; echo ok"
    assert ok(shell, command) == "Downloading [100%]\nok"


def test_ansi_colours_stripped(shell: Shell) -> None:
    out = ok(shell, "printf '\\033[1;32mRunning\\033[0m \\033[31mred\\033[m\\n'")
    assert out == "Running red"
    assert "\x1b[" in shell.run("printf '\\033[31mred\\033[m'", 10).raw


def test_terminal_size_and_term() -> None:
    with Shell(columns=120, rows=40, env={"PATH": os.environ["PATH"], "TERM": "dumb"}) as sh:
        assert ok(sh, "stty size; echo $TERM; tput cols") == "40 120\nxterm-256color\n120"
        assert ok(sh, "printf 'x%.0s' $(seq 130); echo") == "x" * 120 + "\n" + "x" * 10


def test_explicit_env_replaces_environment_and_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOJO_LEAK", "leaked")
    env = {"PATH": os.environ["PATH"], "ONLY": "me"}
    with Shell(env=env, cwd=tmp_path) as sh:
        assert ok(sh, 'echo "${DOJO_LEAK:-unset} $ONLY"; pwd') == f"unset me\n{tmp_path}"
    with Shell() as sh:
        assert ok(sh, "echo $DOJO_LEAK") == "leaked"


# -- timeouts, stdin, death -----------------------------------------------------------------------


def test_timeout_interrupts_and_shell_lives_on(shell: Shell) -> None:
    ok(shell, "KEPT=yes")
    started = time.monotonic()
    run = shell.run("echo before; sleep 30; echo after", 1)
    assert time.monotonic() - started < 5
    assert run.timed_out and run.exit_status is None and not run.shell_died
    assert run.output == "before"
    assert shell.alive
    assert ok(shell, "echo $KEPT") == "yes"


@pytest.mark.parametrize("command", ["cat", "read -r line; echo got $line", "head -1"])
def test_stdin_reader_does_not_hang_past_timeout(shell: Shell, command: str) -> None:
    started = time.monotonic()
    run = shell.run(command, 1)
    assert run.timed_out
    assert time.monotonic() - started < 5
    assert ok(shell, "echo still here") == "still here"


def test_sigint_ignored_escalates_and_kills_the_shell(shell: Shell) -> None:
    pid = shell.pid
    assert pid is not None
    started = time.monotonic()
    run = shell.run("echo stubborn; sh -c 'trap \"\" INT; while :; do sleep 1; done'", 1)
    assert time.monotonic() - started < 10
    assert run.timed_out and run.shell_died and run.exit_status is None
    assert run.output.splitlines()[0] == "stubborn"  # then bash's "Terminated" notice
    assert not shell.alive
    with pytest.raises(ShellDied):
        shell.run("echo unreachable", 5)
    assert wait_gone([pid]) and session_members(pid) == []


def test_exit_in_a_step_kills_the_shell(shell: Shell) -> None:
    run = shell.run("echo bye; exit 3", 5)
    assert run.shell_died and not run.timed_out and run.exit_status is None
    assert run.shell_exit_status == 3
    assert run.output == "bye"
    with pytest.raises(ShellDied):
        shell.run("true", 5)


def test_set_e_then_a_failing_step_kills_the_shell_with_its_status(shell: Shell) -> None:
    ok(shell, "set -e")
    run = shell.run("echo failing; (exit 7)", 5)
    assert (run.shell_died, run.timed_out, run.shell_exit_status) == (True, False, 7)
    assert run.output == "failing"
    assert not shell.alive


def test_exit_with_a_job_holding_the_terminal_is_seen_before_the_timeout(shell: Shell) -> None:
    started = time.monotonic()
    run = shell.run("sleep 30 & exit 5", 20)
    assert time.monotonic() - started < 5
    assert (run.shell_died, run.timed_out, run.shell_exit_status) == (True, False, 5)


def test_close_leaves_no_processes() -> None:
    sh = Shell()
    sh.start()
    pid = sh.pid
    assert pid is not None
    ok(sh, "sleep 1000 & sleep 1001 & (trap '' HUP TERM; sleep 1002) &")
    members = session_members(pid)
    assert len(members) >= 4  # bash + three background jobs
    sh.close()
    sh.close()  # idempotent
    assert wait_gone(members), [m for m in members if not gone(m)]
    with pytest.raises(ShellDied):
        sh.run("true", 5)
    assert not sh.alive


def test_context_manager_closes_and_reaps() -> None:
    with Shell() as sh:
        pid = sh.pid
        assert pid is not None and sh.alive
    assert wait_gone([pid])
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind


def test_run_starts_lazily() -> None:
    sh = Shell()
    try:
        assert ok(sh, "echo lazy") == "lazy"
    finally:
        sh.close()


def test_ctrl_c_reaching_an_idle_prompt_does_not_shift_later_steps(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Race forced: the step ends after its timeout but before the Ctrl-C arrives, so bash
    # gets SIGINT idle at its prompt and prints a stray prompt (sentinel with status 130).
    child = shell._child
    assert child is not None
    send_intr = child.sendintr

    def late_intr() -> None:
        time.sleep(0.5)
        send_intr()

    monkeypatch.setattr(child, "sendintr", late_intr)
    run = shell.run("sleep 0.2", 0.05)
    assert run.timed_out and not run.shell_died
    for i in range(3):
        assert ok(shell, f"echo ok{i}") == f"ok{i}"


def test_a_step_setting_ps1_does_not_leak_into_outputs(shell: Shell) -> None:
    ok(shell, "PS1='user@host$ '; PS2='> '")
    assert ok(shell, "echo a") == "a"
    assert ok(shell, "echo b") == "b"


def test_stty_sane_in_a_step_does_not_show_the_runners_lines(shell: Shell) -> None:
    ok(shell, "stty sane")
    assert ok(shell, "echo a") == "a"
    ok(shell, "stty echo echonl")
    assert ok(shell, "echo b") == "b"
    run = shell.run("sleep 5", 0.3)  # the resync after a Ctrl-C sends a line too
    assert run.timed_out and not run.shell_died
    assert ok(shell, "echo c") == "c"


def test_a_step_keeps_its_own_terminal_settings(shell: Shell) -> None:
    ok(shell, "stty cols 77 -icanon")
    assert ok(shell, "stty size; stty -a | grep -o -- ' -icanon'") == "50 77\n -icanon"


def test_a_probe_leaves_the_shell_as_the_last_step_left_it(shell: Shell) -> None:
    state = "echo $?; pwd; echo ${PROBED:-unset} $-; trap; type -t probed_ || echo none"
    before = ok(shell, state)
    underscore = ok(shell, "echo $_")
    assert shell.run("cd /; echo last; (exit 4)", 10).exit_status == 4
    probe = shell.probe(
        "echo diag; false; cd /tmp; PROBED=1; set -u; trap 'echo t' USR1\nprobed_ () { :; }", 10
    )
    assert probe.output == "diag" and probe.exit_status == 4
    after = ok(shell, state).splitlines()
    assert after == ["4", "/", *before.splitlines()[2:]]
    assert ok(shell, "echo $_") == underscore


def test_a_long_line_like_service_ps_no_trunc_is_not_wrapped() -> None:
    """A 300-character line (``docker service ps --no-trunc`` gets there) comes back whole."""
    line = "x" * 150 + " " + "y" * 149
    with Shell() as shell:
        run = shell.run(f"echo '{line}'", 10)
    assert run.output.strip() == line


def test_pagers_do_not_wait_for_keys() -> None:
    with Shell() as shell:
        run = shell.run('echo "$PAGER $GIT_PAGER $SYSTEMD_PAGER"; printf "a\\nb\\n" | ${PAGER}', 10)
    assert run.output.strip().splitlines() == ["cat cat cat", "a", "b"]
    with Shell(env={**os.environ, "PAGER": "more"}) as shell:  # a page's own choice is kept
        assert shell.run('echo "$PAGER"', 10).output.strip() == "more"


def test_a_trace_shows_the_steps_commands_as_a_terminal_does_and_none_of_the_runners() -> None:
    with Shell() as shell:
        shell.run("set -x", 10)
        traced = shell.run("echo next", 10)
        shell.run("(exit 3)", 10)
        status = shell.run('echo "status=$?"', 10)
        shell.run("set +x", 10)
        quiet = shell.run("echo quiet", 10)
    assert traced.output.strip().splitlines() == ["+ echo next", "next"]
    assert status.output.strip().splitlines() == ["+ echo status=3", "status=3"]
    assert quiet.output.strip() == "quiet"


def test_set_e_survives_the_runner_between_steps() -> None:
    with Shell() as shell:
        shell.run("set -e", 10)
        assert shell.run("echo still here", 10).output.strip() == "still here"
        assert shell.alive


def test_a_pipe_closed_early_ends_its_writer_quietly(shell: Shell) -> None:
    """The shell's commands get SIGPIPE's default (Python, the runner, ignores it)."""
    assert ok(shell, "yes | head -n 1") == "y"  # not "yes: standard output: Broken pipe"


def test_a_job_notice_between_steps_is_not_the_next_steps_output(shell: Shell) -> None:
    """Bash reports a background job that ended between steps as it reads the next line; a
    terminal shows that at a moment that depends on timing: it belongs to no step."""
    first = shell.run("true & echo started", 5)
    assert first.output.splitlines()[-1] == "started"  # after bash's own "[1] PID"
    time.sleep(0.5)  # the job ends while the shell waits at its prompt
    assert ok(shell, "echo next") == "next"
