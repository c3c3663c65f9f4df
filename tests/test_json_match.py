"""JSON outputs compared as JSON, on inspect outputs recorded on two real engines."""

from __future__ import annotations

import json

import pytest
from fixtures.rerandomise import ORIGINAL, RERUN, body
from matching_twins import RUN_B, capture, rerandomise_more

from dojo_exec.json_match import parse
from dojo_exec.matching import match, reconcile

JSON_FILES = [
    "node-inspect.txt",
    "service-inspect.txt",
    "info-format-json-swarm.txt",
    "container-inspect-format-json.txt",
    "service-inspect-format-json.txt",
    "node-ls-format-json.txt",
]


@pytest.mark.parametrize("name", JSON_FILES)
def test_two_real_engines_match_as_json(name: str) -> None:
    promised, captured = capture(name), capture(name, RUN_B)
    assert promised != captured or name == "service-inspect-format-json.txt"
    result = match(promised, captured)
    assert result.ok, result.explanation
    assert result.notes == ("compared as JSON",)


@pytest.mark.parametrize("name", JSON_FILES)
def test_layout_and_key_order_do_not_matter(name: str) -> None:
    relaid = json.dumps(json.loads(capture(name)), indent=2, sort_keys=True)
    assert relaid != capture(name)
    assert match(relaid, capture(name, RUN_B)).ok
    assert match(relaid, rerandomise_more(capture(name), 7)).ok


def test_swarm_json_fixture_matches_its_twin() -> None:
    name = "29-docker-info-swarm.txt"
    result = match(body(ORIGINAL / name), body(RERUN / name))
    assert result.ok and result.notes == ("compared as JSON",)
    assert result.bindings["k1qovxjy3hrue0dlnud6yei3e"] != "k1qovxjy3hrue0dlnud6yei3e"


def _replicas(text: str, count: int) -> str:
    document = json.loads(text)
    document[0]["Spec"]["Mode"]["Replicated"]["Replicas"] = count
    return json.dumps(document, indent=4)


def test_a_changed_value_is_named_by_its_path() -> None:
    promised = capture("service-inspect.txt")
    result = match(promised, _replicas(capture("service-inspect.txt", RUN_B), 3))
    assert not result.ok
    assert result.explanation.splitlines()[0] == (
        "[0].Spec.Mode.Replicated.Replicas: promised 2, captured 3"
    )


def test_missing_key_and_list_length() -> None:
    document = json.loads(capture("node-inspect.txt", RUN_B))
    del document[0]["Spec"]["Role"]
    result = match(capture("node-inspect.txt"), json.dumps(document))
    assert result.explanation.startswith("[0].Spec: missing key 'Role'")
    result = match(capture("node-inspect.txt"), json.dumps(document * 2))
    assert result.explanation.startswith("(document): promised 1 items, captured 2")


def test_index_any_integer_created_at_any_timestamp_ids_bind() -> None:
    promised = capture("node-inspect.txt")
    document = json.loads(capture("node-inspect.txt", RUN_B))
    document[0]["Version"]["Index"] = 12345
    document[0]["CreatedAt"] = "2031-01-02T03:04:05Z"
    assert match(promised, json.dumps(document)).ok
    document[0]["Version"]["Index"] = "12345"
    assert not match(promised, json.dumps(document)).ok
    document[0]["Version"]["Index"] = 9
    document[0]["CreatedAt"] = "yesterday"
    result = match(promised, json.dumps(document))
    assert result.explanation.startswith('[0].CreatedAt: promised "2026-11-30T15:14:41')
    # the node ID is an identity: the same promised ID cannot capture two values
    info = json.loads(capture("info-format-json-swarm.txt", RUN_B))
    info["RemoteManagers"][0]["NodeID"] = "abcdefghijklmnopqrstuvw12"
    result = match(capture("info-format-json-swarm.txt"), json.dumps(info))
    assert not result.ok and "stands for" in result.explanation


def test_scalars_and_non_json_stay_text() -> None:
    assert parse("true") is None and parse("[]\nError: no such service: x") is None
    assert match("true", "true").notes == ()


def test_reconcile_keeps_matching_json_and_writes_a_drifted_capture() -> None:
    promised = json.dumps(json.loads(capture("service-inspect.txt")), indent=2)
    assert reconcile(promised, capture("service-inspect.txt", RUN_B)) == promised
    drifted = _replicas(capture("service-inspect.txt", RUN_B), 3)
    updated = reconcile(promised, drifted)
    assert updated == drifted and match(updated, drifted).ok
    assert match(updated, rerandomise_more(drifted, 3)).ok
