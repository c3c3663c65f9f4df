"""The page parser: steps, both Result forms, options, prerequisites and located errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dojo_exec.page import PageError, parse_page, parse_text, resolve_order

FENCE = "```"


def page(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_block_form_promise_follows_in_next_block() -> None:
    text = page(
        "# Nodes",
        "",
        f"{FENCE}sh dojo",
        "docker node ls",
        FENCE,
        "",
        FENCE,
        "# Result ==>",
        "",
        "ID   HOSTNAME",
        "abc  manager1",
        FENCE,
    )
    (step,) = parse_text(text, "nodes.md").steps
    assert step.command == "docker node ls"
    assert step.expected == "\nID   HOSTNAME\nabc  manager1\n"
    assert step.result_form == "block"
    assert step.line == 3
    assert step.result_line == 8
    assert text[step.span[0] : step.span[1]] == step.source
    assert step.source.startswith(f"{FENCE}sh dojo") and step.source.endswith(f"{FENCE}\n")
    assert step.result_span is not None
    assert text[step.result_span[0] : step.result_span[1]] == step.expected


def test_inline_form_promise_after_marker() -> None:
    text = page(f"{FENCE}sh dojo", "docker logs x", "", "# Result ==>", "", "PING localhost", FENCE)
    (step,) = parse_text(text, "logs.md").steps
    assert step.command == "docker logs x"
    assert step.expected == "\nPING localhost\n"
    assert step.result_form == "inline"
    assert step.result_line == 4


def test_step_without_promise_and_untagged_blocks() -> None:
    text = page(
        f"{FENCE}sh dojo",
        "export A=1",
        FENCE,
        f"{FENCE}sh",
        "echo not a step",
        FENCE,
        f"{FENCE}python",
        "print(1)",
        FENCE,
    )
    parsed = parse_text(text, "p.md")
    assert [s.command for s in parsed.steps] == ["export A=1"]
    assert parsed.steps[0].expected is None
    assert parsed.untagged_shell_lines == (4,)


def test_multiline_command_with_heredoc_kept_verbatim() -> None:
    body = ["cat > f.yml <<'EOF'", "services:", "  web:", "    image: alpine", "EOF"]
    text = page(f"{FENCE}bash dojo", *body, FENCE)
    (step,) = parse_text(text, "p.md").steps
    assert step.command == "\n".join(body)
    assert step.language == "bash"


def test_every_option_parses() -> None:
    info = (
        "sh dojo timeout=2m wait=90s exit=1 hidden ordered versions stop "
        'check="no rows where NODE = manager1" check="5 rows where CURRENT STATE ~ Running"'
    )
    text = page(f"{FENCE}{info}", "docker service ps x", FENCE)
    options = parse_text(text, "p.md").steps[0].options
    assert options.timeout == 120
    assert options.wait == 90
    assert options.exit == 1
    assert options.hidden and options.ordered and options.versions and options.stop_on_failure
    assert options.checks == (
        "no rows where NODE = manager1",
        "5 rows where CURRENT STATE ~ Running",
    )


def test_skip_with_reason_and_exit_any() -> None:
    text = page(f'{FENCE}sh dojo skip="needs a real VM" exit=any', "docker-machine ssh m", FENCE)
    options = parse_text(text, "p.md").steps[0].options
    assert options.skip == "needs a real VM"
    assert options.exit is None


def test_indented_fence_offsets_point_into_the_raw_text() -> None:
    text = page(
        " " + f"{FENCE}sh dojo",
        " docker service ps redis",
        " " + FENCE,
        "",
        FENCE,
        "# Result ==>",
        "ID  NAME",
        FENCE,
    )
    (step,) = parse_text(text, "p.md").steps
    assert step.command == "docker service ps redis"
    assert step.result_span is not None
    assert text[step.result_span[0] : step.result_span[1]] == "ID  NAME\n"


def test_digest_changes_with_the_source_only() -> None:
    one = parse_text(page(f"{FENCE}sh dojo", "echo a", FENCE), "p.md").steps[0]
    same = parse_text(page("prose", "", f"{FENCE}sh dojo", "echo a", FENCE), "q.md").steps[0]
    edited = parse_text(page(f"{FENCE}sh dojo", "echo b", FENCE), "p.md").steps[0]
    assert one.digest == same.digest
    assert one.digest != edited.digest


def test_seed_workshop_parses_into_both_forms(shared_seed: Path) -> None:
    text = shared_seed.read_text().replace(f"{FENCE}sh\n", f"{FENCE}sh dojo\n")
    steps = parse_text(text, "seed.md").steps
    forms = {s.result_form for s in steps}
    assert forms == {"inline", "block", None}
    drain = [s for s in steps if "service ps redis" in s.command]
    assert drain and drain[0].expected is not None and "helloworld.1" in drain[0].expected


@pytest.fixture
def shared_seed() -> Path:
    path = Path(__file__).parent / "data" / "pages" / "seed-swarmmode-dojo.md"
    return path


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        ((f"{FENCE}sh dojo", "echo unterminated"), 1, "unterminated code fence"),
        (("text", FENCE, "# Result ==>", "x", FENCE), 2, "no dojo step before it"),
        ((f"{FENCE}sh dojo bogus=1", "true", FENCE), 1, "unknown option 'bogus=1'"),
        ((f"{FENCE}sh dojo timeout=soon", "true", FENCE), 1, "expected a duration"),
        ((f"{FENCE}sh dojo exit=ok", "true", FENCE), 1, "expected a number or 'any'"),
        ((f"{FENCE}sh dojo hidden=yes", "true", FENCE), 1, "takes no value"),
        (("", f'{FENCE}sh dojo skip=""', "true", FENCE), 2, "needs a reason"),
        ((f'{FENCE}sh dojo check="5 rows wher X = 1"', "true", FENCE), 1, "check"),
        ((f"{FENCE}sh dojo", FENCE), 1, "no command"),
        ((f"{FENCE}python dojo", "print()", FENCE), 1, "language 'python'"),
        ((f'{FENCE}sh dojo skip="unclosed', "true", FENCE), 1, "malformed info string"),
    ],
)
def test_malformed_input_names_file_and_line(
    lines: tuple[str, ...], line: int, message: str
) -> None:
    with pytest.raises(PageError) as caught:
        parse_text(page(*lines), "docs/bad.md")
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value).startswith(f"docs/bad.md:{line}: ")


def write(folder: Path, name: str, requires: list[str] | None = None, body: str = "") -> Path:
    front = f"---\nrequires: {requires}\n---\n" if requires is not None else ""
    path = folder / name
    path.write_text(front + f"# {name}\n\n{FENCE}sh dojo\necho {name}\n{FENCE}\n" + body)
    return path


def test_prerequisites_resolve_in_order_each_once(tmp_path: Path) -> None:
    write(tmp_path, "setup.md")
    write(tmp_path, "swarm.md", ["setup.md"])
    write(tmp_path, "service.md", ["swarm.md", "setup.md"])
    order = resolve_order(tmp_path / "service.md")
    assert [p.path.name for p in order] == ["setup.md", "swarm.md", "service.md"]


def test_missing_prerequisite_is_an_error_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "swarm.md", ["setup.md"])
    with pytest.raises(PageError) as caught:
        resolve_order(tmp_path / "swarm.md")
    assert caught.value.line == 2
    assert "'setup.md' does not exist" in caught.value.message


def test_prerequisite_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.md", ["b.md"])
    write(tmp_path, "b.md", ["c.md"])
    write(tmp_path, "c.md", ["a.md"])
    with pytest.raises(PageError) as caught:
        resolve_order(tmp_path / "a.md")
    assert "prerequisite cycle" in caught.value.message
    assert "a.md → b.md → c.md → a.md" in caught.value.message


def test_malformed_front_matter(tmp_path: Path) -> None:
    with pytest.raises(PageError) as caught:
        parse_text("---\nrequires: [unclosed\n---\n# x\n", tmp_path / "x.md")
    assert caught.value.line == 2  # where the unclosed list starts, said in one line
    assert "\n" not in str(caught.value) and "flow sequence" in caught.value.message
    with pytest.raises(PageError, match="must be a page path"):
        parse_text("---\nrequires: {a: 1}\n---\n# x\n", tmp_path / "x.md")


def test_a_paragraph_between_rules_is_not_front_matter(tmp_path: Path) -> None:
    text = "---\nA banner between two rules.\n---\n\n# Rules\n\n```sh dojo\necho R\n```\n"
    parsed = parse_text(text, tmp_path / "rules.md")
    assert parsed.meta == {} and [s.line for s in parsed.steps] == [7]


def test_steps_in_containers_are_steps_and_keep_their_indent() -> None:
    text = page(
        "1. In a list item:",
        "",
        f"    {FENCE}sh dojo",
        "    echo LIST",
        f"    {FENCE}",
        "",
        '!!! note "A note"',
        "",
        "    - a list in the note:",
        "",
        f"        {FENCE}sh dojo",
        "        echo NESTED",
        f"        {FENCE}",
        "",
        '=== "Linux"',
        "",
        f"    {FENCE}sh dojo",
        "    echo TAB",
        f"    {FENCE}",
    )
    steps = parse_text(text, Path("c.md")).steps
    assert [(s.command, s.indent) for s in steps] == [
        ("echo LIST", "    "),
        ("echo NESTED", "        "),
        ("echo TAB", "    "),
    ]


def test_commented_out_and_indented_example_fences_are_not_steps() -> None:
    text = page(
        "<!-- a one-line comment --> then text",
        "",
        "<!--",
        f"{FENCE}sh dojo",
        "echo COMMENTED",
        f"{FENCE}",
        "-->",
        "",
        f"{FENCE}sh dojo",
        "echo REAL",
        f"{FENCE}",
        "<!-- unclosed comment at the end",
        f"{FENCE}sh dojo",
        "echo AFTER",
        f"{FENCE}",
    )
    steps = parse_text(text, Path("c.md")).steps
    assert [s.command for s in steps] == ["echo REAL"]
    assert steps[0].line == 9


def test_a_tagged_fence_read_as_an_indented_code_block_is_an_error() -> None:
    text = page(
        "An example, as an indented code block:",
        "",
        f"    {FENCE}sh dojo",
        "    echo EXAMPLE",
        f"    {FENCE}",
    )
    with pytest.raises(PageError, match="indented code block") as caught:
        parse_text(text, Path("c.md"))
    assert caught.value.line == 3
    untagged = text.replace("sh dojo", "sh")  # an example of a fence: text, not a step
    assert parse_text(untagged, Path("c.md")).steps == ()


def test_the_title_is_the_first_h1_outside_comments_and_code() -> None:
    text = page(
        "<!--",
        "# Old title",
        "-->",
        f"{FENCE}sh dojo",
        "# not a title either",
        "echo x",
        f"{FENCE}",
        "",
        "Pipes `a | b` & **more**",
        "========================",
    )
    assert parse_text(text, Path("t.md")).title == "Pipes a | b & more"
    assert parse_text("No heading\n", Path("plain-page.md")).title == "plain-page"


def test_a_bom_and_crlf_line_endings_change_nothing(tmp_path: Path) -> None:
    (tmp_path / "pre.md").write_text("# Pre\n")
    lf = "---\nrequires: [pre.md]\n---\n# T\n\n```sh dojo\necho x\n# Result ==>\nx\n```\n"
    for text in (lf, "\ufeff" + lf, lf.replace("\n", "\r\n"), "\ufeff```sh dojo\necho y\n```\n"):
        (tmp_path / "t.md").write_bytes(text.encode())
        parsed = parse_page(tmp_path / "t.md")
        assert parsed.text == text  # read exactly: offsets point into the bytes on disk
        (step,) = parsed.steps
        assert step.command in ("echo x", "echo y") and "\r" not in step.command
        if "requires" in text:
            assert parsed.requires == (tmp_path / "pre.md",) and step.line == 6
            assert (step.expected or "").strip() == "x"
            start, end = step.result_span or (0, 0)
            assert text[start:end].strip() == "x"


def test_line_numbers_count_only_newlines() -> None:
    text = "Intro\u2028 and \x0c here.\n\n```sh dojo\necho x\n```\n"
    (step,) = parse_text(text, Path("ls.md")).steps
    assert step.line == 3


def test_exit_and_timeout_values_are_checked_and_options_not_repeated() -> None:
    for info, message in (
        ("exit=300", "exit status is 0 to 255"),
        ("timeout=0", "must be more than 0"),
        ("wait=0s", "must be more than 0"),
        ("timeout=5s timeout=9s", "option timeout given twice"),
        ("hidden hidden", "option hidden given twice"),
    ):
        with pytest.raises(PageError, match=message) as caught:
            parse_text(f"```sh dojo {info}\ntrue\n```\n", Path("o.md"))
        assert caught.value.line == 1
    two = parse_text('```sh dojo check="no rows" check="1 rows"\ntrue\n```\n', Path("o.md"))
    assert len(two.steps[0].options.checks) == 2  # check is the one repeatable option


def test_console_steps_may_show_a_prompt_that_is_not_run() -> None:
    text = "```console dojo\n$ echo one\n$ echo '$ two'\n# Result ==>\none\n$ two\n```\n"
    (step,) = parse_text(text, Path("c.md")).steps
    assert step.command == "echo one\necho '$ two'"
    # a script block whose first line starts with a prompt is read as a session too
    (script,) = parse_text(text.replace("console", "sh"), Path("c.md")).steps
    assert script.command == step.command
    (plain,) = parse_text("```sh dojo\necho $ one\n```\n", Path("c.md")).steps
    assert plain.command == "echo $ one"  # otherwise run as written


def test_a_step_has_one_digest_whatever_its_line_endings() -> None:
    """Sybil and MkDocs read pages with universal newlines, report reads them byte-exact."""
    lf = "```sh dojo\necho same\n# Result ==>\nsame\n```\n"
    crlf = lf.replace("\n", "\r\n")
    assert (
        parse_text(crlf, Path("c.md")).steps[0].digest
        == parse_text(lf, Path("c.md")).steps[0].digest
    )
    assert parse_text(lf.replace("same\n```", "other\n```"), Path("c.md")).steps[0].digest != (
        parse_text(lf, Path("c.md")).steps[0].digest
    )


def test_comments_start_a_line_and_a_page_must_be_utf8(tmp_path: Path) -> None:
    text = "Comments start with `<!--` in Markdown.\n\n```sh dojo\necho seen\n```\n"
    assert [s.command for s in parse_text(text, Path("c.md")).steps] == ["echo seen"]
    (tmp_path / "latin1.md").write_bytes(b"# T\n\ncaf\xe9\n")
    with pytest.raises(PageError, match="not UTF-8") as caught:
        parse_page(tmp_path / "latin1.md")
    assert caught.value.line == 3


def test_console_continuations_and_stray_output_lines() -> None:
    text = "```console dojo\n$ echo four \\\n> five\n# Result ==>\nfour five\n```\n"
    (step,) = parse_text(text, Path("c.md")).steps
    assert step.command == "echo four \\\nfive"
    with pytest.raises(PageError, match="'six' has no prompt; output belongs after") as caught:
        parse_text("```console dojo\n$ echo six\nsix\n$ true\n# Result ==>\n```\n", "c.md")
    assert caught.value.line == 3
    (plain,) = parse_text("```console dojo\necho no prompts\n```\n", Path("c.md")).steps
    assert plain.command == "echo no prompts"


@pytest.mark.parametrize("indent", ["   ", "    "])
def test_steps_in_list_items_as_authors_indent_them(indent: str) -> None:
    text = page(
        "1. Open a terminal",
        "on the manager:",  # a lazy continuation line of the item's paragraph
        "",
        f"{indent}{FENCE}console dojo",
        f"{indent}$ docker node ls",
        f"{indent}{FENCE}",
        "",
        "2. Then list the services:",
        "",
        f"{indent}{FENCE}sh dojo",
        f"{indent}docker service ls",
        f"{indent}{FENCE}",
    )
    steps = parse_text(text, Path("l.md")).steps
    assert [s.command for s in steps] == ["docker node ls", "docker service ls"]
    assert [s.indent for s in steps] == [indent, indent]


# -- where commands run: machine=, the front matter's machine:, logins; ```dojo blocks ----------

MACHINE_PAGE = """---
machine: manager1
---
```dojo
$ docker node ls
ID   HOSTNAME
```

```console dojo machine=worker1
$ docker-machine ssh worker2
boot2docker banner
docker@worker2:~$ docker ps
$ exit
```

```sh dojo
docker info
```
"""


def test_a_block_tagged_dojo_alone_is_a_shell_step_read_as_a_session() -> None:
    steps = parse_text(MACHINE_PAGE, "m.md").steps
    assert steps[0].language == "sh" and steps[0].session
    (command,) = steps[0].commands
    assert (command.text, command.expected) == ("docker node ls", "ID   HOSTNAME\n")
    assert steps[2].command == "docker info" and not steps[2].session


def test_the_machine_comes_from_the_step_then_the_page() -> None:
    steps = parse_text(MACHINE_PAGE, "m.md").steps
    assert [s.options.machine for s in steps] == ["manager1", "worker1", "manager1"]
    login, inside, out = steps[1].commands
    assert (login.login, login.expected) == ("worker2", "boot2docker banner\n")
    assert (inside.machine, inside.login) == ("worker2", None)  # the prompt names it
    assert out.login is None and out.text == "exit"
    assert steps[0].commands[0].machine is None  # a `$ ` prompt names no machine


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\nmachine: [a, b]\n---\n", "front matter 'machine' must be a machine name"),
        ("```sh dojo machine=\nls\n```\n", "option machine='': expected a machine name"),
        ("```sh dojo machine=a/b\nls\n```\n", "option machine='a/b'"),
        ("para\n\n    ```dojo\n    ls\n    ```\n", "indented code block"),
    ],
)
def test_bad_machines_and_hidden_dojo_blocks_are_errors_at_their_line(
    text: str, message: str
) -> None:
    with pytest.raises(PageError, match=re.escape(message)):
        parse_text(text, "bad.md")


def test_only_a_bare_docker_machine_ssh_is_a_login() -> None:
    page = "```console dojo\n$ docker-machine ssh m1 docker ps\n$ docker-machine  ssh  m1 \n```\n"
    first, second = parse_text(page, "l.md").steps[0].commands
    assert first.login is None and second.login == "m1"
