"""A translator for ``OtherTable`` used with a ``Replication[MyTable]``: sibling models."""

from collections.abc import Iterator

import attrs
import dagster as dg
from hypothesis import strategies as st

from typedrepl import (
    Replication,
    ReplicationResource,
    ReplicationTranslator,
    Table,
    build_replication_specs,
    replication_assets,
    replication_graph_assets,
)
from typedrepl.testing import (
    assert_keys_match_dry_run,
    assert_replication_ok,
    assert_translator_consistent,
    replications,
    tables,
    translators,
)


@attrs.frozen(kw_only=True)
class MyTable(Table):
    domain: str = "core"


@attrs.frozen(kw_only=True)
class OtherTable(Table):
    """Neither ``MyTable`` nor a base of it."""

    region: str = "eu"


class RegionTranslator(ReplicationTranslator[OtherTable]):
    def get_group_name(self, table: OtherTable) -> str | None:
        return table.region


def wrong(replication: Replication[MyTable]) -> None:
    # TableT must be MyTable (the replication) and OtherTable (the translator): no solution
    build_replication_specs(replication, RegionTranslator())  # E: misc
    replication_graph_assets(replication=replication, translator=RegionTranslator())  # E: misc

    @replication_assets(replication=replication, translator=RegionTranslator())  # E: misc
    def warehouse(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context, replication, RegionTranslator())  # E: misc


def checks(replication: Replication[MyTable]) -> None:
    my_replications = replications(tables(MyTable, domain=st.just("crm")))
    assert_translator_consistent(RegionTranslator(), my_replications)  # E: misc
    assert_translator_consistent(translators(RegionTranslator), replication)  # E: misc
    assert_keys_match_dry_run(replication, RegionTranslator())  # E: misc
    assert_keys_match_dry_run("replication.yaml", RegionTranslator(), table_type=MyTable)  # E: misc
    assert_replication_ok(replication, RegionTranslator())  # E: misc
