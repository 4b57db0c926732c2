"""Every load mode, in all four directions, against real DuckDB files and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from conftest import Side, replication_for
from typedrepl import TableResult
from typedrepl._plan import STATE_TABLE
from typedrepl._run import iter_replicate, replicate

DDL = "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR, updated_at TIMESTAMP)"
DDL_NO_KEY = "CREATE TABLE items (id INTEGER, name VARCHAR, updated_at TIMESTAMP)"


def day(n: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1) + dt.timedelta(days=n)


def rows(side: Side) -> list[tuple[object, ...]]:
    return side.execute("SELECT id, name, updated_at FROM items ORDER BY id, name")


def run_one(source: Side, destination: Side, **table: object) -> TableResult:
    (result,) = replicate(replication_for(source, destination, [{"name": "items", **table}]))
    return result


def test_full_refresh_creates_replaces_and_reruns_unchanged(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute(DDL)
    source.insert("items", [(1, "a", day(1)), (2, "b", day(2)), (3, "c", day(3))])

    first = run_one(source, destination, primary_key="id")
    assert first.created
    assert (first.rows_written, first.rows_in_destination) == (3, 3)
    assert rows(destination) == rows(source)
    assert [c.name for c in first.columns] == ["id", "name", "updated_at"]

    again = run_one(source, destination, primary_key="id")
    assert not again.created
    assert rows(destination) == rows(source)

    source.execute("DELETE FROM items WHERE id = 1")
    source.execute("UPDATE items SET name = 'B' WHERE id = 2")
    source.insert("items", [(4, "d", day(4))])
    third = run_one(source, destination, primary_key="id")
    assert third.rows_in_destination == 3
    assert rows(destination) == rows(source)
    key = destination.execute(
        "SELECT count(*) FROM information_schema.table_constraints "
        "WHERE table_name = 'items' AND constraint_type = 'PRIMARY KEY'"
    )
    assert key == [(1,)]


def test_full_refresh_of_an_empty_source_empties_the_target(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute(DDL)
    source.insert("items", [(1, "a", day(1))])
    run_one(source, destination)
    source.execute("DELETE FROM items")
    result = run_one(source, destination)
    assert (result.rows_written, result.rows_in_destination) == (0, 0)
    assert rows(destination) == []


def test_append_adds_every_row_on_each_run(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute(DDL_NO_KEY)
    source.insert("items", [(1, "a", day(1)), (2, "b", None)])
    assert run_one(source, destination, mode="append").rows_in_destination == 2
    result = run_one(source, destination, mode="append")
    assert (result.rows_written, result.rows_in_destination) == (2, 4)
    assert rows(destination) == sorted(rows(source) * 2, key=lambda r: (r[0], r[1]))


def test_merge_upserts_and_a_rerun_changes_nothing(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute(DDL)
    source.insert("items", [(1, "a", day(1)), (2, "b", day(2))])
    run_one(source, destination, mode="merge", primary_key="id")

    source.execute("UPDATE items SET name = 'B' WHERE id = 2")
    source.insert("items", [(3, "c", day(3))])
    source.execute("DELETE FROM items WHERE id = 1")
    result = run_one(source, destination, mode="merge", primary_key="id")
    assert result.rows_in_destination == 3
    # merge never deletes: row 1 stays
    assert rows(destination) == [(1, "a", day(1)), (2, "B", day(2)), (3, "c", day(3))]

    before = rows(destination)
    versions = _row_versions(destination)
    run_one(source, destination, mode="merge", primary_key="id")
    assert rows(destination) == before
    assert _row_versions(destination) == versions


def test_merge_of_a_table_that_is_all_key(sides: tuple[Side, Side]) -> None:
    """No column but the key: a merge inserts the new keys and leaves the others be."""
    source, destination = sides
    source.execute("CREATE TABLE items (id INTEGER, tag VARCHAR, PRIMARY KEY (id, tag))")
    source.insert("items", [(1, "a"), (2, "b")])
    table = {"mode": "merge", "primary_key": ["id", "tag"]}
    assert run_one(source, destination, **table).rows_in_destination == 2
    source.insert("items", [(1, "c")])
    result = run_one(source, destination, **table)
    assert (result.rows_written, result.rows_in_destination) == (3, 3)
    assert destination.execute("SELECT id, tag FROM items ORDER BY id, tag") == [
        (1, "a"),
        (1, "c"),
        (2, "b"),
    ]


def _row_versions(side: Side) -> list[tuple[object, ...]]:
    """PostgreSQL: each row's xmin (a rewritten row gets a new one); DuckDB: nothing."""
    if side.kind != "postgres":
        return []
    return side.execute("SELECT id, xmin::text FROM items ORDER BY id")


def test_incremental_loads_only_new_rows_and_keeps_the_cursor(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute(DDL)
    source.insert("items", [(1, "a", day(1)), (2, "b", day(2)), (3, "no cursor", None)])
    table = {"mode": "incremental", "primary_key": "id", "cursor": "updated_at"}

    first = run_one(source, destination, **table)
    assert first.rows_written == 2  # the NULL-cursor row is never loaded
    assert first.cursor == "2024-01-03 00:00:00"
    assert _state(destination) == [("items", "updated_at", "2024-01-03 00:00:00")]

    # a late row at the boundary value, a new row, and a change that keeps its cursor
    source.insert("items", [(4, "late", day(2)), (5, "e", day(5))])
    source.execute("UPDATE items SET name = 'A' WHERE id = 1")
    second = run_one(source, destination, **table)
    # >= the stored cursor: the boundary rows (2 and 4) and the new row 5
    assert second.rows_written == 3
    assert second.cursor == "2024-01-06 00:00:00"
    assert rows(destination) == [
        (1, "a", day(1)),
        (2, "b", day(2)),
        (4, "late", day(2)),
        (5, "e", day(5)),
    ]
    assert _state(destination) == [("items", "updated_at", "2024-01-06 00:00:00")]

    third = run_one(source, destination, **table)
    assert third.rows_in_destination == 4
    assert third.cursor == "2024-01-06 00:00:00"


def test_incremental_without_a_key_uses_strictly_greater(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute(DDL_NO_KEY)
    source.insert("items", [(1, "a", day(1)), (2, "b", day(2))])
    table = {"mode": "incremental", "cursor": "updated_at"}
    assert run_one(source, destination, **table).rows_written == 2
    source.insert("items", [(3, "c", day(3))])
    second = run_one(source, destination, **table)
    assert (second.rows_written, second.rows_in_destination) == (1, 3)
    assert run_one(source, destination, **table).rows_written == 0


def _state(side: Side) -> list[tuple[object, ...]]:
    return side.execute(
        f"SELECT table_name, cursor_column, cursor_value FROM {side.default_schema}.{STATE_TABLE}"  # noqa: S608
    )


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_batch_size_does_not_change_the_result(batch_size: int, sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute(DDL)
    source.insert("items", [(i, f"n{i}", day(i)) for i in range(7)])
    replication = replication_for(source, destination, [{"name": "items", "primary_key": "id"}])
    (result,) = list(iter_replicate(replication, batch_size=batch_size))
    assert isinstance(result, TableResult)
    assert result.rows_written == 7
    assert rows(destination) == rows(source)


def test_duckdb_to_the_same_duckdb_file(make_side: Callable[[str], Side]) -> None:
    side = make_side("duckdb")
    side.execute(DDL)
    side.insert("items", [(1, "a", day(1))])
    tables = [{"name": "items", "destination_schema": "copy", "mode": "merge", "primary_key": "id"}]
    for _ in range(2):
        (result,) = replicate(replication_for(side, side, tables))
    assert result.rows_in_destination == 1
    assert side.execute("SELECT * FROM copy.items") == rows(side)


# Per source kind: the table, the rows before, and the changed row 1 whose change the
# database's own equality calls none (-0.0 = 0.0, '1 month' = '30 days', [-0.0] = [0.0]).
# Row 1 is deleted and inserted again (the source's own UPDATE is not under test).
_LOOSE = {
    "duckdb": (
        "CREATE TABLE items (id INTEGER PRIMARY KEY, f DOUBLE, i INTERVAL, l DOUBLE[])",
        "INSERT INTO items VALUES (1, 0.0, INTERVAL '1 month', [0.0]), (2, 1.5, NULL, NULL)",
        "INSERT INTO items VALUES (1, '-0.0', INTERVAL '30 days', ['-0.0'::DOUBLE])",
    ),
    "postgres": (
        "CREATE TABLE items (id INTEGER PRIMARY KEY, f float8, i interval, l float8[])",
        "INSERT INTO items VALUES (1, 0.0, '1 month', '{0}'), (2, 1.5, NULL, NULL)",
        "INSERT INTO items VALUES (1, '-0', '30 days', '{-0}')",
    ),
}
_LOOSE_AFTER = {
    # DuckDB 2.0's INSERT ... ON CONFLICT DO UPDATE stores [0.0] where the new list is
    # [-0.0]: the DuckDB destination merges with MERGE INTO, which stores it.
    "duckdb": (
        "SELECT CAST(f AS VARCHAR), CAST(i AS VARCHAR), CAST(l AS VARCHAR) FROM items WHERE id = 1",
        [("-0.0", "30 days", "[-0.0]")],
    ),
    "postgres": (
        "SELECT f::text, i::text, l::text FROM items WHERE id = 1",
        [("-0", "30 days", "{-0}")],
    ),
}


def test_merge_takes_changes_that_compare_equal(sides: tuple[Side, Side]) -> None:
    """-0.0 = 0.0 and '1 month' = '30 days' to the database's equality, but they are other
    values: a merge must not skip them as unchanged (nor rewrite rows that did not change)."""
    source, destination = sides
    create, insert, update = _LOOSE[source.kind]
    source.execute(create)
    source.execute(insert)
    run_one(source, destination, primary_key="id", mode="merge")
    versions = _row_versions(destination)
    run_one(source, destination, primary_key="id", mode="merge")
    assert _row_versions(destination) == versions  # unchanged rows are not rewritten

    source.execute("DELETE FROM items WHERE id = 1")
    source.execute(update)
    run_one(source, destination, primary_key="id", mode="merge")
    query, want = _LOOSE_AFTER[destination.kind]
    assert destination.execute(query) == want
    if destination.kind == "postgres":  # only the changed row was rewritten
        changed = _row_versions(destination)
        assert changed[1] == versions[1]
        assert changed[0] != versions[0]
