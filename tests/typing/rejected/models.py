"""Model code that mypy must reject: each ``# E:`` comment names the expected error codes."""

from typedrepl import (
    ColumnType,
    Connections,
    DuckDBConnection,
    LoadMode,
    PostgresConnection,
    Replication,
    Table,
    TableMeta,
)

Table(name=1)  # E: arg-type
Table(nam="x")  # E: call-arg
Table("users")  # E: call-arg
Table(name="x", primary_key=1)  # E: arg-type
Table(name="x", mode="merge")  # E: arg-type
Table(name="x", mode=LoadMode.MERGED)  # E: attr-defined
TableMeta(tags=["a"])  # E: arg-type
Table(name="x", column_types={"geom": "text"})  # E: dict-item
Table(name="x", column_types={"geom": ColumnType.GEOMETRY})  # E: attr-defined
Table(name="x", column_types=["geom"])  # E: arg-type

table = Table(name="users")
table.name = "customers"  # E: misc
table.meta.group = "g"  # E: misc
table.column_types = {}  # E: misc

conns = Connections(
    source=DuckDBConnection(connection="a.duckdb"),
    destination=PostgresConnection(connection="postgresql://localhost/db"),
)
conns.source = DuckDBConnection(connection="b.duckdb")  # E: misc
rep = Replication(connections=conns, tables=[table])
rep.tables = ()  # E: misc
DuckDBConnection(connection="a", type="postgres")  # E: arg-type
mode: LoadMode = "merge"  # E: assignment
