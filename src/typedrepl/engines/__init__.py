"""Database engines. Each database is one module, imported only when a run or plan starts.

``Connection.engine_module`` names the module; :func:`load_engine` imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

from typedrepl.errors import EngineError

if TYPE_CHECKING:
    from typedrepl._models import Connection
    from typedrepl.engines._base import EngineModule

__all__ = ["load_engine"]


def load_engine(connection: Connection) -> EngineModule:
    """Import the engine module of ``connection`` (``EngineError`` if there is none)."""
    name = type(connection).engine_module
    if not name:
        raise EngineError(f"connection type {connection.type!r} has no engine")
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise EngineError(f"cannot import the {connection.type} engine {name!r}: {exc}") from exc
    return cast("EngineModule", module)
