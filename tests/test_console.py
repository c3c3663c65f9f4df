"""Console sessions as tutorials write them: prompts, continuations, outputs, machines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dojo_exec.page import PageError, parse_text

FIXTURES = Path(__file__).parent / "fixtures" / "outputs" / "engine-20.10-cli-28.2"
FENCE = "```"


def fixture(name: str) -> tuple[str, str]:
    """(command, output) of a real captured fixture file."""
    lines = (FIXTURES / name).read_text().splitlines()
    assert lines[0].startswith("$ ") and lines[-1].startswith("[exit")
    return lines[0][2:], "\n".join(lines[1:-1]) + "\n"


def session(*blocks: tuple[str, str, str]) -> str:
    """A console block of (prompt, command, output) as an author pastes it."""
    body = "".join(f"{prompt}{command}\n{output}" for prompt, command, output in blocks)
    return f"{FENCE}console dojo\n{body}{FENCE}\n"


def test_each_prompt_line_is_a_command_with_its_own_output() -> None:
    init_command, init_output = fixture("01-swarm-init.txt")
    nodes_command, nodes_output = fixture("06-node-ls.txt")
    text = session(("[manager1]$ ", init_command, init_output), ("$ ", nodes_command, nodes_output))
    (step,) = parse_text(text, "s.md").steps
    first, second = step.commands
    assert (first.machine, first.prompt, first.text) == ("manager1", "[manager1]$ ", init_command)
    assert first.expected == init_output  # blank lines inside the output are output
    assert (second.machine, second.text, second.expected) == (None, nodes_command, nodes_output)
    for command in step.commands:
        assert command.result_span is not None
        assert text[command.result_span[0] : command.result_span[1]] == command.expected
    assert step.command == f"{init_command}\n{nodes_command}"
    assert step.session and step.expected is not None
    assert step.expected.startswith(f"[manager1]$ {init_command}\n")


def test_the_line_numbers_are_those_of_the_page() -> None:
    _, output = fixture("06-node-ls.txt")
    text = "# Nodes\n\n" + session(("$ ", "docker node ls", output), ("$ ", "true", ""))
    (step,) = parse_text(text, "s.md").steps
    assert [c.line for c in step.commands] == [4, 5 + output.count("\n")]
    assert step.commands[0].result_line == 5
    assert step.commands[1].expected is None  # no output shown: nothing promised


CREATE = "docker service create \\\n    --replicas 1 \\\n    --name hello alpine ping x"


def test_backslash_continuations_and_here_documents_belong_to_the_command() -> None:
    text = session(
        (
            "$ ",
            "docker service create \\\n    --replicas 1 \\\n    --name hello alpine ping x",
            "abc\n",
        ),
        ("$ ", "cat > s.yml <<'EOF'\nservices:\n  web: {}\nEOF", ""),
        ("$ ", "echo 'a\n> b' \\\n> | wc -l", "2\n"),
    )
    first, second, third = parse_text(text, "s.md").steps[0].commands
    assert (
        first.text
        == "docker service create \\\n    --replicas 1 \\\n    --name hello alpine ping x"
    )
    assert first.expected == "abc\n"
    assert second.text.endswith("EOF") and second.expected is None
    assert third.expected == "2\n"


def test_continuation_prompts_after_a_command_are_not_output() -> None:
    text = session(("$ ", "for i in 1 2\n> do echo $i\n> done", "1\n2\n"))
    (command,) = parse_text(text, "s.md").steps[0].commands
    assert command.text == "for i in 1 2\ndo echo $i\ndone"
    assert command.expected == "1\n2\n"


def test_root_prompts_only_where_the_block_or_page_says_so() -> None:
    body = "# apt-get install -y curl\n$ echo hi\nhi\n"
    plain = parse_text(f"{FENCE}console dojo\n{body}{FENCE}\n", "r.md").steps[0]
    assert [c.text for c in plain.commands] == ["echo hi"]  # a comment before the first prompt
    rooted = parse_text(f'{FENCE}console dojo prompt="# "\n{body}{FENCE}\n', "r.md").steps[0]
    assert [c.text for c in rooted.commands] == ["apt-get install -y curl", "echo hi"]
    paged = parse_text(f'---\nprompts: ["# "]\n---\n{FENCE}console dojo\n{body}{FENCE}\n', "r.md")
    assert len(paged.steps[0].commands) == 2


def test_a_custom_prompt_may_name_the_machine() -> None:
    info = 'console dojo prompt="root@{machine}:{path}# "'
    text = f"{FENCE}{info}\nroot@worker1:~# hostname\nworker1\n{FENCE}\n"
    (command,) = parse_text(text, "m.md").steps[0].commands
    assert (command.machine, command.text, command.expected) == ("worker1", "hostname", "worker1\n")
    with pytest.raises(PageError, match="unknown placeholder"):
        parse_text(f'{FENCE}console dojo prompt="{{host}}$ "\n$ true\n{FENCE}\n', "m.md")


def test_user_at_host_prompts_name_the_host() -> None:
    text = session(
        ("docker@manager1:~$ ", "docker node ls", "ID\n"),
        ("ubuntu@ip-10-0-0-1:/tmp$ ", "pwd", "/tmp\n"),
    )
    first, second = parse_text(text, "u.md").steps[0].commands
    assert (first.machine, second.machine) == ("manager1", "ip-10-0-0-1")


def test_text_before_the_first_prompt_is_an_error_at_its_line() -> None:
    with pytest.raises(PageError, match="comes before any prompt") as caught:
        parse_text(f"# T\n\n{FENCE}console dojo\noutput first\n$ true\n{FENCE}\n", "e.md")
    assert caught.value.line == 4


def test_a_script_block_that_starts_with_a_prompt_is_a_session() -> None:
    _, output = fixture("08-service-ls.txt")
    text = f"{FENCE}sh dojo\n$ docker service ls\n{output}{FENCE}\n"
    (command,) = parse_text(text, "s.md").steps[0].commands
    assert (command.text, command.expected) == ("docker service ls", output)


def test_one_result_for_commands_on_two_machines_is_refused() -> None:
    text = f"{FENCE}console dojo\n[manager1]$ a\n[worker1]$ b\n# Result ==>\nx\n{FENCE}\n"
    with pytest.raises(PageError, match="different machines"):
        parse_text(text, "r.md")


def test_prompt_lines_counted_independently_match_the_commands() -> None:
    """Every prompt line of a real-looking multi-command session becomes one command."""
    parts = [
        fixture(name) for name in ("08-service-ls.txt", "09-service-ps.txt", "12-service-ls-5.txt")
    ]
    text = session(*(("[manager1]$ ", command, output) for command, output in parts))
    prompts = len(re.findall(r"^\[manager1\]\$ ", text, re.MULTILINE))
    assert len(parse_text(text, "c.md").steps[0].commands) == prompts
