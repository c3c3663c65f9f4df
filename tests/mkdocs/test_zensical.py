"""The steps rendered by the Markdown extension alone: Zensical (no plugin runs) and plain
Python-Markdown show what MkDocs with the plugin shows, and never a verified-looking step
that is not."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import markdown
import pytest
from dom import Element, parse
from mkdocs.exceptions import Abort
from sample_site import build_site
from zensical_site import REPORT, build_zensical, with_extension

from dojo_exec.page import RESULT_MARKER

STEP = "# Tag\n\n```sh dojo timeout=5s\necho hi\n# Result ==>\nhi\n```\n"


def article(site: Path, name: str) -> Element:
    found = parse((site / name).read_text()).find_all("article", "md-content__inner")
    assert len(found) == 1, name
    return found[0]


def steps(content: Element) -> list[tuple[str, str, str]]:
    """(anchor, classes, visible text) of every step result, in page order."""
    return [
        (e.attrs["id"], e.attrs["class"], " ".join(e.text().split()))
        for e in content.find_all("div", "dojo-result")
    ]


def codes(content: Element) -> list[str]:
    """The text of every code block (the commands, the outputs)."""
    return [e.text() for e in content.find_all("code") if e.inside("pre")]


@pytest.fixture(scope="module")
def zensical_sample(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Path:
    """The sample site (the one ``built_site`` is) built with Zensical."""
    root = tmp_path_factory.mktemp("zensical")
    sample = built_site.parent
    shutil.copytree(sample / "docs", root / "docs")
    shutil.copytree(sample / "transcripts", root / "transcripts")
    shutil.copy(sample / "mkdocs.yml", root / "mkdocs.yml")
    (root / "docs" / "report.md").write_text(REPORT)
    site, _ = build_zensical(with_extension(root / "mkdocs.yml"))
    return site


@pytest.mark.parametrize("page", ["swarm.html", "unrecorded.html"])
def test_every_verdict_shows_the_same_under_zensical(
    built_site: Path, zensical_sample: Path, page: str
) -> None:
    mkdocs, zensical = article(built_site, page), article(zensical_sample, page)
    assert steps(zensical) == steps(mkdocs)
    assert len(steps(mkdocs)) >= 1
    assert codes(zensical) == codes(mkdocs)
    header = [" ".join(e.text().split()) for e in mkdocs.find_all("p", "dojo-provenance")]
    assert header == [" ".join(e.text().split()) for e in zensical.find_all("p", "dojo-provenance")]


def test_no_tag_or_result_marker_reaches_a_zensical_reader(zensical_sample: Path) -> None:
    for path in zensical_sample.rglob("*.html"):
        text = path.read_text()
        assert RESULT_MARKER not in text, path
        assert not re.search(r"\bdojo (timeout|wait|check|id|hidden)=", text), path
        assert not re.search(r'class="language-\w+ dojo', text), path


def test_report_is_filled_under_zensical(built_site: Path, zensical_sample: Path) -> None:
    ours, theirs = article(zensical_sample, "report.html"), article(built_site, "report.html")
    summary = [" ".join(e.text().split()) for e in ours.find_all("p", "dojo-summary")]
    assert summary == [" ".join(e.text().split()) for e in theirs.find_all("p", "dojo-summary")]
    assert "dojo_exec: report" not in (zensical_sample / "report.html").read_text()
    links = {e.attrs["href"] for e in ours.find_all("a") if "#step-" in e.attrs.get("href", "")}
    assert links == {
        e.attrs["href"] for e in theirs.find_all("a") if "#step-" in e.attrs.get("href", "")
    }


def test_stale_and_missing_transcripts_show_unverified_under_zensical(
    built_site: Path, tmp_path: Path
) -> None:
    """No plugin warns here: the page itself must say that a step is not verified."""
    sample = built_site.parent
    shutil.copytree(sample / "docs", tmp_path / "docs")
    shutil.copytree(sample / "transcripts", tmp_path / "transcripts")
    shutil.copy(sample / "mkdocs.yml", tmp_path / "mkdocs.yml")
    swarm = tmp_path / "docs" / "swarm.md"
    edited = swarm.read_text().replace("docker node ls", "docker node ls --format json", 1)
    assert edited != swarm.read_text()
    swarm.write_text(edited)
    site, output = build_zensical(with_extension(tmp_path / "mkdocs.yml"))
    results = steps(article(site, "swarm.html"))
    stale = [r for r in results if "dojo-result--stale" in r[1]]
    assert len(stale) == 1 and "not verified since the step was edited" in stale[0][2]
    assert "swarm.md" in output and "edited since its latest run" in output
    unrecorded = steps(article(site, "unrecorded.html"))
    assert [r[1] for r in unrecorded] == ["dojo-result dojo-result--missing"]
    assert "not verified" in unrecorded[0][2]


def test_bad_step_fails_one_line_and_shows_no_tag(tmp_path: Path, built_site: Path) -> None:
    sample = built_site.parent
    shutil.copytree(sample / "docs", tmp_path / "docs")
    shutil.copy(sample / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "docs" / "swarm.md").write_text(STEP.replace("timeout=5s", "wait=soon"))
    site, output = build_zensical(with_extension(tmp_path / "mkdocs.yml"))
    assert re.search(r"dojo_exec: swarm\.md:3: .*wait", output), output
    assert "Traceback" not in output
    html = (site / "swarm.html").read_text()
    assert "wait=soon" not in html and RESULT_MARKER not in html
    assert "echo hi" in article(site, "swarm.html").text()  # the command is still shown


def test_plain_python_markdown_shows_every_step_unverified(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A generator that does not say which page it renders gets no verdict from a
    transcript of some other page: every step is "not verified"."""
    with caplog.at_level(logging.WARNING, logger="dojo_exec"):
        html = markdown.markdown(STEP, extensions=["dojo_exec.markdown", "pymdownx.superfences"])
    assert "dojo-badge--missing" in html and ">not verified<" in html
    assert 'class="dojo-badge dojo-badge--passed"' not in html
    assert RESULT_MARKER not in html and "timeout=5s" not in html
    assert any("not verified" in record.getMessage() for record in caplog.records)


def test_plugin_and_extension_must_name_one_transcripts_folder(
    sample: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = with_extension(sample).read_text()
    sample.write_text(text.replace("      transcripts: transcripts\n", "      transcripts: x\n", 1))
    with pytest.raises(Abort):
        build_site(sample, tmp_path / "site")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        "dojo_exec: the plugin reads transcripts from 'transcripts', the dojo_exec.markdown "
        "extension from 'x': name one folder"
    ]


@pytest.mark.parametrize("page", ["swarm.html", "unrecorded.html", "index.html"])
def test_last_update_is_the_latest_run_under_both(
    built_site: Path, zensical_sample: Path, page: str
) -> None:
    """The theme's "last update" of a page with steps is when they last ran."""
    expected = ["verified 2026-11-25 23:48 UTC"] if page == "swarm.html" else []
    for site in (built_site, zensical_sample):
        dates = [
            " ".join(e.text().split())
            for e in parse((site / page).read_text()).find_all("aside", "md-source-file")
        ]
        assert dates == expected, (site, page)


def test_a_cached_zensical_build_follows_the_transcripts(tmp_path: Path) -> None:
    """Zensical re-renders only what changed: the project's config names the transcripts
    (and the pages, for the report) so that a page whose run is gone says so at once."""
    root = Path(__file__).parents[2]
    for folder in ("docs", "transcripts"):
        shutil.copytree(root / folder, tmp_path / folder)
    for name in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy(root / name, tmp_path / name)
    site, _ = build_zensical(tmp_path / "mkdocs.yml")
    assert "dojo-result--missing" not in (site / "swarm.html").read_text()
    (tmp_path / "transcripts" / "swarm.md.json").unlink()
    site, _ = build_zensical(tmp_path / "mkdocs.yml", clean=False)
    statuses = {
        e.attrs["class"] for e in article(site, "swarm.html").find_all("div", "dojo-result")
    }
    assert statuses == {"dojo-result dojo-result--missing"}
    report = article(site, "report.html").text()
    assert "Not verified: no recorded run." in report


def test_bad_extension_options_are_one_line_each(built_site: Path, tmp_path: Path) -> None:
    sample = built_site.parent
    shutil.copytree(sample / "docs", tmp_path / "docs")
    shutil.copytree(sample / "transcripts", tmp_path / "transcripts")
    config = tmp_path / "mkdocs.yml"
    shutil.copy(sample / "mkdocs.yml", config)
    text = with_extension(config).read_text()
    config.write_text(
        text.replace(
            "      transcripts: transcripts\n", "      mode: bogus\n      colour: red\n", 1
        )
    )
    site, output = build_zensical(config)
    errors = [line for line in output.splitlines() if "dojo_exec.markdown:" in line]
    assert errors == [
        "dojo_exec: markdown_extensions: dojo_exec.markdown: unknown option 'colour' "
        "(options: transcripts, docs, mode, styles)",
        "dojo_exec: markdown_extensions: dojo_exec.markdown: mode must be recorded or off, "
        "got 'bogus': steps are shown without results",
    ]
    assert "Traceback" not in output
    html = (site / "swarm.html").read_text()
    assert "dojo-result" not in html and RESULT_MARKER not in html
