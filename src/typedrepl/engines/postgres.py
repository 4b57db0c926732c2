"""The PostgreSQL engine (psycopg 3): source and destination."""

from __future__ import annotations

import logging

from typedrepl._models import Connection
from typedrepl.engines._pgdest import PostgresDestination
from typedrepl.engines._pgsource import PostgresSource

__all__ = ["PostgresDestination", "PostgresSource", "open_destination", "open_source"]


def open_source(connection: Connection, *, log: logging.Logger) -> PostgresSource:
    """Connect to read tables (one read-only snapshot at a time)."""
    return PostgresSource(connection, log=log)


def open_destination(
    connection: Connection, *, log: logging.Logger, read_only: bool = False
) -> PostgresDestination:
    """Connect to load tables (``read_only``: only to inspect them)."""
    return PostgresDestination(connection, log=log, read_only=read_only)
