"""The run's public surface: plan, progress, lazy engine imports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Side, replication_for
from typedrepl import EngineError
from typedrepl._plan import Action, plan
from typedrepl._run import replicate


def test_import_typedrepl_loads_no_driver_nor_arrow() -> None:
    code = (
        "import sys, typedrepl, typedrepl._run, typedrepl._plan, typedrepl._types\n"
        "heavy = [m for m in ('duckdb', 'psycopg', 'pyarrow', 'pgpq', 'dagster') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_plan_says_what_a_run_would_do_and_writes_nothing(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, v VARCHAR, ts TIMESTAMP)")
    source.execute("CREATE TABLE b (id INTEGER, x TIMESTAMP_NS)")
    source.insert("a", [(1, "x", None)])
    tables = [
        {"name": "a", "mode": "incremental", "primary_key": "id", "cursor": "id"},
        {"name": "b"},
    ]
    replication = replication_for(source, destination, tables)
    first_a, first_b = plan(replication)
    assert first_a.create
    assert first_a.action is Action.INCREMENTAL
    assert first_a.ddl[0].startswith('CREATE TABLE "public"."a"')
    assert first_b.error is not None
    assert "TIMESTAMP_NS" in first_b.error
    assert not destination.exists("public", "a")

    replicate(replication, ["a"])
    source.execute("ALTER TABLE a ADD COLUMN extra INTEGER")
    (again,) = plan(replication, ["a"])
    assert not again.create
    assert again.cursor_from == "1"
    assert again.add_columns == ("extra",)
    assert "incremental from id >= '1'" in again.describe()
    assert "add column extra" in again.describe()
    assert any("ADD COLUMN" in s for s in again.ddl)
    assert destination.execute(
        "SELECT count(*) FROM information_schema.columns WHERE column_name = 'extra'"
    ) == [(0,)]


def test_plan_reports_a_type_change(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("duckdb")
    source.execute("CREATE TABLE t (id INTEGER, v INTEGER)")
    replication = replication_for(source, destination, [{"name": "t", "mode": "append"}])
    replicate(replication)
    source.execute("ALTER TABLE t ALTER COLUMN v TYPE BIGINT")
    (table_plan,) = plan(replication)
    assert table_plan.error is not None
    assert table_plan.describe().startswith("error: type change")


def test_plan_rejects_unknown_tables(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("duckdb")
    source.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(EngineError, match="nope"):
        plan(replication_for(source, destination, [{"name": "t"}]), ["nope"])


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int | None]] = []

    def start(self, table: str, total_rows: int | None) -> None:
        self.calls.append(("start", table, total_rows))

    def advance(self, table: str, rows: int) -> None:
        self.calls.append(("advance", table, rows))

    def finish(self, table: str) -> None:
        self.calls.append(("finish", table, None))


def test_progress_reports_each_batch(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t AS SELECT range AS id FROM range(25)")
    recorder = _Recorder()
    replicate(
        replication_for(source, destination, [{"name": "t"}]), batch_size=10, progress=recorder
    )
    assert recorder.calls[0] == ("start", "t", 25)
    assert recorder.calls[-1] == ("finish", "t", None)
    assert sum(int(c[2] or 0) for c in recorder.calls if c[0] == "advance") == 25
    assert len([c for c in recorder.calls if c[0] == "advance"]) >= 3


def test_batch_size_must_be_positive(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("duckdb")
    with pytest.raises(EngineError, match="batch_size"):
        replicate(replication_for(source, destination, [{"name": "t"}]), batch_size=0)


def test_plan_does_not_create_a_missing_duckdb_destination(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = make_side("duckdb"), make_side("duckdb")
    source.execute("CREATE TABLE t (id INTEGER)")
    (table_plan,) = plan(replication_for(source, destination, [{"name": "t"}]))
    assert table_plan.create
    assert not Path(destination.target).exists()
    # the catalog the plan names is the one DuckDB gives the file when the run creates it
    replicate(replication_for(source, destination, [{"name": "t"}]))
    ((catalog,),) = destination.execute("SELECT current_database()")
    assert table_plan.ddl[0].startswith(f'CREATE TABLE "{catalog}"."main"."_typedrepl_')
