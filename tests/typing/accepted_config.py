"""Code that must type-check under ``mypy --strict``: the public API keeps its types.

``tests/test_typing.py`` runs mypy on this file (and so does ``mypy src tests``); nothing
here runs at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import assert_type

import attrs
from hypothesis import strategies as st

from typedrepl import (
    ColumnType,
    ConfigError,
    ConfigIssue,
    Connection,
    Connections,
    DuckDBConnection,
    LoadMode,
    PostgresConnection,
    Replication,
    Table,
    TableMeta,
    TableResult,
    dump_replication,
    load_replication,
    replicate,
)
from typedrepl._run import iter_replicate
from typedrepl.errors import TableFailure
from typedrepl.testing import (
    CheckSummary,
    assert_keys_match_dry_run,
    assert_replication_ok,
    assert_roundtrip,
    assert_translator_consistent,
    connections,
    identifiers,
    replications,
    subsets,
    tables,
)


@attrs.frozen(kw_only=True)
class MyTable(Table):
    owner: str
    priority: int = 0


def loading(path: Path) -> None:
    rep = load_replication(path)
    assert_type(rep, Replication[Table])
    assert_type(load_replication(str(path)), Replication[Table])
    assert_type(load_replication("connections: {}\ntables: []\n"), Replication[Table])
    assert_type(load_replication({"connections": {}, "tables": []}), Replication[Table])
    assert_type(load_replication(path, env={"HOME": "/root"}), Replication[Table])
    assert_type(load_replication(path, table_type=None), Replication[Table])
    assert_type(rep.tables, tuple[Table, ...])
    assert_type(rep.connections, Connections)
    assert_type(rep.connections.source, Connection)
    assert_type(dump_replication(rep), str)

    mine = load_replication(path, table_type=MyTable)
    assert_type(mine, Replication[MyTable])
    assert_type(mine.tables[0], MyTable)
    assert_type(mine.tables[0].owner, str)
    assert_type(mine.tables[0].priority, int)
    assert_type(mine.tables[0].mode, LoadMode)
    assert_type(mine.tables[0].primary_key, tuple[str, ...])
    assert_type(mine.tables[0].cursor, str | None)
    assert_type(mine.tables[0].columns, tuple[str, ...] | None)
    assert_type(mine.tables[0].meta, TableMeta)
    assert_type(mine.tables[0].column_types, Mapping[str, ColumnType])
    assert_type(mine.select(["users"]), tuple[MyTable, ...])
    assert_type(mine.select(None), tuple[MyTable, ...])
    assert_type(mine.table("users"), MyTable)
    # a Replication of a subclass is still a Replication of Table-like rows
    owners: list[str] = [t.owner for t in mine.tables]
    del owners


def forwarding(path: Path, table_type: type[MyTable] | None) -> None:
    """A wrapper that forwards an optional table model gets either replication."""
    loaded = load_replication(path, table_type=table_type)
    assert_type(loaded, Replication[Table] | Replication[MyTable])


def errors(path: Path) -> None:
    try:
        load_replication(path)
    except ConfigError as exc:
        assert_type(exc.issues, tuple[ConfigIssue, ...])
        first = exc.issues[0]
        assert_type(first.path, str)
        assert_type(first.line, int | None)
        assert_type(first.location, str)


def building() -> None:
    conns = Connections(
        source=DuckDBConnection(connection="example.duckdb"),
        destination=PostgresConnection(connection="postgresql://u:pw@localhost/db"),
    )
    rep = Replication(
        connections=conns,
        tables=[MyTable(name="users", primary_key="id", owner="crm", mode=LoadMode.MERGE)],
    )
    assert_type(rep, Replication[MyTable])
    plain = Replication(connections=conns, tables=(Table(name="t", primary_key=["a", "b"]),))
    assert_type(plain, Replication[Table])
    assert_type(Table(name="t", meta=TableMeta(owners="team:x", tags={"a": "b"})), Table)
    overridden = Table(name="t", column_types={"geom": ColumnType.TEXT, "attrs": ColumnType.JSON})
    assert_type(overridden.column_types, Mapping[str, ColumnType])
    assert_type(overridden.column_types["geom"], ColumnType)


def strategies() -> None:
    assert_type(identifiers(), st.SearchStrategy[str])
    assert_type(identifiers(max_bytes=100), st.SearchStrategy[str])
    assert_type(tables(), st.SearchStrategy[Table])
    assert_type(tables(MyTable, owner=st.text()), st.SearchStrategy[MyTable])
    assert_type(tables(table_type=MyTable, owner=st.text()), st.SearchStrategy[MyTable])
    assert_type(
        tables(MyTable, owner=st.text(), priority=st.integers()), st.SearchStrategy[MyTable]
    )
    assert_type(connections(), st.SearchStrategy[Connections])
    assert_type(replications(), st.SearchStrategy[Replication[Table]])
    assert_type(
        replications(tables(MyTable, owner=st.text()), max_tables=3),
        st.SearchStrategy[Replication[MyTable]],
    )
    assert_type(replications(connections=connections()), st.SearchStrategy[Replication[Table]])


def subsets_of(rep: Replication[MyTable]) -> None:
    assert_type(subsets(rep), st.SearchStrategy[tuple[str, ...]])
    assert_type(subsets(rep, min_size=1, max_size=2), st.SearchStrategy[tuple[str, ...]])


def running(rep: Replication[MyTable]) -> None:
    assert_type(replicate(rep), tuple[TableResult, ...])
    assert_type(replicate(rep, ["users"]), tuple[TableResult, ...])
    assert_type(
        replicate(rep, tables=("users", "orders"), batch_size=1_000), tuple[TableResult, ...]
    )
    assert_type(replicate(rep, None, logger=logging.getLogger("etl")), tuple[TableResult, ...])
    assert_type(replicate(rep)[0].rows_written, int)
    outcomes = iter_replicate(rep, ["users"], keep_open=True)
    assert_type(outcomes, Iterator[TableResult | TableFailure])
    for outcome in outcomes:
        if isinstance(outcome, TableFailure):
            assert_type(outcome.error, str)
        else:
            assert_type(outcome.rows_in_destination, int)


def checks(path: Path, rep: Replication[MyTable]) -> None:
    """The checks of ``typedrepl.testing`` that need no translator."""
    assert_roundtrip(rep)
    assert_roundtrip(rep, table_type=MyTable)
    assert_keys_match_dry_run(path)
    assert_keys_match_dry_run("replication.yaml", table_type=MyTable)
    assert_keys_match_dry_run(rep)
    assert_translator_consistent(None, replications())
    assert_translator_consistent(None, replications(tables(MyTable, owner=st.text())))
    assert_translator_consistent(None, rep, max_examples=10, derandomize=True)
    assert_translator_consistent(None, [rep, rep], shrink_seconds=0.5)
    summary = assert_replication_ok(path, table_type=MyTable, max_examples=10)
    assert_type(summary, CheckSummary)
    assert_type(summary.asset_keys, int)
    assert_type(assert_replication_ok(rep), CheckSummary)


def engines() -> None:
    """Each engine module is an ``EngineModule``: ``load_engine``'s cast is one mypy proves."""
    import typedrepl.engines.duckdb
    import typedrepl.engines.postgres
    from typedrepl.engines._base import EngineModule

    duckdb_engine: EngineModule = typedrepl.engines.duckdb
    postgres_engine: EngineModule = typedrepl.engines.postgres
    del duckdb_engine, postgres_engine
