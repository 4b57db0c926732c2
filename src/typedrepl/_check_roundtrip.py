"""The YAML round trip behind ``typedrepl.testing.assert_roundtrip``: dump, load, compare."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import cast

import attrs

from typedrepl._check_report import shorten
from typedrepl._loading import dump_replication, load_replication
from typedrepl._models import Replication, Table, TableT

__all__ = ["check_roundtrip"]


def _table_type_of(replication: Replication[TableT]) -> type[TableT]:
    kinds = {type(t) for t in replication.tables}
    if len(kinds) > 1:
        listed = ", ".join(sorted(k.__qualname__ for k in kinds))
        msg = f"the replication mixes table types ({listed}): pass table_type"
        raise TypeError(msg)
    if not kinds:
        return cast("type[TableT]", Table)
    return kinds.pop()


def _secrets(replication: Replication[TableT]) -> tuple[str, ...]:
    conns = replication.connections
    return (*conns.source.secrets, *conns.destination.secrets)


def _field_differences(where: str, before: object, after: object) -> Iterator[str]:
    if type(before) is not type(after):
        yield f"{where}: a {type(before).__name__} before, a {type(after).__name__} after"
        return
    cls = type(before)
    if not attrs.has(cls):
        if before != after:
            yield f"{where}: {shorten(before)} before, {shorten(after)} after"
        return
    for field in attrs.fields(cls):
        a, b = getattr(before, field.name), getattr(after, field.name)
        if a != b:
            yield from _field_differences(f"{where}.{field.name}", a, b)


def _differences(before: Replication[TableT], after: Replication[TableT]) -> list[str]:
    found = list(_field_differences("connections", before.connections, after.connections))
    if len(before.tables) != len(after.tables):
        found.append(f"tables: {len(before.tables)} before, {len(after.tables)} after")
    for index, (a, b) in enumerate(zip(before.tables, after.tables, strict=False)):
        found += _field_differences(f"tables[{index}] ({a.name!r})", a, b)
    return found


def check_roundtrip(replication: Replication[TableT], table_type: type[TableT] | None) -> None:
    """Implements ``typedrepl.testing.assert_roundtrip``."""
    from typedrepl._secrets import scrub

    kind = _table_type_of(replication) if table_type is None else table_type
    secrets = _secrets(replication)
    text = dump_replication(replication)
    try:
        loaded = load_replication(text, table_type=kind, env={})
    except Exception as exc:
        numbered = "\n".join(f"  {i:4} | {line}" for i, line in enumerate(text.splitlines(), 1))
        msg = scrub(
            f"the YAML dump of the replication does not load back: {exc}\n  the dump:\n{numbered}",
            secrets,
        )
        raise AssertionError(msg) from None
    if loaded == replication:
        return
    lines = [f"    {d}" for d in _differences(replication, loaded)] or [
        "    (equal field by field, yet not equal)"
    ]
    again = dump_replication(loaded)
    diff = list(
        difflib.unified_diff(
            text.splitlines(),
            again.splitlines(),
            "the dump",
            "the dump of what loading it gave",
            lineterm="",
            n=2,
        )
    )
    parts = [
        f"the replication ({len(replication.tables)} tables of {kind.__qualname__}) is not "
        "equal to itself after a YAML dump and load:",
        *lines,
    ]
    if diff:
        parts += ["  YAML diff:", *(f"    {line}" for line in diff)]
    raise AssertionError(scrub("\n".join(parts), secrets))
