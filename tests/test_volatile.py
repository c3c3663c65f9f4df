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
