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
    exists,
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
_JSON_TYPE = re.compile(r"\bJSON\b", re.IGNORECASE)
"""A DuckDB type with JSON in it (``JSON``, ``JSON[]``, ``STRUCT(j JSON)``, ``MAP(VARCHAR,
JSON)``): its JSON values are text as written (a struct field named json matches too,
which only costs the destination a check)."""
_STREAM_LIMIT: str = STREAM_MEMORY_LIMIT
_LIMIT_GROWTH = 4
_OUT_OF_MEMORY = "Out of Memory Error"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?i?B|bytes)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"pb": 10**15, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50}


class _OutOfMemoryError(Exception):
    """DuckDB could not read the rows within its memory limit (the first line of its error)."""


def _bytes(size: str) -> int | None:
    """The bytes of a DuckDB memory size (``64MB``, ``61.0 MiB``, ``268435456B``)."""
    match = _SIZE.match(size)
    if match is None:
        return None
    return int(float(match[1]) * _UNITS[(match[2] or "").lower()])


def _shown(limit: str) -> str:
    size = _bytes(limit)
    return limit if size is None else f"{size / 2**20:.0f} MiB"


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
        self._local = exists(connection)
        """A local file: no other process can change it while this source has it open."""
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
            enum = str(native).upper().startswith("ENUM(")  # also a named ENUM type
            out.append(SourceColumn(str(name), str(native), logical, problem, enum=enum))
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
        """Canonical batches of the rows, streamed (memory bounded by ``batch_size``).

        In a file it opened itself, the source caps DuckDB's memory while it streams
        (:data:`STREAM_MEMORY_LIMIT`), so that DuckDB evicts the blocks it has read instead
        of keeping them all. Rows that need more (values of megabytes, long strings
        compressed together) make DuckDB fail with "Out of Memory": the read then starts
        again with a limit four times larger, up to DuckDB's default (80% of RAM), and
        goes on from the first row not handed out yet; a view is read again only if no
        row was handed out, a database that is not a local file never (:meth:`_more_memory`).
        """
        logical: list[tuple[str, LogicalType]] = []
        for col in read.columns:
            assert col.logical is not None
            logical.append((col.name, col.logical))
        # A DuckDB JSON value, also inside a list, struct or map, is the text as written,
        # which may have an object key twice: the destination checks such columns.
        raw_json = {
            c.name
            for c in read.columns
            if c.logical is not None
            and c.logical.kind is Kind.JSON
            and _JSON_TYPE.search(c.native_type)
        }
        schema = arrow_schema(logical, raw_json=raw_json)
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
        # Never cap a database this process also writes (``None``: DuckDB's own limit).
        limit = _STREAM_LIMIT if self._own_instance else None
        handed = 0
        try:
            while True:
                reader = None
                try:
                    reader = self._stream(query, params, read, limit, handed, batch_size)
                    while (batch := self._next_batch(reader, read)) is not None:
                        if batch.schema != schema or (
                            raw_json and not batch.schema.equals(schema, check_metadata=True)
                        ):
                            batch = batch.cast(schema)  # also marks the raw JSON columns
                        handed += batch.num_rows
                        yield batch
                    return
                except _OutOfMemoryError as exc:
                    error = exc
                finally:
                    if reader is not None:
                        reader.close()
                limit = self._more_memory(error, read, limit, handed)
        finally:
            if self._own_instance:
                self._reset_memory_limit()

    def _reset_memory_limit(self) -> None:
        """DuckDB's own memory limit again, for the queries after the read (a read that
        failed ended its transaction, in which nothing runs: a new one is started)."""
        try:
            self._con.execute("RESET memory_limit")
        except duckdb.Error:
            with contextlib.suppress(duckdb.Error):
                self._con.execute("ROLLBACK")
                self._con.execute("BEGIN TRANSACTION")
                self._con.execute("RESET memory_limit")

    def _stream(
        self,
        query: str,
        params: list[object],
        read: ReadSpec,
        limit: str | None,
        skip: int,
        batch_size: int,
    ) -> pa.RecordBatchReader:
        """Start reading the rows after the first ``skip``, DuckDB's memory capped at
        ``limit`` (``None``: DuckDB's own limit) in a file this source opened itself."""
        try:
            if self._own_instance:
                self._con.execute(
                    "RESET memory_limit" if limit is None else f"SET memory_limit = '{limit}'"
                )
            if skip:
                query = f"{query} OFFSET {skip:d}"
            reader: pa.RecordBatchReader = self._con.sql(query, params=params).to_arrow_reader(
                batch_size
            )
        except duckdb.Error as exc:
            raise self._stream_error(exc, read) from None
        return reader

    def _next_batch(self, reader: pa.RecordBatchReader, read: ReadSpec) -> pa.RecordBatch | None:
        try:
            return reader.read_next_batch()
        except StopIteration:
            return None
        except (duckdb.Error, pa.ArrowException, OSError) as exc:  # OSError: DuckDB's, mid-stream
            raise self._stream_error(exc, read) from None

    def _stream_error(self, exc: Exception, read: ReadSpec) -> Exception:
        if _OUT_OF_MEMORY in str(exc):
            return _OutOfMemoryError(str(exc).strip().splitlines()[0])
        return _read_error(exc, read, self._secrets)

    def _more_memory(
        self, error: _OutOfMemoryError, read: ReadSpec, limit: str | None, handed: int
    ) -> str | None:
        """The larger memory limit to read ``read`` again with, after ``error``, in a new
        transaction (DuckDB ends the one that failed).

        The new transaction sees the same rows: no other process can write a local file
        this source has open for reading, and this process never caps a file it also
        writes (a database elsewhere, which may have changed, is not read again).
        The rows of a base table come in the same order again (insertion order), so the
        read goes on after the ``handed`` rows the destination has; a view's rows may
        come in another order, so a view is read again only if no row was handed out.
        """
        base = (
            f"DuckDB ran out of memory reading the rows of {read.schema}.{read.table}"
            f"{f' after row {handed}' if handed else ''} ({error})"
        )
        doing = "cannot read the source table"
        if limit is None:
            problem = f"{base}, with DuckDB's own memory limit (by default 80% of RAM)"
            raise driver_error(Exception(problem), self._secrets, doing=doing)
        if not self._local:
            problem = (
                f"{base}, with a memory limit of {_shown(limit)}; a database that is not a "
                "local file is not read again (it may have changed meanwhile)"
            )
            raise driver_error(Exception(problem), self._secrets, doing=doing)
        try:
            self._con.execute("ROLLBACK")
            self._con.execute("BEGIN TRANSACTION")
            resumable = not handed or self._is_base_table(read)
            self._con.execute("RESET memory_limit")
            row = self._con.execute("SELECT current_setting('memory_limit')").fetchone()
        except duckdb.Error as exc:
            raise driver_error(exc, self._secrets, doing=doing) from None
        if not resumable:
            problem = (
                f"{base}, with a memory limit of {_shown(limit)}; a view cannot be read again "
                "from the middle (its rows may come in another order): copy its rows into a "
                "table and read that table instead"
            )
            raise driver_error(Exception(problem), self._secrets, doing=doing)
        default = None if row is None else _bytes(str(row[0]))
        current = _bytes(limit)
        larger = None if current is None else current * _LIMIT_GROWTH
        bigger = None if larger is None or default is None or larger >= default else f"{larger}B"
        self._log.info(
            "%s with a memory limit of %s: reading it again%s with %s",
            base,
            _shown(limit),
            f" from row {handed + 1}" if handed else "",
            "DuckDB's default memory limit" if bigger is None else f"a limit of {_shown(bigger)}",
        )
        return bigger

    def _is_base_table(self, read: ReadSpec) -> bool:
        rows = self._con.execute(
            "SELECT table_type FROM information_schema.tables "
            "WHERE table_catalog = ? AND table_schema = ? AND table_name = ?",
            [self._catalog, read.schema, read.table],
        ).fetchall()
        return bool(rows) and rows[0][0] == "BASE TABLE"

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
