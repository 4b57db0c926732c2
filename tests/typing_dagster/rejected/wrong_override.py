"""Overrides whose signatures do not match the translator's."""

import attrs
import dagster as dg

from typedrepl import ReplicationTranslator, Table


@attrs.frozen(kw_only=True)
class MyTable(Table):
    domain: str = "core"


class ExtraParameter(ReplicationTranslator[MyTable]):
    def get_group_name(self, table: MyTable, default: str) -> str | None:  # E: override
        return default


class NarrowerTable(ReplicationTranslator[Table]):
    def get_asset_key(self, table: MyTable) -> dg.AssetKey:  # E: override
        return dg.AssetKey(table.domain)


class WrongReturn(ReplicationTranslator[MyTable]):
    def get_asset_key(self, table: MyTable) -> str:  # E: override
        return table.name


class WrongTags(ReplicationTranslator[MyTable]):
    def get_tags(self, table: MyTable) -> dict[str, int]:  # E: override
        return {"size": 1}


class StringDeps(ReplicationTranslator[MyTable]):
    def get_deps(self, table: MyTable) -> list[str]:  # E: override
        return [table.domain]


class OptionalKey(ReplicationTranslator[MyTable]):
    def get_asset_key(self, table: MyTable) -> dg.AssetKey | None:  # E: override
        return None
