"""The plugin through a real MkDocs build of the sample site (no mocks of MkDocs)."""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

import pytest
from mkdocs.exceptions import Abort
from sample_site import build_site, swarm_run
from test_browser import project_site  # noqa: F401  (fixture)

from dojo_exec.transcripts import record_run, transcript_path

TOKEN = "SWMTKN-1-5o0xb6f3r6tfv5ke6y82y4jt4uv89fo0mjftxgx6mbo9b1fi0u-6892fbuiiwcvj5lbo15jkrwbb"


def read(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def article(page_html: str) -> str:
    """The page's main content (what the plugin renders), without theme chrome."""
    match = re.search(r"<article[^>]*>(.*)</article>", page_html, re.DOTALL)
    assert match, "no <article> in the page"
    return match.group(1)


def text_of(fragment: str) -> str:
    """Visible text of an HTML fragment (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def tab_sets(content: str) -> list[str]:
    return re.findall(
        r'<div class="tabbed-set tabbed-alternate[^"]*".*?</div>\s*</div>\s*</div>',
        content,
        re.DOTALL,
    )


def set_plugin_options(config_file: Path, **options: str) -> None:
    """Add options under ``- dojo_exec:`` in the sample's mkdocs.yml."""
    text = config_file.read_text()
    extra = "".join(f"      {key}: {value}\n" for key, value in options.items())
    text = text.replace("      report_page: report.md\n", f"      report_page: report.md\n{extra}")
    config_file.write_text(text)


# --- what each step shows ------------------------------------------------------------------


def test_tabs_hold_captured_then_promised_output(built_site: Path) -> None:
    """What the step printed is the open tab (first, checked); the promise is one click away."""
    content = article(read(built_site, "swarm.html"))
    sets = tab_sets(content)
    web = next(s for s in sets if "CAPTURED-WEB-OUTPUT" in s)
    labels = re.findall(r"<label[^>]*>([^<]+)</label>", web)
    assert labels == ["Captured", "Promised"]
    assert re.search(r'<input checked="checked" id="[^"]+_1"', web)
    blocks = re.findall(
        r'<div class="tabbed-block">(.*?)</div>\s*(?=<div class="tabbed|</div>)', web, re.DOTALL
    )
    assert "CAPTURED-WEB-OUTPUT" in text_of(blocks[0])
    assert "PROMISED-WEB-OUTPUT" in text_of(blocks[1])
    # outputs have no copy button of their own (one Tab stop less, no text covered)
    assert all("no-copy" in s.split(">", 1)[0] for s in sets)


def test_captured_output_is_escaped(built_site: Path) -> None:
    content = article(read(built_site, "swarm.html"))
    assert '<script>alert("xss")</script>' not in content
    assert "<b>bold</b>" not in content
    visible = text_of(content)
    assert '<script>alert("xss")</script> & <b>bold</b>' in visible
    assert "{{ not.a.template }} {% raw %}" in visible
    assert "\n```\n" in visible  # a backtick fence inside the output did not end the block


def test_verdict_badges(built_site: Path) -> None:
    content = article(read(built_site, "swarm.html"))
    badges = [
        text_of(b)
        for b in re.findall(r'<span class="dojo-badge dojo-badge--\w+">.*?</span>', content)
    ]
    assert "passed" in badges
    assert "passed after 3 attempts (waited 12.0 s)" in badges
    assert "failed" in badges
    assert "timed out" in badges
    assert "skipped: needs a second real machine" in badges


def test_failed_step_explains_itself_one_click_away(built_site: Path) -> None:
    """Captured (open), Promised, then the explanation with its diff: not shown until asked."""
    content = article(read(built_site, "swarm.html"))
    node_ls = next(s for s in tab_sets(content) if "CAPTURED-NODE-LS" in s)
    labels = re.findall(r"<label[^>]*>([^<]+)</label>", node_ls)
    assert labels == ["Captured", "Promised", "Why it failed"]
    assert re.findall(r"<input( checked)?", node_ls) == [" checked", "", ""]
    explanation = text_of(node_ls.split("Why it failed", 1)[1])
    assert "promised `Leader`, captured <Reachable>" in explanation
    assert "{{ diff }}" in explanation
    assert "<details" not in content


def test_skipped_step_shows_reason_and_no_tabs(built_site: Path) -> None:
    content = article(read(built_site, "swarm.html"))
    start = content.index("manager2")
    following = content[start : content.index("sleep", start)]
    assert "skipped: needs a second real machine" in text_of(following)
    assert "tabbed-set" not in following


def test_step_without_promise_shows_only_captured(built_site: Path) -> None:
    content = article(read(built_site, "swarm.html"))
    sleep = next(s for s in tab_sets(content) if "CAPTURED-SLEEP" in s)
    assert re.findall(r"<label[^>]*>([^<]+)</label>", sleep) == ["Captured", "Why it timed out"]


def test_semantic_checks_are_listed_with_their_verdict(built_site: Path) -> None:
    content = article(read(built_site, "swarm.html"))
    checks = re.search(r'<ul class="dojo-checks">(.*?)</ul>', content, re.DOTALL)
    assert checks
    assert text_of(checks.group(1)).strip() == "held no rows where NODE = manager1"


def test_hidden_step_is_absent(built_site: Path) -> None:
    for path in built_site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".json", ".js", ".xml"}:
            assert "HIDDEN-SETUP-STEP" not in path.read_text(errors="replace"), path


def test_info_string_options_never_reach_the_html(built_site: Path) -> None:
    for name in ("swarm.html", "unrecorded.html"):
        content = article(read(built_site, name))
        assert not re.search(r"\bdojo\b(?![-_.])", text_of(content)), name
        for option in ("wait=", "skip=", "check=", "timeout=", "exit=any", "hidden"):
            assert option not in content, (name, option)
        assert "# Result ==&gt;" not in content and "# Result ==>" not in content
    index = read(built_site, "search/search_index.json")
    assert "sh dojo" not in index and "wait=30s" not in index


def test_search_finds_what_steps_printed(built_site: Path) -> None:
    index = json.loads(read(built_site, "search/search_index.json"))
    swarm = " ".join(doc["text"] for doc in index["docs"] if doc["location"].startswith("swarm"))
    assert "PromisedCaptured" not in swarm  # tab labels are separate words
    assert "CAPTURED-SERVICE-PS" in swarm  # a captured output
    assert "HIDDEN-SETUP-STEP" not in swarm
    assert "<script>" not in swarm  # captured text stays text


def test_search_indexes_each_result_as_its_captured_text(built_site: Path) -> None:
    """What search parses is the step's output as a code block, not the tabs and badges
    around it; the page itself keeps them."""
    index = json.loads(read(built_site, "search/search_index.json"))
    swarm = " ".join(doc["text"] for doc in index["docs"] if doc["location"].startswith("swarm"))
    assert re.search(r"<pre><code>[^<]*CAPTURED-SERVICE-PS", swarm)
    for label in ("Captured", "Promised", "passed on"):
        assert label not in swarm, label
    content = article(read(built_site, "swarm.html"))
    assert "CAPTURED-SERVICE-PS" in content and ">Captured<" in content


def test_search_exclusions_of_the_author_still_apply(sample: Path, tmp_path: Path) -> None:
    """An author's ``data-search-exclude`` keeps its text out of the index and, as material
    does, the attribute out of the page, on a page whose steps search sees as text."""
    page = sample.parent / "docs" / "swarm.md"
    page.write_text(page.read_text() + '\nNOT-IN-THE-INDEX here.\n{ data-search-exclude="yes" }\n')
    site = build_site(sample, tmp_path / "site")
    index = read(site, "search/search_index.json")
    assert "NOT-IN-THE-INDEX" not in index and "CAPTURED-SERVICE-PS" in index
    content = article(read(site, "swarm.html"))
    assert "NOT-IN-THE-INDEX" in content and "data-search-exclude" not in content
    assert ">Captured<" in content


def test_admonitions_still_work(built_site: Path) -> None:
    content = article(read(built_site, "swarm.html"))
    assert '<div class="admonition tip">' in content
    assert "Admonitions keep working around the steps." in content


def test_copy_button_feature_and_shell_code_block(built_site: Path) -> None:
    page = read(built_site, "swarm.html")
    assert "content.code.copy" in page
    assert 'docker<span class="w"> </span>node<span class="w"> </span>ls' in page  # sh lexer


def test_page_header_names_the_run(built_site: Path) -> None:
    content = article(read(built_site, "swarm.html"))
    header = re.search(r'<p class="dojo-provenance">(.*?)</p>', content, re.DOTALL)
    assert header
    text = text_of(header.group(1))
    assert text.startswith("6 of 9 steps verified")
    assert "1 setup step not shown" in text  # the sample's first step runs unseen
    assert "Docker engine 20.10.24+dfsg1, client 28.2.2" in text
    assert "driver embedded (Docker-in-Docker)" in text
    assert "2026-11-25 23:48 UTC" in text and "1 min 23 s" in text
    assert content.index("</h1>") < content.index("dojo-provenance")  # right under the title


def test_not_verified_without_transcript(built_site: Path) -> None:
    content = article(read(built_site, "unrecorded.html"))
    assert "dojo-badge--missing" in content and ">not verified<" in content
    assert "0 of 1 steps verified · no recorded run yet" in text_of(content)
    labels = re.findall(r"<label[^>]*>([^<]+)</label>", content)
    assert labels == ["Promised"]


def test_page_without_steps_is_untouched(built_site: Path) -> None:
    content = article(read(built_site, "index.html"))
    assert "dojo-provenance" not in content and "dojo-badge" not in content


def test_report_page_lists_runs(built_site: Path) -> None:
    content = article(read(built_site, "report.html"))
    text = text_of(content)
    assert "Verification report" in text
    runs = content[content.index("Recorded runs") :]
    rows = re.findall(r"<tr>(.*?)</tr>", runs, re.DOTALL)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows[1:]]
    assert cells == [
        ["2026-11-25 23:48 UTC", "20.10.24+dfsg1", "6", "2", "1", "1 min 23 s"],
        ["2026-11-20 10:00 UTC", "20.10.5+dfsg1", "6", "2", "1", "1 min 23 s"],
    ]
    assert "unrecorded.md" in text and "Not verified: no recorded run." in text
    # failures stand out; the tables scroll inside the theme's table wrapper on narrow screens
    assert re.findall(r'<td class="dojo-report-failed">(\d+)</td>', content) == ["2", "2"]
    assert '<div class="md-typeset__table"><table class="dojo-report">' in content
    assert 'href="swarm.html"' in content


def test_report_summary_names_pages_steps_verdicts_and_engines(built_site: Path) -> None:
    summary = re.search(r'<p class="dojo-summary">(.*?)</p>', read(built_site, "report.html"))
    assert summary
    text = html.unescape(summary.group(1))
    assert text.startswith("2 page(s) · 10 step(s) · ")
    assert "6 passed, 1 failed, 1 timed out, 1 skipped, 1 not verified" in text
    assert "1 page(s) never verified" in text
    assert "Docker engine 20.10.24+dfsg1, 20.10.5+dfsg1" in text
    assert "client 28.2.2" in text and "latest run 2026-11-25 23:48 UTC" in text


def test_report_table_page_by_engine(built_site: Path) -> None:
    content = article(read(built_site, "report.html"))
    table = content[content.index("By page and Docker engine") : content.index("Steps to look at")]
    heads = re.findall(r"<th>(.*?)</th>", table)
    assert heads == ["Page", "Engine 20.10.24+dfsg1", "Engine 20.10.5+dfsg1"]
    rows = [text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)[1:]]
    assert rows == [
        "A swarm, sampled2 failed · 6/9 passed2 failed · 6/9 passed",
        "Never recorded——",
    ]


def test_report_tells_real_vms_from_embedded_machines(sample: Path, tmp_path: Path) -> None:
    """A page verified on QEMU VMs and on embedded machines with one engine: one column for
    each kind of machines, a Machines column in its runs, both drivers in the summary."""
    run = swarm_run(sample.parent / "docs", "2026-11-26T08:00:00Z", "20.10.24+dfsg1")
    run.driver = "qemu (QEMU/TCG, guest kernel 6.1.0-50-amd64)"
    record_run(sample.parent / "transcripts", run)
    content = article(read(build_site(sample, tmp_path / "site"), "report.html"))
    table = content[content.index("By page and Docker engine") : content.index("Steps to look at")]
    assert re.findall(r"<th>(.*?)</th>", table) == [
        "Page",
        "Engine 20.10.24+dfsg1 · qemu",
        "Engine 20.10.24+dfsg1 · embedded",
        "Engine 20.10.5+dfsg1 · embedded",
    ]
    runs = content[content.index("Recorded runs") :]
    assert re.findall(r"<th>(.*?)</th>", runs)[:3] == ["Date", "Docker engine", "Machines"]
    assert "<td>qemu (QEMU/TCG, guest kernel 6.1.0-50-amd64)</td>" in runs
    summary = html.unescape(re.search(r'<p class="dojo-summary">(.*?)</p>', content).group(1))
    assert "driver embedded (Docker-in-Docker), qemu (QEMU/TCG" in summary


def test_report_links_every_step_to_look_at(built_site: Path) -> None:
    content = article(read(built_site, "report.html"))
    steps = re.search(r'<ul class="dojo-attention">(.*?)</ul>', content, re.DOTALL)
    assert steps
    links = re.findall(r'href="([^"]+)"', steps.group(1))
    assert links == ["swarm.html#step-32", "swarm.html#step-43", "unrecorded.html#step-3"]
    swarm = read(built_site, "swarm.html")
    for link in links[:2]:  # every anchor exists on its page
        assert f'id="{link.split("#")[1]}"' in swarm
    assert 'id="step-3"' in read(built_site, "unrecorded.html")
    assert "timed out" in text_of(steps.group(1)) and "<code>sleep 10</code>" in steps.group(1)


def test_stylesheet_is_local_and_linked(built_site: Path) -> None:
    assert (built_site / "assets" / "dojo_exec" / "dojo.css").is_file()
    assert 'href="assets/dojo_exec/dojo.css"' in read(built_site, "swarm.html")


# --- offline --------------------------------------------------------------------------------

_EXTERNAL = [
    re.compile(r"<link\b[^>]*\bhref=[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"<img\b[^>]*\bsrc=[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"<iframe\b[^>]*\bsrc=[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"url\(\s*[\"']?(?:https?:)?//", re.IGNORECASE),
]


def external_references(site: Path) -> list[str]:
    found = []
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".css"}:
            text = path.read_text(errors="replace")
            for pattern in _EXTERNAL:
                found += [f"{path.name}: {m.group(0)}" for m in pattern.finditer(text)]
    return found


def test_no_external_resources_in_the_built_site(built_site: Path) -> None:
    assert external_references(built_site) == []
    assert "fonts.googleapis" not in read(built_site, "swarm.html")


def test_external_reference_scan_can_fail(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        '<link rel="stylesheet" href="https://fonts.googleapis.com/x">'
    )
    (tmp_path / "b.css").write_text("@import url('//cdn.example.org/x.css');")
    assert len(external_references(tmp_path)) == 3  # link, @import and its url()


# --- secrets --------------------------------------------------------------------------------


def leak_token(config_file: Path) -> None:
    """Put an unredacted join token into the transcript, as a buggy recorder would."""
    path = transcript_path(config_file.parent / "transcripts", "swarm.md")
    text = path.read_text()
    assert "SWMTKN-1-<redacted>" in text
    path.write_text(text.replace("SWMTKN-1-<redacted>", TOKEN))


def test_unredacted_token_never_reaches_the_site(
    sample: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    leak_token(sample)
    with caplog.at_level(logging.INFO):
        site = build_site(sample, tmp_path / "site")
    for path in site.rglob("*"):
        if path.is_file():
            assert "5o0xb6f3r6tfv5ke6y82y4jt4uv89" not in path.read_text(errors="replace"), path
    assert "SWMTKN-1-&lt;redacted&gt;" in read(site, "swarm.html")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("unredacted secret" in r.getMessage() for r in errors)
    assert not any("5o0xb6f3" in r.getMessage() for r in caplog.records)  # not in logs either


def test_unredacted_token_fails_a_strict_build(sample: Path, tmp_path: Path) -> None:
    set_plugin_options(sample, failed="ignore", missing="ignore")
    build_site(sample, tmp_path / "ok", strict=True)  # clean transcripts: strict passes
    leak_token(sample)
    with pytest.raises(Abort):
        build_site(sample, tmp_path / "site", strict=True)


# --- warnings, strict ------------------------------------------------------------------------


def test_strict_build_fails_on_a_failed_step(sample: Path, tmp_path: Path) -> None:
    set_plugin_options(sample, missing="ignore")
    with pytest.raises(Abort):
        build_site(sample, tmp_path / "site", strict=True)


def test_failures_can_be_ignored(
    sample: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    set_plugin_options(sample, missing="ignore", failed="ignore")
    with caplog.at_level(logging.WARNING):
        build_site(sample, tmp_path / "site", strict=True)
    assert not [r for r in caplog.records if r.name.startswith("mkdocs.plugins.dojo_exec")]


def test_warnings_name_page_and_line(
    sample: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        build_site(sample, tmp_path / "site")
    messages = {r.getMessage() for r in caplog.records if r.levelno == logging.WARNING}
    assert any(m.startswith("dojo_exec: swarm.md:32: step failed") for m in messages), messages
    assert any("swarm.md:43: step timed out" in m for m in messages)
    assert any("unrecorded.md: no recorded run" in m for m in messages)


def test_edited_step_is_stale(
    sample: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    page = sample.parent / "docs" / "swarm.md"
    page.write_text(page.read_text().replace("docker node ls\n", "docker node ls --format table\n"))
    with caplog.at_level(logging.WARNING):
        site = build_site(sample, tmp_path / "site")
    content = article(read(site, "swarm.html"))
    assert "not verified since the step was edited" in text_of(content)
    assert "6 of 9 steps verified (1 edited since the run, 1 skipped" in text_of(content)
    assert any("step edited since its latest run" in r.getMessage() for r in caplog.records)
    # an edit of the promise only is matched by command text: also stale
    page.write_text(page.read_text().replace("\nweb\n```", "\nweb\napi\n```"))
    site = build_site(sample, tmp_path / "site2")
    assert text_of(article(read(site, "swarm.html"))).count("not verified since the step") == 2


def test_front_matter_offsets_and_crlf(sample: Path, tmp_path: Path) -> None:
    page = sample.parent / "docs" / "swarm.md"
    text = page.read_text().replace(
        "title: A swarm, sampled\n", "title: A swarm, sampled\nx: [1, 2, 3]\n"
    )
    page.write_bytes(text.replace("\n", "\r\n").encode())
    site = build_site(sample, tmp_path / "site")
    content = article(read(site, "swarm.html"))
    assert "That&#39;s all." in content or "That's all." in content
    assert "CAPTURED-WEB-OUTPUT" in content  # spans still line up: digests still match
    assert "not verified since" not in text_of(content)


# --- modes -----------------------------------------------------------------------------------


def test_mode_off_renders_plain_code_blocks(sample: Path, tmp_path: Path) -> None:
    set_plugin_options(sample, mode="off")
    site = build_site(sample, tmp_path / "site")
    content = article(read(site, "swarm.html"))
    assert "dojo-badge" not in content and "tabbed-set" not in content
    assert "PROMISED-WEB-OUTPUT" in content and "CAPTURED-WEB-OUTPUT" not in content
    assert "HIDDEN-SETUP-STEP" not in content and "wait=" not in content


def test_disabled_plugin_leaves_the_markdown_alone(sample: Path, tmp_path: Path) -> None:
    set_plugin_options(sample, enabled="false")
    text = sample.read_text().replace("  - Report: report.md\n", "")
    sample.write_text(text)
    site = build_site(sample, tmp_path / "site")
    assert "dojo-badge" not in read(site, "swarm.html")
    assert not (site / "report.html").exists()


def test_live_mode_runs_the_pages_then_renders_them(sample: Path, tmp_path: Path) -> None:
    """Live mode really runs the steps (pages that need no machines: driver none)."""
    docs = sample.parent / "docs"
    (docs / "live.md").write_text(
        '# Live\n\n```sh dojo\nX=$((6 * 7)); echo "LIVE-$X"\n# Result ==>\nLIVE-42\n```\n'
    )
    for page in docs.glob("*.md"):  # the sample's other pages need a swarm: keep them out
        if page.name != "live.md":
            page.unlink()
    text = sample.read_text()
    sample.write_text(text[: text.index("nav:")] if "nav:" in text else text)
    set_plugin_options(sample, mode="live", driver="none", missing="ignore")
    site = build_site(sample, tmp_path / "site")
    content = text_of(article(read(site, "live.html")))
    assert "LIVE-42" in content and "passed" in content
    assert "driver none (local shell)" in content
    recorded = json.loads((sample.parent / "transcripts" / "live.md.json").read_text())
    assert recorded["runs"][0]["steps"][0]["verdict"] == "passed"


def test_report_page_can_be_turned_off(sample: Path, tmp_path: Path) -> None:
    text = sample.read_text().replace("report_page: report.md", "report_page: false")
    sample.write_text(text.replace("  - Report: report.md\n", ""))
    site = build_site(sample, tmp_path / "site")
    assert not (site / "report.html").exists()


def test_transcript_file_is_json_on_disk(built_site: Path) -> None:
    """Sanity: the committed sample transcripts are what sample_site.py generates."""
    sample_dir = Path(__file__).parent / "sample" / "transcripts"
    from sample_site import SAMPLE, write_transcripts

    assert sample_dir == SAMPLE / "transcripts"
    committed = (sample_dir / "swarm.md.json").read_text()
    json.loads(committed)
    copy = built_site.parent / "regenerated"
    (copy / "docs").mkdir(parents=True)
    (copy / "docs" / "swarm.md").write_text((SAMPLE / "docs" / "swarm.md").read_text())
    write_transcripts(copy)
    assert (copy / "transcripts" / "swarm.md.json").read_text() == committed


def test_step_that_printed_nothing_is_one_line(built_site: Path) -> None:
    """No tab strip, no "(no output)" block with its own copy button: the verdict says it."""
    content = article(read(built_site, "swarm.html"))
    start = content.index("SILENT_STEP")
    result = re.search(r'<div class="dojo-result[^>]*>(.*?)</div>', content[start:], re.DOTALL)
    assert result
    assert "tabbed" not in result.group(1) and "<pre" not in result.group(1)
    shown = text_of(result.group(1)).strip()
    assert shown == "passed 0.5 s · no output · on Docker 20.10.24, 20.10.5"


def test_the_dojo_tells_a_reader_how_to_run_it(project_site: Path) -> None:  # noqa: F811
    """The index names three ways to get the machines; bare URLs are links; no bullet is
    swallowed by the one before it; material's site features are on."""
    index = read(project_site, "index.html")
    content = article(index)
    text = text_of(content)
    for way in ("Embedded machines (this project)", "docker-machine with VMs", "in a browser"):
        assert way in text
    assert "nox -s verify-docs" in text and "alias docker-machine=dojo-machine" in text
    assert "# (1)!</span>" in index  # a command's flags explained in numbered notes (JS)
    assert "either way. -" not in text and "\n- " not in text
    steps = article(read(project_site, "next-steps.html"))
    assert '<a href="https://docs.docker.com/engine/swarm/ingress/">' in steps
    assert '<html lang="en"' in index
    for feature in ("md-footer__link--next", 'data-md-component="top"', "__palette_"):
        assert feature in index, feature
    assert "unpkg.com" not in index and "iframe-worker-shim.js" in index
