"""Property: any small table of supported DuckDB types survives DuckDB -> PostgreSQL -> DuckDB."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Callable

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from conftest import Side, replication_for
from typedrepl._run import replicate

# DuckDB type -> strategy of (SQL expression with ? placeholders, parameters)
Value = tuple[str, list[object]]


def _param(type_: str, values: st.SearchStrategy[object]) -> st.SearchStrategy[Value]:
    return values.map(lambda v: (f"CAST(? AS {type_})", [v]))


def _text_param(type_: str, values: st.SearchStrategy[object]) -> st.SearchStrategy[Value]:
    return values.map(lambda v: (f"CAST(CAST(? AS VARCHAR) AS {type_})", [str(v)]))


TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12)
NUMBERS: dict[str, st.SearchStrategy[Value]] = {
    "SMALLINT": _param("SMALLINT", st.integers(-(2**15), 2**15 - 1)),
    "INTEGER": _param("INTEGER", st.integers(-(2**31), 2**31 - 1)),
    "BIGINT": _param("BIGINT", st.integers(-(2**63), 2**63 - 1)),
    "UTINYINT": _param("UTINYINT", st.integers(0, 255)),
    "UINTEGER": _param("UINTEGER", st.integers(0, 2**32 - 1)),
    "UBIGINT": _text_param("UBIGINT", st.integers(0, 2**64 - 1)),
    "HUGEINT": _text_param("HUGEINT", st.integers(-(2**127), 2**127 - 1)),
    "DECIMAL(18,4)": _text_param(
        "DECIMAL(18,4)",
        st.decimals(
            min_value=decimal.Decimal("-99999999999999.9999"),
            max_value=decimal.Decimal("99999999999999.9999"),
            places=4,
        ),
    ),
    "DECIMAL(38,10)": _text_param(
        "DECIMAL(38,10)",
        st.decimals(
            min_value=decimal.Decimal("-" + "9" * 28 + ".9999999999"),
            max_value=decimal.Decimal("9" * 28 + ".9999999999"),
            places=10,
        ),
    ),
    "DOUBLE": _param("DOUBLE", st.floats(allow_nan=True, allow_infinity=True)),
    "FLOAT": _param("FLOAT", st.floats(width=32, allow_nan=True, allow_infinity=True)),
}
OTHERS: dict[str, st.SearchStrategy[Value]] = {
    "BOOLEAN": _param("BOOLEAN", st.booleans()),
    "VARCHAR": _param("VARCHAR", TEXT),
    "BLOB": _param("BLOB", st.binary(max_size=12)),
    "DATE": _param("DATE", st.dates()),
    "TIME": _param("TIME", st.times()),
    "TIMESTAMP": _param("TIMESTAMP", st.datetimes()),
    "TIMESTAMPTZ": _param(
        "TIMESTAMPTZ",
        st.datetimes(
            min_value=dt.datetime(1900, 1, 1),
            max_value=dt.datetime(2200, 1, 1),
            timezones=st.just(dt.UTC),
        ),
    ),
    "UUID": _text_param("UUID", st.uuids()),
    "INTERVAL": st.tuples(
        st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(-(10**12), 10**12)
    ).map(
        lambda v: (
            "to_months(CAST(? AS INTEGER)) + to_days(CAST(? AS INTEGER)) "
            "+ to_microseconds(CAST(? AS BIGINT))",
            list(v),
        )
    ),
    "INTEGER[]": st.lists(st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)), max_size=4).map(
        lambda v: ("CAST(CAST(? AS VARCHAR) AS INTEGER[])", [json.dumps(v).replace("null", "NULL")])
    ),
    "VARCHAR[]": st.lists(st.one_of(st.none(), TEXT), max_size=3).map(
        lambda v: ("?::VARCHAR[]", [v])
    ),
    "STRUCT(a BIGINT, b VARCHAR)": st.tuples(st.integers(-(2**63), 2**63 - 1), TEXT).map(
        lambda v: ("{'a': CAST(? AS BIGINT), 'b': CAST(? AS VARCHAR)}", list(v))
    ),
}
TYPES = {**NUMBERS, **OTHERS}


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[Value | None]]]:
    types = draw(st.lists(st.sampled_from(sorted(TYPES)), min_size=1, max_size=5))
    rows = draw(
        st.lists(
            st.tuples(*(st.one_of(st.none(), TYPES[t]) for t in types)).map(list),
            min_size=0,
            max_size=4,
        )
    )
    return types, rows


def _render(side: Side, table: str, types: list[str]) -> list[tuple[object, ...]]:
    exprs = ["id"]
    for index, type_ in enumerate(types):
        column = f"c{index}"
        exprs.append(
            f"CAST(to_json({column}) AS VARCHAR)"
            if type_.startswith("STRUCT")
            else f"CAST({column} AS VARCHAR)"
        )
    rendered = side.execute(f"SELECT {', '.join(exprs)} FROM {table} ORDER BY id")  # noqa: S608
    return [
        tuple(
            json.loads(str(v)) if types[i - 1].startswith("STRUCT") and v and i else v
            for i, v in enumerate(row)
        )
        for row in rendered
    ]


_SIDES: dict[int, tuple[Side, Side, Side]] = {}


def _sides(make_side: Callable[[str], Side]) -> tuple[Side, Side, Side]:
    """One set of databases for all the examples of a test (each example has its own table)."""
    key = id(make_side)
    if key not in _SIDES:
        _SIDES.clear()
        _SIDES[key] = (make_side("duckdb"), make_side("postgres"), make_side("duckdb"))
    return _SIDES[key]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(table=tables())
def test_random_tables_round_trip_exactly(
    make_side: Callable[[str], Side], table: tuple[list[str], list[list[Value | None]]]
) -> None:
    types, rows = table
    name = f"t_{uuid.uuid4().hex[:10]}"
    origin, postgres, back = _sides(make_side)
    columns = ", ".join(f"c{i} {t}" for i, t in enumerate(types))
    origin.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, {columns})")
    for row_id, row in enumerate(rows):
        exprs: list[str] = ["?"]
        params: list[object] = [row_id]
        for value in row:
            if value is None:
                exprs.append("NULL")
            else:
                exprs.append(value[0])
                params += value[1]
        origin.execute(f"INSERT INTO {name} VALUES ({', '.join(exprs)})", params)  # noqa: S608
    replicate(replication_for(origin, postgres, [{"name": name, "primary_key": "id"}]))
    replicate(replication_for(postgres, back, [{"name": name, "primary_key": "id"}]))
    assert _render(back, name, types) == _render(origin, name, types)
