"""How a table becomes a Dagster asset: the :class:`Translator` protocol and its default.

A translator is generic in the table model: a translator written for ``MyTable`` receives
``MyTable`` (with its own fields) and can only be used with a ``Replication[MyTable]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Generic, Protocol, Self, TypeAlias, TypeVar

import attrs
from dagster import AssetKey, AssetOrCheckKey, AssetSpec, AutomationCondition, MetadataValue

from typedrepl._models import Replication, Table, TableT

__all__ = ["AssetAutomationCondition", "ReplicationTranslator", "SpecMetadataValue", "Translator"]

TableT_contra = TypeVar("TableT_contra", bound=Table, contravariant=True)

SpecMetadataValue: TypeAlias = MetadataValue | str | int | float | bool | None
"""A JSON-safe metadata value: a Dagster ``MetadataValue`` or a plain scalar."""

AssetAutomationCondition: TypeAlias = (
    AutomationCondition[AssetKey] | AutomationCondition[AssetOrCheckKey]
)
"""An automation condition for an asset (``AutomationCondition.eager()`` and the like)."""


class Translator(Protocol[TableT_contra]):
    """Turns one table of a replication into the asset that represents it.

    :class:`ReplicationTranslator` implements every method; subclass it and override
    the ones you need. Asset keys must be unique across the replication's tables.
    """

    def get_asset_key(self, table: TableT_contra, /) -> AssetKey:
        """The asset's key."""
        ...

    def get_group_name(self, table: TableT_contra, /) -> str | None:
        """The asset group (``None``: Dagster's ``default`` group)."""
        ...

    def get_description(self, table: TableT_contra, /) -> str | None:
        """The asset's description."""
        ...

    def get_tags(self, table: TableT_contra, /) -> Mapping[str, str]:
        """The asset's tags."""
        ...

    def get_kinds(self, table: TableT_contra, /) -> Set[str]:
        """The asset's kinds (icons in the UI; at most three)."""
        ...

    def get_owners(self, table: TableT_contra, /) -> Sequence[str]:
        """The asset's owners: e-mail addresses or ``team:name``."""
        ...

    def get_deps(self, table: TableT_contra, /) -> Sequence[AssetKey]:
        """The assets this table's asset depends on."""
        ...

    def get_metadata(self, table: TableT_contra, /) -> Mapping[str, SpecMetadataValue]:
        """The asset's definition metadata: JSON-safe values only, never secrets."""
        ...

    def get_automation_condition(self, table: TableT_contra, /) -> AssetAutomationCondition | None:
        """When Dagster should materialize the asset on its own (``None``: never)."""
        ...

    def get_asset_spec(self, table: TableT_contra, /) -> AssetSpec:
        """The whole asset spec; the default implementation composes the methods above."""
        ...


def _key_prefix(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"raw/pg"`` -> ``("raw", "pg")``; a list of segments is kept as it is."""
    if isinstance(value, str):
        return tuple(AssetKey.from_user_string(value).path) if value else ()
    return tuple(value)


def _opt_frozenset(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _frozenset(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _str_tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen(kw_only=True)
class ReplicationTranslator(Generic[TableT]):
    """The default translator; subclass it to change any part of the assets.

    Defaults, for a table ``t``:

    - key: ``[*key_prefix, t.name]``; ``t.meta.asset_key`` (``"a/b"``) replaces it;
    - group: ``t.meta.group``, else ``group_name``;
    - tags: ``tags`` updated with ``t.meta.tags``; owners: ``t.meta.owners``, else ``owners``;
    - description: ``t.meta.description``, else a sentence naming the table and the mode;
    - deps: ``t.meta.deps`` (each ``"a/b"``);
    - kinds: ``kinds``, else the source and destination types (``{"duckdb", "postgres"}``);
    - metadata: the table name, mode, destination table and primary key (no connections).

    Example::

        @attrs.frozen(kw_only=True)
        class MyTable(Table):
            domain: str = "core"

        class MyTranslator(ReplicationTranslator[MyTable]):
            def get_group_name(self, table: MyTable) -> str | None:
                return table.domain
    """

    key_prefix: tuple[str, ...] = attrs.field(default=(), converter=_key_prefix)
    """Segments put before the table name in the default key (``"raw/pg"`` or a list)."""
    group_name: str | None = None
    """The group of tables whose ``meta`` names none."""
    kinds: frozenset[str] | None = attrs.field(default=None, converter=_opt_frozenset)
    """The kinds of every asset; ``None``: the source and destination types."""
    tags: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    """Tags of every asset (a table's ``meta.tags`` win)."""
    owners: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    """Owners of tables whose ``meta`` names none."""
    connection_kinds: frozenset[str] = attrs.field(default=frozenset(), converter=_frozenset)
    """The replication's source and destination types; set by :meth:`with_replication`."""

    def with_replication(self, replication: Replication[TableT]) -> Self:
        """This translator, knowing the replication's connection types (for the kinds)."""
        conns = replication.connections
        return attrs.evolve(self, connection_kinds={conns.source.type, conns.destination.type})

    def get_asset_key(self, table: TableT, /) -> AssetKey:
        """``table.meta.asset_key`` if set, else ``[*key_prefix, table.name]``."""
        if table.meta.asset_key is not None:
            return AssetKey.from_user_string(table.meta.asset_key)
        return AssetKey([*self.key_prefix, table.name])

    def get_group_name(self, table: TableT, /) -> str | None:
        """``table.meta.group``, else ``group_name``."""
        return table.meta.group if table.meta.group is not None else self.group_name

    def get_description(self, table: TableT, /) -> str | None:
        """``table.meta.description``, else which table is copied where, and how."""
        if table.meta.description is not None:
            return table.meta.description
        return (
            f"Replica of the table {table.name!r} in {_destination_name(table)!r} "
            f"(mode {table.mode.value})."
        )

    def get_tags(self, table: TableT, /) -> Mapping[str, str]:
        """``tags`` updated with ``table.meta.tags``."""
        return {**self.tags, **table.meta.tags}

    def get_kinds(self, table: TableT, /) -> Set[str]:
        """``kinds``, else the source and destination types."""
        return self.kinds if self.kinds is not None else self.connection_kinds

    def get_owners(self, table: TableT, /) -> Sequence[str]:
        """``table.meta.owners``, else ``owners``."""
        return table.meta.owners or self.owners

    def get_deps(self, table: TableT, /) -> Sequence[AssetKey]:
        """``table.meta.deps``, each read as ``a/b/c``."""
        return [AssetKey.from_user_string(dep) for dep in table.meta.deps]

    def get_metadata(self, table: TableT, /) -> Mapping[str, SpecMetadataValue]:
        """The table's name, mode, destination table and primary key."""
        metadata: dict[str, SpecMetadataValue] = {
            "typedrepl/table": table.name,
            "typedrepl/mode": table.mode.value,
            "typedrepl/destination_table": _destination_name(table),
        }
        if table.primary_key:
            metadata["typedrepl/primary_key"] = MetadataValue.json(list(table.primary_key))
        if table.cursor is not None:
            metadata["typedrepl/cursor_column"] = table.cursor
        return metadata

    def get_automation_condition(self, table: TableT, /) -> AssetAutomationCondition | None:
        """None: the assets are materialized only when asked."""
        return None

    def get_asset_spec(self, table: TableT, /) -> AssetSpec:
        """The spec composed of the other methods' answers."""
        return AssetSpec(
            key=self.get_asset_key(table),
            deps=self.get_deps(table),
            description=self.get_description(table),
            metadata=self.get_metadata(table),
            group_name=self.get_group_name(table),
            automation_condition=self.get_automation_condition(table),
            owners=self.get_owners(table),
            tags=self.get_tags(table),
            kinds=set(self.get_kinds(table)),
            skippable=True,
        )


def _destination_name(table: Table) -> str:
    """``schema.table`` when the destination schema is set, else the table's name."""
    if table.destination_schema is None:
        return table.target_name
    return f"{table.destination_schema}.{table.target_name}"
