"""What the checks run on: a replication file, and the objects ``typedrepl check`` names.

``--translator`` and ``--table-type`` name objects as ``module:attr``
(:func:`load_object`); the table model a translator is written for is read from it
(:func:`infer_table_type`).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import sys
import typing
from pathlib import Path
from typing import cast

from typedrepl._loading import load_replication
from typedrepl._models import Replication, Table, TableT
from typedrepl._translator import Translator

__all__ = ["as_replication", "infer_table_type", "load_object", "translator_from"]


def load_object(spec: str) -> object:
    """``module:attr`` (``attr`` may be dotted), imported with the working directory on ``sys.path``.

    Raises:
        ValueError: ``spec`` is not ``module:attr``, or the module or attribute is missing.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        msg = f"expected module:attribute (like my_project.assets:translator), got {spec!r}"
        raise ValueError(msg)
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        value: object = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or whatever the module raises when imported
        msg = f"cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        raise ValueError(msg) from exc
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            msg = f"{module_name!r} has no attribute {attr!r}"
            raise ValueError(msg) from None
    return value


def translator_from(value: object, spec: str) -> Translator[Table]:
    """A translator instance from what ``--translator`` named: an instance, or a class.

    Raises:
        ValueError: the class cannot be instantiated without arguments, or the object is
            no translator (it has no ``get_asset_spec`` and ``get_asset_key``).
    """
    if isinstance(value, type):
        try:
            value = value()
        except Exception as exc:
            msg = f"{spec} is a class and calling it without arguments failed: {exc}"
            raise ValueError(msg) from exc
    if not all(callable(getattr(value, m, None)) for m in ("get_asset_spec", "get_asset_key")):
        msg = f"{spec} is a {type(value).__name__}, not a translator (no get_asset_spec)"
        raise ValueError(msg)
    return cast("Translator[Table]", value)


def infer_table_type(translator: object) -> type[Table]:
    """The table model a translator is written for (default :class:`Table`).

    Read from the generic base (``class T(ReplicationTranslator[MyTable])``), the
    instance's parameter (``ReplicationTranslator[MyTable]()``), or the annotation of
    ``get_asset_key``'s table parameter.
    """
    if translator is None:
        return Table
    candidates: list[object] = []
    for cls in type(translator).__mro__:
        for base in getattr(cls, "__orig_bases__", ()):
            candidates += typing.get_args(base)
    candidates += typing.get_args(getattr(translator, "__orig_class__", None))
    method = getattr(type(translator), "get_asset_key", None)
    if method is not None:
        with contextlib.suppress(Exception):
            parameters = list(inspect.signature(method, eval_str=True).parameters.values())
            if len(parameters) >= 2:
                candidates.append(parameters[1].annotation)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, Table):
            return candidate
    return Table


def as_replication(
    source: str | os.PathLike[str] | Replication[TableT],
    translator: object,
    table_type: type[TableT] | None,
) -> Replication[TableT]:
    if isinstance(source, Replication):
        return source
    kind = infer_table_type(translator) if table_type is None else table_type
    return cast("Replication[TableT]", load_replication(Path(source), table_type=kind))
