"""What a run would do to each table: decided from the config and both sides' schemas.

:func:`decide` is a pure function of the config and what the engines report; the
run uses it too (inside the destination's transaction), so ``plan`` and ``run``
cannot disagree. :func:`plan` only reads: it opens no write transaction.

Rules the plan encodes:

* ``full_refresh`` rebuilds the table from the source's columns (a column gone from
  the source disappears, a changed type is taken); the other modes keep the table:
  new source columns are added, columns gone from the source stay (NULL in new
  rows), and a changed type is an error.
* ``incremental`` with a primary key reads the rows whose cursor is ``>=`` the
  stored value and upserts them: rows that share the boundary value but arrived
  after the last run are not missed, and rows loaded before are rewritten only if
  they changed. Without a key it reads ``>`` the stored value (use a strictly
  increasing cursor). Rows whose cursor is NULL are never loaded (not even on the
  first run); the run logs how many there are.
* The stored cursor is ignored when the destination table does not exist (it is
  then loaded in full). A ``full_refresh`` deletes the table's stored cursor in its
  transaction: the cursor described the rows it replaces.
* ``incremental`` without a key and without a stored cursor into a destination table
  that has rows is an error: it would append every row again. (Starting past the
  destination's own greatest value is not exact: text is ordered by each database's
  own collation, and an enum by its declaration.)
* An enum cannot be a cursor: it is ordered by the declaration of its values, but
  copied, stored and compared as its text.
* A column in ``column_types`` is read as text or JSON whatever its source type
  (also one without a mapping); the plan keeps its source type for display.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence

import attrs

from typedrepl._converter import suggest
from typedrepl._models import ColumnType, LoadMode, Replication, Table, TableT
from typedrepl._secrets import scrub
from typedrepl._types import CURSOR_KINDS, Kind, LogicalType, UnsupportedTypeError
from typedrepl.engines import load_engine
from typedrepl.engines._base import (
    CursorState,
    DestinationEngine,
    ExistingTable,
    SourceColumn,
    SourceEngine,
)
from typedrepl.engines._errors import way_out
from typedrepl.errors import EngineError, TypedReplError

__all__ = ["Action", "PlannedColumn", "TablePlan", "decide", "plan"]

STATE_TABLE = "_typedrepl_state"
"""The table (in each destination schema) holding the cursors of ``incremental`` tables."""


class Action(enum.StrEnum):
    """What a load does to the destination table."""

    CREATE = "create"
    REPLACE = "replace"
    APPEND = "append"
    MERGE = "merge"
    INCREMENTAL = "incremental"


@attrs.frozen
class PlannedColumn:
    """A copied column: its source type and the destination type it gets."""

    name: str
    source_type: str
    """The source's own type (also when ``override`` reads it as another)."""
    logical: LogicalType
    destination_type: str
    override: ColumnType | None = None
    """The table's ``column_types`` entry: the column is read as text or JSON."""


@attrs.frozen(kw_only=True)
class TablePlan:
    """What a run would do to one table, and the schema statements it would execute."""

    table: str
    """The table's ``name`` in the config."""
    mode: LoadMode
    source_schema: str
    source_table: str
    schema: str
    """The destination schema."""
    name: str
    """The destination table."""
    action: Action
    columns: tuple[PlannedColumn, ...] = ()
    primary_key: tuple[str, ...] = ()
    create: bool = False
    """The destination table does not exist yet."""
    add_columns: tuple[str, ...] = ()
    """Columns new in the source, added to the destination."""
    kept_columns: tuple[str, ...] = ()
    """Destination columns the source no longer has (they stay and get NULLs)."""
    upsert: bool = False
    """Rows are matched on the primary key (merge, and incremental with a key)."""
    cursor: str | None = None
    cursor_from: str | None = None
    """For ``incremental``: the stored cursor value; ``None`` loads every row."""
    cursor_op: str = ">"
    forget_cursor: bool = False
    """For ``full_refresh``: delete the table's stored cursor (it described the old rows)."""
    ddl: tuple[str, ...] = ()
    error: str | None = None
    error_column: str | None = None

    @property
    def destination(self) -> str:
        """``schema.table`` of the destination."""
        return f"{self.schema}.{self.name}"

    def describe(self) -> str:
        """One line saying what the load does."""
        if self.error is not None:
            return f"error: {self.error}"
        parts: list[str] = []
        if self.create:
            parts.append(f"create {self.destination}")
        if self.action is Action.REPLACE:
            parts.append(f"replace {self.destination}" if not self.create else "load")
            if self.forget_cursor:
                parts.append("forget the stored cursor")
        elif self.action is Action.APPEND:
            parts.append("append")
        elif self.action is Action.MERGE:
            parts.append(f"merge on ({', '.join(self.primary_key)})")
        elif self.action is Action.INCREMENTAL:
            if self.cursor_from is None:
                parts.append(f"incremental: every row (cursor {self.cursor})")
            else:
                parts.append(
                    f"incremental from {self.cursor} {self.cursor_op} {self.cursor_from!r}"
                )
            if self.upsert:
                parts.append(f"upsert on ({', '.join(self.primary_key)})")
        parts += [
            f"column {c.name}: {c.source_type} read as {c.override}"
            for c in self.columns
            if c.override is not None
        ]
        parts += [f"add column {name}" for name in self.add_columns]
        parts += [f"keep column {name} (NULL for new rows)" for name in self.kept_columns]
        return "; ".join(parts)


_OVERRIDE_TYPES: dict[ColumnType, LogicalType] = {
    ColumnType.TEXT: LogicalType(Kind.TEXT),
    ColumnType.JSON: LogicalType(Kind.JSON),
}
"""The type an overridden column is read as. ``JSON`` (not ``JSON_TEXT``): PostgreSQL stores
it as ``jsonb`` (matched by equality in a merge), DuckDB as ``JSON``."""


def _select(table: Table, source: Sequence[SourceColumn]) -> tuple[SourceColumn, ...]:
    by_name = {c.name: c for c in source}
    wanted = table.columns if table.columns is not None else tuple(c.name for c in source)
    named = [*wanted, *table.exclude_columns, *table.primary_key, *table.column_types]
    if table.cursor is not None:
        named.append(table.cursor)
    unknown = sorted({n for n in named if n not in by_name})
    if unknown:
        raise EngineError(
            f"column(s) {', '.join(map(repr, unknown))} not found in the source table "
            f"(it has {', '.join(by_name)})",
            table=table.name,
        )
    excluded = set(table.exclude_columns)
    return tuple(by_name[n] for n in wanted if n not in excluded)


def decide(
    table: Table,
    *,
    source_columns: Sequence[SourceColumn],
    source_schema: str,
    schema: str,
    existing: ExistingTable | None,
    state: CursorState | None,
    destination: DestinationEngine,
) -> TablePlan:
    """Decide what loading ``table`` does (a plan with ``error`` set when it cannot be loaded)."""
    mode = table.mode
    action = {
        LoadMode.FULL_REFRESH: Action.REPLACE,
        LoadMode.APPEND: Action.APPEND,
        LoadMode.MERGE: Action.MERGE,
        LoadMode.INCREMENTAL: Action.INCREMENTAL,
    }[mode]
    base = TablePlan(
        table=table.name,
        mode=mode,
        source_schema=source_schema,
        source_table=table.name,
        schema=schema,
        name=table.target_name,
        action=action,
        primary_key=table.primary_key,
        cursor=table.cursor,
        create=existing is None,
    )
    try:
        selected = _select(table, source_columns)
    except EngineError as exc:
        return attrs.evolve(base, error=str(exc).removeprefix(f"table {table.name!r}: "))
    if table.target_name == STATE_TABLE:
        return attrs.evolve(
            base,
            error=f"the destination table name {STATE_TABLE!r} is reserved for typedrepl's "
            "cursor state; set destination_table to another name",
        )
    limit = destination.max_identifier_bytes
    if limit is not None:
        long_names = [c.name for c in selected if len(c.name.encode()) > limit]
        if long_names:
            return attrs.evolve(
                base,
                error=f"column name(s) {', '.join(map(repr, long_names))} are longer than "
                f"{limit} bytes, which the destination would silently truncate; rename them "
                "in a source view, or leave them out with exclude_columns",
                error_column=long_names[0],
            )
    columns: list[PlannedColumn] = []
    unmapped: list[tuple[SourceColumn, str]] = []
    for col in selected:
        given = table.column_types.get(col.name)
        override = None if given is None else ColumnType(given)
        logical = col.logical if override is None else _OVERRIDE_TYPES[override]
        if logical is None:
            unmapped.append((col, str(col.problem)))
            continue
        try:
            dest_type = destination.type_name(logical)
        except UnsupportedTypeError as exc:
            unmapped.append((col, str(exc)))
            continue
        columns.append(PlannedColumn(col.name, col.native_type, logical, dest_type, override))
    if unmapped:
        return _unmapped(base, unmapped)
    base = attrs.evolve(base, columns=tuple(columns))
    if table.cursor is not None:
        cursor_col = next(c for c in columns if c.name == table.cursor)
        if next(c for c in selected if c.name == table.cursor).enum:
            return attrs.evolve(
                base,
                error=f"cursor {table.cursor!r} has the enum type {cursor_col.source_type}, "
                "which cannot be a cursor: an enum is ordered by the declaration of its values, "
                "not by their text (use a number, text, date, time, timestamp or uuid column)",
                error_column=table.cursor,
            )
        if cursor_col.logical.kind not in CURSOR_KINDS:
            return attrs.evolve(
                base,
                error=f"cursor {table.cursor!r} has type {cursor_col.source_type}, which cannot "
                "be a cursor (use a number, text, date, time, timestamp or uuid column)",
                error_column=table.cursor,
            )
    upsert = bool(table.primary_key) and mode in (LoadMode.MERGE, LoadMode.INCREMENTAL)
    base = attrs.evolve(base, upsert=upsert, cursor_op=">=" if upsert else ">")
    if mode is LoadMode.FULL_REFRESH:
        base = attrs.evolve(base, forget_cursor=state is not None)
    if existing is None or mode is LoadMode.FULL_REFRESH:
        if existing is not None:
            before = {c.name for c in existing.columns}
            added = tuple(c.name for c in columns if c.name not in before)
            base = attrs.evolve(base, add_columns=added)
        return base
    return _against_existing(base, table, existing, state)


def _unmapped(base: TablePlan, unmapped: Sequence[tuple[SourceColumn, str]]) -> TablePlan:
    """The plan's error naming every column that cannot be copied, with one way out for all.

    One column: ``column 'b': source type BIT cannot be copied: ...; set column_types: {b:
    text} ...``; several: each column's clause in turn, then the way out naming them all
    (``error_column`` is then ``None``: the error is not about one column).
    """
    reasons = [
        f"column {col.name!r}: source type {col.native_type} cannot be copied: {why}"
        for col, why in unmapped
    ]
    names = [col.name for col, _ in unmapped]
    return attrs.evolve(
        base,
        error=f"{'; '.join(reasons)}; {way_out(*names)}",
        error_column=names[0] if len(names) == 1 else None,
    )


def _against_existing(
    base: TablePlan, table: Table, existing: ExistingTable, state: CursorState | None
) -> TablePlan:
    added: list[str] = []
    for col in base.columns:
        found = existing.column(col.name)
        if found is None:
            added.append(col.name)
        elif found.type.lower() != col.destination_type.lower():
            return attrs.evolve(
                base,
                error=f"type change: column {col.name!r} is {found.type} in the destination but "
                f"the source type {col.source_type} now maps to {col.destination_type}; "
                "use mode full_refresh to recreate the table, or alter the destination",
                error_column=col.name,
            )
    names = {c.name for c in base.columns}
    kept = tuple(c.name for c in existing.columns if c.name not in names)
    base = attrs.evolve(base, add_columns=tuple(added), kept_columns=kept)
    if base.upsert and set(existing.primary_key) != set(table.primary_key):
        have = f"({', '.join(existing.primary_key)})" if existing.primary_key else "none"
        return attrs.evolve(
            base,
            error=f"the destination table needs a primary key on ({', '.join(table.primary_key)}) "
            f"to match rows; it has {have}",
        )
    if table.mode is LoadMode.INCREMENTAL and state is not None:
        if state.column != table.cursor:
            return attrs.evolve(
                base,
                error=f"the stored cursor is on column {state.column!r}, not {table.cursor!r}; "
                f"delete the row {base.name!r} from {base.schema}.{STATE_TABLE} to start over",
            )
        base = attrs.evolve(base, cursor_from=state.value)
    if (
        table.mode is LoadMode.INCREMENTAL
        and not base.upsert
        and base.cursor_from is None
        and existing.has_rows
    ):
        return attrs.evolve(base, error=_no_stored_cursor(base))
    return base


def _no_stored_cursor(base: TablePlan) -> str:
    """Why incremental without a key refuses a table that has rows but no stored cursor."""

    def literal(text: str | None) -> str:
        return "'" + str(text).replace("'", "''") + "'"

    state = f"{base.schema}.{STATE_TABLE}"
    return (  # a message showing a statement, not a query
        f"{base.destination} has rows but no stored cursor: incremental without a primary key "  # noqa: S608
        "would append them all again (a full_refresh forgets the cursor, other modes store "
        "none); empty the table to load every row, set primary_key to upsert the rows instead, "
        f"or store the last value loaded: INSERT INTO {state} (table_name, cursor_column, "
        f"cursor_value, updated_at) VALUES ({literal(base.name)}, {literal(base.cursor)}, "
        f"'<last {base.cursor}>', now())"
    )


def select_tables(
    replication: Replication[TableT], names: Sequence[str] | None
) -> tuple[TableT, ...]:
    """The tables called ``names``, in config order (all of them for ``None``).

    Raises:
        EngineError: naming every unknown name, each with the closest table name
            (``no such table(s) in the replication: user (did you mean 'users'?)``).
        TypeError: ``names`` is one string, not a sequence of names.
    """
    try:
        return replication.select(names)
    except KeyError:
        assert names is not None
        known = [t.name for t in replication.tables]
        unknown = sorted(set(names) - set(known))
        listed = ", ".join(name + suggest(name, known) for name in unknown)
        raise EngineError(f"no such table(s) in the replication: {listed}") from None


def plan(
    replication: Replication[TableT],
    tables: Sequence[str] | None = None,
    *,
    logger: logging.Logger | None = None,
) -> tuple[TablePlan, ...]:
    """Say per table what a run would do, and the schema statements it would execute.

    Read-only: both sides are only inspected. A table that cannot be loaded gets a
    plan with ``error`` set (a missing source table, an unmappable type, a type change).
    Unknown names in ``tables`` raise :class:`EngineError` naming them.
    """
    log = logger or logging.getLogger("typedrepl")
    selected = select_tables(replication, tables)
    src_conn = replication.connections.source
    dst_conn = replication.connections.destination
    secrets = (*src_conn.secrets, *dst_conn.secrets)
    source = load_engine(src_conn).open_source(src_conn, log=log)
    try:
        destination = load_engine(dst_conn).open_destination(dst_conn, log=log, read_only=True)
        try:
            return tuple(_plan_one(t, source, destination, secrets) for t in selected)
        finally:
            destination.close()
    finally:
        source.close()


def _plan_one(
    table: Table,
    source: SourceEngine,
    destination: DestinationEngine,
    secrets: Sequence[str],
) -> TablePlan:
    src_schema = table.source_schema or source.default_schema
    schema = table.destination_schema or destination.default_schema
    try:
        source.begin()
        columns = source.columns(src_schema, table.name)
        destination.begin(schema, table.target_name, lock=False)
        try:
            existing = destination.existing(schema, table.target_name)
            state = destination.cursor_state(schema, table.target_name)
            decided = decide(
                table,
                source_columns=columns,
                source_schema=src_schema,
                schema=schema,
                existing=existing,
                state=state,
                destination=destination,
            )
            if decided.error is None:
                decided = attrs.evolve(decided, ddl=destination.ddl(decided))
            return decided
        finally:
            destination.rollback()
    except TypedReplError as exc:
        message = scrub(str(exc), secrets).removeprefix(f"table {table.name!r}: ")
        return TablePlan(
            table=table.name,
            mode=table.mode,
            source_schema=src_schema,
            source_table=table.name,
            schema=schema,
            name=table.target_name,
            action=Action.CREATE,
            error=message,
        )
