"""Hostile input: each case asserts the exact outcome (and that nothing changed when it fails).

Catalogue (cases proven by existing tests are referenced, not repeated):

 1. duplicate / NULL single-column key under merge and incremental, 4 directions:
    ``test_engine_errors.py::test_bad_keys_fail_before_the_destination_changes``
 2. duplicate / NULL composite key, sample keys named: ``test_composite_key_problems_name_sample_keys``
 3. duplicates only among the rows past the cursor: ``test_duplicates_in_the_incremental_window``
 4. NULL key under full_refresh: ``test_null_key_under_full_refresh_keeps_the_old_table``
 5. NUL in text with a key: ``test_engine_errors.py::test_nul_in_text_for_postgres_names_table_column_and_key``
 6. NUL in text without a key (row named): ``test_nul_without_a_key_names_the_row``
 7. NUL in a list element and in a STRUCT field: ``test_nul_inside_lists_and_structs``
 8. quotes, dots, spaces, mixed case, keywords, unicode under merge/incremental:
    ``test_engine_schema.py::test_awkward_identifiers_are_kept_exactly``
 9. the same under full_refresh and append: ``test_awkward_identifiers_in_every_mode``
10. configured names over 63 bytes: ``test_configured_names_over_63_bytes_are_refused``
11. source column names over 63 bytes: ``test_long_source_column_names_are_refused``
12. names colliding after truncation (primary key index names): ``test_primary_keys_of_tables_sharing_a_long_prefix``
13. names differing only in case, into DuckDB: ``test_names_differing_only_in_case_into_duckdb``
14. source table missing: ``test_engine_schema.py::test_missing_source_table_is_an_error``
15. source schema missing: ``test_missing_source_schema``
16. destination schema missing (created): ``test_missing_destination_schema_is_created``
17. column type changed under append/merge: ``test_engine_schema.py::test_type_change_is_a_clear_error_and_changes_nothing``
18. column type changed under incremental: ``test_type_change_under_incremental``
19. empty source under full_refresh: ``test_empty_source_empties_the_table_and_keeps_its_key``
20. source not a DuckDB file / a directory / an empty file / missing: ``test_source_that_is_not_a_duckdb_file``
21. wrong password / closed port for the destination: ``test_engine_errors.py::test_passwords_never_appear_in_errors``,
    ``test_engine_faults.py::test_connect_errors_end_in_bounded_time``
22. wrong password / closed port for the source: ``test_source_connection_errors_are_bounded_and_redacted``
23. two runs of the same table at once (two processes): ``test_two_processes_load_the_same_table_at_once``
24. a permanent data error is not retried: ``test_a_permanent_error_is_attempted_once``
25. the reserved state table name: ``test_reserved_state_table_name``
26. a view in the way of full_refresh: ``test_a_view_with_the_target_name``
27. objects depending on the table under full_refresh: ``test_dependent_view_blocks_full_refresh``
28. a tampered stored cursor: ``test_tampered_cursor_is_an_error``
29. text cursor values with quotes and ``%``: ``test_text_cursor_with_quotes_and_percent``
30. merge into a table without a primary key: ``test_merge_into_a_table_without_a_key``
31. a PostgreSQL table without columns: ``test_table_without_columns``
32. a 16 MB text value: ``test_a_huge_value_is_exact``
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from conftest import Side, replication_for
from typedrepl import ConfigError, EngineError, ReplicationError, TableResult, load_replication
from typedrepl._run import iter_replicate, replicate
from typedrepl.errors import TableFailure

HARNESS = Path(__file__).parent / "_crash_harness.py"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _failure(source: Side, destination: Side, tables: list[dict[str, object]]) -> str:
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, tables))
    (failure,) = caught.value.failures
    return failure.error


def _snapshot(side: Side, table: str = "t") -> list[tuple[object, ...]]:
    return sorted(side.execute(f"SELECT * FROM {table}"), key=repr)  # noqa: S608


@pytest.mark.parametrize("mode", ["merge", "incremental"])
@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            [(1, "x", "x-dup"), (1, "x", "x-again")],
            "duplicate primary key: (a=1, b=x) appears 2 times",
        ),
        ([(2, None, "x-half a key")], "1 row(s) have a NULL primary key (a, b)"),
    ],
    ids=["duplicate", "null"],
)
def test_composite_key_problems_name_sample_keys(
    make_side: Callable[[str], Side], mode: str, bad: list[tuple[object, ...]], expected: str
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (a INTEGER, b VARCHAR, v VARCHAR)")
    source.insert("t", [(0, "ok", "first")])
    table: dict[str, object] = {"name": "t", "mode": mode, "primary_key": ["a", "b"]}
    if mode == "incremental":
        table["cursor"] = "v"
    replicate(replication_for(source, destination, [table]))
    before = _snapshot(destination)
    source.insert("t", bad)
    error = _failure(source, destination, [table])
    assert error.startswith("table 't': ")
    assert expected in error
    assert "the destination was not changed" in error
    assert _snapshot(destination) == before


def test_duplicates_in_the_incremental_window(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, n INTEGER)")
    source.insert("t", [(1, 1), (2, 2)])
    table: dict[str, object] = {
        "name": "t",
        "mode": "incremental",
        "primary_key": "id",
        "cursor": "n",
    }
    replicate(replication_for(source, destination, [table]))
    source.insert("t", [(3, 5), (3, 6)])
    assert "duplicate primary key: (id=3) appears 2 times" in _failure(source, destination, [table])
    assert _snapshot(destination) == [(1, 1), (2, 2)]
    assert destination.execute("SELECT cursor_value FROM _typedrepl_state") == [("2",)]


def test_null_key_under_full_refresh_keeps_the_old_table(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, v VARCHAR)")
    source.insert("t", [(1, "a")])
    replicate(replication_for(source, destination, [{"name": "t", "primary_key": "id"}]))
    source.insert("t", [(None, "no key")])
    error = _failure(source, destination, [{"name": "t", "primary_key": "id"}])
    assert "table 't'" in error
    assert '"id"' in error or "id" in error
    assert "null" in error.lower()
    assert _snapshot(destination) == [(1, "a")]


def test_nul_without_a_key_names_the_row(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (n INTEGER, note VARCHAR)")
    source.insert("t", [(1, "old")])
    replicate(replication_for(source, destination, [{"name": "t", "mode": "append"}]))
    source.execute("DELETE FROM t")
    source.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c' || chr(0))")
    error = _failure(source, destination, [{"name": "t", "mode": "append"}])
    assert error.startswith("table 't', column 'note': text holding a NUL character")
    assert "at row 3 of the load" in error
    assert "exclude_columns" in error
    assert _snapshot(destination) == [(1, "old")]


@pytest.mark.parametrize(
    ("type_", "value", "phrase"),
    [
        ("VARCHAR[]", "['fine', 'bad' || chr(0)]", "NUL character"),
        ("STRUCT(s VARCHAR)", "{'s': 'bad' || chr(0)}", "Unicode escape"),
    ],
)
def test_nul_inside_lists_and_structs(
    make_side: Callable[[str], Side], type_: str, value: str, phrase: str
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, x {type_})")
    source.execute(f"INSERT INTO t VALUES (4, {value})")  # noqa: S608
    error = _failure(source, destination, [{"name": "t", "primary_key": "id"}])
    assert error.startswith("table 't', column 'x': ")
    assert phrase in error
    assert "at row 1 of the load" in error
    assert not destination.exists("public", "t")


AWKWARD = ['we"ird', "dot.ted", "with space", "MixedCase", "select", "größe_😀"]


@pytest.mark.parametrize("mode", ["full_refresh", "append"])
def test_awkward_identifiers_in_every_mode(sides: tuple[Side, Side], mode: str) -> None:
    source, destination = sides
    schema, table = 'Sch."ema', 'Ta.ble "x"'
    source.execute(f"CREATE SCHEMA {_q(schema)}")
    columns = ", ".join(f"{_q(c)} INTEGER" for c in AWKWARD)
    source.execute(f"CREATE TABLE {_q(schema)}.{_q(table)} ({columns})")
    source.execute(f"INSERT INTO {_q(schema)}.{_q(table)} VALUES (0, 1, 2, 3, 4, 5)")  # noqa: S608
    config: dict[str, object] = {
        "name": table,
        "source_schema": schema,
        "destination_schema": "Dést.Schema",
        "mode": mode,
    }
    if mode == "full_refresh":
        config["primary_key"] = "select"
    for _ in range(2):
        (result,) = replicate(replication_for(source, destination, [config]))
    assert [c.name for c in result.columns] == AWKWARD
    got = destination.execute(f"SELECT * FROM {_q('Dést.Schema')}.{_q(table)}")  # noqa: S608
    assert got == [(0, 1, 2, 3, 4, 5)] * (2 if mode == "append" else 1)


def test_configured_names_over_63_bytes_are_refused(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    long_name = "é" * 32  # 64 bytes
    with pytest.raises(ConfigError) as caught:
        replication_for(source, destination, [{"name": long_name}])
    assert "63" in str(caught.value)
    assert "tables[0].name" in str(caught.value)


def test_long_source_column_names_are_refused(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    long_a, long_b = "c" * 63 + "_a", "c" * 63 + "_b"  # the same 63-byte prefix
    source.execute(f"CREATE TABLE t (id INTEGER, {long_a} INTEGER, {long_b} INTEGER)")
    source.execute("INSERT INTO t VALUES (1, 2, 3)")
    error = _failure(source, destination, [{"name": "t"}])
    assert error.startswith(f"table 't', column {long_a!r}: ")
    assert long_b in error
    assert "longer than 63 bytes" in error
    assert "exclude_columns" in error
    assert not destination.exists("public", "t")
    # the way out: rename them in a source view
    source.execute(f"CREATE VIEW renamed AS SELECT id, {long_a} AS a, {long_b} AS b FROM t")  # noqa: S608
    (result,) = replicate(replication_for(source, destination, [{"name": "renamed"}]))
    assert [c.name for c in result.columns] == ["id", "a", "b"]


def test_primary_keys_of_tables_sharing_a_long_prefix(make_side: Callable[[str], Side]) -> None:
    """Both primary keys would be named <the same 58 bytes>_pkey: the second gets _pkey1."""
    source, destination = make_side("duckdb"), make_side("postgres")
    names = ["t" * 58 + "_one", "t" * 58 + "_two"]
    for name in names:
        source.execute(f"CREATE TABLE {name} (id INTEGER, v INTEGER)")
        source.execute(f"INSERT INTO {name} VALUES (1, 2)")  # noqa: S608
    tables: list[dict[str, object]] = [{"name": n, "primary_key": "id"} for n in names]
    for _ in range(2):
        results = replicate(replication_for(source, destination, tables))
        assert [r.rows_in_destination for r in results] == [1, 1]
    keys = destination.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE contype = 'p' AND connamespace = 'public'::regnamespace ORDER BY 1"
    )
    assert [k[1] for k in keys] == ["t" * 58 + "_pkey", "t" * 57 + "_pkey1"]


def test_names_differing_only_in_case_into_duckdb(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("postgres"), make_side("duckdb")
    source.execute('CREATE TABLE "T" (id integer)')
    source.execute('INSERT INTO "T" VALUES (1)')
    source.execute('CREATE TABLE t (id integer, "ID" integer)')
    # DuckDB takes "T" and "t" for one table: the config says so before anything runs
    with pytest.raises(ConfigError) as caught:
        replication_for(source, destination, [{"name": "T"}, {"name": "t"}])
    assert [str(i) for i in caught.value.issues] == [
        "<config>: tables[1]: destination table 't' is also written by tables[0]"
    ]
    # one of them, renamed in the destination, is copied
    config = [{"name": "T"}, {"name": "t", "destination_table": "t_lower"}]
    outcomes = list(iter_replicate(replication_for(source, destination, config)))
    assert isinstance(outcomes[0], TableResult)
    assert isinstance(outcomes[1], TableFailure)  # its columns "id" and "ID" clash in DuckDB
    assert destination.execute('SELECT * FROM "T"') == [(1,)]


def test_missing_source_schema(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER)")
    error = _failure(source, destination, [{"name": "t", "source_schema": "nowhere"}])
    assert error == "table 't': source table nowhere.t does not exist" + (
        " (or has no columns)" if source.kind == "postgres" else ""
    )


def test_missing_destination_schema_is_created(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER)")
    source.insert("t", [(1,)])
    (result,) = replicate(
        replication_for(source, destination, [{"name": "t", "destination_schema": "fresh"}])
    )
    assert result.destination == "fresh.t"
    assert destination.execute("SELECT * FROM fresh.t") == [(1,)]


def test_type_change_under_incremental(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, v INTEGER)")
    source.insert("t", [(1, 5)])
    table: dict[str, object] = {
        "name": "t",
        "mode": "incremental",
        "primary_key": "id",
        "cursor": "id",
    }
    replicate(replication_for(source, destination, [table]))
    source.execute("ALTER TABLE t ALTER COLUMN v TYPE DOUBLE")
    source.insert("t", [(2, 1.5)])
    error = _failure(source, destination, [table])
    assert error.startswith("table 't', column 'v': type change: column 'v' is integer")
    assert "full_refresh" in error
    assert _snapshot(destination) == [(1, 5)]


def test_empty_source_empties_the_table_and_keeps_its_key(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, v VARCHAR)")
    source.insert("t", [(1, "a"), (2, "b")])
    replicate(replication_for(source, destination, [{"name": "t", "primary_key": "id"}]))
    source.execute("DELETE FROM t")
    (result,) = replicate(
        replication_for(source, destination, [{"name": "t", "primary_key": "id"}])
    )
    assert (result.rows_written, result.rows_in_destination) == (0, 0)
    assert _snapshot(destination) == []
    assert destination.execute(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'p'"
    ) == [(1,)]


@pytest.mark.parametrize("kind", ["text file", "directory", "empty file", "missing"])
def test_source_that_is_not_a_duckdb_file(
    make_side: Callable[[str], Side], tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "source.duckdb"
    if kind == "text file":
        path.write_text("id,name\n1,a\n" * 100)
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty file":
        path.write_bytes(b"")
    destination = make_side("postgres")
    started = time.monotonic()
    error = _failure(Side("duckdb", str(path)), destination, [{"name": "t"}])
    assert time.monotonic() - started < 10
    assert error.startswith("table 't': ")
    if kind == "missing":
        assert "does not exist" in error
    else:
        assert f"cannot open DuckDB file {str(path)!r}" in error
    assert not destination.exists("public", "t")


@pytest.mark.parametrize("problem", ["wrong password", "closed port"])
def test_source_connection_errors_are_bounded_and_redacted(
    make_side: Callable[[str], Side], postgres_url: str, problem: str
) -> None:
    parts = urlsplit(postgres_url)
    secret = "Wr0ng-s3cret-" + problem.replace(" ", "-")
    port = parts.port if problem == "wrong password" else 1
    url = urlunsplit(parts._replace(netloc=f"{parts.username}:{secret}@127.0.0.1:{port}"))
    destination = make_side("duckdb")
    started = time.monotonic()
    (failure,) = list(
        iter_replicate(replication_for(Side("postgres", url), destination, [{"name": "t"}]))
    )
    assert time.monotonic() - started < 15
    assert isinstance(failure, TableFailure)
    assert failure.error.startswith("table 't': cannot connect to postgresql://")
    assert secret not in failure.error
    assert (
        "password authentication failed" if problem == "wrong password" else "refused"
    ) in failure.error


@pytest.mark.parametrize("mode", ["full_refresh", "merge"])
def test_two_processes_load_the_same_table_at_once(
    make_side: Callable[[str], Side], tmp_path: Path, mode: str
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute(
        "CREATE TABLE t AS SELECT range AS id, 'row ' || range AS label FROM range(100000)"
    )
    config = tmp_path / "replication.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "connections": {"source": source.config(), "destination": destination.config()},
                "tables": [{"name": "t", "mode": mode, "primary_key": "id"}],
            }
        )
    )
    command = [sys.executable, str(HARNESS), str(config), json.dumps({"batch_size": 10_000})]
    children = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    assert destination.execute("SELECT count(*), count(DISTINCT id), max(label) FROM t") == [
        (100000, 100000, "row 99999")
    ]
    assert (
        destination.execute("SELECT relname FROM pg_class WHERE relname LIKE '\\_typedrepl\\_%'")
        == []
    )


def test_a_permanent_error_is_attempted_once(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER)")
    source.insert("t", [(1,)])
    destination.execute("CREATE SEQUENCE attempts")
    destination.execute("CREATE TABLE t (id integer, required integer NOT NULL)")
    destination.execute(
        "CREATE FUNCTION count_attempt() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM nextval('attempts'); RETURN NULL; END $$"
    )
    destination.execute(
        "CREATE TRIGGER attempt BEFORE INSERT ON t FOR EACH STATEMENT EXECUTE FUNCTION count_attempt()"
    )
    outcomes = list(
        iter_replicate(replication_for(source, destination, [{"name": "t", "mode": "append"}]))
    )
    (failure,) = outcomes
    assert isinstance(failure, TableFailure)
    assert failure.error_type == "EngineError"
    assert 'null value in column "required"' in failure.error
    assert destination.execute("SELECT last_value, is_called FROM attempts") == [(1, True)]
    assert destination.execute("SELECT count(*) FROM t") == [(0,)]


def test_reserved_state_table_name(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER)")
    error = _failure(source, destination, [{"name": "t", "destination_table": "_typedrepl_state"}])
    assert "reserved for typedrepl's cursor state" in error
    assert not destination.exists("public", "_typedrepl_state")


def test_a_view_with_the_target_name(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER)")
    destination.execute("CREATE VIEW t AS SELECT 42 AS id")
    error = _failure(source, destination, [{"name": "t"}])
    assert 'relation "t" already exists' in error
    assert destination.execute("SELECT * FROM t") == [(42,)]


def test_dependent_view_blocks_full_refresh(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, v INTEGER)")
    source.insert("t", [(1, 1)])
    replicate(replication_for(source, destination, [{"name": "t", "primary_key": "id"}]))
    destination.execute("CREATE VIEW v AS SELECT * FROM t")
    source.insert("t", [(2, 2)])
    error = _failure(source, destination, [{"name": "t", "primary_key": "id"}])
    assert "view v depends on table t" in error
    assert "mode merge" in error
    assert _snapshot(destination) == [(1, 1)]
    (result,) = replicate(
        replication_for(source, destination, [{"name": "t", "primary_key": "id", "mode": "merge"}])
    )
    assert destination.execute("SELECT count(*) FROM v") == [(2,)]
    assert result.rows_in_destination == 2


def test_tampered_cursor_is_an_error(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, ts TIMESTAMP)")
    source.execute("INSERT INTO t VALUES (1, TIMESTAMP '2024-01-01')")
    table: dict[str, object] = {
        "name": "t",
        "mode": "incremental",
        "primary_key": "id",
        "cursor": "ts",
    }
    replicate(replication_for(source, destination, [table]))
    destination.execute("UPDATE _typedrepl_state SET cursor_value = 'garbage'")
    error = _failure(source, destination, [table])
    assert error.startswith("table 't': ")
    assert "garbage" in error
    assert _snapshot(destination) == [(1, __import__("datetime").datetime(2024, 1, 1))]


def test_text_cursor_with_quotes_and_percent(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER, k VARCHAR)")
    source.insert("t", [(1, "O'Brien %s 100%")])
    table = {"name": "t", "mode": "incremental", "cursor": "k"}
    assert replicate(replication_for(source, destination, [table]))[0].cursor == "O'Brien %s 100%"
    source.insert("t", [(2, "O'Brien %s 100%z")])
    (result,) = replicate(replication_for(source, destination, [table]))
    assert (result.rows_written, result.rows_in_destination) == (1, 2)


def test_merge_into_a_table_without_a_key(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER)")
    source.insert("t", [(1,)])
    replicate(replication_for(source, destination, [{"name": "t", "mode": "append"}]))
    error = _failure(source, destination, [{"name": "t", "mode": "merge", "primary_key": "id"}])
    assert "needs a primary key on (id) to match rows; it has none" in error
    assert _snapshot(destination) == [(1,)]


def test_table_without_columns(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("postgres"), make_side("duckdb")
    source.execute("CREATE TABLE t ()")
    error = _failure(source, destination, [{"name": "t"}])
    assert error == "table 't': source table public.t does not exist (or has no columns)"


def test_a_huge_value_is_exact(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, big VARCHAR, blob BLOB)")
    source.execute(
        "INSERT INTO t SELECT 1, repeat('é😀x', 4000000), CAST(repeat('ab', 1000) AS BLOB)"
    )
    replicate(replication_for(source, destination, [{"name": "t"}]))
    assert destination.execute("SELECT length(big), md5(big) FROM t") == source.execute(
        "SELECT length(big), md5(big) FROM t"
    )


def test_errors_are_engine_errors_not_crashes() -> None:
    """The catalogue's errors derive from one root: callers can catch them."""
    assert issubclass(ReplicationError, EngineError.__mro__[1])


def test_load_replication_rejects_a_config_without_tables(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_replication({"connections": {}, "tables": []})
