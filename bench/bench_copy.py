"""DuckDB -> PostgreSQL copy benchmark: typedrepl vs ``psql \\copy`` vs a raw pgpq COPY.

Run it from the repository root::

    .venv/bin/python bench/bench_copy.py [--rows 5000000] [--repeat 3] [--merge-rows 500000]

It is a benchmark, not a test: it prints figures measured in this one run, ratios, and
PASS/MISS beside each target. It exits 0 unless something broke: a child process
failed or a verification did not hold (a fast but wrong load must not win).

What it does, all in a temporary directory:

1. Generates (DuckDB SQL, deterministic) a table of ``--rows`` rows of mixed types with
   ~5% NULLs, and a table of ``--merge-rows`` changes (90% updates, 10% new ids).
2. Starts a throwaway ``local_postgres(durable=True)`` server (fsync on), unless
   ``--postgres-url`` names a server; either way it works in a fresh database that it
   drops at the end.
3. ``--repeat`` times, with the methods in a rotating order, and a ``CHECKPOINT``
   before each timed step (and an OS sync), it loads the table into PostgreSQL by:

   * ``typedrepl``: ``replicate()`` of a ``full_refresh`` table (stage, then swap);
   * ``psql \\copy``: DuckDB ``COPY ... TO`` a CSV file, then ``psql -c "\\copy ..."``
     into a pre-created table with the same DDL and primary key;
   * ``raw``: DuckDB Arrow batches -> pgpq encoder -> psycopg ``COPY ... (FORMAT
     BINARY)`` into a pre-created primary-key table, in one transaction;
   * ``raw, PK after`` (for information): the same, but the primary key is added after
     the COPY, in the same transaction (the strategy ``full_refresh`` uses).

   Each runs in its own child process; its peak RSS and CPU time come from
   ``os.wait4``. After each, the row count, the DDL, a checksum of every row
   (``sum(hashtext(t::text))``, identical across methods) and a per-column fingerprint
   (counts, sums, min/max, compared with DuckDB's) are checked.
4. ``--repeat`` times, in a rotating order, each after restoring the full table with
   typedrepl (untimed; then ``VACUUM (ANALYZE)`` and ``CHECKPOINT``): time a typedrepl
   ``merge`` of the changes in key order, the same changes in a random order, and (for
   information) the server's own part of it, the SQL upsert of the changes already in
   PostgreSQL; check each result against the expected merge computed by DuckDB.

Timings are taken inside each child around the work itself (connect to commit),
excluding interpreter start-up and imports; the ``psql`` load is timed around the
``psql`` process. Server CPU is the CPU time of the PostgreSQL server's processes
during the step (read from ``/proc``; ``n/a`` when the server is not on this machine).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import duckdb
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

# --------------------------------------------------------------------------- constants

TARGET_VS_PSQL = 1.3
"""typedrepl's rate over psql \\copy's (export + load): at least this."""
TARGET_VS_RAW = 0.9
"""typedrepl's rate over the raw pgpq COPY's: at least this (within 10%)."""
TARGET_RSS_MIB = 300.0
"""typedrepl's peak RSS in MiB: below this."""
TARGET_MERGE_RATE = 200_000.0
"""typedrepl merge, changed rows per second: at least this."""

DEFAULT_ROWS = 5_000_000
DEFAULT_REPEAT = 3
DEFAULT_MERGE_ROWS = 500_000
UPDATE_SHARE = 0.9
"""Of the merge rows, this share updates existing ids; the rest are new ids."""

SOURCE_TABLE = "activity"
CHANGES_TABLE = "activity_changes"
"""The changes in key order (updated ids ascending, then the new ids)."""
CHANGES_SHUFFLED = "activity_changes_shuffled"
"""The same changes in a random (hashed) order, as an export by update time would be."""
CHANGES_PG = "activity_changes_pg"
"""The changes loaded into PostgreSQL (untimed), for the server-only upsert baseline."""

MERGE_ORDERED = "typedrepl merge, key order"
MERGE_SHUFFLED = "typedrepl merge, random order"
MERGE_SQL = "SQL upsert (info)"
MERGE_FILLFACTOR = "typedrepl merge, fillfactor 90"
MERGES = (MERGE_ORDERED, MERGE_SHUFFLED, MERGE_SQL, MERGE_FILLFACTOR)
FILLFACTOR = 90
"""For ``MERGE_FILLFACTOR``: the loaded table's fillfactor, set as a user would (on the
table before the full refresh, which keeps it), so that updates can stay on their page."""

TYPEDREPL = "typedrepl"
PSQL = "psql \\copy"
RAW = "raw"
RAW_LATE_PK = "raw, PK after"
METHODS = (TYPEDREPL, PSQL, RAW, RAW_LATE_PK)
TARGET_TABLES = {
    TYPEDREPL: SOURCE_TABLE,  # full_refresh keeps the source's name
    PSQL: "activity_csv",
    RAW: "activity_raw",
    RAW_LATE_PK: "activity_raw_late_pk",
}

# name, DuckDB type, PostgreSQL type as format_type() spells it
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "BIGINT", "bigint"),
    ("user_id", "INTEGER", "integer"),
    ("amount", "DECIMAL(18,4)", "numeric(18,4)"),
    ("score", "DOUBLE", "double precision"),
    ("label", "VARCHAR", "text"),
    ("active", "BOOLEAN", "boolean"),
    ("day", "DATE", "date"),
    ("created", "TIMESTAMP", "timestamp without time zone"),
    ("updated", "TIMESTAMPTZ", "timestamp with time zone"),
    ("ext_id", "UUID", "uuid"),
)
COLUMN_NAMES = ", ".join(name for name, _, _ in COLUMNS)

# The same per-column aggregates in PostgreSQL and in DuckDB: every value must match.
FINGERPRINT: tuple[tuple[str, str], ...] = (
    ("count(*)", "count(*)"),
    ("sum(id)", "sum(id)"),
    ("count(user_id)", "count(user_id)"),
    ("sum(user_id)", "sum(user_id)"),
    ("count(amount)", "count(amount)"),
    ("sum(amount)", "sum(amount)"),
    ("count(score)", "count(score)"),
    ("min(score)", "min(score)"),
    ("max(score)", "max(score)"),
    ("sum(floor(score)::bigint)", "sum(CAST(floor(score) AS BIGINT))"),
    ("count(label)", "count(label)"),
    ("sum(length(label))", "sum(length(label))"),
    ('min(label COLLATE "C")', "min(label)"),
    ('max(label COLLATE "C")', "max(label)"),
    ("count(active)", "count(active)"),
    ("count(*) FILTER (WHERE active)", "count(*) FILTER (WHERE active)"),
    ("count(day)", "count(day)"),
    ("sum(day - DATE '1970-01-01')", "sum(date_diff('day', DATE '1970-01-01', day))"),
    ("count(created)", "count(created)"),
    ("sum((extract(epoch FROM created) * 1000000)::bigint)", "sum(epoch_us(created))"),
    ("count(updated)", "count(updated)"),
    ("sum((extract(epoch FROM updated) * 1000000)::bigint)", "sum(epoch_us(updated))"),
    ("count(ext_id)", "count(ext_id)"),
    ("min(ext_id::text)", "min(CAST(ext_id AS VARCHAR))"),
    ("max(ext_id::text)", "max(CAST(ext_id AS VARCHAR))"),
)

# Session settings for every verification query (row text must not depend on them).
PG_SESSION = (
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET extra_float_digits = 1",
    "SET IntervalStyle = 'postgres'",
)

MIB = 1024 * 1024


class BenchError(RuntimeError):
    """Something broke: the benchmark cannot go on."""


# --------------------------------------------------------------------------- data


def _generated_select(salt: int) -> str:
    """The SELECT list of the generated rows, from a BIGINT ``i``; ``salt`` varies values.

    Deterministic (hashes, no random()), ~5% NULLs in every non-key column, text of 20-40
    characters (2% with a comma and quotes, so CSV quoting is exercised).
    """

    def h(k: int) -> str:
        return f"hash(i, {salt}, {k})"

    def nulls(k: int, expr: str) -> str:
        return f"CASE WHEN {h(k)} % 20 = 0 THEN NULL ELSE {expr} END"

    quoted = "'a, \"quoted\" label '"
    return f"""
      i AS id,
      {nulls(1, f"CAST(CAST({h(2)} % 2000000000 AS BIGINT) - 1000000000 AS INTEGER)")} AS user_id,
      {nulls(3, f"CAST(CAST(CAST({h(4)} % 200000000000000 AS BIGINT) - 100000000000000 AS DECIMAL(18,0)) * CAST(0.0001 AS DECIMAL(5,4)) AS DECIMAL(18,4))")} AS amount,
      {nulls(5, f"CAST({h(6)} % 1000000000000 AS DOUBLE) / 7.0 - 50000.0")} AS score,
      {nulls(7, f"substr(CASE WHEN {h(8)} % 50 = 0 THEN {quoted} ELSE '' END || md5(CAST(i AS VARCHAR)) || md5(CAST({h(9)} AS VARCHAR)), 1, 20 + CAST({h(10)} % 21 AS INTEGER))")} AS label,
      {nulls(11, f"{h(12)} % 2 = 0")} AS active,
      {nulls(13, f"DATE '1990-01-01' + CAST({h(14)} % 20000 AS INTEGER)")} AS day,
      {nulls(15, f"TIMESTAMP '1990-01-01' + to_microseconds(CAST({h(16)} % 1000000000000000 AS BIGINT))")} AS created,
      {nulls(17, f"TIMESTAMPTZ '1990-01-01 00:00:00+00' + to_microseconds(CAST({h(18)} % 1000000000000000 AS BIGINT))")} AS updated,
      {nulls(19, f"CAST(printf('%016x%016x', {h(20)}, {h(21)}) AS UUID)")} AS ext_id
    """


def _duckdb_ddl(table: str) -> str:
    columns = ", ".join(f"{name} {duck}" for name, duck, _ in COLUMNS)
    return f"CREATE TABLE {table} ({columns}, PRIMARY KEY (id))"


@dataclass(frozen=True)
class MergePlan:
    """The ids the changes touch: ``updates`` existing ids spread evenly, then new ids."""

    rows: int
    merge_rows: int

    @property
    def updates(self) -> int:
        return min(self.rows, round(self.merge_rows * UPDATE_SHARE))

    @property
    def inserts(self) -> int:
        return self.merge_rows - self.updates

    def ids_sql(self) -> str:
        return (
            f"SELECT CAST((k * {self.rows}) // {max(self.updates, 1)} AS BIGINT) AS i "  # noqa: S608
            f"FROM range({self.updates}) t(k) "
            f"UNION ALL SELECT CAST({self.rows} + k AS BIGINT) AS i FROM range({self.inserts}) t(k)"
        )

    def sample_ids(self, count: int = 200) -> tuple[list[int], list[int], list[int]]:
        """Some updated ids, some new ids and some untouched ids."""
        step = max(1, self.updates // count)
        updated = [(k * self.rows) // self.updates for k in range(0, self.updates, step)]
        new = [self.rows + k for k in range(0, self.inserts, max(1, self.inserts // 20))]
        touched = set(updated)
        untouched = [i for i in range(1, self.rows, max(1, self.rows // 50)) if i not in touched]
        return updated, new, untouched[:50]


def generate_data(source: Path, changes: Path, plan: MergePlan) -> float:
    """Write the source and the changes DuckDB files; returns the seconds it took."""
    started = time.monotonic()
    with duckdb.connect(str(source)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(_duckdb_ddl(SOURCE_TABLE))
        con.execute(
            f"INSERT INTO {SOURCE_TABLE} SELECT {_generated_select(0)} "  # noqa: S608
            f"FROM range({plan.rows}) t(i)"
        )
        con.execute("CHECKPOINT")
    with duckdb.connect(str(changes)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(_duckdb_ddl(CHANGES_TABLE))
        con.execute(
            f"INSERT INTO {CHANGES_TABLE} SELECT {_generated_select(1)} "  # noqa: S608
            f"FROM ({plan.ids_sql()}) ids"
        )
        con.execute(_duckdb_ddl(CHANGES_SHUFFLED))
        con.execute(
            f"INSERT INTO {CHANGES_SHUFFLED} SELECT * FROM {CHANGES_TABLE} "  # noqa: S608
            "ORDER BY hash(id, 7)"
        )
        con.execute("CHECKPOINT")
    return time.monotonic() - started


def duckdb_fingerprint(relation: str, *attach: Path) -> list[object]:
    """The fingerprint of ``relation`` (SQL of a table or a subquery) computed by DuckDB."""
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for index, path in enumerate(attach):
            con.execute(f"ATTACH '{path}' AS db{index} (READ_ONLY)")
        aggregates = ", ".join(duck for _, duck in FINGERPRINT)
        row = con.execute(f"SELECT {aggregates} FROM {relation}").fetchone()  # noqa: S608
    assert row is not None
    return list(row)


def duckdb_rows(relation: str, ids: Sequence[int], *attach: Path) -> list[tuple[object, ...]]:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for index, path in enumerate(attach):
            con.execute(f"ATTACH '{path}' AS db{index} (READ_ONLY)")
        return con.execute(
            f"SELECT {COLUMN_NAMES} FROM {relation} WHERE id IN (SELECT unnest(?)) ORDER BY id",  # noqa: S608
            [list(ids)],
        ).fetchall()


EXPECTED_MERGE = (
    f"(SELECT * FROM db0.{SOURCE_TABLE} s WHERE NOT EXISTS "  # noqa: S608
    f"(SELECT 1 FROM db1.{CHANGES_TABLE} c WHERE c.id = s.id) "
    f"UNION ALL SELECT * FROM db1.{CHANGES_TABLE}) expected"
)
"""The merged table as it must be (attach the source as db0 and the changes as db1)."""


# --------------------------------------------------------------------------- children
# Each method runs in a child process: ``bench_copy.py --child NAME`` reads a JSON spec
# on stdin and prints one JSON result line on stdout.


def _child_typedrepl(spec: dict[str, Any]) -> dict[str, Any]:
    # Import the engines first: the timing covers the load, not Python's imports.
    import typedrepl.engines.duckdb
    import typedrepl.engines.postgres  # noqa: F401
    from typedrepl import (
        Connections,
        DuckDBConnection,
        LoadMode,
        PostgresConnection,
        Replication,
        Table,
        replicate,
    )

    table = Table(
        name=spec["table"],
        primary_key="id",
        mode=LoadMode(spec["mode"]),
        destination_table=spec.get("destination_table"),
    )
    replication = Replication(
        connections=Connections(
            source=DuckDBConnection(connection=spec["source"]),
            destination=PostgresConnection(connection=spec["url"]),
        ),
        tables=[table],
    )
    started = time.monotonic()
    (result,) = replicate(replication, batch_size=spec["batch_size"])
    seconds = time.monotonic() - started
    return {
        "seconds": seconds,
        "rows_written": result.rows_written,
        "rows_in_destination": result.rows_in_destination,
    }


def _child_export(spec: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    with duckdb.connect(spec["source"], read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")  # TIMESTAMPTZ written with +00
        con.execute(
            f"COPY (SELECT {COLUMN_NAMES} FROM {SOURCE_TABLE}) TO '{spec['csv']}' (HEADER false)"  # noqa: S608
        )
    return {"seconds": time.monotonic() - started}


RAW_QUERY = (
    # UUID travels as its 16 bytes (pgpq has no uuid encoder; bytea's wire format is the
    # bytes, which the uuid column reads as is). CAST AS BLOB is DuckDB's fastest way.
    "SELECT id, user_id, amount, score, label, active, day, created, updated, "  # noqa: S608
    f"CAST(ext_id AS BLOB) AS ext_id FROM {SOURCE_TABLE}"
)


def _child_raw(spec: dict[str, Any]) -> dict[str, Any]:
    """The plainest fast path: one DuckDB Arrow stream, one pgpq encoder, one COPY."""
    import pgpq

    table = sql.Identifier(spec["table"])
    started = time.monotonic()
    with duckdb.connect(spec["source"], read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        # DuckDB would keep every block it read cached; a scan does not need them.
        con.execute("SET memory_limit = '64MB'")
        reader = con.sql(RAW_QUERY).to_arrow_reader(spec["batch_size"])
        encoder = pgpq.ArrowToPostgresBinaryEncoder(reader.schema)
        rows = 0
        with psycopg.connect(spec["url"]) as conn:
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                table, sql.SQL(COLUMN_NAMES)
            )
            with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                copy.write(encoder.write_header())
                for batch in reader:
                    copy.write(encoder.write_batch(batch))
                    rows += batch.num_rows
                copy.write(encoder.finish())
            if spec["late_pk"]:
                conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (id)").format(table))
            conn.commit()
    return {"seconds": time.monotonic() - started, "rows_written": rows}


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "typedrepl": _child_typedrepl,
    "export": _child_export,
    "raw": _child_raw,
}


def child_main(name: str) -> int:
    spec = json.loads(sys.stdin.read())
    result = CHILDREN[name](spec)
    print(json.dumps(result), flush=True)
    return 0


@dataclass(frozen=True)
class ChildRun:
    """One finished child process."""

    seconds: float
    """The child's own timing of the work (the wall time for psql)."""
    cpu_s: float
    maxrss_mib: float
    result: dict[str, Any]


# Peak RSS: on Linux a child's ru_maxrss starts from the high-water RSS of the process
# it was forked from (the kernel carries it across exec), so children started by this
# process, which grows while it generates the data, would all report at least its peak.
# They are therefore started by a small launcher (only the standard library), started
# first, which reads each child's rusage with os.wait4 and reports it as JSON.
LAUNCHER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    started = time.monotonic()
    piped = job["stdin"] is not None
    proc = subprocess.Popen(job["argv"], env=job["env"], stdout=subprocess.PIPE,
                            stdin=subprocess.PIPE if piped else subprocess.DEVNULL)
    if piped:
        proc.stdin.write(job["stdin"].encode())
        proc.stdin.close()
    output = proc.stdout.read().decode(errors="replace")
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps({"wall": time.monotonic() - started, "code": proc.returncode,
                      "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss,
                      "output": output}), flush=True)
"""


class Launcher:
    """Starts the measured processes (see ``LAUNCHER``) and returns their rusage."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def close(self) -> None:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.close()
        self._proc.stdout.close()
        self._proc.wait()

    def process(
        self, argv: Sequence[str], *, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> ChildRun:
        """Run ``argv`` to the end and return its timing, CPU time and peak RSS."""
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"argv": list(argv), "stdin": stdin, "env": env}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise BenchError("the launcher process died")
        done = json.loads(line)
        output = str(done["output"])
        if done["code"] != 0:
            raise BenchError(
                f"{shlex.join(_redacted(argv))} exited with {done['code']}; "
                f"output:\n{output[-2000:]}"
            )
        result: dict[str, Any] = {}
        if stdin is not None:  # one of our children: its last line is JSON
            lines = output.strip().splitlines()
            result = json.loads(lines[-1]) if lines else {}
        return ChildRun(
            seconds=float(result.get("seconds", done["wall"])),
            cpu_s=float(done["cpu"]),
            maxrss_mib=float(done["maxrss_kib"]) / 1024,  # KiB on Linux
            result=result,
        )

    def child(self, name: str, spec: dict[str, Any]) -> ChildRun:
        """Run one of this script's children (``--child NAME``) with ``spec``."""
        argv = [sys.executable, str(Path(__file__).resolve()), "--child", name]
        return self.process(argv, stdin=json.dumps(spec))


def _redacted(argv: Sequence[str]) -> list[str]:
    return [a if "password" not in a and "://" not in a else "<connection>" for a in argv]


# --------------------------------------------------------------------------- PostgreSQL


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` (a postgresql:// URL or a key=value string)."""
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        return urlunsplit(parts._replace(path="/" + database))
    return make_conninfo(url, dbname=database)


def pg_ddl(table: str, *, primary_key: bool = True) -> sql.Composed:
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg)) for name, _, pg in COLUMNS
    )
    if primary_key:
        columns = sql.SQL("{}, PRIMARY KEY (id)").format(columns)
    return sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), columns)


def find_psql() -> str:
    """``psql`` on the PATH, else next to the server binaries."""
    found = shutil.which("psql")
    if found:
        return found
    candidates = [os.environ.get("TYPEDREPL_PG_BIN", "")]
    candidates += sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin"))[::-1]
    for directory in candidates:
        if directory and (Path(directory) / "psql").is_file():
            return str(Path(directory) / "psql")
    raise BenchError("psql was not found (PATH, $TYPEDREPL_PG_BIN, /usr/lib/postgresql/*/bin)")


class ServerCpu:
    """CPU seconds used so far by a local PostgreSQL server: the postmaster, its live
    children and the children it has reaped (whose time the kernel adds to its own)."""

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster
        self._tick = os.sysconf("SC_CLK_TCK")

    @classmethod
    def find(cls, conn: psycopg.Connection[tuple[Any, ...]]) -> ServerCpu:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        stat = _proc_stat(int(row[0]))
        if stat is None:  # not on this machine (or another PID namespace)
            return cls(None)
        postmaster = int(stat[1])
        try:
            comm = Path(f"/proc/{postmaster}/comm").read_text().strip()
        except OSError:
            return cls(None)
        return cls(postmaster if comm in ("postgres", "postmaster") else None)

    def seconds(self) -> float | None:
        if self.postmaster is None:
            return None
        own = _proc_stat(self.postmaster)
        if own is None:
            return None
        ticks = sum(int(x) for x in own[11:15])  # utime stime cutime cstime
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                stat = _proc_stat(int(entry.name))
                if stat is not None and int(stat[1]) == self.postmaster:
                    ticks += int(stat[11]) + int(stat[12])
        return ticks / self._tick


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, ...)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


class Postgres:
    """The bench database: an autocommit connection for DDL, checkpoints and checks."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: psycopg.Connection[tuple[Any, ...]] = psycopg.connect(url, autocommit=True)
        for statement in PG_SESSION:
            self.conn.execute(statement)
        self.cpu = ServerCpu.find(self.conn)
        self.can_checkpoint = True

    def close(self) -> None:
        self.conn.close()

    def execute(self, statement: str | sql.Composable) -> None:
        self.conn.execute(statement)  # type: ignore[arg-type]

    def one(self, query: str | sql.Composable) -> tuple[Any, ...]:
        row = self.conn.execute(query).fetchone()  # type: ignore[arg-type]
        assert row is not None
        return row

    def drop_bench_tables(self) -> None:
        for table in TARGET_TABLES.values():
            self.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))

    def checkpoint(self) -> None:
        """``CHECKPOINT``, then flush the OS's dirty pages (the data files just written,
        the previous step's files), so that no write-back spills into the next step."""
        if self.can_checkpoint:
            try:
                self.execute("CHECKPOINT")
            except psycopg.errors.InsufficientPrivilege:
                self.can_checkpoint = False
                print("  note: this user may not CHECKPOINT; steps run without one", flush=True)
        os.sync()

    def setting(self, name: str) -> str:
        return str(self.one(sql.SQL("SHOW {}").format(sql.Identifier(name)))[0])

    def count(self, table: str) -> int:
        return int(self.one(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))[0])

    def fingerprint(self, table: str) -> tuple[list[object], int]:
        """The per-column fingerprint and ``sum(hashtext(t::text))`` over every row."""
        aggregates = sql.SQL(", ").join(sql.SQL(pg) for pg, _ in FINGERPRINT)
        row = self.one(
            sql.SQL("SELECT {}, sum(hashtext(t::text)) FROM {} AS t").format(
                aggregates, sql.Identifier(table)
            )
        )
        return list(row[:-1]), int(row[-1])

    def shape(self, table: str) -> tuple[list[tuple[str, str, bool]], list[str]]:
        """(name, type, not null) of each column, and the primary key's columns."""
        columns = self.conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (sql.Identifier(table).as_string(self.conn),),
        ).fetchall()
        key = self.conn.execute(
            "SELECT a.attname FROM pg_index i "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY k.ord",
            (sql.Identifier(table).as_string(self.conn),),
        ).fetchall()
        return [(str(n), str(t), bool(nn)) for n, t, nn in columns], [str(r[0]) for r in key]

    def rows(self, table: str, ids: Sequence[int]) -> list[tuple[object, ...]]:
        return self.conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE id = ANY(%s) ORDER BY id").format(
                sql.SQL(COLUMN_NAMES), sql.Identifier(table)
            ),
            (list(ids),),
        ).fetchall()


EXPECTED_SHAPE = (
    [(name, pg, name == "id") for name, _, pg in COLUMNS],
    ["id"],
)


@contextlib.contextmanager
def bench_database(server_url: str | None) -> Iterator[tuple[str, str]]:
    """A fresh database on the given server, or on a throwaway durable local server.

    Yields the database's URL and a description of the server; drops it at the end.
    """
    with contextlib.ExitStack() as stack:
        if server_url is None:
            from typedrepl._pgserver import local_postgres

            server = stack.enter_context(local_postgres(durable=True))
            server_url, where = server.url, "local_postgres(durable=True), started for this run"
        else:
            where = "given by --postgres-url"
        name = f"typedrepl_bench_{secrets.token_hex(4)}"
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield with_database(server_url, name), where
        finally:
            with psycopg.connect(server_url, autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


# --------------------------------------------------------------------------- measuring


@dataclass
class Step:
    """One timed run of one method."""

    seconds: float
    client_cpu_s: float
    server_cpu_s: float | None
    rss_mib: float
    parts: dict[str, float] = field(default_factory=dict)


@dataclass
class Bench:
    args: argparse.Namespace
    workdir: Path
    pg: Postgres
    source: Path
    changes: Path
    plan: MergePlan
    psql: str
    launcher: Launcher
    failures: list[str] = field(default_factory=list)
    checks: int = 0
    steps: dict[str, list[Step]] = field(default_factory=lambda: {m: [] for m in METHODS})
    merges: dict[str, list[Step]] = field(default_factory=lambda: {m: [] for m in MERGES})
    checksum: int | None = None
    checksum_from: str = ""
    source_fingerprint: list[object] = field(default_factory=list)
    merge_fingerprint: list[object] = field(default_factory=list)

    # ----------------------------------------------------------------- checks

    def check(self, ok: bool, what: str) -> bool:
        self.checks += 1
        if not ok:
            self.failures.append(what)
            print(f"    VERIFICATION FAILED: {what}", flush=True)
        return ok

    def verify_copy(self, method: str) -> None:
        table = TARGET_TABLES[method]
        rows = self.args.rows
        count = self.pg.count(table)
        self.check(count == rows, f"{method}: {count} rows in {table}, expected {rows}")
        shape = self.pg.shape(table)
        self.check(
            shape == EXPECTED_SHAPE,
            f"{method}: table {table} has columns/key {shape}, expected {EXPECTED_SHAPE}",
        )
        fingerprint, checksum = self.pg.fingerprint(table)
        diff = _differences(fingerprint, self.source_fingerprint)
        self.check(not diff, f"{method}: column fingerprint differs from DuckDB's: {diff}")
        if self.checksum is None:
            self.checksum, self.checksum_from = checksum, method
        self.check(
            checksum == self.checksum,
            f"{method}: sum(hashtext(t::text)) = {checksum}, but {self.checksum_from} "
            f"gave {self.checksum}",
        )

    def verify_merge(self, rows_written: object) -> None:
        plan, table = self.plan, TARGET_TABLES[TYPEDREPL]
        expected_rows = plan.rows + plan.inserts
        self.check(
            rows_written == plan.merge_rows,
            f"merge: {rows_written} rows written reported, expected {plan.merge_rows}",
        )
        count = self.pg.count(table)
        self.check(count == expected_rows, f"merge: {count} rows, expected {expected_rows}")
        fingerprint, _ = self.pg.fingerprint(table)
        diff = _differences(fingerprint, self.merge_fingerprint)
        self.check(not diff, f"merge: fingerprint differs from the expected merge: {diff}")
        updated, new, untouched = plan.sample_ids()
        ids = sorted({*updated, *new, *untouched})
        got = self.pg.rows(table, ids)
        want = duckdb_rows(EXPECTED_MERGE, ids, self.source, self.changes)
        self.check(
            got == want,
            f"merge: sampled rows differ from the expected merge "
            f"(first: {_first_difference(got, want)})",
        )
        before = {r[0]: r for r in duckdb_rows(f"db0.{SOURCE_TABLE}", updated, self.source)}
        changed = sum(1 for r in got if r[0] in before and before[r[0]] != r)
        self.check(
            changed == len(before),
            f"merge: only {changed} of {len(before)} sampled updated rows changed",
        )

    # ----------------------------------------------------------------- methods

    def _prepare(self, method: str) -> None:
        self.pg.drop_bench_tables()
        if method != TYPEDREPL:
            self.pg.execute(pg_ddl(TARGET_TABLES[method], primary_key=method != RAW_LATE_PK))
        self.pg.checkpoint()

    def _measure(self, run: Callable[[], list[ChildRun]]) -> tuple[list[ChildRun], float | None]:
        before = self.pg.cpu.seconds()
        children = run()
        time.sleep(0.2)  # let the postmaster reap the finished backends
        after = self.pg.cpu.seconds()
        server = None if before is None or after is None else after - before
        return children, server

    def run_method(self, method: str) -> Step:
        self._prepare(method)
        url, batch = self.pg.url, self.args.batch_size
        if method == TYPEDREPL:
            spec = {"source": str(self.source), "url": url, "batch_size": batch}
            spec |= {"table": SOURCE_TABLE, "mode": "full_refresh"}
            (run,), server = self._measure(lambda: [self.launcher.child("typedrepl", spec)])
            self.check(
                run.result.get("rows_written") == self.args.rows,
                f"typedrepl reports {run.result.get('rows_written')} rows written",
            )
            step = Step(run.seconds, run.cpu_s, server, run.maxrss_mib)
        elif method == PSQL:
            csv = self.workdir / "activity.csv"
            (export, load), server = self._measure(lambda: self._csv(csv))
            csv.unlink(missing_ok=True)
            step = Step(
                export.seconds + load.seconds,
                export.cpu_s + load.cpu_s,
                server,
                max(export.maxrss_mib, load.maxrss_mib),
                {"export": export.seconds, "load": load.seconds},
            )
        else:
            spec = {"source": str(self.source), "url": url, "batch_size": batch}
            spec |= {"table": TARGET_TABLES[method], "late_pk": method == RAW_LATE_PK}
            (run,), server = self._measure(lambda: [self.launcher.child("raw", spec)])
            step = Step(run.seconds, run.cpu_s, server, run.maxrss_mib)
        self.verify_copy(method)
        return step

    def _csv(self, csv: Path) -> list[ChildRun]:
        export = self.launcher.child("export", {"source": str(self.source), "csv": str(csv)})
        info = conninfo_to_dict(self.pg.url)
        env = dict(os.environ)
        password = info.pop("password", None)
        if password is not None:
            env["PGPASSWORD"] = str(password)
        command = f"\\copy {TARGET_TABLES[PSQL]} ({COLUMN_NAMES}) FROM '{csv}' CSV"
        argv = [self.psql, make_conninfo("", **info), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        load = self.launcher.process([*argv, "-c", command], env=env)
        return [export, load]

    def restore(self, *, fillfactor: int | None = None) -> None:
        """The full table loaded by typedrepl, vacuumed: the state a merge starts from.

        With ``fillfactor``, the table is first created empty with it, as a user tunes
        their table, and typedrepl's full refresh must keep it (checked)."""
        self.pg.drop_bench_tables()
        if fillfactor is not None:
            self.pg.execute(
                sql.SQL("{} WITH (fillfactor = {})").format(
                    pg_ddl(SOURCE_TABLE), sql.Literal(fillfactor)
                )
            )
        spec = {"source": str(self.source), "url": self.pg.url, "batch_size": self.args.batch_size}
        self.launcher.child("typedrepl", spec | {"table": SOURCE_TABLE, "mode": "full_refresh"})
        (options,) = self.pg.one(
            sql.SQL("SELECT reloptions FROM pg_class WHERE oid = {}::regclass").format(
                sql.Literal(SOURCE_TABLE)
            )
        )
        want = None if fillfactor is None else [f"fillfactor={fillfactor}"]
        self.check(options == want, f"restore: reloptions {options}, expected {want}")
        self.pg.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(SOURCE_TABLE)))
        self.pg.checkpoint()

    def load_changes(self) -> None:
        """The changes as a PostgreSQL table, for :meth:`run_merge`'s SQL baseline (untimed)."""
        spec = {"source": str(self.changes), "url": self.pg.url, "batch_size": self.args.batch_size}
        spec |= {"table": CHANGES_TABLE, "mode": "full_refresh", "destination_table": CHANGES_PG}
        self.launcher.child("typedrepl", spec)

    def run_merge(self, method: str) -> Step:
        if method == MERGE_SQL:
            (run,), server = self._measure(lambda: [sql_upsert(self.pg.url)])
            self.verify_merge(run.result["rows_written"])
            return Step(run.seconds, run.cpu_s, server, run.maxrss_mib)
        table = CHANGES_SHUFFLED if method == MERGE_SHUFFLED else CHANGES_TABLE
        spec = {"source": str(self.changes), "url": self.pg.url, "batch_size": self.args.batch_size}
        spec |= {"table": table, "mode": "merge", "destination_table": SOURCE_TABLE}
        (run,), server = self._measure(lambda: [self.launcher.child("typedrepl", spec)])
        self.verify_merge(run.result.get("rows_written"))
        return Step(run.seconds, run.cpu_s, server, run.maxrss_mib)


def sql_upsert(url: str) -> ChildRun:
    """The server's own part of a merge, timed alone: the changes are already in
    PostgreSQL (``CHANGES_PG``); copy them into a temporary stage and run the statement
    typedrepl runs (``INSERT ... SELECT ... ORDER BY id ON CONFLICT (id) DO UPDATE ...
    WHERE ROW(old) IS DISTINCT FROM ROW(new)``), in one transaction. No client work: the
    floor a merge over the wire can approach."""
    names = [name for name, _, _ in COLUMNS]
    others = names[1:]

    def ids(prefix: str | None, columns: Sequence[str]) -> sql.Composable:
        return sql.SQL(", ").join(
            sql.Identifier(*((prefix, c) if prefix else (c,))) for c in columns
        )

    floats = {name for name, duck, _ in COLUMNS if duck in ("DOUBLE", "FLOAT")}

    def compared(prefix: str) -> sql.Composable:
        """As typedrepl compares: a float's text too (-0.0 = 0.0 to float equality)."""
        return sql.SQL(", ").join(
            sql.SQL("{}, {}::text").format(sql.Identifier(prefix, c), sql.Identifier(prefix, c))
            if c in floats
            else sql.Identifier(prefix, c)
            for c in others
        )

    upsert = sql.SQL(
        "INSERT INTO {target} AS t ({names}) SELECT {names} FROM _stage ORDER BY id "
        "ON CONFLICT (id) DO UPDATE SET {sets} WHERE ROW({old}) IS DISTINCT FROM ROW({new})"
    ).format(
        target=sql.Identifier(SOURCE_TABLE),
        names=ids(None, names),
        sets=sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in others
        ),
        old=compared("t"),
        new=compared("excluded"),
    )
    started = time.monotonic()
    cpu = time.process_time()
    with psycopg.connect(url) as conn:
        conn.execute(
            sql.SQL("CREATE TEMPORARY TABLE _stage ON COMMIT DROP AS SELECT * FROM {}").format(
                sql.Identifier(CHANGES_PG)
            )
        )
        written = conn.execute(upsert).rowcount
        conn.commit()
    return ChildRun(
        seconds=time.monotonic() - started,
        cpu_s=time.process_time() - cpu,
        maxrss_mib=0.0,
        result={"rows_written": written},
    )


def _differences(got: Sequence[object], want: Sequence[object]) -> list[str]:
    return [
        f"{label}: {g!r} != {w!r}"
        for (label, _), g, w in zip(FINGERPRINT, got, want, strict=True)
        if not _same(g, w)
    ]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _first_difference(got: Sequence[tuple[object, ...]], want: Sequence[tuple[object, ...]]) -> str:
    if len(got) != len(want):
        return f"{len(got)} rows vs {len(want)}"
    for g, w in zip(got, want, strict=True):
        if g != w:
            return f"{g!r} vs {w!r}"
    return "none"


# --------------------------------------------------------------------------- report


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else math.inf


def _opt(value: float | None, fmt: str = "{:.1f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def _server_median(steps: Sequence[Step]) -> float | None:
    values = [s.server_cpu_s for s in steps if s.server_cpu_s is not None]
    return _median(values) if values else None


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_copy_table(bench: Bench) -> dict[str, float]:
    rows = bench.args.rows
    header = (
        f"{'method':<20} {'median s':>9} {'rows/s':>11} {'min-max s':>13} "
        f"{'client CPU s':>13} {'server CPU s':>13} {'peak RSS MiB':>13}"
    )
    print(header)
    print("-" * len(header))
    medians: dict[str, float] = {}
    for method in METHODS:
        steps = bench.steps[method]
        if not steps:
            continue
        seconds = [s.seconds for s in steps]
        med = medians[method] = _median(seconds)
        name = method + (" (info)" if method == RAW_LATE_PK else "")
        print(
            f"{name:<20} {med:>9.2f} {_rate(rows, med):>11,.0f} "
            f"{f'{min(seconds):.2f}-{max(seconds):.2f}':>13} "
            f"{_median([s.client_cpu_s for s in steps]):>13.1f} "
            f"{_opt(_server_median(steps)):>13} {max(s.rss_mib for s in steps):>13.0f}"
        )
    csv_steps = bench.steps[PSQL]
    if csv_steps:
        export = _median([s.parts["export"] for s in csv_steps])
        load = _median([s.parts["load"] for s in csv_steps])
        print(
            f"  psql \\copy = DuckDB COPY TO csv {export:.2f} s + psql \\copy load {load:.2f} s "
            "(medians); its RSS is the larger of the two processes'"
        )
    print(
        "  client CPU: user+sys of the method's processes, start-up and imports included; "
        "server CPU: all PostgreSQL server processes during the step"
    )
    return medians


def _paired(bench: Bench, other: str) -> list[float]:
    """Per repetition: the other method's seconds over typedrepl's (= rate ratio)."""
    return [
        o.seconds / t.seconds
        for t, o in zip(bench.steps[TYPEDREPL], bench.steps[other], strict=True)
        if t.seconds > 0
    ]


def print_targets(bench: Bench, medians: dict[str, float]) -> None:
    lines: list[tuple[str, str, str, str]] = []
    typedrepl = medians[TYPEDREPL]
    for other, label, goal in (
        (PSQL, "typedrepl/psql \\copy rate", TARGET_VS_PSQL),
        (RAW, "typedrepl/raw rate", TARGET_VS_RAW),
    ):
        ratio = medians[other] / typedrepl
        paired = _paired(bench, other)
        lines.append(
            (
                label,
                f"{ratio:.2f}x (per repetition {min(paired):.2f}-{max(paired):.2f})",
                f">= {goal:.2f}x",
                _verdict(ratio >= goal),
            )
        )
    rss = max(s.rss_mib for s in bench.steps[TYPEDREPL])
    lines.append(
        (
            "typedrepl peak RSS",
            f"{rss:.0f} MiB",
            f"< {TARGET_RSS_MIB:.0f} MiB",
            _verdict(rss < TARGET_RSS_MIB),
        )
    )
    if bench.merges[MERGE_ORDERED]:
        med = _median([s.seconds for s in bench.merges[MERGE_ORDERED]])
        rate = _rate(bench.plan.merge_rows, med)
        lines.append(
            (
                "typedrepl merge rate",
                f"{rate:,.0f} rows/s",
                f">= {TARGET_MERGE_RATE:,.0f} rows/s",
                _verdict(rate >= TARGET_MERGE_RATE),
            )
        )
    width = max(len(line[0]) for line in lines)
    value_width = max(len(line[1]) for line in lines)
    target_width = max(len(line[2]) for line in lines)
    for label, value, target, verdict in lines:
        print(
            f"{label:<{width}}  {value:<{value_width}}  target {target:<{target_width}}  {verdict}"
        )
    if RAW_LATE_PK in medians:
        ratio = medians[RAW_LATE_PK] / typedrepl
        paired = _paired(bench, RAW_LATE_PK)
        print(
            f"(info) typedrepl/raw-with-PK-after rate: {ratio:.2f}x "
            f"(per repetition {min(paired):.2f}-{max(paired):.2f}); no target"
        )


def print_merge_table(bench: Bench) -> None:
    rows = bench.plan.merge_rows
    header = (
        f"{'merge of ' + format(rows, ',') + ' changes':<30} {'median s':>9} {'rows/s':>11} "
        f"{'min-max s':>13} {'client CPU s':>13} {'server CPU s':>13} {'peak RSS MiB':>13}"
    )
    print(header)
    print("-" * len(header))
    for method in MERGES:
        steps = bench.merges[method]
        if not steps:
            continue
        seconds = [s.seconds for s in steps]
        med = _median(seconds)
        rss = "-" if method == MERGE_SQL else f"{max(s.rss_mib for s in steps):.0f}"
        print(
            f"{method:<30} {med:>9.2f} {_rate(rows, med):>11,.0f} "
            f"{f'{min(seconds):.2f}-{max(seconds):.2f}':>13} "
            f"{_median([s.client_cpu_s for s in steps]):>13.1f} "
            f"{_opt(_server_median(steps)):>13} {rss:>13}"
        )
    ordered, floor = bench.merges[MERGE_ORDERED], bench.merges[MERGE_SQL]
    if ordered and floor:
        ratio = _median([s.seconds for s in floor]) / _median([s.seconds for s in ordered])
        print(
            f"  typedrepl merge (key order) runs at {ratio:.2f}x the rate of the SQL upsert "
            "alone (the changes already in PostgreSQL, copied to a temporary stage, the same "
            "INSERT ... ON CONFLICT: the server's own part of a merge, no client work)"
        )
    tuned = bench.merges[MERGE_FILLFACTOR]
    if ordered and tuned:
        ratio = _median([s.seconds for s in ordered]) / _median([s.seconds for s in tuned])
        print(
            f"  into a table with fillfactor {FILLFACTOR} (set before the full refresh, kept "
            f"by it) the same merge runs at {ratio:.2f}x the rate: updates stay on their page "
            "(HOT), no new index entry"
        )


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _mem_gib() -> str:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "?"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def print_environment(pg: Postgres, psql: str, where: str) -> None:
    psql_version = subprocess.run(
        [psql, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(
        f"machine:  nproc {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}), "
        f"{_cpu_model()}, {_mem_gib()} RAM, {platform.system()} {platform.release()}"
    )
    print(f"load average (1/5/15 min) at start: {_load()}")
    print(
        f"versions: Python {platform.python_version()}, typedrepl {_version('typedrepl')}, "
        f"duckdb {duckdb.__version__}, psycopg {psycopg.__version__} "
        f"(libpq {psycopg.pq.version()}), pgpq {_version('pgpq')}, pyarrow {_version('pyarrow')}"
    )
    print(f"          PostgreSQL server {pg.setting('server_version')}, {psql_version}")
    settings = " ".join(
        f"{name}={pg.setting(name)}"
        for name in (
            "fsync",
            "synchronous_commit",
            "full_page_writes",
            "wal_level",
            "shared_buffers",
            "max_wal_size",
        )
    )
    print(f"server:   {where}; {settings}")
    print(f"          server CPU measured: {'yes' if pg.cpu.postmaster else 'no (not local)'}")


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from typedrepl._run import DEFAULT_BATCH_ROWS

    parser = argparse.ArgumentParser(
        description="DuckDB -> PostgreSQL copy benchmark: typedrepl vs psql \\copy vs raw pgpq COPY."
    )
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows in the table")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="runs of each method")
    parser.add_argument(
        "--merge-rows", type=int, default=DEFAULT_MERGE_ROWS, help="changed rows to merge"
    )
    parser.add_argument(
        "--postgres-url",
        help="use this server (a fresh database is created on it and dropped); "
        "default: start a throwaway local_postgres(durable=True)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_ROWS,
        help="rows per Arrow batch, for typedrepl and the raw path (default: typedrepl's)",
    )
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is None:
        if args.rows < 1 or args.repeat < 1 or args.merge_rows < 1 or args.batch_size < 1:
            parser.error("--rows, --repeat, --merge-rows and --batch-size must be positive")
        if round(args.merge_rows * UPDATE_SHARE) > args.rows:
            parser.error("--merge-rows is too large: its updates must be existing ids")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        return child_main(args.child)
    command = shlex.join(["bench/bench_copy.py", *(sys.argv[1:] if argv is None else argv)])
    command = command.replace(args.postgres_url or "\0", "URL")
    started = time.monotonic()
    print(f"typedrepl copy benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command:  {command}")
    psql = find_psql()
    launcher = Launcher()  # first, while this process is small
    try:
        with (
            tempfile.TemporaryDirectory(prefix="typedrepl-bench-") as tmp,
            bench_database(args.postgres_url) as (url, where),
        ):
            pg = Postgres(url)
            try:
                print_environment(pg, psql, where)
                return run(args, Path(tmp), pg, psql, launcher, started)
            finally:
                pg.close()
    finally:
        launcher.close()


def run(
    args: argparse.Namespace,
    workdir: Path,
    pg: Postgres,
    psql: str,
    launcher: Launcher,
    started: float,
) -> int:
    plan = MergePlan(args.rows, args.merge_rows)
    source, changes = workdir / "source.duckdb", workdir / "changes.duckdb"
    seconds = generate_data(source, changes, plan)
    print(
        f"\ndata:     {args.rows:,} rows x {len(COLUMNS)} columns "
        f"({', '.join(duck for _, duck, _ in COLUMNS)}; ~5% NULLs) and {plan.merge_rows:,} "
        f"changes ({plan.updates:,} updates, {plan.inserts:,} new ids), generated by DuckDB in "
        f"{seconds:.1f} s; source file {source.stat().st_size / MIB:.0f} MiB"
    )
    bench = Bench(args, workdir, pg, source, changes, plan, psql, launcher)
    bench.source_fingerprint = duckdb_fingerprint(f"db0.{SOURCE_TABLE}", source)
    bench.merge_fingerprint = duckdb_fingerprint(EXPECTED_MERGE, source, changes)

    print(f"\n== full copy: {args.rows:,} rows, {args.repeat} repetition(s), order rotates ==")
    for rep in range(args.repeat):
        order = METHODS[rep % len(METHODS) :] + METHODS[: rep % len(METHODS)]
        for method in order:
            step = bench.run_method(method)
            bench.steps[method].append(step)
            extra = "".join(f", {k} {v:.2f} s" for k, v in step.parts.items())
            print(
                f"  rep {rep + 1} {method:<14} {step.seconds:7.2f} s "
                f"{_rate(args.rows, step.seconds):>11,.0f} rows/s{extra}; client CPU "
                f"{step.client_cpu_s:.1f} s, server CPU {_opt(step.server_cpu_s)} s, "
                f"RSS {step.rss_mib:.0f} MiB; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )

    print(
        f"\n== merge: {plan.merge_rows:,} changed rows ({plan.updates:,} updates, "
        f"{plan.inserts:,} inserts) into the {args.rows:,}-row table =="
    )
    print("  before each: full refresh by typedrepl, VACUUM (ANALYZE), CHECKPOINT, sync (untimed)")
    bench.load_changes()
    for rep in range(args.repeat):
        for method in MERGES[rep % len(MERGES) :] + MERGES[: rep % len(MERGES)]:
            bench.restore(fillfactor=FILLFACTOR if method == MERGE_FILLFACTOR else None)
            step = bench.run_merge(method)
            bench.merges[method].append(step)
            print(
                f"  rep {rep + 1} {method:<30} {step.seconds:7.2f} s "
                f"{_rate(plan.merge_rows, step.seconds):>11,.0f} rows/s; client CPU "
                f"{step.client_cpu_s:.1f} s, server CPU {_opt(step.server_cpu_s)} s, "
                f"RSS {'-' if method == MERGE_SQL else f'{step.rss_mib:.0f} MiB'}; "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    pg.drop_bench_tables()
    pg.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(CHANGES_PG)))

    print(f"\n== results (median of {args.repeat}; rows/s from the median) ==")
    medians = print_copy_table(bench)
    print()
    print_merge_table(bench)
    print("\n== targets ==")
    print_targets(bench, medians)
    print(f"\nload average (1/5/15 min) at end: {_load()}")
    print(f"total run time: {time.monotonic() - started:.0f} s")
    if bench.failures:
        print(f"\nverification: {len(bench.failures)} of {bench.checks} checks FAILED:")
        for failure in bench.failures:
            print(f"  - {failure}")
        return 1
    print(
        f"\nverification: all {bench.checks} checks passed (row counts; column types and "
        "primary key; sum(hashtext(t::text)) identical for every method; per-column "
        "fingerprint equal to DuckDB's; merge count, fingerprint and sampled rows)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
