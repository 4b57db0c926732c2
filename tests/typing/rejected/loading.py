"""Loading code that mypy must reject: each ``# E:`` comment names the expected error codes."""

from pathlib import Path

import attrs

from typedrepl import Replication, Table, load_replication


@attrs.frozen(kw_only=True)
class MyTable(Table):
    owner: str


path = Path("replication.yaml")

load_replication(path, table_type=int)  # E: type-var
load_replication(path, table_type=str)  # E: type-var
load_replication(42)  # E: call-overload
load_replication(path, env={"A": 1})  # E: dict-item
plain: Replication[MyTable] = load_replication(path)  # E: assignment
owner: str = load_replication(path).tables[0].owner  # E: attr-defined
mine = load_replication(path, table_type=MyTable)
selected: tuple[MyTable, ...] = load_replication(path).select(None)  # E: assignment
load_replication(path).select("users", "products")  # E: call-arg
count: int = mine.tables[0].owner  # E: assignment
