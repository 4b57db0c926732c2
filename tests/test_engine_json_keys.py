"""A JSON object with a key twice, nested in a list, struct, map or composite value.

PostgreSQL ``jsonb`` keeps only the last value of a key given twice. A top-level DuckDB
``JSON`` document with one is refused (``test_column_types.py``); the same document
inside a DuckDB ``JSON[]``, ``STRUCT(j JSON)`` or ``MAP(VARCHAR, JSON)``, a PostgreSQL
``json[]`` (also through a domain), or a PostgreSQL ``json`` (or a composite value
holding one) read as JSON through ``column_types`` is refused the same way before
PostgreSQL changes, and arrives in DuckDB (whose ``JSON`` is text) with both keys.
Against real databases, in the four directions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs
import pytest

from conftest import Side, replication_for
from typedrepl import ReplicationError
from typedrepl._run import replicate

DUP = '{"a":1,"a":2}'
FINE = '{"a":1,"b":2}'


@attrs.frozen
class Case:
    """A source column whose row 2 holds a document with the key ``a`` twice."""

    label: str
    type: str
    value: str
    """The SQL of the value (with ``DUP``)."""
    kept: str
    """Its text in DuckDB."""
    setup: str = ""
    types: Mapping[str, str] = attrs.field(factory=dict)
    """The table's ``column_types``."""
    source_type: str = ""
    """The source type the error names, when not ``type``."""


CASES: dict[str, list[Case]] = {
    "duckdb": [
        Case("JSON[]", "JSON[]", f"['{DUP}'::JSON]", f"[{DUP}]"),
        Case("STRUCT", "STRUCT(j JSON)", f"{{'j': '{DUP}'::JSON}}", f'{{"j":{DUP}}}'),
        Case("MAP", "MAP(VARCHAR, JSON)", f"MAP {{'k': '{DUP}'::JSON}}", f'{{"k":{DUP}}}'),
        Case("JSON[] as json", "JSON[]", f"['{DUP}'::JSON]", f"[{DUP}]", types={"x": "json"}),
    ],
    "postgres": [
        Case("json[]", "json[]", f"ARRAY['{DUP}'::json]", f"[{DUP}]"),
        Case(
            "domain over json[]",
            "docs",
            f"ARRAY['{DUP}'::json]::docs",
            f"[{DUP}]",
            setup="CREATE DOMAIN docs AS json[]",
            source_type="json[]",  # a domain is read as its base type
        ),
        Case("json as json", "json", f"'{DUP}'::json", DUP, types={"x": "json"}),
        Case(
            "composite as json",
            "pair",
            f"ROW(1, '{DUP}')::pair",
            f'{{"n":1,"j":{DUP}}}',
            setup="CREATE TYPE pair AS (n integer, j json)",
            types={"x": "json"},
        ),
    ],
}


def _params() -> list[object]:
    return [
        pytest.param(source, destination, case, id=f"{source}-{destination}-{case.label}")
        for source in ("duckdb", "postgres")
        for destination in ("postgres", "duckdb")
        for case in CASES[source]
    ]


def _make_table(source: Side, case: Case) -> None:
    if case.setup:
        source.execute(case.setup)
    source.execute(f"CREATE TABLE t (id INTEGER, x {case.type})")
    fine = case.value.replace(DUP, FINE)
    source.execute(f"INSERT INTO t VALUES (1, {fine}), (2, {case.value}), (3, NULL)")  # noqa: S608


@pytest.mark.parametrize(("source_kind", "destination_kind", "case"), _params())
def test_a_nested_duplicate_key_is_refused_by_jsonb_and_kept_by_duckdb(
    make_side: Callable[[str], Side], source_kind: str, destination_kind: str, case: Case
) -> None:
    source, destination = make_side(source_kind), make_side(destination_kind)
    _make_table(source, case)
    table = {"name": "t", "column_types": dict(case.types)}
    if destination_kind == "duckdb":
        replicate(replication_for(source, destination, [table]))
        rows = destination.execute("SELECT id, CAST(x AS VARCHAR) FROM t ORDER BY id")
        assert rows == [(1, case.kept.replace(DUP, FINE)), (2, case.kept), (3, None)]
        column = "SELECT data_type FROM information_schema.columns WHERE column_name = 'x'"
        assert destination.execute(column) == [("JSON",)]
        return
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [table]))
    (failure,) = caught.value.failures
    assert failure.error == (
        "table 't', column 'x': a JSON document has the key 'a' twice; PostgreSQL jsonb would "
        "keep only the last value (to keep the exact text, set column_types: {x: text} for "
        "this table, or leave it out with exclude_columns) at row 2 of the load (the "
        f"destination was not changed) [source type {case.source_type or case.type}]"
    )
    assert not destination.exists("public", "t")
    # the way out the message names loads the source's text of the value
    as_text = {"name": "t", "column_types": {"x": "text"}}
    replicate(replication_for(source, destination, [as_text]))
    assert destination.execute("SELECT count(*) FROM t WHERE x IS NOT NULL") == [(2,)]


@pytest.mark.parametrize("source_kind", ["duckdb", "postgres"])
def test_documents_without_a_duplicate_still_reach_jsonb(
    make_side: Callable[[str], Side], source_kind: str
) -> None:
    """The same columns without a duplicate key load into jsonb, documents unchanged."""
    source, destination = make_side(source_kind), make_side("postgres")
    case = CASES[source_kind][0]
    source.execute(f"CREATE TABLE t (id INTEGER, x {case.type})")
    fine = case.value.replace(DUP, '{"b":[1,{"c":2,"d":"x:y"}],"a":" : "}')
    source.execute(f"INSERT INTO t VALUES (1, {fine}), (2, NULL)")  # noqa: S608
    replicate(replication_for(source, destination, [{"name": "t"}]))
    assert destination.execute("SELECT id, x::text FROM t ORDER BY id") == [
        (1, '[{"a": " : ", "b": [1, {"c": 2, "d": "x:y"}]}]'),
        (2, None),
    ]
