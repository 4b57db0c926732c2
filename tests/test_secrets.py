"""Passwords in connection strings never show in a repr, a str, an error or the CLI."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from typedrepl import (
    ConfigError,
    Connections,
    DuckDBConnection,
    PostgresConnection,
    Replication,
    Table,
    load_replication,
)
from typedrepl._secrets import MASK, passwords_in, redact_url, scrub
from typedrepl.cli import main

SECRET = "S3cr3t-pw!"

CONNECTION_FORMS = {
    "url": f"postgresql://etl:{quote(SECRET, safe='')}@db.example.com:5432/dw",
    "url, postgres scheme": f"postgres://etl:{quote(SECRET, safe='')}@db/dw?sslmode=require",
    "key=value": f"host=db user=etl password={SECRET} dbname=dw",
    "key = value": f"host=db user=etl password = {SECRET} dbname=dw",
    "key='value'": f"host=db password='{SECRET}' dbname=dw",
    "query parameter": f"postgresql://etl@db/dw?password={quote(SECRET, safe='')}",
    "second query parameter": f"postgresql://db/dw?user=etl&password={quote(SECRET, safe='')}&sslmode=disable",
}


def visible_forms(password: str) -> set[str]:
    """How a password could show up: as written, percent-encoded, escaped for conninfo."""
    return {password, quote(password, safe=""), quote(password), _conninfo_escape(password)}


def _conninfo_escape(value: str) -> str:
    """An unquoted libpq value: only backslash, quote and ASCII whitespace need escaping."""
    return re.sub(r"([\\' \t\n\r\f\v])", r"\\\1", value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://postgres:postgres@localhost/postgres", "postgresql://postgres:***@localhost/postgres"),
        ("postgres://u:p%40ss%3Aw0rd@h:5432/db", "postgres://u:***@h:5432/db"),
        ("postgresql://u:pw@h/db?sslmode=disable", "postgresql://u:***@h/db?sslmode=disable"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h/db", "postgresql://h/db"),
        ("postgresql://:pw@h/db", "postgresql://:***@h/db"),
        ("postgresql://h/db?password=pw&sslmode=disable", "postgresql://h/db?password=***&sslmode=disable"),
        ("postgresql://h/db?user=u&Password=pw", "postgresql://h/db?user=u&Password=***"),
        ("host=h password=pw dbname=d", "host=h password=*** dbname=d"),
        ("host=h PASSWORD = pw dbname=d", "host=h PASSWORD = *** dbname=d"),
        ("host=h password='p w \\' x' dbname=d", "host=h password=*** dbname=d"),
        ("host=h password=p\\ w dbname=d", "host=h password=*** dbname=d"),
        ("host=h password= dbname=d", "host=h password= ***"),  # libpq: password 'dbname=d'
        ("host=h user=u dbname=d", "host=h user=u dbname=d"),
        ("example.duckdb", "example.duckdb"),
        (
            "from postgresql://a:one@h1/x to postgresql://b:two@h2/y failed",
            "from postgresql://a:***@h1/x to postgresql://b:***@h2/y failed",
        ),
        ("connect to 'host=h password=pw' refused", "connect to 'host=h password=*** refused"),
        # an unescaped "@" in the password: all of what the user meant as password is hidden
        ("postgresql://u:Wrong@Pass99@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u:a@b@c@h", "postgresql://u:***@h"),
        ("postgresql://u:pw@h/db?x=a@b", "postgresql://u:***@h/db?x=a@b"),
    ],
)  # fmt: skip
def test_redact_url(text: str, expected: str) -> None:
    assert redact_url(text) == expected
    assert redact_url(redact_url(text)) == redact_url(text)


@pytest.mark.parametrize(
    ("connection", "expected"),
    [
        ("postgresql://u:p%40ss@h/db", {"p%40ss", "p@ss"}),
        ("postgresql://u:plain@h/db", {"plain"}),
        ("host=h password='a b\\' c'", {"a b\\' c", "a b' c"}),
        ("host=h password=a\\ b", {"a\\ b", "a b"}),
        ("postgresql://h/db?password=s%20x", {"s%20x", "s x"}),
        ("postgresql://u@h/db", set()),
        ("example.duckdb", set()),
        # libpq takes "Wrong" as the password and "Pass99@h" as the host: both halves are secret
        ("postgresql://u:Wrong@Pass99@h/db", {"Wrong@Pass99", "Wrong", "Pass99"}),
    ],
)
def test_passwords_in(connection: str, expected: set[str]) -> None:
    assert set(passwords_in(connection)) == expected


def test_scrub_masks_known_secrets_anywhere() -> None:
    text = "login as etl with hunter2 at postgresql://etl:hunter2@db/x"
    assert scrub(text, ["hunter2"]) == "login as etl with *** at postgresql://etl:***@db/x"
    assert scrub("a b", ["a"]) == "a b"  # one-character secrets would mask everything


@pytest.mark.parametrize("form", list(CONNECTION_FORMS))
def test_models_never_show_the_password(form: str) -> None:
    connection = CONNECTION_FORMS[form]
    assert conninfo_to_dict(connection)["password"] == SECRET
    pg = PostgresConnection(connection=connection)
    assert pg.check() is None
    assert SECRET in pg.secrets
    rep = Replication(
        connections=Connections(source=DuckDBConnection(connection="a.duckdb"), destination=pg),
        tables=[Table(name="users", primary_key="id")],
    )
    shown = [repr(pg), str(pg), pg.display, repr(rep.connections), str(rep.connections)]
    shown += [repr(rep), str(rep), repr(rep.tables[0]), str(rep.tables[0])]
    for text in shown:
        assert visible_forms(SECRET).isdisjoint(_substrings_of(text, SECRET)), text
        assert SECRET not in text
    assert MASK in repr(pg)
    assert pg.connection == connection  # the model itself keeps the real string


def _substrings_of(text: str, password: str) -> set[str]:
    return {form for form in visible_forms(password) if form in text}


def _config(connection: str, table: str = "{name: users, primary_key: id}") -> str:
    destination = yaml.safe_dump(
        {"type": "postgres", "connection": connection},
        default_flow_style=True,
        sort_keys=False,
        width=1000,
    )
    return (
        "connections:\n"
        "  source: {type: duckdb, connection: a.duckdb}\n"
        f"  destination: {destination.strip()}\n"
        f"tables:\n  - {table}\n"
    )


@pytest.mark.parametrize("form", list(CONNECTION_FORMS))
@pytest.mark.parametrize(
    "mistake",
    [
        pytest.param(lambda c: _config(c, "{name: users, mode: merj}"), id="another field"),
        pytest.param(lambda c: _config(c + " dbname"), id="malformed connection"),
        pytest.param(
            lambda c: _config(c + ("&" if "?" in c else "?") + "foo=bar" if "://" in c else c + " foo=bar"),
            id="unknown option",
        ),
        pytest.param(
            lambda c: _config(c).replace("{type: postgres,", "{type: postgress,"), id="wrong type"
        ),
        pytest.param(
            lambda c: _config(c).replace("  destination: {", "  destination: {conection: x, "),
            id="unknown key",
        ),
        pytest.param(
            lambda c: "connections:\n  source: {type: duckdb, connection: a}\n"
            f"  destination: {yaml.safe_dump(c).splitlines()[0]}\ntables: [{{name: t}}]\n",
            id="string where a mapping goes",
        ),
        pytest.param(
            lambda c: _config(c).replace("connection: ", "connection: [", 2).replace("}\ntables", "]}\ntables"),
            id="list where a string goes",
        ),
        pytest.param(
            lambda c: _config(c).replace("{type: postgres, connection: ", "{type: postgres, connection:"),
            id="no space after the colon",
        ),
    ],
)  # fmt: skip
def test_config_errors_never_show_the_password(form: str, mistake: object) -> None:
    assert callable(mistake)
    text: str = mistake(CONNECTION_FORMS[form])
    assert SECRET in text or quote(SECRET, safe="") in text
    with pytest.raises(ConfigError) as caught:
        load_replication(text)
    messages = [str(caught.value), repr(caught.value)]
    messages += [str(issue) for issue in caught.value.issues]
    messages += [repr(issue) for issue in caught.value.issues]
    for message in messages:
        assert _substrings_of(message, SECRET) == set(), message


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("  source: {}\n", id="string where a connection goes"),
        pytest.param(
            "  source: {{type: postgres, connection: [{}]}}\n", id="list where a string goes"
        ),
        pytest.param("  source: {{type: postgres, connection: {{url: {}}}}}\n", id="mapping"),
    ],
)
def test_a_long_connection_string_cut_short_in_a_message_stays_masked(where: str) -> None:
    """Messages shorten long values; the password is masked before, not after."""
    password = SECRET + "-and-then-some-more-characters-to-make-it-long"
    url = f"postgresql://replication_user:{quote(password, safe='')}@db.example.com/dw"
    text = (
        "connections:\n"
        + where.format(url)
        + "  destination: {type: duckdb, connection: a.duckdb}\ntables: [{name: t}]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_replication(text)
    assert "postgresql://replication_user:***" in str(caught.value)
    assert "S3cr3t" not in str(caught.value)


@pytest.mark.parametrize("form", list(CONNECTION_FORMS))
def test_validate_output_never_shows_the_password(
    form: str, tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _config(CONNECTION_FORMS[form])
    bad = _config(CONNECTION_FORMS[form], "{name: users, mode: merge}")
    for text, code in ((good, 0), (bad, 2)):
        path = f"{tmp_path}/replication.yaml"
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        assert main(["validate", path]) == code
        out, err = capsys.readouterr()
        assert out + err
        assert _substrings_of(out + err, SECRET) == set()


# Passwords start with "Zq" and end with "Qz", markers found nowhere else in the strings
# built here: a password leaked even in part (its head or its tail) shows a marker.
# Characters that end or escape a value somewhere (whitespace of every kind, quotes,
# backslash, URL delimiters) are drawn often.
TRICKY = " \t\n\r\x0b\x0c\\'\"@:/?#&=%+$;,[]{}\u00a0\u2028\u2029\u3000\u0085\ufeff"
passwords = st.text(
    st.sampled_from(TRICKY) | st.characters(codec="utf-8", exclude_characters="\x00"),
    min_size=1,
    max_size=16,
).map(lambda middle: f"Zq{middle}Qz")


def leaks(text: str) -> bool:
    return "Zq" in text or "Qz" in text


@st.composite
def connection_templates(draw: st.DrawFn, password: str) -> tuple[str, str]:
    """``(template, password as written)``: a libpq connection string with a ``{}`` hole."""
    form = draw(st.sampled_from(["url", "query", "quoted", "escaped", "spaced"]))
    if form == "url":
        return "postgresql://etl:{}@db:5432/dw", quote(password, safe="")
    if form == "query":
        return "postgresql://etl@db/dw?sslmode=disable&password={}", quote(password, safe="")
    if form == "quoted":
        return "host=db password={} dbname=dw", (
            "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"
        )
    if form == "escaped":
        return "host=db password={} dbname=dw", _conninfo_escape(password)
    return "host=db password = {} port=5432", _conninfo_escape(password)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), password=passwords)
def test_no_password_leaks_property(data: st.DataObject, password: str) -> None:
    """Any password, in any form libpq reads, is masked whole: in models and in errors."""
    template, written = data.draw(connection_templates(password))
    connection = template.format(written)
    assert conninfo_to_dict(connection)["password"] == password
    pg = PostgresConnection(connection=connection)
    assert pg.display == template.format(MASK)
    assert password in pg.secrets
    rep = Replication(
        connections=Connections(source=pg, destination=DuckDBConnection(connection="a.duckdb")),
        tables=[Table(name="t")],
    )
    for text in (repr(pg), str(pg), repr(rep), str(rep)):
        assert not leaks(text), text
    mistake = data.draw(st.sampled_from(["mode", "malformed", "unknown option", "mapping"]))
    if mistake == "malformed":
        text = _config(connection + " dbname")
    elif mistake == "unknown option":
        separator = ("&" if "?" in connection else "?") if "://" in connection else " "
        text = _config(connection + separator + "foo=bar")
    elif mistake == "mapping":
        text = _config(connection).replace("{type: postgres, connection: ", "[").replace("}", "]")
    else:
        text = _config(connection, "{name: users, mode: 5}")
    with pytest.raises(ConfigError) as caught:
        load_replication(text)
    assert not leaks(str(caught.value)), str(caught.value)
