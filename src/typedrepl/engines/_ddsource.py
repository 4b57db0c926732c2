"""DuckDB as a source: one read transaction (a consistent snapshot), Arrow batches out.

Columns whose DuckDB Arrow export is not the canonical layout are converted in the
``SELECT``: UUID to its 16 bytes, HUGEINT/UHUGEINT to text, STRUCT/MAP/nested lists
to JSON text (``to_json``), ENUM to VARCHAR, TIMESTAMP_S/_MS to TIMESTAMP, fixed
``ARRAY`` to LIST. A column overridden in ``column_types`` is read as
``CAST(col AS VARCHAR)`` (text) or ``to_json(col)`` (json), whatever its type.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Generator

import duckdb
import pyarrow as pa

from typedrepl._models import ColumnType, Connection
from typedrepl._types import Kind, LogicalType, UnsupportedTypeError, duckdb_type, from_duckdb
from typedrepl.engines._arrow import arrow_schema
from typedrepl.engines._base import ReadSpec, SourceColumn
from typedrepl.engines._ddconn import (
    STREAM_MEMORY_LIMIT,
    catalog_of,
    compose,
    open_duckdb,
    qualified,
    quote_duckdb,
    type_sql,
)
from typedrepl.engines._errors import RejectedValueError, driver_error, way_out
from typedrepl.errors import EngineError

__all__ = ["DuckDBSource"]

_INTERVAL_MAX_MICROS = (2**63 - 1) // 1000
_INTERVAL_MARK = "typedrepl: interval too long in column["
_INTERVAL_REFUSED = re.compile(re.escape(_INTERVAL_MARK) + r"(\d+)\]")


def _read_error(exc: Exception, read: ReadSpec, secrets: tuple[str, ...]) -> EngineError:
    """The error of a failed read; an interval refused by the query names its column."""
    match = _INTERVAL_REFUSED.search(str(exc))
    if match is not None:
        name = read.columns[int(match[1])].name
        return RejectedValueError(
            "an INTERVAL whose hours, minutes and seconds add up to more than 2562047 hours "
            "(2^63 nanoseconds) cannot be copied exactly; "
            + way_out(name, json=False, view="move the excess into days in a source view"),
            column=name,
        )
    return driver_error(exc, secrets, doing="cannot read the source table")


class DuckDBSource:
    """Reads tables from a DuckDB file."""

    default_schema = "main"

    def __init__(self, connection: Connection, *, log: logging.Logger) -> None:
        self._secrets = connection.secrets
        self._log = log
        self._con, self._own_instance = open_duckdb(connection, read_only=True, log=log)
        self._catalog = catalog_of(connection, self._con)
        self._in_transaction = False

    def begin(self) -> None:
        """Start a new read transaction."""
        self._end()
        self._run("BEGIN TRANSACTION")
        self._in_transaction = True

    def columns(self, schema: str, table: str) -> tuple[SourceColumn, ...]:
        """The columns of ``schema.table`` and their logical types."""
        rows = self._fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, table],
        )
        if not rows:
            raise EngineError(f"source table {schema}.{table} does not exist")
        out: list[SourceColumn] = []
        for name, native in rows:
            try:
                logical: LogicalType | None = from_duckdb(str(native))
                problem = None
            except UnsupportedTypeError as exc:
                logical, problem = None, str(exc)
            out.append(SourceColumn(str(name), str(native), logical, problem))
        return tuple(out)

    def key_problem(self, read: ReadSpec, key: tuple[str, ...]) -> str | None:
        """A NULL or duplicate key among the rows to read, described, or ``None``."""
        where, params = self._where(read)
        keys = [quote_duckdb(k) for k in key]
        nulls = self._fetch(
            compose(
                "SELECT count(*) FROM {table} WHERE ({nulls}) AND {where}",
                table=self._table(read),
                nulls=" OR ".join(f"{k} IS NULL" for k in keys),
                where=where,
            ),
            params,
        )[0][0]
        if nulls:
            return f"{nulls} row(s) have a NULL primary key ({', '.join(key)})"
        rows = self._fetch(
            compose(
                "SELECT {texts}, count(*) FROM {table} WHERE {where} GROUP BY {keys} "
                "HAVING count(*) > 1 LIMIT 1",
                texts=", ".join(f"CAST({k} AS VARCHAR)" for k in keys),
                table=self._table(read),
                where=where,
                keys=", ".join(keys),
            ),
            params,
        )
        if not rows:
            return None
        row = rows[0]
        shown = ", ".join(f"{k}={v}" for k, v in zip(key, row[:-1], strict=True))
        return f"duplicate primary key: ({shown}) appears {row[-1]} times"

    def max_cursor(self, read: ReadSpec) -> str | None:
        """The greatest cursor value to read, as text."""
        assert read.cursor is not None
        where, params = self._where(read)
        value = self._fetch(
            compose(
                "SELECT CAST(max({col}) AS VARCHAR) FROM {table} WHERE {where}",
                col=quote_duckdb(read.cursor.column),
                table=self._table(read),
                where=where,
            ),
            params,
        )[0][0]
        return None if value is None else str(value)

    def count_rows(self, read: ReadSpec) -> int:
        """How many rows the read yields."""
        where, params = self._where(read)
        value = self._fetch(
            compose(
                "SELECT count(*) FROM {table} WHERE {where}", table=self._table(read), where=where
            ),
            params,
        )[0][0]
        assert isinstance(value, int)
        return value

    def count_null_cursor(self, read: ReadSpec) -> int:
        """Rows whose cursor is NULL."""
        assert read.cursor is not None
        value = self._fetch(
            compose(
                "SELECT count(*) FROM {table} WHERE {col} IS NULL",
                table=self._table(read),
                col=quote_duckdb(read.cursor.column),
            )
        )[0][0]
        assert isinstance(value, int)
        return value

    def batches(self, read: ReadSpec, batch_size: int) -> Generator[pa.RecordBatch]:
        """Canonical batches of the rows, streamed (memory bounded by ``batch_size``)."""
        logical: list[tuple[str, LogicalType]] = []
        for col in read.columns:
            assert col.logical is not None
            logical.append((col.name, col.logical))
        schema = arrow_schema(logical)
        where, params = self._where(read)
        query = compose(
            "SELECT {exprs} FROM {table} WHERE {where}",
            exprs=", ".join(
                f"{self._expression(c, i)} AS {quote_duckdb(c.name)}"
                for i, c in enumerate(read.columns)
            ),
            table=self._table(read),
            where=where,
        )
        limited = self._own_instance  # never cap a database this process also writes
        try:
            if limited:
                self._con.execute(f"SET memory_limit = '{STREAM_MEMORY_LIMIT}'")
            reader = self._con.sql(query, params=params).to_arrow_reader(batch_size)
        except duckdb.Error as exc:
            raise _read_error(exc, read, self._secrets) from None
        try:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (duckdb.Error, pa.ArrowException) as exc:
                    raise _read_error(exc, read, self._secrets) from None
                if batch.schema != schema:
                    batch = batch.cast(schema)
                yield batch
        finally:
            reader.close()
            if limited:
                with contextlib.suppress(duckdb.Error):
                    self._con.execute("RESET memory_limit")

    def find_nul(self, read: ReadSpec, column: str, key: tuple[str, ...]) -> str | None:
        """The key of a row whose ``column`` holds a NUL character, as text."""
        where, params = self._where(read)
        shown = key or (column,)
        rows = self._fetch(
            compose(
                "SELECT {texts} FROM {table} WHERE {where} "
                "AND contains(CAST({col} AS VARCHAR), chr(0)) LIMIT 1",
                texts=", ".join(f"CAST({quote_duckdb(k)} AS VARCHAR)" for k in shown),
                table=self._table(read),
                where=where,
                col=quote_duckdb(column),
            ),
            params,
        )
        if not rows or not key:
            return None
        return ", ".join(f"{k}={v}" for k, v in zip(key, rows[0], strict=True))

    def close(self) -> None:
        """End the read and close the file."""
        try:
            self._end()
        finally:
            self._con.close()

    # ------------------------------------------------------------------ helpers

    def _end(self) -> None:
        if self._in_transaction:
            self._in_transaction = False
            try:
                self._con.execute("COMMIT")
            except duckdb.Error:
                self._log.debug("ending the read failed", exc_info=True)

    @staticmethod
    def _expression(col: SourceColumn, index: int) -> str:
        assert col.logical is not None
        ref = quote_duckdb(col.name)
        if col.override == ColumnType.TEXT:
            return f"CAST({ref} AS VARCHAR)"
        if col.override == ColumnType.JSON:
            return f"CAST(to_json({ref}) AS VARCHAR)"
        kind = col.logical.kind
        native = col.native_type.upper()
        if kind is Kind.INTERVAL:
            # DuckDB exports an interval's time part as 64-bit nanoseconds: beyond
            # ±2^63 ns (about 2562047 hours) it would silently wrap around.
            time_part = (
                f"epoch_us({ref} - to_months(datepart('year', {ref}) * 12 "
                f"+ datepart('month', {ref})) - to_days(datepart('day', {ref})))"
            )
            return (
                f"CASE WHEN abs({time_part}) > {_INTERVAL_MAX_MICROS} "
                f"THEN error('{_INTERVAL_MARK}{index}]') ELSE {ref} END"
            )
        if kind is Kind.UUID:
            return f"CAST({ref} AS BLOB)"  # the 16 bytes, in the canonical order
        if kind in (Kind.INT16, Kind.UINT16):
            return f"CAST({ref} AS VARCHAR)"
        if kind is Kind.JSON:
            if native == "JSON":
                return f"CAST({ref} AS VARCHAR)"
            return f"CAST(to_json({ref}) AS VARCHAR)"
        wanted = duckdb_type(col.logical)
        if native != wanted.upper():
            return f"CAST({ref} AS {type_sql(wanted)})"
        return ref

    def _table(self, read: ReadSpec) -> str:
        return qualified(self._catalog, read.schema, read.table)

    @staticmethod
    def _where(read: ReadSpec) -> tuple[str, list[object]]:
        if read.cursor is None:
            return "true", []
        col = quote_duckdb(read.cursor.column)
        if read.cursor.value is None:
            return f"{col} IS NOT NULL", []
        native = next(c.native_type for c in read.columns if c.name == read.cursor.column)
        op = ">=" if read.cursor.op == ">=" else ">"
        return f"{col} {op} CAST(? AS {type_sql(native)})", [read.cursor.value]

    def _fetch(self, query: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        try:
            return self._con.execute(query, params or []).fetchall()
        except duckdb.Error as exc:
            raise driver_error(exc, self._secrets, doing="cannot query the source table") from None

    def _run(self, query: str) -> None:
        try:
            self._con.execute(query)
        except duckdb.Error as exc:
            raise driver_error(exc, self._secrets, doing="DuckDB failed") from None
