"""typedrepl: typed database replications (DuckDB <-> PostgreSQL) as Dagster assets.

``import typedrepl`` loads neither Dagster nor a database driver: the names that
need them are imported the first time they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from typedrepl._loading import dump_replication, load_replication
from typedrepl._models import (
    ColumnType,
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
    from typedrepl._assets import replication_assets, replication_graph_assets
    from typedrepl._component import ReplicationComponent
    from typedrepl._dagster_execution import AssetContractError
    from typedrepl._resource import ReplicationResource
    from typedrepl._results import ColumnResult, TableResult
    from typedrepl._run import replicate
    from typedrepl._specs import AssetSpecError, build_replication_specs
    from typedrepl._translator import (
        AssetAutomationCondition,
        ReplicationTranslator,
        SpecMetadataValue,
        Translator,
    )

__all__ = [
    # models
    "ColumnType",
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
    # dagster
    "ReplicationComponent",
    "ReplicationResource",
    "ReplicationTranslator",
    "Translator",
    "AssetAutomationCondition",
    "SpecMetadataValue",
    "build_replication_specs",
    "replication_assets",
    "replication_graph_assets",
    # errors
    "ConfigError",
    "ConfigIssue",
    "EngineError",
    "ReplicationError",
    "TypedReplError",
    "AssetContractError",
    "AssetSpecError",
]

_LAZY: dict[str, str] = {
    "ColumnResult": "typedrepl._results",
    "TableResult": "typedrepl._results",
    "replicate": "typedrepl._run",
    # dagster
    "AssetContractError": "typedrepl._dagster_execution",
    "AssetSpecError": "typedrepl._specs",
    "ReplicationComponent": "typedrepl._component",
    "ReplicationResource": "typedrepl._resource",
    "ReplicationTranslator": "typedrepl._translator",
    "Translator": "typedrepl._translator",
    "AssetAutomationCondition": "typedrepl._translator",
    "SpecMetadataValue": "typedrepl._translator",
    "build_replication_specs": "typedrepl._specs",
    "replication_assets": "typedrepl._assets",
    "replication_graph_assets": "typedrepl._assets",
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
