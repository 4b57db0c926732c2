"""Open PostgreSQL connections the same way everywhere: timeouts, keepalives, UTC."""

from __future__ import annotations

from typing import LiteralString

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from typedrepl._models import Connection
from typedrepl.engines._errors import driver_error

__all__ = ["CONNECT_TIMEOUT_S", "LOCK_TIMEOUT", "connect"]

CONNECT_TIMEOUT_S = 10
"""Seconds to wait for a connection (unless the connection string sets ``connect_timeout``)."""
LOCK_TIMEOUT = "10min"
"""How long a load waits for a lock (another run on the same table, or a reader of it)."""

_SESSION: tuple[LiteralString, ...] = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET extra_float_digits = 1",
)


def connect(connection: Connection) -> psycopg.Connection[tuple[object, ...]]:
    """Connect (not in autocommit) with a connect timeout and TCP keepalives, in UTC."""
    options: dict[str, str | int] = {
        "application_name": "typedrepl",
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    try:
        given = conninfo_to_dict(connection.connection)
    except psycopg.Error as exc:
        raise driver_error(exc, connection.secrets, doing="invalid connection string") from None
    if "connect_timeout" not in given:
        options["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        conn = psycopg.connect(make_conninfo(connection.connection, **options))
    except psycopg.Error as exc:
        raise driver_error(
            exc, connection.secrets, doing=f"cannot connect to {connection.display}"
        ) from None
    try:
        conn.autocommit = True
        for statement in _SESSION:
            conn.execute(statement)
        conn.autocommit = False
    except psycopg.Error as exc:
        conn.close()
        raise driver_error(exc, connection.secrets, doing="cannot set up the session") from None
    return conn
