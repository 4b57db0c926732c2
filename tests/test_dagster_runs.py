"""Real Dagster runs (``materialize``, ``execute_in_process``) from DuckDB into PostgreSQL.

Every test gets a fresh PostgreSQL database (``postgres_url``) and its own DuckDB
source file; nothing is mocked.
"""

import contextlib
import logging
import os
import re
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import dagster as dg
import duckdb
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from typedrepl import (
    AssetSpecError,
    Connections,
    DuckDBConnection,
    LoadMode,
    PostgresConnection,
    Replication,
    ReplicationComponent,
    ReplicationResource,
    ReplicationTranslator,
    Table,
    _assets,
    build_replication_specs,
    load_replication,
    replication_assets,
    replication_graph_assets,
)
from typedrepl.testing import identifier_key, replications, subsets, tables

Form = Literal["multi", "graph", "split"]
FORMS: tuple[Form, ...] = ("multi", "graph", "split")
"""``split``: ``@replication_assets`` split into ops of one table (or of tables that
depend on each other), as it is for replications of more than ``SPLIT_ABOVE`` tables."""
STATE_TABLE = "_typedrepl_state"
EXAMPLES = Path(__file__).parent.parent / "examples"

# --------------------------------------------------------------------------- helpers


def make_source(path: Path, tables: dict[str, int]) -> str:
    """A DuckDB file with ``tables`` (name -> row count): columns ``id`` (unique) and ``label``."""
    with duckdb.connect(str(path)) as conn:
        for name, rows in tables.items():
            conn.execute(
                f'CREATE TABLE "{name}" AS SELECT range AS id, '  # noqa: S608 - test names
                f"'row ' || range AS label FROM range({rows})"
            )
    return str(path)


def replication_for(
    source: str, destination: str, *names: str, pk: bool = True
) -> Replication[Table]:
    """A replication of ``names`` (keyed on ``id``) from ``source`` into ``destination``
    (a PostgreSQL connection string, or a ``.duckdb`` file)."""
    return Replication(
        connections=Connections(
            source=DuckDBConnection(connection=source),
            destination=DuckDBConnection(connection=destination)
            if destination.endswith(".duckdb")
            else PostgresConnection(connection=destination),
        ),
        tables=tuple(Table(name=n, primary_key=("id",) if pk else ()) for n in names),
    )


def build(
    form: Form,
    replication: Replication[Table],
    translator: ReplicationTranslator[Table] | None = None,
    *,
    asset_checks: bool = False,
) -> dg.AssetsDefinition:
    """The replication's assets in the given form (resource key ``replicator``)."""
    if form == "graph":
        return replication_graph_assets(
            replication=replication, translator=translator, asset_checks=asset_checks
        )
    decorate = replication_assets(
        replication=replication, translator=translator, asset_checks=asset_checks
    )

    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    with split_into_ops_of_one() if form == "split" else contextlib.nullcontext():
        return decorate(tables)


@contextlib.contextmanager
def split_into_ops_of_one() -> Iterator[None]:
    """``@replication_assets`` splits any replication into ops of one table (or of the
    tables that depend on each other), while decorating."""
    saved = _assets.SPLIT_ABOVE, _assets.TABLES_PER_PART
    _assets.SPLIT_ABOVE, _assets.TABLES_PER_PART = 0, 1
    try:
        yield
    finally:
        _assets.SPLIT_ABOVE, _assets.TABLES_PER_PART = saved


def destination_tables(url: str) -> set[tuple[str, str]]:
    """``(schema, table)`` of every user table in the destination (not the engine's state)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    return {(str(schema), str(name)) for schema, name in rows if name != STATE_TABLE}


def count_rows(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()
    assert row is not None
    return int(row[0])


def materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    keys = [e.asset_key for e in result.get_asset_materialization_events() if e.asset_key]
    assert len(keys) == len(set(keys)), f"an asset was materialized twice: {keys}"
    return set(keys)


def failure_messages(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        e.step_failure_data.error.to_string()
        for e in result.get_step_failure_events()
        if e.step_failure_data.error is not None
    )


def run_log_text(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """Everything the instance recorded about the run, serialized."""
    parts = [dg.serialize_value(entry) for entry in instance.all_logs(result.run_id)]
    run = instance.get_run_by_id(result.run_id)
    parts.append(dg.serialize_value(run))
    return "\n".join(parts)


@pytest.fixture(name="source")
def fixture_source(tmp_path: Path) -> str:
    """A DuckDB source with ``users`` (5 rows), ``items`` (3) and ``events`` (7)."""
    return make_source(tmp_path / "source.duckdb", {"users": 5, "items": 3, "events": 7})


@pytest.fixture(name="secret_url")
def fixture_secret_url(postgres_url: str) -> Iterator[tuple[str, str]]:
    """``(conninfo, password)``: the test database, owned by a role with a fresh password."""
    role = f"typedrepl_{uuid.uuid4().hex[:12]}"
    password = "Pw-" + secrets.token_hex(16)
    params = conninfo_to_dict(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(str(params["dbname"])), sql.Identifier(role)
            )
        )
    url = make_conninfo(postgres_url, user=role, password=password)
    try:
        yield url, password
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(sql.Identifier(role))
            )
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


RESOURCES = {"replicator": ReplicationResource()}

# --------------------------------------------------------------------------- selections


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("selected", [None, ("users",), ("items", "events")], ids=str)
def test_materialized_keys_equal_selected_keys(
    form: Form, selected: tuple[str, ...] | None, source: str, postgres_url: str
) -> None:
    """Declared == materialized for the full selection; a subset materializes and copies
    exactly the selected tables."""
    replication = replication_for(source, postgres_url, "users", "items", "events")
    translator = ReplicationTranslator[Table](key_prefix="raw")
    assets = build(form, replication, translator)
    declared = {s.key for s in build_replication_specs(replication, translator)}
    assert set(assets.keys) == declared
    names = selected or ("users", "items", "events")
    selection = None if selected is None else [dg.AssetKey(["raw", n]) for n in selected]
    result = dg.materialize([assets], resources=RESOURCES, selection=selection)
    assert result.success
    assert materialized(result) == {dg.AssetKey(["raw", n]) for n in names}
    assert destination_tables(postgres_url) == {("public", n) for n in names}
    sizes = {"users": 5, "items": 3, "events": 7}
    for name in names:
        assert count_rows(postgres_url, name) == sizes[name]


def test_materialization_metadata(source: str, postgres_url: str) -> None:
    """Row count, column schema, the real destination table, mode and rows written."""
    replication = replication_for(source, postgres_url, "users")
    result = dg.materialize([build("multi", replication)], resources=RESOURCES)
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["dagster/row_count"] == dg.MetadataValue.int(5)
    assert metadata["dagster/table_name"] == dg.MetadataValue.text("public.users")
    assert metadata["typedrepl/mode"] == dg.MetadataValue.text("full_refresh")
    assert metadata["typedrepl/rows_written"] == dg.MetadataValue.int(5)
    schema = metadata["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchemaMetadataValue)
    assert [c.name for c in schema.schema.columns] == ["id", "label"]
    assert schema.schema.columns[0].constraints.nullable is False


def test_unknown_selection_is_refused(source: str, postgres_url: str) -> None:
    """Selecting a key no table has fails before anything runs; nothing is copied."""
    assets = build("multi", replication_for(source, postgres_url, "users", "items"))
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="Failed to resolve asset job"):
        dg.materialize([assets], resources=RESOURCES, selection=[dg.AssetKey("nope")])
    assert destination_tables(postgres_url) == set()


def test_a_selection_matching_no_table_is_an_error(source: str, postgres_url: str) -> None:
    """A user multi-asset whose selected key matches no table of the replication it
    passes fails, instead of running every table or none in silence."""
    replication = replication_for(source, postgres_url, "users")
    extra = dg.AssetSpec("not_a_table", skippable=True)

    @dg.multi_asset(specs=[*build_replication_specs(replication), extra], can_subset=True)
    def mixed(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context, replication)

    result = dg.materialize(
        [mixed], resources=RESOURCES, selection=[extra.key], raise_on_error=False
    )
    assert not result.success
    assert "not_a_table match no table of this replication" in failure_messages(result)
    assert destination_tables(postgres_url) == set()
    # the replication's own key works through the same explicit path
    result = dg.materialize([mixed], resources=RESOURCES, selection=[dg.AssetKey("users")])
    assert materialized(result) == {dg.AssetKey("users")}


def test_run_outside_a_replication_body_is_an_error(source: str, postgres_url: str) -> None:
    """``run(context)`` needs the decorator's replication, or one passed explicitly."""

    @dg.asset
    def lonely(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    result = dg.materialize([lonely], resources=RESOURCES, raise_on_error=False)
    assert not result.success
    assert "works inside a @replication_assets body" in failure_messages(result)


def test_tables_that_depend_on_each_other_are_reported_dependencies_first(
    source: str, postgres_url: str
) -> None:
    """``events`` depends on ``users`` but comes first in the config: both materialize."""
    replication = load_replication(
        {
            "connections": {
                "source": {"type": "duckdb", "connection": source},
                "destination": {"type": "postgres", "connection": postgres_url},
            },
            "tables": [{"name": "events", "meta": {"deps": ["users"]}}, {"name": "users"}],
        }
    )
    result = dg.materialize([build("multi", replication)], resources=RESOURCES)
    keys = [e.asset_key for e in result.get_asset_materialization_events()]
    assert keys == [dg.AssetKey("users"), dg.AssetKey("events")]


DEPENDENT = [
    {"name": "events", "primary_key": "id", "meta": {"deps": ["users"]}},
    {"name": "items", "primary_key": "id"},
    {"name": "users", "primary_key": "id"},
]
"""``events`` depends on ``users`` but comes first in the config."""


def dependent_replication(source: str, destination: str) -> Replication[Table]:
    return load_replication(
        {
            "connections": {
                "source": {"type": "duckdb", "connection": source},
                "destination": {"type": "postgres", "connection": destination},
            },
            "tables": DEPENDENT,
        }
    )


def step_events(result: dg.ExecuteInProcessResult | dg.JobExecutionResult) -> list[tuple[str, str]]:
    """``(event type, table)`` of each step start and success, in order (graph form: one
    step per table, named ``..._<table>_<hash>``)."""
    kinds = {dg.DagsterEventType.STEP_START: "start", dg.DagsterEventType.STEP_SUCCESS: "success"}
    return [
        (kinds[e.event_type], str(e.step_key).rsplit("__", 1)[-1].rsplit("_", 1)[0])
        for e in result.all_events
        if e.event_type in kinds
    ]


def loaded_order(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    """The tables in the order the engine started loading them (its log lines)."""
    found: list[str] = []
    for entry in instance.all_logs(result.run_id):
        match = re.fullmatch(r"table (\S+): loading \(\w+\)", entry.user_message)
        if match:
            found.append(match[1])
    return found


def test_graph_form_runs_a_table_after_the_tables_it_depends_on(
    source: str, postgres_url: str
) -> None:
    """``events`` (first in the config) depends on ``users``: its op starts after the op
    of ``users`` succeeded; ``items`` depends on nothing and waits for nothing."""
    assets = build("graph", dependent_replication(source, postgres_url))
    assert assets.asset_deps[dg.AssetKey("events")] == {dg.AssetKey("users")}
    assert isinstance(assets.node_def, dg.GraphDefinition)
    ((waiting, inputs),) = assets.node_def.dependencies.items()  # events waits for users
    assert "__events_" in waiting.name
    (dep,) = inputs.values()
    assert isinstance(dep, dg.DependencyDefinition)
    assert "__users_" in dep.node
    result = dg.materialize([assets], resources=RESOURCES)
    events = step_events(result)
    assert events.index(("success", "users")) < events.index(("start", "events"))
    assert materialized(result) == {dg.AssetKey(n) for n in ("events", "items", "users")}


@pytest.mark.parametrize("selected", [("events",), ("events", "items")], ids=str)
def test_graph_form_runs_a_dependent_table_alone_when_only_it_is_selected(
    selected: tuple[str, ...], source: str, postgres_url: str
) -> None:
    """Selecting ``events`` without ``users`` (its dependency) runs its op alone: Dagster
    drops the wait on an op that is not selected."""
    assets = build("graph", dependent_replication(source, postgres_url), asset_checks=True)
    result = dg.materialize(
        [assets], resources=RESOURCES, selection=[dg.AssetKey(n) for n in selected]
    )
    assert result.success
    assert materialized(result) == {dg.AssetKey(n) for n in selected}
    assert {table for kind, table in step_events(result) if kind == "start"} == set(selected)
    assert destination_tables(postgres_url) == {("public", n) for n in selected}
    assert {c.asset_key for c in result.get_asset_check_evaluations()} == {
        dg.AssetKey(n) for n in selected
    }


def test_graph_form_runs_a_table_after_its_dependencies_under_the_multiprocess_executor(
    tmp_path: Path, source: str, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the multiprocess executor independent steps start at once; ``events``
    still starts only after ``users`` succeeded."""
    monkeypatch.setenv(MP_SOURCE_ENV, source)
    monkeypatch.setenv(MP_DESTINATION_ENV, postgres_url)
    # the step processes import this module by name; they start with this sys.path
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        result = dg.execute_job(dg.reconstructable(dependent_graph_job), instance=instance)
        assert result.success
        events = step_events(result)
    assert events.index(("success", "users")) < events.index(("start", "events"))
    assert destination_tables(postgres_url) == {("public", n) for n in ("events", "items", "users")}


MP_SOURCE_ENV = "TEST_TYPEDREPL_DEPS_SOURCE"
MP_DESTINATION_ENV = "TEST_TYPEDREPL_DEPS_DESTINATION"


def dependent_graph_job() -> dg.JobDefinition:
    """The graph form of :data:`DEPENDENT` under the multiprocess executor (rebuilt in
    every step process from the environment)."""
    replication = dependent_replication(os.environ[MP_SOURCE_ENV], os.environ[MP_DESTINATION_ENV])
    assets = replication_graph_assets(replication=replication, name="deps")
    job = dg.define_asset_job("deps_job", executor_def=dg.multiprocess_executor)
    defs = dg.Definitions(assets=[assets], jobs=[job], resources=RESOURCES)
    return defs.resolve_job_def("deps_job")


@pytest.mark.parametrize("form", ["multi", "split"])
def test_one_op_forms_load_dependencies_first(form: Form, source: str, postgres_url: str) -> None:
    """The one-op forms load ``users`` before ``events`` (not only report it first)."""
    instance = dg.DagsterInstance.ephemeral()
    assets = build(form, dependent_replication(source, postgres_url))
    result = dg.materialize([assets], resources=RESOURCES, instance=instance)
    order = loaded_order(instance, result)
    assert sorted(order) == ["events", "items", "users"]
    assert order.index("users") < order.index("events")


@pytest.mark.parametrize("form", FORMS)
def test_a_table_depending_on_a_failed_table(form: Form, source: str, postgres_url: str) -> None:
    """``events`` depends on ``missing``, which fails; ``items`` does not and loads.

    Graph form: Dagster does not start the op of ``events`` (its dependency's op
    failed); the failure names ``missing`` and says ``events`` did not run. One-op
    forms: the tables of one op load in turn, so ``events`` still loads after it.
    """
    replication = load_replication(
        {
            "connections": {
                "source": {"type": "duckdb", "connection": source},
                "destination": {"type": "postgres", "connection": postgres_url},
            },
            "tables": [
                {"name": "events", "meta": {"deps": ["missing"]}},
                {"name": "missing"},
                {"name": "items"},
            ],
        }
    )
    result = dg.materialize([build(form, replication)], resources=RESOURCES, raise_on_error=False)
    assert not result.success
    assert len(result.get_step_failure_events()) == 1
    message = failure_messages(result)
    assert "table 'missing' (asset missing)" in message
    if form == "graph":
        assert materialized(result) == {dg.AssetKey("items")}
        assert "not run in this run, as it depends on it" in message
        assert "table 'events' (asset events)" in message
        assert ("start", "events") not in step_events(result)
        assert destination_tables(postgres_url) == {("public", "items")}
    else:
        assert materialized(result) == {dg.AssetKey("items"), dg.AssetKey("events")}
        assert "'events'" not in message


def test_split_form_runs_dependent_tables_in_one_op_dependencies_first(
    source: str, postgres_url: str
) -> None:
    """Split into ops, ``events`` (first in the config) still waits for ``users``, its
    dependency: they share an op; ``items`` gets its own."""
    replication = load_replication(
        {
            "connections": {
                "source": {"type": "duckdb", "connection": source},
                "destination": {"type": "postgres", "connection": postgres_url},
            },
            "tables": [
                {"name": "events", "meta": {"deps": ["users"]}},
                {"name": "items"},
                {"name": "users"},
            ],
        }
    )
    assets = build("split", replication)
    assert isinstance(assets.node_def, dg.GraphDefinition)
    assert [len(op.output_defs) for op in assets.node_def.node_defs] == [2, 1]
    result = dg.materialize([assets], resources=RESOURCES)
    keys = [e.asset_key for e in result.get_asset_materialization_events()]
    assert keys.index(dg.AssetKey("users")) < keys.index(dg.AssetKey("events"))
    assert set(keys) == {dg.AssetKey(n) for n in ("events", "items", "users")}


def test_split_form_runs_only_the_ops_of_selected_tables(source: str, postgres_url: str) -> None:
    """A subset of a split replication starts only the ops holding selected tables."""
    replication = replication_for(source, postgres_url, "users", "items", "events")
    assets = build("split", replication, asset_checks=True)
    selection = [dg.AssetKey("items"), dg.AssetKey("events")]
    result = dg.materialize([assets], resources=RESOURCES, selection=selection)
    assert materialized(result) == set(selection)
    steps = [
        e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START
    ]
    assert len(steps) == 2
    assert all(step is not None and "_part_" in step for step in steps)
    assert {(c.asset_key, c.check_name) for c in result.get_asset_check_evaluations()} == {
        (key, name)
        for key in selection
        for name in ("row_count_matches_source", "primary_key_unique")
    }
    assert destination_tables(postgres_url) == {("public", "items"), ("public", "events")}


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("form", FORMS)
def test_one_failed_table_does_not_fail_the_others(
    form: Form, source: str, postgres_url: str
) -> None:
    """A table missing from the source fails (naming it); the others are materialized."""
    replication = replication_for(source, postgres_url, "users", "missing", "items")
    assets = build(form, replication)
    result = dg.materialize([assets], resources=RESOURCES, raise_on_error=False)
    assert not result.success
    assert materialized(result) == {dg.AssetKey("users"), dg.AssetKey("items")}
    failed_steps = result.get_step_failure_events()
    assert len(failed_steps) == 1
    message = failure_messages(result)
    assert "table 'missing' (asset missing)" in message
    assert "'users'" not in message
    assert destination_tables(postgres_url) == {("public", "users"), ("public", "items")}


@pytest.mark.parametrize("form", FORMS)
def test_no_password_in_events_or_logs(
    form: Form, source: str, secret_url: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the replication's password nor the resource's (an EnvVar) reaches the
    event log, the run record or the failure messages, on success or failure."""
    url, password = secret_url
    decoy = "Decoy-" + secrets.token_hex(8)
    replication = replication_for(
        source, f"postgresql://nobody:{decoy}@127.0.0.1:1/none", "users", "missing"
    )
    monkeypatch.setenv("TEST_TYPEDREPL_DESTINATION", url)
    resource = ReplicationResource(destination_url=dg.EnvVar("TEST_TYPEDREPL_DESTINATION"))
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [build(form, replication, asset_checks=True)],
        resources={"replicator": resource},
        instance=instance,
        raise_on_error=False,
    )
    assert materialized(result) == {dg.AssetKey("users")}
    assert "table 'missing'" in failure_messages(result)
    text = run_log_text(instance, result)
    assert "users" in text
    assert password not in text
    assert decoy not in text


def test_unreachable_destination_fails_every_table_without_the_password(
    source: str, secret_url: tuple[str, str]
) -> None:
    """A wrong password fails each selected table with a redacted cause."""
    url, password = secret_url
    wrong = "Wrong-" + secrets.token_hex(8)
    replication = replication_for(source, url.replace(password, wrong), "users", "items")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [build("multi", replication)], resources=RESOURCES, instance=instance, raise_on_error=False
    )
    assert materialized(result) == set()
    message = failure_messages(result)
    assert "table 'users'" in message
    assert "table 'items'" in message
    text = run_log_text(instance, result)
    assert wrong not in text
    assert password not in text


# --------------------------------------------------------------------------- asset checks


@pytest.mark.parametrize("destination", ["postgres", "duckdb"])
@pytest.mark.parametrize("form", FORMS)
def test_asset_checks(
    form: Form, destination: str, source: str, postgres_url: str, tmp_path: Path
) -> None:
    """Row count (full refresh) and primary key checks pass after a clean load.

    DuckDB: the checks read the file that the run keeps open between tables."""
    target = postgres_url if destination == "postgres" else str(tmp_path / "dest.duckdb")
    replication = replication_for(source, target, "users", "items")
    assets = build(form, replication, asset_checks=True)
    result = dg.materialize([assets], resources=RESOURCES)
    checks = {
        (c.asset_key.to_user_string(), c.check_name): c
        for c in result.get_asset_check_evaluations()
    }
    assert set(checks) == {
        (table, name)
        for table in ("users", "items")
        for name in ("row_count_matches_source", "primary_key_unique")
    }
    assert all(c.passed for c in checks.values())
    row_check = checks["users", "row_count_matches_source"]
    assert row_check.metadata["destination_rows"] == dg.MetadataValue.int(5)


def test_a_check_that_cannot_run_fails_once_and_the_others_stand(tmp_path: Path) -> None:
    """The row count check has passed when the key check cannot read the table: the key
    check alone is reported failed, with the cause; no check is reported twice."""
    from typedrepl._dagster_execution import _check_results
    from typedrepl._results import TableResult
    from typedrepl._specs import declare_replication

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()  # a real file, without the table the check reads
    replication = replication_for(str(tmp_path / "src.duckdb"), str(empty), "users")
    (entry,) = declare_replication(replication, asset_checks=True).tables
    result = TableResult(
        table="users", destination="main.users", mode=LoadMode.FULL_REFRESH,
        rows_written=5, rows_in_destination=5, duration_s=0.1, columns=(),
    )  # fmt: skip
    selected = {spec.key for spec in entry.checks.values()}
    log = logging.getLogger("test")
    evaluations = list(_check_results(entry, result, replication.connections.destination,
                                      selected, (), log))  # fmt: skip
    assert [(e.check_name, e.passed) for e in evaluations] == [
        ("row_count_matches_source", True),
        ("primary_key_unique", False),
    ]
    error = evaluations[1].metadata["error"]
    assert isinstance(error, dg.TextMetadataValue)
    assert "users" in str(error.text)


def test_primary_key_check_fails_on_duplicates(source: str, postgres_url: str) -> None:
    """Appending into an existing table without a key constraint duplicates keys: the
    check says so (and the load itself still materializes)."""
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE items (id bigint, label text)")
        conn.execute("INSERT INTO items VALUES (0, 'old')")
    replication = load_replication(
        {
            "connections": {
                "source": {"type": "duckdb", "connection": source},
                "destination": {"type": "postgres", "connection": postgres_url},
            },
            "tables": [{"name": "items", "primary_key": "id", "mode": "append"}],
        }
    )
    result = dg.materialize([build("multi", replication, asset_checks=True)], resources=RESOURCES)
    assert materialized(result) == {dg.AssetKey("items")}
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "primary_key_unique"
    assert not check.passed
    assert check.metadata["duplicate_keys"] == dg.MetadataValue.int(1)


def run_selection(
    assets: dg.AssetsDefinition, selection: dg.AssetSelection
) -> dg.ExecuteInProcessResult:
    """Run a job of ``selection`` (e.g. checks alone, as Dagster's "execute checks" does)."""
    job = dg.define_asset_job("selected", selection=selection)
    defs = dg.Definitions(assets=[assets], jobs=[job], resources=RESOURCES)
    return defs.resolve_job_def("selected").execute_in_process(raise_on_error=False)


def evaluations(
    result: dg.ExecuteInProcessResult,
) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {
        (c.asset_key.to_user_string(), c.check_name): c
        for c in result.get_asset_check_evaluations()
    }


def users_checks(assets: dg.AssetsDefinition) -> dg.AssetSelection:
    return dg.AssetSelection.checks(
        *(key for key in assets.check_keys if key.asset_key == dg.AssetKey("users"))
    )


@pytest.mark.parametrize("form", FORMS)
def test_checks_selected_without_their_asset_run_on_the_tables_as_they_are(
    form: Form, source: str, postgres_url: str
) -> None:
    """Checks alone (Dagster's "execute checks") load nothing: the key check reads the
    destination table as it is, the row count check compares it with the source now."""
    with psycopg.connect(postgres_url) as conn:  # 3 rows, a duplicated key; the source has 5
        conn.execute("CREATE TABLE users (id bigint, label text)")
        conn.execute("INSERT INTO users VALUES (0, 'a'), (0, 'b'), (1, 'c')")
    assets = build(form, replication_for(source, postgres_url, "users", "items"), asset_checks=True)
    result = run_selection(assets, users_checks(assets))
    assert result.success, failure_messages(result)
    assert materialized(result) == set()
    checks = evaluations(result)
    assert set(checks) == {("users", "row_count_matches_source"), ("users", "primary_key_unique")}
    rows = checks["users", "row_count_matches_source"]
    assert not rows.passed
    assert rows.metadata["source_rows"] == dg.MetadataValue.int(5)
    assert rows.metadata["destination_rows"] == dg.MetadataValue.int(3)
    assert "without a load" in str(rows.description)
    key = checks["users", "primary_key_unique"]
    assert not key.passed
    assert key.metadata["duplicate_keys"] == dg.MetadataValue.int(1)
    assert count_rows(postgres_url, "users") == 3  # nothing loaded
    assert destination_tables(postgres_url) == {("public", "users")}

    dg.materialize([assets], resources=RESOURCES, selection=[dg.AssetKey("users")])
    result = run_selection(assets, users_checks(assets))
    assert materialized(result) == set()
    assert [c.passed for c in evaluations(result).values()] == [True, True]


@pytest.mark.parametrize("destination", ["postgres", "duckdb file", "duckdb table"])
@pytest.mark.parametrize("form", FORMS)
def test_a_check_without_its_asset_fails_when_the_destination_table_does_not_exist(
    form: Form, destination: str, source: str, postgres_url: str, tmp_path: Path
) -> None:
    """Before the first load there is no table to check: each check fails, saying so,
    and nothing is created."""
    target = postgres_url
    if destination != "postgres":
        target = str(tmp_path / "dest.duckdb")
        if destination == "duckdb table":  # the file exists, without the table
            duckdb.connect(target).close()
    assets = build(form, replication_for(source, target, "users"), asset_checks=True)
    result = run_selection(assets, dg.AssetSelection.checks(*assets.check_keys))
    assert result.success, failure_messages(result)
    assert materialized(result) == set()
    checks = evaluations(result)
    assert set(checks) == {("users", "row_count_matches_source"), ("users", "primary_key_unique")}
    for check in checks.values():
        assert not check.passed
        assert "the destination table 'users' does not exist" in str(check.description)
        assert "materialize the asset 'users' first" in str(check.description)
    if destination == "postgres":
        assert destination_tables(postgres_url) == set()
    else:
        assert Path(target).exists() == (destination == "duckdb table")


@pytest.mark.parametrize("form", FORMS)
def test_a_check_of_an_unselected_asset_beside_a_selected_asset(
    form: Form, source: str, postgres_url: str
) -> None:
    """``items`` and the checks of ``users`` (not its asset): ``items`` loads, the checks
    of ``users`` run on its table as it is, ``users`` is not loaded again."""
    assets = build(form, replication_for(source, postgres_url, "users", "items"), asset_checks=True)
    dg.materialize([assets], resources=RESOURCES)
    with psycopg.connect(postgres_url) as conn:
        conn.execute("DELETE FROM users WHERE id = 0")
    result = run_selection(assets, dg.AssetSelection.assets("items") | users_checks(assets))
    assert result.success, failure_messages(result)
    assert materialized(result) == {dg.AssetKey("items")}
    checks = evaluations(result)
    assert {name: c.passed for name, c in checks.items()} == {
        ("items", "row_count_matches_source"): True,
        ("items", "primary_key_unique"): True,
        ("users", "row_count_matches_source"): False,  # 4 rows left, the source has 5
        ("users", "primary_key_unique"): True,
    }
    assert count_rows(postgres_url, "users") == 4


# --------------------------------------------------------------------------- component


def test_component_project_materializes(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example component project loads with Dagster and its assets materialize."""
    project = tmp_path / "component_project"
    shutil.copytree(EXAMPLES / "component_project", project)
    monkeypatch.syspath_prepend(str(project / "src"))
    source = make_source(tmp_path / "example.duckdb", {"users": 4, "products": 2})
    monkeypatch.setenv("TYPEDREPL_EXAMPLE_DUCKDB", source)
    monkeypatch.setenv("TYPEDREPL_DESTINATION_URL", postgres_url)
    defs = dg.load_from_defs_folder(path_within_project=project / "src" / "replication_project")
    keys = {spec.key for spec in defs.resolve_all_asset_specs()}
    assert keys == {dg.AssetKey(["warehouse", "users"]), dg.AssetKey(["warehouse", "products"])}
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(asset_selection=[dg.AssetKey(["warehouse", "users"])])
    assert materialized(result) == {dg.AssetKey(["warehouse", "users"])}
    assert destination_tables(postgres_url) == {("public", "users")}
    assert {c.check_name for c in result.get_asset_check_evaluations()} == {
        "row_count_matches_source",
        "primary_key_unique",
    }


def make_project(root: Path, files: dict[str, str]) -> Path:
    """A one-package dg project under ``root``; ``files`` go into its ``defs/`` folder."""
    package = f"proj_{uuid.uuid4().hex[:10]}"
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{package}"\nversion = "0"\n\n'
        f'[tool.dg]\ndirectory_type = "project"\n\n[tool.dg.project]\nroot_module = "{package}"\n'
    )
    defs = root / "src" / package / "defs"
    defs.mkdir(parents=True)
    (defs.parent / "__init__.py").write_text("")
    for name, text in files.items():
        (defs / name).parent.mkdir(parents=True, exist_ok=True)
        (defs / name).write_text(text)
    return defs.parent


def test_component_graph_form_and_resource_key(
    tmp_path: Path, source: str, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``one_op_per_table`` and a custom ``resource_key`` build the graph form."""
    package = make_project(
        tmp_path,
        {
            "tables/replication.yaml": "connections:\n"
            f"  source: {{type: duckdb, connection: '{source}'}}\n"
            f"  destination: {{type: postgres, connection: '{postgres_url}'}}\n"
            "tables:\n  - {name: users}\n  - {name: items}\n",
            "tables/defs.yaml": "type: typedrepl.ReplicationComponent\n"
            "attributes:\n"
            "  replication: replication.yaml\n"
            "  one_op_per_table: true\n"
            "  resource_key: copier\n"
            "  translation: {key_prefix: [a, b], kinds: [sql]}\n",
        },
    )
    monkeypatch.syspath_prepend(str(package.parent))
    defs = dg.load_from_defs_folder(path_within_project=package)
    keys = {dg.AssetKey(["a", "b", "users"]), dg.AssetKey(["a", "b", "items"])}
    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    assert set(specs) == keys
    assert specs[dg.AssetKey(["a", "b", "users"])].kinds == {"sql"}
    job = defs.resolve_implicit_global_asset_job_def()
    assert len(job.graph.node_defs) == 1
    (graph,) = job.graph.node_defs
    assert isinstance(graph, dg.GraphDefinition)
    assert len(graph.node_defs) == 2
    assert {"copier"} <= job.required_resource_keys
    result = job.execute_in_process()
    assert materialized(result) == keys
    assert isinstance(ReplicationComponent, type)


# --------------------------------------------------------------------------- properties


def _reset_destination(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
            "AND nspname <> 'information_schema'"
        ).fetchall()
        for (schema,) in schemas:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.execute("CREATE SCHEMA public")


def _source_columns(table: Table) -> list[str]:
    """Every column the table's config names, plus one more, unique under DuckDB's rules."""
    names: list[str] = []
    for name in [
        *table.primary_key,
        *([table.cursor] if table.cursor else []),
        *(table.columns or ()),
        *table.exclude_columns,
        *table.column_types,
    ]:
        if identifier_key(name) not in {identifier_key(n) for n in names}:
            names.append(name)
    extra = "v_" + uuid.uuid4().hex[:8]
    return [*names, extra]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _make_property_source(path: Path, replication: Replication[Table]) -> None:
    with duckdb.connect(str(path)) as conn:
        for table in replication.tables:
            target = _quote(table.name)
            if table.source_schema is not None:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(table.source_schema)}")
                target = f"{_quote(table.source_schema)}.{target}"
            columns = ", ".join(f"range AS {_quote(c)}" for c in _source_columns(table))
            conn.execute(f"CREATE TABLE {target} AS SELECT {columns} FROM range(3)")  # noqa: S608


def _property_check(
    form: Form,
    data: st.DataObject,
    tmp_path: Path,
    postgres_url: str,
) -> None:
    connections = Connections(
        source=DuckDBConnection(connection=str(tmp_path / f"{uuid.uuid4().hex}.duckdb")),
        destination=PostgresConnection(connection=postgres_url),
    )
    replication = data.draw(
        replications(tables(), connections=st.just(connections), max_tables=3), "replication"
    )
    translator = data.draw(_translators, "translator")
    try:
        specs = build_replication_specs(replication, translator)
    except AssetSpecError:
        return  # generated meta can collide or form cycles; test_dagster_specs covers it
    keys = {t.name: s.key for t, s in zip(replication.tables, specs, strict=True)}
    assert len(set(keys.values())) == len(keys)
    chosen = data.draw(subsets(replication, min_size=1), "selection")
    _reset_destination(postgres_url)
    _make_property_source(Path(connections.source.connection), replication)
    assets = build(form, replication, translator)
    result = dg.materialize(
        [assets], resources=RESOURCES, selection=[keys[n] for n in chosen], raise_on_error=False
    )
    assert result.success, failure_messages(result)
    assert materialized(result) == {keys[n] for n in chosen}
    expected = {
        (t.destination_schema or "public", t.target_name)
        for t in replication.tables
        if t.name in chosen
    }
    assert destination_tables(postgres_url) == expected


_translators: st.SearchStrategy[ReplicationTranslator[Table]] = st.builds(
    ReplicationTranslator[Table],
    key_prefix=st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), max_size=2),
    group_name=st.none() | st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
)

# Each example is a real Dagster run against PostgreSQL: few examples, and no shrinking
# (shrinking database-backed examples can take minutes; the failing example is printed).
_PROPERTY_SETTINGS: Callable[[Callable[..., None]], Callable[..., None]] = settings(
    max_examples=12,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("form", FORMS)
@_PROPERTY_SETTINGS
@given(data=st.data())
def test_property_materialized_equals_selected(
    form: Form, data: st.DataObject, tmp_path: Path, postgres_url: str
) -> None:
    """Generated replications, translators and subsets, both forms: declared keys are
    unique, materialized keys == selected keys, the destination holds exactly the
    selected tables."""
    _property_check(form, data, tmp_path, postgres_url)
