"""``${VAR}``, ``${VAR:-default}`` and ``$$`` in any string value of a config."""

from __future__ import annotations

import pytest
import yaml

from typedrepl import (
    ConfigError,
    Connections,
    DuckDBConnection,
    PostgresConnection,
    Table,
    TableMeta,
    load_replication,
)

CONFIG = """\
connections:
  source:
    type: duckdb
    connection: ${DATA_DIR}/example.duckdb
  destination:
    type: postgres
    connection: postgresql://${PG_USER:-postgres}:${PG_PASSWORD}@${PG_HOST:-localhost}/db
defaults:
  destination_schema: ${SCHEMA:-raw}
tables:
  - name: ${PREFIX}users
    primary_key:
      - ${TENANT_COLUMN}
      - id
    meta:
      description: costs $$5 per ${UNIT:-row}
      tags:
        env: ${ENVIRONMENT}
      owners:
        - team:${TEAM}
"""

ENV = {
    "DATA_DIR": "/data",
    "PG_PASSWORD": "pw",
    "PREFIX": "app_",
    "TENANT_COLUMN": "tenant",
    "ENVIRONMENT": "prod",
    "TEAM": "crm",
}


def test_variables_in_every_kind_of_string() -> None:
    rep = load_replication(CONFIG, env=ENV)
    assert rep.connections == Connections(
        source=DuckDBConnection(connection="/data/example.duckdb"),
        destination=PostgresConnection(connection="postgresql://postgres:pw@localhost/db"),
    )
    assert rep.tables == (
        Table(
            name="app_users",
            primary_key=("tenant", "id"),
            destination_schema="raw",
            meta=TableMeta(
                description="costs $5 per row", tags={"env": "prod"}, owners=("team:crm",)
            ),
        ),
    )


def test_set_variables_win_over_defaults() -> None:
    env = {**ENV, "PG_USER": "etl", "PG_HOST": "db.internal", "SCHEMA": "staging", "UNIT": "GB"}
    rep = load_replication(CONFIG, env=env)
    assert rep.connections.destination.connection == "postgresql://etl:pw@db.internal/db"
    assert rep.tables[0].destination_schema == "staging"
    assert rep.tables[0].meta.description == "costs $5 per GB"


def test_a_variable_set_to_empty_takes_the_default_like_the_shell() -> None:
    """``${VAR:-default}`` uses the default when VAR is unset *or empty*; ``${VAR}`` gives ''."""
    rep = load_replication(CONFIG, env={**ENV, "PG_HOST": "", "SCHEMA": "", "PREFIX": ""})
    assert rep.connections.destination.connection == "postgresql://postgres:pw@localhost/db"
    assert rep.tables[0].destination_schema == "raw"
    assert rep.tables[0].name == "users"


def test_every_missing_variable_is_named_with_its_path_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_replication(CONFIG, env={"DATA_DIR": "/data", "PREFIX": "x_"})
    assert [(i.path, i.message, i.line, i.column) for i in caught.value.issues] == [
        (
            "connections.destination.connection",
            "environment variable PG_PASSWORD is not set (used as ${PG_PASSWORD})",
            7,
            17,
        ),
        (
            "tables[0].primary_key[0]",
            "environment variable TENANT_COLUMN is not set (used as ${TENANT_COLUMN})",
            13,
            9,
        ),
        (
            "tables[0].meta.tags.env",
            "environment variable ENVIRONMENT is not set (used as ${ENVIRONMENT})",
            18,
            14,
        ),
        (
            "tables[0].meta.owners[0]",
            "environment variable TEAM is not set (used as ${TEAM})",
            20,
            11,
        ),
    ]


def test_two_missing_variables_in_one_string_are_two_issues() -> None:
    text = "connections:\n  source: {type: duckdb, connection: '${A}/${B}'}\n"
    with pytest.raises(ConfigError) as caught:
        load_replication(text, env={})
    messages = [(i.path, i.message) for i in caught.value.issues if "variable" in i.message]
    assert messages == [
        ("connections.source.connection", "environment variable A is not set (used as ${A})"),
        ("connections.source.connection", "environment variable B is not set (used as ${B})"),
    ]


@pytest.mark.parametrize(
    ("written", "env", "expected"),
    [
        ("plain", {}, "plain"),
        ("${A}", {"A": "x"}, "x"),
        ("${A}", {"A": ""}, ""),
        ("${A}${B}", {"A": "x", "B": "y"}, "xy"),
        ("a${A}b", {"A": "-"}, "a-b"),
        ("${A:-}", {}, ""),
        ("${A:-fallback}", {}, "fallback"),
        ("${A:-postgresql://u@h:5432/db?x=1}", {}, "postgresql://u@h:5432/db?x=1"),
        ("${A:-$$}", {}, "$$"),  # a default is taken as written
        ("$$", {}, "$"),
        ("$$$$", {}, "$$"),
        ("$${A}", {"A": "x"}, "${A}"),
        ("$$${A}", {"A": "x"}, "$x"),
        ("$A", {"A": "x"}, "$A"),
        ("$", {}, "$"),
        ("${A}", {"A": "${B}"}, "${B}"),  # values are not interpolated again
        ("${lower_case_1}", {"lower_case_1": "ok"}, "ok"),
        ("${1A}", {}, "${1A}"),  # not a variable name: left as written
        ("${A-x}", {}, "${A-x}"),
    ],
)
def test_interpolation_rules(written: str, env: dict[str, str], expected: str) -> None:
    text = f"connections:\n  source: {{type: duckdb, connection: a}}\n  destination: {{type: duckdb, connection: b}}\ntables:\n  - name: t\n    meta: {{description: '{written}'}}\n"
    assert load_replication(text, env=env).tables[0].meta.description == expected


def test_types_are_decided_before_interpolation() -> None:
    """A variable holding ``42`` or ``true`` still gives a string; non-strings are untouched."""
    text = "connections:\n  source: {type: duckdb, connection: a}\n  destination: {type: duckdb, connection: b}\ntables:\n  - name: ${N}\n    primary_key: ${KEY}\n"
    rep = load_replication(text, env={"N": "42", "KEY": "true"})
    assert (rep.tables[0].name, rep.tables[0].primary_key) == ("42", ("true",))
    with pytest.raises(ConfigError) as caught:
        load_replication(text.replace("${N}", "42"), env={"KEY": "id"})
    assert [i.message for i in caught.value.issues] == ["expected a string, got integer 42"]


def test_keys_are_not_interpolated() -> None:
    text = "connections:\n  source: {type: duckdb, connection: a}\n  destination: {type: duckdb, connection: b}\ntables:\n  - name: t\n    column_types: {'${K}': text}\n"
    assert load_replication(text, env={"K": "k"}).tables[0].column_types == {"${K}": "text"}


def test_mappings_are_interpolated_too() -> None:
    data = yaml.safe_load(CONFIG)
    assert load_replication(data, env=ENV) == load_replication(CONFIG, env=ENV)
    with pytest.raises(ConfigError) as caught:
        load_replication(data, env={})
    assert "tables[0].meta.owners[0]" in {i.path for i in caught.value.issues}
    assert {i.line for i in caught.value.issues} == {None}


def test_variables_in_defaults_are_reported_at_defaults() -> None:
    text = CONFIG.replace("${SCHEMA:-raw}", "${SCHEMA}")
    with pytest.raises(ConfigError) as caught:
        load_replication(text, env=ENV)
    assert [(i.path, i.message, i.line) for i in caught.value.issues] == [
        (
            "defaults.destination_schema",
            "environment variable SCHEMA is not set (used as ${SCHEMA})",
            9,
        ),
    ]


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PG_USER", "from-environ")
    rep = load_replication(CONFIG)
    assert rep.connections.destination.connection == "postgresql://from-environ:pw@localhost/db"
    monkeypatch.delenv("TEAM")
    with pytest.raises(ConfigError, match=r"environment variable TEAM is not set"):
        load_replication(CONFIG)
    # an explicit env replaces os.environ entirely
    with pytest.raises(ConfigError, match=r"environment variable DATA_DIR is not set"):
        load_replication(CONFIG, env={})
