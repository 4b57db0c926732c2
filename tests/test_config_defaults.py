"""The ``defaults`` block: any table field, set once for every table."""

from __future__ import annotations

import attrs
import pytest

from typedrepl import ConfigError, LoadMode, Table, TableMeta, load_replication

CONNECTIONS = """\
connections:
  source: {type: duckdb, connection: a.duckdb}
  destination: {type: postgres, connection: "postgresql://u:pw@localhost/db"}
"""


def issues_of(text: str) -> list[tuple[str, str, int | None]]:
    with pytest.raises(ConfigError) as caught:
        load_replication(text)
    return [(i.path, i.message, i.line) for i in caught.value.issues]


def test_defaults_set_fields_for_every_table_and_table_values_win() -> None:
    text = CONNECTIONS + (
        "defaults:\n"
        "  mode: merge\n"
        "  primary_key: id\n"
        "  source_schema: app\n"
        "  destination_schema: raw\n"
        "  exclude_columns: [secret]\n"
        "tables:\n"
        "  - name: users\n"
        "  - name: events\n"
        "    mode: incremental\n"
        "    primary_key: []\n"
        "    cursor: ts\n"
        "    destination_schema: events\n"
        "  - name: orders\n"
        "    primary_key: [tenant, id]\n"
        "    exclude_columns: []\n"
    )
    users, events, orders = load_replication(text).tables
    assert users == Table(
        name="users",
        mode=LoadMode.MERGE,
        primary_key=("id",),
        source_schema="app",
        destination_schema="raw",
        exclude_columns=("secret",),
    )
    assert events == Table(
        name="events",
        mode=LoadMode.INCREMENTAL,
        cursor="ts",
        source_schema="app",
        destination_schema="events",
        exclude_columns=("secret",),
    )
    assert orders == Table(
        name="orders",
        mode=LoadMode.MERGE,
        primary_key=("tenant", "id"),
        source_schema="app",
        destination_schema="raw",
    )


def test_meta_blocks_merge_key_by_key() -> None:
    text = CONNECTIONS + (
        "defaults:\n"
        "  meta:\n"
        "    group: shop\n"
        "    owners: [team:data]\n"
        "    tags: {tier: gold}\n"
        "tables:\n"
        "  - name: users\n"
        "    meta:\n"
        "      description: Customers\n"
        "      owners: [team:crm]\n"
        "  - name: orders\n"
        "    meta:\n"
        "      tags: {pii: 'no'}\n"
        "  - name: items\n"
    )
    users, orders, items = load_replication(text).tables
    assert users.meta == TableMeta(
        group="shop", description="Customers", owners=("team:crm",), tags={"tier": "gold"}
    )
    # a key the table sets replaces the default's value whole (tags are not merged)
    assert orders.meta == TableMeta(group="shop", owners=("team:data",), tags={"pii": "no"})
    assert items.meta == TableMeta(group="shop", owners=("team:data",), tags={"tier": "gold"})


def test_a_default_is_not_a_table() -> None:
    rep = load_replication(CONNECTIONS + "defaults: {}\ntables: [{name: t}]\n")
    assert rep.tables == (Table(name="t"),)


@pytest.mark.parametrize(
    ("defaults", "expected"),
    [
        (
            "  mode: 5\n",
            [
                (
                    "defaults.mode",
                    "expected one of full_refresh, append, incremental, merge; got integer 5",
                    5,
                )
            ],
        ),
        (
            "  primary_key: {a: 1}\n",
            [
                (
                    "defaults.primary_key",
                    "expected a name or a list of names, got mapping {'a': 1}",
                    5,
                )
            ],
        ),
        ("  cursor: [ts]\n", [("defaults.cursor", "expected a string, got list ['ts']", 5)]),
        (
            "  meta: {group: 3, tags: [x]}\n",
            [
                ("defaults.meta.group", "expected a string, got integer 3", 5),
                ("defaults.meta.tags", "expected a mapping of strings, got list ['x']", 5),
            ],
        ),
        ("  meta: shop\n", [("defaults.meta", "expected a mapping, got string 'shop'", 5)]),
        ("  name: x\n", [("defaults.name", "'name' cannot have a default", 5)]),
        ("  mod: merge\n", [("defaults.mod", "unknown key 'mod' (did you mean 'mode'?)", 5)]),
        (
            "  [a, b]\n",
            [("defaults", "expected a mapping of table fields, got list ['a', 'b']", 5)],
        ),
    ],
)
def test_errors_in_defaults_are_reported_at_defaults(
    defaults: str, expected: list[tuple[str, str, int]]
) -> None:
    tables = "tables:\n  - name: a\n  - name: b\n"
    assert issues_of(CONNECTIONS + "defaults:\n" + defaults + tables) == expected


def test_a_wrong_default_is_reported_even_when_every_table_overrides_it() -> None:
    text = CONNECTIONS + "defaults:\n  mode: 5\ntables:\n  - name: a\n    mode: append\n"
    assert issues_of(text) == [
        (
            "defaults.mode",
            "expected one of full_refresh, append, incremental, merge; got integer 5",
            5,
        )
    ]


def test_checks_failed_by_a_default_name_each_table() -> None:
    text = CONNECTIONS + (
        "defaults:\n"
        "  mode: merge\n"
        "tables:\n"
        "  - name: users\n"
        "    primary_key: id\n"
        "  - name: events\n"
        "  - name: orders\n"
        "    mode: append\n"
        "  - name: items\n"
    )
    assert issues_of(text) == [
        (
            "defaults.mode",
            "mode 'merge' needs a primary_key (the columns rows are matched on); used by tables[1] ('events')",
            5,
        ),
        (
            "defaults.mode",
            "mode 'merge' needs a primary_key (the columns rows are matched on); used by tables[3] ('items')",
            5,
        ),
    ]


def test_a_default_cursor_needs_incremental_tables() -> None:
    text = CONNECTIONS + (
        "defaults:\n  cursor: updated_at\n"
        "tables:\n  - {name: a, mode: incremental}\n  - {name: b}\n  - {name: c, mode: merge, primary_key: id}\n"
    )
    assert issues_of(text) == [
        (
            "defaults.cursor",
            "a cursor is used only by mode 'incremental', not 'full_refresh'; used by tables[1] ('b')",
            5,
        ),
        (
            "defaults.cursor",
            "a cursor is used only by mode 'incremental', not 'merge'; used by tables[2] ('c')",
            5,
        ),
    ]


@attrs.frozen(kw_only=True)
class OwnedTable(Table):
    owner: str
    priority: int = 0


def test_defaults_cover_the_fields_of_a_table_subclass() -> None:
    text = CONNECTIONS + (
        "defaults:\n  owner: data\n  priority: 1\n"
        "tables:\n  - name: a\n  - name: b\n    owner: crm\n"
    )
    rep = load_replication(text, table_type=OwnedTable)
    assert rep.tables == (
        OwnedTable(name="a", owner="data", priority=1),
        OwnedTable(name="b", owner="crm", priority=1),
    )
    bad = text.replace("priority: 1", "priority: high")
    with pytest.raises(ConfigError) as caught:
        load_replication(bad, table_type=OwnedTable)
    assert [(i.path, i.message, i.line) for i in caught.value.issues] == [
        ("defaults.priority", "expected an integer, got string 'high'", 6),
    ]
