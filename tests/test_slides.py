"""The workshop deck: references resolved on the real pages and transcripts, clear failures."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dojo_exec.page import parse_page
from dojo_exec.slides import (
    REVEAL_FILES,
    REVEAL_VERSION,
    Resolver,
    SlideError,
    build_deck,
    ensure_reveal,
    parse_deck,
    render_step,
)
from dojo_exec.transcripts import load_transcript

ROOT = Path(__file__).parents[1]
DECK = ROOT / "slides" / "deck.md"
DOCS = ROOT / "docs"
TRANSCRIPTS = ROOT / "transcripts"
VENDOR = ROOT / ".dojo" / "vendor"


def _deck() -> tuple[list, Resolver]:
    _, slides = parse_deck(DECK.read_text(encoding="utf-8"), DECK)
    return slides, Resolver(DOCS, TRANSCRIPTS)


def test_every_slide_has_notes_and_every_reference_resolves_on_the_real_pages() -> None:
    slides, resolver = _deck()
    assert len(slides) >= 12
    assert all(slide.notes for slide in slides)
    refs = [(slide, ref) for slide in slides for ref in slide.refs]
    assert len(refs) >= 12
    for slide, ref in refs:
        shown = resolver.resolve(ref, slide, DECK)
        assert shown.step.options.id == ref.id
        assert shown.step.path.name == ref.page
        assert shown.status == "passed", f"{ref.page}#{ref.id}: {shown.status}"
        assert shown.record is not None and shown.run is not None


def test_resolved_output_is_the_latest_captured_one() -> None:
    slides, resolver = _deck()
    slide = next(s for s in slides if any(r.id == "scale-5" for r in s.refs))
    ref = next(r for r in slide.refs if r.id == "scale-5")
    shown = resolver.resolve(ref, slide, DECK)
    transcript = load_transcript(TRANSCRIPTS, "service.md")
    assert transcript is not None and transcript.latest is not None
    assert shown.run is transcript.latest or shown.run == transcript.latest
    assert shown.record in transcript.latest.steps
    assert shown.step.command == "docker service scale helloworld=5"
    assert "helloworld scaled to 5" in shown.record.captured  # type: ignore[union-attr]
    html = render_step(shown, "../service.html")
    assert "docker service scale helloworld=5" in html
    assert "helloworld scaled to 5" in html
    assert f"Docker engine {transcript.latest.docker_engine}" in html
    assert f"dojo_exec {transcript.latest.dojo_exec}" in html
    assert 'class="fragment dojo-captured"' in html  # output revealed after the command
    assert "more lines" in html  # lines=3 on that slide


def test_each_page_is_read_once() -> None:
    slides, resolver = _deck()
    for slide in slides:
        for ref in slide.refs:
            resolver.resolve(ref, slide, DECK)
    assert set(resolver.pages) == {ref.page for slide in slides for ref in slide.refs}


def _copy_project(tmp_path: Path) -> tuple[Path, Path, Path]:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs, ignore=shutil.ignore_patterns("__pycache__", "conftest.py"))
    slides = tmp_path / "slides"
    shutil.copytree(DECK.parent, slides)
    return docs, slides / "deck.md", TRANSCRIPTS


def test_renamed_step_id_fails_the_build_with_one_line_naming_slide_and_id(
    tmp_path: Path,
) -> None:
    docs, deck, transcripts = _copy_project(tmp_path)
    page = docs / "service.md"
    page.write_text(page.read_text().replace("id=scale-5 ", "id=scale-five "))
    out = tmp_path / "out"
    with pytest.raises(SlideError) as caught:
        build_deck(deck, docs, transcripts, out, cache=VENDOR)
    message = str(caught.value)
    assert "\n" not in message
    line = next(n for n, text in enumerate(deck.read_text().splitlines(), 1) if "#scale-5" in text)
    assert message.startswith(f"{deck}:{line}: slide ")
    assert "(Scaling)" in message
    assert "no step with id=scale-5 in service.md" in message
    assert "scale-five" in message  # the ids the page has, to spot a rename
    assert not out.exists()  # nothing written


def test_renamed_id_through_the_command_line(tmp_path: Path) -> None:
    docs, deck, transcripts = _copy_project(tmp_path)
    page = docs / "swarm.md"
    page.write_text(page.read_text().replace("id=nodes ", "id=all-nodes "))
    done = subprocess.run(
        [sys.executable, "-m", "dojo_exec.slides", "--deck", str(deck), "--docs", str(docs),
         "--transcripts", str(transcripts), "--out", str(tmp_path / "out"),
         "--cache", str(VENDOR)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "slide 5 (Join the workers)" in lines[0]
    assert "no step with id=nodes in swarm.md" in lines[0]


def test_missing_page_and_missing_notes_are_errors(tmp_path: Path) -> None:
    deck = tmp_path / "deck.md"
    deck.write_text("# One\n\n[[step nowhere.md#x]]\n\nNote:\nsay it\n")
    with pytest.raises(SlideError, match=r"deck.md:3: slide 1 \(One\): page nowhere.md does not"):
        build_deck(deck, DOCS, TRANSCRIPTS, tmp_path / "out", cache=VENDOR)
    deck.write_text("# One\n\nNote:\nsay it\n---\n# Two\n\nno notes here\n")
    with pytest.raises(SlideError, match=r"deck.md:6: slide 2 \(Two\) has no speaker notes"):
        parse_deck(deck.read_text(), deck)


def test_separator_inside_a_code_block_is_not_a_slide_break(tmp_path: Path) -> None:
    text = "# One\n\n```yaml\n---\nkey: 1\n```\n\nNote:\nn\n---\n# Two\nNote:\nm\n"
    _, slides = parse_deck(text, tmp_path / "deck.md")
    assert [slide.title for slide in slides] == ["One", "Two"]
    assert slides[1].line == 11


def test_stale_and_failed_steps_are_marked(tmp_path: Path) -> None:
    docs, deck, transcripts = _copy_project(tmp_path)
    page = docs / "service.md"
    page.write_text(
        page.read_text().replace(
            "docker service scale helloworld=5\n", "docker service scale helloworld=6\n"
        )
    )
    copied = tmp_path / "transcripts"
    shutil.copytree(transcripts, copied)
    rolling = copied / "rolling-update.md.json"
    step = next(
        s for s in parse_page(docs / "rolling-update.md").steps if s.options.id == "rollback"
    )
    data = json.loads(rolling.read_text())
    for run in data["runs"]:  # the step failed in every recorded run (one per engine)
        for recorded in run["steps"]:
            if recorded["line"] == step.line:
                recorded["verdict"] = "failed"
    rolling.write_text(json.dumps(data))
    built = build_deck(deck, docs, copied, tmp_path / "out", cache=VENDOR)
    flagged = {(s.ref.id, s.status) for s in built.flagged}
    assert flagged == {("scale-5", "stale"), ("rollback", "failed")}
    html = (tmp_path / "out" / "index.html").read_text()
    assert "this step was edited since this output was captured" in html
    assert "this step failed in the latest run" in html
    assert html.count('class="dojo-flagged"') == 2


def test_build_writes_a_self_contained_deck(tmp_path: Path) -> None:
    built = build_deck(DECK, DOCS, TRANSCRIPTS, tmp_path / "slides", cache=VENDOR)
    out = built.out
    assert (out / "index.html").is_file() and (out / "deck.css").is_file()
    for name in REVEAL_FILES:
        assert (out / "reveal" / name.removeprefix("dist/")).is_file()
    assert (out / "raft-quorum.svg").is_file()
    html = (out / "index.html").read_text()
    assert "SWMTKN-1-&lt;redacted&gt;" in html  # the init output, redacted as recorded
    for outside in ("http://", "https://", "//cdn"):
        for attribute in ("src=", "href="):
            assert f'{attribute}"{outside}' not in html
    css = "".join(p.read_text() for p in (out / "reveal").rglob("*.css"))
    assert "@import" not in css and "url(http" not in css  # fonts are inlined
    assert html.count('<aside class="notes">') == built.slides
    quiet = html.split('data-step="stack.md#compose-file"')[1].split("data-step=")[0]
    assert "YAML" in quiet and 'class="dojo-output"' not in quiet  # printed nothing: no block
    assert built.pages and all(path.is_file() for path in built.pages)


def test_reveal_tarball_with_another_integrity_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "reveal.js-6.0.2.tgz"
    with tarfile.open(fake, "w:gz") as archive:
        archive.add(DECK, arcname="package/dist/reveal.js")
    monkeypatch.setenv("DOJO_REVEAL_TGZ", str(fake))
    with pytest.raises(SlideError, match="integrity differs"):
        ensure_reveal(tmp_path / "cache")
    assert not (tmp_path / "cache" / "reveal.js-6.0.2").exists()


def test_without_npm_or_tarball_the_message_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOJO_REVEAL_TGZ", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm there
    with pytest.raises(SlideError, match=r"npm is needed once .* DOJO_REVEAL_TGZ"):
        ensure_reveal(tmp_path / "cache")


def test_a_cached_copy_needs_neither_npm_nor_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_reveal(VENDOR)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert ensure_reveal(VENDOR) == VENDOR / f"reveal.js-{REVEAL_VERSION}"


def _site(tmp_path: Path) -> Path:
    """A copy of the project's site sources (mkdocs.yml, docs, slides; transcripts as they are)."""
    _copy_project(tmp_path)
    text = (ROOT / "mkdocs.yml").read_text()
    text = text.replace("transcripts: transcripts ", f"transcripts: {TRANSCRIPTS} ")
    text = text.replace("\n  - transcripts\n", f"\n  - {TRANSCRIPTS}\n")  # watch:
    (tmp_path / "mkdocs.yml").write_text(text)
    return tmp_path / "mkdocs.yml"


def _build_site(config_file: Path, site: Path) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(config_file), site_dir=str(site))
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()


def test_site_build_puts_the_deck_under_slides_and_links_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOJO_VENDOR", str(VENDOR))
    _build_site(_site(tmp_path), tmp_path / "site")
    deck = (tmp_path / "site" / "slides" / "index.html").read_text()
    assert 'data-step="service.md#scale-5"' in deck
    assert 'href="../service.html"' in deck  # small print links to the page
    page = (tmp_path / "site" / "slides.html").read_text()
    assert 'href="slides/index.html"' in page and 'href="slides/index.html?print-pdf"' in page
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'href="slides.html"' in index  # in the nav


def test_site_build_fails_on_a_renamed_step_naming_slide_and_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mkdocs.exceptions import Abort

    monkeypatch.setenv("DOJO_VENDOR", str(VENDOR))
    config = _site(tmp_path)
    page = tmp_path / "docs" / "rolling-update.md"
    page.write_text(page.read_text().replace("id=rollback ", "id=roll-back "))
    with caplog.at_level(logging.ERROR), pytest.raises(Abort):
        _build_site(config, tmp_path / "site")
    (message,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "\n" not in message
    assert message.startswith("dojo_exec: slides: ")
    assert "(When an update fails: pause, then roll back)" in message
    assert "no step with id=rollback in rolling-update.md" in message


def test_serve_watches_the_slides_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    plugin = config.plugins["dojo_exec"]
    plugin.on_config(config)

    class Server:
        def __init__(self) -> None:
            self.watched: list[str] = []

        def watch(self, path: str) -> None:
            self.watched.append(path)

    server = Server()
    plugin.on_serve(server, config=config, builder=None)
    assert str(ROOT / "slides") in server.watched
    assert str(ROOT / "transcripts") in server.watched  # pages are watched by MkDocs itself


def test_directory_urls_need_another_name_for_the_slides_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mkdocs.exceptions import Abort

    monkeypatch.setenv("DOJO_VENDOR", str(VENDOR))
    config = _site(tmp_path)
    text = config.read_text().replace("use_directory_urls: false", "use_directory_urls: true")
    # material's offline plugin turns directory URLs off: a site with them has no offline
    text = "\n".join(line for line in text.split("\n") if not line.startswith("  - offline"))
    config.write_text(text)
    with caplog.at_level(logging.ERROR), pytest.raises(Abort):
        _build_site(config, tmp_path / "site")
    assert any("slides_page: deck.md" in r.getMessage() for r in caplog.records)
