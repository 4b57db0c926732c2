"""Properties of configs: generated ones load, dump and load back equal; broken ones say where.

Hypothesis runs each property on fresh examples every time (no ``derandomize``); a failure
is saved in the example database and replayed first on the next run.
"""

from __future__ import annotations

import copy
import difflib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import attrs
import pytest
import yaml
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from typedrepl import (
    ColumnType,
    ConfigError,
    Connections,
    DuckDBConnection,
    LoadMode,
    PostgresConnection,
    Replication,
    ReplicationTranslator,
    Table,
    TableMeta,
    dump_replication,
    load_replication,
)
from typedrepl.testing import (
    SQL_KEYWORDS,
    connections,
    identifier_key,
    identifiers,
    replications,
    subsets,
    tables,
    translators,
)

FIXTURES = Path(__file__).parent / "fixtures"
RICH = (FIXTURES / "rich.yaml").read_text(encoding="utf-8")

PROPERTY = settings(max_examples=200, deadline=None)
# find() an example, without shrinking it (shrinking a replication is slow and not the point)
FIND = settings(max_examples=2000, database=None, phases=[Phase.generate], deadline=None)


@attrs.frozen(kw_only=True)
class OwnedTable(Table):
    owner: str
    priority: int = 0


owned_tables = tables(OwnedTable, owner=st.text(max_size=20), priority=st.integers(-5, 5))


# --------------------------------------------------------------------------- round trip


@PROPERTY
@given(replications())
def test_dump_then_load_gives_an_equal_replication(rep: Replication[Table]) -> None:
    # what replications() promises: unique names and destination tables, 1 to 5 tables
    names = [identifier_key(t.name) for t in rep.tables]
    assert len(set(names)) == len(names)
    targets = [(t.destination_schema, t.target_name) for t in rep.tables]
    assert len(set(targets)) == len(targets)
    assert 1 <= len(rep.tables) <= 5

    text = dump_replication(rep)
    loaded = load_replication(text)
    assert loaded == rep
    assert [type(t) for t in loaded.tables] == [Table] * len(rep.tables)
    assert dump_replication(loaded) == text  # and the dump is stable
    # the dumped YAML, read as a plain mapping, loads the same way
    assert load_replication(yaml.safe_load(text), env={}) == rep


@PROPERTY
@given(replications(owned_tables))
def test_round_trip_keeps_a_table_subclass(rep: Replication[OwnedTable]) -> None:
    loaded = load_replication(dump_replication(rep), table_type=OwnedTable)
    assert loaded == rep
    assert all(type(t) is OwnedTable for t in loaded.tables)
    assert [t.owner for t in loaded.tables] == [t.owner for t in rep.tables]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replications(max_tables=3))
def test_round_trip_through_a_file(rep: Replication[Table]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "replication.yaml"
        path.write_text(dump_replication(rep), encoding="utf-8")
        assert load_replication(path) == rep
        assert load_replication(str(path)) == rep


# --------------------------------------------------------------------------- the strategies


@settings(max_examples=300, deadline=None)
@given(identifiers())
def test_identifiers_fit_postgres(name: str) -> None:
    assert name
    assert "\x00" not in name
    assert len(name.encode()) <= 63


@settings(max_examples=100, deadline=None)
@given(identifiers(max_bytes=200))
def test_identifiers_can_be_longer_on_request(name: str) -> None:
    assert 0 < len(name.encode()) <= 200


@pytest.mark.parametrize(
    ("what", "predicate"),
    [
        ("a plain lower-case name", lambda s: s.isidentifier() and s.islower() and s.isascii()),
        ("an SQL keyword", lambda s: s.lower() in {"select", "order", "user", "from", "table"}),
        ("a keyword in upper case", lambda s: s.isupper() and s.lower() in SQL_KEYWORDS),
        ("a double quote", lambda s: '"' in s),
        ("a single quote", lambda s: "'" in s),
        ("a space", lambda s: " " in s),
        ("a dot", lambda s: "." in s),
        ("a dollar sign", lambda s: "$" in s),
        ("mixed case", lambda s: s != s.lower() and s != s.upper()),
        ("a non-ASCII letter", lambda s: any(c.isalpha() and not c.isascii() for c in s)),
        ("an emoji", lambda s: any(0x1F300 <= ord(c) <= 0x1FAFF for c in s)),
        ("a YAML look-alike", lambda s: s in {"yes", "null", "1e3", "~", "true", "No"}),
        ("exactly 63 bytes", lambda s: len(s.encode()) == 63),
    ],
)
def test_identifiers_cover_the_awkward_cases(what: str, predicate: Callable[[str], bool]) -> None:
    found = find(identifiers(), predicate, settings=FIND)
    assert predicate(found), what


@settings(max_examples=100, deadline=None)
@given(tables())
def test_generated_tables_have_what_their_mode_needs(table: Table) -> None:
    assert type(table) is Table
    if table.mode is LoadMode.MERGE:
        assert table.primary_key
    assert (table.cursor is not None) == (table.mode is LoadMode.INCREMENTAL)
    needed = {*table.primary_key, *([table.cursor] if table.cursor else [])}
    assert len(set(table.primary_key)) == len(table.primary_key)
    if table.columns is not None:
        assert needed <= set(table.columns)
        assert not table.exclude_columns
    assert needed.isdisjoint(table.exclude_columns)
    # overrides name copied columns, never the cursor, and a key column only as text
    copied = set(table.columns) if table.columns is not None else None
    for name, kind in table.column_types.items():
        assert type(kind) is ColumnType
        assert name != table.cursor
        assert name not in table.exclude_columns
        assert copied is None or name in copied
        assert name not in table.primary_key or kind is ColumnType.TEXT


@settings(max_examples=30, deadline=None)
@given(tables(OwnedTable, owner=st.just("crm")))
def test_tables_of_a_subclass_use_the_given_strategies(table: OwnedTable) -> None:
    assert type(table) is OwnedTable
    assert (table.owner, table.priority) == ("crm", 0)  # priority: its default


class _Badge:
    """A type the config loader has no rule for: values of it are not checked."""


@attrs.frozen(kw_only=True)
class BadgedTable(Table):
    badge: _Badge | None = None


@pytest.mark.parametrize(
    ("strategy", "refusal"),
    [
        (
            st.integers(),
            r"the strategy for 'owner' drew \d+, which a config cannot hold for owner: str",
        ),
        (
            st.just(None),
            r"the strategy for .owner. drew None, which a config cannot hold for owner: str",
        ),
    ],
)
def test_tables_refuses_a_strategy_of_the_wrong_type_when_drawn(
    strategy: st.SearchStrategy[object], refusal: str
) -> None:
    """mypy takes ``owner=st.integers()`` (strategies are passed by field name): the
    first example drawn is refused, as a config would be."""
    with pytest.raises(TypeError, match=r"^tables\(OwnedTable\): " + refusal):
        find(tables(OwnedTable, owner=strategy), lambda _: True, settings=FIND)


def test_tables_refuses_a_priority_a_config_would_load_otherwise() -> None:
    with pytest.raises(TypeError, match=r"the strategy for 'priority' drew True"):
        find(
            tables(OwnedTable, owner=st.text(), priority=st.just(True)),
            lambda _: True,
            settings=FIND,
        )


def test_tables_leaves_a_field_of_a_type_configs_cannot_hold_unchecked() -> None:
    badge = _Badge()
    table = find(tables(BadgedTable, badge=st.just(badge)), lambda _: True, settings=FIND)
    assert table.badge is badge


def test_tables_refuses_what_it_cannot_build() -> None:
    with pytest.raises(TypeError, match="needs a strategy for 'owner'"):
        tables(OwnedTable)
    with pytest.raises(TypeError, match="has no extra field"):
        tables(OwnedTable, owner=st.text(), colour=st.text())
    with pytest.raises(TypeError, match="has no extra field"):
        tables(OwnedTable, owner=st.text(), name=st.text())  # a field of Table itself
    with pytest.raises(TypeError, match="unexpected keyword argument 'grup_name'"):
        translators(ReplicationTranslator, grup_name=st.text())  # at once, not when drawn
    with pytest.raises(ValueError, match="min_tables"):
        replications(min_tables=0)
    with pytest.raises(ValueError, match="max_bytes"):
        identifiers(max_bytes=3)


@pytest.mark.parametrize(
    ("what", "predicate"),
    [
        ("every load mode", lambda r: {t.mode for t in r.tables} == set(LoadMode)),
        ("a composite merge key", lambda r: any(t.mode is LoadMode.MERGE and len(t.primary_key) > 1 for t in r.tables)),
        ("duckdb to postgres", lambda r: (r.connections.source.type, r.connections.destination.type) == ("duckdb", "postgres")),
        ("postgres to duckdb", lambda r: (r.connections.source.type, r.connections.destination.type) == ("postgres", "duckdb")),
        ("a password in a URL", lambda r: any("://" in c.connection and c.secrets for c in (r.connections.source, r.connections.destination))),
        ("a password in key=value form", lambda r: any("password=" in c.connection and "://" not in c.connection for c in (r.connections.source, r.connections.destination))),
        ("a renamed table in a schema", lambda r: any(t.destination_table and t.destination_schema for t in r.tables)),
        ("Dagster metadata", lambda r: any(t.meta != TableMeta() for t in r.tables)),
        ("column type overrides", lambda r: any(set(t.column_types.values()) == set(ColumnType) for t in r.tables)),
        ("a key column read as text", lambda r: any(set(t.column_types) & set(t.primary_key) for t in r.tables)),
    ],
)  # fmt: skip
def test_replications_cover_the_features(
    what: str, predicate: Callable[[Replication[Table]], bool]
) -> None:
    found = find(replications(), predicate, settings=FIND)
    assert predicate(found), what


@settings(max_examples=100, deadline=None)
@given(connections())
def test_generated_connections_parse_and_postgres_ones_hold_a_masked_password(
    conns: Connections,
) -> None:
    for connection in (conns.source, conns.destination):
        assert connection.check() is None
        if isinstance(connection, PostgresConnection):
            assert connection.secrets
            assert conninfo_to_dict(connection.connection)["password"] in connection.secrets
            assert connection.display.count("***") == 1
            assert "***" in repr(connection)
        else:
            assert isinstance(connection, DuckDBConnection)
            assert connection.display == connection.connection


@settings(max_examples=50, deadline=None)
@given(st.data(), replications())
def test_subsets_select_those_tables_in_config_order(
    data: st.DataObject, rep: Replication[Table]
) -> None:
    names = data.draw(subsets(rep))
    assert len(set(names)) == len(names)
    selected = rep.select(names)
    assert {t.name for t in selected} == set(names)
    assert list(selected) == [t for t in rep.tables if t.name in set(names)]
    some = data.draw(subsets(rep, min_size=1))
    assert some


# --------------------------------------------------------------------------- mutations

Key = str | int
Where = tuple[Key, ...]


@dataclass(frozen=True)
class Mutation:
    """One way to break a config, and where the loader must say it is broken."""

    description: str
    apply: Callable[[dict[str, object]], None]
    issue_path: str  # the ConfigIssue.path expected
    message: str  # a prefix of the expected message
    anchor: Where  # the YAML node the issue's line must point at (its key or value line)


def _format(where: Where) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _get(data: object, where: Where) -> object:
    for part in where:
        if isinstance(part, int):
            assert isinstance(data, list)
            data = data[part]
        else:
            assert isinstance(data, dict)
            data = data[part]
    return data


def _set(where: Where, value: object) -> Callable[[dict[str, object]], None]:
    def apply(data: dict[str, object]) -> None:
        parent, last = _get(data, where[:-1]), where[-1]
        if isinstance(last, int):
            assert isinstance(parent, list)
            parent[last] = value
        else:
            assert isinstance(parent, dict)
            parent[last] = value

    return apply


def _remove(where: Where) -> Callable[[dict[str, object]], None]:
    def apply(data: dict[str, object]) -> None:
        parent = _get(data, where[:-1])
        assert isinstance(parent, dict)
        del parent[where[-1]]

    return apply


def _rename(where: Where, new: str) -> Callable[[dict[str, object]], None]:
    def apply(data: dict[str, object]) -> None:
        parent = _get(data, where[:-1])
        assert isinstance(parent, dict)
        items = [(new if k == where[-1] else k, v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)

    return apply


TABLE_FIELDS = [a.name for a in attrs.fields(Table)]
META_FIELDS = [a.name for a in attrs.fields(TableMeta)]
KNOWN_KEYS: dict[str, list[str]] = {
    "root": ["connections", "defaults", "tables"],
    "connections": ["source", "destination"],
    "connection": ["type", "connection"],
    "table": TABLE_FIELDS,
    "defaults": TABLE_FIELDS,
    "meta": META_FIELDS,
}


def _mappings(data: dict[str, object]) -> Iterator[tuple[Where, str]]:
    """Every mapping of the config whose keys are known, with its kind."""
    yield (), "root"
    conns = data.get("connections")
    if isinstance(conns, dict):
        yield ("connections",), "connections"
        for side in ("source", "destination"):
            if isinstance(conns.get(side), dict):
                yield ("connections", side), "connection"
    if isinstance(data.get("defaults"), dict):
        yield ("defaults",), "defaults"
    raw_tables = data.get("tables")
    assert isinstance(raw_tables, list)
    for index, table in enumerate(raw_tables):
        yield ("tables", index), "table"
        if isinstance(table.get("meta"), dict):
            yield ("tables", index, "meta"), "meta"


def mutations(data: dict[str, object]) -> list[Mutation]:
    """The mutations that apply to ``data`` (typos are drawn separately)."""
    found: list[Mutation] = []
    raw_tables = data["tables"]
    assert isinstance(raw_tables, list)
    # remove a required key
    for index in range(len(raw_tables)):
        found.append(Mutation("no table name", _remove(("tables", index, "name")), f"tables[{index}]", "missing required key 'name'", ("tables", index)))  # fmt: skip
    for side in ("source", "destination"):
        at: Where = ("connections", side)
        found.append(Mutation("no connection string", _remove((*at, "connection")), _format(at), "missing required key 'connection'", at))  # fmt: skip
        found.append(Mutation("no connection type", _remove((*at, "type")), _format(at), "missing the connection 'type'", at))  # fmt: skip
        found.append(Mutation("no connection side", _remove(at), "connections", f"missing required key '{side}'", ("connections",)))  # fmt: skip
    for key in ("connections", "tables"):
        found.append(Mutation("no top-level key", _remove((key,)), "", f"missing required key '{key}'", ()))  # fmt: skip
    # a value of the wrong type
    for side in ("source", "destination"):
        at = ("connections", side)
        found.append(Mutation("int for a connection string", _set((*at, "connection"), 5432), _format((*at, "connection")), "expected a string, got integer 5432", (*at, "connection")))  # fmt: skip
        found.append(Mutation("string for a connection", _set(at, "example.duckdb"), _format(at), "expected a mapping with 'type' and 'connection', got string", at))  # fmt: skip
    found.append(Mutation("string for connections", _set(("connections",), "duckdb"), "connections", "expected a mapping, got string 'duckdb'", ("connections",)))  # fmt: skip
    found.append(Mutation("mapping for tables", _set(("tables",), {"name": "users"}), "tables", "expected a list of tables, got mapping", ("tables",)))  # fmt: skip
    for index, table in enumerate(raw_tables):
        at = ("tables", index)
        found.append(Mutation("string for a table", _set(at, "users"), _format(at), "expected a table (a mapping with 'name'), got string 'users'", at))  # fmt: skip
        found.append(Mutation("int for a name", _set((*at, "name"), 42), _format((*at, "name")), "expected a string, got integer 42", (*at, "name")))  # fmt: skip
        found.append(Mutation("list for a name", _set((*at, "name"), ["users"]), _format((*at, "name")), "expected a string, got list ['users']", (*at, "name")))  # fmt: skip
        found.append(Mutation("int for a mode", _set((*at, "mode"), 3), _format((*at, "mode")), "expected one of full_refresh, append, incremental, merge; got integer 3", (*at, "mode")))  # fmt: skip
        found.append(Mutation("int for a table name", _set((*at, "destination_table"), 7), _format((*at, "destination_table")), "expected a string, got integer 7", (*at, "destination_table")))  # fmt: skip
        for field in ("primary_key", "columns", "exclude_columns"):
            found.append(Mutation("mapping for a list", _set((*at, field), {"id": 1}), _format((*at, field)), "expected a name or a list of names, got mapping {'id': 1}", (*at, field)))  # fmt: skip
        found.append(Mutation("string for meta", _set((*at, "meta"), "shop"), _format((*at, "meta")), "expected a mapping, got string 'shop'", (*at, "meta")))  # fmt: skip
        found.append(Mutation("list for column_types", _set((*at, "column_types"), ["geom"]), _format((*at, "column_types")), "expected a mapping of column names to column types, got list ['geom']", (*at, "column_types")))  # fmt: skip
        if isinstance(table, dict) and isinstance(table.get("column_types"), dict):
            for column in table["column_types"]:
                typed: Where = (*at, "column_types", column)
                found.append(Mutation("unknown column type", _set(typed, "geometry"), _format(typed), "expected one of text, json; got string 'geometry'", typed))  # fmt: skip
        if isinstance(table, dict) and table.get("mode") == "incremental":
            found.append(Mutation("int for a cursor", _set((*at, "cursor"), 1), _format((*at, "cursor")), "expected a string, got integer 1", (*at, "cursor")))  # fmt: skip
        if isinstance(table, dict) and isinstance(table.get("meta"), dict):
            meta = (*at, "meta")
            found.append(Mutation("list for tags", _set((*meta, "tags"), ["a"]), _format((*meta, "tags")), "expected a mapping of strings, got list ['a']", (*meta, "tags")))  # fmt: skip
            found.append(Mutation("int for a group", _set((*meta, "group"), 1), _format((*meta, "group")), "expected a string, got integer 1", (*meta, "group")))  # fmt: skip
    defaults = data.get("defaults")
    if isinstance(defaults, dict):
        for key in defaults:
            wrong: object = 9 if key != "meta" else "shop"
            message = "expected a mapping, got string 'shop'" if key == "meta" else "expected "
            found.append(Mutation("wrong type in defaults", _set(("defaults", key), wrong), f"defaults.{key}", message, ("defaults", key)))  # fmt: skip
    return found


@st.composite
def typos(draw: st.DrawFn, word: str) -> str:
    """``word`` with one slip of the finger (that is not another word)."""
    index = draw(st.integers(1, len(word) - 1))
    kind = draw(st.sampled_from(["drop", "swap", "double", "replace"]))
    if kind == "drop":
        return word[:index] + word[index + 1 :]
    if kind == "swap":
        return word[: index - 1] + word[index] + word[index - 1] + word[index + 1 :]
    if kind == "double":
        return word[:index] + word[index] + word[index:]
    letter = draw(st.sampled_from("aeioxz"))
    return word[:index] + letter + word[index + 1 :]


@st.composite
def typo_mutations(draw: st.DrawFn, data: dict[str, object]) -> Mutation:
    # a connection's 'type' is excluded: a misspelt type is reported as a missing type
    candidates: list[tuple[Where, str, str]] = []
    for where, kind in _mappings(data):
        keys = _get(data, where)
        assert isinstance(keys, dict)
        candidates += [
            (where, kind, key)
            for key in keys
            if key in KNOWN_KEYS[kind] and (kind, key) != ("connection", "type")
        ]
    where, kind, key = draw(st.sampled_from(candidates))
    known = KNOWN_KEYS[kind]
    mapping = _get(data, where)
    assert isinstance(mapping, dict)
    typo = draw(
        typos(key).filter(
            lambda t: t != key and t not in known and t not in mapping and t.strip() == t
        )
    )
    hint = difflib.get_close_matches(typo, known, n=1, cutoff=0.6)
    assert hint == [key], f"{typo!r} is closer to {hint} than to {key!r}"
    # misspell the key, or add a misspelt copy next to it
    if draw(st.booleans(), label="keep the original key"):
        apply = _set((*where, typo), copy.deepcopy(mapping[key]))
    else:
        apply = _rename((*where, key), typo)
    return Mutation(
        "misspelt key",
        apply,
        _format((*where, typo)),
        f"unknown key {typo!r} (did you mean {key!r}?)",
        (*where, typo),
    )


def _node_lines(root: yaml.Node, where: Where) -> set[int]:
    """The lines (1-based) of the node at ``where``: its key's and its value's first line."""
    node = root
    lines = {root.start_mark.line + 1}
    for part in where:
        if isinstance(node, yaml.MappingNode):
            matches = [(k, v) for k, v in node.value if k.value == part]
            assert matches, f"{part!r} not in the mutated YAML"
            key, node = matches[-1]
            lines = {key.start_mark.line + 1, node.start_mark.line + 1}
        else:
            assert isinstance(node, yaml.SequenceNode)
            assert isinstance(part, int)
            node = node.value[part]
            lines = {node.start_mark.line + 1}
    return lines


base_configs = st.one_of(st.just(RICH), replications(max_tables=4).map(dump_replication))


@pytest.fixture(scope="module", name="scratch")
def fixture_scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutations")


@settings(max_examples=200, deadline=None)
@given(data=st.data(), text=base_configs)
def test_a_mutated_config_reports_the_mutation_where_it_is(
    scratch: Path, data: st.DataObject, text: str
) -> None:
    """Break a valid config in one place: the error names that place, path and line."""
    config = yaml.safe_load(text)
    assert isinstance(config, dict)
    load_replication(config)  # valid before the mutation
    use_typo = data.draw(st.booleans(), label="misspell a key")
    if use_typo:
        mutation = data.draw(typo_mutations(config), label="mutation")
    else:
        mutation = data.draw(st.sampled_from(mutations(config)), label="mutation")
    broken = copy.deepcopy(config)
    mutation.apply(broken)
    path = scratch / "replication.yaml"
    path.write_text(yaml.safe_dump(broken, sort_keys=False, allow_unicode=True), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_replication(path)

    written = path.read_text(encoding="utf-8")
    root = yaml.compose(written)
    assert root is not None
    expected_lines = _node_lines(root, mutation.anchor)
    matching = [
        issue
        for issue in caught.value.issues
        if issue.path == mutation.issue_path and issue.message.startswith(mutation.message)
    ]
    assert matching, (mutation.description, mutation.issue_path, caught.value.issues)
    for issue in matching:
        assert issue.file == str(path)
        assert issue.line is not None
        assert issue.column is not None
        assert 1 <= issue.line <= len(written.splitlines())
        assert issue.column >= 1
        assert issue.line in expected_lines, (mutation.description, issue, expected_lines)
