"""Runs that mypy must reject: each ``# E:`` comment names the expected error codes."""

import attrs

from typedrepl import Replication, Table, TableResult, replicate
from typedrepl._run import iter_replicate


@attrs.frozen(kw_only=True)
class MyTable(Table):
    owner: str


def run(rep: Replication[MyTable]) -> None:
    replicate(rep, tables=["users", 1])  # E: list-item
    replicate(rep.tables)  # E: arg-type
    replicate(rep, ["users"], 1_000)  # E: call-arg
    replicate(rep, batch_size="1000")  # E: arg-type
    replicate(rep, keep_open=True)  # E: call-arg
    results: list[TableResult] = replicate(rep)  # E: assignment
    for outcome in iter_replicate(rep):
        print(outcome.rows_written)  # E: union-attr
    del results
