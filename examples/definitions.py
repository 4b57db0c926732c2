"""The example Dagster project: a DuckDB file replicated into PostgreSQL, one asset per table.

Run it (``TYPEDREPL_DESTINATION_URL`` names the destination database)::

    export TYPEDREPL_DESTINATION_URL=postgresql://postgres:postgres@localhost/postgres
    dagster dev -f examples/definitions.py
    dagster asset materialize -f examples/definitions.py --select raw/users

The DuckDB source (``examples/example.duckdb``, or ``$TYPEDREPL_EXAMPLE_DUCKDB``) is
created when this module is loaded, if missing, by :func:`ensure_example_database`.

Do not add ``from __future__ import annotations`` to a module like this one, which
defines asset bodies: Dagster reads the annotations when it decorates the body, and
with postponed annotations it sees the string ``"AssetExecutionContext"`` instead of
the class and rejects the ``context`` parameter (``Cannot annotate `context` parameter
with type AssetExecutionContext``). ``@replication_assets`` evaluates its own body's
annotations, but a plain ``@dg.asset`` next to it would fail.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from typedrepl import (
    ReplicationResource,
    ReplicationTranslator,
    Table,
    load_replication,
    replication_assets,
)

HERE = Path(__file__).resolve().parent
SOURCE = Path(os.environ.get("TYPEDREPL_EXAMPLE_DUCKDB", HERE / "example.duckdb"))

_TABLES = (
    """CREATE TABLE users AS
    SELECT i::BIGINT AS id, 'user_' || i AS name,
           CASE WHEN i % 7 = 0 THEN NULL ELSE 'user' || i || '@example.com' END AS email,
           DATE '2024-01-01' + (i % 365)::INTEGER AS signed_up_on
    FROM range(1, {users} + 1) t(i)""",
    """CREATE TABLE products AS
    SELECT i::INTEGER AS id, 'product ' || i AS title,
           round(1 + (i * 37 % 10000) / 100.0, 2)::DECIMAL(10, 2) AS price
    FROM range(1, {products} + 1) t(i)""",
    """CREATE TABLE activity AS
    SELECT i::BIGINT AS id, 1 + i % {users} AS user_id, 1 + i % {products} AS product_id,
           (['view', 'cart', 'purchase'])[1 + i % 3] AS kind,
           TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i * 17) AS happened_at
    FROM range(1, {activity} + 1) t(i)""",
)


def ensure_example_database(
    path: Path, *, users: int = 100, products: int = 20, activity: int = 1_000
) -> bool:
    """Create the example DuckDB file unless it exists; return whether it was created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    sizes = {"users": int(users), "products": int(products), "activity": int(activity)}
    with duckdb.connect(str(path)) as conn:
        for statement in _TABLES:
            conn.execute(statement.format(**sizes))
    return True


ensure_example_database(SOURCE)
replication = load_replication(
    HERE / "replication.yaml", env={**os.environ, "TYPEDREPL_EXAMPLE_DUCKDB": str(SOURCE)}
)


@replication_assets(
    replication=replication,
    translator=ReplicationTranslator[Table](key_prefix="raw", group_name="raw"),
    asset_checks=True,
)
def raw_tables(
    context: dg.AssetExecutionContext, replicator: ReplicationResource
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    """Copies the example tables into PostgreSQL (only the selected ones)."""
    yield from replicator.run(context)


replicate_all = dg.define_asset_job("replicate_all", selection=dg.AssetSelection.assets(raw_tables))

defs = dg.Definitions(
    assets=[raw_tables],
    resources={"replicator": ReplicationResource()},
    jobs=[replicate_all],
)
