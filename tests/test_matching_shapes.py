"""New volatile shapes, indentation drift and reconcile, on outputs of two real engines."""

from __future__ import annotations

import pytest
from matching_twins import RUN_A, RUN_B, capture, rerandomise_more

from dojo_exec.matching import match, reconcile

NAMES = sorted(p.name for p in RUN_A.glob("*.txt"))


@pytest.mark.parametrize("name", NAMES)
def test_second_engine_matches_the_first(name: str) -> None:
    result = match(capture(name), capture(name, RUN_B))
    assert result.ok, result.explanation


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [1, 2])
def test_rerandomised_twin_matches(name: str, seed: int) -> None:
    twin = rerandomise_more(capture(name), seed)
    assert twin != capture(name) or name == "service-inspect-format-json.txt"  # no volatile
    result = match(capture(name), twin)
    assert result.ok, result.explanation


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("docker-info.txt", "Kernel Version:", "Kernel Release:"),
        ("docker-info.txt", "Total Memory: 23.54GiB", "Total Memory: lots"),
        ("docker-info.txt", " ID: ", " ID: X"),
        ("node-inspect-pretty.txt", "-----END CERTIFICATE-----", "-----END KEY-----"),
        ("node-inspect-pretty.txt", "+0000 utc", "yesterday"),
        ("system-df.txt", "1.984MB", "1.984 furlongs"),
    ],
)
def test_shapes_do_not_accept_anything(name: str, old: str, new: str) -> None:
    captured = capture(name, RUN_B)
    assert old in captured
    assert not match(capture(name), captured.replace(old, new, 1)).ok


def test_engine_ids_bind() -> None:
    promised = "ID: SWVC:TKYB:L55R:6GUV:RZZX:XZBK:XFQ4:QAAX:GOMX:NBSF:XUUU:OBKQ\n" * 2
    engine_b = capture("docker-info.txt", RUN_B).split(" ID: ")[1].split("\n")[0]
    assert match(promised, f"ID: {engine_b}\n" * 2).ok
    uuid = "3f4e9a1c-5b2d-4e6f-8a7b-9c0d1e2f3a4b"  # docker info 23+ prints a UUID
    assert match(promised, f"ID: {uuid}\nID: {uuid}").ok
    result = match(promised, f"ID: {engine_b}\nID: {uuid}")
    assert not result.ok and "stands for" in result.explanation


def test_pem_block_accepts_any_number_of_base64_lines() -> None:
    pretty = capture("node-inspect-pretty.txt", RUN_B)
    lines = pretty.splitlines()
    begin = lines.index("-----BEGIN CERTIFICATE-----")
    shorter = "\n".join(lines[: begin + 1] + lines[begin + 3 :])
    assert match(capture("node-inspect-pretty.txt"), shorter).ok
    elided = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----"
    assert match(f"...\n{elided}\n...", pretty).ok
    broken = pretty.replace(lines[begin + 2], lines[begin + 2][:10] + " not base64 ")
    assert not match(capture("node-inspect-pretty.txt"), broken).ok


# --------------------------------------------------------------------------- indentation drift


def _flush_left(text: str) -> str:
    """The Server part of ``docker info`` as Docker 1.12 printed it: one space less."""
    server = text.split("Server:\n", 1)[1]
    return "\n".join(line[1:] for line in server.splitlines())


def test_docker_1_12_flush_left_info_matches_todays_indented_info() -> None:
    promised = _flush_left(capture("docker-info.txt"))
    assert promised.startswith("Containers:") and "\n NodeID:" in promised
    captured = capture("docker-info.txt", RUN_B).split("Server:\n", 1)[1]
    result = match(promised, captured)
    assert result.ok, result.explanation
    assert result.notes == (
        "promise indented 0 spaces, capture 1: compared ignoring the consistent shift",
    )
    # the reverse: an indented promise against a flush-left capture
    reverse = match(captured, _flush_left(capture("docker-info.txt", RUN_B)))
    assert reverse.ok and reverse.notes[0].startswith("promise indented 1 spaces, capture 0")
    # with elisions around an excerpt, as a tutorial writes it
    excerpt = "...\nSwarm: active\n NodeID: z1pi8xr1i5cmreg28ld1rur2c\n Is Manager: true\n..."
    assert match(excerpt, capture("docker-info.txt", RUN_B)).ok


def test_a_partial_shift_is_a_mismatch() -> None:
    promised = _flush_left(capture("docker-info.txt")).splitlines()
    promised[3] = " " + promised[3]
    captured = capture("docker-info.txt", RUN_B).split("Server:\n", 1)[1]
    result = match("\n".join(promised), captured)
    assert not result.ok and result.notes == ()


def test_reconcile_of_a_shifted_drifted_promise_keeps_its_lines() -> None:
    promised = _flush_left(capture("docker-info.txt"))
    captured = capture("docker-info.txt", RUN_B).split("Server:\n", 1)[1]
    drifted = captured.replace("Containers: 2", "Containers: 3")
    updated = reconcile(promised, drifted)
    assert match(updated, drifted).ok and not match(updated, captured).ok
    assert "  NodeID: z1pi8xr1i5cmreg28ld1rur2c" in updated  # the author's ID, re-indented


# --------------------------------------------------------------------------- reconcile


def test_reconcile_keeps_the_authors_id_on_new_lines() -> None:
    """The known bug: a still-matching ID line used to be dropped for the raw capture."""
    captured = (
        "oedtmf7wvc2m0p8we19dvu44k\noverall progress: 1 out of 1 tasks\n"
        "verify: Service oedtmf7wvc2m0p8we19dvu44k converged\n"
    )
    updated = reconcile("9uk4639qpg7npwf3fn2aasksr\n", captured)
    assert updated == (
        "9uk4639qpg7npwf3fn2aasksr\noverall progress: 1 out of 1 tasks\n"
        "verify: Service 9uk4639qpg7npwf3fn2aasksr converged\n"
    )
    assert match(updated, captured).ok


@pytest.mark.parametrize("name", NAMES)
def test_reconcile_on_real_drift_keeps_what_still_matches(name: str) -> None:
    captured = capture(name, RUN_B)
    drifted = captured.replace("manager1", "manager7")
    updated = reconcile(capture(name), drifted)
    assert match(updated, drifted).ok
    assert reconcile(updated, drifted) == updated
    assert match(updated, rerandomise_more(drifted, 5)).ok


# --------------------------------------------------------------------------- real tutorial pages
#
# Promises from the pages of tests/data/corpus (Docker's swarm tutorial, written for 1.12)
# against captures of the same commands today, recorded on an embedded machine (m1, engine
# 20.10, a service ``helloworld`` of 3 replicas of ``alpine ping docker.com``):
# tests/data/matching/engine-20.10-m1/.  Same output with other IDs and times matches; a
# wrong slot, image, command, state or count does not.

M1 = RUN_A.parent / "engine-20.10-m1"
CORPUS = RUN_A.parent.parent / "corpus"


def _m1(name: str) -> str:
    return capture(f"{name}.txt", M1)


def _page_promise(page: str, command: str, occurrence: int = 0) -> str:
    from dojo_exec.page import parse_page

    found = [
        c.expected
        for step in parse_page(CORPUS / page).steps
        for c in step.commands
        if c.text == command and c.expected
    ]
    return found[occurrence]


def _docker_ps_1_12() -> str:
    """delete-service.md's ``docker ps`` (1.12, five replicas), the rows of slots 1 to 3."""
    rows = _page_promise("docker-swarm-tutorial-delete-service.tagged.md", "docker ps")
    lines = rows.strip("\n").split("\n")
    kept = [line for line in lines[1:] if any(f" helloworld.{n}." in line for n in (1, 2, 3))]
    assert len(kept) == 3 and "Up About a minute" in "\n".join(kept)
    return "\n".join([lines[0], *kept])


@pytest.mark.parametrize("name", ["docker-ps", "docker-ps-a-minute"])
def test_a_1_12_docker_ps_with_task_ids_in_names_matches_today(name: str) -> None:
    # NAMES helloworld.1.74nbhb3fhud8jfrhigd7s29we, CREATED 44 minutes ago, STATUS Up 46
    # seconds / Up About a minute: other IDs and times, same output
    result = match(_docker_ps_1_12(), _m1(name))
    assert result.ok, result.explanation


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ("helloworld.3.", "helloworld.4.", "NAMES"),  # another slot
        ("alpine:latest", "alpine:3.19", "IMAGE"),
        ('"ping docker.com"', '"ping localhost"', "COMMAND"),
        ("Up 5 seconds", "Exited (137) 5 seconds ago", "STATUS"),
    ],
)
def test_a_1_12_docker_ps_still_sees_real_differences(old: str, new: str, column: str) -> None:
    captured = _m1("docker-ps")
    assert old in captured
    result = match(_docker_ps_1_12(), captured.replace(old, new, 1))
    assert not result.ok and f"column {column}" in result.explanation
    dropped = "\n".join(captured.split("\n")[:-1])  # two replicas instead of three
    assert not match(_docker_ps_1_12(), dropped).ok


def test_task_ids_in_names_bind_to_the_service_ps_ids() -> None:
    promised = _m1("service-ps") + "\n" + _m1("docker-ps")
    later = _m1("service-ps-a-minute") + "\n" + _m1("docker-ps-a-minute")
    assert match(promised, rerandomise_more(later, 3)).ok
    two, three = "helloworld.2.bgipf0c3b0utmnquc12xtpgwo", "helloworld.3.oremm5rxuykrvq9wncwm2de6i"
    swapped = later.replace(two, "@").replace(three, "helloworld.2." + three[13:])
    swapped = swapped.replace("@", "helloworld.3." + two[13:])  # task 2's ID on slot 3
    result = match(promised, swapped)
    assert not result.ok and "NAMES" in result.explanation


# 1.12's ``service ps`` printed the CURRENT STATE without "ago" (drain-node.md,
# rolling-update.md, scale-service.md): ``Running 26 seconds``, ``Running About a minute``.
STATES_1_12 = ["Running 26 seconds", "Running About a minute", "Running 4 minutes"]


@pytest.mark.parametrize("state", STATES_1_12)
def test_a_1_12_current_state_without_ago_matches_todays(state: str) -> None:
    pages = [
        _page_promise(f"docker-swarm-tutorial-{page}.tagged.md", "docker service ps redis", n)
        for page, n in [("drain-node", 0), ("drain-node", 1), ("rolling-update", 0)]
    ]
    assert any(f"  {state}\n" in text for text in pages)
    promised = _m1("service-ps").replace("Running 5 seconds ago", state)
    for name in ["service-ps", "service-ps-a-minute"]:  # 5 seconds ago, about a minute ago
        result = match(promised, _m1(name))
        assert result.ok, result.explanation
    later = _m1("service-ps-a-minute")
    shutdown = later.replace("Running about", "Shutdown about", 1)
    assert "CURRENT STATE: promised" in match(promised, shutdown).explanation
    desired = later.replace("Running         Running", "Shutdown        Running", 1)
    assert "DESIRED STATE: promised" in match(promised, desired).explanation


def test_history_rows_with_1_12_ages_match_todays() -> None:
    updated = _m1("service-ps-updated")
    promised = updated.replace("seconds ago", "seconds")  # Running 31 seconds, Shutdown 32 ...
    assert promised != updated
    assert match(promised, updated).ok
    assert match(promised, rerandomise_more(updated, 5, shuffle=True)).ok
    assert not match(promised, updated.replace("alpine:3.19", "alpine:latest", 1)).ok


def test_a_1_12_task_name_with_its_id_is_not_todays_name() -> None:
    # scale-service.md's service ps NAME ``helloworld.1.8p1vev3fq5zm0mi8g0as41w35``: since
    # 1.13 the ID has its own column and NAME is ``helloworld.1``.  A changed format, not a
    # volatile value: verify reports it, update rewrites it.
    promised = _page_promise(
        "docker-swarm-tutorial-scale-service.tagged.md", "docker service ps helloworld"
    )
    lines = promised.strip("\n").split("\n")[:4]
    result = match("\n".join(lines), _m1("service-ps-format-1.12-columns"))
    assert not result.ok and "column NAME" in result.explanation


def test_none_is_a_value_in_docker_images() -> None:
    images = _m1("images-none")  # CREATED: Less than a second ago, 1 second ago, 30 minutes ago
    assert "<none>       <none>" in images and "Less than a second ago" in images
    twin = rerandomise_more(images, 2, shuffle=True)
    assert match(images, twin).ok
    assert reconcile(images, twin) == images
    assert not match(images, images.replace("<none>       <none>", "<none>       latest  ")).ok
    assert not match(images, images.replace("<none>       <none>", "demo         <none>")).ok
    reconciled = reconcile(images, images.replace("<none>       <none>", "<none>       latest  "))
    assert "<none>       latest" in reconciled
