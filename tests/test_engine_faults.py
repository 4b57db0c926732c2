"""Faults mid-load: a killed process, a killed connection, a held lock. The target survives."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import yaml

from conftest import Side, replication_for
from typedrepl import TableResult
from typedrepl._run import iter_replicate, replicate
from typedrepl.engines import _ddconn
from typedrepl.engines._pgdest import lock_key
from typedrepl.errors import TableFailure

BIG_ROWS = 2_000_000
TIMEOUT_S = 60.0


def _big_source(make_side: Callable[[str], Side]) -> Side:
    source = make_side("duckdb")
    source.execute(
        "CREATE TABLE t AS SELECT i AS id, 'row number ' || i AS label, i * 0.5 AS half, "  # noqa: S608
        f"TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS stamp FROM range({BIG_ROWS}) r(i)"
    )
    return source


def _seed(source: Side, destination: Side) -> None:
    """Give the destination an old version of t (3 rows) to protect."""
    small = Side("duckdb", source.target.replace(".duckdb", "_small.duckdb"))
    small.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1, 'old', 0.5, TIMESTAMP '2000-01-01')) v(id, label, half, stamp)"
    )
    small.execute("INSERT INTO t VALUES (2, 'old', 1.0, NULL), (3, 'old', 1.5, NULL)")
    replicate(replication_for(small, destination, [{"name": "t", "primary_key": "id"}]))


def _wait_for_copy(url: str) -> int:
    """The pid of the backend running typedrepl's COPY, once it runs."""
    deadline = time.monotonic() + TIMEOUT_S
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'typedrepl' "
                "AND state = 'active' AND query LIKE 'COPY%'"
            ).fetchone()
            if row is not None:
                return int(row[0])
            time.sleep(0.02)
    raise AssertionError("the COPY never started")


def _wait_gone(url: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            (count,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'typedrepl'"
            ).fetchone() or (0,)
            if count == 0:
                return
            time.sleep(0.05)
    raise AssertionError("typedrepl's backend did not go away")


def _assert_old_version_intact(destination: Side) -> None:
    assert destination.execute("SELECT id, label FROM t ORDER BY id") == [
        (1, "old"),
        (2, "old"),
        (3, "old"),
    ]
    leftovers = destination.execute(
        "SELECT relname FROM pg_class WHERE relname LIKE ?", ("\\_typedrepl\\_%",)
    )
    assert leftovers == []


def test_sigkill_mid_copy_leaves_the_target_and_the_next_run_works(
    make_side: Callable[[str], Side], tmp_path: Path
) -> None:
    source, destination = _big_source(make_side), make_side("postgres")
    _seed(source, destination)
    config = tmp_path / "replication.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "connections": {"source": source.config(), "destination": destination.config()},
                "tables": [{"name": "t", "primary_key": "id"}],
            }
        )
    )
    script = "import sys; from typedrepl import load_replication, replicate; replicate(load_replication(sys.argv[1]))"
    child = subprocess.Popen([sys.executable, "-c", script, str(config)])
    try:
        _wait_for_copy(destination.target)
        time.sleep(0.3)  # well inside the COPY of 2M rows
        assert child.poll() is None, "the load finished before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    _wait_gone(destination.target)
    _assert_old_version_intact(destination)

    (result,) = replicate(
        replication_for(source, destination, [{"name": "t", "primary_key": "id"}])
    )
    assert result.rows_in_destination == BIG_ROWS


def test_terminated_connection_mid_copy_fails_cleanly(make_side: Callable[[str], Side]) -> None:
    source, destination = _big_source(make_side), make_side("postgres")
    _seed(source, destination)
    replication = replication_for(source, destination, [{"name": "t", "primary_key": "id"}])
    outcomes: list[TableResult | TableFailure] = []
    worker = threading.Thread(target=lambda: outcomes.extend(iter_replicate(replication)))
    worker.start()
    pid = _wait_for_copy(destination.target)
    destination.execute("SELECT pg_terminate_backend(?)", (pid,))
    worker.join(TIMEOUT_S)
    assert not worker.is_alive()
    (failure,) = outcomes
    assert isinstance(failure, TableFailure)
    assert "terminat" in failure.error or "closed the connection" in failure.error
    _wait_gone(destination.target)
    _assert_old_version_intact(destination)
    (result,) = replicate(replication)
    assert result.rows_in_destination == BIG_ROWS


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_second_run_waits_for_the_table_lock_and_says_so(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER)")
    source.insert("t", [(1,)])
    replication = replication_for(source, destination, [{"name": "t"}])
    records = _Records()
    logger = logging.getLogger("test_lock")
    logger.addHandler(records)
    logger.setLevel(logging.INFO)
    outcomes: list[TableResult | TableFailure] = []
    with psycopg.connect(destination.target, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key("public", "t"),))
        worker = threading.Thread(
            target=lambda: outcomes.extend(iter_replicate(replication, logger=logger))
        )
        worker.start()
        deadline = time.monotonic() + TIMEOUT_S
        while not any("waiting for the lock" in m for m in records.messages):
            assert time.monotonic() < deadline, records.messages
            time.sleep(0.02)
        assert not outcomes
        holder.execute("SELECT pg_advisory_unlock(%s)", (lock_key("public", "t"),))
        worker.join(TIMEOUT_S)
    (result,) = outcomes
    assert isinstance(result, TableResult)
    assert result.rows_in_destination == 1


CONCURRENT_TRIES = 8


@pytest.mark.parametrize("new", ["schema", "state table"])
def test_loads_of_other_tables_into_a_new_schema_at_once(
    make_side: Callable[[str], Side], new: str
) -> None:
    """Two runs, each loading its own table into a schema that has no state table yet (or
    no schema at all), at the same moment: both create the schema or the state table."""
    source, destination = make_side("postgres"), make_side("postgres")
    for name in ("a", "b"):
        source.execute(
            f"CREATE TABLE {name} AS SELECT i AS id, 'row ' || i AS label "  # noqa: S608
            "FROM generate_series(1, 20000) i"
        )
    failures: list[str] = []
    for attempt in range(CONCURRENT_TRIES):
        schema = f"raw{attempt}"
        if new == "state table":
            destination.execute(f"CREATE SCHEMA {schema}")
        tables = [
            {"name": name, "destination_schema": schema, "mode": "incremental", "cursor": "id"}
            for name in ("a", "b")
        ]
        barrier = threading.Barrier(2)

        def load(
            table: dict[str, str], barrier: threading.Barrier
        ) -> list[TableResult | TableFailure]:
            replication = replication_for(source, destination, [table])
            barrier.wait(TIMEOUT_S)  # both runs start at once
            return list(iter_replicate(replication))

        with ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(load, table, barrier) for table in tables]
            outcomes = [outcome for run in runs for outcome in run.result(TIMEOUT_S)]
        failures += [f"try {attempt}: {o.error}" for o in outcomes if isinstance(o, TableFailure)]
        if not any(isinstance(o, TableFailure) for o in outcomes):
            assert destination.execute(
                f"SELECT table_name, cursor_value FROM {schema}._typedrepl_state ORDER BY 1"  # noqa: S608
            ) == [("a", "20000"), ("b", "20000")]
            for name in ("a", "b"):
                count = destination.execute(f"SELECT count(*) FROM {schema}.{name}")  # noqa: S608
                assert count == [(20000,)]
    assert failures == []


def _hold_duckdb_file(path: str, seconds: float) -> subprocess.Popen[str]:
    """Another process that opens ``path`` for writing (so holds its lock) for ``seconds``."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('ok', flush=True);"
            " time.sleep(float(sys.argv[2])); c.close()",
            path,
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "ok"
    return holder


def test_a_duckdb_destination_locked_by_another_process_is_waited_for(
    make_side: Callable[[str], Side], caplog: pytest.LogCaptureFixture
) -> None:
    """DuckDB lets one process write a file: the load waits for the other one (as the
    ops of a graph of tables do under Dagster's multiprocess executor), and says so."""
    source, destination = make_side("duckdb"), make_side("duckdb")
    source.execute("CREATE TABLE t AS SELECT 1 AS id")
    destination.execute("CREATE TABLE other (id INTEGER)")
    holder = _hold_duckdb_file(destination.target, 1.5)
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="typedrepl"):
            (result,) = replicate(replication_for(source, destination, [{"name": "t"}]))
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert result.rows_in_destination == 1
    assert waited > 1.0  # it did wait for the holder
    assert (
        f"DuckDB file {destination.target!r} is locked by another process (PID {holder.pid}): "
        "waiting for it, up to 600 s"
    ) in caplog.text


def test_a_duckdb_destination_locked_too_long_fails_naming_the_wait(
    make_side: Callable[[str], Side], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_ddconn, "LOCK_WAIT_S", 1.0)
    source, destination = make_side("duckdb"), make_side("duckdb")
    source.execute("CREATE TABLE t (id INTEGER)")
    destination.execute("CREATE TABLE other (id INTEGER)")
    holder = _hold_duckdb_file(destination.target, 60)
    try:
        started = time.monotonic()
        (failure,) = list(iter_replicate(replication_for(source, destination, [{"name": "t"}])))
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()
    assert isinstance(failure, TableFailure)
    assert "(waited 1 s for another process to release it)" in failure.error
    assert "lock" in failure.error.lower()


@pytest.mark.parametrize("kind", ["postgres"])
def test_connect_errors_end_in_bounded_time(kind: str, make_side: Callable[[str], Side]) -> None:
    source = make_side("duckdb")
    source.execute("CREATE TABLE t (id INTEGER)")
    # a port nobody listens on: refused at once (the connect timeout bounds the other cases)
    closed = Side(kind, "postgresql://u:pw-not-shown@127.0.0.1:1/db")
    started = time.monotonic()
    (failure,) = list(iter_replicate(replication_for(source, closed, [{"name": "t"}])))
    assert time.monotonic() - started < 15
    assert isinstance(failure, TableFailure)
    assert "pw-not-shown" not in failure.error


def _loaders(side: Side) -> list[tuple[object, ...]]:
    """typedrepl's connections to ``side``'s database."""
    return side.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'typedrepl'"
    )


@pytest.mark.parametrize("keep_open", [True, False])
def test_connections_kept_between_tables_survive_being_lost(
    make_side: Callable[[str], Side], keep_open: bool
) -> None:
    """With ``keep_open`` one connection per side serves every table; when the server
    ends them between two tables, the next table reconnects and loads. Without it, no
    connection outlives its table."""
    source, destination = make_side("postgres"), make_side("postgres")
    names = ["a", "b", "c"]
    for name in names:
        source.execute(f"CREATE TABLE {name} (id integer PRIMARY KEY, v text)")
        source.insert(name, [(1, name), (2, name * 2)])
    replication = replication_for(
        source, destination, [{"name": n, "mode": "merge", "primary_key": "id"} for n in names]
    )
    outcomes: list[TableResult | TableFailure] = []
    for outcome in iter_replicate(replication, keep_open=keep_open):
        outcomes.append(outcome)
        open_now = (len(_loaders(source)), len(_loaders(destination)))
        if len(outcomes) == 1:
            assert open_now == ((1, 1) if keep_open else (0, 0))
            for side in (source, destination):
                side.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND application_name = 'typedrepl'"
                )
    assert [type(o) for o in outcomes] == [TableResult] * 3
    for name in names:
        assert destination.execute(f"SELECT id, v FROM {name} ORDER BY id") == [  # noqa: S608
            (1, name),
            (2, name * 2),
        ]
    assert (len(_loaders(source)), len(_loaders(destination))) == (0, 0)  # all closed
