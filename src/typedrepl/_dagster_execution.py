"""The contract between Dagster's selection and the engine's outcomes.

Dagster does not enforce it (a multi-asset may yield nothing for a selected key, or
materialize an unselected one through an ``AssetMaterialization``), so this module does:

- the selection must name at least one declared table or asset check, and only
  declared tables;
- exactly the selected tables are run, and each must report exactly one outcome;
- tables that loaded are materialized, then a ``dagster.Failure`` names every table
  that failed (or reported nothing) with its cause;
- every selected asset check is evaluated: after its table's load, or, when its asset
  is not selected, without loading anything (on the tables as they are).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Set
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

from typedrepl._dagster_checks import evaluate_checks, evaluate_checks_without_load
from typedrepl._dagster_metadata import materialization_metadata, replication_failure
from typedrepl._models import Connection, Connections
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


def selected_tables(
    declaration: ReplicationDeclaration,
    selected: Set[AssetKey],
    checks: Set[AssetCheckKey] = frozenset(),
) -> list[str]:
    """The names of the tables whose assets are ``selected``, in config order.

    For a :meth:`~ReplicationDeclaration.part`, the selected tables of that part: the
    selection may name the replication's other keys (other ops run them). The list is
    empty when only asset checks (``checks``) of the declaration are selected.

    Raises:
        AssetContractError: nothing (of the part) is selected, neither an asset nor one
            of its declared checks, or a selected key is not declared.
    """
    unknown = set(selected) - declaration.all_keys
    if unknown:
        msg = (
            f"selected asset key(s) {_keys_text(unknown)} match no table of this replication "
            f"(its keys: {_keys_text(declaration.all_keys)})"
        )
        raise AssetContractError(msg)
    names = [d.table.name for d in declaration.tables if d.key in selected]
    if not names and not _checks_without_load(declaration, selected, checks):
        msg = (
            "no asset or asset check of this replication is selected: refusing to run an "
            "empty selection"
        )
        raise AssetContractError(msg)
    return names


def _checks_without_load(
    declaration: ReplicationDeclaration, selected: Set[AssetKey], checks: Set[AssetCheckKey]
) -> dict[AssetKey, set[AssetCheckKey]]:
    """The declared checks in ``checks`` whose assets are not selected, by asset key.

    Other checks (of a multi-asset of the user's own) are the user's to evaluate.
    """
    found: dict[AssetKey, set[AssetCheckKey]] = {}
    for entry in declaration.tables:
        if entry.key in selected:
            continue
        for spec in entry.checks.values():
            if spec.key in checks:
                found.setdefault(entry.key, set()).add(spec.key)
    return found


def _guarded(
    entry: DeclaredTable,
    evaluations: Iterable[AssetCheckResult],
    selected: Set[AssetCheckKey],
    secrets: tuple[str, ...],
    log: logging.Logger,
) -> Iterator[AssetCheckResult]:
    """``evaluations``; when they stop on an error, each selected check not yet reported
    of the table fails, with the (redacted) cause."""
    done: set[str] = set()
    try:
        for evaluation in evaluations:
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
                    description=f"The check could not run: {reason}",
                )


def _check_results(
    entry: DeclaredTable,
    result: TableResult,
    destination: Connection,
    selected: Set[AssetCheckKey],
    secrets: tuple[str, ...],
    log: logging.Logger,
) -> Iterator[AssetCheckResult]:
    """The selected checks of ``entry`` after its load."""
    evaluations = evaluate_checks(entry.table, entry.key, result, destination, selected)
    yield from _guarded(entry, evaluations, selected, secrets, log)


def _unloaded_check_results(
    entry: DeclaredTable,
    connections: Connections,
    selected: Set[AssetCheckKey],
    secrets: tuple[str, ...],
    log: logging.Logger,
) -> Iterator[AssetCheckResult]:
    """The selected checks of ``entry``, whose asset is not selected: nothing is loaded."""
    log.info(
        f"table {entry.table.name!r}: evaluating its selected asset checks without a load "
        f"(the asset {entry.key.to_user_string()!r} is not selected)"
    )
    evaluations = evaluate_checks_without_load(entry.table, entry.key, connections, selected, log)
    yield from _guarded(entry, evaluations, selected, secrets, log)


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
    """Run the selected tables; one ``MaterializeResult`` per loaded table, then failures.

    The tables load dependencies first (``declaration.replicate``). Selected checks of
    unselected assets are evaluated after the loads, without loading their tables.
    """
    op_context = context.op_execution_context
    selected = op_context.selected_asset_keys
    selected_checks = op_context.selected_asset_check_keys
    names = selected_tables(declaration, selected, selected_checks)
    checks_by_key: dict[AssetKey, set[AssetCheckKey]] = {}
    for check_key in selected_checks:
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

    if names:
        for outcome in resource._outcomes(declaration, names, context.log):
            reporter.add(outcome)
            yield from release()
        reporter.finish()
        yield from release()
    for key, checks in _checks_without_load(declaration, selected, selected_checks).items():
        entry = declaration.by_key[key]
        yield from _unloaded_check_results(entry, connections, checks, secrets, context.log)
    if reporter.failures:
        keys = {d.table.name: d.key for d in declaration.tables}
        raise replication_failure(reporter.failures, keys, attempted=len(names))


def materialize_table(
    context: OpExecutionContext,
    resource: ReplicationResource,
    declaration: ReplicationDeclaration,
    entry: DeclaredTable,
) -> Iterator[Output[None] | AssetCheckResult]:
    """Run one table (one op of the graph form): its output, its checks, or a failure.

    With only checks of the table selected, they are evaluated without a load.
    """
    selected_checks = {
        spec.key for name, spec in entry.checks.items() if name in context.selected_output_names
    }
    connections = resource._effective_connections(declaration)
    secrets = resource._secrets(declaration)
    if entry.output_name not in context.selected_output_names:
        if not selected_checks:
            msg = (
                f"neither the asset {entry.key.to_user_string()!r} of table "
                f"{entry.table.name!r} nor one of its checks is selected: refusing to run an "
                "empty selection"
            )
            raise AssetContractError(msg)
        yield from _unloaded_check_results(
            entry, connections, selected_checks, secrets, context.log
        )
        return
    reporter = _Reporter(declaration, [entry.table.name])
    for outcome in resource._outcomes(declaration, [entry.table.name], context.log):
        reporter.add(outcome)
    reporter.finish()
    if reporter.failures:
        raise replication_failure(
            reporter.failures,
            {entry.table.name: entry.key},
            attempted=1,
            not_run=_waiting_on(context, declaration, entry),
        )
    ((_, result),) = reporter.ready()
    yield Output(None, output_name=entry.output_name, metadata=materialization_metadata(result))
    yield from _check_results(
        entry, result, connections.destination, selected_checks, secrets, context.log
    )


def _waiting_on(
    context: OpExecutionContext, declaration: ReplicationDeclaration, entry: DeclaredTable
) -> list[tuple[str, AssetKey]]:
    """The tables of this run that depend on ``entry`` (directly or not): their ops wait
    for its op, so Dagster does not run them after it failed."""
    assets = set(context.selected_asset_keys)
    checked = {check.asset_key for check in context.selected_asset_check_keys}
    blocked = {entry.key}
    waiting: list[tuple[str, AssetKey]] = []
    for key in declaration.order:  # dependencies first: one pass finds every dependent
        if declaration.internal_deps[key] & blocked and (key in assets or key in checked):
            waiting.append((declaration.by_key[key].table.name, key))
            if key in assets:  # an op waits only on the asset outputs that are selected
                blocked.add(key)
    return waiting
