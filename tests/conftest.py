"""Shared pytest fixtures."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

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
