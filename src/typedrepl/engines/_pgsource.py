"""PostgreSQL as a source: one ``REPEATABLE READ`` read-only snapshot, a server-side cursor.

The key checks, the cursor maximum, the row count and the rows themselves are all
read in the same snapshot, so they agree with each other. A column overridden in
``column_types`` is read as ``col::text`` (text) or ``to_jsonb(col)::text`` (json).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator
from typing import TYPE_CHECKING, LiteralString

import psycopg
from psycopg import sql

from typedrepl._models import ColumnType, Connection
from typedrepl._types import Kind, LogicalType, UnsupportedTypeError, from_postgres
from typedrepl.engines._base import ReadSpec, SourceColumn
from typedrepl.engines._errors import RejectedValueError, driver_error, way_out
from typedrepl.engines._pgconn import connect
from typedrepl.engines._pgread import register_loaders, rows_to_batch
from typedrepl.errors import EngineError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["PostgresSource"]

_TYPE_NAME = re.compile(r'^[a-z0-9 _(),"\[\].]+$')
_AS_TEXT = frozenset({Kind.INT16, Kind.NUMERIC, Kind.JSON, Kind.JSON_TEXT})
_HOLDS_JSON: LiteralString = """
WITH RECURSIVE inside(name, type) AS (
    SELECT a.attname, a.atttypid
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %s AND c.relname = %s AND a.attname = ANY(%s)
      AND a.attnum > 0 AND NOT a.attisdropped
  UNION
    SELECT i.name, inner_type.oid
    FROM inside i
    JOIN pg_type t ON t.oid = i.type
    CROSS JOIN LATERAL (
        SELECT t.typelem WHERE t.typelem <> 0
        UNION ALL SELECT t.typbasetype WHERE t.typbasetype <> 0
        UNION ALL SELECT f.atttypid FROM pg_attribute f
        WHERE f.attrelid = t.typrelid AND f.attnum > 0 AND NOT f.attisdropped
    ) AS inner_type(oid)
)
SELECT DISTINCT name FROM inside WHERE type = 'json'::regtype
"""
"""The named columns whose type holds ``json``: itself, as an array element, a domain's
base type or a composite type's field, at any depth."""


def _type_sql(name: str) -> sql.SQL:
    """A type name from ``format_type`` as SQL (checked to be a plain type name)."""
    if not _TYPE_NAME.match(name):
        raise EngineError(f"cannot use the type {name!r} in a cursor comparison")
    return sql.SQL(name)


class PostgresSource:
    """Reads tables from a PostgreSQL database."""

    default_schema = "public"

    def __init__(self, connection: Connection, *, log: logging.Logger) -> None:
        self._connection = connection
        self._secrets = connection.secrets
        self._log = log
        self._conn = self._connect()
        self._enums: set[str] = set()
        self._used = False
        """Whether a table began on this connection: only then is a lost one replaced."""

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        conn = connect(self._connection)
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        register_loaders(conn)
        return conn

    def begin(self) -> None:
        """Start a new snapshot (the first query opens it).

        A connection lost since the table before (it is kept open between tables) is
        replaced by a new one."""
        try:
            self._conn.rollback()
        except psycopg.Error as exc:
            if not (self._conn.closed and self._used):
                raise self._error(exc, "cannot start a read") from None
        if self._conn.closed and self._used:
            self._log.info("the source connection was lost since the table before: reconnecting")
            self._conn = self._connect()
        self._used = True

    def columns(self, schema: str, table: str) -> tuple[SourceColumn, ...]:
        """The columns of ``schema.table`` and their logical types."""
        try:
            rows = self._conn.execute(
                "SELECT a.attname, "
                "  CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) "
                "       ELSE format_type(a.atttypid, a.atttypmod) END, "
                "  t.typtype = 'e' OR coalesce(e.typtype = 'e', false) "
                "FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_type t ON t.oid = a.atttypid "
                "LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A' "
                "WHERE n.nspname = %s AND c.relname = %s "
                "  AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                "  AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum",
                (schema, table),
            ).fetchall()
        except psycopg.Error as exc:
            raise self._error(exc, "cannot inspect the source table") from None
        if not rows:
            raise EngineError(f"source table {schema}.{table} does not exist (or has no columns)")
        out: list[SourceColumn] = []
        for name, type_name, is_enum in rows:
            native = str(type_name)
            try:
                logical: LogicalType | None = from_postgres(native, is_enum=bool(is_enum))
                problem = None
            except UnsupportedTypeError as exc:
                logical, problem = None, str(exc)
            if is_enum:
                self._enums.add(str(name))
            out.append(SourceColumn(str(name), native, logical, problem, enum=bool(is_enum)))
        return tuple(out)

    def key_problem(self, read: ReadSpec, key: tuple[str, ...]) -> str | None:
        """A NULL or duplicate key among the rows to read, described, or ``None``."""
        keys = [sql.Identifier(k) for k in key]
        any_null = sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(k) for k in keys)
        nulls = self._scalar(
            sql.SQL("SELECT count(*) FROM {} WHERE ({}) AND {}").format(
                self._table(read), any_null, self._where(read)
            ),
        )
        if nulls:
            return f"{nulls} row(s) have a NULL primary key ({', '.join(key)})"
        as_text = sql.SQL(", ").join(sql.SQL("{}::text").format(k) for k in keys)
        # A key read as text is matched on its text (its own type may have no equality).
        overridden = {c.name for c in read.columns if c.override is not None}
        grouped = sql.SQL(", ").join(
            sql.SQL("{}::text").format(k) if name in overridden else k
            for name, k in zip(key, keys, strict=True)
        )
        try:
            row = self._conn.execute(
                sql.SQL(
                    "SELECT {}, count(*) FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1 LIMIT 1"
                ).format(as_text, self._table(read), self._where(read), grouped),
            ).fetchone()
        except psycopg.Error as exc:
            raise self._error(exc, "cannot check the primary key") from None
        if row is None:
            return None
        shown = ", ".join(f"{k}={v}" for k, v in zip(key, row[:-1], strict=True))
        return f"duplicate primary key: ({shown}) appears {row[-1]} times"

    def max_cursor(self, read: ReadSpec) -> str | None:
        """The greatest cursor value to read, as text.

        A ``uuid`` has no ``max`` (PostgreSQL 15): its order is the order of its bytes,
        which is the order of its canonical lowercase text in the byte collation.
        """
        assert read.cursor is not None
        column = next(c for c in read.columns if c.name == read.cursor.column)
        greatest = (
            sql.SQL('max({}::text COLLATE "C")')
            if column.logical is not None and column.logical.kind is Kind.UUID
            else sql.SQL("max({})::text")
        )
        value = self._scalar(
            sql.SQL("SELECT {} FROM {} WHERE {}").format(
                greatest.format(sql.Identifier(read.cursor.column)),
                self._table(read),
                self._where(read),
            ),
        )
        return None if value is None else str(value)

    def count_rows(self, read: ReadSpec) -> int:
        """How many rows the read yields."""
        value = self._scalar(
            sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
                self._table(read), self._where(read)
            ),
        )
        assert isinstance(value, int)
        return value

    def count_null_cursor(self, read: ReadSpec) -> int:
        """Rows whose cursor is NULL."""
        assert read.cursor is not None
        value = self._scalar(
            sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL").format(
                self._table(read), sql.Identifier(read.cursor.column)
            )
        )
        assert isinstance(value, int)
        return value

    def batches(self, read: ReadSpec, batch_size: int) -> Generator[pa.RecordBatch]:
        """Canonical batches of the rows, read through a server-side cursor."""
        columns: list[tuple[str, LogicalType]] = []
        for col in read.columns:
            assert col.logical is not None
            columns.append((col.name, col.logical))
        # An array with another lower bound than 1, or more than one dimension, has no
        # DuckDB list counterpart: a flag per list column says so (psycopg drops the bounds).
        lists = [
            c.name for c in read.columns if c.logical is not None and c.logical.kind is Kind.LIST
        ]
        flags = [
            sql.SQL("coalesce(array_ndims({0}) > 1 OR array_lower({0}, 1) <> 1, false)").format(
                sql.Identifier(name)
            )
            for name in lists
        ]
        raw_json = self._raw_json(read)
        exprs = sql.SQL(", ").join([*(self._expression(c, raw_json) for c in read.columns), *flags])
        query = sql.SQL("SELECT {} FROM {} WHERE {}").format(
            exprs, self._table(read), self._where(read)
        )
        width = len(columns)
        seen = 0
        try:
            with self._conn.cursor(name="typedrepl_read", binary=True) as cur:
                cur.itersize = batch_size
                cur.execute(query)
                while True:
                    rows = cur.fetchmany(batch_size)
                    if not rows:
                        break
                    for index, name in enumerate(lists):
                        bad = next((i for i, r in enumerate(rows) if r[width + index]), None)
                        if bad is not None:
                            raise RejectedValueError(
                                f"the array at row {seen + bad + 1} of the load has more than one "
                                "dimension or a lower bound other than 1, which a DuckDB list "
                                f"cannot keep; {way_out(name)}",
                                column=name,
                            )
                    seen += len(rows)
                    yield rows_to_batch(rows, columns, raw_json=raw_json)
        except psycopg.Error as exc:
            raise self._error(exc, "cannot read the source table") from None

    def find_nul(self, read: ReadSpec, column: str, key: tuple[str, ...]) -> str | None:
        """PostgreSQL text cannot hold NUL: never found."""
        return None

    def close(self) -> None:
        """End the snapshot and close the connection."""
        try:
            self._conn.rollback()
        except psycopg.Error:
            self._log.debug("rollback failed", exc_info=True)
        self._conn.close()

    # ------------------------------------------------------------------ helpers

    def _raw_json(self, read: ReadSpec) -> frozenset[str]:
        """The columns read as JSON documents whose type holds ``json`` (``json[]``, a domain
        or a composite type with a ``json`` in it): read with ``to_json``, which keeps each
        ``json`` as written (``to_jsonb`` would keep only the last value of a key given
        twice, silently), and marked so: a ``jsonb`` destination refuses such a key."""
        candidates = [
            c.name
            for c in read.columns
            if c.logical is not None
            and c.logical.kind is Kind.JSON
            and (c.override == ColumnType.JSON or c.native_type.endswith("[]"))
        ]
        if not candidates:
            return frozenset()
        try:
            rows = self._conn.execute(_HOLDS_JSON, (read.schema, read.table, candidates))
            return frozenset(str(name) for (name,) in rows.fetchall())
        except psycopg.Error as exc:
            raise self._error(exc, "cannot inspect the source table") from None

    def _expression(self, col: SourceColumn, raw_json: frozenset[str]) -> sql.Composable:
        assert col.logical is not None
        ref = sql.Identifier(col.name)
        if col.override == ColumnType.TEXT:
            return sql.SQL("{}::text").format(ref)
        to_json = sql.SQL("to_json({})::text" if col.name in raw_json else "to_jsonb({})::text")
        if col.override == ColumnType.JSON:
            return to_json.format(ref)
        kind = col.logical.kind
        if kind is Kind.JSON and col.native_type.endswith("[]"):
            return to_json.format(ref)
        if kind in _AS_TEXT or (kind is Kind.DECIMAL and (col.logical.precision or 0) > 38):
            return sql.SQL("{}::text").format(ref)
        if col.name in self._enums:
            return sql.SQL("{}::text[]" if kind is Kind.LIST else "{}::text").format(ref)
        return ref

    @staticmethod
    def _table(read: ReadSpec) -> sql.Identifier:
        return sql.Identifier(read.schema, read.table)

    @staticmethod
    def _where(read: ReadSpec) -> sql.Composed | sql.SQL:
        if read.cursor is None:
            return sql.SQL("true")
        column = sql.Identifier(read.cursor.column)
        if read.cursor.value is None:
            return sql.SQL("{} IS NOT NULL").format(column)
        cursor_type = next(c.native_type for c in read.columns if c.name == read.cursor.column)
        op = sql.SQL(">=") if read.cursor.op == ">=" else sql.SQL(">")
        # A literal, not a parameter: psycopg would read a '%' in a quoted name in the
        # same query text as a placeholder mark.
        value = sql.Literal(read.cursor.value)
        return sql.SQL("{} {} CAST({} AS {})").format(column, op, value, _type_sql(cursor_type))

    def _scalar(self, query: sql.Composed) -> object:
        try:
            row = self._conn.execute(query).fetchone()
        except psycopg.Error as exc:
            raise self._error(exc, "cannot query the source table") from None
        return None if row is None else row[0]

    def _error(self, exc: psycopg.Error, doing: str) -> EngineError:
        return driver_error(exc, self._secrets, doing=doing)
