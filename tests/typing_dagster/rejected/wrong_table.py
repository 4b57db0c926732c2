"""A translator for ``MyTable`` used with a ``Replication[Table]``."""

from collections.abc import Iterator

import attrs
import dagster as dg

from typedrepl import (
    Replication,
    ReplicationResource,
    ReplicationTranslator,
    Table,
    Translator,
    build_replication_specs,
    replication_assets,
    replication_graph_assets,
)


@attrs.frozen(kw_only=True)
class MyTable(Table):
    domain: str = "core"


class DomainTranslator(ReplicationTranslator[MyTable]):
    def get_group_name(self, table: MyTable) -> str | None:
        return table.domain


def wrong(replication: Replication[Table]) -> None:
    translator: Translator[Table] = DomainTranslator()  # E: assignment
    # TableT must be Table (the replication) and MyTable (the translator): no solution
    build_replication_specs(replication, translator)
    build_replication_specs(replication, DomainTranslator())  # E: misc
    replication_graph_assets(replication=replication, translator=DomainTranslator())  # E: misc

    @replication_assets(replication=replication, translator=DomainTranslator())  # E: misc
    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)
