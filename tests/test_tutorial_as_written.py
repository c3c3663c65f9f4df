"""A tutorial written the way Docker's docs write one, run as it stands.

``tests/data/tutorials/swarm-docs-style/`` is a multi-page swarm tutorial in the style of
Docker's "Getting started with swarm mode": ``console`` sessions with ``$ docker-machine``
and ``[manager1]$ docker`` prompts, the output pasted under each command, ``...snip...``
elisions, continuation lines, blocks inside numbered list items, and the outputs of Docker
1.12 (2016).  The only concessions to the engine are the ``dojo`` tag (with its options),
the front matter that chains the pages and nothing else.

Parsing needs no Docker: every tagged block is one step, and every prompt line of a
``console`` block is one command of it — both counted here by a scan of the text that
does not use the parser.  On a real engine, one ``dojo-exec update`` must bring every 1.12
promise up to today's Docker, after which ``dojo-exec verify`` passes and a second update
has nothing left to change.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from cli_runs import run_cli, summary, texts

from dojo_exec.page import parse_page, resolve_order

TUTORIAL = Path(__file__).parent / "data" / "tutorials" / "swarm-docs-style"
PAGES = sorted(TUTORIAL.glob("*.md"))

# -- an independent reading of the pages: fences, prompt lines, machines ----------------------

TAGGED_FENCE = re.compile(
    r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<language>console|shell-session|sh|bash|shell)"
    r" dojo\b(?P<options>.*)$"
)
ANY_FENCE = re.compile(r"^ *(`{3,}|~{3,})")
# the prompts the format knows: `$ `, `[NAME]$ `, `user@NAME:path$ `, `NAME$ `
PROMPT_LINE = re.compile(
    r"^[ \t]*(?:\$|\[(?P<bracketed>[\w.-]+)\]\$|[\w.-]+@(?P<at>[\w.-]+):\S*\$|(?P<bare>[\w.-]+)\$)"
    r"(?: |$)"
)


def tagged_blocks(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line of the opening fence, language, body lines) of every ``dojo`` block of a page."""
    lines = path.read_text().split("\n")
    blocks: list[tuple[int, str, list[str]]] = []
    index = 0
    while index < len(lines):
        opened = TAGGED_FENCE.match(lines[index])
        plain = ANY_FENCE.match(lines[index])
        if not (opened or plain):
            index += 1
            continue
        fence = opened["fence"] if opened else plain.group(1)  # type: ignore[union-attr]
        indent = len(opened["indent"]) if opened else 0
        body: list[str] = []
        start = index
        index += 1
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index][indent:] if lines[index][:indent].isspace() else lines[index])
            index += 1
        index += 1
        if opened:
            blocks.append((start + 1, opened["language"], body))
    return blocks


def prompt_lines(body: list[str]) -> list[tuple[int, str | None]]:
    """(offset in the body, machine named by the prompt) of each prompt line of a session."""
    found = []
    for offset, text in enumerate(body):
        match = PROMPT_LINE.match(text)
        if match:
            found.append((offset, match["bracketed"] or match["at"] or match["bare"]))
    return found


def test_the_tutorial_is_a_chain_of_about_eight_pages_rooted_in_setup() -> None:
    assert 8 <= len(PAGES) <= 10, [p.name for p in PAGES]
    for page in PAGES:
        order = resolve_order(page)
        assert order[0].path.name == "setup.md", (page.name, [p.path.name for p in order])
        assert order[-1].path == page.resolve()
    # the deepest page replays the whole story of helloworld, the others branch off add-nodes
    assert [p.path.name for p in resolve_order(TUTORIAL / "delete-service.md")] == [
        "setup.md",
        "create-swarm.md",
        "add-nodes.md",
        "deploy-service.md",
        "scale-service.md",
        "delete-service.md",
    ]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_tagged_block_is_one_step_and_every_prompt_line_one_command(page: Path) -> None:
    blocks = tagged_blocks(page)
    steps = parse_page(page).steps
    assert blocks, f"{page.name} has no dojo block"
    assert [step.line for step in steps] == [line for line, _, _ in blocks]
    for step, (line, language, body) in zip(steps, blocks, strict=True):
        assert language == "console", f"{page.name}:{line}: written as a console session"
        prompts = prompt_lines(body)
        assert len(step.commands) == len(prompts), f"{page.name}:{line}"
        for command, (offset, machine) in zip(step.commands, prompts, strict=True):
            assert command.line == line + 1 + offset, f"{page.name}:{line}"
            assert command.machine == machine, f"{page.name}:{command.line}"
            first = PROMPT_LINE.sub("", body[offset], count=1)
            assert command.text.split("\n")[0] == first, f"{page.name}:{command.line}"


def _session(page: str, line: int) -> list[tuple[str, str | None, str | None]]:
    (step,) = [s for s in parse_page(TUTORIAL / page).steps if s.line == line]
    return [(c.text, c.machine, c.expected) for c in step.commands]


def _line_of(page: str, text: str) -> int:
    """Line of the fence that opens the dojo block holding ``text``."""
    lines = (TUTORIAL / page).read_text().split("\n")
    target = next(n for n, line in enumerate(lines) if text in line)
    return next(n for n in range(target, -1, -1) if " dojo" in lines[n] and "```" in lines[n]) + 1


def test_commands_and_promises_split_as_a_reader_splits_them() -> None:
    # three creates in one block, each with its own elided output
    creates = _session("setup.md", _line_of("setup.md", "create --driver virtualbox manager1"))
    assert [(text, machine) for text, machine, _ in creates] == [
        (f"docker-machine create --driver virtualbox {name}", None)
        for name in ("manager1", "worker1", "worker2")
    ]
    assert all(expected and expected.startswith("Running pre-create checks...\n")
               for _, _, expected in creates)  # fmt: skip
    assert all("...snip...\n" in (expected or "") for _, _, expected in creates)
    assert creates[2][2] is not None and creates[2][2].rstrip("\n").endswith(
        "run: docker-machine env worker2"
    )

    # the join hint's trailing backslashes are output, not a command going on
    ((text, machine, expected),) = _session(
        "create-swarm.md", _line_of("create-swarm.md", "docker swarm init")
    )
    assert (text, machine) == ("docker swarm init --advertise-addr 192.168.99.100", "manager1")
    assert expected is not None
    assert expected.count("    docker swarm join \\\n") == 2
    assert expected.split("\n")[1] == ""  # a blank line inside output is output

    # `\` continues a command; the prompt-less lines after it belong to it, not to the output
    joins = _session("add-nodes.md", _line_of("add-nodes.md", "TOKEN=$("))
    assert joins[0] == ("TOKEN=$(docker-machine ssh manager1 docker swarm join-token -q worker)",
                        None, None)  # fmt: skip
    assert joins[1] == (
        "docker-machine ssh worker1 \\\n    docker swarm join --token $TOKEN 192.168.99.100:2377",
        None,
        "This node joined a swarm as a worker.\n",
    )

    # `> ` continuation lines of a for loop typed at the prompt
    ((loop, machine, expected),) = _session(
        "routing-mesh.md", _line_of("routing-mesh.md", "for node in")
    )
    assert machine is None
    assert loop.split("\n")[-1] == "done" and len(loop.split("\n")) == 3
    assert expected == "<title>Welcome to nginx!</title>\n" * 3

    # a multi-line `docker service create \` with a blank line before its output
    ((create, machine, expected),) = _session(
        "rolling-update.md", _line_of("rolling-update.md", "--update-delay 10s \\")
    )
    assert machine == "manager1"
    assert create.split("\n")[-1].strip() == "redis:3.0.6"
    assert expected is not None and expected.strip() == "39847ewf0adwnxdna15dejxib"

    # two commands on the manager in one block, each with its own promise
    drained = _session("drain-node.md", _line_of("drain-node.md", "--availability active worker1"))
    assert [(text, machine) for text, machine, _ in drained] == [
        ("docker node update --availability active worker1", "manager1"),
        ("docker node inspect --pretty worker1", "manager1"),
    ]
    assert drained[0][2] == "worker1\n"
    assert drained[1][2] is not None and "Availability:\t\tActive" in drained[1][2]


def test_untagged_console_blocks_are_examples_not_steps() -> None:
    # `docker-machine ssh worker1` (an interactive login) and the join with a copied token
    steps = [step for page in PAGES for step in parse_page(page).steps]
    texts = [command.text for step in steps for command in step.commands]
    assert "docker-machine ssh worker1" not in texts
    assert not any("SWMTKN-1-" in text for text in texts)


# -- on a real engine ----------------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.tutorial
def test_one_update_brings_the_2016_promises_to_today_and_verify_then_passes(
    tmp_path: Path,
) -> None:
    pages = tmp_path / "tutorial"
    shutil.copytree(TUTORIAL, pages)
    original = texts(pages)
    steps = sum(len(parse_page(page).steps) for page in sorted(pages.glob("*.md")))
    common = ("tutorial", "--transcripts", "runs", "--docs-root", "tutorial")
    # no -n: in one process the chained pages run once, each continuing the swarm of the
    # page it requires (dojo_exec.chains), instead of each replaying its prerequisites

    updated = run_cli(tmp_path, "update", *common)
    output = updated.stdout + updated.stderr
    assert "Traceback" not in output, output
    assert updated.returncode == 0, output
    after_update = texts(pages)
    changed = [name for name in original if after_update[name] != original[name]]
    assert changed, "update changed no page: the 1.12 outputs cannot all still match"
    assert summary(updated.stdout)["updated"] > 0
    # the drift update fixes is in the outputs only: every command is still there
    for name in changed:
        before = parse_page(TUTORIAL / name).steps
        after = parse_page(pages / name).steps
        assert [[c.text for c in s.commands] for s in after] == [
            [c.text for c in s.commands] for s in before
        ], name

    verified = run_cli(tmp_path, "verify", *common)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    counts = summary(verified.stdout)
    assert counts["pages"] == len(original)
    assert counts["steps"] == steps
    assert counts["passed"] == steps, verified.stdout
    assert counts["failed"] == 0 and counts["skipped"] == 0

    again = run_cli(tmp_path, "update", *common)
    assert again.returncode == 0, again.stdout + again.stderr
    assert summary(again.stdout)["updated"] == 0, again.stdout
    assert texts(pages) == after_update
