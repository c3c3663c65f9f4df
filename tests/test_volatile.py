"""Volatile shapes: recognised on real samples, plain words left alone."""

from __future__ import annotations

import pytest

from dojo_exec.volatile import classify, scan, volatile_values


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("k1qovxjy3hrue0dlnud6yei3e", "id25"),
        ("6387rh1ejhatujtcmmg4nbaka", "id25"),
        ("vuv02ejgm02p", "id12"),
        ("cf90705835e8", "id12"),
        (
            "SWMTKN-1-5o0xb6f3r6tfv5ke6y82y4jt4uv89fo0mjftxgx6mbo9b1fi0u-6892fbuiiwcvj5lbo15jkrwbb",
            "token",
        ),
        ("sha256:" + "2c395bf769ed9ee1851176199b3b41b94c6439f6eab6f403aa72bf1d30fc9229", "digest"),
        ("a" * 32 + "0123456789abcdef0123456789abcdef", "hex64"),
        ("172.20.0.2", "ip"),
        ("5 minutes ago", "age"),
        ("about a minute ago", "age"),
        ("About an hour ago", "age"),
        ("less than a second ago", "age"),
        ("29 seconds ago", "age"),
        ("2026-11-25T23:48:34.170414697Z", "timestamp"),
    ],
)
def test_shapes(token: str, kind: str) -> None:
    assert classify(token) == kind


@pytest.mark.parametrize(
    "word",
    [
        "helloworld",
        "replicated",
        "manager1",
        "worker2",
        "helloworld.1",
        "alpine:latest",
        "abcdefghijkl",
        "123456789012",
        "stop-first",
        "redis:3.0.7",
        "Running",
        "20.10.24+dfsg1",
    ],
)
def test_plain_words_are_not_volatile(word: str) -> None:
    assert classify(word) is None


def test_versions_only_with_the_option() -> None:
    for version in ["20.10.24+dfsg1", "28.2.2", "1.6.20~ds1", "go1.24.3"]:
        assert classify(version) is None
        assert classify(version, versions=True) == "version"
    # an image tag is not a Docker version
    assert classify("redis:3.0.7", versions=True) is None


def test_ip_port_splits_into_ip_and_port() -> None:
    kinds = [(p.kind, p.text) for p in scan("join --token X 172.20.0.2:2377")]
    assert kinds[-3:] == [("ip", "172.20.0.2"), (None, ":"), ("port", "2377")]


def test_uptime_and_time_phrases_in_context() -> None:
    pieces = scan("Up 28 seconds")
    assert [(p.kind, p.text) for p in pieces] == [(None, "Up "), ("uptime", "28 seconds")]
    # a duration that is not an age stays literal
    assert all(p.kind is None for p in scan("verify: Waiting 5 seconds to verify"))
    assert [p.kind for p in scan("Started:\t42 seconds ago")] == [None, "age"]


def test_task_id_inside_a_container_name() -> None:
    found = volatile_values("redis.1.6387rh1ejhatujtcmmg4nbaka")
    assert found == [("id25", "6387rh1ejhatujtcmmg4nbaka")]


def test_id_cell_accepts_ids_without_digits() -> None:
    assert [p.kind for p in scan("abcdefghijkl")] == [None]
    assert [p.kind for p in scan("abcdefghijkl", id_cell=True)] == ["id12"]
    assert [(p.kind, p.text) for p in scan("k1qovxjy3hrue0dlnud6yei3e *", id_cell=True)] == [
        ("id25", "k1qovxjy3hrue0dlnud6yei3e"),
        (None, " *"),
    ]


def _line(name: str, label: str) -> str:
    from matching_twins import capture

    return next(line for line in capture(name).splitlines() if label in line)


@pytest.mark.parametrize(
    ("name", "label", "kind"),
    [
        ("docker-info.txt", " ID: ", "engine"),
        ("docker-info.txt", "Kernel Version:", "kernel"),
        ("docker-info.txt", "Total Memory:", "size"),
        ("node-inspect-pretty.txt", "Joined at:", "timestamp"),
        ("node-inspect-pretty.txt", "Memory:", "size"),
        ("node-inspect-pretty.txt", "Issuer Public Key:", "key"),
        ("node-inspect.txt", '"CreatedAt"', "timestamp"),
        ("node-inspect.txt", '"Index"', "index"),
        ("images.txt", "alpine", "size"),
    ],
)
def test_new_shapes_on_real_lines(name: str, label: str, kind: str) -> None:
    kinds = [p.kind for p in scan(_line(name, label)) if p.kind]
    assert kind in kinds


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("3f4e9a1c-5b2d-4e6f-8a7b-9c0d1e2f3a4b", "engine"),  # docker info 23+
        ("2026-11-30 13:48:25.013972024 +0000 UTC", "timestamp"),
        ("2026-11-30T13:48:25.013972024+00:00", "timestamp"),
        ("1.953 GiB", "size"),
        ("15.6MB", "size"),
        ("2.5kB", "size"),
        ("512 B", "size"),
    ],
)
def test_new_shapes_in_their_documented_forms(text: str, kind: str) -> None:
    assert classify(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "Kernel 6.1.0-28-amd64",  # a kernel version only after "Kernel Version:"
        " Issuer Subject:\tMBMxETAPBgNVBAMTCHN3YXJtLWNh",  # short base64 stays literal
        "/usr/local/lib/docker/cli-plugins",
        "B-tree",
        "version 1.2 Beta",
        "Index 12",
        "ABCD:EFGH",
    ],
)
def test_new_shapes_leave_ordinary_text_literal(text: str) -> None:
    assert all(p.kind is None for p in scan(text))


def _m1_cells(name: str, column: str) -> list[str]:
    """The cells of one column of a capture recorded on an embedded machine today."""
    from matching_twins import DATA, capture

    from dojo_exec.tables import find_tables

    (table,) = find_tables(capture(f"{name}.txt", DATA / "engine-20.10-m1").split("\n"))
    number = table.index(column)
    assert number is not None
    return [row.cells[number] for row in table.rows]


@pytest.mark.parametrize(
    "cell",
    [
        # Docker 1.12's service ps, as the swarm tutorial pages show it (no "ago")
        "Running 26 seconds",
        "Running About a minute",
        "Running 4 minutes",
        # today's, and swarmctl's (SwarmKit's README)
        "Shutdown 2 minutes ago",
        "Running 5 seconds ago",
        "RUNNING 1 minute ago",
        "Preparing less than a second ago",
    ],
)
def test_elapsed_after_a_task_state_with_or_without_ago(cell: str) -> None:
    from dojo_exec.lines import pairs

    state, elapsed = cell.split(" ", 1)
    assert [(p.kind, p.text) for p in scan(cell)] == [(None, state + " "), ("elapsed", elapsed)]
    today = _m1_cells("service-ps-updated", "CURRENT STATE") + _m1_cells(
        "service-ps-a-minute", "CURRENT STATE"
    )
    assert "Running about a minute ago" in today and "Shutdown 5 seconds ago" in today
    for captured in today:
        same_state = captured.split(" ", 1)[0].lower() == state.lower()
        assert (pairs(cell, captured, False) is not None) == (same_state and state[1:].islower())


def test_a_duration_after_other_words_is_not_an_elapsed_time() -> None:
    assert all(p.kind is None for p in scan("Waiting 5 seconds to verify"))
    assert all(p.kind is None for p in scan("Runningx 5 seconds"))
    assert [p.kind for p in scan("Exited (137) 19 seconds ago")] == [None, "age"]
    assert [p.kind for p in scan("Up About a minute")] == [None, "uptime"]
    # "ago" is optional only after a task state: an age elsewhere keeps it
    from dojo_exec.lines import pairs

    assert pairs("About a minute ago", "About a minute", False) is None
    assert pairs("Up 5 seconds", "Up 5 seconds ago", False) is None
