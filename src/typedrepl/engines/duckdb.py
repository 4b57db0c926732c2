"""The DuckDB engine (the ``duckdb`` Python API): source and destination."""

from __future__ import annotations

import logging

from typedrepl._models import Connection
from typedrepl.engines._dddest import DuckDBDestination
from typedrepl.engines._ddsource import DuckDBSource

__all__ = ["DuckDBDestination", "DuckDBSource", "open_destination", "open_source"]


def open_source(connection: Connection, *, log: logging.Logger) -> DuckDBSource:
    """Open the file to read tables (read-only, unless this process already writes it)."""
    return DuckDBSource(connection, log=log)


def open_destination(
    connection: Connection, *, log: logging.Logger, read_only: bool = False
) -> DuckDBDestination:
    """Open (or create) the file to load tables (``read_only``: only to inspect them)."""
    return DuckDBDestination(connection, log=log, read_only=read_only)
