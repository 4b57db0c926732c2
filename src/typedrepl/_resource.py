"""``ReplicationResource``: runs the engine for the selected tables inside Dagster."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import overload

import attrs
from dagster import AssetCheckResult, AssetExecutionContext, ConfigurableResource, MaterializeResult
from pydantic import Field

from typedrepl._dagster_binding import current_declaration
from typedrepl._dagster_execution import AssetContractError, materialize_selection
from typedrepl._models import Connection, Connections, Replication, TableT
from typedrepl._results import TableResult
from typedrepl._run import DEFAULT_BATCH_ROWS
from typedrepl._secrets import passwords_in, scrub
from typedrepl._specs import ReplicationDeclaration, declare_replication
from typedrepl._translator import Translator
from typedrepl.errors import TableFailure

__all__ = ["ReplicationResource"]


def _with_connection(connection: Connection, url: str | None) -> Connection:
    return connection if url is None else attrs.evolve(connection, connection=url)


class ReplicationResource(ConfigurableResource["ReplicationResource"]):
    """Runs typedrepl replications for Dagster assets.

    Example::

        @replication_assets(replication=load_replication("replication.yaml"))
        def my_tables(context: AssetExecutionContext, replicator: ReplicationResource):
            yield from replicator.run(context)

        defs = Definitions(
            assets=[my_tables],
            resources={"replicator": ReplicationResource(
                destination_url=EnvVar("TYPEDREPL_DESTINATION_URL"),
            )},
        )

    Connection strings given here (use ``EnvVar`` for them) replace the replication's;
    passwords never appear in metadata, logs or failure messages.
    """

    batch_size: int = Field(
        default=DEFAULT_BATCH_ROWS, gt=0, description="Rows per batch read from the source."
    )
    source_url: str | None = Field(
        default=None,
        description="Replaces the source connection string of the replication (use EnvVar).",
    )
    destination_url: str | None = Field(
        default=None,
        description="Replaces the destination connection string of the replication (use EnvVar).",
    )

    @overload
    def run(
        self, context: AssetExecutionContext
    ) -> Iterator[MaterializeResult[None] | AssetCheckResult]: ...

    @overload
    def run(
        self,
        context: AssetExecutionContext,
        replication: Replication[TableT],
        translator: Translator[TableT] | None = None,
    ) -> Iterator[MaterializeResult[None] | AssetCheckResult]: ...

    def run(
        self,
        context: AssetExecutionContext,
        replication: Replication[TableT] | None = None,
        translator: Translator[TableT] | None = None,
    ) -> Iterator[MaterializeResult[None] | AssetCheckResult]:
        """Replicate the selected tables; one ``MaterializeResult`` per table that loaded.

        Inside a ``@replication_assets`` body, call ``run(context)``: the replication and
        translator are the decorator's. Elsewhere (a ``@multi_asset`` of your own built
        with :func:`build_replication_specs`), pass both. A translator without its
        replication is a type error (and a ``TypeError`` for untyped callers).

        Raises:
            dagster.Failure: after the loaded tables are reported, naming each table that
                failed and why.
            AssetContractError: the selection is empty or names an undeclared asset.
            TypeError: a translator is given without its replication.
        """
        if replication is not None:
            declaration = declare_replication(replication, translator, asset_checks=True)
        elif translator is not None:
            msg = "run(): a translator was given without its replication"
            raise TypeError(msg)
        else:
            found = current_declaration()
            if found is None:
                msg = (
                    "ReplicationResource.run(context) works inside a @replication_assets body; "
                    "elsewhere pass the replication (and translator) explicitly"
                )
                raise AssetContractError(msg)
            declaration = found
        yield from materialize_selection(context, self, declaration)

    def _effective_connections(self, declaration: ReplicationDeclaration) -> Connections:
        """The replication's connections with this resource's overrides applied."""
        conns = declaration.connections
        return Connections(
            source=_with_connection(conns.source, self.source_url),
            destination=_with_connection(conns.destination, self.destination_url),
        )

    def _secrets(self, declaration: ReplicationDeclaration) -> tuple[str, ...]:
        """Every password the run knows of, to scrub from messages."""
        conns = declaration.connections
        found = [*conns.source.secrets, *conns.destination.secrets]
        for url in (self.source_url, self.destination_url):
            if url is not None:
                found.extend(passwords_in(url))
        return tuple(dict.fromkeys(found))

    def _outcomes(
        self, declaration: ReplicationDeclaration, names: Sequence[str], log: logging.Logger
    ) -> Iterator[TableResult | TableFailure]:
        """Run the named tables; each outcome once, failures redacted.

        An error that stops the engine itself (not one table) fails every table that
        has not reported yet, with the redacted error as the cause.
        """
        connections = self._effective_connections(declaration)
        secrets = self._secrets(declaration)
        reported: set[str] = set()
        try:
            for outcome in declaration.replicate(connections, names, self.batch_size, log):
                reported.add(outcome.table)
                if isinstance(outcome, TableFailure):
                    outcome = attrs.evolve(outcome, error=scrub(outcome.error, secrets))
                yield outcome
        except Exception as exc:  # the engine stopped: every table not reported failed
            reason = scrub(str(exc), secrets) or type(exc).__name__
            log.error(f"the replication stopped: {type(exc).__name__}: {reason}")
            for name in names:
                if name not in reported:
                    yield TableFailure(table=name, error=reason, error_type=type(exc).__name__)
