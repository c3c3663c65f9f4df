"""Values quoted in a tutorial, used for real: the author's IDs and tokens in later commands,
and no real secret written into a page by update.

On real captured outputs (``tests/fixtures/outputs``), and on whole pages run in a plain
local shell (driver ``none``) whose commands print those captures.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dojo_exec.matching import MatchOptions, match
from dojo_exec.page import PageError, parse_page, parse_text
from dojo_exec.runner import PageSession, run_pages
from dojo_exec.substitution import Substitutions, loose_pairs
from dojo_exec.transcripts import find_secrets
from dojo_exec.update import PendingUpdates, apply_edits, fake_secret

OUTPUTS = Path(__file__).parent / "fixtures" / "outputs" / "engine-20.10-cli-28.2"
FENCE = "```"

# what a tutorial quotes (Docker's swarm tutorial): made-up token, node ID, address
TOKEN = "SWMTKN-1-49nj1cmql0jkz5s954yi3oex3nedyz0fb0xx14ie39trti4wxv-8vxv8rssmk743ojnwacrr2e7c"
NODE = "dxn1zf6l61qsb1josjja83ngz"
# what the captured run printed
REAL_TOKEN = "SWMTKN-1-5o0xb6f3r6tfv5ke6y82y4jt4uv89fo0mjftxgx6mbo9b1fi0u-6892fbuiiwcvj5lbo15jkrwbb"
REAL_NODE = "k1qovxjy3hrue0dlnud6yei3e"
REAL_IP = "172.20.0.2"

INIT_PROMISE = f"""Swarm initialized: current node ({NODE}) is now a manager.

To add a worker to this swarm, run the following command:

    docker swarm join --token {TOKEN} 192.168.99.100:2377

To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.
"""
# Docker 1.12 wrote the join command over three lines: the promise no longer matches today
INIT_PROMISE_1_12 = f"""Swarm initialized: current node ({NODE}) is now a manager.

To add a worker to this swarm, run the following command:

    docker swarm join \\
    --token {TOKEN} \\
    192.168.99.100:2377

To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.
"""


def capture(name: str) -> str:
    """A fixture's output without its `$ command` and `[exit N]` lines."""
    path = next(OUTPUTS.glob(f"{name}*"))
    return "\n".join(path.read_text().splitlines()[1:-1]) + "\n"


def learnt(promise: str, name: str, where: str = "p.md:3") -> Substitutions:
    subs = Substitutions()
    subs.learn(promise, capture(name), MatchOptions(), where)
    return subs


# -- the module, on real captures -------------------------------------------------------------


def test_a_pasted_token_node_id_and_address_become_the_runs() -> None:
    assert match(INIT_PROMISE, capture("01-swarm-init")).ok
    subs = learnt(INIT_PROMISE, "01-swarm-init")
    join = f"docker swarm join --token {TOKEN} 192.168.99.100:2377"
    assert subs.apply(join) == f"docker swarm join --token {REAL_TOKEN} {REAL_IP}:2377"
    inspect = f"docker node inspect --format '{{{{.Status.State}}}}' {NODE}"
    assert subs.apply(inspect) == inspect.replace(NODE, REAL_NODE)
    # a task name holds the ID as a whole token: replaced; inside a longer word: never
    assert subs.apply(f"docker inspect web.1.{NODE}") == f"docker inspect web.1.{REAL_NODE}"
    for word in (f"x{NODE}", f"{NODE}9", f"{TOKEN}x", f"1{'192.168.99.100'}", "192.168.99.1001"):
        assert subs.apply(f"echo {word}") == f"echo {word}"


def test_only_values_an_earlier_promise_quoted_are_replaced() -> None:
    subs = learnt(INIT_PROMISE, "01-swarm-init")
    other_id, other_token = "9j68exjopxe7wfl6yuxml7a7j", TOKEN[:-1] + "x"
    command = f"docker node inspect {other_id}; docker swarm join --token {other_token} h:2377"
    assert subs.apply(command) == command
    assert Substitutions().apply(f"docker node inspect {NODE}") == f"docker node inspect {NODE}"


def test_a_value_that_captured_itself_changes_nothing() -> None:
    # the embedded machines do have 192.168.99.100: that address binds to itself
    on_embedded = capture("01-swarm-init").replace(REAL_IP, "192.168.99.100")
    subs = Substitutions()
    subs.learn(INIT_PROMISE, on_embedded, MatchOptions(), "p.md:3")
    assert subs.bound["192.168.99.100"].value == "192.168.99.100"
    assert "192.168.99.100" not in subs.changed()
    assert subs.apply("ping -c1 192.168.99.100") == "ping -c1 192.168.99.100"


def test_a_drifted_promise_still_binds_what_is_unambiguous() -> None:
    assert not match(INIT_PROMISE_1_12, capture("01-swarm-init")).ok
    subs = learnt(INIT_PROMISE_1_12, "01-swarm-init")
    assert subs.apply(f"docker swarm join --token {TOKEN} x") == (
        f"docker swarm join --token {REAL_TOKEN} x"
    )
    assert subs.bound[NODE].value == REAL_NODE and subs.bound[NODE].loose
    # three node IDs in a drifted table: pairing them by order could pair the wrong rows
    node_ls_1_12 = (
        "ID                           HOSTNAME  STATUS  AVAILABILITY  MANAGER STATUS\n"
        f"{NODE} *  manager1  Ready   Active        Leader\n"
        "38ciaotwjuritcdtn9npbnkuz    worker1   Ready   Active\n"
        "e216jshn25ckzbvmwlnh5jr3g    worker2   Ready   Active\n"
    )
    assert not match(node_ls_1_12, capture("06-node-ls")).ok
    assert loose_pairs(node_ls_1_12, capture("06-node-ls"), MatchOptions()) == []


def test_ids_from_a_table_and_their_prefixes() -> None:
    node_ls = (
        "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   "
        "ENGINE VERSION\n"
        f"{NODE} *   manager1   Ready     Active         Leader           20.10.24+dfsg1\n"
        "38ciaotwjuritcdtn9npbnkuz     worker1    Ready     Active                          "
        "20.10.24+dfsg1\n"
        "e216jshn25ckzbvmwlnh5jr3g     worker2    Ready     Active                          "
        "20.10.24+dfsg1\n"
    )
    subs = learnt(node_ls, "06-node-ls")
    assert subs.apply("docker node inspect 38ciaotwjuritcdtn9npbnkuz") == (
        "docker node inspect ol7k1kqrm6dg51si6ze1ly6r7"
    )
    # a 12-character prefix of a bound ID is the same prefix of the real one
    assert subs.apply("docker node ps e216jshn25ck") == "docker node ps m37pixj8kxie"
    assert subs.apply("docker node ps e216jshn25") == "docker node ps e216jshn25"  # too short


def test_the_latest_binding_of_a_literal_wins() -> None:
    subs = Substitutions()
    subs.add([("id25", NODE, REAL_NODE)], "a.md:1")
    subs.add([("id25", NODE, "ol7k1kqrm6dg51si6ze1ly6r7")], "a.md:9")
    assert subs.apply(NODE) == "ol7k1kqrm6dg51si6ze1ly6r7"


def test_a_failure_note_names_what_was_replaced_but_never_a_real_token() -> None:
    subs = learnt(INIT_PROMISE, "01-swarm-init", where="swarm.md:12")
    (step,) = parse_text(
        f"{FENCE}console dojo\n$ docker swarm join --token {TOKEN} 192.168.99.100:2377\n"
        f"$ docker node inspect {NODE}\n{FENCE}\n",
        "p.md",
    ).steps
    for command in step.commands:
        subs.apply(command.text)
    report = subs.report(step.commands)
    assert f"{NODE} -> {REAL_NODE} (bound by swarm.md:12)" in report
    assert "the token captured there (bound by swarm.md:12)" in report
    assert REAL_TOKEN not in report and not find_secrets(report.replace(TOKEN[:37], ""))


def test_placeholders_are_replaced_as_written() -> None:
    subs = Substitutions(placeholders={"<MANAGER-IP>": "$(docker-machine ip manager1)"})
    assert subs.apply("docker swarm init --advertise-addr <MANAGER-IP>") == (
        "docker swarm init --advertise-addr $(docker-machine ip manager1)"
    )


# -- whole pages: the runner substitutes, the records keep the author's text -----------------


def _print(name: str) -> str:
    return f"sed '1d;$d' {next(OUTPUTS.glob(f'{name}*'))}"


def _pages(tmp_path: Path) -> tuple[Path, Path]:
    init = tmp_path / "init.md"
    init.write_text(
        f"# Init\n\n{FENCE}console dojo\n$ {_print('01-swarm-init')}\n{INIT_PROMISE}{FENCE}\n"
    )
    join = tmp_path / "join.md"
    join.write_text(
        "---\nrequires: [init.md]\n---\n# Join\n\n"
        f"{FENCE}console dojo\n"
        f'$ test "{TOKEN} 192.168.99.100:2377" = "{REAL_TOKEN} {REAL_IP}:2377" && echo same\n'
        "same\n"
        f'$ test {NODE} = {REAL_NODE} && echo "node ok"\n'
        "node ok\n"
        f"{FENCE}\n"
    )
    return init, join


def test_a_later_page_runs_with_the_values_a_prerequisite_bound(tmp_path: Path) -> None:
    _, join = _pages(tmp_path)
    (record,) = run_pages([join], tmp_path / "t", docs_root=tmp_path, driver="none")
    (step,) = record.steps
    assert step.verdict == "passed", step.explanation
    assert record.replayed == ["init.md"]
    # the record keeps the author's command (the substituted one was run), the transcript
    # no real token
    assert step.command == parse_page(join).steps[0].command
    transcript = (tmp_path / "t" / "join.md.json").read_text()
    assert f"test {NODE} = {REAL_NODE}" in transcript and REAL_TOKEN not in transcript


def test_pages_run_together_keep_the_values_of_the_page_they_continue(tmp_path: Path) -> None:
    init, join = _pages(tmp_path)
    records = run_pages([init, join], None, docs_root=tmp_path, driver="none")
    assert [r.page for r in records] == ["init.md", "join.md"]
    assert records[1].steps[0].verdict == "passed", records[1].steps[0].explanation


def test_without_the_earlier_promise_nothing_is_replaced(tmp_path: Path) -> None:
    init, join = _pages(tmp_path)
    init.write_text(f"# Init\n\n{FENCE}console dojo\n$ {_print('01-swarm-init')}\n{FENCE}\n")
    (record,) = run_pages([join], None, docs_root=tmp_path, driver="none")
    (step,) = record.steps
    assert step.verdict == "failed"
    assert "run with values" not in (step.explanation or "")


def test_a_failing_step_says_what_it_ran_with(tmp_path: Path) -> None:
    _, join = _pages(tmp_path)
    join.write_text(
        "---\nrequires: [init.md]\n---\n# Join\n\n"
        f'{FENCE}console dojo\n$ echo "{TOKEN}" | cut -c1-20; echo {NODE}\nwrong\n{FENCE}\n'
    )
    (record,) = run_pages([join], None, docs_root=tmp_path, driver="none")
    explanation = record.steps[0].explanation or ""
    assert record.steps[0].verdict == "failed"
    assert re.search(rf"{NODE} -> {REAL_NODE} \(bound by \S*init\.md:4\)", explanation)
    assert REAL_TOKEN[9:20] not in explanation and "SWMTKN-1-<redacted>" in explanation


def test_a_failure_report_shows_no_real_token(tmp_path: Path) -> None:
    page = tmp_path / "leak.md"
    page.write_text(f"# L\n\n{FENCE}console dojo\n$ {_print('01-swarm-init')}\nnot this\n{FENCE}\n")
    (record,) = run_pages([page], None, docs_root=tmp_path, driver="none")
    explanation = record.steps[0].explanation or ""
    assert record.steps[0].verdict == "failed" and "Swarm initialized" in explanation
    assert REAL_TOKEN not in explanation and "SWMTKN-1-<redacted>" in explanation


def test_within_one_session_a_later_command_uses_an_earlier_ones_values(tmp_path: Path) -> None:
    page = tmp_path / "one.md"
    page.write_text(
        f"# One\n\n{FENCE}console dojo\n$ {_print('01-swarm-init')}\n{INIT_PROMISE}"
        f"$ test {NODE} = {REAL_NODE} && echo same\nsame\n{FENCE}\n"
    )
    (record,) = run_pages([page], None, docs_root=tmp_path, driver="none")
    assert record.steps[0].verdict == "passed", record.steps[0].explanation


# -- update writes no real secret into a page --------------------------------------------------


def _update(text: str, outputs: list[str]) -> str:
    page = parse_text(text, "p.md")
    updates = PendingUpdates()
    for step, output in zip(page.steps, outputs, strict=True):
        updates.add(step, output, text)
    return apply_edits(text, updates.page_edits(Path("p.md")))


def _two_steps(init_promise: str, worker_promise: str) -> str:
    return (
        f"# T\n\n{FENCE}console dojo\n$ docker swarm init --advertise-addr 192.168.99.100\n"
        f"{init_promise}{FENCE}\n\n1. then\n\n"
        f"   {FENCE}sh dojo\n   docker swarm join-token worker\n"
        f"   # Result ==>\n   {worker_promise}\n   {FENCE}\n"
    )


def test_update_writes_a_fake_token_where_the_promise_had_none() -> None:
    outputs = [capture("01-swarm-init"), capture("03-join-token-worker")]
    new = _update(_two_steps("Swarm initialized.\n", "(nothing yet)"), outputs)
    assert REAL_TOKEN not in new
    assert [s for s in find_secrets(new) if "dojo0placeholder" not in s] == []
    fake = fake_secret(REAL_TOKEN, 1)
    assert new.count(fake) == 2  # one real token, one fake, in both promises
    # the rewritten page keeps the captures: the fake is token-shaped
    steps = parse_text(new, "p.md").steps
    for step, output in zip(steps, outputs, strict=True):
        assert match(step.expected or "", output).ok, step.expected
        assert step.expected is not None and fake in step.expected


def test_update_keeps_the_authors_token_where_the_promise_had_one() -> None:
    outputs = [capture("01-swarm-init"), capture("03-join-token-worker")]
    new = _update(_two_steps(INIT_PROMISE_1_12, "(nothing yet)"), outputs)
    assert REAL_TOKEN not in new and "dojo0placeholder" not in new
    assert new.count(TOKEN) == 2
    for step, output in zip(parse_text(new, "p.md").steps, outputs, strict=True):
        assert match(step.expected or "", output).ok


def test_two_real_tokens_get_two_fakes_and_an_authors_example_stays() -> None:
    manager = capture("02-join-token-manager")
    worker = capture("03-join-token-worker")
    example = f"Paste `docker swarm join --token {TOKEN}` on a worker.\n\n"
    text = example + _two_steps("Swarm initialized.\n", "(nothing yet)").replace(
        "docker swarm init --advertise-addr 192.168.99.100", "docker swarm join-token manager"
    )
    new = _update(text, [manager, worker])
    assert new.startswith(example)
    assert fake_secret(REAL_TOKEN, 1) in new and fake_secret(REAL_TOKEN, 2) in new
    assert not {s for s in find_secrets(new)} - {TOKEN, fake_secret("SWMTKN-1-", 1),
                                                 fake_secret("SWMTKN-1-", 2)}  # fmt: skip


@pytest.mark.parametrize("indent", ["", "   "])
def test_update_writes_no_private_key(indent: str) -> None:
    key = (
        "-----BEGIN EC PRIVATE KEY-----\n"
        "MHcCAQEEIFakeButRealLookingKeyMaterialAAAAoGCCqGSM49AwEHoUQDQgAE\n"
        "q2Jx0n2m4vLkB3dO0cQ9xYvQk3nU0kq+uJ3fH0JQ==\n"
        "-----END EC PRIVATE KEY-----\n"
    )
    text = (
        f"# K\n\n{indent}{FENCE}sh dojo\n{indent}cat key.pem\n{indent}# Result ==>\n"
        f"{indent}nothing\n{indent}{FENCE}\n"
    )
    new = _update(text, [key])
    assert "MHcCAQEE" not in new and "PRIVATE KEY" in new
    (step,) = parse_text(new, "k.md").steps
    assert match(step.expected or "", key).ok, new
    assert json.dumps(new)  # a plain page text


def test_update_on_a_run_writes_no_real_token_and_the_pasted_join_still_passes(
    tmp_path: Path,
) -> None:
    """The run prints a real token; the page it rewrites gets a fake one; verify then passes,
    the later command that pastes the fake binding to the next run's real token."""
    init = tmp_path / "init.md"
    init.write_text(
        f"# Init\n\n{FENCE}console dojo\n$ {_print('01-swarm-init')}\nSwarm initialized.\n{FENCE}\n"
    )
    updates = PendingUpdates()
    run_pages([init], None, docs_root=tmp_path, driver="none", updates=updates)
    updates.write()
    written = init.read_text()
    assert REAL_TOKEN not in written and fake_secret(REAL_TOKEN, 1) in written
    join = tmp_path / "join.md"
    join.write_text(
        "---\nrequires: [init.md]\n---\n# Join\n\n"
        f"{FENCE}console dojo\n$ echo {fake_secret(REAL_TOKEN, 1)}\n{REAL_TOKEN}\n{FENCE}\n"
    )
    (record,) = run_pages([join], None, docs_root=tmp_path, driver="none")
    assert record.steps[0].verdict == "passed", record.steps[0].explanation


def test_update_writes_no_path_of_the_run_and_still_matches() -> None:
    env = (
        'export DOCKER_TLS_VERIFY="1"\n'
        'export DOCKER_HOST="tcp://192.168.99.100:2376"\n'
        'export DOCKER_CERT_PATH="/tmp/dojo-p1a2b3c4d-k2j_x9z1/machine/machines/manager1"\n'
        'export DOCKER_MACHINE_NAME="manager1"\n'
    )
    author = 'export DOCKER_CERT_PATH="/Users/mary/.docker/machine/machines/manager1"\n'
    text = f"# E\n\n{FENCE}console dojo\n$ docker-machine env manager1\n{author}{FENCE}\n"
    new = _update(text, [env])
    assert "dojo-p1a2b3c4d" not in new and 'export DOCKER_CERT_PATH="...\n' in new
    (step,) = parse_text(new, "e.md").steps
    # the next run keeps its machines elsewhere: the promise holds
    assert match(step.expected or "", env.replace("p1a2b3c4d-k2j_x9z1", "p9f8e7d6c-aaaa1111")).ok


NODE_LS_1_12 = (
    "ID                           HOSTNAME  STATUS  AVAILABILITY  MANAGER STATUS\n"
    "03g1y59jwfg7cf99w4lt0f662    worker2   Ready   Active\n"
    "9j68exjopxe7wfl6yuxml7a7j    worker1   Ready   Active\n"
    f"{NODE} *  manager1  Ready   Active        Leader\n"
)


def test_update_writes_the_node_id_an_earlier_promise_quoted_not_the_runs() -> None:
    subs = learnt(INIT_PROMISE, "01-swarm-init")  # the tutorial's NODE is this run's REAL_NODE
    text = f"# T\n\n{FENCE}console dojo\n$ docker node ls\n{NODE_LS_1_12}{FENCE}\n"
    (step,) = parse_text(text, "p.md").steps
    updates = PendingUpdates()
    updates.add(step, capture("06-node-ls"), text, 0, subs)
    (new,) = parse_text(apply_edits(text, updates.page_edits(Path("p.md"))), "p.md").steps
    assert new.expected is not None and "ENGINE VERSION" in new.expected
    manager = next(line for line in new.expected.splitlines() if "manager1" in line)
    assert manager.split()[:2] == [NODE, "*"] and REAL_NODE not in new.expected
    assert "ol7k1kqrm6dg51si6ze1ly6r7" in new.expected  # worker1: no earlier promise quoted it
    assert match(new.expected, capture("06-node-ls")).ok
    # without the run's bindings, the run's own ID is written
    plain = PendingUpdates()
    plain.add(step, capture("06-node-ls"), text)
    assert REAL_NODE in apply_edits(text, plain.page_edits(Path("p.md")))


def test_a_truncated_id_is_written_as_the_same_prefix_of_the_authors() -> None:
    subs = Substitutions()
    subs.add([("id25", "9uk4639qpg7npwf3fn2aasksr", "vuv02ejgm02pprzc1lzorbob0")], "s.md:3")
    ls = "ID            NAME        MODE         REPLICAS   IMAGE           PORTS\n"
    promise = subs.authors_values(
        ls + "vuv02ejgm02p  helloworld  replicated   1/1        alpine:latest\n",
        capture("08-service-ls"),
        MatchOptions(),
    )
    assert "9uk4639qpg7n  helloworld" in promise and "vuv02ejgm02p" not in promise
    assert match(promise, capture("08-service-ls")).ok


def test_a_literal_already_standing_for_another_value_is_not_written_again() -> None:
    subs = Substitutions()
    subs.add([("id25", NODE, "ol7k1kqrm6dg51si6ze1ly6r7")], "a.md:1")
    rewritten = capture("06-node-ls").replace(REAL_NODE, NODE)  # NODE is manager1's here
    assert subs.authors_values(rewritten, capture("06-node-ls"), MatchOptions()) == rewritten


# -- placeholders the page gives a value: `<MANAGER-IP>` ---------------------------------------


def test_a_pages_values_replace_its_placeholders_shell_expressions_included(
    tmp_path: Path,
) -> None:
    base = tmp_path / "base.md"
    base.write_text(
        f"# Base\n\n{FENCE}console dojo\n$ echo '<MANAGER-IP>'\n<MANAGER-IP>\n{FENCE}\n"
    )
    page = tmp_path / "page.md"
    page.write_text(
        "---\nrequires: [base.md]\n"
        'values: {"<MANAGER-IP>": "192.168.99.100", "<N>": "$(expr 1 + 1)"}\n---\n# Values\n\n'
        f"{FENCE}console dojo\n$ echo <MANAGER-IP>:2377 <N> '<N>'\n"
        "192.168.99.100:2377 2 $(expr 1 + 1)\n"  # the shell evaluates it: not in '…'
        f"{FENCE}\n"
    )
    with PageSession.for_path(page, driver="none", docs_root=tmp_path) as session:
        (outcome,) = session.run_all()
    assert outcome.verdict == "passed", outcome.explanation
    assert outcome.record().command == "echo <MANAGER-IP>:2377 <N> '<N>'"  # as written
    # the prerequisite's command (another page, which sets no values) ran as written
    assert session.replayed == ["base.md"] and session.drifted_prerequisites == []


def test_the_projects_values_apply_and_the_pages_win(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dojo-exec]\nvalues = { "<MANAGER-IP>" = "10.0.0.1", "<PORT>" = "2377" }\n'
    )
    page = tmp_path / "page.md"
    page.write_text('---\nvalues: {"<MANAGER-IP>": "192.168.99.100"}\n---\n# P\n')
    subs = Substitutions()
    assert subs.apply("join <MANAGER-IP>:<PORT>", page) == "join 192.168.99.100:2377"
    assert subs.apply("join <MANAGER-IP>:<PORT>") == "join <MANAGER-IP>:<PORT>"


@pytest.mark.parametrize(
    "values", ['"<MANAGER-IP>"', '{"<MANAGER-IP>": [1]}', '{"": "x"}', '{"<A>": true}']
)
def test_malformed_values_are_a_one_line_error_at_the_front_matter(values: str) -> None:
    with pytest.raises(PageError) as raised:
        parse_text(f"---\nvalues: {values}\n---\n# P\n", "p.md")
    assert str(raised.value).startswith("p.md:2: front matter 'values'"), str(raised.value)
    assert "\n" not in str(raised.value)
