"""Steps where authors put them: in list items, admonitions, collapsible blocks, content tabs;
commented out or shown as an example. Pages are really run (plain shell), then built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dom import Element, parse
from sample_site import build_site, make_site

from dojo_exec.runner import run_pages

PAGES = {
    "list.md": """# Steps in a list

1. First, say hello:

    ```sh dojo
    echo LIST-ONE
    # Result ==>
    LIST-ONE
    ```

2. Then say goodbye:

    ```sh dojo
    echo LIST-TWO
    ```

    ```
    # Result ==>
    LIST-TWO
    ```

3. Third item text stays in the list.
""",
    "blocks.md": """# Steps in blocks

!!! note "A note"

    Inside the note.

    ```sh dojo
    echo IN-NOTE
    # Result ==>
    IN-NOTE
    ```

    Still inside the note.

??? example "Collapsible"

    ```sh dojo
    echo IN-DETAILS
    # Result ==>
    IN-DETAILS
    ```

=== "Linux"

    ```sh dojo
    echo IN-TAB-LINUX
    # Result ==>
    IN-TAB-LINUX
    ```

=== "macOS"

    ```sh dojo
    echo IN-TAB-MACOS
    # Result ==>
    IN-TAB-MACOS
    ```

After the blocks.
""",
    "comments.md": """<!--
# An old title, commented out
-->

Pipes `a | b` & redirects `<in`
===============================

A step disabled by an HTML comment:

<!--
```sh dojo
echo COMMENTED-OUT
# Result ==>
COMMENTED-OUT
```
-->

How a step is written (a longer fence shows it as it is):

````markdown
```sh dojo
echo SYNTAX-EXAMPLE
```
````

```sh dojo skip="needs a real VM"
docker-machine create --driver virtualbox real1
# Result ==>
REAL-VM-CREATED
```

```sh dojo
echo THE-ONE-STEP
# Result ==>
THE-ONE-STEP
```

The end.
""",
    "untitled.md": """```sh dojo
# a comment that is not a title
echo UNTITLED
# Result ==>
UNTITLED
```
""",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nesting")
    config = make_site(root / "src")
    docs = config.parent / "docs"
    for name, text in PAGES.items():
        (docs / name).write_text(text)
    text = config.read_text().replace(
        "  - Report: report.md\n",
        "".join(f"  - {name[:-3].title()}: {name}\n" for name in PAGES) + "  - Report: report.md\n",
    )
    # the sample's own pages fail or were never run on purpose; anything else must be clean
    text = text.replace(
        "      report_page: report.md\n",
        "      report_page: report.md\n      failed: ignore\n      missing: ignore\n",
    )
    config.write_text(text)
    records = run_pages(
        [docs / name for name in PAGES],
        config.parent / "transcripts",
        driver="none",
        docs_root=docs,
    )
    assert all(record.ok for record in records)
    return build_site(config, root / "site", strict=True)


def page(site: Path, name: str) -> Element:
    """The page's article (its content, without the theme's navigation and search)."""
    (article,) = parse((site / name).read_text(encoding="utf-8")).find_all("article")
    return article


def result_of(root: Element, text: str) -> Element:
    """The result block of the step whose command prints ``text``."""
    codes = [e for e in root.find_all("div", "highlight") if f"echo {text}" in e.text()]
    assert len(codes) == 1, f"{len(codes)} commands echo {text}"
    siblings = [c for c in (codes[0].parent.children if codes[0].parent else []) if c != "\n"]
    following = siblings[siblings.index(codes[0]) + 1]
    assert isinstance(following, Element) and "dojo-result" in following.classes
    assert text in following.text()
    return following


def test_steps_stay_in_their_list_items(site: Path) -> None:
    root = page(site, "list.html")
    lists = root.find_all("ol")
    assert len(lists) == 1
    items = lists[0].find_all("li")
    assert len(items) == 3
    assert result_of(root, "LIST-ONE").inside("li") is items[0]
    assert result_of(root, "LIST-TWO").inside("li") is items[1]


def test_steps_stay_in_admonitions_details_and_tabs(site: Path) -> None:
    root = page(site, "blocks.html")
    note = result_of(root, "IN-NOTE").inside("div", "admonition")
    assert note is not None and "Still inside the note." in note.text()
    assert result_of(root, "IN-DETAILS").inside("details") is not None
    linux = result_of(root, "IN-TAB-LINUX").inside("div", "tabbed-block")
    macos = result_of(root, "IN-TAB-MACOS").inside("div", "tabbed-block")
    assert linux is not None and macos is not None and linux is not macos
    assert "After the blocks." not in (note.text() + linux.text() + macos.text())


def test_commented_and_example_steps_are_not_steps(site: Path) -> None:
    recorded = json.loads((site.parent / "src" / "transcripts" / "comments.md.json").read_text())
    commands = [step["command"] for step in recorded["runs"][0]["steps"]]
    assert not any("COMMENTED-OUT" in c or "SYNTAX-EXAMPLE" in c for c in commands)
    root = page(site, "comments.html")
    result_of(root, "THE-ONE-STEP")
    assert "The end." in root.text()  # nothing after the comment is swallowed
    example = [e for e in root.find_all("pre") if "SYNTAX-EXAMPLE" in e.text()]
    assert len(example) == 1 and "```sh dojo" in example[0].text()  # shown as written
    assert "COMMENTED-OUT" not in root.text()  # still a comment


def test_provenance_follows_the_real_title_not_a_commented_one(site: Path) -> None:
    root = page(site, "comments.html")
    provenance = root.find_all("p", "dojo-provenance")
    assert len(provenance) == 1
    siblings = [c for c in provenance[0].parent.children if isinstance(c, Element)]  # type: ignore[union-attr]
    before = siblings[siblings.index(provenance[0]) - 1]
    assert before.tag == "h1" and "Pipes" in before.text()


def test_a_skipped_step_still_shows_what_it_promises(site: Path) -> None:
    result = result_of(page(site, "comments.html"), "THE-ONE-STEP")
    assert result is not None
    skipped = [
        e
        for e in page(site, "comments.html").find_all("div", "dojo-result")
        if "skipped: needs a real VM" in e.text()
    ]
    assert len(skipped) == 1 and "REAL-VM-CREATED" in skipped[0].text()
    assert "Captured" not in skipped[0].text()


def test_report_titles_are_the_pages_titles_as_readers_see_them(site: Path) -> None:
    headings = [h.text().strip("¶ ") for h in page(site, "report.html").find_all("h2")]
    assert "Pipes a | b & redirects <in" in headings  # setext H1, code spans as text
    assert "Untitled" in headings  # no H1: the nav title, not the shell comment
    assert "Result ==>" not in headings


def test_mode_off_keeps_the_structure_and_the_report_page(tmp_path: Path) -> None:
    config = make_site(tmp_path / "src")
    (config.parent / "docs" / "list.md").write_text(PAGES["list.md"])
    config.write_text(
        config.read_text().replace(
            "      report_page: report.md\n", "      report_page: report.md\n      mode: 'off'\n"
        )
    )
    site = build_site(config, tmp_path / "site", strict=True)
    root = page(site, "list.html")
    items = root.find_all("ol")[0].find_all("li")
    assert len(items) == 3 and "echo LIST-TWO" in items[1].text()
    assert "does not show verification results" in page(site, "report.html").text()
