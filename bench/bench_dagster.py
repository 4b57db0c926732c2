"""Dagster overhead benchmark: materializing N tables that hold no rows.

Run it from the repository root::

    .venv/bin/python bench/bench_dagster.py [--tables 100,1000,5000] [--repeat 1]

It is a benchmark, not a test: it prints what it measured in this one run and exits 0
unless something broke (a run failed, or the materialized assets or check evaluations
are not exactly the declared ones).

For each N it builds a replication of N tables (``t00000`` ...) and times, in process:

* ``engine-only``: ``iter_replicate`` over the N tables, without Dagster;
* ``one-op``: building the assets (specs + ``@replication_assets``: ``build s``), then
  ``dagster.materialize`` of all N assets (``run s``, ``DagsterInstance.ephemeral()``);
  ``ops`` is how many ops ``@replication_assets`` split the tables into;
* ``graph``: the same with ``replication_graph_assets`` (one op per table), for N up to
  ``--graph-max`` only;
* ``chunks``: the same with several ``@replication_assets`` definitions of
  ``--chunk-size`` tables each (what a user can do by hand: the same keys, in several
  ``AssetsDefinition`` objects instead of one).

The Dagster overhead of a form is its ``materialize`` time minus the engine-only time,
printed per table (wall time, and CPU time of this process, which other processes' load
disturbs less), with the ratio of that per-table cost at the largest N to the smallest
(near-linear: close to 1, under 2). Finally it profiles (cProfile) the one-op
``materialize`` at the largest N and prints where the time went.

Options: ``--split-above`` and ``--tables-per-part`` override ``SPLIT_ABOVE`` and
``TABLES_PER_PART`` of ``typedrepl._assets`` (to compare how ``@replication_assets``
splits tables into ops); ``--asset-checks`` declares the row count check of every table (the tables have
no primary key, so no check queries a database).

The engine (``--engine``):

* ``null`` (default): the real run path (``iter_replicate``, the plan, the results, the
  Dagster contract), with an engine defined here whose every table exists, has two
  columns and no rows, and costs nothing: what is left is typedrepl's and Dagster's
  own work per table;
* ``duckdb``: N empty tables in a DuckDB file, replicated into another DuckDB file in a
  temporary directory (slow: the DuckDB engine opens both files for every table).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import importlib.metadata
import logging
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

import attrs
import dagster as dg
import duckdb

from typedrepl import (
    Connection,
    Connections,
    DuckDBConnection,
    Replication,
    ReplicationResource,
    Table,
    TableResult,
    _assets,
    replication_assets,
    replication_graph_assets,
)
from typedrepl._run import iter_replicate
from typedrepl._types import Kind, LogicalType
from typedrepl.engines._base import (
    CursorState,
    ExistingColumn,
    ExistingTable,
    LoadOutcome,
    ReadSpec,
    SourceColumn,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from typedrepl._plan import TablePlan

Form = Literal["one-op", "graph", "chunks"]
FORMS: tuple[Form, ...] = ("one-op", "graph", "chunks")
EngineName = Literal["null", "duckdb"]
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
"""The console shows errors only; every event is still stored in the instance."""
NEAR_LINEAR = 2.0
"""Per-table overhead at the largest N over the smallest: below this is near-linear."""

# --------------------------------------------------------------------------- null engine

_COLUMNS = (
    SourceColumn("id", "BIGINT", LogicalType(Kind.INT8)),
    SourceColumn("label", "VARCHAR", LogicalType(Kind.TEXT)),
)


@attrs.frozen(kw_only=True)
class NullConnection(Connection):
    """A database where every table exists, has ``id`` and ``label``, and no rows."""

    type: str = "null"
    connection: str = "null"
    engine_module: ClassVar[str] = __name__


class NullSource:
    """Every table has two columns and no rows."""

    default_schema = "main"

    def begin(self) -> None:
        pass

    def columns(self, schema: str, table: str) -> tuple[SourceColumn, ...]:
        return _COLUMNS

    def key_problem(self, read: ReadSpec, key: tuple[str, ...]) -> str | None:
        return None

    def max_cursor(self, read: ReadSpec) -> str | None:
        return None

    def count_rows(self, read: ReadSpec) -> int:
        return 0

    def count_null_cursor(self, read: ReadSpec) -> int:
        return 0

    def batches(self, read: ReadSpec, batch_size: int) -> Generator[pa.RecordBatch]:
        yield from ()

    def find_nul(self, read: ReadSpec, column: str, key: tuple[str, ...]) -> str | None:
        return None

    def close(self) -> None:
        pass


class NullDestination:
    """Accepts every load; no table exists before it."""

    default_schema = "main"
    max_identifier_bytes: int | None = None

    def type_name(self, logical: LogicalType) -> str:
        return str(logical)

    def begin(self, schema: str, table: str, *, lock: bool) -> None:
        pass

    def existing(self, schema: str, table: str) -> ExistingTable | None:
        return None

    def cursor_state(self, schema: str, table: str) -> CursorState | None:
        return None

    def ddl(self, plan: TablePlan) -> tuple[str, ...]:
        return ()

    def load(
        self,
        plan: TablePlan,
        batches: Iterable[pa.RecordBatch],
        *,
        cursor_value: str | None,
        on_rows: Callable[[int], None],
    ) -> LoadOutcome:
        rows = sum(batch.num_rows for batch in batches)
        columns = tuple(ExistingColumn(c.name, c.destination_type) for c in plan.columns)
        return LoadOutcome(rows_written=rows, rows_in_destination=rows, columns=columns)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def open_source(connection: Connection, *, log: logging.Logger) -> NullSource:
    """The null engine's source (this module is the null connection's engine module)."""
    return NullSource()


def open_destination(
    connection: Connection, *, log: logging.Logger, read_only: bool = False
) -> NullDestination:
    """The null engine's destination."""
    return NullDestination()


# --------------------------------------------------------------------------- set-up


def table_names(count: int) -> list[str]:
    return [f"t{i:05d}" for i in range(count)]


def make_replication(engine: EngineName, count: int, workdir: Path) -> Replication[Table]:
    """A replication of ``count`` tables without rows, for ``engine``."""
    names = table_names(count)
    connections: Connections
    if engine == "null":
        connections = Connections(source=NullConnection(), destination=NullConnection())
    else:
        workdir.mkdir(parents=True, exist_ok=True)
        source = workdir / f"source_{count}.duckdb"
        with duckdb.connect(str(source)) as conn:
            for name in names:
                conn.execute(f'CREATE TABLE "{name}" (id BIGINT PRIMARY KEY, label VARCHAR)')
        connections = Connections(
            source=DuckDBConnection(connection=str(source)),
            destination=DuckDBConnection(connection=str(workdir / f"dest_{count}.duckdb")),
        )
    return Replication(connections=connections, tables=tuple(Table(name=n) for n in names))


def build_assets(
    form: Form, replication: Replication[Table], checks: bool, chunk: int
) -> list[dg.AssetsDefinition]:
    """The form's asset definitions: one, except for ``chunks``."""
    if form == "graph":
        return [
            replication_graph_assets(
                replication=replication, name="bench_graph", asset_checks=checks
            )
        ]
    if form == "one-op":
        return [one_op(replication, "bench_tables", checks)]
    tables = replication.tables
    return [
        one_op(attrs.evolve(replication, tables=tables[i : i + chunk]), f"bench_chunk_{i}", checks)
        for i in range(0, len(tables), chunk)
    ]


def one_op(replication: Replication[Table], name: str, checks: bool) -> dg.AssetsDefinition:
    @replication_assets(replication=replication, name=name, asset_checks=checks)
    def body(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    return body


def op_count(definitions: Sequence[dg.AssetsDefinition]) -> int:
    nodes = [d.node_def for d in definitions]
    return sum(len(n.node_defs) if isinstance(n, dg.GraphDefinition) else 1 for n in nodes)


class BenchError(Exception):
    """A run did not do what it should: the benchmark's figures would mean nothing."""


def materialize_all(definitions: Sequence[dg.AssetsDefinition]) -> None:
    """Materialize every asset; fail unless each key (and check) was reported once."""
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            definitions,
            instance=instance,
            resources={"replicator": ReplicationResource()},
            run_config=QUIET,
            raise_on_error=False,
        )
        if not result.success:
            raise BenchError("the run failed")
        keys = [e.asset_key for e in result.get_asset_materialization_events()]
        checks = [e.asset_check_key for e in result.get_asset_check_evaluations()]
    declared = {k for d in definitions for k in d.keys}
    declared_checks = {k for d in definitions for k in d.check_keys}
    if len(keys) != len(declared) or set(keys) != declared:
        msg = f"{len(keys)} materializations ({len(set(keys))} keys) for {len(declared)} tables"
        raise BenchError(msg)
    if len(checks) != len(declared_checks) or set(checks) != declared_checks:
        raise BenchError(f"{len(checks)} check evaluations for {len(declared_checks)} checks")


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float
    """CPU time of this process: less sensitive than wall time to other processes' load."""


@contextlib.contextmanager
def timing(into: list[Timing]) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into.append(Timing(time.perf_counter() - wall, time.process_time() - cpu))


def median(timings: Sequence[Timing]) -> Timing:
    return Timing(
        statistics.median(t.wall_s for t in timings), statistics.median(t.cpu_s for t in timings)
    )


@dataclass(frozen=True)
class Row:
    tables: int
    form: str
    ops: int
    build_s: float
    run: Timing
    engine: Timing

    @property
    def overhead(self) -> Timing:
        return Timing(self.run.wall_s - self.engine.wall_s, self.run.cpu_s - self.engine.cpu_s)

    def ms_per_table(self, cpu: bool = False) -> float:
        seconds = self.overhead.cpu_s if cpu else self.overhead.wall_s
        return 1000 * seconds / self.tables


def engine_only(replication: Replication[Table], repeat: int) -> Timing:
    """Median time to run every table with ``iter_replicate`` (no Dagster)."""
    timings: list[Timing] = []
    for _ in range(repeat):
        with timing(timings):
            outcomes = list(iter_replicate(replication))
        failed = [o for o in outcomes if not isinstance(o, TableResult)]
        if len(outcomes) != len(replication.tables) or failed:
            raise BenchError(f"engine-only: {len(failed)} of {len(outcomes)} tables failed")
    return median(timings)


def measure(
    replication: Replication[Table], form: Form, repeat: int, checks: bool, chunk: int
) -> tuple[float, int, Timing]:
    """Median build seconds, op count and ``materialize`` time of ``form``."""
    builds: list[Timing] = []
    runs: list[Timing] = []
    ops = 0
    for _ in range(repeat):
        with timing(builds):
            assets = build_assets(form, replication, checks, chunk)
        ops = op_count(assets)
        with timing(runs):
            materialize_all(assets)
    return median(builds).wall_s, ops, median(runs)


def profile(replication: Replication[Table], top: int, checks: bool) -> None:
    """cProfile one one-op ``materialize`` and print the functions that took the time."""
    assets = build_assets("one-op", replication, checks, 0)
    profiler = cProfile.Profile()
    profiler.enable()
    materialize_all(assets)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(
        f"\nprofile: one-op materialize of {len(replication.tables)} tables "
        f"({op_count(assets)} ops), {total:.2f} s under cProfile"
    )
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for title, index in (("own time", 2), ("cumulative time", 3)):
        print(f"top {top} by {title}:")
        print(f"  {'tottime':>8} {'cumtime':>8} {'calls':>9}  function")
        ranked = sorted(entries, key=lambda item: item[1][index], reverse=True)[:top]
        for (filename, line, function), (_, calls, tottime, cumtime, _) in ranked:
            where = _short(filename)
            print(f"  {tottime:8.2f} {cumtime:8.2f} {calls:9d}  {function} ({where}:{line})")


def _short(filename: str) -> str:
    for marker in ("site-packages/", "src/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def ratio_line(rows: Sequence[Row], form: str) -> str | None:
    mine = [r for r in rows if r.form == form]
    if len(mine) < 2:
        return None
    low, high = mine[0], mine[-1]
    if min(low.ms_per_table(), low.ms_per_table(cpu=True)) <= 0:
        return (
            f"{form} overhead per table, {high.tables} vs {low.tables} tables: not measurable "
            f"(at {low.tables} tables the run took less than the engine alone)"
        )
    wall = high.ms_per_table() / low.ms_per_table()
    cpu = high.ms_per_table(cpu=True) / low.ms_per_table(cpu=True)
    verdict = "near-linear" if wall < NEAR_LINEAR else "SUPER-LINEAR"
    return (
        f"{form} overhead per table, {high.tables} vs {low.tables} tables: "
        f"{high.ms_per_table():.2f} / {low.ms_per_table():.2f} ms = {wall:.2f}x wall, "
        f"{cpu:.2f}x CPU ({verdict}; near-linear is < {NEAR_LINEAR:g})"
    )


def parse_counts(text: str) -> list[int]:
    counts = sorted({int(part) for part in text.split(",") if part.strip()})
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"expected positive table counts, got {text!r}")
    return counts


def parse_forms(text: str) -> tuple[Form, ...]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    forms = tuple(f for f in FORMS if f in chosen)
    if not forms or len(forms) != len(set(chosen)):
        raise argparse.ArgumentTypeError(f"expected forms among {', '.join(FORMS)}, got {text!r}")
    return forms


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tables", type=parse_counts, default=[100, 1000, 5000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--forms",
        type=parse_forms,
        default=FORMS,
        help=f"comma-separated, among {','.join(FORMS)} (default: all)",
    )
    parser.add_argument("--engine", choices=["null", "duckdb"], default="null")
    parser.add_argument(
        "--graph-max", type=int, default=1000, help="run the graph form up to this many tables"
    )
    parser.add_argument("--profile-top", type=int, default=15, help="0: do not profile")
    parser.add_argument(
        "--split-above",
        type=int,
        default=_assets.SPLIT_ABOVE,
        help="one-op form: split above this many tables (default: the library's)",
    )
    parser.add_argument(
        "--tables-per-part",
        type=int,
        default=_assets.TABLES_PER_PART,
        help="one-op form: tables per op when split (default: the library's)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=_assets.SPLIT_ABOVE,
        help="chunks form: tables per @replication_assets definition",
    )
    parser.add_argument(
        "--asset-checks", action="store_true", help="declare the row count check of every table"
    )
    args = parser.parse_args(argv)
    counts: list[int] = args.tables
    engine: EngineName = args.engine
    checks: bool = args.asset_checks
    chunk: int = args.chunk_size
    repeat = max(1, args.repeat)
    _assets.SPLIT_ABOVE, _assets.TABLES_PER_PART = args.split_above, args.tables_per_part

    logging.getLogger("typedrepl").setLevel(logging.WARNING)
    print(
        f"typedrepl Dagster overhead: dagster {importlib.metadata.version('dagster')}, "
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}, engine {engine}, asset checks {'on' if checks else 'off'}, "
        f"one-op splits above {args.split_above} tables into ops of {args.tables_per_part}, "
        f"chunks of {chunk}, repeat {repeat} (median), "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        f"{'tables':>6}  {'form':<11} {'ops':>4} {'build s':>7} {'run s':>7} {'cpu s':>7} "
        f"{'engine s':>8} {'overhead s':>10} {'ms/table':>8} {'cpu ms/table':>12}"
    )
    rows: list[Row] = []
    forms: tuple[Form, ...] = args.forms
    with tempfile.TemporaryDirectory(prefix="bench_dagster_") as tmp:
        warm_up = make_replication(engine, 2, Path(tmp) / "warm_up")
        for form in forms:
            measure(warm_up, form, 1, checks, chunk)  # imports and first-call costs, not timed
        for count in counts:
            replication = make_replication(engine, count, Path(tmp))
            engine_t = engine_only(replication, repeat)
            print(
                f"{count:>6}  {'engine-only':<11} {'':>4} {'':>7} {engine_t.wall_s:7.2f} "
                f"{engine_t.cpu_s:7.2f}",
                flush=True,
            )
            for form in forms:
                if form == "graph" and count > args.graph_max:
                    continue
                build_s, ops, run = measure(replication, form, repeat, checks, chunk)
                row = Row(count, form, ops, build_s, run, engine_t)
                rows.append(row)
                print(
                    f"{count:>6}  {form:<11} {ops:>4} {build_s:7.2f} {run.wall_s:7.2f} "
                    f"{run.cpu_s:7.2f} {engine_t.wall_s:8.2f} {row.overhead.wall_s:10.2f} "
                    f"{row.ms_per_table():8.2f} {row.ms_per_table(cpu=True):12.2f}",
                    flush=True,
                )
        skipped = [c for c in counts if c > args.graph_max] if "graph" in forms else []
        if skipped:
            print(f"graph form not run for {', '.join(map(str, skipped))} tables (--graph-max)")
        for form in forms:
            line = ratio_line(rows, form)
            if line is not None:
                print(line)
        if args.profile_top > 0 and "one-op" in forms:
            big = make_replication(engine, counts[-1], Path(tmp) / "profile")
            profile(big, args.profile_top, checks)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench_dagster: {exc}", file=sys.stderr)
        sys.exit(1)
