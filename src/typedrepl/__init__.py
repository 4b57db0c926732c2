"""typedrepl: typed database replications (DuckDB <-> PostgreSQL) as Dagster assets.

``import typedrepl`` loads neither Dagster nor a database driver: the names that
need them are imported the first time they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from typedrepl._loading import dump_replication, load_replication
from typedrepl._models import (
    Connection,
    Connections,
    DuckDBConnection,
    LoadMode,
    PostgresConnection,
    Replication,
    Table,
    TableMeta,
)
from typedrepl.errors import (
    ConfigError,
    ConfigIssue,
    EngineError,
    ReplicationError,
    TypedReplError,
)

if TYPE_CHECKING:
    from typedrepl._results import ColumnResult, TableResult
    from typedrepl._run import replicate

__all__ = [
    # models
    "Connection",
    "Connections",
    "DuckDBConnection",
    "LoadMode",
    "PostgresConnection",
    "Replication",
    "Table",
    "TableMeta",
    # loading
    "dump_replication",
    "load_replication",
    # running
    "ColumnResult",
    "TableResult",
    "replicate",
    # errors
    "ConfigError",
    "ConfigIssue",
    "EngineError",
    "ReplicationError",
    "TypedReplError",
]

_LAZY: dict[str, str] = {
    "ColumnResult": "typedrepl._results",
    "TableResult": "typedrepl._results",
    "replicate": "typedrepl._run",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'typedrepl' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
