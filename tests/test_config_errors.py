"""Config mistakes: every one reported at once, each with its path and ``file:line:column``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from typedrepl import (
    ConfigError,
    ConfigIssue,
    DuckDBConnection,
    LoadMode,
    PostgresConnection,
    load_replication,
)

FIXTURES = Path(__file__).parent / "fixtures"

DUCKDB_TO_POSTGRES = """\
connections:
  source:
    type: duckdb
    connection: example.duckdb
  destination:
    type: postgres
    connection: postgresql://postgres:postgres@localhost/postgres
"""
DUCKDB_TO_DUCKDB = """\
connections:
  source: {type: duckdb, connection: a.duckdb}
  destination: {type: duckdb, connection: b.duckdb}
"""


def issues_of(source: str | Path) -> list[tuple[str, str, int | None, int | None]]:
    """``(path, message, line, column)`` of every issue ``load_replication`` reports."""
    with pytest.raises(ConfigError) as caught:
        load_replication(source)
    return [(i.path, i.message, i.line, i.column) for i in caught.value.issues]


def only_issue(source: str | Path) -> tuple[str, str, int | None, int | None]:
    (issue,) = issues_of(source)
    return issue


def test_every_mistake_is_reported_at_once_with_its_location() -> None:
    path = FIXTURES / "mistakes.yaml"
    with pytest.raises(ConfigError) as caught:
        load_replication(path)
    f = str(path)
    assert [str(issue) for issue in caught.value.issues] == [
        f"{f}:2:3: connections.source: missing required key 'connection'",
        f"{f}:4:5: connections.source.conection: unknown key 'conection' (did you mean 'connection'?)",
        f"{f}:9:3: defaults.primary_keys: unknown key 'primary_keys' (did you mean 'primary_key'?)",
        f"{f}:13:11: tables[1].name: expected a string, got integer 42",
        f"{f}:15:11: tables[2].mode: mode 'incremental' needs a cursor (the column the load advances on)",
        f"{f}:16:11: tables[3].name: duplicate table name 'users' (also tables[0])",
        f"{f}:17:11: tables[3].mode: mode 'merge' needs a primary_key (the columns rows are matched on)",
        f"{f}:19:23: tables[4].primary_key[1]: expected a string, got integer 7",
        f"{f}:21:11: tables[5].mode: expected one of full_refresh, append, incremental, merge; got string 'merj' (did you mean 'merge'?)",
        f"{f}:22:5: tables[5].exclude_colums: unknown key 'exclude_colums' (did you mean 'exclude_columns'?)",
    ]
    assert all(i.file == f for i in caught.value.issues)
    assert str(caught.value).splitlines()[0] == "invalid replication config (10 errors)"
    assert str(caught.value).splitlines()[1:] == [f"  {i}" for i in caught.value.issues]


def test_a_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"invalid replication config \(1 error\)"):
        load_replication(DUCKDB_TO_DUCKDB + "tables: []\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            DUCKDB_TO_DUCKDB + "tabels:\n  - name: t\n",
            [
                ("", "missing required key 'tables'", 1, 1),
                ("tabels", "unknown key 'tabels' (did you mean 'tables'?)", 4, 1),
            ],
            id="top level",
        ),
        pytest.param(
            DUCKDB_TO_DUCKDB + "tables:\n  - name: t\n    primary_kye: id\n",
            [
                (
                    "tables[0].primary_kye",
                    "unknown key 'primary_kye' (did you mean 'primary_key'?)",
                    6,
                    5,
                )
            ],
            id="table",
        ),
        pytest.param(
            DUCKDB_TO_DUCKDB + "tables:\n  - name: t\n    meta: {gruop: g}\n",
            [("tables[0].meta.gruop", "unknown key 'gruop' (did you mean 'group'?)", 6, 12)],
            id="meta",
        ),
        pytest.param(
            DUCKDB_TO_DUCKDB.replace("b.duckdb}", "b.duckdb, conection: c}")
            + "tables: [{name: t}]\n",
            [
                (
                    "connections.destination.conection",
                    "unknown key 'conection' (did you mean 'connection'?)",
                    3,
                    53,
                )
            ],
            id="connection",
        ),
        pytest.param(
            DUCKDB_TO_DUCKDB.replace("destination:", "destinaton:") + "tables: [{name: t}]\n",
            [
                ("connections", "missing required key 'destination'", 1, 1),
                (
                    "connections.destinaton",
                    "unknown key 'destinaton' (did you mean 'destination'?)",
                    3,
                    3,
                ),
            ],
            id="connections",
        ),
        pytest.param(
            DUCKDB_TO_DUCKDB + "tables:\n  - name: t\n    mode: incremantal\n    cursor: c\n",
            [
                (
                    "tables[0].mode",
                    "expected one of full_refresh, append, incremental, merge; got string 'incremantal' (did you mean 'incremental'?)",
                    6,
                    11,
                )
            ],
            id="mode value",
        ),
        pytest.param(
            DUCKDB_TO_DUCKDB.replace(
                "type: duckdb, connection: b", "type: postgress, connection: b"
            )
            + "tables: [{name: t}]\n",
            [
                (
                    "connections.destination.type",
                    "unknown connection type 'postgress'; expected one of: duckdb, postgres (did you mean 'postgres'?)",
                    3,
                    23,
                )
            ],
            id="connection type",
        ),
        pytest.param(
            DUCKDB_TO_DUCKDB + "tables:\n  - name: t\n    speed: fast\n",
            [("tables[0].speed", "unknown key 'speed'", 6, 5)],
            id="no close match",
        ),
    ],
)
def test_unknown_keys_and_values_suggest_the_close_one(
    text: str, expected: list[tuple[str, str, int, int]]
) -> None:
    assert issues_of(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("tables:\n  - name: [users\n", id="unclosed flow sequence"),
        pytest.param("connections:\n  source: a\n   destination: b\n", id="bad indentation"),
        pytest.param("connections:\n\tsource: x\n", id="tab"),
        pytest.param("tables:\n  - name: 'users\n", id="unclosed quote"),
        pytest.param("tables:\n  - name: *users\n", id="undefined alias"),
        pytest.param("tables: !!python/object:os.system x\n", id="unsafe tag"),
        pytest.param("- a\nb: c\n", id="sequence then mapping"),
    ],
)
def test_malformed_yaml_reports_the_parser_position(text: str) -> None:
    with pytest.raises(yaml.MarkedYAMLError) as parser:
        yaml.safe_load(text)
    mark = parser.value.problem_mark
    assert mark is not None
    (issue,) = issues_of(text)
    path, message, line, column = issue
    assert (path, line, column) == ("", mark.line + 1, mark.column + 1)
    assert message.startswith("invalid YAML: ")
    assert str(parser.value.problem) in message


def test_malformed_yaml_in_a_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text(
        DUCKDB_TO_DUCKDB + "tables:\n  - name: t\n   mode: append\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_replication(config)
    (issue,) = caught.value.issues
    assert issue.location == f"{config}:6:4"
    assert issue.message == (
        "invalid YAML: while parsing a block collection, expected <block end>, "
        "but found '<block mapping start>'"
    )


def test_duplicate_yaml_keys_are_errors() -> None:
    text = (
        DUCKDB_TO_DUCKDB
        + "tables:\n"
        + "  - name: users\n"
        + "    mode: append\n"
        + "    name: customers\n"
        + "tables: []\n"
    )
    assert issues_of(text) == [
        ("", "duplicate key 'name' (first at line 5)", 7, 5),
        ("", "duplicate key 'tables' (first at line 4)", 8, 1),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [("", "the config is empty; expected a mapping with 'connections' and 'tables'", None, None)], id="empty"),
        pytest.param("# nothing\n", [("", "the config is empty; expected a mapping with 'connections' and 'tables'", None, None)], id="only a comment"),
        pytest.param("- a\n- b\n", [("", "expected a mapping with 'connections' and 'tables', got list ['a', 'b']", 1, 1)], id="list"),
        pytest.param("just text\nmore\n", [("", "expected a mapping with 'connections' and 'tables', got string 'just text more'", 1, 1)], id="scalar"),
        pytest.param(
            "defaults: {}\n",
            [("", "missing required key 'connections'", 1, 1), ("", "missing required key 'tables'", 1, 1)],
            id="no connections, no tables",
        ),
        pytest.param(DUCKDB_TO_DUCKDB + "tables: []\n", [("tables", "the list of tables is empty", 4, 9)], id="no tables"),
        pytest.param(DUCKDB_TO_DUCKDB + "tables: users\n", [("tables", "expected a list of tables, got string 'users'", 4, 9)], id="tables a string"),
        pytest.param(DUCKDB_TO_DUCKDB + "tables:\n  - users\n", [("tables[0]", "expected a table (a mapping with 'name'), got string 'users'", 5, 5)], id="table a string"),
        pytest.param(DUCKDB_TO_DUCKDB + "tables:\n  - {}\n", [("tables[0]", "missing required key 'name'", 5, 5)], id="table without a name"),
        pytest.param("connections: duckdb\ntables: [{name: t}]\n", [("connections", "expected a mapping, got string 'duckdb'", 1, 14)], id="connections a string"),
        pytest.param(
            "connections:\n  source: a.duckdb\n  destination: {type: duckdb, connection: b}\ntables: [{name: t}]\n",
            [("connections.source", "expected a mapping with 'type' and 'connection', got string 'a.duckdb'", 2, 11)],
            id="connection a string",
        ),
        pytest.param(
            "connections:\n  source: {connection: a}\n  destination: {type: duckdb, connection: b}\ntables: [{name: t}]\n",
            [("connections.source", "missing the connection 'type' (one of: duckdb, postgres)", 2, 11)],
            id="connection without a type",
        ),
        pytest.param(
            "connections:\n  source: {type: duckdb, connection: 5}\n  destination: {type: duckdb, connection: b}\ntables: [{name: t}]\n",
            [("connections.source.connection", "expected a string, got integer 5", 2, 38)],
            id="connection string an integer",
        ),
        pytest.param(
            "connections:\n  source: {type: duckdb, connection: a}\n  destination: {type: duckdb, connection: ''}\ntables: [{name: t}]\n",
            [("connections.destination.connection", "the connection string is empty", 3, 43)],
            id="connection string empty",
        ),
        pytest.param(DUCKDB_TO_DUCKDB + "tables:\n  - name: t\n    meta: shop\n", [("tables[0].meta", "expected a mapping, got string 'shop'", 6, 11)], id="meta a string"),
        pytest.param(
            DUCKDB_TO_DUCKDB + "tables:\n  - name: t\n    meta: {tags: {team: 1}, owners: {a: b}}\n",
            [
                ("tables[0].meta.tags.team", "expected a string, got integer 1", 6, 25),
                ("tables[0].meta.owners", "expected a name or a list of names, got mapping {'a': 'b'}", 6, 37),
            ],
            id="meta fields",
        ),
        pytest.param(
            DUCKDB_TO_DUCKDB + "tables:\n  - name: t\n    primary_key: {id: 1}\n    columns: 3\n    cursor: [a]\n    mode: 1\n",
            [
                ("tables[0].primary_key", "expected a name or a list of names, got mapping {'id': 1}", 6, 18),
                ("tables[0].columns", "expected a name or a list of names, got integer 3", 7, 14),
                ("tables[0].cursor", "expected a string, got list ['a']", 8, 13),
                ("tables[0].mode", "expected one of full_refresh, append, incremental, merge; got integer 1", 9, 11),
            ],
            id="table field types",
        ),
        pytest.param(DUCKDB_TO_DUCKDB + "tables:\n  - name: null\n", [("tables[0].name", "expected a string, got null", 5, 11)], id="null name"),
        pytest.param(DUCKDB_TO_DUCKDB + "tables:\n  - name: true\n", [("tables[0].name", "expected a string, got boolean True", 5, 11)], id="boolean name"),
    ],
)  # fmt: skip
def test_structure_mistakes(
    text: str, expected: list[tuple[str, str, int | None, int | None]]
) -> None:
    assert issues_of(text) == expected


def table_issues(
    *tables: str, connections: str = DUCKDB_TO_POSTGRES
) -> list[tuple[str, str, int | None, int | None]]:
    text = connections + "tables:\n" + "".join(f"  - {t}\n" for t in tables)
    return issues_of(text)


def test_duplicate_table_names() -> None:
    assert table_issues("{name: users}", "{name: orders}", "{name: users, mode: append}") == [
        ("tables[2].name", "duplicate table name 'users' (also tables[0])", 11, 12),
    ]


def test_two_tables_writing_one_destination_table() -> None:
    assert table_issues(
        "{name: users}",
        "{name: customers, destination_table: users}",
        "{name: a, destination_schema: raw, destination_table: x}",
        "{name: b, destination_table: x}",  # another schema: allowed
        "{name: c, destination_schema: raw, destination_table: x}",
    ) == [
        ("tables[1]", "destination table 'users' is also written by tables[0]", 10, 5),
        ("tables[4]", "destination table 'x' is also written by tables[2]", 13, 5),
    ]


def test_one_destination_table_named_two_ways() -> None:
    """No schema is the destination's default one (``public``, ``main``); DuckDB takes
    names that differ in ASCII case for one table (not ``Ä`` and ``ä``)."""
    assert table_issues(
        "{name: eu, destination_table: orders}",
        "{name: us, destination_table: orders, destination_schema: public}",
        "{name: Users}",
        "{name: users}",  # PostgreSQL tells them apart
    ) == [
        ("tables[1]", "destination table 'orders' is also written by tables[0]", 10, 5),
    ]
    assert table_issues(
        "{name: eu, destination_table: orders}",
        "{name: us, destination_table: Orders, destination_schema: MAIN}",
        "{name: Users}",
        "{name: users, destination_schema: main}",
        "{name: Äb}",
        "{name: äb}",  # DuckDB's case is ASCII only: two tables
        connections=DUCKDB_TO_DUCKDB,
    ) == [
        ("tables[1]", "destination table 'Orders' is also written by tables[0]", 6, 5),
        ("tables[3]", "destination table 'users' is also written by tables[2]", 8, 5),
    ]


def test_the_default_schemas_are_the_engines() -> None:
    from typedrepl.engines._dddest import DuckDBDestination
    from typedrepl.engines._ddsource import DuckDBSource
    from typedrepl.engines._pgdest import PostgresDestination
    from typedrepl.engines._pgsource import PostgresSource

    assert DuckDBSource.default_schema == DuckDBDestination.default_schema == "main"
    assert DuckDBConnection.default_schema == "main"
    assert PostgresSource.default_schema == PostgresDestination.default_schema == "public"
    assert PostgresConnection.default_schema == "public"


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "{name: t, mode: merge}",
            [
                (
                    "tables[0].mode",
                    "mode 'merge' needs a primary_key (the columns rows are matched on)",
                    9,
                    21,
                )
            ],
        ),
        (
            "{name: t, mode: merge, primary_key: []}",
            [
                (
                    "tables[0].mode",
                    "mode 'merge' needs a primary_key (the columns rows are matched on)",
                    9,
                    21,
                )
            ],
        ),
        (
            "{name: t, mode: incremental}",
            [
                (
                    "tables[0].mode",
                    "mode 'incremental' needs a cursor (the column the load advances on)",
                    9,
                    21,
                )
            ],
        ),
        (
            "{name: t, mode: append, cursor: updated_at}",
            [
                (
                    "tables[0].cursor",
                    "a cursor is used only by mode 'incremental', not 'append'",
                    9,
                    37,
                )
            ],
        ),
        (
            "{name: t, cursor: updated_at}",
            [
                (
                    "tables[0].cursor",
                    "a cursor is used only by mode 'incremental', not 'full_refresh'",
                    9,
                    23,
                )
            ],
        ),
        (
            "{name: t, columns: [a], exclude_columns: [b]}",
            [
                (
                    "tables[0].exclude_columns",
                    "use either columns or exclude_columns, not both",
                    9,
                    46,
                )
            ],
        ),
        (
            "{name: t, primary_key: [id, id]}",
            [("tables[0].primary_key", "column 'id' is listed 2 times", 9, 28)],
        ),
        (
            "{name: t, primary_key: id, exclude_columns: [id]}",
            [
                (
                    "tables[0].exclude_columns",
                    "the primary key column 'id' cannot be excluded",
                    9,
                    49,
                )
            ],
        ),
        (
            "{name: t, mode: incremental, cursor: ts, columns: [id]}",
            [("tables[0].columns", "the cursor 'ts' must be one of the copied columns", 9, 55)],
        ),
        (
            "{name: t, primary_key: [id, v], columns: [id]}",
            [
                (
                    "tables[0].columns",
                    "the primary key column 'v' must be one of the copied columns",
                    9,
                    46,
                )
            ],
        ),
        ("{name: t, mode: merge, primary_key: [tenant, id], columns: [id, tenant, x]}", []),
        ("{name: t, mode: incremental, cursor: ts, exclude_columns: [payload]}", []),
    ],
)
def test_table_checks(table: str, expected: list[tuple[str, str, int, int]]) -> None:
    if expected:
        assert table_issues(table) == expected
    else:
        rep = load_replication(DUCKDB_TO_POSTGRES + f"tables:\n  - {table}\n")
        assert rep.tables[0].mode in (LoadMode.MERGE, LoadMode.INCREMENTAL)


LONG_ASCII = "a" * 64  # 64 bytes
LONG_UTF8 = "é" * 32  # 32 characters, 64 bytes
FITS_UTF8 = "€" * 21  # 21 characters, 63 bytes
FITS_ASCII = "b" * 63


@pytest.mark.parametrize("long", [LONG_ASCII, LONG_UTF8, "🦆" * 16])
@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("{{name: {n}}}", "tables[0].name"),
        ("{{name: t, destination_table: {n}}}", "tables[0].destination_table"),
        ("{{name: t, destination_schema: {n}}}", "tables[0].destination_schema"),
        ("{{name: t, primary_key: [id, {n}]}}", "tables[0].primary_key"),
        ("{{name: t, mode: incremental, cursor: {n}}}", "tables[0].cursor"),
        ("{{name: t, columns: [{n}]}}", "tables[0].columns"),
        ("{{name: t, exclude_columns: [{n}]}}", "tables[0].exclude_columns"),
    ],
)
def test_identifiers_over_63_bytes_are_refused_when_postgres_is_involved(
    long: str, template: str, path: str
) -> None:
    table = template.format(n=long)
    ((issue_path, message, line, _),) = table_issues(table)
    assert (issue_path, line) == (path, 9)
    assert message == (
        f"identifier {long!r} is 64 bytes; PostgreSQL allows at most 63 (it would silently "
        "truncate it): choose a shorter name (destination_table renames the table in the destination)"
    )
    # DuckDB to DuckDB: no limit
    rep = load_replication(DUCKDB_TO_DUCKDB + f"tables:\n  - {table}\n")
    assert len(rep.tables) == 1


def test_the_limit_applies_only_to_the_postgres_side() -> None:
    pg_source = DUCKDB_TO_DUCKDB.replace(
        "source: {type: duckdb, connection: a.duckdb}",
        "source: {type: postgres, connection: 'host=localhost'}",
    )
    # the name is read from the source (PostgreSQL); the target is renamed and fits
    assert table_issues(
        f"{{name: {LONG_ASCII}, destination_table: t}}",
        f"{{name: u, source_schema: {LONG_UTF8}}}",
        connections=pg_source,
    ) == [
        (
            "tables[0].name",
            f"identifier {LONG_ASCII!r} is 64 bytes; PostgreSQL allows at most 63 (it would silently truncate it): choose a shorter name (destination_table renames the table in the destination)",
            5,
            12,
        ),
        (
            "tables[1].source_schema",
            f"identifier {LONG_UTF8!r} is 64 bytes; PostgreSQL allows at most 63 (it would silently truncate it): choose a shorter name (destination_table renames the table in the destination)",
            6,
            30,
        ),
    ]
    # DuckDB source, PostgreSQL destination: a long source name is fine once renamed
    rep = load_replication(
        DUCKDB_TO_POSTGRES + f"tables:\n  - {{name: {LONG_ASCII}, destination_table: t}}\n"
    )
    assert rep.tables[0].target_name == "t"
    # a long source schema is fine when the source is DuckDB
    rep = load_replication(
        DUCKDB_TO_POSTGRES + f"tables:\n  - {{name: t, source_schema: {LONG_ASCII}}}\n"
    )
    assert rep.tables[0].source_schema == LONG_ASCII
    # a long destination schema is fine when the destination is DuckDB
    rep = load_replication(
        pg_source + f"tables:\n  - {{name: t, destination_schema: {LONG_ASCII}}}\n"
    )
    assert rep.tables[0].destination_schema == LONG_ASCII


@pytest.mark.parametrize("name", [FITS_ASCII, FITS_UTF8, "🦆" * 15 + "abc"])
def test_identifiers_of_63_bytes_are_fine(name: str) -> None:
    assert len(name.encode()) == 63
    rep = load_replication(
        DUCKDB_TO_POSTGRES + f"tables:\n  - {{name: {name}, primary_key: {name}}}\n"
    )
    assert rep.tables[0].name == name


def test_empty_and_nul_identifiers() -> None:
    assert table_issues('{name: ""}', '{name: t, destination_table: "x\\0y"}') == [
        ("tables[0].name", "an identifier cannot be empty", 9, 12),
        ("tables[1].destination_table", "identifier 'x\\x00y' contains a NUL character", 10, 34),
    ]


@pytest.mark.parametrize(
    ("connection", "reason"),
    [
        ("host=localhost dbname", 'missing "=" after "dbname" in connection info string'),
        ("postgresql://u@h/db?foo=bar", 'invalid URI query parameter: "foo"'),
        ("postgresql://[::1/db", 'end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://[::1/db"'),
        ("mysql://u@h/db", 'missing "=" after "mysql://u@h/db" in connection info string'),
        ("host='localhost", "unterminated quoted string in connection info string"),
    ],
)  # fmt: skip
def test_malformed_postgres_connection_strings(connection: str, reason: str) -> None:
    text = DUCKDB_TO_POSTGRES.replace(
        "postgresql://postgres:postgres@localhost/postgres", f'"{connection}"'
    )
    ((path, message, line, column),) = issues_of(text + "tables: [{name: t}]\n")
    assert (path, line, column) == ("connections.destination.connection", 7, 17)
    assert message.startswith(f"cannot parse the connection string {connection!r}")
    assert message.endswith(reason)


def test_a_duckdb_connection_is_any_non_empty_path() -> None:
    text = DUCKDB_TO_DUCKDB.replace("b.duckdb", "'host=localhost dbname'") + "tables: [{name: t}]\n"
    assert load_replication(text).connections.destination.connection == "host=localhost dbname"
    text = DUCKDB_TO_DUCKDB.replace("b.duckdb", "'  '") + "tables: [{name: t}]\n"
    assert only_issue(text) == (
        "connections.destination.connection",
        "the connection string is empty",
        3,
        43,
    )


def test_a_config_error_lists_its_issues_in_file_order() -> None:
    text = (
        "tables:\n"
        "  - {name: t, mode: merge}\n"
        "connections:\n"
        "  source: {type: duckdb, connection: a.duckdb}\n"
        "  destination: {type: duckdb, connection: 7}\n"
    )
    issues = issues_of(text)
    assert [(path, line) for path, _, line, _ in issues] == [
        ("tables[0].mode", 2),
        ("connections.destination.connection", 5),
    ]


def test_issue_location_formats() -> None:
    assert (
        ConfigIssue(path="a", message="m", file="f.yaml", line=3, column=4).location == "f.yaml:3:4"
    )
    assert ConfigIssue(path="a", message="m", file="f.yaml", line=3).location == "f.yaml:3"
    assert ConfigIssue(path="a", message="m", file="f.yaml").location == "f.yaml"
    assert ConfigIssue(path="a", message="m").location == "<config>"
    assert str(ConfigIssue(path="", message="m", file="f.yaml")) == "f.yaml: m"
    assert str(ConfigError([ConfigIssue(path="a", message="m")])) == (
        "invalid replication config (1 error)\n  <config>: a: m"
    )


def test_a_wrong_value_hides_none_of_the_tables_other_mistakes() -> None:
    """A field that cannot be read is reported, and so is every mistake in the rest of
    the same table; a check that reads the wrong field says nothing (its answer would be
    about the default standing in for it)."""
    text = DUCKDB_TO_DUCKDB + (
        "tables:\n"
        "  - name: a\n"
        "    mode: merge\n"
        "    column_types: {x: geometry}\n"
        "  - name: b\n"
        "    mode: merj\n"
        "    cursor: updated_at\n"
        "    primary_key: [id, id]\n"
        "  - name: c\n"
        "    primary_key: id\n"
        "    exclude_columns: [id]\n"
        "    meta: {group: 7}\n"
        "    column_types: {id: json}\n"
    )
    assert issues_of(text) == [
        (
            "tables[0].mode",
            "mode 'merge' needs a primary_key (the columns rows are matched on)",
            6,
            11,
        ),
        (
            "tables[0].column_types.x",
            "expected one of text, json; got string 'geometry'",
            7,
            23,
        ),
        (
            "tables[1].mode",
            "expected one of full_refresh, append, incremental, merge; got string 'merj' "
            "(did you mean 'merge'?)",
            9,
            11,
        ),
        ("tables[1].primary_key", "column 'id' is listed 2 times", 11, 18),
        ("tables[2].exclude_columns", "the primary key column 'id' cannot be excluded", 14, 22),
        ("tables[2].meta.group", "expected a string, got integer 7", 15, 19),
        (
            "tables[2].column_types.id",
            "the primary key column 'id' cannot be read as json (rows are matched on it); "
            "read it as text",
            16,
            24,
        ),
        (
            "tables[2].column_types.id",
            "column 'id' is left out by exclude_columns; drop one of the two",
            16,
            24,
        ),
    ]


# --------------------------------------------------------------------------- meta: Dagster's rules


def test_meta_values_dagster_refuses_are_reported_where_they_are(tmp_path: Path) -> None:
    """Group names, asset keys, owners and tags Dagster would refuse (or, for an asset key
    with an empty part, typedrepl) are config mistakes, reported with every other one; a
    default's value is reported once, at the default."""
    config = tmp_path / "replication.yaml"
    config.write_text(
        DUCKDB_TO_DUCKDB
        + "defaults:\n"
        + "  meta: {owners: [data-team]}\n"
        + "tables:\n"
        + "  - name: users\n"
        + "    meta:\n"
        + '      group: "bad group!"\n'
        + '      asset_key: "a//b"\n'
        + '      owners: ["not an owner", "team:", ana@example.com, "team:crm"]\n'
        + "  - name: orders\n"
        + "    mode: merj\n"
        + "    meta:\n"
        + "      group: shop/orders\n"
        + '      deps: [raw/users, "raw/", ""]\n'
        + '      tags: {"a b": x, tier: "gold star", ns/ok: "", "dagster/kind/duckdb": ""}\n'
        + "  - name: items\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_replication(config)
    f = str(config)
    assert [str(issue) for issue in caught.value.issues] == [
        f"{f}:5:19: defaults.meta.owners[0]: owner 'data-team' is neither an e-mail address nor a team name prefixed with 'team:' (like 'team:data')",
        f"{f}:9:14: tables[0].meta.group: group 'bad group!' is not a valid Dagster group name: use ASCII letters, digits and '_', in parts separated by '/' (like 'marketing' or 'marketing/emails')",
        f"{f}:10:18: tables[0].meta.asset_key: asset key 'a//b' has an empty part: write its parts separated by single '/' (like 'raw/users')",
        f"{f}:11:16: tables[0].meta.owners[0]: owner 'not an owner' is neither an e-mail address nor a team name prefixed with 'team:' (like 'team:data')",
        f"{f}:11:32: tables[0].meta.owners[1]: owner 'team:' needs a team name after 'team:'",
        f"{f}:13:11: tables[1].mode: expected one of full_refresh, append, incremental, merge; got string 'merj' (did you mean 'merge'?)",
        f"{f}:16:25: tables[1].meta.deps[1]: asset key 'raw/' has an empty part: write its parts separated by single '/' (like 'raw/users')",
        f"{f}:16:33: tables[1].meta.deps[2]: an asset key cannot be empty",
        f"{f}:17:14: tables[1].meta.tags.a b: tag key 'a b' is not valid in Dagster: 1 to 63 ASCII letters, digits, '_', '-' or '.', optionally after a namespace of the same and '/'",
        f"{f}:17:30: tables[1].meta.tags.tier: tag value 'gold star' is not valid in Dagster: at most 63 ASCII letters, digits, '_', '-' or '.'",
    ]


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ('{group: ""}', [("tables[0].meta.group", "the group cannot be empty (leave it out for the default group)", 6, 19)]),
        ('{asset_key: ""}', [("tables[0].meta.asset_key", "an asset key cannot be empty", 6, 23)]),
        ('{asset_key: /users}', [("tables[0].meta.asset_key", "asset key '/users' has an empty part: write its parts separated by single '/' (like 'raw/users')", 6, 23)]),
        ('{deps: "a//b"}', [("tables[0].meta.deps", "asset key 'a//b' has an empty part: write its parts separated by single '/' (like 'raw/users')", 6, 18)]),
        ('{owners: "ana@example"}', [("tables[0].meta.owners", "owner 'ana@example' is neither an e-mail address nor a team name prefixed with 'team:' (like 'team:data')", 6, 20)]),
        (f'{{tags: {{{"k" * 64}: v}}}}', [("tables[0].meta.tags." + "k" * 64, f"tag key {'k' * 64!r} is not valid in Dagster: 1 to 63 ASCII letters, digits, '_', '-' or '.', optionally after a namespace of the same and '/'", 6, 19)]),
        ('{tags: {a/b/c: v}}', [("tables[0].meta.tags.a/b/c", "tag key 'a/b/c' is not valid in Dagster: 1 to 63 ASCII letters, digits, '_', '-' or '.', optionally after a namespace of the same and '/'", 6, 19)]),
        (f'{{tags: {{k: {"v" * 64}}}}}', [("tables[0].meta.tags.k", f"tag value {'v' * 64!r} is not valid in Dagster: at most 63 ASCII letters, digits, '_', '-' or '.'", 6, 22)]),
        ('{tags: {k: é}}', [("tables[0].meta.tags.k", "tag value 'é' is not valid in Dagster: at most 63 ASCII letters, digits, '_', '-' or '.'", 6, 22)]),
        (
            "{tags: {" + ", ".join(f"dagster/kind/k{i}: ''" for i in range(11)) + "}}",
            [("tables[0].meta.tags", "the tags name 11 kinds (dagster/kind/...); Dagster allows at most 10 per asset", 6, 12)],
        ),
    ],
)  # fmt: skip
def test_each_meta_rule(meta: str, expected: list[tuple[str, str, int, int]]) -> None:
    assert issues_of(DUCKDB_TO_DUCKDB + f"tables:\n  - name: t\n    meta: {meta}\n") == expected


def test_meta_values_dagster_accepts_load() -> None:
    text = DUCKDB_TO_DUCKDB + (
        "tables:\n"
        "  - name: t\n"
        "    meta:\n"
        "      group: marketing/emails_2\n"
        "      asset_key: raw/pg/Users 1\n"
        "      description: ''\n"
        "      owners: [ana.b+x@mail.example.org, 'team:', 'team: data & more']\n"
        "      deps: [a, 'b/c d', é/ü]\n"
        "      tags: {"
        + f"{'k' * 63}: {'v' * 63}, {'n' * 63}/{'k' * 63}: '', A.b-c_d: x.Y-z_0, "
        + ", ".join(f"dagster/kind/k{i}: ''" for i in range(10))
        + "}\n"
    )
    assert only_issue(text) == (
        "tables[0].meta.owners[1]",
        "owner 'team:' needs a team name after 'team:'",
        10,
        42,
    )
    rep = load_replication(text.replace("'team:', ", ""))
    assert rep.tables[0].meta.owners == ("ana.b+x@mail.example.org", "team: data & more")
    assert rep.tables[0].meta.asset_key == "raw/pg/Users 1"


# --------------------------------------------------------------------------- across tables


def test_checks_across_tables_see_tables_with_other_mistakes() -> None:
    """A wrong field in a table hides none of the checks across tables that read only
    its other fields."""
    assert table_issues(
        "{name: users, mode: full_refesh}",
        "{name: users}",
        "{name: a, destination_table: x, cursor: [c]}",
        "{name: b, destination_table: x}",
        connections=DUCKDB_TO_DUCKDB,
    ) == [
        (
            "tables[0].mode",
            "expected one of full_refresh, append, incremental, merge; got string 'full_refesh' "
            "(did you mean 'full_refresh'?)",
            5,
            25,
        ),
        ("tables[1].name", "duplicate table name 'users' (also tables[0])", 6, 12),
        ("tables[2].cursor", "expected a string, got list ['c']", 7, 45),
        ("tables[3]", "destination table 'x' is also written by tables[2]", 8, 5),
    ]


def test_a_field_that_cannot_be_read_is_compared_with_nothing() -> None:
    """A destination that failed to parse is not taken as its default (the table's name),
    and an identifier limit is not applied to a stand-in for it."""
    assert table_issues(
        "{name: users, destination_table: 5}",
        "{name: customers, destination_table: users}",
        "{name: orders, destination_schema: [raw]}",
        "{name: orders_v2, destination_table: orders}",
        f"{{name: {LONG_ASCII}, destination_table: {{x: 1}}}}",
    ) == [
        ("tables[0].destination_table", "expected a string, got integer 5", 9, 38),
        ("tables[2].destination_schema", "expected a string, got list ['raw']", 11, 40),
        (
            "tables[4].destination_table",
            "expected a string, got mapping {'x': 1}",
            13,
            97,
        ),
    ]


def test_checks_of_a_table_with_a_wrong_field_include_identifiers() -> None:
    assert table_issues(f"{{name: t, mode: merj, primary_key: {LONG_ASCII}}}") == [
        (
            "tables[0].mode",
            "expected one of full_refresh, append, incremental, merge; got string 'merj' "
            "(did you mean 'merge'?)",
            9,
            21,
        ),
        (
            "tables[0].primary_key",
            f"identifier {LONG_ASCII!r} is 64 bytes; PostgreSQL allows at most 63 (it would "
            "silently truncate it): choose a shorter name (destination_table renames the table "
            "in the destination)",
            9,
            40,
        ),
    ]


# --------------------------------------------------------------------------- unset variables


def test_an_unset_variable_is_the_only_error_about_its_value() -> None:
    """No other check judges a value whose variable is unset: it is not the value meant."""
    text = DUCKDB_TO_POSTGRES.replace(
        "postgresql://postgres:postgres@localhost/postgres", '"${NOPE_URL}"'
    ) + (
        "tables:\n"
        "  - name: ${TABLE}\n"
        "    mode: ${MODE}\n"
        "    meta: {group: '${GROUP}', owners: ['${OWNER}'], tags: {env: '${ENV}'}}\n"
        "  - name: ${TABLE}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_replication(text, env={})
    assert [(i.path, i.message, i.line, i.column) for i in caught.value.issues] == [
        (
            "connections.destination.connection",
            "environment variable NOPE_URL is not set (used as ${NOPE_URL})",
            7,
            17,
        ),
        ("tables[0].name", "environment variable TABLE is not set (used as ${TABLE})", 9, 11),
        ("tables[0].mode", "environment variable MODE is not set (used as ${MODE})", 10, 11),
        (
            "tables[0].meta.group",
            "environment variable GROUP is not set (used as ${GROUP})",
            11,
            19,
        ),
        (
            "tables[0].meta.owners[0]",
            "environment variable OWNER is not set (used as ${OWNER})",
            11,
            40,
        ),
        ("tables[0].meta.tags.env", "environment variable ENV is not set (used as ${ENV})", 11, 65),
        ("tables[1].name", "environment variable TABLE is not set (used as ${TABLE})", 12, 11),
    ]
    # once set, the values are checked like any other
    env = {
        "NOPE_URL": "host",
        "TABLE": "t",
        "MODE": "merj",
        "GROUP": "g!",
        "OWNER": "o",
        "ENV": "e v",
    }
    assert [i.path for i in issues_with_env(text, env)] == [
        "connections.destination.connection",
        "tables[0].mode",
        "tables[0].meta.group",
        "tables[0].meta.owners[0]",
        "tables[0].meta.tags.env",
        "tables[1].name",
    ]


def issues_with_env(text: str, env: dict[str, str]) -> tuple[ConfigIssue, ...]:
    with pytest.raises(ConfigError) as caught:
        load_replication(text, env=env)
    return caught.value.issues
