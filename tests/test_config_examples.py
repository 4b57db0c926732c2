"""Loading configs as written: the models they give, the sources accepted, the model API."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import yaml

from typedrepl import (
    ColumnType,
    ConfigError,
    ConfigIssue,
    Connections,
    DuckDBConnection,
    LoadMode,
    PostgresConnection,
    Replication,
    Table,
    TableMeta,
    dump_replication,
    load_replication,
    replicate,
)

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE = FIXTURES / "example.yaml"
ROOT = Path(__file__).resolve().parent.parent

EXAMPLE_MODEL = Replication(
    connections=Connections(
        source=DuckDBConnection(connection="example.duckdb"),
        destination=PostgresConnection(
            connection="postgresql://postgres:postgres@localhost/postgres"
        ),
    ),
    tables=[
        Table(name="users", primary_key=("id",)),
        Table(name="products", primary_key=("id",)),
        Table(name="activity", primary_key=("id",)),
    ],
)

CONNECTIONS = """\
connections:
  source:
    type: duckdb
    connection: example.duckdb
  destination:
    type: postgres
    connection: postgresql://postgres:postgres@localhost/postgres
"""


@attrs.frozen(kw_only=True)
class OwnedTable(Table):
    owner: str
    priority: int = 0


def test_the_example_loads_as_written() -> None:
    rep = load_replication(EXAMPLE)
    assert rep == EXAMPLE_MODEL
    assert type(rep.connections.source) is DuckDBConnection
    assert type(rep.connections.destination) is PostgresConnection
    assert [type(t) for t in rep.tables] == [Table, Table, Table]
    users = rep.tables[0]
    assert (users.name, users.primary_key, users.mode) == ("users", ("id",), LoadMode.FULL_REFRESH)
    assert (users.cursor, users.columns, users.source_schema) == (None, None, None)
    assert (users.destination_schema, users.destination_table) == (None, None)
    assert (users.exclude_columns, users.meta, users.target_name) == ((), TableMeta(), "users")
    assert isinstance(rep.tables, tuple)


def test_the_repository_demo_config_has_the_example_connections_and_tables() -> None:
    """The demo (``replication.yaml``) copies the example's tables between the example's
    connections unless the environment says otherwise; it shows off modes and ``meta``."""
    demo = load_replication(ROOT / "replication.yaml", env={})
    assert demo.connections == EXAMPLE_MODEL.connections
    assert [(t.name, t.primary_key) for t in demo.tables] == [
        (t.name, t.primary_key) for t in EXAMPLE_MODEL.tables
    ]
    assert [t.mode for t in demo.tables] == [
        LoadMode.FULL_REFRESH,
        LoadMode.MERGE,
        LoadMode.INCREMENTAL,
    ]
    url = "postgresql://etl:pw@warehouse/dw"
    rep = load_replication(ROOT / "replication.yaml", env={"TYPEDREPL_DESTINATION_URL": url})
    assert rep.connections.destination == PostgresConnection(connection=url)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(EXAMPLE, id="Path"),
        pytest.param(str(EXAMPLE), id="path string"),
        pytest.param(EXAMPLE.read_text(encoding="utf-8"), id="YAML text"),
        pytest.param(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), id="mapping"),
    ],
)
def test_every_kind_of_source_gives_the_same_model(source: str | Path | dict[str, object]) -> None:
    assert load_replication(source) == EXAMPLE_MODEL


def test_a_relative_path_string_is_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "replication.yml").write_bytes(EXAMPLE.read_bytes())
    monkeypatch.chdir(tmp_path)
    assert load_replication("conf/replication.yml") == EXAMPLE_MODEL


def test_issues_from_a_file_name_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_replication(FIXTURES / "mistakes.yaml")
    assert {issue.file for issue in caught.value.issues} == {str(FIXTURES / "mistakes.yaml")}
    with pytest.raises(ConfigError) as from_text:
        load_replication(CONNECTIONS + "tables: []\n")
    assert from_text.value.issues == (
        ConfigIssue(
            path="tables",
            message="the list of tables is empty",
            file="<string>",
            line=8,
            column=9,
        ),
    )


def test_issues_from_a_mapping_have_paths_but_no_positions() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["tables"][1]["mode"] = "merj"
    with pytest.raises(ConfigError) as caught:
        load_replication(data)
    assert caught.value.issues == (
        ConfigIssue(
            path="tables[1].mode",
            message="expected one of full_refresh, append, incremental, merge; got string 'merj' (did you mean 'merge'?)",
        ),
    )
    assert str(caught.value.issues[0]).startswith("<config>: tables[1].mode: expected one of")


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("missing.yaml", id="string ending in .yaml"),
        pytest.param("missing.yml", id="string ending in .yml"),
        pytest.param(Path("missing"), id="Path without suffix"),
    ],
)
def test_file_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str | Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_replication(source)
    assert caught.value.issues == (
        ConfigIssue(path="", message="file not found", file=str(source)),
    )
    assert str(caught.value) == f"invalid replication config (1 error)\n  {source}: file not found"


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_replication(tmp_path)
    (issue,) = caught.value.issues
    assert (issue.file, issue.path, issue.line) == (str(tmp_path), "", None)
    assert issue.message.startswith("cannot read the file: ")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("primary_key: id", ("id",)),
        ("primary_key: [id]", ("id",)),
        ("primary_key: [tenant, id]", ("tenant", "id")),
        ("primary_key:\n      - tenant\n      - id", ("tenant", "id")),
        ("primary_key: []", ()),
        ("mode: append", ()),
    ],
)
def test_primary_key_is_one_column_or_a_list(written: str, expected: tuple[str, ...]) -> None:
    rep = load_replication(CONNECTIONS + f"tables:\n  - name: t\n    {written}\n")
    assert rep.tables[0].primary_key == expected


def test_models_take_one_name_or_a_list_too() -> None:
    assert Table(name="t", primary_key="id").primary_key == ("id",)
    assert Table(name="t", primary_key=["a", "b"]).primary_key == ("a", "b")
    assert Table(name="t", columns=["a"], exclude_columns="b").columns == ("a",)
    assert Table(name="t", exclude_columns="b").exclude_columns == ("b",)
    assert TableMeta(owners="team:x", deps=["a/b"]) == TableMeta(owners=("team:x",), deps=("a/b",))


def test_every_field_loads() -> None:
    rep = load_replication(FIXTURES / "rich.yaml")
    assert rep.connections == Connections(
        source=PostgresConnection(
            connection="postgresql://app:s3cr%40t-pw@db.example.com:5432/shop?sslmode=disable"
        ),
        destination=DuckDBConnection(connection="warehouse.duckdb"),
    )
    shop = TableMeta(group="shop", tags={"team": "data"})
    assert rep.tables == (
        Table(
            name="users",
            primary_key=("id",),
            mode=LoadMode.MERGE,
            source_schema="public",
            destination_table="customers",
            meta=TableMeta(group="shop", tags={"pii": "true"}, owners=("team:crm",)),
        ),
        Table(
            name="order_items",
            primary_key=("order_id", "line"),
            mode=LoadMode.MERGE,
            source_schema="public",
            columns=("order_id", "line", "sku", "quantity", "updated_at"),
            meta=shop,
        ),
        Table(
            name="events",
            mode=LoadMode.INCREMENTAL,
            cursor="created_at",
            source_schema="public",
            exclude_columns=("payload",),
            column_types={"location": ColumnType.TEXT, "attributes": ColumnType.JSON},
            meta=shop,
        ),
        Table(
            name="select",
            mode=LoadMode.APPEND,
            source_schema="public",
            destination_schema="raw",
            meta=shop,
        ),
        Table(
            name="Prices €",
            primary_key=("currency", "valid_from"),
            mode=LoadMode.FULL_REFRESH,
            source_schema="public",
            meta=TableMeta(
                asset_key="shop/prices",
                group="shop",
                description="Price list, one row per currency and day",
                tags={"team": "data"},
                deps=("shop/users",),
            ),
        ),
    )
    assert rep.table("users").target_name == "customers"
    assert load_replication(dump_replication(rep)) == rep


def test_a_table_subclass_loads_with_table_type() -> None:
    text = CONNECTIONS + (
        "defaults:\n"
        "  owner: data-team\n"
        "tables:\n"
        "  - name: users\n"
        "    owner: crm\n"
        "    priority: 2\n"
        "  - name: products\n"
    )
    rep = load_replication(text, table_type=OwnedTable)
    assert rep.tables == (
        OwnedTable(name="users", owner="crm", priority=2),
        OwnedTable(name="products", owner="data-team"),
    )
    assert load_replication(dump_replication(rep), table_type=OwnedTable) == rep
    with pytest.raises(ConfigError) as caught:
        load_replication(text)  # plain Table has no owner
    assert [(i.path, i.message) for i in caught.value.issues] == [
        ("defaults.owner", "unknown key 'owner'"),
        ("tables[0].owner", "unknown key 'owner'"),
        ("tables[0].priority", "unknown key 'priority'"),
    ]


def test_a_table_subclass_reports_its_own_fields() -> None:
    text = (
        CONNECTIONS
        + "tables:\n  - name: users\n    priority: high\n  - name: products\n    ownr: me\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_replication(text, table_type=OwnedTable)
    assert [(i.path, i.message, i.line) for i in caught.value.issues] == [
        ("tables[0]", "missing required key 'owner'", 9),
        ("tables[0].priority", "expected an integer, got string 'high'", 10),
        ("tables[1]", "missing required key 'owner'", 11),
        ("tables[1].ownr", "unknown key 'ownr' (did you mean 'owner'?)", 12),
    ]


def test_select_keeps_config_order_and_names_every_unknown_table() -> None:
    rep = load_replication(EXAMPLE)
    users, products, activity = rep.tables
    assert rep.select(None) == (users, products, activity)
    assert rep.select(["activity", "users"]) == (users, activity)
    assert rep.select(("products",)) == (products,)
    assert rep.select([]) == ()
    with pytest.raises(KeyError) as caught:
        rep.select(["users", "orders", "accounts"])
    assert caught.value.args == ("accounts, orders",)
    with pytest.raises(TypeError, match=r"a list, not one string: use \['users'\]"):
        rep.select("users")  # a str is a Sequence[str] to mypy: caught at run time
    with pytest.raises(TypeError, match="not one string"):
        replicate(rep, tables="users")  # before any connection is opened
    assert rep.table("products") is products
    with pytest.raises(KeyError):
        rep.table("orders")


def test_models_are_frozen() -> None:
    rep = load_replication(FIXTURES / "rich.yaml")
    table = rep.tables[0]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        table.name = "customers"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        table.meta.group = "other"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rep.tables = ()  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rep.connections.source = DuckDBConnection(connection="x.duckdb")  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rep.connections.destination.connection = "other.duckdb"  # type: ignore[misc]
    assert rep == load_replication(FIXTURES / "rich.yaml")
    assert isinstance(rep.tables, tuple)
    assert isinstance(table.primary_key, tuple)


def test_equal_models_hash_equal() -> None:
    first = load_replication(EXAMPLE).tables[0]
    assert hash(first) == hash(Table(name="users", primary_key="id"))
    assert len({first, Table(name="users", primary_key=["id"])}) == 1
