"""Dagster runs across processes: the multiprocess executor, re-execution from failure,
the ``dagster`` CLI on the example project and ``dg check defs`` on the component project.
"""

import os
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from typedrepl import (
    Connections,
    DuckDBConnection,
    PostgresConnection,
    Replication,
    ReplicationResource,
    ReplicationTranslator,
    Table,
    replication_assets,
    replication_graph_assets,
)

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
TABLES = ("users", "items", "events")
SOURCE_ENV = "TEST_TYPEDREPL_SOURCE"
DESTINATION_ENV = "TEST_TYPEDREPL_DESTINATION"


def _make_table(source: str, name: str, rows: int) -> None:
    with duckdb.connect(source) as conn:
        conn.execute(
            f"CREATE TABLE {name} AS SELECT range AS id, 'row ' || range AS label FROM range({rows})"  # noqa: S608 - fixed names
        )


def _replication() -> Replication[Table]:
    return Replication(
        connections=Connections(
            source=DuckDBConnection(connection=os.environ[SOURCE_ENV]),
            destination=PostgresConnection(connection=os.environ[DESTINATION_ENV]),
        ),
        tables=tuple(Table(name=name, primary_key=("id",)) for name in TABLES),
    )


_TRANSLATOR = ReplicationTranslator[Table](key_prefix="mp")


def graph_job() -> dg.JobDefinition:
    """The graph form under the multiprocess executor (rebuilt in every step process)."""
    assets = replication_graph_assets(
        replication=_replication(), translator=_TRANSLATOR, name="mp_tables"
    )
    job = dg.define_asset_job("mp_job", executor_def=dg.multiprocess_executor)
    resource = ReplicationResource(destination_url=dg.EnvVar(DESTINATION_ENV))
    defs = dg.Definitions(assets=[assets], jobs=[job], resources={"replicator": resource})
    return defs.resolve_job_def("mp_job")


DUCKDB_DESTINATION_ENV = "TEST_TYPEDREPL_DUCKDB_DESTINATION"


def duckdb_graph_job() -> dg.JobDefinition:
    """The graph form into one DuckDB file, under the multiprocess executor: the step
    processes take turns at the file's lock (DuckDB lets one process write it)."""
    replication = Replication(
        connections=Connections(
            source=DuckDBConnection(connection=os.environ[SOURCE_ENV]),
            destination=DuckDBConnection(connection=os.environ[DUCKDB_DESTINATION_ENV]),
        ),
        tables=tuple(Table(name=name, primary_key=("id",)) for name in TABLES),
    )
    assets = replication_graph_assets(replication=replication, name="dd_tables")
    job = dg.define_asset_job("dd_job", executor_def=dg.multiprocess_executor)
    defs = dg.Definitions(
        assets=[assets], jobs=[job], resources={"replicator": ReplicationResource()}
    )
    return defs.resolve_job_def("dd_job")


def _destination_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {str(name) for (name,) in rows if name != "_typedrepl_state"}


def _materialized(result: dg.JobExecutionResult) -> set[dg.AssetKey]:
    keys = [e.asset_key for e in result.get_asset_materialization_events() if e.asset_key]
    assert len(keys) == len(set(keys))
    return set(keys)


def _mp_keys(*names: str) -> set[dg.AssetKey]:
    return {dg.AssetKey(["mp", name]) for name in names}


@pytest.fixture(name="mp_env")
def fixture_mp_env(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, dg.DagsterInstance]]:
    """A source with ``users`` and ``events`` (``items`` is missing), the environment the
    step processes read, and a persistent Dagster instance."""
    source = str(tmp_path / "source.duckdb")
    _make_table(source, "users", 5)
    _make_table(source, "events", 7)
    monkeypatch.setenv(SOURCE_ENV, source)
    monkeypatch.setenv(DESTINATION_ENV, postgres_url)
    # step processes import this module by name (``reconstructable(graph_job)``); they
    # start with this process's sys.path
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield source, instance


def test_graph_form_runs_one_process_per_table_with_the_same_keys(
    mp_env: tuple[str, dg.DagsterInstance], postgres_url: str
) -> None:
    """Under the multiprocess executor each table is its own step (own process); a
    missing table fails only its step; the keys equal the one-op form's."""
    _, instance = mp_env

    @replication_assets(replication=_replication(), translator=_TRANSLATOR)
    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    job = graph_job()
    assert (
        set(tables.keys)
        == _mp_keys(*TABLES)
        == set(job.asset_layer.asset_graph.get_all_asset_keys())
    )
    result = dg.execute_job(dg.reconstructable(graph_job), instance=instance)
    assert not result.success
    assert _materialized(result) == _mp_keys("users", "events")
    starts = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    assert len(starts) == len(TABLES)
    assert len({e.pid for e in starts}) == len(TABLES)
    (failure,) = result.get_step_failure_events()
    assert failure.step_key is not None
    assert "items" in failure.step_key
    assert failure.step_failure_data.error is not None
    assert "table 'items'" in failure.step_failure_data.error.message
    assert _destination_tables(postgres_url) == {"users", "events"}


def test_graph_form_into_one_duckdb_file_from_parallel_processes(
    mp_env: tuple[str, dg.DagsterInstance], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, instance = mp_env
    _make_table(source, "items", 3)
    destination = str(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv(DUCKDB_DESTINATION_ENV, destination)
    for _ in range(2):  # each run: three processes at once for one file
        result = dg.execute_job(dg.reconstructable(duckdb_graph_job), instance=instance)
        assert result.success, [e.message for e in result.get_step_failure_events()]
        assert _materialized(result) == {dg.AssetKey([name]) for name in TABLES}
    with duckdb.connect(destination, read_only=True) as conn:
        counts = {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone() for name in TABLES}  # noqa: S608 - fixed names
    assert counts == {"users": (5,), "items": (3,), "events": (7,)}


def test_reexecution_from_failure_reruns_only_failed_tables(
    mp_env: tuple[str, dg.DagsterInstance], postgres_url: str
) -> None:
    """After fixing the source, re-executing from failure runs only the failed table."""
    source, instance = mp_env
    first = dg.execute_job(dg.reconstructable(graph_job), instance=instance)
    assert not first.success
    _make_table(source, "items", 3)
    options = dg.ReexecutionOptions.from_failure(first.run_id, instance)
    second = dg.execute_job(
        dg.reconstructable(graph_job), instance=instance, reexecution_options=options
    )
    assert second.success
    assert _materialized(second) == _mp_keys("items")
    steps = {
        e.step_key for e in second.all_events if e.event_type == dg.DagsterEventType.STEP_START
    }
    assert len(steps) == 1
    assert _destination_tables(postgres_url) == set(TABLES)


# --------------------------------------------------------------------------- the CLIs


@pytest.fixture(name="secret_url")
def fixture_secret_url(postgres_url: str) -> Iterator[tuple[str, str]]:
    """``(conninfo, password)``: the test database, owned by a role with a fresh password."""
    role = f"typedrepl_{uuid.uuid4().hex[:12]}"
    password = "Pw-" + secrets.token_hex(16)
    database = str(conninfo_to_dict(postgres_url)["dbname"])
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(database), sql.Identifier(role)
            )
        )
    try:
        yield make_conninfo(postgres_url, user=role, password=password), password
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(sql.Identifier(role))
            )
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _dagster_home(path: Path) -> Path:
    path.mkdir()
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return path


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_dagster_cli_materializes_the_selected_example_tables(
    tmp_path: Path, secret_url: tuple[str, str]
) -> None:
    """``dagster asset materialize -f examples/definitions.py --select ...`` copies exactly
    the selected tables; the password is in no output and no file of the instance."""
    url, password = secret_url
    home = _dagster_home(tmp_path / "dagster_home")
    source = tmp_path / "example.duckdb"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TYPEDREPL_DESTINATION_URL": url,
        "TYPEDREPL_EXAMPLE_DUCKDB": str(source),
    }
    command = [
        str(BIN / "dagster"),
        "asset",
        "materialize",
        "-f",
        str(EXAMPLES / "definitions.py"),
        "--select",
        "raw/users,raw/products",
    ]
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert _destination_tables(url) == {"users", "products"}
    with duckdb.connect(str(source), read_only=True) as conn:
        for table in ("users", "products"):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            assert row is not None
            assert _count(url, table) == row[0] > 0
    assert "ASSET_MATERIALIZATION" in done.stderr
    assert password not in done.stdout + done.stderr
    for path in home.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


def _dg_env(tmp_path: Path, source: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(BIN.parent),
        "DAGSTER_HOME": str(_dagster_home(tmp_path / "dagster_home")),
        "TYPEDREPL_EXAMPLE_DUCKDB": str(source),
        "TYPEDREPL_DESTINATION_URL": "postgresql://user:pw@localhost:5432/db",
    }


def test_dg_check_defs_loads_the_component_project(tmp_path: Path) -> None:
    """``dg check defs`` loads the ReplicationComponent project; a broken replication file
    fails it with the file, line and a hint."""
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES / "component_project", project)
    source = tmp_path / "example.duckdb"
    _make_table(str(source), "users", 2)
    env = _dg_env(tmp_path, source)
    command = [str(BIN / "dg"), "check", "defs"]
    done = subprocess.run(
        command, env=env, cwd=project, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "All definitions loaded successfully" in done.stdout + done.stderr

    replication = (
        project / "src" / "replication_project" / "defs" / "warehouse" / "replication.yaml"
    )
    replication.write_text(replication.read_text() + "    mode: mrge\n")
    done = subprocess.run(
        command, env=env, cwd=project, capture_output=True, text=True, timeout=300
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "replication.yaml:" in output
    assert "did you mean 'merge'?" in output
