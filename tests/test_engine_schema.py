"""Schema handling: drift, column selection, schemas and awkward identifiers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Side, replication_for
from typedrepl import ReplicationError
from typedrepl._plan import plan
from typedrepl._run import replicate


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.mark.parametrize("mode", ["append", "merge", "incremental"])
def test_drift_adds_new_columns_and_keeps_gone_ones(sides: tuple[Side, Side], mode: str) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR, gone INTEGER)")
    source.insert("t", [(1, "x", 10)])
    table = {"name": "t", "mode": mode, "primary_key": "id"}
    if mode == "incremental":
        table["cursor"] = "id"
    if mode == "append":
        table.pop("primary_key")
    replicate(replication_for(source, destination, [table]))

    source.execute("ALTER TABLE t DROP COLUMN gone")
    source.execute("ALTER TABLE t ADD COLUMN added BIGINT")
    source.insert("t", [(2, "y", 20)])
    (result,) = replicate(replication_for(source, destination, [table]))
    assert result.added_columns == ("added",)
    assert [c.name for c in result.columns] == ["id", "a", "gone", "added"]
    got = destination.execute("SELECT id, a, gone, added FROM t ORDER BY id")
    if mode == "append":
        assert got == [(1, "x", 10, None), (1, "x", None, None), (2, "y", None, 20)]
    else:
        assert got == [(1, "x", 10, None), (2, "y", None, 20)]


@pytest.mark.parametrize("mode", ["append", "merge"])
def test_type_change_is_a_clear_error_and_changes_nothing(
    sides: tuple[Side, Side], mode: str
) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    source.insert("t", [(1, 5)])
    table = {"name": "t", "mode": mode, "primary_key": "id"}
    replicate(replication_for(source, destination, [table]))
    source.execute("ALTER TABLE t ALTER COLUMN v TYPE VARCHAR")
    source.insert("t", [(2, "text")])
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [table]))
    (failure,) = caught.value.failures
    assert "type change" in failure.error
    assert "column 'v'" in failure.error
    assert destination.execute("SELECT id, v FROM t") == [(1, 5)]


def test_full_refresh_recreates_on_a_type_change(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    source.insert("t", [(1, 5)])
    replicate(replication_for(source, destination, [{"name": "t", "primary_key": "id"}]))
    source.execute("ALTER TABLE t ALTER COLUMN v TYPE VARCHAR")
    (result,) = replicate(
        replication_for(source, destination, [{"name": "t", "primary_key": "id"}])
    )
    assert result.columns[1].type.lower() in ("text", "varchar")
    assert destination.execute("SELECT id, v FROM t") == [(1, "5")]


def test_columns_and_exclude_columns_select_what_is_copied(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER, a INTEGER, b INTEGER, secret VARCHAR)")
    source.insert("t", [(1, 2, 3, "pw")])
    picked = {"name": "t", "columns": ["b", "id"], "destination_table": "picked"}
    rest = {"name": "t", "exclude_columns": "secret", "destination_table": "rest"}
    replicate(replication_for(source, destination, [picked]))
    replicate(replication_for(source, destination, [rest]))
    assert destination.execute("SELECT * FROM picked") == [(3, 1)]
    assert destination.execute("SELECT * FROM rest") == [(1, 2, 3)]


def test_unknown_column_in_the_config_is_an_error(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(ReplicationError, match="'nope' not found in the source table"):
        replicate(replication_for(source, destination, [{"name": "t", "exclude_columns": "nope"}]))


AWKWARD = ['we"ird col', "Select", "größe_😀", "MixedCase", "with space", "50% off?", "%s"]


@pytest.mark.parametrize("mode", ["merge", "incremental"])
def test_awkward_identifiers_are_kept_exactly(sides: tuple[Side, Side], mode: str) -> None:
    source, destination = sides
    schema, table = 'src "schema" %a', 'we"ird %s tbl?'
    source.execute(f"CREATE SCHEMA {_q(schema)}")
    columns = ", ".join(f"{_q(c)} INTEGER" for c in AWKWARD)
    source.execute(
        f"CREATE TABLE {_q(schema)}.{_q(table)} ({columns}, PRIMARY KEY ({_q('Select')}))"
    )
    values = ", ".join(str(i) for i in range(len(AWKWARD)))
    source.execute(f"INSERT INTO {_q(schema)}.{_q(table)} VALUES ({values})")  # noqa: S608
    config = {
        "name": table,
        "source_schema": schema,
        "destination_schema": "Dest % Schema",
        "destination_table": "Target.Table",
        "primary_key": "Select",
        "mode": mode,
    }
    if mode == "incremental":
        config["cursor"] = "50% off?"
    for _ in range(2):
        (result,) = replicate(replication_for(source, destination, [config]))
    assert result.destination == "Dest % Schema.Target.Table"
    assert [c.name for c in result.columns] == AWKWARD
    target = f"{_q('Dest % Schema')}.{_q('Target.Table')}"
    got = destination.execute(f"SELECT * FROM {target}")  # noqa: S608
    assert got == [tuple(range(len(AWKWARD)))]


def test_unmappable_type_fails_before_any_row_moves(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, ok VARCHAR, nanos TIMESTAMP_NS)")
    source.execute("INSERT INTO t VALUES (1, 'a', TIMESTAMP_NS '2024-01-01 00:00:00.123456789')")
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [{"name": "t"}]))
    (failure,) = caught.value.failures
    assert "table 't', column 'nanos'" in failure.error
    assert "TIMESTAMP_NS" in failure.error
    assert not destination.exists("public", "t")


def test_missing_source_table_is_an_error(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE other (id INTEGER)")
    with pytest.raises(ReplicationError, match="does not exist"):
        replicate(replication_for(source, destination, [{"name": "t"}]))


@pytest.mark.parametrize("mode", ["full_refresh", "merge", "incremental"])
def test_a_duckdb_schema_named_like_its_file(tmp_path: Path, mode: str) -> None:
    """``raw.duckdb`` holds the catalog ``raw``: a schema ``raw`` in it is no ambiguous
    reference (DuckDB's "use a fully qualified path like 'raw.raw'"), on either side."""
    source = Side("duckdb", str(tmp_path / "raw.duckdb"))
    destination = Side("duckdb", str(tmp_path / "copy.duckdb"))
    source.execute("CREATE SCHEMA raw")
    source.execute(
        "CREATE TABLE raw.raw.users AS SELECT range AS id, 'n' || range AS v FROM range(3)"
    )
    config: dict[str, object] = {
        "name": "users",
        "source_schema": "raw",
        "destination_schema": "copy",
        "mode": mode,
        "primary_key": "id",
    }
    if mode == "incremental":
        config["cursor"] = "id"
    assert [p.describe() for p in plan(replication_for(source, destination, [config]))] == [
        {
            "full_refresh": "create copy.users; load",
            "merge": "create copy.users; merge on (id)",
            "incremental": "create copy.users; incremental: every row (cursor id); upsert on (id)",
        }[mode]
    ]
    replicate(replication_for(source, destination, [config]))
    destination.execute('CREATE INDEX "v index" ON "copy"."copy"."users" (v)')
    source.execute("INSERT INTO raw.raw.users VALUES (3, 'n3')")
    (result,) = replicate(replication_for(source, destination, [config]))
    assert result.rows_in_destination == 4
    assert destination.execute('SELECT count(*) FROM "copy"."copy"."users"') == [(4,)]
    # a full refresh gave the new table the index back, named with its catalog
    assert destination.execute(
        "SELECT index_name FROM duckdb_indexes() WHERE table_name = 'users'"
    ) == [("v index",)]
