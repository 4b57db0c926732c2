"""Bad input is an error naming the table (and column, and a key), with the destination untouched."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import Side, replication_for
from typedrepl import EngineError, ReplicationError, TableResult
from typedrepl._run import iter_replicate, replicate
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
