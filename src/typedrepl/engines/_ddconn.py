"""Open DuckDB files the same way everywhere, and build DuckDB SQL from quoted names."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import duckdb

from typedrepl._models import Connection
from typedrepl.engines._errors import driver_error
from typedrepl.errors import EngineError

__all__ = [
    "LOCK_WAIT_S",
    "STREAM_MEMORY_LIMIT",
    "catalog_of",
    "check_creatable",
    "compose",
    "exists",
    "open_duckdb",
    "qualified",
    "quote_duckdb",
    "type_sql",
]

STREAM_MEMORY_LIMIT = "64MB"
"""DuckDB's memory limit while a source streams rows out of a file it opened read-only.

A scan needs little memory, but DuckDB would otherwise keep every block it read
cached (hundreds of MiB for a large table); the limit lets it evict them."""

_TYPE_NAME = re.compile(r"^[A-Za-z0-9 _(),\[\]]+$")


LOCK_WAIT_S: float = 600.0
"""How long opening a DuckDB file waits while another process holds its lock."""
_HOLDER = re.compile(r"\(PID (\d+)\)")


def open_duckdb(
    connection: Connection, *, read_only: bool, log: logging.Logger | None = None
) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """Open the file of ``connection`` (a source must exist; a destination is created).

    DuckDB lets one process write a file: while another process holds its lock (another
    run, or the ops of a graph of tables running in parallel processes), the open is
    retried for up to :data:`LOCK_WAIT_S` seconds, with a warning on ``log``, as a
    PostgreSQL load waits for its table's advisory lock. In this process, a file already
    open with the other mode is shared (opened read-write), as DuckDB allows one mode
    per file.

    Returns the connection and whether it was opened as asked (``False``: shared).
    """
    path = connection.connection
    if read_only and not exists(connection):
        raise EngineError(f"DuckDB file {path!r} does not exist")
    if not read_only:
        check_creatable(connection)
    deadline = time.monotonic() + LOCK_WAIT_S
    delay, warned = 0.05, False
    while True:
        try:
            return _open(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "Could not set lock" not in str(exc) or time.monotonic() + delay > deadline:
                doing = f"cannot open DuckDB file {path!r}"
                if "Could not set lock" in str(exc):
                    doing += f" (waited {LOCK_WAIT_S:g} s for another process to release it)"
                raise driver_error(exc, connection.secrets, doing=doing) from None
            if not warned:
                warned = True
                holder = _HOLDER.search(str(exc))
                (log or logging.getLogger("typedrepl")).warning(
                    f"DuckDB file {path!r} is locked by another process"
                    f"{f' (PID {holder[1]})' if holder else ''}: waiting for it, up to "
                    f"{LOCK_WAIT_S:g} s"
                )
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except duckdb.Error as exc:
            raise driver_error(
                exc, connection.secrets, doing=f"cannot open DuckDB file {path!r}"
            ) from None


def _open(path: str, *, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, bool]:
    as_asked = True
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.ConnectionException as exc:
        if not read_only or "different configuration" not in str(exc):
            raise
        con = duckdb.connect(path, read_only=False)
        as_asked = False
    con.execute("SET TimeZone = 'UTC'")
    return con, as_asked


def _local_file(path: str) -> Path | None:
    """The file DuckDB opens for ``path`` (``~`` expanded, as DuckDB does); ``None`` for
    ``:memory:`` or a URL, which DuckDB resolves itself."""
    if path.startswith(":") or "://" in path:
        return None
    return Path(path).expanduser()


def exists(connection: Connection) -> bool:
    """Whether the DuckDB file of ``connection`` exists (``:memory:`` and URLs: never)."""
    file = _local_file(connection.connection)
    return file is not None and file.exists()


def check_creatable(connection: Connection) -> None:
    """Raise unless the destination file of ``connection`` exists or its directory does.

    A missing destination file is created, but never a missing directory (a misspelt
    path, or a run from another working directory, would otherwise scatter files):
    ``plan`` and ``run`` both refuse such a destination with the same error.
    """
    path = connection.connection
    file = _local_file(path)
    if file is None or file.exists():
        return
    directory = file.parent.absolute()
    if directory.is_dir():
        return
    if directory.exists():
        problem = f"{str(directory)!r} is not a directory"
    else:
        problem = f"the directory {str(directory)!r} does not exist"
    relative = "" if file.is_absolute() else " (relative to the working directory)"
    raise EngineError(
        f"cannot open DuckDB file {path!r}: {problem} (typedrepl creates a missing "
        f"destination file, not its directory); create the directory or correct the "
        f"path{relative}"
    )


def quote_duckdb(name: str) -> str:
    """Quote a DuckDB identifier (``a"b`` -> ``"a""b"``)."""
    return '"' + name.replace('"', '""') + '"'


def quote_string(text: str) -> str:
    """A DuckDB string literal (``it's`` -> ``'it''s'``), for the few statements that take
    no parameters (``COMMENT ON``). DuckDB's plain string literals have no backslash
    escapes: doubling the quote is the whole rule."""
    return "'" + text.replace("'", "''") + "'"


def qualified(catalog: str, schema: str, name: str) -> str:
    """``"catalog"."schema"."name"``, quoted: with the catalog, a schema named like the
    file (``raw`` in ``raw.duckdb``) is not an ambiguous reference."""
    return f"{quote_duckdb(catalog)}.{quote_duckdb(schema)}.{quote_duckdb(name)}"


def catalog_of(connection: Connection, con: duckdb.DuckDBPyConnection | None) -> str:
    """The catalog DuckDB gives the file: ``current_database()`` of an open connection,
    else (a file a plan has not created) DuckDB's rule: the file name up to its first dot."""
    if con is not None:
        row = con.execute("SELECT current_database()").fetchone()
        assert row is not None
        return str(row[0])
    file = _local_file(connection.connection)
    return "memory" if file is None else file.name.split(".")[0]


def type_sql(name: str) -> str:
    """A DuckDB type name, checked to be a plain type name (it goes into SQL text)."""
    if not _TYPE_NAME.match(name):
        raise EngineError(f"refusing an unexpected DuckDB type name {name!r}")
    return name


def compose(template: str, **parts: str) -> str:
    """Fill ``{name}`` in ``template`` with already-quoted identifiers or checked type names.

    Values never go through here: they are passed as query parameters.
    """
    return template.format(**parts)
