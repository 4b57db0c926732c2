"""The PostgreSQL source's dates and timestamps: read as PostgreSQL's integers, moved to
1970 a column at a time (lists element by element), ±infinity kept, NULLs kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import Side, replication_for
from typedrepl import ReplicationError
from typedrepl._run import replicate

ROWS = [
    (1, '{infinity,NULL,"2024-02-29 12:00:00"}', "{-infinity,2000-01-01,NULL}", "1999-12-31"),
    (2, None, None, None),
    (3, "{}", "{}", "infinity"),
    (4, '{"4713-11-24 00:00:00 BC",-infinity}', '{"4713-11-24 BC"}', "-infinity"),
    (5, '{"2000-01-01 00:00:00.000001"}', "{5874897-12-31}", "2000-01-01"),
]


def _source(make_side: Callable[[str], Side]) -> Side:
    source = make_side("postgres")
    source.execute("CREATE TABLE t (id integer PRIMARY KEY, ts timestamp[], ds date[], d date)")
    source.insert("t", ROWS)
    return source


@pytest.mark.parametrize("batch_size", [2, 10_000])
def test_date_and_timestamp_lists_keep_every_value(
    make_side: Callable[[str], Side], batch_size: int
) -> None:
    source, destination = _source(make_side), make_side("duckdb")
    (result,) = replicate(
        replication_for(source, destination, [{"name": "t", "primary_key": "id"}]),
        batch_size=batch_size,
    )
    assert result.rows_written == len(ROWS)
    got = destination.execute("SELECT id, ts::VARCHAR, ds::VARCHAR, d::VARCHAR FROM t ORDER BY id")
    assert got == [
        (
            1,
            "[infinity, NULL, '2024-02-29 12:00:00']",
            "[-infinity, 2000-01-01, NULL]",
            "1999-12-31",
        ),
        (2, None, None, None),
        (3, "[]", "[]", "infinity"),
        (4, "['4713-11-24 (BC) 00:00:00', -infinity]", "['4713-11-24 (BC)']", "-infinity"),
        (5, "['2000-01-01 00:00:00.000001']", "[5874897-12-31]", "2000-01-01"),
    ]


def test_a_timestamp_beyond_duckdb_in_a_list_names_its_row(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = _source(make_side), make_side("duckdb")
    replication = replication_for(source, destination, [{"name": "t", "primary_key": "id"}])
    replicate(replication)
    source.execute(
        "INSERT INTO t VALUES (6, '{2024-01-01,infinity}', NULL, NULL), "
        "(7, '{2024-01-01,\"294247-01-10 04:00:54.775807\"}', NULL, NULL)"
    )
    with pytest.raises(ReplicationError) as caught:
        replicate(replication)
    (failure,) = caught.value.failures
    assert "DuckDB's last" in failure.error
    assert "at row 7 of the batch" in failure.error
    assert "column 'ts'" in failure.error
    assert destination.execute("SELECT count(*) FROM t") == [(len(ROWS),)]
