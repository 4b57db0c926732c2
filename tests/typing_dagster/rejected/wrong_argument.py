"""Calls that pass a translator the wrong way."""

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
)
from typedrepl.testing import assert_translator_consistent, translators


@attrs.frozen(kw_only=True)
class MyTable(Table):
    domain: str = "core"


class DomainTranslator(ReplicationTranslator[MyTable]):
    def get_group_name(self, table: MyTable) -> str | None:
        return table.domain


def wrong(replication: Replication[MyTable]) -> None:
    build_replication_specs(replication, DomainTranslator)  # E: arg-type
    translators(DomainTranslator, key_prefix=("raw",))  # E: call-overload
    assert_translator_consistent(translators, replication)  # E: arg-type
    assert_translator_consistent(st.just(DomainTranslator), replication)  # E: arg-type

    @replication_assets(replication=replication)
    def warehouse(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        # the replication's translator comes with the replication, never alone
        yield from replicator.run(context, translator=DomainTranslator())  # E: call-overload
