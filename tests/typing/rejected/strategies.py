"""Uses of the hypothesis strategies that mypy must reject (``# E:`` names the error codes)."""

import attrs
from hypothesis import strategies as st

from typedrepl import Replication, Table
from typedrepl.testing import identifiers, replications, subsets, tables


@attrs.frozen(kw_only=True)
class MyTable(Table):
    owner: str


tables(int)  # E: type-var
tables(MyTable, owner=3)  # E: call-overload
tables(MyTable, st.text())  # E: call-overload
plain: st.SearchStrategy[MyTable] = tables()  # E: assignment
reps: st.SearchStrategy[Replication[MyTable]] = replications()  # E: assignment
replications(st.integers())  # E: type-var
replications(tables(), max_tables="5")  # E: call-overload
identifiers(max_bytes="63")  # E: arg-type


def names_of(rep: Replication[Table]) -> None:
    names: st.SearchStrategy[list[str]] = subsets(rep)  # E: assignment
    subsets(rep.tables)  # E: arg-type
    del names
