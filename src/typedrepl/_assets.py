"""The asset factories: ``@replication_assets`` (one op) and ``replication_graph_assets`` (one op per table).

Both declare the same assets for the same replication and translator, can run any
subset of them, and name their op outputs themselves (``users_3fa2b1c4d5e6``: an ASCII
stem and a hash of the key), so that any table name works, ``raise`` or ``Ünïcode``.

``from __future__ import annotations`` must not be used in a module that defines asset
or op bodies: Dagster reads the body's annotations when it is decorated, and with
postponed annotations it sees the string ``"AssetExecutionContext"`` and rejects the
``context`` parameter (``Cannot annotate `context` parameter with type ...``).
``@replication_assets`` resolves its own body's annotations, so its bodies work either
way, but plain ``@dagster.asset`` bodies in the same module still fail. This module
defines op bodies, hence it does not use it either.
"""

import functools
import hashlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Concatenate, ParamSpec

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    DependencyDefinition,
    GraphDefinition,
    In,
    MaterializeResult,
    NodeInvocation,
    Nothing,
    OpDefinition,
    OpExecutionContext,
    Out,
    Output,
    OutputMapping,
    RetryPolicy,
    op,
)

from typedrepl._dagster_binding import bound_declaration
from typedrepl._dagster_execution import AssetContractError, materialize_table
from typedrepl._models import Replication, TableT
from typedrepl._resource import ReplicationResource
from typedrepl._specs import DeclaredTable, ReplicationDeclaration, declare_replication
from typedrepl._translator import Translator

__all__ = ["replication_assets", "replication_graph_assets"]

P = ParamSpec("P")

ReplicationEvent = MaterializeResult[None] | AssetCheckResult
"""What a replication body yields: ``ReplicationResource.run`` yields these."""

SPLIT_ABOVE = 250
"""Above this many tables, ``@replication_assets`` runs its body in several ops."""
TABLES_PER_PART = 25
"""The most tables each of those ops runs (tables that depend on each other stay together).

For each output an op yields, Dagster walks every output of the op and copies the set
of every key of the definition: one op for N tables costs O(N**3). ``bench/bench_dagster.py``
(no rows): 5,000 tables took 1,733 s in one op, 46 s in parts of 25. Up to
``SPLIT_ABOVE`` tables one op costs little more than parts (250 tables: 1.6 s vs 1.4 s)
and stays one step: one process under the multiprocess executor, tables in turn.
"""


def _outs(declaration: ReplicationDeclaration) -> dict[str, Out]:
    names = [*declaration.keys_by_output_name, *declaration.check_specs_by_output_name]
    return {name: Out(Nothing, is_required=False) for name in names}


def _assets_definition(
    declaration: ReplicationDeclaration,
    node: OpDefinition | GraphDefinition,
    backfill_policy: BackfillPolicy | None,
) -> AssetsDefinition:
    return AssetsDefinition(
        node_def=node,
        keys_by_output_name=declaration.keys_by_output_name,
        specs=[d.spec for d in declaration.tables],
        check_specs_by_output_name=declaration.check_specs_by_output_name,
        can_subset=True,
        backfill_policy=backfill_policy,
    )


def _resolved_signature(fn: Callable[..., object]) -> inspect.Signature:
    """``fn``'s signature with string annotations evaluated, when they can be."""
    try:
        return inspect.signature(fn, eval_str=True)
    except NameError:  # a name only imported under TYPE_CHECKING: Dagster will say so
        return inspect.signature(fn)


def _bind(
    fn: Callable[..., Iterable[ReplicationEvent]], declaration: ReplicationDeclaration
) -> Callable[..., Iterator[ReplicationEvent]]:
    """``fn``, running with ``declaration`` as the current one (for ``run(context)``)."""

    @functools.wraps(fn)
    def compute(*args: object, **kwargs: object) -> Iterator[ReplicationEvent]:
        with bound_declaration(declaration):
            result = fn(*args, **kwargs)
            if isinstance(result, MaterializeResult | AssetCheckResult):
                yield result
            elif result is not None:
                yield from result

    compute.__signature__ = _resolved_signature(fn)  # type: ignore[attr-defined]
    return compute


def replication_assets(
    *,
    replication: Replication[TableT],
    translator: Translator[TableT] | None = None,
    name: str | None = None,
    group_name: str | None = None,
    description: str | None = None,
    op_tags: Mapping[str, str] | None = None,
    pool: str | None = None,
    retry_policy: RetryPolicy | None = None,
    backfill_policy: BackfillPolicy | None = None,
    asset_checks: bool = False,
) -> Callable[
    [Callable[Concatenate[AssetExecutionContext, P], Iterable[ReplicationEvent]]],
    AssetsDefinition,
]:
    """One asset per table, computed by one op that runs the selected tables in turn.

    The tables load in config order, except that a table loads after the tables of the
    replication it depends on (``meta.deps``).

    The body receives ``context`` and the resources it names, and usually is
    ``yield from replicator.run(context)``.

    A replication of more than :data:`SPLIT_ABOVE` (250) tables is split into parts of
    at most :data:`TABLES_PER_PART` (25) tables (tables that depend on each other stay in
    one part), each run by its own op ``<name>_part_0001``... in a graph named ``name``:
    the assets, keys and checks are the same, and Dagster's cost per table stays about
    flat. Under the multiprocess executor the parts run in parallel (limit them with
    ``op_tags`` and the executor's ``tag_concurrency_limits``, e.g. for a DuckDB
    destination, which admits one writer).

    Args:
        replication: the tables to replicate.
        translator: how tables become assets (default: :class:`ReplicationTranslator`).
        name: the op's name (default: the body's name); the graph's, when split.
        group_name: the group of assets whose translator gives none.
        description: the op's description.
        op_tags: tags of the op (e.g. concurrency limits), or of each part's op.
        pool: the concurrency pool of the op (of each part's op).
        retry_policy: how the op (each part's op) is retried on failure.
        backfill_policy: how the assets are backfilled.
        asset_checks: declare asset checks: destination rows equal source rows after a
            full refresh, primary key unique in the destination. A check selected
            without its asset (Dagster's "execute checks") loads nothing: it reads the
            destination table as it is (the row count check: against the source's row
            count now), and fails, saying so, when that table does not exist.

    Raises:
        AssetSpecError: two tables map to one key, or the tables' deps form a cycle.

    Example::

        @replication_assets(replication=load_replication("replication.yaml"))
        def warehouse(context: AssetExecutionContext, replicator: ReplicationResource):
            yield from replicator.run(context)
    """
    declaration = declare_replication(
        replication, translator, asset_checks=asset_checks, group_name=group_name
    )

    def decorate(
        fn: Callable[Concatenate[AssetExecutionContext, P], Iterable[ReplicationEvent]],
    ) -> AssetsDefinition:
        op_name = name or fn.__name__

        def body_op(part: ReplicationDeclaration, part_name: str, text: str | None) -> OpDefinition:
            return op(
                name=part_name,
                description=text,
                out=_outs(part),
                tags=op_tags,
                pool=pool,
                retry_policy=retry_policy,
            )(_bind(fn, part))

        split = len(declaration.tables) > SPLIT_ABOVE
        parts = declaration.parts(TABLES_PER_PART) if split else [declaration]
        if len(parts) == 1:
            node: OpDefinition | GraphDefinition = body_op(declaration, op_name, description)
        else:
            ops = [
                body_op(part, f"{op_name}_part_{i:04d}", _part_description(part, i, len(parts)))
                for i, part in enumerate(parts, start=1)
            ]
            node = GraphDefinition(
                name=op_name,
                description=description,
                node_defs=ops,
                output_mappings=[
                    OutputMapping(
                        graph_output_name=out,
                        mapped_node_name=part_op.name,
                        mapped_node_output_name=out,
                    )
                    for part_op in ops
                    for out in (o.name for o in part_op.output_defs)
                ],
            )
        return _assets_definition(declaration, node, backfill_policy)

    return decorate


def _part_description(part: ReplicationDeclaration, index: int, count: int) -> str:
    first, last = part.tables[0].table.name, part.tables[-1].table.name
    return f"Replicates tables {first!r} to {last!r} ({len(part.tables)} tables; part {index} of {count})."


def _default_graph_name(declaration: ReplicationDeclaration) -> str:
    conns = declaration.connections
    keys = sorted(d.key.to_user_string() for d in declaration.tables)
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:8]
    return f"{conns.source.type}_to_{conns.destination.type}_{digest}"


def _resource(context: OpExecutionContext, resource_key: str) -> ReplicationResource:
    resource: object = getattr(context.resources, resource_key)
    if not isinstance(resource, ReplicationResource):
        msg = f"resource {resource_key!r} is a {type(resource).__name__}, not a ReplicationResource"
        raise AssetContractError(msg)
    return resource


def _table_op(
    declaration: ReplicationDeclaration,
    entry: DeclaredTable,
    *,
    graph_name: str,
    resource_key: str,
    op_tags: Mapping[str, str] | None,
    pool: str | None,
    retry_policy: RetryPolicy | None,
) -> OpDefinition:
    def compute(context: OpExecutionContext) -> Iterator[Output[None] | AssetCheckResult]:
        yield from materialize_table(context, _resource(context, resource_key), declaration, entry)

    outs = {name: Out(Nothing, is_required=False) for name in [entry.output_name, *entry.checks]}
    return op(
        name=f"{graph_name}__{entry.output_name}",
        description=f"Replicates the table {entry.table.name!r}.",
        ins={name: In(Nothing) for name in _upstream_outputs(declaration, entry)},
        out=outs,
        required_resource_keys={resource_key},
        tags=op_tags,
        pool=pool,
        retry_policy=retry_policy,
    )(compute)


def _upstream_outputs(declaration: ReplicationDeclaration, entry: DeclaredTable) -> list[str]:
    """The output names of the tables ``entry`` depends on in this replication, in order.

    Each is also the name of the ``Nothing`` input of ``entry``'s op that waits for it.
    """
    deps = declaration.internal_deps[entry.key]
    return [declaration.by_key[key].output_name for key in declaration.order if key in deps]


def replication_graph_assets(
    *,
    replication: Replication[TableT],
    translator: Translator[TableT] | None = None,
    name: str | None = None,
    resource_key: str = "replicator",
    group_name: str | None = None,
    op_tags: Mapping[str, str] | None = None,
    pool: str | None = None,
    retry_policy: RetryPolicy | None = None,
    backfill_policy: BackfillPolicy | None = None,
    asset_checks: bool = False,
) -> AssetsDefinition:
    """The assets of :func:`replication_assets`, computed by a graph of one op per table.

    Tables run in parallel under the multiprocess executor, a failed table fails only
    its own op, and re-executing a run from failure re-runs only the failed tables.
    The ops use the :class:`ReplicationResource` under ``resource_key``.

    A table that depends on other tables of the replication (``meta.deps``) has its op
    wait for theirs (a ``Nothing`` input from each of their asset outputs, when they are
    selected): it loads after them. When one of them fails, Dagster does not run the
    waiting op (its step is not executed) and the failure names the tables that wait.

    Args:
        replication: the tables to replicate.
        translator: how tables become assets (default: :class:`ReplicationTranslator`).
        name: the graph's name (default: ``<source>_to_<destination>_<hash of the keys>``).
        resource_key: the key of the :class:`ReplicationResource`.
        group_name: the group of assets whose translator gives none.
        op_tags: tags of every op.
        pool: the concurrency pool of every op.
        retry_policy: how each op is retried on failure.
        backfill_policy: how the assets are backfilled.
        asset_checks: declare the asset checks (see :func:`replication_assets`).

    Raises:
        AssetSpecError: two tables map to one key, or the tables' deps form a cycle.
    """
    declaration = declare_replication(
        replication, translator, asset_checks=asset_checks, group_name=group_name
    )
    graph_name = name or _default_graph_name(declaration)
    ops: list[OpDefinition] = []
    mappings: list[OutputMapping] = []
    op_names: dict[str, str] = {}
    dependencies: dict[NodeInvocation, dict[str, DependencyDefinition]] = {}
    for entry in declaration.tables:
        table_op = _table_op(
            declaration,
            entry,
            graph_name=graph_name,
            resource_key=resource_key,
            op_tags=op_tags,
            pool=pool,
            retry_policy=retry_policy,
        )
        ops.append(table_op)
        op_names[entry.output_name] = table_op.name
        mappings.extend(
            OutputMapping(
                graph_output_name=out, mapped_node_name=table_op.name, mapped_node_output_name=out
            )
            for out in [entry.output_name, *entry.checks]
        )
    for entry, table_op in zip(declaration.tables, ops, strict=True):
        upstream = _upstream_outputs(declaration, entry)
        if upstream:
            dependencies[NodeInvocation(table_op.name)] = {
                out: DependencyDefinition(op_names[out], out) for out in upstream
            }
    graph = GraphDefinition(
        name=graph_name, node_defs=ops, dependencies=dependencies, output_mappings=mappings
    )
    return _assets_definition(declaration, graph, backfill_policy)
