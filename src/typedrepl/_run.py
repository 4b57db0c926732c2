"""Run a replication: table by table, each in one destination transaction.

For each table: open both sides, or reuse them from the table before (the engines
are imported now, not before), read the source's columns in a new read snapshot,
lock and inspect the destination, decide the plan (:func:`typedrepl._plan.decide`),
check the key when rows are matched on it, then stream Arrow batches from the source
into the destination and commit. A failed table is rolled back and reported, both
sides are closed, and the next table still runs, on newly opened ones.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence

import attrs

from typedrepl._models import LoadMode, Replication, Table, TableT
from typedrepl._plan import PlannedColumn, decide, select_tables
from typedrepl._progress import NullProgress, Progress
from typedrepl._results import ColumnResult, TableResult
from typedrepl._secrets import scrub
from typedrepl.engines import load_engine
from typedrepl.engines._base import (
    CursorFilter,
    DestinationEngine,
    ReadSpec,
    SourceColumn,
    SourceEngine,
)
from typedrepl.engines._errors import RejectedValueError, interrupted, way_out
from typedrepl.errors import EngineError, ReplicationError, TableFailure

__all__ = ["DEFAULT_BATCH_ROWS", "iter_replicate", "replicate"]

DEFAULT_BATCH_ROWS = 50_000
"""Rows per Arrow batch: memory use is bounded by a few batches, not by the table."""


def iter_replicate(
    replication: Replication[TableT],
    tables: Sequence[str] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
    logger: logging.Logger | None = None,
    keep_open: bool = False,
) -> Iterator[TableResult | TableFailure]:
    """Replicate the tables one by one, in config order, yielding each outcome when done.

    A failed table yields a :class:`TableFailure` (its transaction rolled back, the
    destination unchanged) and the next table still runs.

    With ``keep_open``, the connections of one table serve the next (opening a DuckDB
    file costs more than a small table does), so they stay open while the caller handles
    an outcome: a DuckDB file of the replication is then held by this process (DuckDB
    lets it open the file again only in the same mode) until the iteration ends.
    Without it (the default), each table opens and closes its own. :func:`replicate`,
    ``typedrepl run`` and the Dagster resource keep them open.

    Raises:
        EngineError: at once, before anything runs, if ``tables`` names tables the
            replication does not have (every unknown name is listed), or if
            ``batch_size`` is not positive.
        TypeError: ``tables`` is one string, not a sequence of names.
    """
    selected = select_tables(replication, tables)
    if batch_size < 1:
        raise EngineError(f"batch_size must be at least 1, not {batch_size}")
    return _iterate(
        replication,
        selected,
        batch_size,
        progress or NullProgress(),
        logger or logging.getLogger("typedrepl"),
        keep_open=keep_open,
    )


def replicate(
    replication: Replication[TableT],
    tables: Sequence[str] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
    logger: logging.Logger | None = None,
) -> tuple[TableResult, ...]:
    """Replicate the tables and return their results.

    Raises:
        ReplicationError: one or more tables failed; it names each failed table with
            its cause and holds the results of the tables that succeeded.
        EngineError: ``tables`` names unknown tables (nothing ran).
    """
    results: list[TableResult] = []
    failures: list[TableFailure] = []
    outcomes = iter_replicate(
        replication, tables, batch_size=batch_size, progress=progress, logger=logger, keep_open=True
    )
    for outcome in outcomes:
        if isinstance(outcome, TableFailure):
            failures.append(outcome)
        else:
            results.append(outcome)
    if failures:
        raise ReplicationError(failures, results)
    return tuple(results)


def _iterate(
    replication: Replication[TableT],
    selected: Sequence[TableT],
    batch_size: int,
    progress: Progress,
    log: logging.Logger,
    *,
    keep_open: bool,
) -> Iterator[TableResult | TableFailure]:
    connections = replication.connections
    secrets = (*connections.source.secrets, *connections.destination.secrets)
    with contextlib.closing(_Sides(replication, log)) as sides:
        for table in selected:
            try:
                result = _run_table(sides, table, batch_size, progress, log)
            except Exception as exc:
                if interrupted(exc):  # Ctrl-C ends the run, not only this table
                    raise KeyboardInterrupt from exc
                sides.close()  # whatever state they are in, the next table opens anew
                message = scrub(str(exc), secrets)
                log.error("table %s failed: %s", table.name, message)
                log.debug("table %s failed", table.name, exc_info=True)
                yield TableFailure(table=table.name, error=message, error_type=type(exc).__name__)
                continue
            if not keep_open:
                sides.close()
            yield _logged(result, log)


def _logged(result: TableResult, log: logging.Logger) -> TableResult:
    rate = result.rows_written / result.duration_s if result.duration_s > 0 else 0.0
    log.info(
        "table %s: %d rows written to %s in %.2fs (%.0f rows/s)",
        result.table,
        result.rows_written,
        result.destination,
        result.duration_s,
        rate,
    )
    return result


class _Sides:
    """The open source and destination, reused from one table to the next.

    Opening costs more than many small tables do (a DuckDB file ~16 ms, a PostgreSQL
    connection ~7 ms); each table still runs in its own read snapshot and destination
    transaction. :meth:`close` after a failure: the next table opens new ones.
    """

    def __init__(self, replication: Replication[TableT], log: logging.Logger) -> None:
        self._connections = replication.connections
        self._log = log
        self._source: SourceEngine | None = None
        self._destination: DestinationEngine | None = None

    def open(self) -> tuple[SourceEngine, DestinationEngine]:
        src_conn, dst_conn = self._connections.source, self._connections.destination
        # The destination opens first: a DuckDB file that is both source and
        # destination is then shared read-write by the two connections.
        if self._destination is None:
            self._destination = load_engine(dst_conn).open_destination(dst_conn, log=self._log)
        if self._source is None:
            self._source = load_engine(src_conn).open_source(src_conn, log=self._log)
        return self._source, self._destination

    def close(self) -> None:
        """Close both (never raises: a side that fails to close is dropped all the same)."""
        source, destination = self._source, self._destination
        self._source = self._destination = None
        for side in (source, destination):
            if side is not None:
                try:
                    side.close()
                except Exception:
                    self._log.debug("closing a connection failed", exc_info=True)


def _run_table(
    sides: _Sides,
    table: Table,
    batch_size: int,
    progress: Progress,
    log: logging.Logger,
) -> TableResult:
    started = time.monotonic()
    log.info("table %s: loading (%s)", table.name, table.mode.value)
    try:
        source, destination = sides.open()
        return _load(table, source, destination, batch_size, progress, log, started)
    except EngineError as exc:
        if exc.table is None:
            raise EngineError(str(exc), table=table.name, column=exc.column) from None
        raise


def _load(
    table: Table,
    source: SourceEngine,
    destination: DestinationEngine,
    batch_size: int,
    progress: Progress,
    log: logging.Logger,
    started: float,
) -> TableResult:
    src_schema = table.source_schema or source.default_schema
    schema = table.destination_schema or destination.default_schema
    source.begin()
    source_columns = source.columns(src_schema, table.name)
    destination.begin(schema, table.target_name, lock=True)
    plan = decide(
        table,
        source_columns=source_columns,
        source_schema=src_schema,
        schema=schema,
        existing=destination.existing(schema, table.target_name),
        state=destination.cursor_state(schema, table.target_name),
        destination=destination,
    )
    if plan.error is not None:
        message = plan.error
        if plan.error_column is not None:  # the error's own prefix names the column again
            message = message.removeprefix(f"column {plan.error_column!r}: ")
        raise EngineError(message, table=table.name, column=plan.error_column)
    by_name = {c.name: c for c in source_columns}
    cursor = None
    if table.mode is LoadMode.INCREMENTAL:
        assert plan.cursor is not None
        cursor = CursorFilter(plan.cursor, plan.cursor_op, plan.cursor_from)
    read = ReadSpec(
        schema=src_schema,
        table=table.name,
        columns=tuple(_read_as_planned(by_name[c.name], c) for c in plan.columns),
        cursor=cursor,
    )
    if plan.upsert:
        problem = source.key_problem(read, plan.primary_key)
        if problem is not None:
            raise EngineError(f"{problem}; the destination was not changed", table=table.name)
    cursor_value = plan.cursor_from
    if cursor is not None:
        nulls = source.count_null_cursor(read)
        if nulls:
            log.warning(
                "table %s: %d row(s) have a NULL cursor %r and are never loaded by incremental",
                table.name,
                nulls,
                plan.cursor,
            )
        cursor_value = source.max_cursor(read) or plan.cursor_from
    total = source.count_rows(read)
    progress.start(table.name, total)
    try:
        try:
            with contextlib.closing(source.batches(read, batch_size)) as batches:
                outcome = destination.load(
                    plan,
                    batches,
                    cursor_value=cursor_value,
                    on_rows=lambda rows: progress.advance(table.name, rows),
                )
        except RejectedValueError as exc:
            # The batches are closed now, so the source can be asked about the row.
            raise _explain(exc, table, source, read) from None
        destination.commit()
    finally:
        progress.finish(table.name)
    return TableResult(
        table=table.name,
        destination=plan.destination,
        mode=table.mode,
        rows_written=outcome.rows_written,
        rows_in_destination=outcome.rows_in_destination,
        duration_s=time.monotonic() - started,
        columns=tuple(
            ColumnResult(name=c.name, type=c.type, nullable=c.nullable) for c in outcome.columns
        ),
        cursor=cursor_value if table.mode is LoadMode.INCREMENTAL else None,
        created=plan.create,
        added_columns=plan.add_columns,
    )


def _read_as_planned(column: SourceColumn, planned: PlannedColumn) -> SourceColumn:
    """The source column as the plan reads it: an override changes its type."""
    if planned.override is None:
        return column
    return attrs.evolve(column, logical=planned.logical, override=planned.override)


def _explain(
    exc: RejectedValueError, table: Table, source: SourceEngine, read: ReadSpec
) -> EngineError:
    """The rejection, naming the row's key when the source can find it."""
    message = str(exc)
    native = next((c.native_type for c in read.columns if c.name == exc.column), None)
    if exc.nul and exc.column is not None:
        message = (
            "text holding a NUL character (\\x00) cannot be stored in PostgreSQL "
            f"(the destination was not changed): {message}"
        )
        try:
            key = source.find_nul(read, exc.column, table.primary_key)
        except EngineError:
            key = None
        if key is not None:
            message += f"; first such row: {key}"
        message += (
            "; remove the character in a source view (replace(column, chr(0), '')), "
            "or leave the column out with exclude_columns"
        )
    else:
        message = f"{message} (the destination was not changed)"
        if "exclude_columns" not in message:  # else the message names its own ways out
            message += "; " + (
                "cast or filter the column in a source view, or leave it out with exclude_columns"
                if exc.column is None
                else way_out(exc.column, view="cast or filter it in a source view")
            )
    if native is not None:
        message += f" [source type {native}]"
    return EngineError(message, table=table.name, column=exc.column)
