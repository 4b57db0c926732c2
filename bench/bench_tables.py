"""Per-table cost of a run of many small tables: connections kept vs one per table.

    .venv/bin/python bench/bench_tables.py [--tables 200] [--repeat 3] [--postgres-url URL]

A benchmark, not a test: it prints the figures of this one run. It makes a DuckDB file of
``--tables`` two-row tables and replicates them into PostgreSQL (a throwaway server
unless ``--postgres-url`` is given), ``full_refresh``, in rotating order:

* ``kept``: ``iter_replicate(keep_open=True)``, what ``replicate()``, ``typedrepl run``
  and the Dagster resource do: one connection per side serves every table;
* ``per table`` (the baseline): ``iter_replicate(keep_open=False)``: each table opens
  and closes its own connections, as every run did before.

The first run creates the tables (untimed); every timed run replaces them. It checks
that every table succeeded with its two rows (exit 1 otherwise) and prints the median
milliseconds per table of each method and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from typedrepl import (
    Connections,
    DuckDBConnection,
    PostgresConnection,
    Replication,
    Table,
    TableResult,
)
from typedrepl._run import iter_replicate

METHODS: dict[str, bool] = {"kept": True, "per table": False}
"""Method name -> ``keep_open``."""


@contextmanager
def _postgres(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    from typedrepl._pgserver import start_local_postgres

    server = start_local_postgres()
    try:
        yield server.url
    finally:
        server.stop()


def _source(path: Path, tables: int) -> None:
    with duckdb.connect(str(path)) as con:
        for i in range(tables):
            con.execute(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, v VARCHAR)")
            con.execute(f"INSERT INTO t{i} VALUES (1, 'a'), (2, 'b')")  # noqa: S608


def _run(replication: Replication[Table], keep_open: bool) -> tuple[float, list[str]]:
    """Seconds for the whole run, and what went wrong."""
    problems: list[str] = []
    started = time.monotonic()
    for outcome in iter_replicate(replication, keep_open=keep_open):
        if not isinstance(outcome, TableResult):
            problems.append(f"{outcome.table}: {outcome.error}")
        elif outcome.rows_in_destination != 2:
            problems.append(f"{outcome.table}: {outcome.rows_in_destination} rows, expected 2")
    return time.monotonic() - started, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args(argv)
    if args.tables < 1 or args.repeat < 1:
        parser.error("--tables and --repeat must be positive")
    with tempfile.TemporaryDirectory() as work, _postgres(args.postgres_url) as url:
        source = Path(work) / "source.duckdb"
        _source(source, args.tables)
        replication: Replication[Table] = Replication(
            connections=Connections(
                source=DuckDBConnection(connection=str(source)),
                destination=PostgresConnection(connection=url),
            ),
            tables=tuple(Table(name=f"t{i}", primary_key="id") for i in range(args.tables)),
        )
        _, problems = _run(replication, keep_open=True)  # creates the tables, untimed
        seconds: dict[str, list[float]] = {name: [] for name in METHODS}
        names = list(METHODS)
        for rep in range(args.repeat):
            for name in names[rep % 2 :] + names[: rep % 2]:
                took, found = _run(replication, keep_open=METHODS[name])
                problems += found
                seconds[name].append(took)
                print(
                    f"rep {rep + 1} {name:<10} {took:6.2f} s  "
                    f"{took / args.tables * 1000:6.1f} ms/table",
                    flush=True,
                )
    print(
        f"\n{args.tables} tables of 2 rows, DuckDB -> PostgreSQL, full_refresh, "
        f"median of {args.repeat}"
    )
    medians = {name: statistics.median(s) / args.tables * 1000 for name, s in seconds.items()}
    for name, ms in medians.items():
        print(f"  {name:<10} {ms:6.1f} ms/table")
    print(f"  per table / kept: {medians['per table'] / medians['kept']:.2f}x")
    if problems:
        print("\nFAILED checks:\n  " + "\n  ".join(problems[:20]))
        return 1
    print("\nverification: every table of every run succeeded with its 2 rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
