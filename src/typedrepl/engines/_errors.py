"""Errors raised by engines, and turning driver errors into redacted ``EngineError`` s."""

from __future__ import annotations

from collections.abc import Iterable

from typedrepl._secrets import scrub
from typedrepl.errors import EngineError

__all__ = ["RejectedValueError", "driver_error"]


class RejectedValueError(EngineError):
    """The destination rejected a value of ``column`` (``row``: its 1-based row in the load).

    ``nul`` says the value is text holding a NUL character, which the run can look
    up in the source to name the row's key.
    """

    row: int | None
    nul: bool

    def __init__(
        self,
        message: str,
        *,
        column: str | None,
        row: int | None = None,
        nul: bool = False,
        table: str | None = None,
    ) -> None:
        super().__init__(message, table=table, column=column)
        self.row = row
        self.nul = nul


def driver_error(
    exc: BaseException, secrets: Iterable[str], *, doing: str, column: str | None = None
) -> EngineError:
    """An ``EngineError`` for a database driver's error, with passwords scrubbed."""
    text = str(exc).strip() or type(exc).__name__
    return EngineError(scrub(f"{doing}: {text}", secrets), column=column)
