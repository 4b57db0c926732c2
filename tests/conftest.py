"""Shared pytest fixtures."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from mypy import api
from psycopg import sql
from psycopg.conninfo import make_conninfo

from typedrepl._models import Replication, Table
from typedrepl._pgserver import TEST_URL_ENV, local_postgres

# --------------------------------------------------------------------------- PostgreSQL


def _with_database(server_url: str, database: str) -> str:
    """``server_url`` pointing at ``database`` instead (URL or key=value conninfo)."""
    parts = urlsplit(server_url)
    if parts.scheme in ("postgres", "postgresql"):
        return urlunsplit(parts._replace(path="/" + database))
    return make_conninfo(server_url, dbname=database)


@pytest.fixture(scope="session", name="postgres_server_url")
def fixture_postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server for the whole session.

    ``$TYPEDREPL_TEST_POSTGRES_URL`` if set; otherwise a throwaway local server (one per
    pytest-xdist worker), stopped at the end of the session.
    """
    configured = os.environ.get(TEST_URL_ENV)
    if configured:
        yield configured
        return
    with local_postgres(password="pw-" + secrets.token_urlsafe(16)) as server:
        yield server.url


@pytest.fixture(name="postgres_url")
def fixture_postgres_url(postgres_server_url: str) -> Iterator[str]:
    """URL of a fresh, empty database on the session server, dropped after the test."""
    name = f"test_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(postgres_server_url, name)
    finally:
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# --------------------------------------------------------------------------- engines
# Fixtures for tests/test_engine*.py: a "side" is a real database (a DuckDB file under
# tmp_path or a fresh PostgreSQL database) with small helpers to write and read it.


class Side:
    """One real database of a test: ``kind`` is ``duckdb`` or ``postgres``."""

    def __init__(self, kind: str, target: str) -> None:
        self.kind = kind
        self.target = target
        """The DuckDB file path or the PostgreSQL URL."""

    @property
    def default_schema(self) -> str:
        return "main" if self.kind == "duckdb" else "public"

    def config(self) -> dict[str, str]:
        """The connection as it appears in a replication config."""
        return {"type": self.kind, "connection": self.target}

    def execute(self, statement: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """Run one statement (``?`` placeholders for both kinds) and return its rows."""
        if self.kind == "duckdb":
            import duckdb

            with duckdb.connect(self.target) as con:
                con.execute("SET TimeZone = 'UTC'")
                result = con.execute(statement, list(params))
                return result.fetchall() if result.description else []
        with psycopg.connect(self.target, autocommit=True) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            if not params:  # no placeholders read: a '%' in a quoted name stays as it is
                cur = conn.execute(statement)
            else:
                cur = conn.execute(statement.replace("?", "%s"), list(params))
            return cur.fetchall() if cur.description else []

    def insert(self, table: str, rows: Sequence[Sequence[object]]) -> None:
        """Insert ``rows`` into ``table`` (a quoted name or a plain one)."""
        if self.kind == "postgres":  # psycopg reads '%' in the text as a placeholder mark
            table = table.replace("%", "%%")
        for row in rows:
            marks = ", ".join("?" for _ in row)
            self.execute(f"INSERT INTO {table} VALUES ({marks})", row)  # noqa: S608

    def exists(self, schema: str, table: str) -> bool:
        found = self.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            (schema, table),
        )
        return bool(found[0][0])


@pytest.fixture(name="make_side")
def fixture_make_side(tmp_path: Path, postgres_server_url: str) -> Iterator[Callable[[str], Side]]:
    """A factory of fresh sides: ``make_side("duckdb")`` or ``make_side("postgres")``."""
    databases: list[str] = []

    def make(kind: str) -> Side:
        if kind == "duckdb":
            return Side(kind, str(tmp_path / f"db_{uuid.uuid4().hex[:8]}.duckdb"))
        name = f"test_{uuid.uuid4().hex}"
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        databases.append(name)
        return Side(kind, _with_database(postgres_server_url, name))

    yield make
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        for name in databases:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


DIRECTIONS = [
    ("duckdb", "postgres"),
    ("postgres", "duckdb"),
    ("duckdb", "duckdb"),
    ("postgres", "postgres"),
]
"""The four copy directions, as (source kind, destination kind)."""


@pytest.fixture(name="sides", params=DIRECTIONS, ids=[f"{s}-{d}" for s, d in DIRECTIONS])
def fixture_sides(
    request: pytest.FixtureRequest, make_side: Callable[[str], Side]
) -> tuple[Side, Side]:
    """A (source, destination) pair for each of the four directions."""
    source_kind, destination_kind = request.param
    return make_side(source_kind), make_side(destination_kind)


REPO_ROOT = Path(__file__).resolve().parent.parent


def run_bench(script: str, *args: str, cwd: Path) -> str:
    """Run ``bench/<script>`` with ``args`` in a child process; its stdout (exit 0 asserted)."""
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


def run_mypy(*paths: str) -> tuple[str, int]:
    """``mypy --strict`` (the repository's ``mypy.ini``) over ``paths``, one error a line.

    Runs from the repository root: ``mypy.ini``'s paths and the shared cache are relative
    to it. Returns the output and the exit status; anything on stderr fails the test.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO_ROOT)
        stdout, stderr, status = api.run(
            [
                "--config-file",
                "mypy.ini",
                "--no-pretty",
                "--no-error-summary",
                "--show-error-codes",
                "--hide-error-context",
                *paths,
            ]
        )
    assert stderr == "", stderr
    return stdout, status


def replication_for(
    source: Side, destination: Side, tables: Sequence[Mapping[str, object]]
) -> Replication[Table]:
    """A replication from ``source`` to ``destination`` of ``tables`` (config mappings)."""
    from typedrepl import load_replication

    return load_replication(
        {
            "connections": {"source": source.config(), "destination": destination.config()},
            "tables": [dict(t) for t in tables],
        }
    )
