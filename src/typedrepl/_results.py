"""What a replication run reports, per table: plain, frozen, JSON-friendly values."""

from __future__ import annotations

import attrs

from typedrepl._models import LoadMode

__all__ = ["ColumnResult", "TableResult"]


@attrs.frozen(kw_only=True)
class ColumnResult:
    """A column of the destination table after the load."""

    name: str
    type: str
    """The destination's type, as the destination spells it (``numeric(18,4)``, ``BIGINT``)."""
    nullable: bool = True


@attrs.frozen(kw_only=True)
class TableResult:
    """The outcome of one table's load."""

    table: str
    """The table's ``name`` in the config."""
    destination: str
    """The destination table, schema-qualified (``public.users``)."""
    mode: LoadMode
    rows_written: int
    """Rows sent to the destination by this run."""
    rows_in_destination: int
    """Rows in the destination table after the load."""
    duration_s: float
    columns: tuple[ColumnResult, ...]
    cursor: str | None = None
    """For ``incremental``: the new cursor value, as text (``None`` if no row was ever loaded)."""
    created: bool = False
    """Whether this run created the destination table."""
    added_columns: tuple[str, ...] = ()
    """Columns this run added to the destination (schema drift)."""
