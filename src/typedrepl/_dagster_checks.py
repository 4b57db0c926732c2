"""The optional asset checks: row counts after a full refresh, primary key uniqueness."""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Set

from dagster import AssetCheckKey, AssetCheckResult, AssetCheckSpec, AssetKey, MetadataValue

from typedrepl._models import Connection, DuckDBConnection, LoadMode, PostgresConnection, Table
from typedrepl._results import TableResult

__all__ = ["PRIMARY_KEY_CHECK", "ROW_COUNT_CHECK", "check_specs", "evaluate_checks"]

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
        yield AssetCheckResult(
            asset_key=key,
            check_name=ROW_COUNT_CHECK,
            passed=result.rows_in_destination == result.rows_written,
            metadata={
                "source_rows": MetadataValue.int(result.rows_written),
                "destination_rows": MetadataValue.int(result.rows_in_destination),
            },
        )
    if PRIMARY_KEY_CHECK in names:
        duplicates = duplicate_key_count(destination, table)
        yield AssetCheckResult(
            asset_key=key,
            check_name=PRIMARY_KEY_CHECK,
            passed=duplicates == 0,
            metadata={
                "duplicate_keys": MetadataValue.int(duplicates),
                "primary_key": MetadataValue.json(list(table.primary_key)),
            },
        )


def duplicate_key_count(destination: Connection, table: Table) -> int:
    """How many primary key values occur more than once in the destination table."""
    path = [
        *([table.destination_schema] if table.destination_schema is not None else []),
        table.target_name,
    ]
    if isinstance(destination, PostgresConnection):
        return _postgres_duplicates(destination.connection, path, table.primary_key)
    if isinstance(destination, DuckDBConnection):
        return _duckdb_duplicates(destination, path, table.primary_key)
    msg = f"no primary key check for {destination.type!r} destinations"
    raise NotImplementedError(msg)


def _postgres_duplicates(url: str, path: Sequence[str], key: Sequence[str]) -> int:
    import psycopg
    from psycopg import sql

    query = sql.SQL(
        "SELECT count(*) FROM (SELECT 1 FROM {} GROUP BY {} HAVING count(*) > 1) AS d"
    ).format(sql.Identifier(*path), sql.SQL(", ").join(map(sql.Identifier, key)))
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _duckdb_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb_duplicates(
    destination: DuckDBConnection, path: Sequence[str], key: Sequence[str]
) -> int:
    from typedrepl.engines._ddconn import open_duckdb

    target = ".".join(map(_duckdb_quote, path))
    columns = ", ".join(map(_duckdb_quote, key))
    query = f"SELECT count(*) FROM (SELECT 1 FROM {target} GROUP BY {columns} HAVING count(*) > 1)"  # noqa: S608 - quoted identifiers
    # open_duckdb shares the file when this process holds it open read-write (a run keeps
    # its destination open between tables): DuckDB refuses a second, read-only, instance
    conn, _ = open_duckdb(destination, read_only=True)
    with conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
