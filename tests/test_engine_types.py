"""Types round-trip value-exact: DuckDB -> PostgreSQL -> DuckDB, and PostgreSQL's own types."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from conftest import Side, replication_for
from typedrepl import ReplicationError
from typedrepl._run import replicate
from typedrepl._types import type_mapping_rows

# (column, DuckDB type) of the round-trip table; values below, one row per tuple.
COLUMNS = [
    ("id", "INTEGER PRIMARY KEY"),
    ("ti", "TINYINT"),
    ("si", "SMALLINT"),
    ("i", "INTEGER"),
    ("bi", "BIGINT"),
    ("uti", "UTINYINT"),
    ("usi", "USMALLINT"),
    ("ui", "UINTEGER"),
    ("ubi", "UBIGINT"),
    ("hi", "HUGEINT"),
    ("d38", "DECIMAL(38,10)"),
    ("d4", "DECIMAL(4,1)"),
    ("d18", "DECIMAL(18,3)"),
    ("f4", "FLOAT"),
    ("f8", "DOUBLE"),
    ("b", "BOOLEAN"),
    ("v", "VARCHAR"),
    ("bl", "BLOB"),
    ("dt", "DATE"),
    ("tm", "TIME"),
    ("ts", "TIMESTAMP"),
    ("tsms", "TIMESTAMP_MS"),
    ("tz", "TIMESTAMPTZ"),
    ("iv", "INTERVAL"),
    ("u", "UUID"),
    ("j", "JSON"),
    ("li", "INTEGER[]"),
    ("lv", "VARCHAR[]"),
    ("ld", "DECIMAL(10,2)[]"),
    ("lts", "TIMESTAMP[]"),
    ("arr", "BIGINT[2]"),
    ("st", "STRUCT(a INTEGER, b VARCHAR, c DOUBLE[])"),
    ("mp", "MAP(VARCHAR, INTEGER)"),
    ("en", "ENUM('red', 'green')"),
]

HUGE_MAX = "170141183460469231731687303715884105727"
ROWS = [
    # maxima and specials
    "(1, 127, 32767, 2147483647, 9223372036854775807, 255, 65535, 4294967295, "
    f"18446744073709551615, {HUGE_MAX}, 9999999999999999999999999999.9999999999, 999.9, "
    "999999999999999.999, 'NaN', 'Infinity', true, '', ''::BLOB, DATE 'infinity', "
    "TIME '24:00:00', TIMESTAMP 'infinity', TIMESTAMP_MS '2024-02-29 23:59:59.999', "
    "TIMESTAMPTZ '2024-03-31 01:30:00+00', INTERVAL '1 month 2 days 3 microseconds', "
    '\'00000000-0000-0000-0000-000000000000\', \'{"b": [1, 2.5, "x"], "a": null}\', '
    "[1, NULL, 3], ['a', NULL, ''], [1.25, -0.01], [TIMESTAMP '2000-01-01 00:00:00.000001'], "
    "[9223372036854775807, -1], {'a': 1, 'b': 'x', 'c': [1.5, -2.0]}, MAP {'k': 1, 'l': NULL}, 'red')",
    # minima and specials
    "(2, -128, -32768, -2147483648, -9223372036854775808, 0, 0, 0, 0, "
    f"-{HUGE_MAX} - 1, -9999999999999999999999999999.9999999999, -999.9, -0.001, "
    "'-Infinity', '-0.0', false, 'emoji 😀 ünïcödé\n\t\\ \"q\" ''s'' NULL \\N', "
    "'\\x00\\x01\\xFF'::BLOB, DATE '-infinity', TIME '00:00:00', TIMESTAMP '-infinity', "
    "TIMESTAMP_MS '1970-01-01', TIMESTAMPTZ '1900-01-01 00:00:00+00', "
    "INTERVAL '-1 year 36 hours', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '[]', [], [], [], [], "
    "[0, 0], {'a': NULL, 'b': NULL, 'c': []}, MAP {}, 'green')",
    # NULL everywhere
    "(3" + ", NULL" * (len(COLUMNS) - 1) + ")",
    # ordinary values
    "(4, 0, 1, -1, 42, 7, 8, 9, 10, 11, 0.0000000001, 0.0, 123.456, -0.0, 1.5e-300, true, "
    "'plain', 'abc'::BLOB, DATE '0044-03-15', TIME '12:34:56.789012', "
    "TIMESTAMP '1999-12-31 23:59:59.999999', TIMESTAMP_MS '2000-01-01 00:00:00.001', "
    "TIMESTAMPTZ '2024-10-27 01:30:00+02', INTERVAL '36 hours', "
    "'6ba7b810-9dad-11d1-80b4-00c04fd430c8', '{\"nested\": {\"deep\": [true, false, null]}}', "
    "[2147483647], ['x'], [NULL], [NULL], [NULL, 5], {'a': 7, 'b': 'é', 'c': NULL}, "
    "MAP {'z': -1}, NULL)",
]
JSONISH = {"j", "st", "mp"}


def _renderings(side: Side, table: str) -> list[dict[str, object]]:
    """Every value of ``table`` rendered by DuckDB as text (JSON documents parsed)."""
    exprs = []
    for name, type_ in COLUMNS:
        if name in JSONISH and not type_.startswith("JSON"):
            exprs.append(f"CAST(to_json({name}) AS VARCHAR)")
        else:
            exprs.append(f"CAST({name} AS VARCHAR)")
    out = []
    for row in side.execute(f"SELECT {', '.join(exprs)} FROM {table} ORDER BY id"):  # noqa: S608
        values: dict[str, object] = {}
        for (name, _), value in zip(COLUMNS, row, strict=True):
            values[name] = (
                json.loads(str(value)) if name in JSONISH and value is not None else value
            )
        out.append(values)
    return out


def test_duckdb_to_postgres_to_duckdb_is_value_exact(make_side: Callable[[str], Side]) -> None:
    origin, postgres, back = make_side("duckdb"), make_side("postgres"), make_side("duckdb")
    origin.execute(f"CREATE TABLE t ({', '.join(f'{n} {t}' for n, t in COLUMNS)})")
    for row in ROWS:
        origin.execute(f"INSERT INTO t VALUES {row}")  # noqa: S608
    replicate(replication_for(origin, postgres, [{"name": "t", "primary_key": "id"}]))
    replicate(replication_for(postgres, back, [{"name": "t", "primary_key": "id"}]))
    assert _renderings(back, "t") == _renderings(origin, "t")


def test_postgres_holds_the_exact_values(make_side: Callable[[str], Side]) -> None:
    origin, postgres = make_side("duckdb"), make_side("postgres")
    origin.execute(f"CREATE TABLE t ({', '.join(f'{n} {t}' for n, t in COLUMNS)})")
    for row in ROWS:
        origin.execute(f"INSERT INTO t VALUES {row}")  # noqa: S608
    (result,) = replicate(replication_for(origin, postgres, [{"name": "t", "primary_key": "id"}]))
    types = {c.name: c.type for c in result.columns}
    assert types["uti"] == "smallint"
    assert types["usi"] == "integer"
    assert types["ui"] == "bigint"
    assert types["ubi"] == "numeric(20,0)"
    assert types["hi"] == "numeric(39,0)"
    assert types["d38"] == "numeric(38,10)"
    assert types["tz"] == "timestamp with time zone"
    assert types["ts"] == "timestamp without time zone"
    assert types["j"] == types["st"] == types["mp"] == "jsonb"
    assert types["li"] == "integer[]"
    assert types["ld"] == "numeric(10,2)[]"
    assert types["en"] == "text"
    got = postgres.execute(
        "SELECT ubi::text, hi::text, d38::text, f4::text, f8::text, bl, v, dt::text, tm::text, "
        "ts::text, iv::text, u::text, st::text, mp::text FROM t ORDER BY id"
    )
    assert got[0] == (
        "18446744073709551615",
        HUGE_MAX,
        "9999999999999999999999999999.9999999999",
        "NaN",
        "Infinity",
        b"",
        "",
        "infinity",
        "24:00:00",
        "infinity",
        "1 mon 2 days 00:00:00.000003",
        "00000000-0000-0000-0000-000000000000",
        '{"a": 1, "b": "x", "c": [1.5, -2.0]}',
        '{"k": 1, "l": null}',
    )
    assert got[1][:11] == (
        "0",
        f"-{int(HUGE_MAX) + 1}",
        "-9999999999999999999999999999.9999999999",
        "-Infinity",
        "-0",
        b"\x00\x01\xff",
        "emoji 😀 ünïcödé\n\t\\ \"q\" 's' NULL \\N",
        "-infinity",
        "00:00:00",
        "-infinity",
        "-1 years +36:00:00",
    )
    assert got[2] == (None,) * 14


def test_uhugeint_extremes_reach_postgres_exactly(make_side: Callable[[str], Side]) -> None:
    origin, postgres = make_side("duckdb"), make_side("postgres")
    origin.execute("CREATE TABLE t (x UHUGEINT)")
    origin.execute("INSERT INTO t VALUES (0), (340282366920938463463374607431768211455), (NULL)")
    replicate(replication_for(origin, postgres, [{"name": "t"}]))
    assert postgres.execute("SELECT x::text FROM t ORDER BY x NULLS LAST") == [
        ("0",),
        ("340282366920938463463374607431768211455",),
        (None,),
    ]


PG_TYPES = """CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE t (
  id integer PRIMARY KEY, vc varchar(10), ch char(3), tx text, js json, jb jsonb, by bytea,
  ia integer[], ta text[], ea mood[], mo mood, tz timestamptz, ts timestamp(3), dt date, tm time,
  iv interval, u uuid, n numeric(12,4), n39 numeric(39,0), f4 real, f8 double precision,
  b boolean, s smallint, bi bigint, tza timestamptz[]
)"""
PG_ROWS = [
    "(1, 'abc', 'ab', '', '{\"b\":1,  \"a\":[1,1]}', '{\"z\": 1}', '\\x00ff'::bytea, '{1,NULL}', "
    "'{\"\",NULL}', '{sad,happy}', 'happy', 'infinity', '2024-01-01 00:00:00.123', 'infinity', "
    "'24:00', '1 mon 2 days 00:00:00.000003', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
    "-12345678.1234, -170141183460469231731687303715884105728, 'NaN', '-0', true, -32768, "
    "9223372036854775807, '{\"2024-01-01 00:00:00+00\"}')",
    "(2, NULL, NULL, NULL, NULL, NULL, ''::bytea, '{}', '{}', '{}', NULL, '-infinity', NULL, "
    "'-infinity', '00:00', '-36 hours', NULL, 0, 0, '-Infinity', 'Infinity', false, NULL, NULL, NULL)",
]
PG_RENDER = (
    "SELECT id, vc::text, ch::text, tx, js::text, jb::text, by, ia::text, ta::text, ea::text, "
    "mo::text, tz::text, ts::text, dt::text, tm::text, iv::text, u::text, n::text, n39::text, "
    "f4::text, f8::text, b, s, bi, tza::text FROM t ORDER BY id"
)


def test_postgres_to_postgres_keeps_postgres_values(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("postgres"), make_side("postgres")
    source.execute(PG_TYPES)
    for row in PG_ROWS:
        source.execute(f"INSERT INTO t VALUES {row}")  # noqa: S608
    (result,) = replicate(
        replication_for(source, destination, [{"name": "t", "primary_key": "id"}])
    )
    types = {c.name: c.type for c in result.columns}
    assert (types["js"], types["jb"], types["mo"], types["ea"]) == (
        "json",
        "jsonb",
        "text",
        "text[]",
    )
    assert types["tza"] == "jsonb"  # arrays of timestamptz travel as JSON
    expected = source.execute(PG_RENDER)
    got = destination.execute(PG_RENDER)
    # char(3) arrives in text with its padding ('ab '); char(3)::text drops the padding
    assert [r[2] for r in got] == ["ab ", None]
    assert [r[:2] + r[3:24] for r in got] == [r[:2] + r[3:24] for r in expected]


def test_postgres_to_duckdb_to_postgres_is_value_exact(make_side: Callable[[str], Side]) -> None:
    source, duck, back = make_side("postgres"), make_side("duckdb"), make_side("postgres")
    source.execute(PG_TYPES.replace(", tza timestamptz[]", ""))
    for row in PG_ROWS:
        source.execute(f"INSERT INTO t VALUES {row.rsplit(',', 1)[0]})")  # noqa: S608
    replicate(replication_for(source, duck, [{"name": "t", "primary_key": "id"}]))
    replicate(replication_for(duck, back, [{"name": "t", "primary_key": "id"}]))
    render = PG_RENDER.replace(", tza::text", "")
    expected = source.execute(render)
    got = back.execute(render)
    for want, have in zip(expected, got, strict=True):
        for index, (w, h) in enumerate(zip(want, have, strict=True)):
            if index in (4, 5):  # json/jsonb come back as jsonb: same document
                assert (json.loads(str(h)) if h else h) == (json.loads(str(w)) if w else w)
            elif index == 2:  # char(3) pads; text has no padding to keep
                assert str(h or "").rstrip() == str(w or "").rstrip()
            else:
                assert h == w, f"column {index}"


@pytest.mark.parametrize(
    ("column", "value", "hint"),
    [
        ("numeric(50,20)", "1", "numeric(50,20) has no DuckDB type"),
        ("numeric", "1", "unconstrained numeric"),
        ("timetz", "'01:00+02'", "not supported"),
    ],
)
def test_postgres_type_without_duckdb_counterpart_fails_before_any_row_moves(
    make_side: Callable[[str], Side], column: str, value: str, hint: str
) -> None:
    source, destination = make_side("postgres"), make_side("duckdb")
    source.execute(f"CREATE TABLE t (id integer, x {column})")
    source.execute(f"INSERT INTO t VALUES (1, {value})")  # noqa: S608
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [{"name": "t"}]))
    (failure,) = caught.value.failures
    assert "column 'x'" in failure.error
    assert hint in failure.error
    assert not destination.exists("main", "t")


def test_numeric_nan_into_duckdb_is_an_error_naming_the_column(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = make_side("postgres"), make_side("duckdb")
    source.execute("CREATE TABLE t (id integer, amount numeric(10,2))")
    source.execute("INSERT INTO t VALUES (1, 1.5), (2, 'NaN')")
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [{"name": "t"}]))
    (failure,) = caught.value.failures
    assert "column 'amount'" in failure.error
    assert "NaN" in failure.error
    assert not destination.exists("main", "t")


def test_type_mapping_rows_cover_the_listed_types() -> None:
    rows = type_mapping_rows()
    duck = {r[0] for r in rows}
    for name in ("UTINYINT", "UBIGINT", "HUGEINT", "UHUGEINT", "DECIMAL(p,s)", "INTERVAL", "BLOB"):
        assert name in duck
    assert all(isinstance(x, str) for r in rows for x in r)
    assert ("TIMESTAMP_NS", "(error)") in {(r[0], r[1]) for r in rows}
