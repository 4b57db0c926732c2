"""PostgreSQL as a destination: one transaction per table, rows by binary ``COPY``.

* ``full_refresh``: ``CREATE TABLE`` a uniquely named stage, ``COPY`` into it, add the
  primary key, ``DROP`` the target, rename the stage: all in one transaction, so a
  failure or a killed process leaves the target as it was and no stage behind. The new
  table gets back the old one's options, indexes, constraints, triggers, policies,
  comments, grants and owner (``_pgkeep``).
* ``append`` (and ``incremental`` without a key): ``COPY`` straight into the target.
* ``merge`` (and ``incremental`` with a key): ``COPY`` into a temporary stage, then
  ``INSERT ... SELECT ... ORDER BY key ON CONFLICT (key) DO UPDATE ... WHERE target IS
  DISTINCT FROM excluded`` (rows that did not change are not rewritten).
* ``incremental`` stores its cursor in ``<schema>._typedrepl_state`` in the same
  transaction as the rows; ``full_refresh`` deletes the table's row there.

Each load first takes ``pg_advisory_xact_lock`` on a key derived from the schema and
table (see :func:`lock_key`), so two runs on one table take turns. A load that creates
the schema or its state table first takes the schema's lock (:func:`schema_lock_key`)
and creates them ``IF NOT EXISTS``: two loads of other tables into a new schema would
otherwise both create it, and the second fail on the first's.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, LiteralString

import psycopg
from psycopg import sql

from typedrepl._models import Connection, LoadMode
from typedrepl._plan import STATE_TABLE, TablePlan
from typedrepl._types import LOOSE_EQUALITY_KINDS, Kind, LogicalType, postgres_type
from typedrepl.engines._base import (
    CursorState,
    ExistingColumn,
    ExistingTable,
    LoadOutcome,
    log_kept,
)
from typedrepl.engines._errors import RejectedValueError, driver_error, kept_error
from typedrepl.engines._pgconn import LOCK_TIMEOUT, connect
from typedrepl.engines._pgkeep import Kept, KeptStatement, read_kept
from typedrepl.engines._pgwire import CopyEncoder, WireValueError
from typedrepl.errors import EngineError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["PostgresDestination", "lock_key", "schema_lock_key"]

_MAX_IDENTIFIER_BYTES = 63
_CONTEXT_LINE = re.compile(r"^COPY [^\n]*?, line (\d+), column (.*)$", re.MULTILINE)


def lock_key(schema: str, table: str) -> int:
    """The advisory lock key of a destination table: 64 bits of BLAKE2b of its name."""
    digest = hashlib.blake2b(f"typedrepl\x00{schema}\x00{table}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def schema_lock_key(schema: str) -> int:
    """The advisory lock key of creating a destination schema or its state table.

    Taken after the table's own lock (:func:`lock_key`), and no table lock after it, so
    the two cannot deadlock.
    """
    digest = hashlib.blake2b(f"typedrepl schema\x00{schema}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


_TYPE_NAME = re.compile(r"^[a-z0-9 (),\[\]]+$")


def _type_sql(name: str) -> sql.SQL:
    """A type name from the mapping table as SQL (checked to be a plain type name)."""
    if not _TYPE_NAME.match(name):
        raise EngineError(f"refusing an unexpected type name {name!r}")
    return sql.SQL(name)


_Statement = sql.Composed | sql.SQL | KeptStatement


def _sql(statement: _Statement) -> sql.Composed | sql.SQL:
    return statement.statement if isinstance(statement, KeptStatement) else statement


def _as_int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _truncate(name: str, max_bytes: int) -> str:
    encoded = name.encode()[:max_bytes]
    return encoded.decode(errors="ignore")


class PostgresDestination:
    """Loads tables into a PostgreSQL database."""

    default_schema = "public"
    max_identifier_bytes: int | None = _MAX_IDENTIFIER_BYTES

    def __init__(self, connection: Connection, *, log: logging.Logger, read_only: bool) -> None:
        self._connection = connection
        self._secrets = connection.secrets
        self._log = log
        self._read_only = read_only
        self._conn = connect(connection)
        self._conn.read_only = read_only
        self._stage = ""
        self._schema_exists = True
        self._state_exists = False
        self._used = False
        """Whether a table began on this connection: only then is a lost one replaced."""

    # ------------------------------------------------------------------ protocol

    def type_name(self, logical: LogicalType) -> str:
        """PostgreSQL's spelling of ``logical``."""
        return postgres_type(logical)

    def begin(self, schema: str, table: str, *, lock: bool) -> None:
        """Start the transaction; with ``lock``, take the table's advisory lock.

        A connection lost since the table before (it is kept open between tables) is
        replaced by a new one, once."""
        self.rollback()
        self._stage = f"_typedrepl_{secrets.token_hex(6)}"
        try:
            self._begin(schema, table, lock=lock)
        except EngineError:
            if not (self._conn.closed and self._used):
                raise
            self._log.info(
                "the destination connection was lost since the table before: reconnecting"
            )
            self._conn = connect(self._connection)
            self._conn.read_only = self._read_only
            self._begin(schema, table, lock=lock)
        self._used = True

    def _begin(self, schema: str, table: str, *, lock: bool) -> None:
        try:
            if lock:
                self._conn.execute(
                    sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT))
                )
                key = lock_key(schema, table)
                got = self._one("SELECT pg_try_advisory_xact_lock(%s)", (key,))
                if not got:
                    self._log.info(
                        "waiting for the lock on %s.%s: another run is loading it", schema, table
                    )
                    self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                    self._log.info("got the lock on %s.%s", schema, table)
            self._schema_exists = bool(
                self._one("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,))
            )
            self._state_exists = self._table_oid(schema, STATE_TABLE) is not None
        except psycopg.Error as exc:
            raise self._error(exc, "cannot start the load") from None

    def existing(self, schema: str, table: str) -> ExistingTable | None:
        """The destination table as it is, or ``None``."""
        try:
            oid = self._table_oid(schema, table)
            if oid is None:
                return None
            rows = self._conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod), NOT attnotnull "
                "FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum",
                (oid,),
            ).fetchall()
            key = self._conn.execute(
                "SELECT a.attname FROM pg_index i "
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = %s AND i.indisprimary ORDER BY k.ord",
                (oid,),
            ).fetchall()
        except psycopg.Error as exc:
            raise self._error(exc, "cannot inspect the destination table") from None
        columns = tuple(
            ExistingColumn(str(name), str(type_), bool(nullable)) for name, type_, nullable in rows
        )
        try:
            has_rows = self._one(
                sql.SQL("SELECT EXISTS (SELECT FROM {})").format(sql.Identifier(schema, table))
            )
        except psycopg.Error as exc:
            raise self._error(exc, "cannot inspect the destination table") from None
        return ExistingTable(
            columns=columns, primary_key=tuple(str(r[0]) for r in key), has_rows=bool(has_rows)
        )

    def cursor_state(self, schema: str, table: str) -> CursorState | None:
        """The stored cursor of ``table``, if any."""
        if not self._state_exists:
            return None
        try:
            row = self._conn.execute(
                sql.SQL("SELECT cursor_column, cursor_value FROM {} WHERE table_name = {}").format(
                    sql.Identifier(schema, STATE_TABLE), sql.Literal(table)
                )
            ).fetchone()
        except psycopg.Error as exc:
            raise self._error(exc, "cannot read the cursor state") from None
        if row is None:
            return None
        return CursorState(column=str(row[0]), value=None if row[1] is None else str(row[1]))

    def ddl(self, plan: TablePlan) -> tuple[str, ...]:
        """The statements :meth:`load` runs for ``plan``, as text."""
        statements = self._statements(plan, cursor_value=None)
        shown = (s for s in statements if s is not self._COPY_MARK)
        return tuple(
            _sql(s).as_string(self._conn) for s in shown if s is not self._SCHEMA_LOCK_MARK
        )

    def load(
        self,
        plan: TablePlan,
        batches: Iterable[pa.RecordBatch],
        *,
        cursor_value: str | None,
        on_rows: Callable[[int], None],
    ) -> LoadOutcome:
        """Run ``plan`` inside the open transaction; the caller commits."""
        target = sql.Identifier(plan.schema, plan.name)
        statements = self._statements(plan, cursor_value=cursor_value)
        at = statements.index(self._COPY_MARK)
        before, copy_statement, after = (
            statements[: at - 1],
            statements[at - 1],
            statements[at + 1 :],
        )
        kept = (s.what for s in after if isinstance(s, KeptStatement))
        log_kept(self._log, plan.schema, plan.name, kept)
        try:
            for statement in before:
                if statement is self._SCHEMA_LOCK_MARK:
                    self._lock_schema(plan.schema)
                else:
                    self._conn.execute(_sql(statement))
            written = self._copy(_sql(copy_statement), plan, batches, on_rows)
            for statement in after:
                if isinstance(statement, KeptStatement):
                    self._keep(statement)
                elif statement is self._SCHEMA_LOCK_MARK:
                    self._lock_schema(plan.schema)
                else:
                    self._conn.execute(statement)
            if plan.mode is LoadMode.FULL_REFRESH:
                count: object = written  # the target is the stage: exactly the rows copied
            else:
                count = self._one(sql.SQL("SELECT count(*) FROM {}").format(target))
        except psycopg.Error as exc:
            raise self._load_error(exc, plan) from None
        existing = self.existing(plan.schema, plan.name)
        assert existing is not None
        return LoadOutcome(
            rows_written=written, rows_in_destination=_as_int(count), columns=existing.columns
        )

    def commit(self) -> None:
        """Commit the table's transaction."""
        try:
            self._conn.commit()
        except psycopg.Error as exc:
            raise self._error(exc, "commit failed") from None

    def rollback(self) -> None:
        """Roll back (quietly: the connection may be gone)."""
        if self._conn.closed:
            return
        try:
            self._conn.rollback()
        except psycopg.Error:
            self._log.debug("rollback failed", exc_info=True)

    def close(self) -> None:
        """Roll back and close the connection."""
        self.rollback()
        self._conn.close()

    # ------------------------------------------------------------------ statements

    _COPY_MARK = sql.SQL("-- COPY")
    _SCHEMA_LOCK_MARK = sql.SQL("-- lock the schema")

    def _statements(self, plan: TablePlan, *, cursor_value: str | None) -> list[_Statement]:
        """Every statement of the load in order; ``_COPY_MARK`` stands where the COPY runs,
        ``_SCHEMA_LOCK_MARK`` where the schema's lock is taken (neither is shown)."""
        out: list[_Statement] = []
        target = sql.Identifier(plan.schema, plan.name)
        if not self._schema_exists:
            out.append(self._SCHEMA_LOCK_MARK)
            out.append(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(plan.schema))
            )
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c.name), _type_sql(c.destination_type))
            for c in plan.columns
        )
        names = sql.SQL(", ").join(sql.Identifier(c.name) for c in plan.columns)
        key = sql.SQL(", ").join(sql.Identifier(k) for k in plan.primary_key)
        if plan.mode is LoadMode.FULL_REFRESH:
            kept = Kept() if plan.create else self._kept(plan, target)
            stage = sql.Identifier(plan.schema, self._stage)
            out.append(
                sql.SQL("CREATE {}TABLE {} ({}){}").format(
                    sql.SQL("UNLOGGED " if kept.unlogged else ""),
                    stage,
                    columns,
                    kept.with_clause(),
                )
            )
            out.append(self._copy_statement(stage, names))
            out.append(self._COPY_MARK)
            if plan.primary_key:
                out.append(
                    sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                        stage, sql.Identifier(self._stage + "_pkey"), key
                    )
                )
            if not plan.create:
                out.append(sql.SQL("DROP TABLE {}").format(target))
            out.append(
                sql.SQL("ALTER TABLE {} RENAME TO {}").format(stage, sql.Identifier(plan.name))
            )
            if plan.primary_key:
                out.append(
                    sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                        target,
                        sql.Identifier(self._stage + "_pkey"),
                        sql.Identifier(self._free_key_name(plan)),
                    )
                )
            out += kept.after
            if plan.forget_cursor:
                out.append(
                    sql.SQL("DELETE FROM {} WHERE table_name = {}").format(
                        sql.Identifier(plan.schema, STATE_TABLE), sql.Literal(plan.name)
                    )
                )
        else:
            if plan.create:
                body = columns
                if plan.primary_key:
                    body = sql.SQL("{}, PRIMARY KEY ({})").format(columns, key)
                out.append(sql.SQL("CREATE TABLE {} ({})").format(target, body))
            for name in plan.add_columns:
                col = next(c for c in plan.columns if c.name == name)
                out.append(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        target, sql.Identifier(name), _type_sql(col.destination_type)
                    )
                )
            if plan.upsert:
                stage = sql.Identifier(self._stage)
                out.append(
                    sql.SQL("CREATE TEMPORARY TABLE {} ({}) ON COMMIT DROP").format(stage, columns)
                )
                out.append(self._copy_statement(stage, names))
                out.append(self._COPY_MARK)
                out.append(self._upsert(plan, stage, names, key))
            else:
                out.append(self._copy_statement(target, names))
                out.append(self._COPY_MARK)
        if plan.mode is LoadMode.INCREMENTAL:
            out += self._state_statements(plan, cursor_value)
        return out

    @staticmethod
    def _copy_statement(into: sql.Identifier, names: sql.Composable) -> sql.Composed:
        return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(into, names)

    def _upsert(
        self, plan: TablePlan, stage: sql.Identifier, names: sql.Composable, key: sql.Composable
    ) -> sql.Composed:
        target = sql.Identifier(plan.schema, plan.name)
        others = [c for c in plan.columns if c.name not in plan.primary_key]
        # In key order, the upsert visits the target's index and pages in order: with the
        # changes in random order, 500,000 of them into a 5,000,000-row table took 11.9 s
        # and wrote 3.2 GB of WAL (pages evicted, then dirtied again); sorted, 4.0 s and
        # 0.9 GB (bench/README.md).
        insert = sql.SQL(
            "INSERT INTO {} AS t ({}) SELECT {} FROM {} ORDER BY {} ON CONFLICT ({})"
        ).format(target, names, names, stage, key, key)
        if not others:
            return sql.SQL("{} DO NOTHING").format(insert)

        def side(prefix: str, kind: Kind, name: str) -> sql.Composable:
            ref = sql.Identifier(prefix, name)
            if kind is Kind.JSON_TEXT:  # json has no equality: its exact text
                return sql.SQL("{}::text").format(ref)
            if kind in LOOSE_EQUALITY_KINDS:  # the value, and its text for -0.0 vs 0.0...
                return sql.SQL("{}, {}::text").format(ref, ref)
            return ref

        sets = sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c.name), sql.Identifier(c.name))
            for c in others
        )
        old = sql.SQL(", ").join(side("t", c.logical.kind, c.name) for c in others)
        new = sql.SQL(", ").join(side("excluded", c.logical.kind, c.name) for c in others)
        return sql.SQL("{} DO UPDATE SET {} WHERE ROW({}) IS DISTINCT FROM ROW({})").format(
            insert, sets, old, new
        )

    def _state_statements(self, plan: TablePlan, cursor_value: str | None) -> list[_Statement]:
        state = sql.Identifier(plan.schema, STATE_TABLE)
        out: list[_Statement] = []
        if not self._state_exists:
            if self._schema_exists:  # else the lock is held since the schema was created
                out.append(self._SCHEMA_LOCK_MARK)
            out.append(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (table_name text PRIMARY KEY, "
                    "cursor_column text NOT NULL, "
                    "cursor_value text, updated_at timestamp with time zone NOT NULL)"
                ).format(state)
            )
        out.append(
            sql.SQL(
                "INSERT INTO {} (table_name, cursor_column, cursor_value, updated_at) "
                "VALUES ({}, {}, {}, now()) ON CONFLICT (table_name) DO UPDATE SET "
                "cursor_column = EXCLUDED.cursor_column, "
                "cursor_value = COALESCE(EXCLUDED.cursor_value, {}.cursor_value), "
                "updated_at = EXCLUDED.updated_at"
            ).format(
                state,
                sql.Literal(plan.name),
                sql.Literal(plan.cursor),
                sql.Literal(cursor_value),
                sql.Identifier(STATE_TABLE),
            )
        )
        return out

    # ------------------------------------------------------------------ copy

    def _copy(
        self,
        statement: sql.Composed | sql.SQL,
        plan: TablePlan,
        batches: Iterable[pa.RecordBatch],
        on_rows: Callable[[int], None],
    ) -> int:
        # JSON text a source marks as its own (is_raw_json) is checked for duplicate keys,
        # which jsonb would silently drop
        encoder = CopyEncoder([(c.name, c.logical) for c in plan.columns])
        written = 0
        with self._conn.cursor() as cur, cur.copy(statement) as copy:
            copy.write(encoder.header())
            for batch in batches:
                try:
                    data = encoder.encode(batch)
                except WireValueError as exc:
                    raise RejectedValueError(str(exc), column=exc.column, row=exc.row) from None
                except ValueError as exc:  # pgpq
                    raise EngineError(f"cannot encode a batch for PostgreSQL: {exc}") from None
                for chunk in data:
                    copy.write(chunk)
                written += batch.num_rows
                on_rows(batch.num_rows)
            copy.write(encoder.trailer())
        return written

    # ------------------------------------------------------------------ kept

    def _kept(self, plan: TablePlan, target: sql.Identifier) -> Kept:
        try:
            oid = self._table_oid(plan.schema, plan.name)
            if oid is None:  # the plan said it exists: it went away meanwhile
                return Kept()
            kept = read_kept(self._conn, oid, target, {c.name for c in plan.columns})
        except psycopg.Error as exc:
            raise self._error(exc, "cannot read what the replaced table has") from None
        for warning in kept.warnings:
            self._log.warning("%s.%s: %s", plan.schema, plan.name, warning)
        return kept

    def _keep(self, kept: KeptStatement) -> None:
        try:
            self._conn.execute(kept.statement)
        except psycopg.Error as exc:
            message = exc.diag.message_primary or str(exc)
            if exc.diag.message_detail:
                message += f" ({exc.diag.message_detail})"
            raise kept_error(kept.what, message, self._secrets) from None

    # ------------------------------------------------------------------ helpers

    def _lock_schema(self, schema: str) -> None:
        """Wait for the schema's lock (held to the end of the transaction)."""
        key = schema_lock_key(schema)
        if not self._one("SELECT pg_try_advisory_xact_lock(%s)", (key,)):
            self._log.info(
                "waiting for the lock on schema %s: another run is creating it or its %s table",
                schema,
                STATE_TABLE,
            )
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            self._log.info("got the lock on schema %s", schema)

    def _one(self, query: LiteralString | sql.Composed, params: tuple[object, ...] = ()) -> object:
        # Without parameters psycopg reads no placeholders: a '%' in a quoted name is safe.
        row = self._conn.execute(query, params or None).fetchone()
        return None if row is None else row[0]

    def _free_key_name(self, plan: TablePlan) -> str:
        """A name for the primary key index that no other relation of the schema has.

        ``<table>_pkey`` as PostgreSQL names it, else ``<table>_pkey1``, ``2``...: two
        long table names sharing their first 58 bytes would otherwise collide. The
        target's own index does not count (it is dropped with the old table).
        """
        try:
            target = self._table_oid(plan.schema, plan.name) if not plan.create else None
            for n in range(1000):
                suffix = "_pkey" + (str(n) if n else "")
                name = _truncate(plan.name, _MAX_IDENTIFIER_BYTES - len(suffix)) + suffix
                taken = self._one(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
                    "WHERE s.nspname = %s AND c.relname = %s AND c.oid NOT IN "
                    "(SELECT indexrelid FROM pg_index WHERE indrelid = %s)",
                    (plan.schema, name, target or 0),
                )
                if not taken:
                    return name
        except psycopg.Error as exc:
            raise self._error(exc, "cannot name the primary key") from None
        raise EngineError(f"no free name for the primary key of {plan.schema}.{plan.name}")

    def _table_oid(self, schema: str, table: str) -> int | None:
        oid = self._one(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
            (schema, table),
        )
        return None if oid is None else _as_int(oid)

    def _error(self, exc: psycopg.Error, doing: str) -> EngineError:
        return driver_error(exc, self._secrets, doing=doing)

    def _load_error(self, exc: psycopg.Error, plan: TablePlan) -> EngineError:
        diag = exc.diag
        context = diag.context or ""
        match = _CONTEXT_LINE.search(context)
        column: str | None = None
        row: int | None = None
        if match:
            row = int(match[1])
            tail = match[2]
            known = sorted((c.name for c in plan.columns), key=len, reverse=True)
            column = next((n for n in known if tail == n or tail.startswith(n + ":")), tail)
        message = diag.message_primary or str(exc)
        if diag.message_detail:
            message += f" ({diag.message_detail})"
        if diag.sqlstate is None:  # no server error: the connection itself failed
            message = f"lost the connection to the destination during the load: {message}"
        else:
            message = f"the destination rejected the load: {message}"
        if row is not None:
            message += f" at row {row} of the load"
        if diag.sqlstate == "23505" and plan.mode is LoadMode.FULL_REFRESH:
            message += "; the source has duplicate primary keys"
        if diag.sqlstate == "2BP01" and plan.mode is LoadMode.FULL_REFRESH:
            message += (
                "; full_refresh replaces the table, which other objects depend on: drop them "
                "first, or load with mode merge (the destination was not changed)"
            )
        base = driver_error(Exception(message), self._secrets, doing="load failed")
        nul = diag.sqlstate == "22021" and "0x00" in (diag.message_primary or "")
        if column is not None:
            return RejectedValueError(str(base), column=column, row=row, nul=nul)
        return base
