"""The generated report page: one summary, a page × engine table, the steps to look at,
and every page's latest runs.

Readable on a phone: the summary and the list of steps are prose; the tables are narrow
(the page × engine table has one column per engine) and scroll inside their block.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Callable, Mapping, Sequence

from dojo_exec.display import format_date, format_duration
from dojo_exec.freshness import Outcome, match_records
from dojo_exec.markdown.render import BADGE_TEXT, step_anchor
from dojo_exec.page import Page
from dojo_exec.transcripts import RunRecord, Transcript
from dojo_exec.verdicts import FAILED, Status

Clean = Callable[[str], str]
HEADING = """# Verification report

Every page of the dojo with its latest recorded runs: when it ran, on which Docker
and which machines, and how its steps fared."""
COLUMNS = ("Date", "Docker engine", "Passed", "Failed", "Skipped", "Duration")
ATTENTION: tuple[Status, ...] = ("failed", "timeout", "error", "stale", "missing")


def _cell(text: str, clean: Clean) -> str:
    return f"<td>{html.escape(clean(text))}</td>"


def _table(head: Sequence[str], rows: Sequence[str]) -> str:
    cells = "".join(f"<th>{html.escape(name)}</th>" for name in head)
    return (
        '<div class="md-typeset__scrollwrap"><div class="md-typeset__table">'
        f'<table class="dojo-report"><thead><tr>{cells}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></div>"
    )


def _kind(run: RunRecord) -> str:
    """The machines a run used, in one word: its driver's name (``embedded``, ``qemu``)."""
    return run.driver.split(" ", 1)[0] if run.driver else "unknown"


Column = tuple[str, str]
"""(Docker engine version, kind of machines): a column of the page × engine table."""


def _columns(transcripts: Mapping[str, Transcript | None]) -> list[Column]:
    """(engine, machines) of the recorded runs, the newest run's first."""
    runs = [run for t in transcripts.values() if t for run in t.runs]
    runs.sort(key=lambda run: run.started, reverse=True)
    return list(dict.fromkeys((run.docker_engine, _kind(run)) for run in runs))


def _runs(transcript: Transcript | None) -> list[RunRecord]:
    return list(transcript.runs) if transcript else []


def _latest_on(transcript: Transcript | None, column: Column) -> RunRecord | None:
    runs = [
        run
        for run in (transcript.runs if transcript else [])
        if (run.docker_engine, _kind(run)) == column
    ]
    return max(runs, key=lambda run: run.started, default=None)


def _counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


def _verdict(counts: Mapping[str, int]) -> tuple[str, str]:
    """(text, badge status) of a set of step outcomes: the worst thing first."""
    total = sum(counts.values())
    failed = sum(counts.get(status, 0) for status in FAILED)
    passed = counts.get("passed", 0)
    if failed:
        return f"{failed} failed · {passed}/{total} passed", "failed"
    for status in ("stale", "missing"):
        if counts.get(status):
            return f"{counts[status]} {_SHORT[status]} · {passed}/{total} passed", status
    skipped = counts.get("skipped", 0)
    extra = f" · {skipped} skipped" if skipped else ""
    return f"{passed}/{total} passed{extra}", "passed"


_SHORT = {"stale": "edited since", "missing": "not verified"}


def _link(base: str, url: str, anchor: str | None = None) -> str:
    """``url`` (site-relative) as seen from the report's folder, with an anchor."""
    relative = posixpath.relpath(url, base) if base else url
    return html.escape(relative + (f"#{anchor}" if anchor else ""), quote=True)


def render_report(
    pages: Mapping[str, tuple[str, int]],
    transcripts: Mapping[str, Transcript | None],
    clean: Clean,
    *,
    runs_per_page: int = 5,
    parsed: Mapping[str, Page] | None = None,
    urls: Mapping[str, str] | None = None,
    report_uri: str = "report.md",
    heading: bool = True,
) -> str:
    """Markdown of the report (``heading``: with its title and introduction, for a page
    that has none of its own): ``pages`` maps a page path to (title, number of steps), in the
    order the report lists them; ``parsed`` (the pages' steps) makes the summary count
    steps by verdict and lets the report link to every step that needs a look; ``urls``
    maps a page path to its URL on the site."""
    urls = urls or {}
    base = posixpath.dirname(report_uri)

    def url_of(uri: str) -> str:
        return urls.get(uri, uri.removesuffix(".md") + ".html")

    columns = _columns(transcripts)
    engines = list(dict.fromkeys(engine for engine, _ in columns))
    kinds = {kind for _, kind in columns}
    latest: dict[str, list[Outcome]] = {}
    for uri in pages:
        transcript = transcripts.get(uri)
        run = transcript.latest if transcript else None
        if parsed is not None and uri in parsed:
            latest[uri] = match_records(parsed[uri].steps, run.steps if run else None)

    lines = [HEADING, ""] if heading else []
    lines += [_summary(pages, transcripts, latest, engines, clean), ""]

    # page × (engine, machines) → verdict of that page's latest run there
    if columns:
        rows = []
        for uri, (title, _) in pages.items():
            name = html.escape(clean(title))
            cells = [f'<td><a href="{_link(base, url_of(uri))}">{name}</a></td>']
            for column in columns:
                run = _latest_on(transcripts.get(uri), column)
                if run is None:
                    cells.append("<td>—</td>")
                    continue
                transcript = transcripts.get(uri)
                if uri in latest and transcript is not None and run is transcript.latest:
                    counts = _counts(latest[uri])  # the page's latest run: matched above
                elif parsed is not None and uri in parsed:
                    counts = _counts(match_records(parsed[uri].steps, run.steps))
                else:
                    counts = {v: run.count(v) for v in ("passed", *FAILED, "skipped")}
                text, status = _verdict(counts)
                when = html.escape(clean(format_date(run.started)), quote=True)
                cells.append(
                    f'<td title="{when}"><span class="dojo-badge dojo-badge--{status}">'
                    f"{html.escape(text)}</span></td>"
                )
            rows.append(f"<tr>{''.join(cells)}</tr>")
        head = ["Page"]
        for engine, kind in columns:  # the machines named where runs used more than one kind
            head.append(f"Engine {clean(engine)}" + (f" · {kind}" if len(kinds) > 1 else ""))
        lines += ["## By page and Docker engine", "", _table(head, rows), ""]

    # every step that needs a look, linked to its place in its page
    attention: list[str] = []
    for uri, outcomes in latest.items():
        title = html.escape(clean(pages[uri][0]))
        for outcome in outcomes:
            if outcome.status not in ATTENTION:
                continue
            step = outcome.step
            command = step.command.strip().splitlines()[0] if step.command.strip() else ""
            anchor = None if step.options.hidden else step_anchor(step)
            where = f"line {step.line}" + (" (setup step, not shown)" if anchor is None else "")
            attention.append(
                f'<li><span class="dojo-badge dojo-badge--{outcome.status}">'
                f"{html.escape(BADGE_TEXT[outcome.status])}</span> "
                f'<a href="{_link(base, url_of(uri), anchor)}">{title}, {where}</a>: '
                f"<code>{html.escape(clean(command))}</code></li>"
            )
    if parsed is not None:
        lines += ["## Steps to look at", ""]
        if attention:
            lines += [f'<ul class="dojo-attention">{"".join(attention)}</ul>', ""]
        else:
            lines += ["Every step passed or was skipped in its page's latest run.", ""]

    # each page's latest runs, newest first, folded (the tables above say what matters)
    for uri, (title, steps) in pages.items():
        transcript = transcripts.get(uri)
        lines += [f"## {html.escape(clean(title))}", ""]
        lines += [f"[{html.escape(uri)}]({uri}) · {steps} step(s)", ""]
        if transcript is None or not transcript.runs:
            lines += ['<p class="dojo-report-missing">Not verified: no recorded run.</p>', ""]
            continue
        rows = []
        shown = transcript.runs[:runs_per_page]
        machines = len({_kind(run) for run in shown}) > 1
        for run in shown:
            failed = run.failed + run.timeout + run.error
            cells = [
                _cell(format_date(run.started), clean),
                _cell(run.docker_engine, clean),
                *([_cell(run.driver, clean)] if machines else []),
                _cell(str(run.passed), clean),
                f'<td class="dojo-report-failed">{failed}</td>' if failed else f"<td>{failed}</td>",
                _cell(str(run.skipped), clean),
                _cell(format_duration(run.duration), clean),
            ]
            rows.append(f"<tr>{''.join(cells)}</tr>")
        total = len(transcript.runs)
        what = f"latest {len(shown)} of {total} runs" if total > len(shown) else f"{total} run(s)"
        lines += [
            f'<details class="dojo-runs"><summary>Recorded runs: {what}</summary>'
            f"{_table(_with_machines(COLUMNS) if machines else COLUMNS, rows)}</details>",
            "",
        ]
    return "\n".join(lines)


def _with_machines(columns: Sequence[str]) -> list[str]:
    return [*columns[:2], "Machines", *columns[2:]]


def _summary(
    pages: Mapping[str, tuple[str, int]],
    transcripts: Mapping[str, Transcript | None],
    latest: Mapping[str, Sequence[Outcome]],
    engines: Sequence[str],
    clean: Clean,
) -> str:
    """One paragraph: pages, steps and their verdicts, engines, clients, drivers, dates."""
    runs = [t.latest for t in transcripts.values() if t and t.runs]
    steps = sum(count for _, count in pages.values())
    parts = [f"{len(pages)} page(s)", f"{steps} step(s)"]
    if latest:
        counts: dict[str, int] = {}
        for outcomes in latest.values():
            for status, n in _counts(outcomes).items():
                counts[status] = counts.get(status, 0) + n
        order: tuple[Status, ...] = ("passed", *ATTENTION[:3], "skipped", *ATTENTION[3:])
        parts.append(
            ", ".join(f"{counts[s]} {BADGE_TEXT[s]}" for s in order if counts.get(s))
            + " in each page's latest run"
        )
    unverified = sum(1 for uri in pages if not _runs(transcripts.get(uri)))
    if unverified:
        parts.append(f"{unverified} page(s) never verified")
    if engines:
        parts.append("Docker engine " + ", ".join(clean(engine) for engine in engines))
    clients = sorted({run.docker_client for run in runs if run})
    # every kind of machines a kept run used (a page verified on VMs and on embedded ones)
    drivers = sorted({run.driver for t in transcripts.values() if t for run in t.runs})
    if clients:
        parts.append("client " + ", ".join(clean(client) for client in clients))
    if drivers:
        parts.append("driver " + ", ".join(clean(driver) for driver in drivers))
    dates = sorted(run.started for run in runs if run)
    if dates:
        parts.append(f"latest run {clean(format_date(dates[-1]))}")
    return f'<p class="dojo-summary">{html.escape(" · ".join(parts))}</p>'
