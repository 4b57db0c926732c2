"""DuckDB as a destination: one transaction per table, Arrow batches in.

The batches are registered with DuckDB as one stream and inserted by one ``INSERT ...
SELECT`` (or ``MERGE``), which DuckDB writes to the file as it reads.
``full_refresh`` fills a uniquely named stage and swaps it in (drop + rename) in the
same transaction, then gives the new table the old one's indexes and comments back;
``merge`` (and ``incremental`` with a key) upsert with ``MERGE INTO ... WHEN MATCHED
AND ... IS DISTINCT FROM ... THEN UPDATE ... WHEN NOT MATCHED THEN INSERT``.
``incremental`` stores its cursor in ``<schema>._typedrepl_state`` in the same
transaction as the rows; ``full_refresh`` deletes the table's row there. DuckDB's own
file lock keeps other processes out while the file is open for writing.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import duckdb
import pyarrow as pa

from typedrepl._models import Connection, LoadMode
from typedrepl._plan import STATE_TABLE, PlannedColumn, TablePlan
from typedrepl._types import LOOSE_EQUALITY_KINDS, Kind, LogicalType, duckdb_type
from typedrepl.engines._base import (
    CursorState,
    ExistingColumn,
    ExistingTable,
    LoadOutcome,
    log_kept,
)
from typedrepl.engines._ddconn import (
    catalog_of,
    check_creatable,
    compose,
    exists,
    open_duckdb,
    qualified,
    quote_duckdb,
    quote_string,
    type_sql,
)
from typedrepl.engines._errors import RejectedValueError, driver_error, kept_error, way_out
from typedrepl.errors import EngineError

__all__ = ["DuckDBDestination"]

_BATCH_VIEW = "__typedrepl_batch"
_INSERT_MARK = "-- insert each batch"


@attrs.frozen
class _Statement:
    text: str
    params: tuple[object, ...] = ()
    keeps: str | None = None
    """What a full refresh carries over from the replaced table with it, for an error."""


def _compared(prefix: str, col: PlannedColumn) -> str:
    """What the upsert compares of a column: its value, and for a kind whose equality is
    looser than sameness (``-0.0 = 0.0``, ``'1 month' = '30 days'``) its text as well."""
    ref = f"{prefix}.{quote_duckdb(col.name)}"
    if col.logical.kind in LOOSE_EQUALITY_KINDS:
        return f"{ref}, CAST({ref} AS VARCHAR)"
    return ref


def _insert_expression(col: PlannedColumn) -> str:
    """How a canonical Arrow column becomes the destination column's value."""
    ref = quote_duckdb(col.name)
    kind = col.logical.kind
    if kind is Kind.UUID:
        return f"CAST(hex({ref}) AS UUID)"
    if kind in (Kind.INT16, Kind.UINT16, Kind.JSON, Kind.JSON_TEXT):
        return f"CAST({ref} AS {type_sql(col.destination_type)})"
    return ref


_WIDE_RANGES: dict[Kind, tuple[int, int]] = {
    Kind.INT16: (-(2**127), 2**127 - 1),
    Kind.UINT16: (0, 2**128 - 1),
}
"""128-bit integers travel as text: their range is checked before DuckDB casts them."""


def _check_range(array: pa.Array[Any], col: PlannedColumn, before: int) -> None:
    low, high = _WIDE_RANGES[col.logical.kind]
    for index, text in enumerate(array.to_pylist()):
        if text is not None and not low <= int(str(text)) <= high:
            raise RejectedValueError(
                f"the value {text} at row {before + index + 1} of the load does not fit "
                f"DuckDB {col.destination_type} ({low} to {high}); {way_out(col.name)}",
                column=col.name,
            )


def _on(definition: str, plan: TablePlan, target: str) -> str:
    """DuckDB's ``CREATE INDEX`` text with its table named by ``target`` (with the catalog).

    DuckDB writes ``ON schema.table(`` (each name quoted only where needed), which is an
    ambiguous reference when the schema is named like the file's catalog.
    """
    for schema in (plan.schema, quote_duckdb(plan.schema)):
        for table in (plan.name, quote_duckdb(plan.name)):
            written = f" ON {schema}.{table}("
            if written in definition:
                return definition.replace(written, f" ON {target}(", 1)
    return definition


class DuckDBDestination:
    """Loads tables into a DuckDB file."""

    default_schema = "main"
    max_identifier_bytes: int | None = None

    def __init__(self, connection: Connection, *, log: logging.Logger, read_only: bool) -> None:
        self._secrets = connection.secrets
        self._log = log
        self._con: duckdb.DuckDBPyConnection | None = None
        if not read_only or exists(connection):
            self._con, _ = open_duckdb(connection, read_only=read_only, log=log)
        else:  # plan on a file that does not exist yet: could the run create it?
            check_creatable(connection)
        self._catalog = catalog_of(connection, self._con)
        self._stage = ""
        self._schema_exists = False
        self._state_exists = False
        self._in_transaction = False

    # ------------------------------------------------------------------ protocol

    def type_name(self, logical: LogicalType) -> str:
        """DuckDB's spelling of ``logical``."""
        return duckdb_type(logical)

    def begin(self, schema: str, table: str, *, lock: bool) -> None:
        """Start the table's transaction (the file lock is held while the file is open)."""
        self.rollback()
        self._stage = f"_typedrepl_{secrets.token_hex(6)}"
        if self._con is None:  # plan on a file that does not exist yet: a new file has "main"
            self._schema_exists = schema == self.default_schema
            self._state_exists = False
            return
        self._exec(_Statement("BEGIN TRANSACTION"), doing="cannot start the load")
        self._in_transaction = True
        self._schema_exists = bool(
            self._fetch(
                "SELECT count(*) FROM information_schema.schemata "
                "WHERE catalog_name = current_database() AND schema_name = ?",
                (schema,),
            )[0][0]
        )
        self._state_exists = self._columns(schema, STATE_TABLE) != []

    def existing(self, schema: str, table: str) -> ExistingTable | None:
        """The destination table as it is, or ``None``."""
        if self._con is None:
            return None
        rows = self._columns(schema, table)
        if not rows:
            return None
        key_rows = self._fetch(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? "
            "AND constraint_type = 'PRIMARY KEY'",
            (schema, table),
        )
        key: tuple[str, ...] = ()
        if key_rows:
            names = key_rows[0][0]
            assert isinstance(names, list)
            key = tuple(str(n) for n in names)
        has_rows = self._fetch(
            compose("SELECT EXISTS (SELECT 1 FROM {t})", t=qualified(self._catalog, schema, table))
        )[0][0]
        return ExistingTable(
            columns=tuple(
                ExistingColumn(str(n), str(t), str(null) == "YES") for n, t, null in rows
            ),
            primary_key=key,
            has_rows=bool(has_rows),
        )

    def cursor_state(self, schema: str, table: str) -> CursorState | None:
        """The stored cursor of ``table``, if any."""
        if self._con is None or not self._state_exists:
            return None
        rows = self._fetch(
            compose(
                "SELECT cursor_column, cursor_value FROM {state} WHERE table_name = ?",
                state=qualified(self._catalog, schema, STATE_TABLE),
            ),
            (table,),
        )
        if not rows:
            return None
        column, value = rows[0]
        return CursorState(column=str(column), value=None if value is None else str(value))

    def ddl(self, plan: TablePlan) -> tuple[str, ...]:
        """The statements :meth:`load` runs for ``plan``, as text."""
        statements = self._statements(plan, cursor_value=None)
        return tuple(s.text for s in statements if s.text != _INSERT_MARK)

    def load(
        self,
        plan: TablePlan,
        batches: Iterable[pa.RecordBatch],
        *,
        cursor_value: str | None,
        on_rows: Callable[[int], None],
    ) -> LoadOutcome:
        """Run ``plan`` inside the open transaction; the caller commits."""
        con = self._require()
        statements = self._statements(plan, cursor_value=cursor_value)
        at = next(i for i, s in enumerate(statements) if s.text == _INSERT_MARK)
        insert = statements[at - 1]
        kept = (s.keeps for s in statements if s.keeps is not None)
        log_kept(self._log, plan.schema, plan.name, kept)
        for statement in statements[: at - 1]:
            self._exec(statement, doing="load failed")
        written = 0
        wide = [(i, c) for i, c in enumerate(plan.columns) if c.logical.kind in _WIDE_RANGES]
        failed: list[BaseException] = []

        def checked(
            first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]
        ) -> Iterator[pa.RecordBatch]:
            nonlocal written
            try:
                for batch in itertools.chain((first,), rest):
                    if batch.schema != first.schema:
                        batch = batch.cast(first.schema)
                    for index, col in wide:
                        _check_range(batch.column(index), col, written)
                    yield batch
                    written += batch.num_rows
                    on_rows(batch.num_rows)
            except BaseException as exc:  # DuckDB sees only its text: the caller gets it whole
                failed.append(exc)
                raise

        rest = iter(batches)
        first = next(rest, None)
        if first is not None:
            # One statement reads all batches as a stream: DuckDB writes a large insert
            # to the file as it goes, where one statement per batch would keep every
            # batch in the transaction's memory until the commit.
            stream = pa.RecordBatchReader.from_batches(first.schema, checked(first, rest))
            con.register(_BATCH_VIEW, stream)
            try:
                self._exec(insert, doing="load failed")
            except Exception:
                if failed:  # the source's error, or a refused value: the cause of DuckDB's
                    raise failed[0] from None
                raise
            finally:
                # In an aborted transaction this fails too; the insert's error is the one to keep.
                with contextlib.suppress(duckdb.Error):
                    con.unregister(_BATCH_VIEW)
                stream.close()
        for statement in statements[at + 1 :]:
            if statement.keeps is None:
                self._exec(statement, doing="load failed")
                continue
            try:
                self._require().execute(statement.text)
            except duckdb.Error as exc:
                raise kept_error(statement.keeps, str(exc), self._secrets) from None
        target = qualified(self._catalog, plan.schema, plan.name)
        count = self._fetch(compose("SELECT count(*) FROM {t}", t=target))[0][0]
        assert isinstance(count, int)
        existing = self.existing(plan.schema, plan.name)
        assert existing is not None
        return LoadOutcome(
            rows_written=written, rows_in_destination=count, columns=existing.columns
        )

    def commit(self) -> None:
        """Commit the table's transaction."""
        if self._in_transaction:
            self._in_transaction = False
            self._exec(_Statement("COMMIT"), doing="commit failed")

    def rollback(self) -> None:
        """Roll back the table's transaction, if one is open."""
        if self._in_transaction and self._con is not None:
            self._in_transaction = False
            try:
                self._con.execute("ROLLBACK")
            except duckdb.Error:
                self._log.debug("rollback failed", exc_info=True)

    def close(self) -> None:
        """Roll back and close the file."""
        self.rollback()
        if self._con is not None:
            self._con.close()
            self._con = None

    # ------------------------------------------------------------------ statements

    def _statements(self, plan: TablePlan, *, cursor_value: str | None) -> list[_Statement]:
        out: list[_Statement] = []
        target = qualified(self._catalog, plan.schema, plan.name)
        if not self._schema_exists:
            out.append(
                _Statement(
                    compose(
                        "CREATE SCHEMA {c}.{s}",
                        c=quote_duckdb(self._catalog),
                        s=quote_duckdb(plan.schema),
                    )
                )
            )
        body = ", ".join(
            f"{quote_duckdb(c.name)} {type_sql(c.destination_type)}" for c in plan.columns
        )
        if plan.primary_key:
            body += f", PRIMARY KEY ({', '.join(map(quote_duckdb, plan.primary_key))})"
        if plan.mode is LoadMode.FULL_REFRESH:
            stage = qualified(self._catalog, plan.schema, self._stage)
            out.append(_Statement(compose("CREATE TABLE {t} ({body})", t=stage, body=body)))
            out.append(self._insert(plan, stage))
            out.append(_Statement(_INSERT_MARK))
            if not plan.create:
                out.append(_Statement(compose("DROP TABLE {t}", t=target)))
            out.append(
                _Statement(
                    compose(
                        "ALTER TABLE {t} RENAME TO {name}", t=stage, name=quote_duckdb(plan.name)
                    )
                )
            )
            if not plan.create:
                out += self._kept(plan, target)
            if plan.forget_cursor:
                out.append(
                    _Statement(
                        compose(
                            "DELETE FROM {state} WHERE table_name = ?",
                            state=qualified(self._catalog, plan.schema, STATE_TABLE),
                        ),
                        (plan.name,),
                    )
                )
        else:
            if plan.create:
                out.append(_Statement(compose("CREATE TABLE {t} ({body})", t=target, body=body)))
            for name in plan.add_columns:
                col = next(c for c in plan.columns if c.name == name)
                out.append(
                    _Statement(
                        compose(
                            "ALTER TABLE {t} ADD COLUMN {c} {type}",
                            t=target,
                            c=quote_duckdb(name),
                            type=type_sql(col.destination_type),
                        )
                    )
                )
            out.append(self._insert(plan, target))
            out.append(_Statement(_INSERT_MARK))
        if plan.mode is LoadMode.INCREMENTAL:
            out += self._state_statements(plan, cursor_value)
        return out

    def _kept(self, plan: TablePlan, target: str) -> list[_Statement]:
        """The replaced table's indexes and comments, to give the new table.

        An index's definition is DuckDB's own (``duckdb_indexes().sql``), never config
        text. DuckDB has no ``ALTER TABLE ... ADD CONSTRAINT`` for a check or unique
        constraint, grants or storage options, so there is nothing else to keep.
        """
        key = (plan.schema, plan.name)
        out = [
            _Statement(_on(str(definition), plan, target), keeps=f"index {str(name)!r}")
            for name, definition in self._fetch(
                "SELECT index_name, sql FROM duckdb_indexes() WHERE database_name = "
                "current_database() AND schema_name = ? AND table_name = ? ORDER BY 1",
                key,
            )
        ]
        (comment,) = self._fetch(
            "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ?",
            key,
        )[0]
        if comment is not None:
            out.append(
                _Statement(
                    compose("COMMENT ON TABLE {t} IS ", t=target) + quote_string(str(comment)),
                    keeps="comment on the table",
                )
            )
        names = {c.name for c in plan.columns}
        for name, text in self._fetch(
            "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = "
            "current_database() AND schema_name = ? AND table_name = ? "
            "AND comment IS NOT NULL ORDER BY column_index",
            key,
        ):
            if str(name) in names:
                out.append(
                    _Statement(
                        compose(
                            "COMMENT ON COLUMN {t}.{c} IS ", t=target, c=quote_duckdb(str(name))
                        )
                        + quote_string(str(text)),
                        keeps=f"comment on column {str(name)!r}",
                    )
                )
        return out

    @staticmethod
    def _insert(plan: TablePlan, into: str) -> _Statement:
        names = ", ".join(quote_duckdb(c.name) for c in plan.columns)
        exprs = ", ".join(_insert_expression(c) for c in plan.columns)
        text = compose(
            "INSERT INTO {into} AS t ({names}) SELECT {exprs} FROM {batch}",
            into=into,
            names=names,
            exprs=exprs,
            batch=quote_duckdb(_BATCH_VIEW),
        )
        if not plan.upsert:
            return _Statement(text)
        # MERGE rather than INSERT ... ON CONFLICT DO UPDATE, which in DuckDB 2.0 stores
        # [0.0] for a new list [-0.0] (tests/test_engine_modes.py).
        others = [c for c in plan.columns if c.name not in plan.primary_key]
        update = ""
        if others:
            sets = ", ".join(f"{quote_duckdb(c.name)} = s.{quote_duckdb(c.name)}" for c in others)
            old = ", ".join(_compared("t", c) for c in others)
            new = ", ".join(_compared("s", c) for c in others)
            update = compose(
                "WHEN MATCHED AND ROW({old}) IS DISTINCT FROM ROW({new}) THEN UPDATE SET {sets} ",
                old=old,
                new=new,
                sets=sets,
            )
        return _Statement(
            compose(
                "MERGE INTO {into} AS t USING (SELECT {exprs} FROM {batch}) AS s ON {on} "
                "{update}WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})",
                into=into,
                exprs=", ".join(
                    f"{_insert_expression(c)} AS {quote_duckdb(c.name)}" for c in plan.columns
                ),
                batch=quote_duckdb(_BATCH_VIEW),
                on=" AND ".join(
                    f"t.{quote_duckdb(k)} = s.{quote_duckdb(k)}" for k in plan.primary_key
                ),
                update=update,
                names=names,
                values=", ".join(f"s.{quote_duckdb(c.name)}" for c in plan.columns),
            )
        )

    def _state_statements(self, plan: TablePlan, cursor_value: str | None) -> list[_Statement]:
        state = qualified(self._catalog, plan.schema, STATE_TABLE)
        out: list[_Statement] = []
        if not self._state_exists:
            out.append(
                _Statement(
                    compose(
                        "CREATE TABLE {state} (table_name VARCHAR PRIMARY KEY, "
                        "cursor_column VARCHAR NOT NULL, cursor_value VARCHAR, "
                        "updated_at TIMESTAMP WITH TIME ZONE NOT NULL)",
                        state=state,
                    )
                )
            )
        out.append(
            _Statement(
                compose(
                    "INSERT INTO {state} AS s (table_name, cursor_column, cursor_value, updated_at) "
                    "VALUES (?, ?, ?, now()) ON CONFLICT (table_name) DO UPDATE SET "
                    "cursor_column = EXCLUDED.cursor_column, "
                    "cursor_value = COALESCE(EXCLUDED.cursor_value, s.cursor_value), "
                    "updated_at = EXCLUDED.updated_at",
                    state=state,
                ),
                (plan.name, plan.cursor, cursor_value),
            )
        )
        return out

    # ------------------------------------------------------------------ helpers

    def _require(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise EngineError("the DuckDB destination is not open for writing")
        return self._con

    def _columns(self, schema: str, table: str) -> list[tuple[object, ...]]:
        return self._fetch(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            (schema, table),
        )

    def _fetch(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            return self._require().execute(query, list(params)).fetchall()
        except duckdb.Error as exc:
            raise driver_error(exc, self._secrets, doing="cannot inspect the destination") from None

    def _exec(self, statement: _Statement, *, doing: str) -> None:
        try:
            self._require().execute(statement.text, list(statement.params))
        except duckdb.Error as exc:
            raise driver_error(exc, self._secrets, doing=doing) from None
