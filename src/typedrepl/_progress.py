"""How a run reports its progress, table by table (the CLI draws rich progress bars)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["NullProgress", "Progress"]


class Progress(Protocol):
    """Receives a run's progress. Calls come from the thread that runs the replication."""

    def start(self, table: str, total_rows: int | None) -> None:
        """``table`` starts loading; ``total_rows`` is how many rows it will copy, if known."""

    def advance(self, table: str, rows: int) -> None:
        """``rows`` more rows of ``table`` were sent to the destination."""

    def finish(self, table: str) -> None:
        """``table`` is done (committed or failed)."""


class NullProgress:
    """A :class:`Progress` that ignores everything."""

    def start(self, table: str, total_rows: int | None) -> None:
        """Ignore."""

    def advance(self, table: str, rows: int) -> None:
        """Ignore."""

    def finish(self, table: str) -> None:
        """Ignore."""
