"""The incremental cursor across modes and types: no row twice, no run that fails for good."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from conftest import Side, replication_for
from typedrepl import ReplicationError
from typedrepl._plan import STATE_TABLE, plan
from typedrepl._run import replicate

FULL = {"name": "ev"}
INCREMENTAL = {"name": "ev", "mode": "incremental", "cursor": "id"}


def _ids(side: Side) -> list[object]:
    return [row[0] for row in side.execute("SELECT id FROM ev ORDER BY id")]


def _state(side: Side) -> list[tuple[object, ...]]:
    if not side.exists(side.default_schema, STATE_TABLE):
        return []
    return side.execute(
        f"SELECT table_name, cursor_column, cursor_value FROM {STATE_TABLE} ORDER BY 1"  # noqa: S608
    )


def _failure(source: Side, destination: Side, table: Mapping[str, object]) -> str:
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [table]))
    (failure,) = caught.value.failures
    assert failure.table == table["name"]
    return failure.error


def _refusal(destination: Side) -> str:
    schema = destination.default_schema
    return (
        f"{schema}.ev has rows but no stored cursor: incremental without a primary key would "  # noqa: S608
        "append them all again (a full_refresh forgets the cursor, other modes store none); "
        "empty the table to load every row, set primary_key to upsert the rows instead, or "
        f"store the last value loaded: INSERT INTO {schema}.{STATE_TABLE} (table_name, "
        "cursor_column, cursor_value, updated_at) VALUES ('ev', 'id', '<last id>', now())"
    )


def test_incremental_without_a_key_into_a_full_refreshed_table_is_refused(
    sides: tuple[Side, Side],
) -> None:
    source, destination = sides
    source.execute("CREATE TABLE ev (id INTEGER, v VARCHAR)")
    source.insert("ev", [(1, "a"), (2, "b"), (3, "c")])
    replicate(replication_for(source, destination, [FULL]))

    (planned,) = plan(replication_for(source, destination, [INCREMENTAL]))
    assert planned.describe() == "error: " + _refusal(destination)
    error = _failure(source, destination, INCREMENTAL)
    assert error == "table 'ev': " + _refusal(destination)
    assert _ids(destination) == [1, 2, 3]  # not appended again
    assert _state(destination) == []


def test_full_refresh_forgets_the_stored_cursor(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE ev (id INTEGER, v VARCHAR)")
    source.insert("ev", [(1, "a"), (2, "b"), (3, "c")])
    replicate(replication_for(source, destination, [INCREMENTAL]))
    assert _state(destination) == [("ev", "id", "3")]
    source.insert("ev", [(4, "d"), (5, "e")])

    (planned,) = plan(replication_for(source, destination, [FULL]))
    assert (
        planned.describe() == f"replace {destination.default_schema}.ev; forget the stored cursor"
    )
    assert any("DELETE FROM" in s and STATE_TABLE in s for s in planned.ddl)
    replicate(replication_for(source, destination, [FULL]))
    assert _state(destination) == []  # the state described the rows just replaced
    assert _ids(destination) == [1, 2, 3, 4, 5]

    assert _failure(source, destination, INCREMENTAL) == "table 'ev': " + _refusal(destination)
    assert _ids(destination) == [1, 2, 3, 4, 5]  # 4 and 5 not appended again

    # the way out the error gives: store the last value loaded
    destination.execute(_refusal(destination).rsplit(": ", 1)[1].replace("<last id>", "5"))
    source.insert("ev", [(6, "f")])
    (result,) = replicate(replication_for(source, destination, [INCREMENTAL]))
    assert (result.rows_written, result.cursor) == (1, "6")
    assert _ids(destination) == [1, 2, 3, 4, 5, 6]


def test_full_refresh_then_incremental_into_an_empty_table_loads_every_row(
    sides: tuple[Side, Side],
) -> None:
    source, destination = sides
    source.execute("CREATE TABLE ev (id INTEGER, v VARCHAR)")
    replicate(replication_for(source, destination, [FULL]))
    source.insert("ev", [(1, "a"), (2, "b")])
    (planned,) = plan(replication_for(source, destination, [INCREMENTAL]))
    assert planned.describe() == "incremental: every row (cursor id)"
    (result,) = replicate(replication_for(source, destination, [INCREMENTAL]))
    assert (result.rows_written, result.cursor) == (2, "2")
    assert _ids(destination) == [1, 2]


def test_with_a_key_incremental_after_a_full_refresh_upserts_every_row(
    sides: tuple[Side, Side],
) -> None:
    source, destination = sides
    source.execute("CREATE TABLE ev (id INTEGER, v VARCHAR)")
    source.insert("ev", [(1, "a"), (2, "b"), (3, "c")])
    keyed = {**INCREMENTAL, "primary_key": "id"}
    replicate(replication_for(source, destination, [keyed]))
    source.insert("ev", [(4, "d"), (5, "e")])
    replicate(replication_for(source, destination, [{**FULL, "primary_key": "id"}]))
    assert _state(destination) == []
    (planned,) = plan(replication_for(source, destination, [keyed]))
    assert planned.describe() == "incremental: every row (cursor id); upsert on (id)"
    source.insert("ev", [(6, "f")])
    (result,) = replicate(replication_for(source, destination, [keyed]))
    assert (result.rows_written, result.cursor) == (6, "6")
    assert _ids(destination) == [1, 2, 3, 4, 5, 6]


# uuid order is byte order, which is the order of the canonical (lowercase) text; values
# on both sides of the sign bit of each half catch a signed comparison.
UUIDS = [
    "00000000-0000-0000-0000-000000000001",
    "7fffffff-ffff-ffff-7fff-ffffffffffff",
    "80000000-0000-0000-8000-000000000000",
    "0fffffff-ffff-ffff-ffff-ffffffffffff",
]
LATER = ["fffffffe-0000-0000-0000-000000000000", "a0000000-0000-0000-0000-000000000000"]
EARLIER = ["70000000-0000-0000-0000-000000000000"]


@pytest.mark.parametrize("key", [False, True], ids=["no key", "key"])
def test_uuid_cursor(sides: tuple[Side, Side], key: bool) -> None:
    source, destination = sides
    source.execute("CREATE TABLE ev (id UUID, n INTEGER)")
    source.insert("ev", [(u, i) for i, u in enumerate(UUIDS)])
    table: dict[str, object] = {**INCREMENTAL, **({"primary_key": "id"} if key else {})}

    (first,) = replicate(replication_for(source, destination, [table]))
    assert (first.rows_written, first.cursor) == (4, "80000000-0000-0000-8000-000000000000")
    source.insert("ev", [(u, 10) for u in [*LATER, *EARLIER]])
    (planned,) = plan(replication_for(source, destination, [table]))
    assert planned.cursor_from == "80000000-0000-0000-8000-000000000000"
    (second,) = replicate(replication_for(source, destination, [table]))
    assert second.rows_written == 2 + key  # with a key, >= re-reads the boundary row
    assert second.cursor == "fffffffe-0000-0000-0000-000000000000"
    (third,) = replicate(replication_for(source, destination, [table]))
    assert (third.rows_written, third.cursor) == (int(key), second.cursor)
    found = sorted(str(row[0]) for row in destination.execute("SELECT id FROM ev"))
    assert found == sorted([*UUIDS, *LATER])


ENUMS = {
    "duckdb": (
        ["CREATE TABLE ev (id INTEGER, status ENUM('new', 'done'))"],
        "ENUM('new', 'done')",
    ),
    "postgres": (
        [
            """CREATE TYPE "Mood" AS ENUM ('new', 'done')""",
            """CREATE TABLE ev (id INTEGER, status "Mood")""",
        ],
        '"Mood"',
    ),
}


@pytest.mark.parametrize("source_kind", ["duckdb", "postgres"])
@pytest.mark.parametrize("destination_kind", ["duckdb", "postgres"])
def test_an_enum_cursor_is_refused_before_any_load(
    make_side: Callable[[str], Side], source_kind: str, destination_kind: str
) -> None:
    source, destination = make_side(source_kind), make_side(destination_kind)
    statements, shown = ENUMS[source_kind]
    for statement in statements:
        source.execute(statement)
    # declared 'new' before 'done': its order is not the order of its text
    source.insert("ev", [(1, "new"), (2, "done")])
    table = {"name": "ev", "mode": "incremental", "cursor": "status"}
    expected = (
        f"cursor 'status' has the enum type {shown}, which cannot be a cursor: an enum is "
        "ordered by the declaration of its values, not by their text (use a number, text, "
        "date, time, timestamp or uuid column)"
    )
    (planned,) = plan(replication_for(source, destination, [table]))
    assert (planned.error, planned.error_column) == (expected, "status")
    error = _failure(source, destination, table)
    assert error == "table 'ev', column 'status': " + expected
    assert not destination.exists(destination.default_schema, "ev")
