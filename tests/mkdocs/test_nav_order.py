"""The report lists pages in the reader's order: the order of mkdocs.yml's nav."""

from dojo_exec.markdown.site import nav_order


def test_nav_order_follows_nested_nav_and_ignores_links() -> None:
    nav = [
        {"Home": "index.md"},
        {"Workshop": [{"Setup": "setup.md"}, "swarm.md", {"More": [{"Stacks": "stack.md"}]}]},
        {"Report": "report.md"},
    ]
    order = nav_order(nav)
    assert sorted(order, key=order.__getitem__) == [
        "index.md",
        "setup.md",
        "swarm.md",
        "stack.md",
        "report.md",
    ]
    assert nav_order(None) == {}
