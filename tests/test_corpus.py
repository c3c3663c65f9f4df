"""Real tutorials, as their authors wrote them, through the page parser.

``tests/data/corpus/`` holds Markdown pages copied verbatim from public repositories (the
first line of each names its source, commit and licence): Docker's swarm tutorial and
swarm-mode guide (docker/docs), docker/cli and docker/machine reference pages, SwarmKit's
README, a Kubernetes task page and a nerdctl page.  Each ``NAME.tagged.md`` is the same page
with the ``dojo`` tag added to its shell blocks, nothing else; where a block had no language
at all (``` followed by a ``$ `` session, as docker/machine and SwarmKit write them) the tag
alone is added: ```` ```dojo ```` (a shell step, read as a session when it starts with a
prompt).

What is checked, by scans of the text that do not use the parser:

* every page parses (no real page here is malformed);
* an untagged page has no step, and each of its shell blocks is reported as untagged;
* every tagged fence becomes exactly one step, at its line;
* a block with prompt lines becomes one command per prompt line, a block without prompts
  one script; spot checks of commands, machines and promises as a reader splits them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dojo_exec.page import parse_page

CORPUS = Path(__file__).parent / "data" / "corpus"
ORIGINALS = sorted(p for p in CORPUS.glob("*.md") if not p.name.endswith(".tagged.md"))
TAGGED = sorted(CORPUS.glob("*.tagged.md"))
SOURCE = re.compile(r"^<!-- source: [\w.-]+/[\w.-]+ \S+@[0-9a-f]{40}, [\w.-]+ -->$")

FENCE = re.compile(r"^(?P<indent> {0,3}|(?: {4})+ {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
SHELL = {"sh", "bash", "shell", "console", "shell-session"}
PROMPT = re.compile(r"^[ \t]*(?:\$|\[[\w.-]+\]\$|[\w.-]+@[\w.-]+:\S*\$|[\w.-]+\$)(?: |$)")


def fences(path: Path) -> list[tuple[int, list[str], list[str]]]:
    """(line, info words, body lines) of each fenced block, by a plain scan."""
    lines = path.read_text().split("\n")
    found = []
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != opened["fence"]:
            end += 1
        found.append((index + 1, opened["info"].split(), lines[index + 1 : end]))
        index = end + 1
    return found


def tagged(path: Path) -> list[tuple[int, list[str], list[str]]]:
    return [block for block in fences(path) if "dojo" in block[1][:2]]


def prompt_count(body: list[str]) -> int:
    return sum(1 for line in body if PROMPT.match(line))


def step_at(path: Path, line: int):  # type: ignore[no-untyped-def]
    (step,) = [s for s in parse_page(path).steps if s.line == line]
    return step


def fence_line(path: Path, text: str, occurrence: int = 0) -> int:
    """Line of the fence opening the block whose body holds ``text`` (``occurrence``-th)."""
    matches = [line for line, _, body in fences(path) if any(text in b for b in body)]
    return matches[occurrence]


def test_the_corpus_is_real_pages_with_their_source() -> None:
    assert len(ORIGINALS) >= 20
    assert {p.name.replace(".md", ".tagged.md") for p in ORIGINALS} == {p.name for p in TAGGED}
    sources = {p.read_text().split("\n", 1)[0] for p in ORIGINALS}
    assert all(SOURCE.match(line) for line in sources), sources
    projects = {line.split()[2] for line in sources}
    assert len(projects - {"docker/docs"}) >= 5, projects


@pytest.mark.parametrize("page", ORIGINALS, ids=[p.name for p in ORIGINALS])
def test_an_untagged_page_has_no_step_and_names_its_shell_blocks(page: Path) -> None:
    parsed = parse_page(page)
    assert parsed.steps == ()
    shell = [line for line, info, _ in fences(page) if info[:1] and info[0] in SHELL]
    assert list(parsed.untagged_shell_lines) == shell


@pytest.mark.parametrize("page", TAGGED, ids=[p.name for p in TAGGED])
def test_every_tagged_block_is_a_step_with_a_command_per_prompt(page: Path) -> None:
    blocks = tagged(page)
    steps = parse_page(page).steps
    assert [step.line for step in steps] == [line for line, _, _ in blocks]
    for step, (line, _, body) in zip(steps, blocks, strict=True):
        prompts = prompt_count(body)
        assert len(step.commands) == (prompts or 1), f"{page.name}:{line}"
        if prompts:
            lines = [line + 1 + i for i, text in enumerate(body) if PROMPT.match(text)]
            assert [c.line for c in step.commands] == lines, f"{page.name}:{line}"


def test_the_tagged_copies_differ_from_the_pages_only_by_the_tag() -> None:
    for original in ORIGINALS:
        copy = original.with_name(original.name.replace(".md", ".tagged.md"))
        theirs, ours = original.read_text().split("\n"), copy.read_text().split("\n")
        assert len(theirs) == len(ours), copy.name
        for number, (before, after) in enumerate(zip(theirs, ours, strict=True), start=1):
            bare = FENCE.match(before) is not None and not before.strip().strip("`~")
            allowed = {before, before + " dojo"} | ({before + "dojo"} if bare else set())
            assert after in allowed, f"{copy.name}:{number}: {after!r}"


def test_indented_code_blocks_are_not_fences_so_there_is_nothing_to_tag() -> None:
    # docker/machine's ls page shows its sessions as 4-space indented code blocks
    page = CORPUS / "machine-ls.tagged.md"
    assert "    $ docker-machine ls\n" in page.read_text()
    assert tagged(page) == [] and parse_page(page).steps == ()


# -- spot checks: commands and promises as a reader splits them -----------------------------


def test_docker_tutorial_join_is_one_command_over_three_lines_then_its_output() -> None:
    page = CORPUS / "docker-swarm-tutorial-add-nodes.tagged.md"
    (join,) = step_at(page, fence_line(page, "$ docker swarm join \\")).commands
    assert join.machine is None and join.prompt.strip() == "$"
    assert join.text.split("\n")[0] == "docker swarm join \\"
    assert join.text.split("\n")[-1].strip() == "192.168.99.100:2377"
    assert join.expected is not None
    assert join.expected.strip() == "This node joined a swarm as a worker."


def test_join_hint_backslashes_and_blank_lines_stay_in_the_output() -> None:
    page = CORPUS / "docker-swarm-tutorial-create-swarm.tagged.md"
    (init,) = step_at(page, fence_line(page, "--advertise-addr 192.168.99.100")).commands
    assert init.text == "docker swarm init --advertise-addr 192.168.99.100"
    assert init.expected is not None
    assert init.expected.startswith("Swarm initialized: current node (dxn1zf6l61qsb1josjja83ngz)")
    assert "\n\n    docker swarm join \\\n    --token SWMTKN-1-" in init.expected
    assert init.expected.rstrip("\n").endswith("and follow the instructions.")
    # a placeholder command with no output promises nothing
    (placeholder,) = step_at(page, fence_line(page, "<MANAGER-IP>")).commands
    assert placeholder.text == "docker swarm init --advertise-addr <MANAGER-IP>"
    assert placeholder.expected is None


def test_docker_info_keeps_its_snip_elisions() -> None:
    page = CORPUS / "docker-swarm-tutorial-create-swarm.tagged.md"
    (info,) = step_at(page, fence_line(page, "Swarm: active")).commands
    assert info.text == "docker info"
    assert info.expected is not None and info.expected.count("  ...snip...\n") == 2


def test_two_commands_in_one_block_each_get_their_own_promise() -> None:
    page = CORPUS / "docker-cli-swarm-join-token.tagged.md"
    worker, manager = step_at(page, fence_line(page, "$ docker swarm join-token manager")).commands
    assert (worker.text, manager.text) == (
        "docker swarm join-token worker",
        "docker swarm join-token manager",
    )
    assert worker.expected is not None and manager.expected is not None
    assert "To add a worker" in worker.expected and "manager" not in worker.expected
    assert manager.expected.lstrip("\n").startswith("To add a manager to this swarm")

    page = CORPUS / "docker-swarm-tutorial-delete-service.tagged.md"
    before, after = step_at(
        page, fence_line(page, "helloworld.5.9lkmos2beppihw95vdwxy1j3w")
    ).commands
    assert before.text == after.text == "docker ps"
    assert before.expected is not None and before.expected.count("helloworld.") == 5
    assert after.expected is not None and after.expected.strip().startswith("CONTAINER ID")


def test_machine_prompts_name_the_machine() -> None:
    page = CORPUS / "docker-swarm-tutorial-inspect-service.tagged.md"
    on_worker = step_at(page, fence_line(page, "[worker2]$ docker ps")).commands[0]
    assert (on_worker.machine, on_worker.text) == ("worker2", "docker ps")
    on_manager = step_at(page, fence_line(page, "[manager1]$ docker service ps")).commands[0]
    assert on_manager.machine == "manager1"


def test_an_interactive_ssh_session_splits_at_the_remote_prompt() -> None:
    page = CORPUS / "machine-ssh.tagged.md"
    login, listing = step_at(page, fence_line(page, "docker@boot2docker:~$ ls /")).commands
    assert (login.text, login.machine) == ("docker-machine ssh dev", None)
    assert login.expected is not None and "Boot2Docker version 1.4.0" in login.expected
    assert (listing.text, listing.machine) == ("ls /", "boot2docker")
    assert listing.expected is not None and listing.expected.startswith("Users/")


def test_commands_without_output_then_a_blank_line_promise_nothing() -> None:
    page = CORPUS / "nerdctl-multi-platform.tagged.md"
    start, register, listing = step_at(page, fence_line(page, "qemu-aarch64")).commands
    assert start.expected is None and register.expected is None
    assert listing.text == "ls -1 /proc/sys/fs/binfmt_misc/qemu*"
    assert listing.expected is not None and len(listing.expected.splitlines()) == 7


def test_a_script_block_without_prompts_is_one_script_with_its_comment() -> None:
    page = CORPUS / "k8s-get-shell-running-container.tagged.md"
    (script,) = step_at(page, fence_line(page, "apt-get install -y tcpdump")).commands
    assert script.text.split("\n")[0] == "# You can run these example commands inside the container"
    assert script.text.split("\n")[-1] == "ps aux | grep nginx"
    assert script.expected is None and script.machine is None


def test_language_less_sessions_once_tagged_split_like_console() -> None:
    page = CORPUS / "machine-active.tagged.md"
    (step,) = parse_page(page).steps
    assert [c.text for c in step.commands] == [
        "docker-machine ls",
        "echo $DOCKER_HOST",
        "docker-machine active",
    ]
    assert [c.expected for c in step.commands][1:] == ["tcp://104.236.50.118:2376\n", "staging\n"]

    page = CORPUS / "swarmkit-readme.tagged.md"
    drain, node_ls, inspect = step_at(page, fence_line(page, "swarmctl node drain node-1")).commands
    assert drain.text == "swarmctl node drain node-1" and drain.expected is None
    assert node_ls.expected is not None and "DRAIN" in node_ls.expected
    assert inspect.expected is not None and inspect.expected.count("redis:3.0.7") == 7
