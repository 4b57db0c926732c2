"""Streaming a DuckDB source: rows that need more memory than the cap, errors mid-stream.

The DuckDB source caps DuckDB's memory while it streams a file it opened itself
(``STREAM_MEMORY_LIMIT``, 64 MB), so that DuckDB evicts the blocks it has read. Wide
rows need more than that at once: 3000 values of 16,000 characters (DuckDB fails to
allocate 16 MiB with 56 MiB used), six values of 10 MB, one of 60 MB. The source reads
such a table again with a larger limit; when the rows needing it come after rows the
destination already has, a table is read on from the first row it does not have (its
rows come in the same order again), a view is refused (its rows might not).

An error DuckDB raises after the first rows were handed out reaches the run as the
same error as before them (it came as a bare ``OSError`` of the Arrow stream).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from conftest import Side, replication_for
from typedrepl import ReplicationError
from typedrepl._run import DEFAULT_BATCH_ROWS, replicate

WIDE = {
    "wide": "SELECT i AS id, repeat(chr(CAST(65 + i % 26 AS INTEGER)), 16000) AS s FROM range(3000) r(i)",
    "six": "SELECT i AS id, repeat('x', 10000000) AS s FROM range(6) r(i)",
    "one": "SELECT 1 AS id, repeat('y', 60000000) AS s",
}
FINGERPRINT = {
    "duckdb": "SELECT count(*), sum(length(s)), md5(string_agg(md5(s), '' ORDER BY id)) FROM t",
    "postgres": "SELECT count(*), sum(length(s)), md5(string_agg(md5(s), '' ORDER BY id)) FROM t",
}


def _fingerprint(side: Side) -> tuple[object, ...]:
    count, length, digest = side.execute(FINGERPRINT[side.kind])[0]
    return int(str(count)), int(str(length)), digest


@pytest.mark.parametrize(
    ("destination_kind", "table", "batch_size"),
    [
        ("postgres", "wide", None),
        ("postgres", "wide", 10),
        ("postgres", "six", None),
        ("postgres", "one", None),
        ("duckdb", "wide", None),
    ],
)
def test_rows_wider_than_the_streaming_cap_load_exactly(
    make_side: Callable[[str], Side], destination_kind: str, table: str, batch_size: int | None
) -> None:
    source, destination = make_side("duckdb"), make_side(destination_kind)
    source.execute(f"CREATE TABLE t AS {WIDE[table]}")
    replication = replication_for(source, destination, [{"name": "t"}])
    (result,) = replicate(replication, batch_size=batch_size or DEFAULT_BATCH_ROWS)
    assert result.rows_written == _fingerprint(source)[0]
    assert _fingerprint(destination) == _fingerprint(source)


@pytest.fixture(name="one_thread")
def fixture_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB scans with one thread: the wide rows are reached after the narrow rows before
    them were handed out, however many cores the machine has (with more threads, another
    thread would reach them while the first rows are read)."""
    connect = duckdb.connect

    def one_thread(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        return connect(*args, **{**kwargs, "config": {"threads": 1}})

    monkeypatch.setattr(duckdb, "connect", one_thread)


def _narrow_then_wide(source: Side, *, view: bool = False) -> None:
    """A row group of narrow rows, 3000 wide ones, then narrow rows again."""
    narrow = "SELECT {start} + i, CAST(i AS VARCHAR) FROM range({count}) r(i)"
    source.execute("CREATE TABLE rows (id BIGINT, s VARCHAR)")
    source.execute("INSERT INTO rows " + narrow.format(start=0, count=122880))
    source.execute(
        "INSERT INTO rows SELECT 122880 + i, repeat(chr(CAST(65 + i % 26 AS INTEGER)), 16000) "
        "FROM range(3000) r(i)"
    )
    source.execute("INSERT INTO rows " + narrow.format(start=125880, count=20000))
    source.execute(
        "CREATE VIEW t AS SELECT * FROM rows" if view else "ALTER TABLE rows RENAME TO t"
    )


@pytest.mark.usefixtures("one_thread")
def test_a_table_is_read_on_from_where_it_ran_out_of_memory(
    make_side: Callable[[str], Side], caplog: pytest.LogCaptureFixture
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    _narrow_then_wide(source)
    caplog.set_level(logging.INFO)
    (result,) = replicate(replication_for(source, destination, [{"name": "t"}]), batch_size=10000)
    again = [r.getMessage() for r in caplog.records if "reading it again" in r.getMessage()]
    assert len(again) == 1
    # the row count depends on how far DuckDB has read ahead: some batches, not all
    match = re.fullmatch(
        r"DuckDB ran out of memory reading the rows of main\.t after row (\d+) \(Out of Memory "
        r"Error: failed to allocate data of size .*\) with a memory limit of 61 MiB: reading "
        r"it again from row (\d+) with a limit of 244 MiB",
        again[0],
    )
    assert match is not None, again[0]
    handed = int(match[1])
    assert 0 < handed < 122880
    assert handed % 10000 == 0
    assert int(match[2]) == handed + 1
    assert result.rows_written == 145880
    assert _fingerprint(destination) == _fingerprint(source)
    assert destination.execute("SELECT count(DISTINCT id), min(id), max(id) FROM t") == [
        (145880, 0, 145879)
    ]


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("destination_kind", ["postgres", "duckdb"])
def test_a_view_out_of_memory_in_the_middle_is_an_error(
    make_side: Callable[[str], Side], destination_kind: str
) -> None:
    source, destination = make_side("duckdb"), make_side(destination_kind)
    _narrow_then_wide(source, view=True)
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [{"name": "t"}]), batch_size=10000)
    (failure,) = caught.value.failures
    assert re.match(
        r"table 't': cannot read the source table: DuckDB ran out of memory reading the rows "
        r"of main\.t after row [1-9]\d*0000 \(Out of Memory Error: failed to allocate data ",
        failure.error,
    ), failure.error
    assert failure.error.endswith(
        "with a memory limit of 61 MiB; a view cannot be read again from the middle (its rows "
        "may come in another order): copy its rows into a table and read that table instead"
    )
    assert not destination.exists(destination.default_schema, "t")


@pytest.mark.parametrize("destination_kind", ["postgres", "duckdb"])
def test_an_interval_refused_in_the_middle_of_the_stream_names_its_column(
    make_side: Callable[[str], Side], destination_kind: str
) -> None:
    source, destination = make_side("duckdb"), make_side(destination_kind)
    source.execute("CREATE TABLE t AS SELECT i AS id, to_seconds(i) AS iv FROM range(300000) r(i)")
    source.execute("INSERT INTO t VALUES (300000, INTERVAL '3000000 hours')")
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [{"name": "t"}]), batch_size=10000)
    (failure,) = caught.value.failures
    assert failure.error_type == "EngineError"
    assert failure.error == (
        "table 't', column 'iv': an INTERVAL whose hours, minutes and seconds add up to more "
        "than 2562047 hours (2^63 nanoseconds) cannot be copied exactly; set column_types: "
        "{iv: text} for this table, move the excess into days in a source view, or leave it "
        "out with exclude_columns (the destination was not changed) [source type INTERVAL]"
    )
    assert not destination.exists(destination.default_schema, "t")


def test_a_merge_refused_in_a_later_batch_leaves_a_duckdb_table_as_it_was(
    make_side: Callable[[str], Side],
) -> None:
    """All batches go to DuckDB as one stream in one statement: a value refused in the
    30th batch ends the load with the source's own error, the rows merged before it gone."""
    source, destination = make_side("duckdb"), make_side("duckdb")
    destination.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, iv INTERVAL)")
    destination.execute("INSERT INTO t SELECT i, to_seconds(i + 7) FROM range(0, 300000, 2) r(i)")
    before = destination.execute("SELECT count(*), sum(epoch(iv)), max(id) FROM t")
    source.execute("CREATE TABLE t AS SELECT i AS id, to_seconds(i) AS iv FROM range(300000) r(i)")
    source.execute("INSERT INTO t VALUES (300000, INTERVAL '3000000 hours')")
    replication = replication_for(
        source, destination, [{"name": "t", "mode": "merge", "primary_key": "id"}]
    )
    with pytest.raises(ReplicationError) as caught:
        replicate(replication, batch_size=10000)
    (failure,) = caught.value.failures
    assert failure.error.startswith("table 't', column 'iv': an INTERVAL whose hours"), failure
    assert destination.execute("SELECT count(*), sum(epoch(iv)), max(id) FROM t") == before

    source.execute("DELETE FROM t WHERE id = 300000")
    (result,) = replicate(replication, batch_size=10000)
    assert (result.rows_written, result.rows_in_destination) == (300000, 300000)
    assert destination.execute("SELECT count(*), sum(epoch(iv)) = sum(id), max(id) FROM t") == [
        (300000, True, 299999)
    ]


@pytest.mark.parametrize("mode", ["full_refresh", "merge", "append"])
def test_a_table_copied_within_one_duckdb_file_in_many_batches(tmp_path: Any, mode: str) -> None:
    """Source and destination the same file: the destination's one statement reads the
    stream the source reads from the same database, batch after batch."""
    from typedrepl import load_replication

    path = str(tmp_path / "one.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE TABLE src AS SELECT i AS id, 'v' || i AS s FROM range(250000) r(i)")
        con.execute("CREATE TABLE dst (id BIGINT PRIMARY KEY, s VARCHAR)")
        # old rows: every third id, moved out of the source's ids for an append
        shift = 1_000_000 if mode == "append" else 0
        con.execute("INSERT INTO dst SELECT id + ?, 'old' FROM src WHERE id % 3 = 0", [shift])
    side = {"type": "duckdb", "connection": path}
    replication = load_replication(
        {
            "connections": {"source": side, "destination": side},
            "tables": [
                {"name": "src", "destination_table": "dst", "mode": mode, "primary_key": "id"}
            ],
        }
    )
    (result,) = replicate(replication, batch_size=7000)
    expected = {"full_refresh": 250000, "merge": 250000, "append": 250000 + 83334}[mode]
    assert (result.rows_written, result.rows_in_destination) == (250000, expected)
    with duckdb.connect(path) as con:
        got = con.execute(
            "SELECT count(*), count(DISTINCT id), bool_and(s = 'v' || id) FROM dst WHERE id < 250000"
        ).fetchall()
    assert got == [(250000, 250000, True)]
