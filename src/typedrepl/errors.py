"""The errors typedrepl raises.

Every error derives from :class:`TypedReplError`; configuration mistakes raise
:class:`ConfigError`, which carries one :class:`ConfigIssue` per mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from typedrepl._secrets import redact_url

if TYPE_CHECKING:
    from typedrepl._results import TableResult

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "EngineError",
    "ReplicationError",
    "TableFailure",
    "TypedReplError",
]


class TypedReplError(Exception):
    """Root of every error raised by typedrepl."""


@attrs.frozen(kw_only=True)
class ConfigIssue:
    """One mistake in a replication config.

    ``path`` is where the mistake is in the config (``tables[2].primary_key``);
    ``file``/``line``/``column`` say where it is in the YAML (1-based), when known.
    """

    # Both may quote what the user wrote (a key, a value): passwords in it are masked.
    path: str = attrs.field(converter=redact_url)
    message: str = attrs.field(converter=redact_url)
    file: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def location(self) -> str:
        """``file:line:column`` (as much of it as is known)."""
        parts = [self.file or "<config>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.location}: {where}{self.message}"


class ConfigError(TypedReplError, ValueError):
    """A replication config is invalid; ``issues`` lists every mistake found."""

    issues: tuple[ConfigIssue, ...]

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        count = len(self.issues)
        head = f"invalid replication config ({count} error{'s' if count != 1 else ''})"
        super().__init__("\n".join([head, *(f"  {issue}" for issue in self.issues)]))


class EngineError(TypedReplError):
    """A database refused an operation, or data cannot be copied faithfully.

    ``table`` names the replicated table and ``column`` the column, when the
    error concerns one. Messages never contain passwords.
    """

    table: str | None
    column: str | None

    def __init__(
        self, message: str, *, table: str | None = None, column: str | None = None
    ) -> None:
        self.table = table
        self.column = column
        prefix = ""
        if table is not None:
            prefix = f"table {table!r}"
            if column is not None:
                prefix += f", column {column!r}"
            prefix += ": "
        super().__init__(prefix + message)


@attrs.frozen(kw_only=True)
class TableFailure:
    """One table that failed to replicate and why (the message is redacted)."""

    table: str
    error: str
    error_type: str


class ReplicationError(TypedReplError):
    """One or more tables failed; the others were replicated.

    ``failures`` names every failed table with its cause; ``results`` holds the
    results of the tables that succeeded.
    """

    failures: tuple[TableFailure, ...]
    results: tuple[TableResult, ...]

    def __init__(
        self, failures: Sequence[TableFailure], results: Sequence[TableResult] = ()
    ) -> None:
        self.failures = tuple(failures)
        self.results = tuple(results)
        lines = [f"{len(self.failures)} table(s) failed:"]
        lines += [f"  {f.table}: {f.error_type}: {f.error}" for f in self.failures]
        super().__init__("\n".join(lines))
