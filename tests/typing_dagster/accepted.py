"""Must pass ``mypy --strict``: the table type flows from the replication into translators and specs.

Checked by ``tests/test_dagster_typing.py`` (and by the project's ``mypy`` run); never imported.
"""

from collections.abc import Iterator, Mapping, Sequence, Set
from typing import assert_type

import attrs
import dagster as dg
from hypothesis import strategies as st

from typedrepl import (
    AssetAutomationCondition,
    Replication,
    ReplicationResource,
    ReplicationTranslator,
    SpecMetadataValue,
    Table,
    Translator,
    build_replication_specs,
    load_replication,
    replication_assets,
    replication_graph_assets,
)
from typedrepl.testing import (
    CheckSummary,
    assert_keys_match_dry_run,
    assert_replication_ok,
    assert_translator_consistent,
    replications,
    tables,
)
from typedrepl.testing import translators as translator_strategies


@attrs.frozen(kw_only=True)
class MyTable(Table):
    domain: str = "core"


class DomainTranslator(ReplicationTranslator[MyTable]):
    """Overrides receive ``MyTable``, with its own fields."""

    def get_group_name(self, table: MyTable) -> str | None:
        assert_type(table, MyTable)
        assert_type(table.domain, str)
        return table.domain

    def get_asset_key(self, table: MyTable) -> dg.AssetKey:
        return dg.AssetKey([table.domain, table.name])

    def get_description(self, t: MyTable) -> str | None:  # the parameter's name is free
        return f"{t.name} ({t.domain})"


class FromScratch:
    """A translator written without the base class: structural typing is enough."""

    def get_asset_key(self, table: MyTable) -> dg.AssetKey:
        return dg.AssetKey(table.name)

    def get_group_name(self, table: MyTable) -> str | None:
        return table.domain

    def get_description(self, table: MyTable) -> str | None:
        return None

    def get_tags(self, table: MyTable) -> Mapping[str, str]:
        return {}

    def get_kinds(self, table: MyTable) -> Set[str]:
        return {"duckdb"}

    def get_owners(self, table: MyTable) -> Sequence[str]:
        return []

    def get_deps(self, table: MyTable) -> Sequence[dg.AssetKey]:
        return []

    def get_metadata(self, table: MyTable) -> Mapping[str, SpecMetadataValue]:
        return {"domain": table.domain, "schema": dg.MetadataValue.json({"a": 1})}

    def get_automation_condition(self, table: MyTable) -> AssetAutomationCondition | None:
        return dg.AutomationCondition.on_cron("0 * * * *")

    def get_asset_spec(self, table: MyTable) -> dg.AssetSpec:
        return dg.AssetSpec(self.get_asset_key(table))


def load() -> Replication[MyTable]:
    replication = load_replication("replication.yaml", table_type=MyTable)
    assert_type(replication, Replication[MyTable])
    assert_type(replication.tables[0], MyTable)
    return replication


def translators(replication: Replication[MyTable]) -> None:
    domain: Translator[MyTable] = DomainTranslator()
    scratch: Translator[MyTable] = FromScratch()
    # a translator for the base Table serves any subclass (contravariance)
    generic: Translator[MyTable] = ReplicationTranslator[Table](key_prefix="raw")
    for translator in (domain, scratch, generic):
        spec = translator.get_asset_spec(replication.tables[0])
        assert_type(spec, dg.AssetSpec)
    assert_type(build_replication_specs(replication, DomainTranslator()), list[dg.AssetSpec])
    assert_type(build_replication_specs(replication, FromScratch()), list[dg.AssetSpec])
    assert_type(build_replication_specs(replication), list[dg.AssetSpec])


def definitions(replication: Replication[MyTable]) -> dg.Definitions:
    @replication_assets(replication=replication, translator=DomainTranslator(), asset_checks=True)
    def tables(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context)

    assert_type(tables, dg.AssetsDefinition)

    @replication_assets(replication=replication, translator=FromScratch(), name="explicit")
    def explicit(
        context: dg.AssetExecutionContext, replicator: ReplicationResource
    ) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
        yield from replicator.run(context, replication, FromScratch())

    graph = replication_graph_assets(replication=replication, translator=DomainTranslator())
    assert_type(graph, dg.AssetsDefinition)
    resource = ReplicationResource(destination_url=dg.EnvVar("TYPEDREPL_DESTINATION_URL"))
    return dg.Definitions(assets=[tables, explicit, graph], resources={"replicator": resource})


def runs(
    context: dg.AssetExecutionContext,
    replicator: ReplicationResource,
    replication: Replication[MyTable],
) -> None:
    """``run`` takes nothing (inside a ``@replication_assets`` body) or the replication."""
    assert_type(replicator.run(context), Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult])
    assert_type(
        replicator.run(context, replication),
        Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult],
    )
    assert_type(
        replicator.run(context, replication, DomainTranslator()),
        Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult],
    )
    assert_type(
        replicator.run(context, replication, translator=None),
        Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult],
    )
    assert_type(
        replicator.run(context, replication=replication, translator=FromScratch()),
        Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult],
    )


def checks(replication: Replication[MyTable]) -> None:
    """The checks of ``typedrepl.testing`` take the translator for the replication's tables."""
    assert_type(translator_strategies(), st.SearchStrategy[ReplicationTranslator[Table]])
    assert_type(translator_strategies(DomainTranslator), st.SearchStrategy[DomainTranslator])
    prefixed = translator_strategies(DomainTranslator, key_prefix=st.just(("raw",)))
    assert_type(prefixed, st.SearchStrategy[DomainTranslator])
    my_replications = replications(tables(MyTable, domain=st.sampled_from(["crm", "erp"])))
    assert_translator_consistent(DomainTranslator(), my_replications)
    assert_translator_consistent(prefixed, my_replications, max_examples=10)
    assert_translator_consistent(translator_strategies(), replication)
    assert_translator_consistent(FromScratch(), [replication], derandomize=True)
    assert_keys_match_dry_run(replication, DomainTranslator())
    assert_keys_match_dry_run("replication.yaml", DomainTranslator())
    assert_keys_match_dry_run("replication.yaml", DomainTranslator(), table_type=MyTable)
    summary = assert_replication_ok("replication.yaml", DomainTranslator(), max_examples=10)
    assert_type(summary, CheckSummary)
    assert_type(assert_replication_ok(replication, FromScratch()), CheckSummary)
