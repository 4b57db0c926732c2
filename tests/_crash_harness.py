"""Run one replication in this (child) process, and fail it on purpose at a chosen point.

``python tests/_crash_harness.py CONFIG SPEC`` loads the replication ``CONFIG`` (YAML)
and runs it. ``SPEC`` is JSON: ``{"batch_size": n, "at": i, "action": a, "trace": path}``.
Every statement the destination runs is a *point*, counted from 0, twice: just before
it and just after it; so is each chunk of COPY data written and each commit. At point
``at`` the harness does ``action``:

* ``kill``: SIGKILL this process (as an OOM killer or ``kill -9`` would);
* ``terminate``: ``pg_terminate_backend`` the load's own PostgreSQL backend from
  another connection, then carry on (the next statement meets a dead connection).

With ``trace`` every point is appended to that file as a JSON line ``[when, text]``.

The hooks wrap psycopg's ``Cursor.execute``, ``Cursor.copy``, ``Copy.write`` and
``Connection.commit`` (and DuckDB destination statements) in this process only:
typedrepl itself has no hook, so normal runs pay nothing.

Exit status: 0 when the run succeeded, 3 when it failed (the error on stderr).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql

_state: dict[str, Any] = {"n": 0, "spec": {}, "conninfo": None}


def _text(query: object, conn: psycopg.Connection[Any]) -> str:
    if isinstance(query, sql.Composable):
        return query.as_string(conn)
    if isinstance(query, bytes):
        return query.decode()
    return str(query)


def _point(when: str, text: str, conn: psycopg.Connection[Any] | None) -> None:
    spec = _state["spec"]
    n = _state["n"]
    _state["n"] = n + 1
    trace = spec.get("trace")
    if trace:
        with open(trace, "a", encoding="utf-8") as out:
            out.write(json.dumps([when, " ".join(text.split())[:200]]) + "\n")
    if spec.get("at") != n:
        return
    action = spec.get("action", "kill")
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "terminate" and conn is not None and not conn.closed:
        pid = conn.info.backend_pid
        with psycopg.connect(_state["conninfo"], autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))


def _install() -> None:
    execute = psycopg.Cursor.execute
    copy = psycopg.Cursor.copy
    write = psycopg.Copy.write
    commit = psycopg.Connection.commit

    def hooked_execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        text = _text(query, self.connection)
        _point("before", text, self.connection)
        result = execute(self, query, *args, **kw)
        _point("after", text, self.connection)
        return result

    @contextlib.contextmanager
    def hooked_copy(
        self: psycopg.Cursor[Any], statement: Any, *args: Any, **kw: Any
    ) -> Iterator[Any]:
        text = _text(statement, self.connection)
        _point("before", text, self.connection)
        with copy(self, statement, *args, **kw) as c:
            yield c
        _point("after", text, self.connection)

    def hooked_write(self: psycopg.Copy, buffer: Any) -> None:
        _point("before", "COPY data", self.connection)
        write(self, buffer)

    def hooked_commit(self: psycopg.Connection[Any]) -> None:
        _point("before", "COMMIT", self)
        commit(self)
        _point("after", "COMMIT", self)

    psycopg.Cursor.execute = hooked_execute  # type: ignore[method-assign]
    psycopg.Cursor.copy = hooked_copy  # type: ignore[method-assign]
    psycopg.Copy.write = hooked_write  # type: ignore[method-assign]
    psycopg.Connection.commit = hooked_commit  # type: ignore[method-assign]

    from typedrepl.engines import _dddest

    exec_ = _dddest.DuckDBDestination._exec

    def hooked_exec(self: _dddest.DuckDBDestination, statement: Any, *, doing: str) -> None:
        _point("before", statement.text, None)
        exec_(self, statement, doing=doing)
        _point("after", statement.text, None)

    _dddest.DuckDBDestination._exec = hooked_exec  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    from typedrepl import load_replication
    from typedrepl._run import replicate
    from typedrepl.errors import TypedReplError

    config, spec_text = argv
    spec = json.loads(spec_text)
    _state["spec"] = spec
    replication = load_replication(config)
    _state["conninfo"] = replication.connections.destination.connection
    _install()
    try:
        replicate(replication, batch_size=int(spec.get("batch_size", 50_000)))
    except TypedReplError as exc:
        print(str(exc), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
