"""The optional asset checks: row counts after a full refresh, primary key uniqueness.

A check is evaluated after its table's load (:func:`evaluate_checks`), or, when it is
selected without its asset (Dagster's "execute checks"), on the tables as they are
(:func:`evaluate_checks_without_load`): nothing is loaded then.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence, Set

from dagster import AssetCheckKey, AssetCheckResult, AssetCheckSpec, AssetKey, MetadataValue

from typedrepl._models import (
    Connection,
    Connections,
    DuckDBConnection,
    LoadMode,
    PostgresConnection,
    Table,
)
from typedrepl._results import TableResult

__all__ = [
    "PRIMARY_KEY_CHECK",
    "ROW_COUNT_CHECK",
    "MissingTableError",
    "check_specs",
    "evaluate_checks",
    "evaluate_checks_without_load",
]

ROW_COUNT_CHECK = "row_count_matches_source"
"""After a full refresh, the destination holds as many rows as were read from the source."""
PRIMARY_KEY_CHECK = "primary_key_unique"
"""No two destination rows share a primary key value."""


def check_specs(table: Table, key: AssetKey) -> list[AssetCheckSpec]:
    """The checks that apply to ``table`` (row count: full refresh only; key: with a key)."""
    specs: list[AssetCheckSpec] = []
    if table.mode is LoadMode.FULL_REFRESH:
        specs.append(
            AssetCheckSpec(
                ROW_COUNT_CHECK,
                asset=key,
                description="After the full refresh, the destination table holds exactly "
                "as many rows as were read from the source.",
            )
        )
    if table.primary_key:
        columns = ", ".join(repr(c) for c in table.primary_key)
        specs.append(
            AssetCheckSpec(
                PRIMARY_KEY_CHECK,
                asset=key,
                description=f"No two rows of the destination table share a primary key ({columns}).",
            )
        )
    return specs


def evaluate_checks(
    table: Table,
    key: AssetKey,
    result: TableResult,
    destination: Connection,
    selected: Set[AssetCheckKey],
) -> Iterator[AssetCheckResult]:
    """The selected checks of ``table``, evaluated after its load (``result``)."""
    names = {check.name for check in selected if check.asset_key == key}
    if ROW_COUNT_CHECK in names:
        yield _row_count(key, result.rows_written, result.rows_in_destination, loaded=True)
    if PRIMARY_KEY_CHECK in names:
        yield _unique_key(key, table, duplicate_key_count(destination, table), loaded=True)


def evaluate_checks_without_load(
    table: Table,
    key: AssetKey,
    connections: Connections,
    selected: Set[AssetCheckKey],
    log: logging.Logger,
) -> Iterator[AssetCheckResult]:
    """The selected checks of ``table``, evaluated without loading it (its asset is not
    selected): the key check reads the destination table as it is; the row count check
    compares the source table's row count now with the destination table's. A check on
    a destination table that does not exist fails, saying so."""
    names = {check.name for check in selected if check.asset_key == key}
    if ROW_COUNT_CHECK in names:
        try:
            destination_rows = destination_row_count(connections.destination, table)
        except MissingTableError as exc:
            yield _missing(key, ROW_COUNT_CHECK, exc)
        else:
            source_rows = source_row_count(connections.source, table, log)
            yield _row_count(key, source_rows, destination_rows, loaded=False)
    if PRIMARY_KEY_CHECK in names:
        try:
            duplicates = duplicate_key_count(connections.destination, table)
        except MissingTableError as exc:
            yield _missing(key, PRIMARY_KEY_CHECK, exc)
        else:
            yield _unique_key(key, table, duplicates, loaded=False)


_NOT_LOADED: dict[str, MetadataValue] = {"typedrepl/loaded": MetadataValue.bool(False)}


def _row_count(
    key: AssetKey, source_rows: int, destination_rows: int, *, loaded: bool
) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=key,
        check_name=ROW_COUNT_CHECK,
        passed=destination_rows == source_rows,
        metadata={
            "source_rows": MetadataValue.int(source_rows),
            "destination_rows": MetadataValue.int(destination_rows),
            **({} if loaded else _NOT_LOADED),
        },
        description=None
        if loaded
        else f"Evaluated without a load (the asset was not selected): the source table has "
        f"{source_rows} rows now, the destination table {destination_rows}.",
    )


def _unique_key(key: AssetKey, table: Table, duplicates: int, *, loaded: bool) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=key,
        check_name=PRIMARY_KEY_CHECK,
        passed=duplicates == 0,
        metadata={
            "duplicate_keys": MetadataValue.int(duplicates),
            "primary_key": MetadataValue.json(list(table.primary_key)),
            **({} if loaded else _NOT_LOADED),
        },
        description=None
        if loaded
        else "Evaluated without a load (the asset was not selected), on the destination "
        "table as it is.",
    )


def _missing(key: AssetKey, check_name: str, exc: MissingTableError) -> AssetCheckResult:
    text = (
        f"{exc}: materialize the asset {key.to_user_string()!r} first (the check was "
        "selected without its asset, so this run loaded nothing)"
    )
    return AssetCheckResult(
        asset_key=key,
        check_name=check_name,
        passed=False,
        metadata={"error": MetadataValue.text(text), "typedrepl/loaded": MetadataValue.bool(False)},
        description=text,
    )


class MissingTableError(LookupError):
    """The destination table a check reads does not exist."""


_DUPLICATES = "SELECT count(*) FROM (SELECT 1 FROM {table} GROUP BY {key} HAVING count(*) > 1) AS d"
_COUNT = "SELECT count(*) FROM {table}"


def duplicate_key_count(destination: Connection, table: Table) -> int:
    """How many primary key values occur more than once in the destination table.

    Raises:
        MissingTableError: the destination table does not exist.
    """
    return _destination_scalar(destination, table, _DUPLICATES)


def destination_row_count(destination: Connection, table: Table) -> int:
    """How many rows the destination table holds.

    Raises:
        MissingTableError: the destination table does not exist.
    """
    return _destination_scalar(destination, table, _COUNT)


def source_row_count(source: Connection, table: Table, log: logging.Logger) -> int:
    """How many rows a load of ``table`` would read now (a full refresh reads them all).

    Raises:
        EngineError: the source table does not exist or cannot be read.
    """
    from typedrepl.engines import load_engine
    from typedrepl.engines._base import ReadSpec

    engine = load_engine(source).open_source(source, log=log)
    try:
        engine.begin()
        schema = table.source_schema or engine.default_schema
        columns = engine.columns(schema, table.name)
        return engine.count_rows(ReadSpec(schema=schema, table=table.name, columns=columns))
    finally:
        engine.close()


def _destination_scalar(destination: Connection, table: Table, template: str) -> int:
    """The integer ``template`` (``{table}``, ``{key}``: quoted names) gives on the table."""
    path = [
        *([table.destination_schema] if table.destination_schema is not None else []),
        table.target_name,
    ]
    if isinstance(destination, PostgresConnection):
        return _postgres_scalar(destination.connection, path, table.primary_key, template)
    if isinstance(destination, DuckDBConnection):
        return _duckdb_scalar(destination, path, table.primary_key, template)
    msg = f"no asset checks for {destination.type!r} destinations"
    raise NotImplementedError(msg)


def _missing_table(path: Sequence[str]) -> MissingTableError:
    return MissingTableError(f"the destination table {'.'.join(path)!r} does not exist")


def _postgres_scalar(url: str, path: Sequence[str], key: Sequence[str], template: str) -> int:
    import psycopg
    from psycopg import errors, sql

    query = sql.SQL(template).format(
        table=sql.Identifier(*path), key=sql.SQL(", ").join(map(sql.Identifier, key))
    )
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            row = conn.execute(query).fetchone()
        except (errors.UndefinedTable, errors.InvalidSchemaName):
            raise _missing_table(path) from None
    return int(row[0]) if row else 0


def _duckdb_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb_scalar(
    destination: DuckDBConnection, path: Sequence[str], key: Sequence[str], template: str
) -> int:
    import duckdb

    from typedrepl.engines._ddconn import catalog_of, exists, open_duckdb, qualified

    if not exists(destination):
        raise _missing_table(path)
    # open_duckdb shares the file when this process holds it open read-write (a run keeps
    # its destination open between tables): DuckDB refuses a second, read-only, instance
    conn, _ = open_duckdb(destination, read_only=True)
    with conn:
        schema = path[0] if len(path) > 1 else DuckDBConnection.default_schema
        query = template.format(
            table=qualified(catalog_of(destination, conn), str(schema), path[-1]),
            key=", ".join(map(_duckdb_quote, key)),
        )
        try:
            row = conn.execute(query).fetchone()
        except duckdb.CatalogException:
            raise _missing_table(path) from None
    return int(row[0]) if row else 0
