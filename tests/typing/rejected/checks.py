"""Checks of ``typedrepl.testing`` that mypy must reject (``# E:`` names the error codes)."""

from pathlib import Path

import attrs

from typedrepl import Replication, Table
from typedrepl.testing import (
    assert_keys_match_dry_run,
    assert_replication_ok,
    assert_roundtrip,
    assert_translator_consistent,
)


@attrs.frozen(kw_only=True)
class MyTable(Table):
    owner: str


@attrs.frozen(kw_only=True)
class OtherTable(Table):
    """A sibling of ``MyTable``: neither is the other."""

    region: str


def check(path: Path, rep: Replication[MyTable]) -> None:
    assert_roundtrip(rep, table_type=OtherTable)  # E: misc
    assert_roundtrip(path)  # E: arg-type
    assert_translator_consistent(None, rep.tables)  # E: arg-type
    assert_keys_match_dry_run(rep, table_type=OtherTable)  # E: misc
    assert_replication_ok(path, max_examples="10")  # E: arg-type
    summary: str = assert_replication_ok(path)  # E: assignment
    del summary
