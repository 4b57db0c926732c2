"""The example Dagster project: a DuckDB file replicated into PostgreSQL, one asset per table.

It replicates the repository's ``replication.yaml``. Run it (``TYPEDREPL_DESTINATION_URL``
names the destination database; ``scripts/demo`` sets it to a throwaway server)::

    export TYPEDREPL_DESTINATION_URL=postgresql://postgres:postgres@localhost/postgres
    dagster dev -f examples/definitions.py
    dagster asset materialize -f examples/definitions.py --select raw/users

The DuckDB source (``example.duckdb`` at the repository root, or ``$TYPEDREPL_EXAMPLE_DUCKDB``) is
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

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(os.environ.get("TYPEDREPL_EXAMPLE_DUCKDB", ROOT / "example.duckdb"))

_TABLES = (
    """CREATE TABLE users AS
    SELECT i::BIGINT AS id, 'user_' || i AS name,
           CASE WHEN i % 7 = 0 THEN NULL ELSE 'user' || i || '@example.com' END AS email,
           (['fr', 'de', 'jp', 'br', 'us'])[1 + i % 5] AS country,
           DATE '2020-01-01' + (i % 1500)::INTEGER AS signed_up_on,
           i % 3 <> 0 AS active,
           CASE WHEN i % 11 = 0 THEN 'Zoë 😀' END AS nickname
    FROM range(1, {users} + 1) t(i)""",
    """CREATE TABLE products AS
    SELECT i::INTEGER AS id, 'product ' || i AS title,
           round(1 + (i * 37 % 10000) / 100.0, 2)::DECIMAL(10, 2) AS price,
           (i * 13 % 500)::SMALLINT AS stock
    FROM range(1, {products} + 1) t(i)""",
    """CREATE TABLE activity AS
    SELECT i::BIGINT AS id, 1 + (i * 7919) % {users} AS user_id,
           1 + (i * 104729) % {products} AS product_id,
           (['view', 'cart', 'purchase', 'return'])[1 + i % 4] AS kind,
           CASE WHEN i % 20 <> 0 THEN (i % 97) * 1.25 END::DOUBLE AS score,
           TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i * 17) AS happened_at,
           TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i * 17) AS recorded_at,
           md5(i::VARCHAR)::UUID AS event_id
    FROM range(1, {activity} + 1) t(i)""",
)


def ensure_example_database(
    path: Path, *, users: int = 1_000, products: int = 200, activity: int = 100_000
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
    ROOT / "replication.yaml", env={**os.environ, "TYPEDREPL_EXAMPLE_DUCKDB": str(SOURCE)}
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
