"""Bad input is an error naming the table (and column, and a key), with the destination untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from conftest import Side, replication_for
from typedrepl import EngineError, ReplicationError, TableResult
from typedrepl._plan import plan
from typedrepl._run import iter_replicate, replicate
from typedrepl.cli import EXIT_FAILED, main
from typedrepl.errors import TableFailure


@pytest.mark.parametrize("mode", ["merge", "incremental"])
@pytest.mark.parametrize(
    ("bad_rows", "expected"),
    [
        ([(2, "dup"), (2, "again")], "duplicate primary key: (id=2) appears 2 times"),
        ([(None, "no key")], "1 row(s) have a NULL primary key (id)"),
    ],
    ids=["duplicate", "null"],
)
def test_bad_keys_fail_before_the_destination_changes(
    sides: tuple[Side, Side], mode: str, bad_rows: list[tuple[object, ...]], expected: str
) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER, v VARCHAR)")
    source.insert("t", [(1, "a")])
    table = {"name": "t", "mode": mode, "primary_key": "id"}
    if mode == "incremental":
        table["cursor"] = "v"
    replicate(replication_for(source, destination, [table]))
    source.insert("t", bad_rows)
    source.execute("UPDATE t SET v = 'changed' WHERE id = 1")
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [table]))
    (failure,) = caught.value.failures
    assert failure.table == "t"
    assert expected in failure.error
    assert destination.execute("SELECT id, v FROM t") == [(1, "a")]


def test_duplicate_key_under_full_refresh_keeps_the_old_table(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE t (id INTEGER, v VARCHAR)")
    source.insert("t", [(1, "a")])
    replicate(replication_for(source, destination, [{"name": "t", "primary_key": "id"}]))
    source.insert("t", [(1, "twin")])
    with pytest.raises(ReplicationError, match=r"(?i)duplicate"):
        replicate(replication_for(source, destination, [{"name": "t", "primary_key": "id"}]))
    assert destination.execute("SELECT id, v FROM t") == [(1, "a")]


def test_nul_in_text_for_postgres_names_table_column_and_key(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note VARCHAR)")
    source.execute("INSERT INTO t VALUES (1, 'fine')")
    replicate(replication_for(source, destination, [{"name": "t", "primary_key": "id"}]))
    source.execute("INSERT INTO t VALUES (2, 'ok'), (7, 'bad' || chr(0) || 'byte')")
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [{"name": "t", "primary_key": "id"}]))
    (failure,) = caught.value.failures
    assert "table 't', column 'note'" in failure.error
    assert "NUL" in failure.error
    assert "id=7" in failure.error
    assert destination.execute("SELECT id, note FROM t") == [(1, "fine")]


def test_one_failed_table_does_not_stop_the_others(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    source.execute("CREATE TABLE good (id INTEGER)")
    source.execute("CREATE TABLE bad (id INTEGER)")
    source.insert("good", [(1,), (2,)])
    source.insert("bad", [(1,), (1,)])
    tables = [
        {"name": "bad", "mode": "merge", "primary_key": "id"},
        {"name": "good"},
    ]
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, tables))
    error = caught.value
    assert [f.table for f in error.failures] == ["bad"]
    assert "bad" in str(error)
    assert [r.table for r in error.results] == ["good"]
    assert destination.execute("SELECT count(*) FROM good") == [(2,)]
    assert not destination.exists(destination.default_schema, "bad")


def test_outcomes_are_yielded_as_each_table_finishes(sides: tuple[Side, Side]) -> None:
    source, destination = sides
    for name in ("a", "b"):
        source.execute(f"CREATE TABLE {name} (id INTEGER)")
    outcomes = iter_replicate(replication_for(source, destination, [{"name": "a"}, {"name": "b"}]))
    first = next(outcomes)
    assert isinstance(first, TableResult)
    assert first.table == "a"
    assert destination.exists(destination.default_schema, "a")
    assert not destination.exists(destination.default_schema, "b")
    assert [o.table for o in outcomes] == ["b"]


def test_unknown_tables_are_named_before_anything_runs(make_side: Callable[[str], Side]) -> None:
    source, destination = make_side("duckdb"), make_side("duckdb")
    source.execute("CREATE TABLE a (id INTEGER)")
    replication = replication_for(source, destination, [{"name": "a"}])
    with pytest.raises(EngineError, match="nope, zzz"):
        iter_replicate(replication, ["a", "zzz", "nope"])
    with pytest.raises(EngineError, match="zzz"):
        replicate(replication, ["zzz"])
    assert not destination.exists("main", "a")


def test_passwords_never_appear_in_errors(
    make_side: Callable[[str], Side], postgres_url: str
) -> None:
    source = make_side("duckdb")
    source.execute("CREATE TABLE t (id INTEGER)")
    parts = urlsplit(postgres_url)
    assert parts.password
    wrong = "wr0ng-Secret-pw"
    bad_url = urlunsplit(
        parts._replace(netloc=f"{parts.username}:{wrong}@{parts.hostname}:{parts.port}")
    )
    bad = Side("postgres", bad_url)
    outcomes = list(iter_replicate(replication_for(source, bad, [{"name": "t"}])))
    (failure,) = outcomes
    assert isinstance(failure, TableFailure)
    assert "password authentication failed" in failure.error
    assert wrong not in failure.error
    assert wrong not in repr(failure)

    # an error raised by the server on a good connection: the real password stays hidden too
    good = Side("postgres", postgres_url)
    good.execute("CREATE TABLE t (id INTEGER, extra INTEGER NOT NULL)")
    source.insert("t", [(1,)])
    (failure,) = list(
        iter_replicate(replication_for(source, good, [{"name": "t", "mode": "append"}]))
    )
    assert isinstance(failure, TableFailure)
    assert parts.password not in failure.error


# --------------------------------------------------------------------------- unmappable columns
# Every column of a table that cannot be copied is named in one error (plan and run alike),
# with one way out for all of them: the user fixes the config once, not once per column.

_BIT = "column 'b': source type BIT cannot be copied: bit strings are not supported"
_UNION = (
    "column 'u': source type UNION(n INTEGER, s VARCHAR) cannot be copied: unions are not supported"
)
_NANOS = (
    "column 'ns': source type TIMESTAMP_NS cannot be copied: nanoseconds cannot be kept by "
    "PostgreSQL (microseconds); cast the column to TIMESTAMP in a view to truncate explicitly"
)
_POINT = "column 'p': source type point cannot be copied: PostgreSQL type point is not supported"
_MONEY = "column 'm': source type money cannot be copied: PostgreSQL type money is not supported"
_NUMERIC = (
    "column 'n': source type numeric cannot be copied: unconstrained numeric: PostgreSQL to "
    "PostgreSQL only; into DuckDB it is an error naming the column (cast it to numeric(p,s) "
    "with p <= 38 in a view, or exclude it)"
)
_THEM = "(or json) for this table, or leave them out with exclude_columns"

UNMAPPABLE = [
    (
        "duckdb",
        "postgres",
        "CREATE TABLE t (id INTEGER, b BIT, ok VARCHAR, u UNION(n INTEGER, s VARCHAR), "
        "ns TIMESTAMP_NS)",
        "INSERT INTO t VALUES (1, '101', 'a', 7, TIMESTAMP_NS '2024-01-01 00:00:00.123456789')",
        f"{_BIT}; {_UNION}; {_NANOS}; set column_types: {{b: text, u: text, ns: text}} {_THEM}",
        ["b", "u", "ns"],
    ),
    (
        "duckdb",
        "duckdb",
        "CREATE TABLE t (id INTEGER, b BIT, ok VARCHAR, u UNION(n INTEGER, s VARCHAR))",
        "INSERT INTO t VALUES (1, '101', 'a', 7)",
        f"{_BIT}; {_UNION}; set column_types: {{b: text, u: text}} {_THEM}",
        ["b", "u"],
    ),
    (
        "postgres",
        "duckdb",
        "CREATE TABLE t (id integer, p point, ok text, m money, n numeric)",
        "INSERT INTO t VALUES (1, '(1,2)', 'a', 12.5, 1.5)",
        f"{_POINT}; {_MONEY}; {_NUMERIC}; set column_types: {{p: text, m: text, n: text}} {_THEM}",
        ["p", "m", "n"],
    ),
    (
        "postgres",
        "postgres",
        "CREATE TABLE t (id integer, p point, ok text, m money, n numeric)",
        "INSERT INTO t VALUES (1, '(1,2)', 'a', 12.5, 1.5)",
        f"{_POINT}; {_MONEY}; set column_types: {{p: text, m: text}} {_THEM}",
        ["p", "m"],
    ),
]


@pytest.mark.parametrize(
    ("source_kind", "destination_kind", "create", "insert", "expected", "bad"),
    UNMAPPABLE,
    ids=[f"{c[0]}-{c[1]}" for c in UNMAPPABLE],
)
def test_every_unmappable_column_is_named_in_one_error(
    make_side: Callable[[str], Side],
    source_kind: str,
    destination_kind: str,
    create: str,
    insert: str,
    expected: str,
    bad: list[str],
) -> None:
    source, destination = make_side(source_kind), make_side(destination_kind)
    source.execute(create)
    source.execute(insert)
    tables = [{"name": "t"}]

    (planned,) = plan(replication_for(source, destination, tables))
    assert planned.error == expected
    assert planned.error_column is None  # the error is about several columns

    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, tables))
    (failure,) = caught.value.failures
    assert failure.error == f"table 't': {expected}"
    assert not destination.exists(destination.default_schema, "t")

    # the way out names them all: setting it once is enough
    fixed = [{"name": "t", "column_types": dict.fromkeys(bad, "text")}]
    (planned,) = plan(replication_for(source, destination, fixed))
    assert planned.error is None
    (result,) = replicate(replication_for(source, destination, fixed))
    assert result.rows_written == 1


def test_one_unmappable_column_keeps_its_message(make_side: Callable[[str], Side]) -> None:
    """The others are overridden: the error names the one left, as it always has."""
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER, b BIT, u UNION(n INTEGER, s VARCHAR))")
    tables = [{"name": "t", "column_types": {"b": "json"}}]
    (planned,) = plan(replication_for(source, destination, tables))
    way_out = "set column_types: {u: text} (or json) for this table, or leave it out with "
    assert planned.error == f"{_UNION}; {way_out}exclude_columns"
    assert planned.error_column == "u"
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, tables))
    (failure,) = caught.value.failures
    assert failure.error == (
        "table 't', column 'u': source type UNION(n INTEGER, s VARCHAR) cannot be copied: "
        f"unions are not supported; {way_out}exclude_columns"
    )


# --------------------------------------------------------------------------- destination file


@pytest.mark.parametrize("parent", ["missing", "a file"])
def test_duckdb_destination_in_a_missing_directory_fails_plan_and_run_alike(
    make_side: Callable[[str], Side],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    parent: str,
) -> None:
    """A missing destination file is created, its missing directory is not: plan says so too."""
    source = make_side("duckdb")
    source.execute("CREATE TABLE users (id INTEGER)")
    source.execute("CREATE TABLE orders (id INTEGER)")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    if parent == "a file":
        (work / "out").write_text("not a directory")
        problem = f"{str(work / 'out')!r} is not a directory"
    else:
        problem = f"the directory {str(work / 'out')!r} does not exist"
    expected = (
        f"cannot open DuckDB file 'out/back.duckdb': {problem} (typedrepl creates a missing "
        "destination file, not its directory); create the directory or correct the path "
        "(relative to the working directory)"
    )
    destination = Side("duckdb", "out/back.duckdb")
    tables = [{"name": "users"}, {"name": "orders"}]

    with pytest.raises(EngineError) as planned:
        plan(replication_for(source, destination, tables))
    assert str(planned.value) == expected

    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, tables))
    assert [(f.table, f.error) for f in caught.value.failures] == [
        ("users", f"table 'users': {expected}"),
        ("orders", f"table 'orders': {expected}"),
    ]
    assert caught.value.results == ()
    assert sorted(p.name for p in work.iterdir()) == ([] if parent == "missing" else ["out"])

    config = {
        "connections": {"source": source.config(), "destination": destination.config()},
        "tables": tables,
    }
    (tmp_path / "replication.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    assert main(["plan", str(tmp_path / "replication.yaml")]) == EXIT_FAILED
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"error: {expected}"]

    # once the directory is there, plan and run both create the file
    if parent == "a file":
        (work / "out").unlink()
    (work / "out").mkdir()
    assert [p.describe() for p in plan(replication_for(source, destination, tables))] == [
        "create main.users; load",
        "create main.orders; load",
    ]
    assert not (work / "out" / "back.duckdb").exists()  # plan writes nothing
    assert len(replicate(replication_for(source, destination, tables))) == 2
    assert destination.exists("main", "users")


def test_duckdb_paths_under_home_are_read_as_duckdb_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``~/a.duckdb``: DuckDB expands ``~``, so typedrepl's own checks of the path do too."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "out").mkdir()
    source, destination = Side("duckdb", "~/src.duckdb"), Side("duckdb", "~/out/dst.duckdb")
    source.execute("CREATE TABLE users AS SELECT range AS id FROM range(3)")
    assert (tmp_path / "src.duckdb").is_file()
    tables = [{"name": "users", "primary_key": "id", "mode": "merge"}]
    assert [p.describe() for p in plan(replication_for(source, destination, tables))] == [
        "create main.users; merge on (id)"
    ]
    replicate(replication_for(source, destination, tables))
    assert [p.describe() for p in plan(replication_for(source, destination, tables))] == [
        "merge on (id)"
    ]
    assert destination.execute("SELECT count(*) FROM users") == [(3,)]
    assert (tmp_path / "out" / "dst.duckdb").is_file()
