"""Transcripts: round trip, keep-N, atomic writes, redaction of secrets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dojo_exec import transcripts
from dojo_exec.transcripts import (
    RunRecord,
    StepRecord,
    Transcript,
    find_secrets,
    load_transcript,
    record_run,
    redact,
    transcript_path,
)

FIXTURES = Path(__file__).parent / "fixtures" / "outputs" / "engine-20.10-cli-28.2"
TOKEN = "SWMTKN-1-5o0xb6f3r6tfv5ke6y82y4jt4uv89fo0mjftxgx6mbo9b1fi0u-6892fbuiiwcvj5lbo15jkrwbb"


def make_run(started: str = "2026-11-25T23:48:00Z", captured: str = "ok\n") -> RunRecord:
    return RunRecord(
        page="swarm/init.md",
        started=started,
        duration=12.5,
        docker_client="28.2.2",
        docker_engine="20.10.24+dfsg1",
        driver="embedded (Docker-in-Docker)",
        images="local stand-ins (dojo mirror)",
        dojo_exec="0.1.0",
        steps=[
            StepRecord(
                line=7,
                digest="0123456789abcdef",
                command="docker node ls\necho done",
                expected="ID  HOSTNAME\n",
                captured=captured,
                exit_status=0,
                duration=0.4,
                verdict="passed",
                attempts=3,
                checks={"no rows where NODE = manager1": True},
            ),
            StepRecord(
                line=20,
                digest="fedcba9876543210",
                command="docker swarm leave",
                expected=None,
                captured="",
                exit_status=None,
                duration=0.0,
                verdict="skipped",
                reason="would break the swarm",
                hidden=True,
            ),
        ],
        replayed=["swarm/setup.md"],
    )


def test_transcript_path_mirrors_the_docs_tree(tmp_path: Path) -> None:
    assert transcript_path(tmp_path, "swarm/init.md") == tmp_path / "swarm" / "init.md.json"
    for bad in ("../x.md", "/abs.md", "", "a\\b.md"):
        with pytest.raises(ValueError):
            transcript_path(tmp_path, bad)


def test_round_trip(tmp_path: Path) -> None:
    run = make_run()
    path = record_run(tmp_path, run)
    assert path == tmp_path / "swarm" / "init.md.json"
    loaded = load_transcript(tmp_path, "swarm/init.md")
    assert loaded == Transcript(page="swarm/init.md", runs=[run])
    assert loaded.runs[0].passed == 1 and loaded.runs[0].skipped == 1 and loaded.runs[0].ok


def test_missing_transcript_is_none(tmp_path: Path) -> None:
    assert load_transcript(tmp_path, "nope.md") is None


def test_file_is_stable_and_diff_friendly(tmp_path: Path) -> None:
    path = record_run(tmp_path, make_run())
    text = path.read_text()
    assert text.endswith("}\n") and '\n  "runs": [' in text
    data = json.loads(text)
    assert list(data) == ["format", "page", "runs"]
    step = data["runs"][0]["steps"][0]
    assert step["command"] == ["docker node ls", "echo done"]  # one line per JSON line
    # writing the same transcript again gives the same bytes
    again = transcripts.dumps(load_transcript(tmp_path, "swarm/init.md"))  # type: ignore[arg-type]
    assert again == text


def test_keep_the_latest_run_and_the_newest_n_superseded_in_short(tmp_path: Path) -> None:
    for number in range(5):
        run = make_run(started=f"2026-11-2{number}T00:00:00Z", captured=f"out {number}\n")
        run.steps[0].verdict = "failed" if number % 2 else "passed"  # each run a new outcome
        record_run(tmp_path, run, keep=3)
    loaded = load_transcript(tmp_path, "swarm/init.md")
    assert loaded is not None
    assert [run.started[:10] for run in loaded.runs] == ["2026-11-24"]
    assert [entry.started[:10] for entry in loaded.history] == [
        "2026-11-23",
        "2026-11-22",
        "2026-11-21",
    ]
    assert loaded.history[0].verdicts()[0] == (7, "0123456789abcdef", "failed")


def test_atomic_write_leaves_old_file_when_dump_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = record_run(tmp_path, make_run())
    before = path.read_bytes()

    def broken(*args: object, **kwargs: object) -> str:
        raise TypeError("cannot serialise")

    monkeypatch.setattr(transcripts.json, "dumps", broken)
    with pytest.raises(TypeError):
        record_run(tmp_path, make_run(started="2026-12-01T00:00:00Z"))
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["init.md.json"]


def test_atomic_write_removes_temporary_file_when_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = record_run(tmp_path, make_run())
    before = path.read_bytes()

    def broken(src: object, dst: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken)  # the rename of writing.write_atomically
    with pytest.raises(OSError):
        record_run(tmp_path, make_run(started="2026-12-01T00:00:00Z"))
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["init.md.json"]


def test_swarm_init_fixture_is_redacted() -> None:
    text = (FIXTURES / "01-swarm-init.txt").read_text()
    assert TOKEN in text
    assert find_secrets(text) == [TOKEN]
    clean = redact(text)
    assert TOKEN not in clean and "SWMTKN-1-<redacted> 172.20.0.2:2377" in clean
    assert "k1qovxjy3hrue0dlnud6yei3e" in clean  # node IDs are not secrets
    assert find_secrets(clean) == []
    assert redact(clean) == clean


def test_docker_info_trust_root_is_public_and_kept() -> None:
    """The swarm CA certificate (TrustRoot) is public: every node and client receives it."""
    text = (FIXTURES / "29-docker-info-swarm.txt").read_text()
    assert "-----BEGIN CERTIFICATE-----" in text
    assert find_secrets(text) == []
    assert redact(text) == text


def test_recorded_transcript_never_contains_the_token(tmp_path: Path) -> None:
    captured = (FIXTURES / "01-swarm-init.txt").read_text()
    run = make_run(captured=captured)
    run.steps[0].expected = f"docker swarm join --token {TOKEN} 10.0.0.1:2377\n"
    path = record_run(tmp_path, run)
    text = path.read_text()
    assert "SWMTKN-1-5o0x" not in text and "SWMTKN-1-<redacted>" in text
    assert find_secrets(text) == []


@pytest.mark.parametrize(
    ("secret", "kept"),
    [
        ("SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8", "SWMKEY-1-<redacted>"),
        (
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBnD\n-----END EC PRIVATE KEY-----",
            "<redacted private key>",
        ),
        (
            '"Key":"-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n-----END PRIVATE KEY-----\\n"',
            '"Key":"<redacted private key>\\n"',
        ),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA (truncated", "<redacted private key>"),
        ("dckr_pat_abcdefghijklmnopqrstuvwxyz12", "dckr_pat_<redacted>"),
        ("ghp_" + "a" * 36, "ghp_<redacted>"),
        ("AKIAIOSFODNN7EXAMPLE", "AKIA<redacted>"),
        ('{"auth": "dXNlcjpwYXNzd29yZA=="}', '{"auth": "<redacted>"}'),
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer <redacted>"),
        ("docker login --password hunter22 reg", "docker login --password <redacted> reg"),
    ],
)
def test_other_secrets(secret: str, kept: str) -> None:
    assert find_secrets(secret)
    assert redact(secret) == kept
    assert find_secrets(redact(secret)) == []


@pytest.mark.parametrize(
    "harmless",
    [
        "docker login --password-stdin registry",
        "sha256:7f8d3c0a1b2c3d4e5f60718293a4b5c6d7e8f9012345",
        "-----BEGIN PUBLIC KEY-----\nMFkwEw\n-----END PUBLIC KEY-----",
        "docker run -p 8080:80 nginx",
        "ID                          NAME",
    ],
)
def test_not_secrets(harmless: str) -> None:
    assert find_secrets(harmless) == []
    assert redact(harmless) == harmless
