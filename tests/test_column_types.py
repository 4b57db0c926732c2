"""``column_types``: a column read as its text or JSON form, whatever its type.

Against real DuckDB files and a real PostgreSQL server: without the override a type with
no counterpart fails before any row moves (naming the override to set); with it, the rows
land and each value is the text (``CAST(x AS VARCHAR)``, ``x::text``) or the JSON document
(``to_json(x)``, ``to_jsonb(x)``) the source itself prints for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from conftest import Side, replication_for
from typedrepl import (
    ColumnType,
    ConfigError,
    ReplicationError,
    Table,
    TableResult,
    dump_replication,
    load_replication,
)
from typedrepl._plan import plan
from typedrepl._run import replicate
from typedrepl.cli import EXIT_FAILED, EXIT_OK, main

WAY_OUT = (
    "set column_types: {x: text} (or json) for this table, or leave it out with exclude_columns"
)


def _failure(source: Side, destination: Side, tables: Sequence[Mapping[str, object]]) -> str:
    """The one failure's message of a run that must fail."""
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, tables))
    (failure,) = caught.value.failures
    return failure.error


def _run(source: Side, destination: Side, **table: object) -> TableResult:
    (result,) = replicate(replication_for(source, destination, [{"name": "t", **table}]))
    return result


def _text_of(side: Side, column: str = "x") -> str:
    return f"CAST({column} AS VARCHAR)" if side.kind == "duckdb" else f"{column}::text"


def _json_of(side: Side, column: str = "x") -> str:
    return (
        f"CAST(to_json({column}) AS VARCHAR)"
        if side.kind == "duckdb"
        else f"to_jsonb({column})::text"
    )


def _values(side: Side, expression: str, table: str = "t") -> list[object]:
    return [row[1] for row in side.execute(f"SELECT id, {expression} FROM {table} ORDER BY id")]  # noqa: S608


def _docs(texts: Sequence[object]) -> list[object]:
    return [None if t is None else json.loads(str(t), parse_float=Decimal) for t in texts]


def _column_type(side: Side, column: str = "x", table: str = "t") -> str:
    if side.kind == "duckdb":
        query = (
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = ? AND column_name = ?"
        )
    else:
        query = (
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = ?::regclass AND attname = ?"
        )
    return str(side.execute(query, (table, column))[0][0])


TEXT_TYPE = {"duckdb": "VARCHAR", "postgres": "text"}
JSON_TYPE = {"duckdb": "JSON", "postgres": "jsonb"}

# (column type, values as SQL literals, why it cannot be copied as it is, JSON is meaningful)
DUCKDB_UNSUPPORTED = [
    ("BIT", ["'101'", "'0'", "NULL"], "BIT", "bit strings are not supported", True),
    (
        "UNION(a INTEGER, b VARCHAR)",
        ["1", "'x'", "NULL"],
        "UNION(a INTEGER, b VARCHAR)",
        "unions are not supported",
        True,
    ),
    (
        "TIMETZ",
        ["'01:02:03+04'", "NULL"],
        "TIME WITH TIME ZONE",
        "a time with an offset has no exact counterpart",
        False,
    ),
    (
        "TIMESTAMP_NS",
        ["'2024-01-01 00:00:00.123456789'"],
        "TIMESTAMP_NS",
        "nanoseconds cannot be kept by PostgreSQL (microseconds); cast the column to "
        "TIMESTAMP in a view to truncate explicitly",
        False,
    ),
    (
        "VARINT",
        ["123456789012345678901234567890", "-1"],
        "BIGNUM",
        "arbitrary-size integers are not supported",
        True,
    ),
]

POSTGRES_UNSUPPORTED = [
    ("point", ["'(1,2)'", "'(-1.5,0)'", "NULL"], "PostgreSQL type point is not supported", True),
    (
        "int4range",
        ["'[1,5)'", "'empty'", "NULL"],
        "PostgreSQL type int4range is not supported",
        True,
    ),
    ("tsvector", ["'a fat cat'", "''"], "PostgreSQL type tsvector is not supported", True),
    ("money", ["12.5", "-0.01"], "PostgreSQL type money is not supported", True),
    ("xml", ["'<a>x</a>'"], "PostgreSQL type xml is not supported", True),
    ("inet", ["'127.0.0.1'", "'::1/64'"], "PostgreSQL type inet is not supported", True),
    (
        "numeric(50,20)",
        ["'123456789012345678901234567890.12345678901234567890'", "'NaN'"],
        "numeric(50,20) has no DuckDB type (DECIMAL allows precision 1..38 and 0 <= scale "
        "<= precision)",
        False,
    ),
    (
        "numeric",
        ["'1.50'", "'1e40'", "'-Infinity'"],
        "unconstrained numeric: PostgreSQL to PostgreSQL only; into DuckDB it is an error "
        "naming the column (cast it to numeric(p,s) with p <= 38 in a view, or exclude it)",
        False,
    ),
]


def _make(side: Side, type_: str, literals: Sequence[str]) -> None:
    side.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, x {type_})")
    rows = ", ".join(f"({i}, {literal})" for i, literal in enumerate(literals))
    side.execute(f"INSERT INTO t VALUES {rows}")  # noqa: S608


# --------------------------------------------------------------------------- unsupported types


@pytest.mark.parametrize(
    ("type_", "literals", "native", "reason", "as_json"),
    DUCKDB_UNSUPPORTED,
    ids=[c[0].split("(")[0] for c in DUCKDB_UNSUPPORTED],
)
def test_duckdb_type_without_a_counterpart_loads_with_an_override(
    make_side: Callable[[str], Side],
    type_: str,
    literals: list[str],
    native: str,
    reason: str,
    as_json: bool,
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    _make(source, type_, literals)

    error = _failure(source, destination, [{"name": "t", "primary_key": "id"}])
    assert error == (
        f"table 't', column 'x': source type {native} cannot be copied: {reason}; {WAY_OUT}"
    )
    assert not destination.exists("public", "t")

    result = _run(source, destination, primary_key="id", column_types={"x": "text"})
    assert result.rows_written == len(literals)
    assert _column_type(destination) == "text"
    assert _values(destination, "x") == _values(source, _text_of(source))

    if as_json:
        destination.execute("DROP TABLE t")
        _run(source, destination, primary_key="id", column_types={"x": "json"})
        assert _column_type(destination) == "jsonb"
        got = _docs(_values(destination, "x::text"))
        assert got == _docs(_values(source, _json_of(source)))


@pytest.mark.parametrize(
    ("type_", "literals", "reason", "as_json"),
    POSTGRES_UNSUPPORTED,
    ids=[c[0] for c in POSTGRES_UNSUPPORTED],
)
def test_postgres_type_without_a_counterpart_loads_with_an_override(
    make_side: Callable[[str], Side],
    type_: str,
    literals: list[str],
    reason: str,
    as_json: bool,
) -> None:
    source, destination = make_side("postgres"), make_side("duckdb")
    _make(source, type_, literals)

    error = _failure(source, destination, [{"name": "t", "primary_key": "id"}])
    assert error == (
        f"table 't', column 'x': source type {type_} cannot be copied: {reason}; {WAY_OUT}"
    )
    assert not destination.exists("main", "t")

    result = _run(source, destination, primary_key="id", column_types={"x": "text"})
    assert result.rows_written == len(literals)
    assert _column_type(destination) == "VARCHAR"
    assert _values(destination, "x") == _values(source, _text_of(source))

    if as_json:
        _run(source, destination, column_types={"x": "json"}, destination_table="j")
        assert _column_type(destination, table="j") == "JSON"
        got = _docs(_values(destination, "CAST(x AS VARCHAR)", table="j"))
        assert got == _docs(_values(source, _json_of(source)))


def test_override_works_in_every_direction(sides: tuple[Side, Side]) -> None:
    """A source type no destination can hold (DuckDB BIT, PostgreSQL point), as text and JSON."""
    source, destination = sides
    type_, literals = (
        ("BIT", ["'101'", "NULL"]) if source.kind == "duckdb" else ("point", ["'(1,2)'", "NULL"])
    )
    _make(source, type_, literals)
    assert "set column_types: {x: text} (or json)" in _failure(source, destination, [{"name": "t"}])

    _run(source, destination, column_types={"x": "text"})
    assert _column_type(destination) == TEXT_TYPE[destination.kind]
    assert _values(destination, _text_of(destination)) == _values(source, _text_of(source))

    _run(source, destination, column_types={"x": "json"}, destination_table="j")
    assert _column_type(destination, table="j") == JSON_TYPE[destination.kind]
    got = _values(destination, _text_of(destination), table="j")
    assert _docs(got) == _docs(_values(source, _json_of(source)))


def test_duckdb_json_with_a_duplicate_key_keeps_its_exact_text_as_text(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    _make(source, "JSON", ['\'{"a": 1, "a": 2}\'', "'[1, 2]'"])
    message = (
        "table 't', column 'x': a JSON document has the key 'a' twice; PostgreSQL jsonb would "
        "keep only the last value (to keep the exact text, set column_types: {x: text} for this "
        "table, or leave it out with exclude_columns) at row 1 of the load (the destination was "
        "not changed) [source type JSON]"
    )
    assert _failure(source, destination, [{"name": "t"}]) == message
    assert not destination.exists("public", "t")
    # json reads the document as DuckDB holds it, duplicate included: still refused
    assert _failure(source, destination, [{"name": "t", "column_types": {"x": "json"}}]) == message
    assert not destination.exists("public", "t")

    _run(source, destination, column_types={"x": "text"})
    assert _column_type(destination) == "text"
    assert _values(destination, "x") == ['{"a": 1, "a": 2}', "[1, 2]"]


def test_postgres_array_duckdb_cannot_hold_loads_as_json_or_text(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = make_side("postgres"), make_side("duckdb")
    _make(source, "integer[]", ["'{1,2}'", "'{{1,2},{3,4}}'", "'[0:1]={5,6}'"])
    error = _failure(source, destination, [{"name": "t"}])
    assert error == (
        "table 't', column 'x': the array at row 2 of the load has more than one dimension or "
        "a lower bound other than 1, which a DuckDB list cannot keep; "
        f"{WAY_OUT} (the destination was not changed) [source type integer[]]"
    )
    assert not destination.exists("main", "t")

    _run(source, destination, column_types={"x": "json"})
    assert _column_type(destination) == "JSON"
    assert _docs(_values(destination, "CAST(x AS VARCHAR)")) == [[1, 2], [[1, 2], [3, 4]], [5, 6]]

    _run(source, destination, column_types={"x": "text"}, destination_table="exact")
    assert _values(destination, "x", table="exact") == ["{1,2}", "{{1,2},{3,4}}", "[0:1]={5,6}"]


def test_override_of_a_supported_type(make_side: Callable[[str], Side]) -> None:
    """A STRUCT or a MAP with integer keys is JSON by default; text gives DuckDB's own text."""
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute(
        "CREATE TABLE t (id INTEGER, st STRUCT(a INTEGER, b VARCHAR), mp MAP(INTEGER, VARCHAR))"
    )
    source.execute("INSERT INTO t VALUES (1, {'a': 1, 'b': 'x'}, MAP {1: 'a', 2: 'b'})")

    _run(source, destination)
    assert (_column_type(destination, "st"), _column_type(destination, "mp")) == ("jsonb", "jsonb")
    assert _values(destination, "mp::text") == ['{"1": "a", "2": "b"}']

    result = _run(source, destination, column_types={"st": "text", "mp": "text"})
    assert [(c.name, c.type) for c in result.columns] == [
        ("id", "integer"),
        ("st", "text"),
        ("mp", "text"),
    ]
    assert destination.execute("SELECT st, mp FROM t") == [("{'a': 1, 'b': x}", "{1=a, 2=b}")]
    assert destination.execute("SELECT st, mp FROM t") == source.execute(
        "SELECT CAST(st AS VARCHAR), CAST(mp AS VARCHAR) FROM t"
    )


# --------------------------------------------------------------------------- load modes


def _versions(side: Side) -> list[tuple[object, ...]]:
    """Each row's xmin: a row rewritten by an upsert gets a new one."""
    return side.execute("SELECT id, xmin::text FROM t ORDER BY id")


def test_merge_with_overrides_reruns_without_a_change(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, b BIT, u UNION(n INTEGER, s VARCHAR))")
    source.execute("INSERT INTO t VALUES (1, '101', 1), (2, '0', 'x'), (3, NULL, NULL)")
    table = {"mode": "merge", "primary_key": "id", "column_types": {"b": "text", "u": "json"}}

    first = _run(source, destination, **table)
    assert (first.rows_written, first.rows_in_destination) == (3, 3)
    before = destination.execute("SELECT id, b, u::text FROM t ORDER BY id")
    assert before == [(1, "101", '{"n": 1}'), (2, "0", '{"s": "x"}'), (3, None, None)]
    versions = _versions(destination)

    second = _run(source, destination, **table)
    assert second.rows_in_destination == 3
    assert destination.execute("SELECT id, b, u::text FROM t ORDER BY id") == before
    assert _versions(destination) == versions  # no row was rewritten

    source.execute("UPDATE t SET b = '111' WHERE id = 2")
    _run(source, destination, **table)
    changed = _versions(destination)
    assert [v for v, w in zip(changed, versions, strict=True) if v != w] == [changed[1]]
    assert destination.execute("SELECT b FROM t WHERE id = 2") == [("111",)]


def test_a_key_without_equality_is_matched_on_its_text(make_side: Callable[[str], Side]) -> None:
    """A PostgreSQL point has no equality: read as text, it can be a merge key."""
    source, destination = make_side("postgres"), make_side("postgres")
    source.execute("CREATE TABLE t (id integer, p point, r int4range)")
    source.execute("INSERT INTO t VALUES (1, '(1,2)', '[1,3)'), (2, '(3,4)', NULL)")
    table = {
        "mode": "merge",
        "primary_key": "p",
        "column_types": {"p": "text", "r": "json"},
    }
    _run(source, destination, **table)
    assert _column_type(destination, "p") == "text"
    assert _column_type(destination, "r") == "jsonb"
    rows = destination.execute("SELECT p, r::text FROM t ORDER BY p")
    assert rows == [("(1,2)", '"[1,3)"'), ("(3,4)", None)]
    versions = destination.execute("SELECT p, xmin::text FROM t ORDER BY p")
    _run(source, destination, **table)
    assert destination.execute("SELECT p, xmin::text FROM t ORDER BY p") == versions

    source.execute("INSERT INTO t VALUES (3, '(1,2)', NULL)")
    error = _failure(source, destination, [{"name": "t", **table}])
    assert "duplicate primary key: (p=(1,2)) appears 2 times" in error
    assert destination.execute("SELECT p, r::text FROM t ORDER BY p") == rows


@pytest.mark.parametrize("key", [True, False], ids=["with a key", "without a key"])
def test_incremental_with_an_override_reruns_without_a_change(
    make_side: Callable[[str], Side], key: bool
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, b BIT, n INTEGER)")
    source.execute("INSERT INTO t VALUES (1, '1', 10), (2, '10', 20)")
    table: dict[str, object] = {"mode": "incremental", "cursor": "n", "column_types": {"b": "text"}}
    if key:
        table["primary_key"] = "id"

    first = _run(source, destination, **table)
    assert (first.rows_written, first.cursor) == (2, "20")
    rows = destination.execute("SELECT id, b, n FROM t ORDER BY id")
    assert rows == [(1, "1", 10), (2, "10", 20)]
    versions = _versions(destination)

    second = _run(source, destination, **table)
    assert second.rows_written == (1 if key else 0)  # >= the stored cursor with a key
    assert destination.execute("SELECT id, b, n FROM t ORDER BY id") == rows
    assert _versions(destination) == versions

    source.execute("INSERT INTO t VALUES (3, '111', 30)")
    third = _run(source, destination, **table)
    assert third.cursor == "30"
    assert destination.execute("SELECT id, b FROM t ORDER BY id") == [
        (1, "1"),
        (2, "10"),
        (3, "111"),
    ]


def test_adding_an_override_to_an_existing_table_is_a_type_change(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, st STRUCT(a INTEGER))")
    source.execute("INSERT INTO t VALUES (1, {'a': 1})")
    _run(source, destination, mode="append")
    error = _failure(
        source, destination, [{"name": "t", "mode": "append", "column_types": {"st": "text"}}]
    )
    assert error == (
        "table 't', column 'st': type change: column 'st' is jsonb in the destination but the "
        "source type STRUCT(a INTEGER) now maps to text; use mode full_refresh to recreate the "
        "table, or alter the destination"
    )
    assert destination.execute("SELECT count(*) FROM t") == [(1,)]


# --------------------------------------------------------------------------- plan


def test_override_of_a_column_the_source_lacks_fails_at_plan(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, x INTEGER)")
    tables = [{"name": "t", "column_types": {"nope": "text", "x": "text"}}]
    (planned,) = plan(replication_for(source, destination, tables))
    assert planned.error == "column(s) 'nope' not found in the source table (it has id, x)"
    assert _failure(source, destination, tables) == (
        "table 't': column(s) 'nope' not found in the source table (it has id, x)"
    )
    assert not destination.exists("public", "t")


def test_plan_shows_each_override(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("postgres"), make_side("duckdb")
    source.execute("CREATE TABLE t (id integer, geom point, attrs int4range, n integer)")
    tables = [{"name": "t", "column_types": {"geom": "text", "attrs": "json"}}]
    (planned,) = plan(replication_for(source, destination, tables))
    assert planned.error is None
    assert planned.describe() == (
        "create main.t; load; column geom: point read as text; column attrs: int4range read as json"
    )
    assert [(c.name, c.source_type, c.destination_type, c.override) for c in planned.columns] == [
        ("id", "integer", "INTEGER", None),
        ("geom", "point", "VARCHAR", ColumnType.TEXT),
        ("attrs", "int4range", "JSON", ColumnType.JSON),
        ("n", "integer", "INTEGER", None),
    ]
    assert planned.ddl[0].endswith('("id" INTEGER, "geom" VARCHAR, "attrs" JSON, "n" INTEGER)')


def test_cli_plan_prints_the_overrides_and_the_way_out(
    make_side: Callable[[str], Side], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, b BIT, u UNION(n INTEGER, s VARCHAR))")
    config = {
        "connections": {"source": source.config(), "destination": destination.config()},
        "tables": [
            {"name": "t", "column_types": {"b": "text", "u": "json"}},
            {"name": "bare", "destination_table": "t2"},
        ],
    }
    source.execute("CREATE TABLE bare AS SELECT * FROM t")
    path = tmp_path / "replication.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    assert main(["plan", str(path), "--table", "t"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "t -> public.t (full_refresh): create public.t; load; column b: BIT read as text; "
        "column u: UNION(n INTEGER, s VARCHAR) read as json"
    )
    assert '"b" text, "u" jsonb' in out

    assert main(["plan", str(path), "--table", "bare"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: table bare: column 'b': source type BIT cannot be copied: bit strings are not "
        "supported; column 'u': source type UNION(n INTEGER, s VARCHAR) cannot be copied: "
        "unions are not supported; set column_types: {b: text, u: text} (or json) for this "
        "table, or leave them out with exclude_columns"
    ]
    assert not destination.exists("public", "t")


# --------------------------------------------------------------------------- config


BASE = """\
connections:
  source: {type: duckdb, connection: a.duckdb}
  destination: {type: postgres, connection: postgresql://localhost/db}
"""


def _issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_replication(BASE + text)
    return [str(issue) for issue in caught.value.issues]


def test_config_reads_and_dumps_column_types() -> None:
    rep = load_replication(
        BASE
        + "tables:\n  - name: t\n    primary_key: id\n    column_types: {geom: text, id: text, attrs: json}\n"
    )
    (table,) = rep.tables
    assert table.column_types == {
        "geom": ColumnType.TEXT,
        "id": ColumnType.TEXT,
        "attrs": ColumnType.JSON,
    }
    assert all(type(v) is ColumnType for v in table.column_types.values())
    assert table == Table(
        name="t",
        primary_key="id",
        column_types={"geom": ColumnType.TEXT, "id": ColumnType.TEXT, "attrs": ColumnType.JSON},
    )
    assert hash(table) == hash(Table(name="t", primary_key="id"))
    dumped = dump_replication(rep)
    assert "  column_types:\n    geom: text\n    id: text\n    attrs: json\n" in dumped
    assert load_replication(dumped) == rep
    assert "column_types" not in dump_replication(load_replication(BASE + "tables: [{name: t}]"))


def test_defaults_give_every_table_the_column_types() -> None:
    rep = load_replication(
        BASE
        + "defaults:\n  column_types: {geom: text}\n"
        + "tables:\n  - name: a\n  - name: b\n    column_types: {shape: json}\n"
    )
    assert [t.column_types for t in rep.tables] == [{"geom": "text"}, {"shape": "json"}]


def test_an_unknown_column_type_is_located_with_the_allowed_values() -> None:
    issues = _issues("tables:\n  - name: t\n    column_types: {x: geometry, y: json, z: 1}\n")
    assert issues == [
        "<string>:6:23: tables[0].column_types.x: expected one of text, json; got string "
        "'geometry'",
        "<string>:6:45: tables[0].column_types.z: expected one of text, json; got integer 1",
    ]
    assert _issues("tables:\n  - name: t\n    column_types: [x]\n") == [
        "<string>:6:19: tables[0].column_types: expected a mapping of column names to column "
        "types, got list ['x']"
    ]
    assert _issues("defaults:\n  column_types: {x: jsn}\ntables: [{name: t}]\n") == [
        "<string>:5:21: defaults.column_types.x: expected one of text, json; got string 'jsn' "
        "(did you mean 'json'?)"
    ]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "{name: t, mode: incremental, cursor: ts, column_types: {ts: text}}",
            "tables[0].column_types.ts: the cursor 'ts' cannot be read as text: its comparisons "
            "would change meaning (an incremental load compares the source's own values)",
        ),
        (
            "{name: t, exclude_columns: [x], column_types: {x: json}}",
            "tables[0].column_types.x: column 'x' is left out by exclude_columns; drop one of "
            "the two",
        ),
        (
            "{name: t, columns: [id], column_types: {x: text}}",
            "tables[0].column_types.x: column 'x' is not one of the copied columns; add it to "
            "columns",
        ),
        (
            "{name: t, primary_key: [id, k], mode: merge, column_types: {k: json}}",
            "tables[0].column_types.k: the primary key column 'k' cannot be read as json (rows "
            "are matched on it); read it as text",
        ),
    ],
    ids=["cursor", "excluded", "not copied", "key as json"],
)
def test_overrides_the_load_refuses(table: str, expected: str) -> None:
    issues = _issues(f"tables:\n  - {table}\n")
    assert [i.split(": ", 1)[1] for i in issues] == [expected]
    assert all(i.startswith("<string>:5:") for i in issues)


def test_a_key_column_read_as_text_is_accepted() -> None:
    rep = load_replication(
        BASE + "tables: [{name: t, primary_key: id, mode: merge, column_types: {id: text}}]\n"
    )
    assert rep.tables[0].column_types == {"id": ColumnType.TEXT}


def test_a_default_override_that_a_table_cannot_take_names_the_table() -> None:
    issues = _issues(
        "defaults:\n  column_types: {id: json}\ntables:\n  - {name: t, primary_key: id}\n"
    )
    assert issues == [
        "<string>:5:22: defaults.column_types.id: the primary key column 'id' cannot be read "
        "as json (rows are matched on it); read it as text; used by tables[0] ('t')"
    ]
