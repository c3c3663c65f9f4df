"""Docker tables parsed from the real fixtures."""

from __future__ import annotations

from fixtures.rerandomise import ORIGINAL, body
from matching_twins import DATA, capture

from dojo_exec.tables import find_tables, fits, parse_header, render, split_row


def _lines(name: str) -> list[str]:
    return [line.rstrip() for line in body(ORIGINAL / name).splitlines()]


def test_node_ls_columns_and_current_node_marker() -> None:
    (table,) = find_tables(_lines("06-node-ls.txt"))
    assert table.names == (
        "ID",
        "HOSTNAME",
        "STATUS",
        "AVAILABILITY",
        "MANAGER STATUS",
        "ENGINE VERSION",
    )
    assert table.rows[0].cells == (
        "k1qovxjy3hrue0dlnud6yei3e *",
        "manager1",
        "Ready",
        "Active",
        "Leader",
        "20.10.24+dfsg1",
    )
    assert table.rows[1].cells[4] == ""  # empty MANAGER STATUS


def test_service_ps_history_rows() -> None:
    (table,) = find_tables(_lines("16-service-ps-drained.txt"))
    names = [row.cells[1] for row in table.rows]
    assert names == [
        "helloworld.1",
        "helloworld.2",
        "helloworld.3",
        "\\_ helloworld.3",
        "helloworld.4",
        "helloworld.5",
    ]
    assert [row.history for row in table.rows] == [False, False, False, True, False, False]
    assert table.rows[3].cells[5] == "Shutdown less than a second ago"
    assert table.label(table.rows[3]) == "\\_ helloworld.3"


def test_docker_ps_multiword_header() -> None:
    (table,) = find_tables(_lines("28-docker-ps.txt"))
    assert table.names[0] == "CONTAINER ID"
    assert table.rows[0].cells[2] == '"redis-server --prot…"'
    assert table.label(table.rows[0]) == "redis.1.6387rh1ejhatujtcmmg4nbaka"


def test_empty_table_and_no_table() -> None:
    (table,) = find_tables(_lines("19-service-ls-empty.txt"))
    assert table.rows == ()
    assert find_tables(_lines("10-service-inspect-pretty.txt")) == []
    assert find_tables(_lines("01-swarm-init.txt")) == []
    assert find_tables(_lines("30-version.txt")) == []


def test_table_inside_text_and_ellipsis() -> None:
    lines = ["Some text first", "", *_lines("13-service-ps-5.txt")[:3], "...", "", "after"]
    (table,) = find_tables(lines)
    assert (table.start, table.end) == (2, 6)
    assert len(table.rows) == 2 and table.elided == (2,)


def test_header_detection() -> None:
    assert parse_header("ID  NAME") is not None
    assert parse_header("Error: no such service: helloworld") is None
    assert parse_header("ID:\t\tvuv02ejgm02pprzc1lzorbob0") is None
    assert parse_header(" ID  NAME") is None
    assert parse_header("ID") is None


def test_misaligned_row_goes_to_nearest_column() -> None:
    columns = parse_header("ID             NAME         MODE")
    assert columns is not None
    assert split_row("vuv02ejgm02p  helloworld    replicated", columns) == (
        "vuv02ejgm02p",
        "helloworld",
        "replicated",
    )


def test_render_is_docker_layout() -> None:
    for name in [
        "06-node-ls.txt",
        "16-service-ps-drained.txt",
        "19-service-ls-empty.txt",
        "28-docker-ps.txt",
    ]:
        lines = _lines(name)
        (table,) = find_tables(lines)
        assert (
            render(table.names, [row.cells for row in table.rows]) == lines[table.start : table.end]
        )


def test_elision_markers_in_a_promised_table_but_rows_in_a_capture() -> None:
    lines = _lines("13-service-ps-5.txt")[:3]
    for marker in ["...", "…", "[...]", "<snip>"]:
        (table,) = find_tables([*lines, marker, _lines("13-service-ps-5.txt")[3]])
        assert len(table.rows) == 3 and table.elided == (2,)
        (captured,) = find_tables([*lines, marker], elisions=False)
        assert len(captured.rows) == 3 and captured.elided == ()
        (escaped,) = find_tables([*lines, marker], literal=frozenset({3}))
        assert len(escaped.rows) == 3 and escaped.elided == ()


# --------------------------------------------------------------------------- a title under a table


def _df_v(run: str = "engine-20.10-a") -> list[str]:
    return capture("system-df-v.txt", DATA / run).split("\n")


def test_a_title_right_under_a_table_ends_it() -> None:
    lines = _df_v()
    assert lines[4:6] == ["", "Containers space usage:"]
    del lines[4]  # the title now follows the images table's last row
    images = find_tables(lines)[0]
    assert [row.cells[0] for row in images.rows] == ["alpine"]
    assert lines[images.end] == "Containers space usage:"
    assert [table.names[0] for table in find_tables(lines)] == [
        "REPOSITORY",
        "CONTAINER ID",
        "VOLUME NAME",
        "CACHE ID",
    ]


def test_cells_that_overrun_a_column_with_its_own_cell_still_fit() -> None:
    header = "ID             NAME              MODE"
    columns = parse_header(header)
    assert columns is not None
    assert fits("xyz4567890ab    \\_ helloworld.1  replicated", columns)  # overruns MODE
    assert fits("abc123def456   helloworld.1", columns)  # MODE empty, not overrun
    assert fits("", columns)
    assert not fits("Build cache usage: 0B", columns)
    assert not fits("overall progress: 1 out of 1 tasks", columns)
    assert fits("xyz4567890ab \\_ helloworld.1 ...", columns)  # a row cut short by an elision


def test_a_header_right_under_a_table_starts_another() -> None:
    # ``docker service ps helloworld; docker ps`` in one step: two tables, no blank line
    m1 = DATA / "engine-20.10-m1"
    lines = (capture("service-ps.txt", m1) + "\n" + capture("docker-ps.txt", m1)).split("\n")
    first, second = find_tables(lines)
    assert [row.cells[1] for row in first.rows] == [f"helloworld.{n}" for n in (1, 2, 3)]
    assert second.start == first.end == 4 and second.names[0] == "CONTAINER ID"
    assert [row.cells[-1][:13] for row in second.rows] == [
        "helloworld.2.",
        "helloworld.3.",
        "helloworld.1.",
    ]


def test_none_cells_of_docker_images() -> None:
    (table,) = find_tables(capture("images-none.txt", DATA / "engine-20.10-m1").split("\n"))
    assert table.rows[1].cells[:3] == ("<none>", "<none>", "528e163fdea0")
    assert table.rows[0].cells[3] == "Less than a second ago"
