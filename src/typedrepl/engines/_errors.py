"""Errors raised by engines, and turning driver errors into redacted ``EngineError`` s."""

from __future__ import annotations

from collections.abc import Iterable

import yaml

from typedrepl._secrets import scrub
from typedrepl.errors import EngineError

__all__ = ["RejectedValueError", "driver_error", "interrupted", "kept_error", "way_out"]


def way_out(*columns: str, json: bool = True, view: str = "") -> str:
    """The ways out for columns that cannot be copied as they are, the config's override first.

    ``set column_types: {geom: text} (or json) for this table, or leave it out with
    exclude_columns``; ``view`` (``"cast it in a source view"``) is offered in between, and
    ``json=False`` leaves out the ``json`` override where it would not help. The column
    names are quoted as YAML needs them, so the snippet can be pasted into the config;
    several columns share one snippet (``{b: text, u: text}``) and are left out as "them".
    """
    snippet = yaml.safe_dump(
        dict.fromkeys(columns, "text"),
        default_flow_style=True,
        allow_unicode=True,
        width=2**31,
        sort_keys=False,
    ).strip()
    also = " (or json)" if json else ""
    between = f", {view}" if view else ""
    them = "them" if len(columns) > 1 else "it"
    return (
        f"set column_types: {snippet}{also} for this table{between}, "
        f"or leave {them} out with exclude_columns"
    )


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


def kept_error(what: str, message: str, secrets: Iterable[str]) -> EngineError:
    """A full refresh could not give the new table ``what`` the replaced one had."""
    return driver_error(
        Exception(
            f"full_refresh cannot give the new table the {what} of the table it replaces: "
            f"{message}; drop or change it in the destination, or fix the source "
            "(the destination was not changed)"
        ),
        secrets,
        doing="load failed",
    )


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C as a driver reports it.

    When SIGINT arrives while DuckDB's Python client runs a statement, the client takes
    Python's ``KeyboardInterrupt`` and ends the statement with ``RuntimeError('Query
    interrupted')`` (``duckdb.InterruptException`` after ``interrupt()``). psycopg
    cancels the statement and raises the ``KeyboardInterrupt`` itself.
    """
    if isinstance(exc, RuntimeError) and str(exc) == "Query interrupted":
        return True
    kind = type(exc)
    return kind.__name__ == "InterruptException" and kind.__module__.endswith("duckdb")
