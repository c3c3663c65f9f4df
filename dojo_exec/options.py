"""A step's options, written in its fence's info string after the ``dojo`` tag."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dojo_exec.checks import CheckSyntaxError, parse_check
from dojo_exec.locations import PageError

DEFAULT_TIMEOUT = 120.0
_DURATION = re.compile(r"^(?P<value>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True)
class StepOptions:
    """Per-step options written in the fence's info string."""

    timeout: float = DEFAULT_TIMEOUT
    wait: float | None = None  # re-run a read-only step until it matches, for at most this long
    exit: int | None = 0  # expected exit status; None accepts any status
    hidden: bool = False  # run, but not shown on the site
    skip: str | None = None  # not run; the reason is shown
    checks: tuple[str, ...] = ()  # semantic checks evaluated on the captured table
    ordered: bool = False  # table rows must come in the promised order
    versions: bool = False  # Docker version strings match any version
    stop_on_failure: bool = False  # a failure of this step stops the page
    prompts: tuple[str, ...] = ()  # extra prompt patterns of a console block (``prompt="# "``)
    machine: str | None = None  # where commands whose prompt names no machine run
    id: str | None = None  # a stable name, unique in its page (slides refer to page#id)


MACHINE_NAME = re.compile(r"[A-Za-z0-9][\w.-]*")
"""A docker-machine name, as ``machine=`` and the front matter's ``machine:`` take it."""

STEP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
"""A step's ``id=``: letters, digits, ``-`` and ``_`` (it names the step in ``page.md#id``)."""

OPTION_HELP = {
    "timeout": "timeout=DURATION  interrupt the step after this long (default 120s)",
    "wait": "wait=DURATION     re-run until the output matches, for at most this long "
    "(read-only commands only)",
    "exit": "exit=N|any        expected exit status (default 0)",
    "hidden": "hidden            run the step but do not show it on the site",
    "skip": 'skip="REASON"     do not run the step; the reason is shown',
    "check": 'check="CHECK"     a semantic check on the captured table (repeatable)',
    "ordered": "ordered           table rows must appear in the promised order",
    "versions": "versions          Docker version strings match any version",
    "stop": "stop              stop the page if this step fails",
    "prompt": 'prompt="PROMPT"   one more prompt in this console block, e.g. prompt="# " or '
    'prompt="root@{machine}:{path}# " (repeatable)',
    "machine": "machine=NAME      run the commands whose prompt names no machine on NAME "
    "(as after `docker-machine ssh NAME`)",
    "id": "id=NAME           a stable name for the step, unique in its page (slides show "
    "page.md#NAME); not part of the step's digest",
}


def parse_duration(text: str, *, path: Path, line: int, option: str) -> float:
    """``30``, ``30s``, ``1.5m``, ``500ms`` → seconds."""
    match = _DURATION.match(text)
    if not match:
        raise PageError(path, line, f"option {option}={text!r}: expected a duration like 30s or 2m")
    return float(match["value"]) * _UNITS[match["unit"]]


def parse_options(tokens: list[str], *, path: Path, line: int) -> StepOptions:
    """Info-string tokens after the tag → options; unknown or malformed ones are errors."""
    values: dict[str, object] = {}
    checks: list[str] = []
    prompts: list[str] = []
    seen: set[str] = set()
    for token in tokens:
        key, sep, value = token.partition("=")
        if key in seen and key not in {"check", "prompt"}:
            raise PageError(path, line, f"option {key} given twice")
        seen.add(key)
        if key in {"hidden", "ordered", "versions", "stop"}:
            if sep:
                raise PageError(path, line, f"option {key} takes no value (got {token!r})")
            values["stop_on_failure" if key == "stop" else key] = True
        elif key in {"timeout", "wait"}:
            if not value:
                raise PageError(path, line, f"option {key} needs a duration, e.g. {key}=30s")
            values[key] = parse_duration(value, path=path, line=line, option=key)
            if not values[key]:
                raise PageError(path, line, f"option {key}={value}: must be more than 0")
        elif key == "exit":
            if value == "any":
                values["exit"] = None
            elif re.fullmatch(r"\d{1,3}", value):
                if int(value) > 255:
                    raise PageError(path, line, f"option exit={value}: an exit status is 0 to 255")
                values["exit"] = int(value)
            else:
                raise PageError(path, line, f"option exit={value!r}: expected a number or 'any'")
        elif key == "skip":
            if not value.strip():
                raise PageError(path, line, 'option skip needs a reason: skip="why"')
            values["skip"] = value.strip()
        elif key == "check":
            if not value.strip():
                raise PageError(path, line, 'option check needs a check: check="5 rows where ..."')
            checks.append(value.strip())
        elif key == "machine":
            if not MACHINE_NAME.fullmatch(value):
                raise PageError(path, line, f"option machine={value!r}: expected a machine name")
            values["machine"] = value
        elif key == "id":
            if not STEP_ID.fullmatch(value):
                raise PageError(
                    path, line, f"option id={value!r}: expected letters, digits, - and _"
                )
            values["id"] = value
        elif key == "prompt":
            if not value:
                raise PageError(path, line, 'option prompt needs a prompt: prompt="# "')
            prompts.append(value)
        else:
            known = ", ".join(sorted(OPTION_HELP))
            raise PageError(path, line, f"unknown option {token!r} (known options: {known})")
    if checks:
        _validate_checks(checks, path=path, line=line)
    return StepOptions(
        checks=tuple(checks),
        prompts=tuple(prompts),
        **values,  # type: ignore[arg-type]
    )


def claim_id(options: StepOptions, seen: dict[str, int], *, path: Path, line: int) -> None:
    """Record the step's ``id=`` in ``seen`` (id → line); a second use in a page is an error."""
    if options.id is None:
        return
    first = seen.setdefault(options.id, line)
    if first != line:
        raise PageError(
            path, line, f"option id={options.id}: already the id of the step at line {first}"
        )


def _validate_checks(checks: list[str], *, path: Path, line: int) -> None:
    """Reject checks that do not parse, at page-parse time."""
    for check in checks:
        try:
            parse_check(check)
        except CheckSyntaxError as error:
            raise PageError(path, line, f"check {check!r}: {error}") from None
