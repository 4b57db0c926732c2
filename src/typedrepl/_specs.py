"""From a replication and a translator to asset specs: pure, shared by both asset forms.

:func:`declare_replication` computes, once, everything the assets and the resource need:
per table its spec, its output name and its check specs, plus the order tables must be
reported in. :func:`build_replication_specs` is its public, spec-only view.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence

import attrs
from dagster import AssetCheckSpec, AssetKey, AssetSpec

from typedrepl._dagster_checks import check_specs
from typedrepl._models import Connections, Replication, Table, TableT
from typedrepl._results import TableResult
from typedrepl._translator import ReplicationTranslator, Translator
from typedrepl.errors import TableFailure, TypedReplError

__all__ = [
    "AssetSpecError",
    "DeclaredTable",
    "ReplicationDeclaration",
    "build_replication_specs",
    "declare_replication",
]

Outcome = TableResult | TableFailure
Replicate = Callable[[Connections, Sequence[str], int, logging.Logger | None], Iterator[Outcome]]
"""Runs the named tables, dependencies first, with the given connections, batch size and logger."""

_STEM_LENGTH = 40


class AssetSpecError(TypedReplError, ValueError):
    """The translator's specs cannot become Dagster assets; ``tables`` names the tables."""

    tables: tuple[str, ...]

    def __init__(self, message: str, *, tables: Sequence[str]) -> None:
        self.tables = tuple(tables)
        super().__init__(message)


@attrs.frozen(kw_only=True, eq=False)
class DeclaredTable:
    """One table as a Dagster asset: its spec, output name and checks."""

    table: Table
    spec: AssetSpec
    output_name: str
    """The op output carrying the asset (``[A-Za-z0-9_]+``, whatever the table name)."""
    checks: Mapping[str, AssetCheckSpec]
    """The table's asset checks, by op output name."""

    @property
    def key(self) -> AssetKey:
        """The asset key."""
        return self.spec.key


@attrs.frozen(kw_only=True, eq=False)
class ReplicationDeclaration:
    """A replication's tables as assets, and how to run them; computed once per definition."""

    connections: Connections
    tables: tuple[DeclaredTable, ...]
    replicate: Replicate
    """Runs tables of the replication this declaration was made from, in ``order``
    (dependencies first, whatever order the names are given in)."""
    internal_deps: Mapping[AssetKey, frozenset[AssetKey]]
    """For each key, the keys of this replication it depends on."""
    order: tuple[AssetKey, ...]
    """Every key, dependencies first, otherwise in config order."""
    by_key: Mapping[AssetKey, DeclaredTable]
    by_name: Mapping[str, DeclaredTable]
    all_keys: frozenset[AssetKey]
    """Every key of the replication: those of ``tables``, unless this is a :meth:`part`."""

    def part(self, tables: Sequence[DeclaredTable]) -> ReplicationDeclaration:
        """These tables only (run by one op); the keys of the others stay known.

        A selection may then name the other tables' keys (another op runs them), but
        never a key outside the replication.
        """
        keys = {d.key for d in tables}
        return ReplicationDeclaration(
            connections=self.connections,
            tables=tuple(tables),
            replicate=self.replicate,
            internal_deps={k: self.internal_deps[k] & keys for k in keys},
            order=tuple(k for k in self.order if k in keys),
            by_key={d.key: d for d in tables},
            by_name={d.table.name: d for d in tables},
            all_keys=self.all_keys,
        )

    def parts(self, size: int) -> list[ReplicationDeclaration]:
        """The tables in parts of at most ``size``, in config order, for one op each.

        Tables that depend on each other (directly or not) stay in one part, which
        then may exceed ``size``: an op reports them dependencies first.
        """
        group = _dependency_groups(self.tables, self.internal_deps)
        members: dict[AssetKey, list[DeclaredTable]] = {}
        for entry in self.tables:
            members.setdefault(group[entry.key], []).append(entry)
        parts: list[list[DeclaredTable]] = [[]]
        for tables in members.values():  # groups in the config order of their first table
            if parts[-1] and len(parts[-1]) + len(tables) > size:
                parts.append([])
            parts[-1].extend(tables)
        position = {d.key: i for i, d in enumerate(self.tables)}
        return [self.part(sorted(tables, key=lambda d: position[d.key])) for tables in parts]

    @property
    def keys_by_output_name(self) -> dict[str, AssetKey]:
        """Asset keys by op output name."""
        return {d.output_name: d.key for d in self.tables}

    @property
    def check_specs_by_output_name(self) -> dict[str, AssetCheckSpec]:
        """Check specs by op output name."""
        return {name: spec for d in self.tables for name, spec in d.checks.items()}


def output_name(key: AssetKey) -> str:
    """A valid, stable Dagster name for ``key``: ASCII stem of its last part plus a hash.

    ``raise``, ``with space`` and ``Ünïcode`` are valid asset key parts but not valid
    output names; the hash keeps names unique and never a Python keyword.
    """
    digest = hashlib.sha256(json.dumps(key.path).encode()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9]+", "_", key.path[-1]).strip("_")[:_STEM_LENGTH]
    return f"{stem or 't'}_{digest}"


def _spec_for(translator: Translator[TableT], table: TableT, group_name: str | None) -> AssetSpec:
    try:
        spec = translator.get_asset_spec(table)
    except Exception as exc:
        msg = f"table {table.name!r}: the translator's asset spec is invalid: {exc}"
        raise AssetSpecError(msg, tables=[table.name]) from exc
    if spec.group_name is None and group_name is not None:
        spec = spec.replace_attributes(group_name=group_name)
    return spec


def declare_replication(
    replication: Replication[TableT],
    translator: Translator[TableT] | None = None,
    *,
    asset_checks: bool = False,
    group_name: str | None = None,
) -> ReplicationDeclaration:
    """Every table of ``replication`` as an asset, as ``translator`` describes it.

    Raises:
        AssetSpecError: two tables share a key, a table depends on itself, tables depend
            on each other in a cycle, or the translator failed on a table.
    """
    chosen: Translator[TableT] = (
        ReplicationTranslator[TableT]() if translator is None else translator
    )
    if isinstance(chosen, ReplicationTranslator):
        chosen = chosen.with_replication(replication)

    declared: list[DeclaredTable] = []
    by_key: dict[AssetKey, DeclaredTable] = {}
    by_output: dict[str, DeclaredTable] = {}
    for table in replication.tables:
        spec = _spec_for(chosen, table, group_name)
        name = output_name(spec.key)
        for other in (by_key.get(spec.key), by_output.get(name)):
            if other is not None:
                msg = (
                    f"tables {other.table.name!r} and {table.name!r} both map to the asset key "
                    f"{spec.key.to_user_string()!r}: give one of them another key "
                    "(meta.asset_key, or a translator with other keys)"
                )
                raise AssetSpecError(msg, tables=[other.table.name, table.name])
        checks = check_specs(table, spec.key) if asset_checks else []
        entry = DeclaredTable(
            table=table,
            spec=spec,
            output_name=name,
            checks={f"{name}__{check.name}": check for check in checks},
        )
        declared.append(entry)
        by_key[spec.key] = entry
        by_output[name] = entry

    internal = {
        d.key: frozenset(dep.asset_key for dep in d.spec.deps) & by_key.keys() for d in declared
    }
    for entry in declared:
        if entry.key in internal[entry.key]:
            msg = f"table {entry.table.name!r} depends on its own asset {entry.key.to_user_string()!r}"
            raise AssetSpecError(msg, tables=[entry.table.name])
    order = _topological_order([d.key for d in declared], internal, by_key)
    # iter_replicate runs the selected tables in the order of the replication's tables:
    # given them dependencies first, it loads a table after the tables it depends on
    rank = {by_key[key].table.name: i for i, key in enumerate(order)}
    ordered = tuple(sorted(replication.tables, key=lambda t: rank[t.name]))

    def replicate(
        connections: Connections, names: Sequence[str], batch_size: int, log: logging.Logger | None
    ) -> Iterator[Outcome]:
        from typedrepl._run import iter_replicate

        evolved = attrs.evolve(replication, connections=connections, tables=ordered)
        return iter_replicate(evolved, names, batch_size=batch_size, logger=log, keep_open=True)

    return ReplicationDeclaration(
        connections=replication.connections,
        tables=tuple(declared),
        replicate=replicate,
        internal_deps=internal,
        order=order,
        by_key=by_key,
        by_name={d.table.name: d for d in declared},
        all_keys=frozenset(by_key),
    )


def _topological_order(
    keys: Sequence[AssetKey],
    deps: Mapping[AssetKey, frozenset[AssetKey]],
    by_key: Mapping[AssetKey, DeclaredTable],
) -> tuple[AssetKey, ...]:
    """``keys`` with dependencies first, otherwise in their given order."""
    position = {key: i for i, key in enumerate(keys)}
    missing = {key: len(deps[key]) for key in keys}
    dependents: dict[AssetKey, list[AssetKey]] = {}
    for key in keys:
        for dep in deps[key]:
            dependents.setdefault(dep, []).append(key)
    ready = [position[key] for key in keys if not missing[key]]
    heapq.heapify(ready)
    done: list[AssetKey] = []
    while ready:
        key = keys[heapq.heappop(ready)]
        done.append(key)
        for dependent in dependents.get(key, ()):
            missing[dependent] -= 1
            if not missing[dependent]:
                heapq.heappush(ready, position[dependent])
    if len(done) < len(keys):
        placed = set(done)
        names = [by_key[k].table.name for k in keys if k not in placed]
        msg = f"the assets of tables {', '.join(map(repr, names))} depend on each other in a cycle"
        raise AssetSpecError(msg, tables=names)
    return tuple(done)


def _dependency_groups(
    tables: Sequence[DeclaredTable], deps: Mapping[AssetKey, frozenset[AssetKey]]
) -> dict[AssetKey, AssetKey]:
    """For each key, a key standing for every table it depends on or is depended on by."""
    parent = {d.key: d.key for d in tables}

    def root(key: AssetKey) -> AssetKey:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for entry in tables:
        for dep in deps[entry.key]:
            parent[root(dep)] = root(entry.key)
    return {d.key: root(d.key) for d in tables}


def build_replication_specs(
    replication: Replication[TableT], translator: Translator[TableT] | None = None
) -> list[AssetSpec]:
    """The asset specs of ``replication``'s tables, in config order.

    Args:
        replication: the replication.
        translator: how tables become assets (default: :class:`ReplicationTranslator`).

    Raises:
        AssetSpecError: two tables map to one key (the message names both), a table
            depends on itself or tables depend on each other in a cycle.
    """
    return [d.spec for d in declare_replication(replication, translator).tables]
