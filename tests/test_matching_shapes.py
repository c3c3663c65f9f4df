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
