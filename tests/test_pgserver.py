"""Tests for the throwaway PostgreSQL server (real servers, no mocks)."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest

from typedrepl._pgserver import (
    PG_BIN_ENV,
    LocalPostgres,
    PostgresServerError,
    local_postgres,
    start_local_postgres,
)


def _port_refuses(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect((host, port))
        except ConnectionRefusedError:
            return True
        return False


def test_row_round_trips_through_a_fresh_database(postgres_url: str) -> None:
    text = "héllo é😀 wörld"
    with psycopg.connect(postgres_url) as conn:
        encoding = conn.execute("SHOW server_encoding").fetchone()
        assert encoding == ("UTF8",)
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        assert tables == (0,), "the per-test database must start empty"
        conn.execute("CREATE TABLE items (id bigint PRIMARY KEY, label text NOT NULL)")
        conn.execute("INSERT INTO items (id, label) VALUES (%s, %s)", (42, text))
        conn.commit()
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT id, label FROM items").fetchall()
    assert rows == [(42, text)]
    assert isinstance(rows[0][1], str)


def test_local_postgres_starts_and_stops() -> None:
    with local_postgres(password="s3cret:/@ é") as server:
        assert server.host == "127.0.0.1"
        assert server.user == "postgres"
        assert server.database == "postgres"
        assert server.data_dir.is_dir()
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT current_user, 1 + 1").fetchone() == ("postgres", 2)
            settings = conn.execute(
                "SELECT name, setting FROM pg_settings"
                " WHERE name IN ('fsync', 'listen_addresses', 'server_encoding')"
                " ORDER BY name"
            ).fetchall()
        assert settings == [
            ("fsync", "off"),
            ("listen_addresses", "127.0.0.1"),
            ("server_encoding", "UTF8"),
        ]
    assert not server.data_dir.exists()
    assert not server.data_dir.parent.exists()
    assert _port_refuses(server.host, server.port)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=5)
    server.stop()  # idempotent


def test_durable_server_keeps_fsync_on() -> None:
    server = start_local_postgres(durable=True)
    try:
        with psycopg.connect(server.url) as conn:
            fsync = conn.execute("SHOW fsync").fetchone()
            commit = conn.execute("SHOW synchronous_commit").fetchone()
        assert fsync == ("on",)
        assert commit == ("on",)
    finally:
        server.stop()
    server.stop()
    assert not server.data_dir.exists()


def test_wrong_password_is_rejected() -> None:
    with local_postgres() as server:
        wrong = LocalPostgres(
            host=server.host,
            port=server.port,
            user=server.user,
            password=server.password + "-wrong",
            database=server.database,
            data_dir=server.data_dir,
        )
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(wrong.url, connect_timeout=5)
        # No password at all must not get in either (no trust auth on TCP).
        no_password = f"host={server.host} port={server.port} user={server.user} password=''"
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(no_password, connect_timeout=5)
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_bad_bin_dir_setting_gives_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_BIN_ENV, str(tmp_path))
    with pytest.raises(PostgresServerError, match=PG_BIN_ENV):
        start_local_postgres()
