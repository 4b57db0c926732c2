"""Translators and asset bodies that return the wrong types."""

from collections.abc import Iterator, Mapping

import dagster as dg

from typedrepl import (
    Replication,
    ReplicationResource,
    ReplicationTranslator,
    Table,
    Translator,
    build_replication_specs,
    replication_assets,
)


class StringKeys(ReplicationTranslator[Table]):
    def get_metadata(self, table: Table) -> Mapping[str, object]:  # E: override
        return {"table": table}


def wrong(replication: Replication[Table]) -> None:
    class NotATranslator:
        def get_asset_key(self, table: Table) -> str:
            return table.name

    translator: Translator[Table] = NotATranslator()  # E: assignment
    build_replication_specs(replication, NotATranslator())  # E: arg-type
    build_replication_specs(replication, translator)

    @replication_assets(replication=replication)  # E: arg-type
    def returns_int(context: dg.AssetExecutionContext, replicator: ReplicationResource) -> int:
        return 1

    @replication_assets(replication=replication)  # E: arg-type
    def no_context(replicator: ReplicationResource) -> Iterator[dg.MaterializeResult[None]]:
        yield dg.MaterializeResult()

    @replication_assets(replication=replication)  # E: arg-type
    def op_context(
        context: str, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None]]:
        yield dg.MaterializeResult()

    @replication_assets(replication=replication)  # E: arg-type
    def yields_output(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.Output[None]]:
        yield dg.Output(None)
