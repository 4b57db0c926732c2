"""Many tables: ``@replication_assets`` splits them into ops, with the same assets.

Without a database: these tests look at the definitions and the declaration. Runs of
the split form are in ``test_dagster_runs.py`` (form ``split``); its speed is measured
by ``bench/bench_dagster.py``.
"""

from collections.abc import Iterator, Mapping, Sequence

import dagster as dg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from typedrepl import (
    AssetContractError,
    AssetSpecError,
    Replication,
    ReplicationResource,
    Table,
    build_replication_specs,
    load_replication,
    replication_assets,
    replication_graph_assets,
)
from typedrepl._assets import SPLIT_ABOVE, TABLES_PER_PART
from typedrepl._dagster_execution import selected_tables
from typedrepl._specs import _topological_order, declare_replication


def _replication(*tables: Mapping[str, object]) -> Replication[Table]:
    return load_replication(
        {
            "connections": {
                "source": {"type": "duckdb", "connection": "source.duckdb"},
                "destination": {"type": "postgres", "connection": "postgresql://db/warehouse"},
            },
            "tables": list(tables),
        }
    )


def _many(count: int) -> Replication[Table]:
    return _replication(*({"name": f"t{i:05d}", "primary_key": "id"} for i in range(count)))


def _names(tables: Sequence[Table]) -> list[str]:
    return [t.name for t in tables]


def test_more_tables_than_one_op_holds_are_split_with_the_same_assets() -> None:
    """Above ``SPLIT_ABOVE`` tables: a graph of ops of at most ``TABLES_PER_PART`` tables
    each, declaring the keys, checks, specs and deps of the graph form, with the op
    settings on every op."""
    replication = _many(SPLIT_ABOVE + 1)
    count = -(-(SPLIT_ABOVE + 1) // TABLES_PER_PART)
    policy = dg.RetryPolicy(max_retries=2)

    @replication_assets(
        replication=replication,
        name="warehouse",
        op_tags={"team": "data"},
        pool="db",
        retry_policy=policy,
        asset_checks=True,
    )
    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    graph = replication_graph_assets(replication=replication, asset_checks=True)
    assert isinstance(tables, dg.AssetsDefinition)
    assert tables.keys == graph.keys == {s.key for s in build_replication_specs(replication)}
    assert tables.check_keys == graph.check_keys
    assert len(tables.check_keys) == 2 * len(tables.keys)
    assert tables.can_subset
    for key in tables.keys:
        assert tables.specs_by_key[key] == graph.specs_by_key[key]
        assert tables.asset_deps[key] == graph.asset_deps[key]
    node = tables.node_def
    assert isinstance(node, dg.GraphDefinition)
    assert node.name == "warehouse"
    assert [op.name for op in node.node_defs] == [
        f"warehouse_part_{i:04d}" for i in range(1, count + 1)
    ]
    sizes = []
    for op in node.node_defs:
        assert isinstance(op, dg.OpDefinition)
        assert op.tags["team"] == "data"
        assert op.pool == "db"
        assert op.retry_policy == policy
        sizes.append(len(op.output_defs) // 3)  # each table: its output and two checks
    assert sum(sizes) == SPLIT_ABOVE + 1
    assert max(sizes) == TABLES_PER_PART
    defs = dg.Definitions(assets=[tables], resources={"replicator": ReplicationResource()})
    assert set(defs.resolve_all_asset_keys()) == set(tables.keys)
    job = defs.resolve_implicit_global_asset_job_def()
    assert [n.name for n in job.graph.node_defs] == ["warehouse"]


def test_up_to_split_above_tables_stay_one_op() -> None:
    replication = _many(SPLIT_ABOVE)

    @replication_assets(replication=replication)
    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    assert isinstance(tables.node_def, dg.OpDefinition)
    assert tables.node_def.name == "tables"


def test_tables_that_depend_on_each_other_share_a_part() -> None:
    """Parts keep config order and never separate a table from its deps in the
    replication (directly or not); such a group may exceed the size."""
    replication = _replication(
        {"name": "a"},
        {"name": "b"},
        {"name": "c"},
        {"name": "d", "meta": {"deps": ["a"]}},
        {"name": "e", "meta": {"deps": ["d", "elsewhere"]}},
        {"name": "f"},
    )
    declaration = declare_replication(replication)
    parts = declaration.parts(2)
    assert [_names([d.table for d in p.tables]) for p in parts] == [
        ["a", "d", "e"],
        ["b", "c"],
        ["f"],
    ]
    first = parts[0]
    assert first.all_keys == declaration.all_keys
    assert set(first.by_key) == {dg.AssetKey(n) for n in "ade"}
    assert first.order == (dg.AssetKey("a"), dg.AssetKey("d"), dg.AssetKey("e"))
    assert first.internal_deps[dg.AssetKey("e")] == {dg.AssetKey("d")}
    assert [_names([d.table for d in p.tables]) for p in declaration.parts(100)] == [
        ["a", "b", "c", "d", "e", "f"]
    ]


def test_a_part_runs_its_selected_tables_and_knows_the_others() -> None:
    """An op's part runs the selected tables it holds; a key of another part is not an
    error, a key outside the replication is, and so is a selection of none of its own."""
    declaration = declare_replication(_many(4))
    first, second = declaration.parts(2)
    keys = [dg.AssetKey(f"t{i:05d}") for i in range(4)]
    assert selected_tables(first, {keys[1], keys[2]}) == ["t00001"]
    assert selected_tables(second, {keys[1], keys[2], keys[3]}) == ["t00002", "t00003"]
    with pytest.raises(AssetContractError, match="empty selection"):
        selected_tables(first, {keys[3]})
    with pytest.raises(AssetContractError, match=r"key\(s\) x match no table"):
        selected_tables(second, {keys[3], dg.AssetKey("x")})


def _reference_order(
    keys: Sequence[dg.AssetKey], deps: Mapping[dg.AssetKey, frozenset[dg.AssetKey]]
) -> list[dg.AssetKey] | None:
    """The first ready key in config order, repeatedly; ``None`` on a cycle."""
    done: list[dg.AssetKey] = []
    remaining = list(keys)
    while remaining:
        ready = next((k for k in remaining if deps[k] <= set(done)), None)
        if ready is None:
            return None
        done.append(ready)
        remaining.remove(ready)
    return done


@settings(max_examples=200, deadline=None)
@given(
    edges=st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 7)).filter(lambda e: e[0] != e[1]),
        max_size=12,
    )
)
def test_dependency_order_is_dependencies_first_then_config_order(
    edges: list[tuple[int, int]],
) -> None:
    """The order tables are reported in equals the simple definition (repeatedly take
    the first table whose deps are done), and a cycle is an error naming its tables."""
    replication = _replication(*({"name": f"t{i}"} for i in range(8)))
    declaration = declare_replication(replication)
    keys = [d.key for d in declaration.tables]
    deps = {k: frozenset(keys[b] for a, b in edges if keys[a] == k) for k in keys}
    expected = _reference_order(keys, deps)
    if expected is None:
        with pytest.raises(AssetSpecError, match="depend on each other in a cycle"):
            _topological_order(keys, deps, declaration.by_key)
    else:
        assert list(_topological_order(keys, deps, declaration.by_key)) == expected


def test_a_long_chain_of_deps_is_ordered() -> None:
    """3,000 tables, each depending on the next one in the config: reported last first."""
    count = 3000
    replication = _replication(
        *({"name": f"t{i:05d}", "meta": {"deps": [f"t{i + 1:05d}"]}} for i in range(count - 1)),
        {"name": f"t{count - 1:05d}"},
    )
    declaration = declare_replication(replication)
    assert [k.path[-1] for k in declaration.order] == [f"t{i:05d}" for i in reversed(range(count))]
    (part,) = declaration.parts(TABLES_PER_PART)
    assert len(part.tables) == count
