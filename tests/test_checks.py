"""Semantic checks parsed and really evaluated on captured tables."""

from __future__ import annotations

import pytest
from fixtures.rerandomise import ORIGINAL, body

from dojo_exec.checks import CheckSyntaxError, evaluate_checks, parse_check

DRAINED = body(ORIGINAL / "16-service-ps-drained.txt")


@pytest.mark.parametrize(
    ("check", "ok"),
    [
        ("no rows where NODE = manager1 and CURRENT STATE ~ Running", True),
        ("no rows where NODE = manager1", False),
        ("1 row where NODE = manager1", True),
        ("5 rows where CURRENT STATE ~ Running", True),
        ("6 rows", True),
        ("4 rows where CURRENT STATE ~ Running", False),
        ("at least 2 rows where NODE = worker1", True),
        ("at least 4 rows where NODE = worker1", False),
        ("at most 3 rows where NODE = worker1", True),
        ("at most 2 rows where NODE = worker2", True),
        ("at most 1 rows where NODE = worker2", False),
        ("exactly 2 rows where NAME ~ helloworld.3", True),
        ("1 row where NAME = helloworld.3", True),  # the current task only
        ("1 row where NAME ~ ^\\\\_", True),  # history rows only
        ("at least 2 distinct NODE where CURRENT STATE ~ Running", True),
        ("at least 3 distinct NODE where CURRENT STATE ~ Running", False),
        ("3 distinct NODE", True),
        ("all rows where NODE = manager1 have DESIRED STATE = Shutdown", True),
        ("all rows where NAME ~ helloworld have IMAGE = alpine:latest", True),
        ("all rows have CURRENT STATE ~ Running", False),
        ("no rows where node = MANAGER1", True),  # values are case-sensitive
        ("no rows where current state !~ ago", True),  # column names are not
        ("5 rows where DESIRED STATE != Shutdown", True),
        ("no rows where IMAGE = 'alpine:latest' and NODE = \"manager1\" and ERROR != ''", True),
    ],
)
def test_checks_on_drained_service_ps(check: str, ok: bool) -> None:
    result = evaluate_checks([check], DRAINED)
    assert result.ok is ok, result.explanation
    assert check in result.explanation


def test_explanation_names_what_was_counted_and_rows() -> None:
    result = evaluate_checks(["no rows where NODE = manager1"], DRAINED)
    assert result.explanation == (
        "FAILED: check 'no rows where NODE = manager1': wanted 0, counted 1 rows (\\_ helloworld.3)"
    )


def test_all_checks_must_hold() -> None:
    checks = ["5 rows where CURRENT STATE ~ Running", "no rows where NODE = manager1"]
    result = evaluate_checks(checks, DRAINED)
    assert not result.ok
    assert result.explanation.splitlines()[0].startswith("ok: ")
    assert result.explanation.splitlines()[1].startswith("FAILED: ")


def test_unknown_column_lists_the_columns() -> None:
    result = evaluate_checks(["no rows where HOST = manager1"], DRAINED)
    assert not result.ok
    assert "unknown column 'HOST'" in result.explanation
    assert "ID, NAME, IMAGE, NODE, DESIRED STATE, CURRENT STATE, ERROR, PORTS" in result.explanation


def test_node_ls_and_docker_ps() -> None:
    node_ls = body(ORIGINAL / "15-node-ls-drain.txt")
    assert evaluate_checks(
        ["1 row where AVAILABILITY = Drain and MANAGER STATUS = Leader"], node_ls
    ).ok
    assert evaluate_checks(["1 row where ID ~ \\*$ and HOSTNAME = manager1"], node_ls).ok
    docker_ps = body(ORIGINAL / "28-docker-ps.txt")
    assert evaluate_checks(["1 row where NAMES ~ ^redis\\.1\\. and STATUS ~ ^Up"], docker_ps).ok


def test_no_table() -> None:
    result = evaluate_checks(["no rows"], body(ORIGINAL / "20-service-inspect-missing.txt"))
    assert not result.ok and "no table" in result.explanation


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty check"),
        ("some rows where NODE = x", "a check starts with"),
        ("no rows where", "expected 'where ...'"),
        ("no rows when NODE = x", "expected 'where ...'"),
        ("no rows where NODE manager1", "expected COLUMN OP VALUE"),
        ("no rows where NODE =", "missing value"),
        ("3 rows where NAME ~ (", "bad regular expression"),
        ("all rows where NAME = x", "needs '... have CONDITION'"),
        ("2 distinct", "expected 'rows' or 'distinct COLUMN'"),
        ("no rows where NAME = 'x", "unterminated quote"),
    ],
)
def test_syntax_errors_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(CheckSyntaxError, match=None) as error:
        parse_check(text)
    assert fragment in str(error.value)


def test_parse_structure() -> None:
    check = parse_check("at least 2 distinct node where current state ~ Running")
    assert (check.kind, check.low, check.high, check.column) == ("distinct", 2, None, "NODE")
    assert [str(c) for c in check.where] == ["CURRENT STATE ~ Running"]
    check = parse_check("at most 3 rows where NAME = a and IMAGE != b")
    assert (check.low, check.high) == (0, 3)
    assert [(c.column, c.op, c.value) for c in check.where] == [
        ("NAME", "=", "a"),
        ("IMAGE", "!=", "b"),
    ]
