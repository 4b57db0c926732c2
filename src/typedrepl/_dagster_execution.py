"""The contract between Dagster's selection and the engine's outcomes.

Dagster does not enforce it (a multi-asset may yield nothing for a selected key, or
materialize an unselected one through an ``AssetMaterialization``), so this module does:

- the selection must name at least one declared table, and only declared tables;
- exactly the selected tables are run, and each must report exactly one outcome;
- tables that loaded are materialized, then a ``dagster.Failure`` names every table
  that failed (or reported nothing) with its cause.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Set
from typing import TYPE_CHECKING

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    OpExecutionContext,
    Output,
)

from typedrepl._dagster_checks import evaluate_checks
from typedrepl._dagster_metadata import materialization_metadata, replication_failure
from typedrepl._models import Connection
from typedrepl._results import TableResult
from typedrepl._secrets import scrub
from typedrepl._specs import DeclaredTable, ReplicationDeclaration
from typedrepl.errors import TableFailure, TypedReplError

if TYPE_CHECKING:
    from typedrepl._resource import ReplicationResource

__all__ = ["AssetContractError", "materialize_selection", "materialize_table"]

ReplicationEvent = MaterializeResult[None] | AssetCheckResult
_NO_OUTCOME = "the replication reported no outcome for this table"


class AssetContractError(TypedReplError, RuntimeError):
    """A run's selection or outcomes do not match the declared assets."""


def _keys_text(keys: Set[AssetKey]) -> str:
    return ", ".join(sorted(k.to_user_string() for k in keys)) or "(none)"


def selected_tables(declaration: ReplicationDeclaration, selected: Set[AssetKey]) -> list[str]:
    """The names of the tables whose assets are ``selected``, in config order.

    For a :meth:`~ReplicationDeclaration.part`, the selected tables of that part: the
    selection may name the replication's other keys (other ops run them).

    Raises:
        AssetContractError: nothing (of the part) is selected, or a selected key is not
            declared.
    """
    unknown = set(selected) - declaration.all_keys
    if unknown:
        msg = (
            f"selected asset key(s) {_keys_text(unknown)} match no table of this replication "
            f"(its keys: {_keys_text(declaration.all_keys)})"
        )
        raise AssetContractError(msg)
    names = [d.table.name for d in declaration.tables if d.key in selected]
    if not names:
        msg = (
            "no asset of this replication is selected: refusing to run an empty selection "
            "(checks run with their table)"
        )
        raise AssetContractError(msg)
    return names


def _check_results(
    entry: DeclaredTable,
    result: TableResult,
    destination: Connection,
    selected: Set[AssetCheckKey],
    secrets: tuple[str, ...],
    log: logging.Logger,
) -> Iterator[AssetCheckResult]:
    done: set[str] = set()
    try:
        for evaluation in evaluate_checks(entry.table, entry.key, result, destination, selected):
            done.add(str(evaluation.check_name))  # a check's result is reported once
            yield evaluation
    except Exception as exc:  # a check that cannot run fails; the load itself stands
        reason = scrub(f"{type(exc).__name__}: {exc}", secrets)
        log.warning(f"table {entry.table.name!r}: asset checks could not run: {reason}")
        for check in sorted(selected, key=lambda c: c.name):
            if check.asset_key == entry.key and check.name not in done:
                yield AssetCheckResult(
                    asset_key=entry.key,
                    check_name=check.name,
                    passed=False,
                    metadata={"error": MetadataValue.text(reason)},
                )


class _Reporter:
    """Collects outcomes and releases materializations in dependency order."""

    def __init__(self, declaration: ReplicationDeclaration, names: list[str]) -> None:
        self.declaration = declaration
        self.position = {key: i for i, key in enumerate(declaration.order)}
        self.wanted = {declaration.by_name[n].key for n in names}
        self.finished: set[AssetKey] = set()
        self.released: set[AssetKey] = set()
        self.pending: dict[AssetKey, TableResult] = {}
        self.failures: list[TableFailure] = []

    def add(self, outcome: TableResult | TableFailure) -> None:
        entry = self.declaration.by_name.get(outcome.table)
        if entry is None or entry.key not in self.wanted:
            msg = (
                f"the replication reported table {outcome.table!r}, which is not selected "
                f"(selected: {_keys_text(self.wanted)})"
            )
            raise AssetContractError(msg)
        if entry.key in self.finished:
            msg = f"the replication reported table {outcome.table!r} twice"
            raise AssetContractError(msg)
        self.finished.add(entry.key)
        if isinstance(outcome, TableFailure):
            self.failures.append(outcome)
        else:
            self.pending[entry.key] = outcome

    def finish(self) -> None:
        for key in self.wanted - self.finished:
            name = self.declaration.by_key[key].table.name
            self.failures.append(
                TableFailure(table=name, error=_NO_OUTCOME, error_type="AssetContractError")
            )
        self.finished |= self.wanted

    def ready(self) -> Iterator[tuple[DeclaredTable, TableResult]]:
        """Loaded tables whose selected dependencies are done, dependencies first."""
        for key in sorted(self.pending, key=self.position.__getitem__):
            waiting = {
                dep
                for dep in self.declaration.internal_deps[key] & self.wanted
                if dep not in self.finished or dep in self.pending
            }
            if waiting:
                continue
            result = self.pending.pop(key)
            self.released.add(key)
            yield self.declaration.by_key[key], result


def materialize_selection(
    context: AssetExecutionContext,
    resource: ReplicationResource,
    declaration: ReplicationDeclaration,
) -> Iterator[ReplicationEvent]:
    """Run the selected tables; one ``MaterializeResult`` per loaded table, then failures."""
    op_context = context.op_execution_context
    names = selected_tables(declaration, op_context.selected_asset_keys)
    checks_by_key: dict[AssetKey, set[AssetCheckKey]] = {}
    for check_key in op_context.selected_asset_check_keys:
        checks_by_key.setdefault(check_key.asset_key, set()).add(check_key)
    connections = resource._effective_connections(declaration)
    secrets = resource._secrets(declaration)
    reporter = _Reporter(declaration, names)

    def release() -> Iterator[ReplicationEvent]:
        for entry, result in reporter.ready():
            yield MaterializeResult(asset_key=entry.key, metadata=materialization_metadata(result))
            checks = checks_by_key.get(entry.key, set())
            yield from _check_results(
                entry, result, connections.destination, checks, secrets, context.log
            )

    for outcome in resource._outcomes(declaration, names, context.log):
        reporter.add(outcome)
        yield from release()
    reporter.finish()
    yield from release()
    if reporter.failures:
        keys = {d.table.name: d.key for d in declaration.tables}
        raise replication_failure(reporter.failures, keys, attempted=len(names))


def materialize_table(
    context: OpExecutionContext,
    resource: ReplicationResource,
    declaration: ReplicationDeclaration,
    entry: DeclaredTable,
) -> Iterator[Output[None] | AssetCheckResult]:
    """Run one table (one op of the graph form): its output, its checks, or a failure."""
    if entry.output_name not in context.selected_output_names:
        msg = (
            f"the asset {entry.key.to_user_string()!r} of table {entry.table.name!r} is not "
            "selected: refusing to run an empty selection (checks run with their table)"
        )
        raise AssetContractError(msg)
    reporter = _Reporter(declaration, [entry.table.name])
    for outcome in resource._outcomes(declaration, [entry.table.name], context.log):
        reporter.add(outcome)
    reporter.finish()
    if reporter.failures:
        raise replication_failure(reporter.failures, {entry.table.name: entry.key}, attempted=1)
    ((_, result),) = reporter.ready()
    yield Output(None, output_name=entry.output_name, metadata=materialization_metadata(result))
    selected_checks = {
        spec.key for name, spec in entry.checks.items() if name in context.selected_output_names
    }
    destination = resource._effective_connections(declaration).destination
    secrets = resource._secrets(declaration)
    yield from _check_results(entry, result, destination, selected_checks, secrets, context.log)
