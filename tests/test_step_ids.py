"""A step's ``id=``: validated, unique in its page, and not part of the step's digest."""

from __future__ import annotations

import pytest

from dojo_exec.page import PageError, parse_text, source_digest

FENCE = "```"


def page(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_id_is_read_with_the_other_options() -> None:
    text = page(f"{FENCE}sh dojo id=scale-5 timeout=30s", "docker service scale web=5", FENCE)
    (step,) = parse_text(text, "service.md").steps
    assert step.options.id == "scale-5"
    assert step.options.timeout == 30.0


def test_steps_without_id_have_none() -> None:
    (step,) = parse_text(page(f"{FENCE}sh dojo", "true", FENCE), "a.md").steps
    assert step.options.id is None


@pytest.mark.parametrize("token", ["id=", "id=-x", "id=a.b", "id=a/b", "id=a#b", "id=é"])
def test_malformed_id_is_an_error_at_its_line(token: str) -> None:
    text = page("# Title", "", f"{FENCE}sh dojo {token}", "true", FENCE)
    with pytest.raises(PageError) as caught:
        parse_text(text, "a.md")
    assert caught.value.line == 3
    assert "option id=" in caught.value.message


def test_duplicate_id_is_an_error_at_the_second_step() -> None:
    text = page(
        f"{FENCE}sh dojo id=nodes",
        "docker node ls",
        FENCE,
        "",
        f"{FENCE}sh dojo id=nodes",
        "docker node ls -q",
        FENCE,
    )
    with pytest.raises(PageError) as caught:
        parse_text(text, "swarm.md")
    assert caught.value.line == 5
    assert "id=nodes" in caught.value.message and "line 1" in caught.value.message
    assert str(caught.value).startswith("swarm.md:5:")


def test_id_given_twice_on_one_step_is_an_error() -> None:
    text = page(f"{FENCE}sh dojo id=a id=b", "true", FENCE)
    with pytest.raises(PageError, match="option id given twice"):
        parse_text(text, "a.md")


def test_same_id_in_two_pages_is_fine() -> None:
    for name in ("a.md", "b.md"):
        (step,) = parse_text(page(f"{FENCE}sh dojo id=same", "true", FENCE), name).steps
        assert step.options.id == "same"


def test_naming_a_step_keeps_its_digest() -> None:
    """A transcript recorded before the step was named (or renamed) stays fresh."""
    plain = page(f"{FENCE}sh dojo wait=30s", "docker node ls", "# Result ==>", "ID", FENCE)
    named = plain.replace("dojo wait", "dojo id=nodes wait")
    renamed = plain.replace("dojo wait", "dojo id=all-nodes wait")
    last = plain.replace("wait=30s", "wait=30s id=nodes")
    quoted = plain.replace("wait=30s", 'wait=30s id="nodes"')
    digests = {parse_text(text, "a.md").steps[0].digest for text in (plain, named, renamed, last)}
    assert len(digests) == 1
    assert source_digest(quoted) == source_digest(plain)


def test_an_edit_besides_the_id_still_changes_the_digest() -> None:
    plain = page(f"{FENCE}sh dojo id=nodes", "docker node ls", FENCE)
    edited = page(f"{FENCE}sh dojo id=nodes wait=30s", "docker node ls", FENCE)
    command = page(f"{FENCE}sh dojo id=nodes", "docker node ls -q", FENCE)
    digests = {parse_text(text, "a.md").steps[0].digest for text in (plain, edited, command)}
    assert len(digests) == 3


def test_id_text_in_the_command_counts() -> None:
    """Only the opening fence's option is left out, not the same words in the body."""
    one = page(f"{FENCE}sh dojo", "echo x id=a", FENCE)
    two = page(f"{FENCE}sh dojo", "echo x", FENCE)
    assert source_digest(one) != source_digest(two)


def test_crlf_page_with_id_has_the_same_digest() -> None:
    text = page(f"{FENCE}sh dojo id=n", "docker node ls", FENCE)
    crlf = text.replace("\n", "\r\n")
    assert parse_text(crlf, "a.md").steps[0].digest == parse_text(text, "a.md").steps[0].digest
