"""How the checks of :mod:`typedrepl.testing` report a failure: keys, names, examples.

Every check raises :class:`AssertionError` with a readable report: the tables, the
asset keys, and a minimal example. A report names only the tables involved (one
table, or the two that collide). A property that does not hold raises
:class:`Failure`, whose ``str()`` is that report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from dagster import AssetKey

from typedrepl._loading import dump_replication
from typedrepl._models import Connections, DuckDBConnection, Replication, Table

__all__ = [
    "Failure",
    "key_order",
    "shorten",
    "show_example",
    "show_key",
    "show_keys",
    "show_names",
    "translator_name",
]

_MAX_LISTED: Final = 8
"""Name at most this many tables or keys in one line of a report."""


class Failure(Exception):
    """A property does not hold; ``str()`` is the readable report (built when asked).

    ``kind`` names the property; ``tables`` are the tables to show as the example.
    """

    def __init__(
        self, kind: str, text: str, tables: Sequence[Table], *, label: str = "minimal example"
    ) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text
        self.tables = tuple(tables)
        self.label = label

    def __str__(self) -> str:
        if not self.tables:
            return self.text
        return f"{self.text}\n{show_example(self.tables, label=self.label)}"


def show_key(key: AssetKey) -> str:
    """``'raw/users'``; ``AssetKey(['a/b', ''])`` when the ``a/b`` form is ambiguous."""
    path = list(key.path)
    if path and all(part and "/" not in part for part in path):
        return repr(key.to_user_string())
    return f"AssetKey({path!r})"


def key_order(key: AssetKey) -> tuple[str, ...]:
    return tuple(key.path)


def show_keys(keys: Sequence[AssetKey]) -> str:
    shown = [show_key(k) for k in keys[:_MAX_LISTED]]
    more = len(keys) - len(shown)
    return "[" + ", ".join(shown) + (f", ... ({more} more)" if more else "") + "]"


def show_names(names: Sequence[str]) -> str:
    shown = [repr(n) for n in names[:_MAX_LISTED]]
    more = len(names) - len(shown)
    return "[" + ", ".join(shown) + (f", ... ({more} more)" if more else "") + "]"


def translator_name(translator: object) -> str:
    if translator is None:
        return "ReplicationTranslator()"
    return type(translator).__qualname__


def show_example(tables: Sequence[Table], *, label: str = "minimal example") -> str:
    """The tables as the ``tables:`` block of a config (fields equal to defaults left out)."""
    placeholder = Connections(
        source=DuckDBConnection(connection="-"), destination=DuckDBConnection(connection="-")
    )
    text = dump_replication(Replication(connections=placeholder, tables=tuple(tables)))
    lines = text.splitlines()
    block = lines[lines.index("tables:") :] if "tables:" in lines else lines
    count = f"{len(tables)} table{'s' if len(tables) != 1 else ''}"
    body = "\n".join(f"    {line}" for line in block)
    return f"  {label} ({count}):\n{body}"


def shorten(value: object, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
