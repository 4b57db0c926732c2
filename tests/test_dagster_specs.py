"""Asset specs, translators and asset definitions, without running anything (no database)."""

import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs
import dagster as dg
import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from typedrepl import (
    AssetContractError,
    AssetSpecError,
    LoadMode,
    Replication,
    ReplicationResource,
    ReplicationTranslator,
    Table,
    TableMeta,
    build_replication_specs,
    load_replication,
    replication_assets,
    replication_graph_assets,
)
from typedrepl._dagster_execution import _Reporter, selected_tables
from typedrepl._results import TableResult
from typedrepl._specs import declare_replication
from typedrepl.testing import replications

PASSWORD = "s3cr3t-Pa55"
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def _replication(*tables: Mapping[str, object]) -> Replication[Table]:
    return load_replication(
        {
            "connections": {
                "source": {"type": "duckdb", "connection": "source.duckdb"},
                "destination": {
                    "type": "postgres",
                    "connection": f"postgresql://app:{PASSWORD}@db.example.com/warehouse",
                },
            },
            "tables": list(tables),
        }
    )


def _assets(
    replication: Replication[Table], translator: ReplicationTranslator[Table] | None = None
) -> dg.AssetsDefinition:
    @replication_assets(replication=replication, translator=translator, asset_checks=True)
    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    return tables


# --------------------------------------------------------------------------- translator


def test_default_spec_uses_the_table_name_and_connection_kinds() -> None:
    """Key = table name, kinds = source and destination types, JSON-safe metadata."""
    (spec,) = build_replication_specs(_replication({"name": "users", "primary_key": "id"}))
    assert spec.key == dg.AssetKey(["users"])
    assert spec.kinds == {"duckdb", "postgres"}
    assert spec.group_name is None
    assert spec.metadata["typedrepl/table"] == "users"
    assert spec.metadata["typedrepl/mode"] == "full_refresh"
    assert spec.metadata["typedrepl/destination_table"] == "users"
    assert spec.metadata["typedrepl/primary_key"] == dg.MetadataValue.json(["id"])


def test_settings_and_meta_overrides() -> None:
    """Translator settings apply to every table; a table's meta block overrides them."""
    replication = _replication(
        {"name": "plain"},
        {
            "name": "special",
            "destination_schema": "mart",
            "destination_table": "special_copy",
            "meta": {
                "asset_key": "custom/key",
                "group": "special_group",
                "description": "hand written",
                "tags": {"tier": "gold"},
                "owners": ["a@example.com"],
                "deps": ["upstream/x", "y"],
            },
        },
    )
    translator = ReplicationTranslator[Table](
        key_prefix="raw/pg",
        group_name="raw",
        kinds={"sql"},
        tags={"layer": "raw", "tier": "bronze"},
        owners=["team:data"],
    )
    plain, special = build_replication_specs(replication, translator)
    assert plain.key == dg.AssetKey(["raw", "pg", "plain"])
    assert plain.group_name == "raw"
    assert plain.kinds == {"sql"}
    assert list(plain.owners) == ["team:data"]
    assert plain.tags == {"layer": "raw", "tier": "bronze", "dagster/kind/sql": ""}
    assert special.key == dg.AssetKey(["custom", "key"])
    assert special.group_name == "special_group"
    assert special.description == "hand written"
    assert list(special.owners) == ["a@example.com"]
    assert special.tags["tier"] == "gold"
    assert special.tags["layer"] == "raw"
    assert {dep.asset_key for dep in special.deps} == {
        dg.AssetKey(["upstream", "x"]),
        dg.AssetKey(["y"]),
    }
    assert special.metadata["typedrepl/destination_table"] == "mart.special_copy"


def test_user_translator_receives_its_table_type() -> None:
    """A subclass for a user's table model sees that model (with its extra fields)."""

    @attrs.frozen(kw_only=True)
    class DomainTable(Table):
        domain: str = "core"

    class DomainTranslator(ReplicationTranslator[DomainTable]):
        def get_asset_key(self, table: DomainTable) -> dg.AssetKey:
            return dg.AssetKey([table.domain, table.name])

        def get_group_name(self, table: DomainTable) -> str | None:
            return table.domain

    replication = load_replication(
        "connections:\n"
        "  source: {type: duckdb, connection: a.duckdb}\n"
        "  destination: {type: duckdb, connection: b.duckdb}\n"
        "tables:\n"
        "  - {name: users, domain: crm}\n"
        "  - {name: items}\n",
        table_type=DomainTable,
    )
    specs = build_replication_specs(replication, DomainTranslator())
    assert [s.key for s in specs] == [dg.AssetKey(["crm", "users"]), dg.AssetKey(["core", "items"])]
    assert [s.group_name for s in specs] == ["crm", "core"]
    assert {k for s in specs for k in s.kinds} == {"duckdb"}


def test_no_connection_string_or_object_in_definitions() -> None:
    """Definition metadata holds JSON-safe values only: no password, no Python objects."""
    replication = _replication({"name": "users", "primary_key": "id"}, {"name": "items"})
    assets = _assets(replication)
    graph = replication_graph_assets(replication=replication, name="g", asset_checks=True)
    for definition in (assets, graph):
        for key, metadata in definition.metadata_by_key.items():
            for value in metadata.values():
                assert isinstance(value, str | int | float | bool | dg.MetadataValue), (key, value)
        for spec in definition.specs:
            assert PASSWORD not in dg.serialize_value(spec.metadata)
            assert "postgresql://" not in repr(spec)


# --------------------------------------------------------------------------- errors


def test_two_tables_with_one_key_are_an_error_naming_both() -> None:
    """A key collision is reported with both tables' names."""
    replication = _replication(
        {"name": "first", "meta": {"asset_key": "same/key"}},
        {"name": "second", "meta": {"asset_key": "same/key"}},
    )
    with pytest.raises(AssetSpecError, match=r"'first' and 'second'.*'same/key'") as info:
        build_replication_specs(replication)
    assert info.value.tables == ("first", "second")
    with pytest.raises(AssetSpecError):
        replication_graph_assets(replication=replication)


def test_self_and_cyclic_deps_are_errors() -> None:
    """A table depending on itself, or tables depending on each other, are refused."""
    with pytest.raises(AssetSpecError, match="'a' depends on its own asset"):
        build_replication_specs(_replication({"name": "a", "meta": {"deps": ["a"]}}))
    cycle = _replication(
        {"name": "a", "meta": {"deps": ["b"]}}, {"name": "b", "meta": {"deps": ["a"]}}
    )
    with pytest.raises(AssetSpecError, match="cycle") as info:
        build_replication_specs(cycle)
    assert set(info.value.tables) == {"a", "b"}


def test_invalid_translator_output_names_the_table() -> None:
    """An asset spec Dagster refuses (a bad group name) is reported with its table.

    ``load_replication`` refuses such a group in a config file; a table built in code
    (or a translator's own group) reaches Dagster, and the error names the table."""
    loaded = _replication({"name": "users"})
    users = attrs.evolve(loaded.tables[0], meta=TableMeta(group="not a valid group!"))
    replication = attrs.evolve(loaded, tables=(users,))
    with pytest.raises(AssetSpecError, match="table 'users'"):
        build_replication_specs(replication)


# --------------------------------------------------------------------------- definitions


def test_any_table_name_gets_a_valid_output_name() -> None:
    """Keywords, spaces and non-ASCII names work: outputs are named by the library."""
    names = ["raise", "with space", "Ünïcode", "select", "1abc", "a.b", "😀"]
    replication = _replication(*({"name": n} for n in names))
    assets = _assets(replication)
    graph = replication_graph_assets(replication=replication, asset_checks=True)
    for definition in (assets, graph):
        assert set(definition.keys) == {dg.AssetKey([n]) for n in names}
        outputs = definition.node_def.output_defs
        assert all(_NAME.match(out.name) for out in outputs)
    dg.Definitions(assets=[assets], resources={"replicator": ReplicationResource()})


def test_both_forms_declare_identical_assets() -> None:
    """Same keys, groups, deps, checks and can_subset for both forms."""
    replication = _replication(
        {"name": "users", "primary_key": "id"},
        {"name": "events", "meta": {"deps": ["raw/users"], "group": "events"}},
    )
    translator = ReplicationTranslator[Table](key_prefix="raw", group_name="raw")
    multi = _assets(replication, translator)
    graph = replication_graph_assets(
        replication=replication, translator=translator, asset_checks=True
    )
    assert multi.keys == graph.keys
    assert multi.check_keys == graph.check_keys
    assert multi.can_subset
    assert graph.can_subset
    for key in multi.keys:
        assert multi.specs_by_key[key].group_name == graph.specs_by_key[key].group_name
        assert multi.asset_deps[key] == graph.asset_deps[key]
    assert multi.asset_deps[dg.AssetKey(["raw", "events"])] == {dg.AssetKey(["raw", "users"])}


def test_decorator_group_name_fills_tables_without_one() -> None:
    """``group_name`` applies to tables whose translator gives no group."""
    replication = _replication({"name": "a"}, {"name": "b", "meta": {"group": "mine"}})

    @replication_assets(replication=replication, group_name="fallback")
    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    groups = {k.to_user_string(): s.group_name for k, s in tables.specs_by_key.items()}
    assert groups == {"a": "fallback", "b": "mine"}


def test_op_settings_reach_the_op() -> None:
    """Name, tags, pool and retry policy are passed to the op."""
    replication = _replication({"name": "a"})
    policy = dg.RetryPolicy(max_retries=2)

    @replication_assets(
        replication=replication,
        name="custom_op",
        op_tags={"team": "data"},
        pool="db",
        retry_policy=policy,
    )
    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    assert tables.node_def.name == "custom_op"
    assert isinstance(tables.node_def, dg.OpDefinition)
    assert tables.node_def.tags["team"] == "data"
    assert tables.node_def.pool == "db"
    assert tables.node_def.retry_policy == policy


# --------------------------------------------------------------------------- properties

_segments = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), max_size=2)
_translators = st.builds(
    ReplicationTranslator[Table],
    key_prefix=_segments,
    group_name=st.none() | st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replication=replications(max_tables=6), translator=_translators)
def test_declared_keys_are_unique_and_both_forms_agree(
    replication: Replication[Table], translator: ReplicationTranslator[Table]
) -> None:
    """For any replication and translator: keys are unique (or the collision is reported),
    output names are valid and unique, and both forms declare the same keys."""
    try:
        specs = build_replication_specs(replication, translator)
    except AssetSpecError as exc:
        error: AssetSpecError | None = exc
    else:
        error = None
    if error is not None:
        by_name = {t.name: translator.get_asset_key(t) for t in replication.tables}
        named = [by_name[name] for name in error.tables]
        collision = len(named) == 2 and named[0] == named[1]
        assert collision or "depends" in str(error) or "cycle" in str(error), error
        return
    keys = [s.key for s in specs]
    assert len(set(keys)) == len(keys) == len(replication.tables)
    multi = _assets(replication, translator)
    graph = replication_graph_assets(
        replication=replication, translator=translator, asset_checks=True
    )
    assert set(multi.keys) == set(graph.keys) == set(keys)
    assert multi.check_keys == graph.check_keys
    outputs = [out.name for out in multi.node_def.output_defs]
    assert len(set(outputs)) == len(outputs)
    assert all(_NAME.match(name) for name in outputs)


# --------------------------------------------------------------------------- imports


def test_import_typedrepl_loads_no_dagster() -> None:
    """The Dagster names are lazy: ``import typedrepl`` imports no dagster module."""
    code = (
        "import sys, typedrepl\n"
        "assert 'dagster' not in sys.modules, 'dagster imported'\n"
        "typedrepl.ReplicationResource\n"
        "assert 'dagster' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names_resolve() -> None:
    """Every Dagster name in ``typedrepl.__all__`` imports."""
    import typedrepl

    for name in (
        "Translator",
        "ReplicationTranslator",
        "build_replication_specs",
        "replication_assets",
        "replication_graph_assets",
        "ReplicationResource",
        "ReplicationComponent",
        "AssetSpecError",
        "AssetContractError",
    ):
        assert name in typedrepl.__all__
        assert getattr(typedrepl, name) is not None


# --------------------------------------------------------------------------- postponed annotations

_FUTURE_MODULE = """from __future__ import annotations
# paths

from collections.abc import Iterator, Mapping

import dagster as dg

from typedrepl import ReplicationResource, load_replication, replication_assets

replication = load_replication(
    {
        "connections": {
            "source": {"type": "duckdb", "connection": SOURCE},
            "destination": {"type": "duckdb", "connection": DESTINATION},
        },
        "tables": [{"name": "users"}],
    }
)

@replication_assets(replication=replication)
def tables(
    context: dg.AssetExecutionContext, replicator: ReplicationResource
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    yield from replicator.run(context)

PLAIN_ASSET_ERROR = None
try:
    @dg.asset
    def plain(context: dg.AssetExecutionContext) -> None: ...
except dg.DagsterInvalidDefinitionError as exc:
    PLAIN_ASSET_ERROR = str(exc)
"""


def test_postponed_annotations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``from __future__ import annotations``, a plain ``@dg.asset`` body is rejected
    (Dagster sees the string ``"AssetExecutionContext"``); ``@replication_assets`` evaluates
    its body's annotations, so its body still gets the context and the resource and runs."""
    source, destination = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    with duckdb.connect(str(source)) as conn:
        conn.execute("CREATE TABLE users AS SELECT range AS id FROM range(3)")
    paths = f"SOURCE = {str(source)!r}\nDESTINATION = {str(destination)!r}\n"
    (tmp_path / "future_assets.py").write_text(_FUTURE_MODULE.replace("# paths\n", paths))
    monkeypatch.syspath_prepend(str(tmp_path))
    import future_assets  # type: ignore[import-not-found]

    assert "Cannot annotate `context` parameter" in future_assets.PLAIN_ASSET_ERROR
    tables = future_assets.tables
    assert isinstance(tables, dg.AssetsDefinition)
    assert "replicator" in tables.required_resource_keys
    result = dg.materialize([tables], resources={"replicator": ReplicationResource()})
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        dg.AssetKey("users")
    ]
    with duckdb.connect(str(destination), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (3,)


# --------------------------------------------------------------------------- outcome contract


def _result(table: str) -> TableResult:
    return TableResult(
        table=table,
        destination=f"public.{table}",
        mode=LoadMode.FULL_REFRESH,
        rows_written=1,
        rows_in_destination=1,
        duration_s=0.1,
        columns=(),
    )


def test_outcomes_for_unselected_or_repeated_tables_are_errors() -> None:
    """An outcome for a table that was not selected, or a second one, breaks the contract;
    a selected table without an outcome becomes a failure naming it."""
    replication = _replication({"name": "a"}, {"name": "b"}, {"name": "c"})
    declaration = declare_replication(replication)
    reporter = _Reporter(declaration, ["a", "b"])
    reporter.add(_result("a"))
    with pytest.raises(AssetContractError, match="reported table 'c', which is not selected"):
        reporter.add(_result("c"))
    with pytest.raises(AssetContractError, match="reported table 'a' twice"):
        reporter.add(_result("a"))
    reporter.finish()
    assert [(f.table, f.error_type) for f in reporter.failures] == [("b", "AssetContractError")]
    assert [entry.table.name for entry, _ in reporter.ready()] == ["a"]


def test_selection_must_name_declared_tables() -> None:
    """An empty selection, or one with an undeclared key, is refused before anything runs."""
    declaration = declare_replication(_replication({"name": "a"}, {"name": "b"}))
    assert selected_tables(declaration, {dg.AssetKey("b"), dg.AssetKey("a")}) == ["a", "b"]
    with pytest.raises(AssetContractError, match="empty selection"):
        selected_tables(declaration, set())
    with pytest.raises(AssetContractError, match=r"key\(s\) x match no table"):
        selected_tables(declaration, {dg.AssetKey("a"), dg.AssetKey("x")})
