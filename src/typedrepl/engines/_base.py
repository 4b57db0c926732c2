"""The engine interface: what a database must offer to be a source or a destination.

A database is one module (named by ``Connection.engine_module``) that defines
``open_source(connection)`` and ``open_destination(connection)``. Rows cross between
engines as Arrow record batches in the canonical layout of
:mod:`typedrepl.engines._arrow`; types cross as :class:`~typedrepl._types.LogicalType`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Protocol

import attrs

from typedrepl._types import LogicalType

if TYPE_CHECKING:
    import pyarrow as pa

    from typedrepl._models import ColumnType, Connection
    from typedrepl._plan import TablePlan

__all__ = [
    "CursorFilter",
    "CursorState",
    "DestinationEngine",
    "EngineModule",
    "ExistingColumn",
    "ExistingTable",
    "LoadOutcome",
    "ReadSpec",
    "SourceColumn",
    "SourceEngine",
    "log_kept",
]


@attrs.frozen
class SourceColumn:
    """A column of a source table."""

    name: str
    native_type: str
    """The type as the source database spells it."""
    logical: LogicalType | None
    """``None`` when the type cannot be mapped; ``problem`` says why."""
    problem: str | None = None
    override: ColumnType | None = None
    """Read the column as text or JSON instead (the table's ``column_types``); ``logical``
    is then the override's type. Set by the run in a :class:`ReadSpec`, never by a source."""
    enum: bool = False
    """An enum (DuckDB ``ENUM``, a PostgreSQL enum type): read as text, but ordered by the
    declaration of its values, not by their text, so it cannot be a cursor."""


@attrs.frozen
class CursorFilter:
    """Read only the rows whose ``column`` compares ``op`` to ``value`` (text of a value)."""

    column: str
    op: str
    """``">"`` or ``">="``."""
    value: str | None
    """``None``: no lower bound (first load); rows with a NULL cursor are never read."""


@attrs.frozen
class ReadSpec:
    """What to read from a source table."""

    schema: str
    table: str
    columns: tuple[SourceColumn, ...]
    cursor: CursorFilter | None = None


@attrs.frozen
class ExistingColumn:
    """A column of an existing destination table."""

    name: str
    type: str
    """As the destination spells it (``numeric(18,4)``, ``BIGINT``)."""
    nullable: bool = True


@attrs.frozen
class ExistingTable:
    """A destination table as it is before the load."""

    columns: tuple[ExistingColumn, ...]
    primary_key: tuple[str, ...]
    """The primary key (or a unique index) columns; ``()`` when there is none."""
    has_rows: bool
    """Whether the table holds at least one row."""

    def column(self, name: str) -> ExistingColumn | None:
        """The column called ``name``, if any."""
        return next((c for c in self.columns if c.name == name), None)


@attrs.frozen
class CursorState:
    """The cursor stored in the destination for an ``incremental`` table."""

    column: str
    value: str | None


@attrs.frozen
class LoadOutcome:
    """What a destination reports after loading (before commit)."""

    rows_written: int
    rows_in_destination: int
    columns: tuple[ExistingColumn, ...]


class SourceEngine(Protocol):
    """Reads tables from one database, inside one consistent snapshot."""

    default_schema: str

    def begin(self) -> None:
        """Start the read snapshot: every later read sees the same data."""

    def columns(self, schema: str, table: str) -> tuple[SourceColumn, ...]:
        """The table's columns in order; ``EngineError`` if the table does not exist."""

    def key_problem(self, read: ReadSpec, key: tuple[str, ...]) -> str | None:
        """Describe a NULL or duplicate ``key`` among the rows to read, or ``None``."""

    def max_cursor(self, read: ReadSpec) -> str | None:
        """The greatest cursor value among the rows to read, as exact text."""

    def count_rows(self, read: ReadSpec) -> int:
        """How many rows ``batches`` will yield."""

    def count_null_cursor(self, read: ReadSpec) -> int:
        """How many rows have a NULL cursor (they are never read)."""

    def batches(self, read: ReadSpec, batch_size: int) -> Generator[pa.RecordBatch]:
        """The rows, in canonical Arrow batches of at most ``batch_size`` rows."""

    def find_nul(self, read: ReadSpec, column: str, key: tuple[str, ...]) -> str | None:
        """The key (as text) of a row whose ``column`` holds a NUL character, if any."""

    def close(self) -> None:
        """End the snapshot and close the connection."""


class DestinationEngine(Protocol):
    """Writes tables into one database, one transaction per table."""

    default_schema: str
    max_identifier_bytes: int | None
    """The longest name the destination keeps (``None``: no limit)."""

    def type_name(self, logical: LogicalType) -> str:
        """The destination's spelling of a type (``UnsupportedTypeError`` if it has none)."""

    def begin(self, schema: str, table: str, *, lock: bool) -> None:
        """Start the table's transaction; with ``lock``, wait for the per-table lock."""

    def existing(self, schema: str, table: str) -> ExistingTable | None:
        """The table as it is now, or ``None`` if it does not exist."""

    def cursor_state(self, schema: str, table: str) -> CursorState | None:
        """The stored cursor of an ``incremental`` table, if any."""

    def ddl(self, plan: TablePlan) -> tuple[str, ...]:
        """The schema statements ``load`` would run for ``plan`` (for display)."""

    def load(
        self,
        plan: TablePlan,
        batches: Iterable[pa.RecordBatch],
        *,
        cursor_value: str | None,
        on_rows: Callable[[int], None],
    ) -> LoadOutcome:
        """Apply ``plan`` with the rows of ``batches``, inside the open transaction."""

    def commit(self) -> None:
        """Commit the table's transaction."""

    def rollback(self) -> None:
        """Roll the table's transaction back (no error if none is open)."""

    def close(self) -> None:
        """Close the connection (rolling back anything uncommitted)."""


class EngineModule(Protocol):
    """What an engine module (``typedrepl.engines.<name>``) defines."""

    def open_source(self, connection: Connection, *, log: logging.Logger) -> SourceEngine:
        """Connect to ``connection`` for reading."""

    def open_destination(
        self, connection: Connection, *, log: logging.Logger, read_only: bool = False
    ) -> DestinationEngine:
        """Connect to ``connection`` for writing (``read_only``: only to inspect, for a plan)."""


def log_kept(log: logging.Logger, schema: str, table: str, kept: Iterable[str]) -> None:
    """Say what a full refresh gives the new table back from the one it replaces."""
    said = ", ".join(kept)
    if said:
        log.info("%s.%s: the new table gets back the replaced one's %s", schema, table, said)
