"""A representative slice of the suite with a password in every URL: it shows up nowhere.

Both sides are PostgreSQL databases reached with a role whose password holds the
characters that end or escape a value somewhere (space, ``@ : / % ' " # ? &``). Every
log record (DEBUG, with tracebacks), every exception (its chain and traceback), every
result, plan, state row and Dagster event is searched for the password in every form
it could be written in (raw, percent-encoded, conninfo-escaped).
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from conftest import Side, replication_for
from typedrepl import ReplicationResource, TypedReplError, replication_assets
from typedrepl._plan import plan
from typedrepl._run import iter_replicate, replicate

PASSWORD = "Zq s3cr@t:pw/%'\"#?&Qz"


def forms(password: str) -> set[str]:
    return {
        password,
        quote(password, safe=""),
        quote(password),
        quote_plus(password),
        re.sub(r"([\\' ])", r"\\\1", password),
        "s3cr@t",  # a recognisable middle part
    }


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(name="capture")
def fixture_capture() -> Iterator[_Capture]:
    handler = _Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


@pytest.fixture(name="secret_side")
def fixture_secret_side(postgres_server_url: str) -> Callable[[], Side]:
    """Fresh databases reached as a role whose password is ``PASSWORD``."""
    role = f"secret_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(PASSWORD)
            )
        )
    parts = urlsplit(postgres_server_url)

    def make() -> Side:
        name = f"test_{uuid.uuid4().hex}"
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(role)
                )
            )
        netloc = f"{role}:{quote(PASSWORD, safe='')}@{parts.hostname}:{parts.port}"
        return Side("postgres", urlunsplit(parts._replace(netloc=netloc, path="/" + name)))

    return make


def _leaks(texts: list[str]) -> list[str]:
    return [t for t in texts for f in forms(PASSWORD) if f in t]


def _exception_texts(exc: BaseException) -> list[str]:
    out = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for failure in getattr(exc, "failures", ()):
        out += [str(failure), repr(failure)]
    return out


def test_no_password_in_logs_errors_or_state(
    secret_side: Callable[[], Side], make_side: Callable[[str], Side], capture: _Capture
) -> None:
    source, destination = secret_side(), secret_side()
    assert PASSWORD not in source.target
    assert quote(PASSWORD, safe="") in source.target
    for name in ("refreshed", "appended", "merged", "inc"):
        source.execute(
            f"CREATE TABLE {name} (id integer PRIMARY KEY, v text, ts timestamp, n numeric(10,2))"
        )
        source.execute(
            f"INSERT INTO {name} VALUES (1, 'a', '2024-01-01', 1.5), (2, 'b', '2024-01-02', NULL)"  # noqa: S608
        )
    texts: list[str] = []
    modes: list[dict[str, object]] = [
        {"name": "refreshed", "primary_key": "id"},
        {"name": "appended", "mode": "append"},
        {"name": "merged", "mode": "merge", "primary_key": "id"},
        {"name": "inc", "mode": "incremental", "primary_key": "id", "cursor": "ts"},
    ]
    replication = replication_for(source, destination, modes)
    texts += [repr(replication), str(replication)]
    texts += [repr(p) + p.describe() for p in plan(replication)]
    for _ in range(2):
        texts += [repr(r) for r in replicate(replication)]

    # failures: a duplicate key, a NUL character, a wrong password, a type change
    source.execute("ALTER TABLE merged DROP CONSTRAINT merged_pkey")
    source.execute("INSERT INTO merged VALUES (1, 'twin', '2024-02-01', 2)")
    duck = make_side("duckdb")
    duck.execute("CREATE TABLE t (id INTEGER, v VARCHAR)")
    duck.execute("INSERT INTO t VALUES (1, 'a' || chr(0))")
    wrong = Side("postgres", destination.target.replace(quote(PASSWORD, safe=""), "nope"))
    attempts = [
        replication_for(source, destination, [modes[2]]),
        replication_for(duck, destination, [{"name": "t", "destination_table": "nul"}]),
        replication_for(source, wrong, [modes[0]]),
        replication_for(
            source, destination, [{"name": "inc", "mode": "append", "destination_table": "merged"}]
        ),
    ]
    for attempt in attempts:
        with pytest.raises(TypedReplError) as caught:
            replicate(attempt)
        texts += _exception_texts(caught.value)
        texts += [repr(o) for o in iter_replicate(attempt)]
    state = destination.execute("SELECT t::text FROM _typedrepl_state t")
    assert state
    texts += [str(row) for row in state]
    texts += capture.lines
    assert any("DEBUG" in line for line in capture.lines)
    assert any("table t failed" in line for line in capture.lines)
    assert not _leaks(texts), _leaks(texts)[:3]


def test_no_password_in_dagster_events(
    secret_side: Callable[[], Side], tmp_path: Path, capture: _Capture
) -> None:
    source, destination = secret_side(), secret_side()
    source.execute("CREATE TABLE users (id integer PRIMARY KEY, name text)")
    source.execute("INSERT INTO users VALUES (1, 'ada'), (2, 'grace')")
    source.execute("CREATE TABLE dupes (id integer, name text)")
    source.execute("INSERT INTO dupes VALUES (1, 'a'), (1, 'b')")
    replication = replication_for(
        source,
        Side("postgres", "postgresql://placeholder:Decoy-pw@127.0.0.1:1/none"),
        [
            {"name": "users", "primary_key": "id"},
            {"name": "dupes", "mode": "merge", "primary_key": "id"},
        ],
    )

    @replication_assets(replication=replication)
    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [tables],
        resources={"replicator": ReplicationResource(destination_url=destination.target)},
        instance=instance,
        raise_on_error=False,
    )
    keys = {e.asset_key for e in result.get_asset_materialization_events()}
    assert keys == {dg.AssetKey("users")}
    texts = [dg.serialize_value(entry) for entry in instance.all_logs(result.run_id)]
    texts.append(dg.serialize_value(instance.get_run_by_id(result.run_id)))
    assert any("duplicate primary key" in t for t in texts)
    texts += capture.lines
    assert not _leaks(texts), _leaks(texts)[:3]
    assert "Decoy-pw" not in "".join(texts)
    assert destination.execute("SELECT count(*) FROM users") == [(2,)]
