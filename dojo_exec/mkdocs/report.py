"""The generated report page: every page with its latest recorded runs."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

from dojo_exec.display import format_date, format_duration
from dojo_exec.transcripts import Transcript

Clean = Callable[[str], str]
COLUMNS = ("Date", "Docker engine", "Client", "Driver", "Passed", "Failed", "Skipped", "Duration")


def _cell(text: str, clean: Clean) -> str:
    return f"<td>{html.escape(clean(text))}</td>"


def render_report(
    pages: Mapping[str, tuple[str, int]],
    transcripts: Mapping[str, Transcript | None],
    clean: Clean,
    *,
    runs_per_page: int = 5,
) -> str:
    """Markdown of the report: ``pages`` maps a page path to (title, number of steps), in the
    order the report lists them."""
    lines = [
        "# Verification report",
        "",
        "Every page of the dojo with its latest recorded runs, newest first: when it ran, on",
        "which Docker and which machines, and how its steps fared.",
        "",
    ]
    head = "".join(f"<th>{name}</th>" for name in COLUMNS)
    for uri, (title, steps) in pages.items():
        transcript = transcripts.get(uri)
        lines += [f"## {html.escape(clean(title))}", ""]
        lines += [f"[{html.escape(uri)}]({uri}) · {steps} step(s)", ""]
        if transcript is None or not transcript.runs:
            lines += ['<p class="dojo-report-missing">Not verified: no recorded run.</p>', ""]
            continue
        rows = []
        for run in transcript.runs[:runs_per_page]:
            failed = run.failed + run.timeout + run.error
            cells = [
                _cell(format_date(run.started), clean),
                _cell(run.docker_engine, clean),
                _cell(run.docker_client, clean),
                _cell(run.driver, clean),
                _cell(str(run.passed), clean),
                f'<td class="dojo-report-failed">{failed}</td>' if failed else f"<td>{failed}</td>",
                _cell(str(run.skipped), clean),
                _cell(format_duration(run.duration), clean),
            ]
            rows.append(f"<tr>{''.join(cells)}</tr>")
        lines += [
            '<div class="md-typeset__scrollwrap"><div class="md-typeset__table">'
            f'<table class="dojo-report"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div></div>",
            "",
        ]
    return "\n".join(lines)
