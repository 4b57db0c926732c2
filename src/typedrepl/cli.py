"""The ``typedrepl`` command: ``validate``, ``plan``, ``run`` and ``check`` a replication file."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from typedrepl._loading import load_replication
from typedrepl._models import Replication, Table
from typedrepl.errors import ConfigError, EngineError, TableFailure

if TYPE_CHECKING:
    from rich.console import Console

    from typedrepl._results import TableResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
"""Ctrl-C, as a shell reports a command ended by SIGINT (128 + 2)."""


def _summary(replication: Replication[Table]) -> str:
    tables = replication.tables
    modes = ", ".join(sorted({t.mode.value for t in tables}))
    src, dst = replication.connections.source, replication.connections.destination
    return (
        f"{len(tables)} table{'s' if len(tables) != 1 else ''} ({modes}) "
        f"from {src.type} {src.display} to {dst.type} {dst.display}"
    )


def _load(path: str) -> Replication[Table] | None:
    try:
        return load_replication(Path(path))  # a path, never YAML text: a typo is not found
    except ConfigError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        return None


def _selected(replication: Replication[Table], names: Sequence[str] | None) -> bool:
    """Whether every ``--table`` names a table of the file (else say which do not: exit 2)."""
    from typedrepl._plan import select_tables

    try:
        select_tables(replication, names)
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


def _validate(args: argparse.Namespace) -> int:
    replication = _load(args.file)
    if replication is None:
        return EXIT_CONFIG
    print(f"{args.file}: valid: {_summary(replication)}")
    return EXIT_OK


class _RichProgress:
    """A :class:`typedrepl._progress.Progress` drawing one rich progress bar per table."""

    def __init__(self, console: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            Task,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.text import Text

        class RowsPerSecond(ProgressColumn):
            def render(self, task: Task) -> Text:
                speed = task.finished_speed or task.speed
                return Text("" if speed is None else f"{speed:,.0f} rows/s")

        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            RowsPerSecond(),
            TimeElapsedColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _RichProgress:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bars.stop()

    def start(self, table: str, total_rows: int | None) -> None:
        """Add the table's bar."""
        self._tasks[table] = self._bars.add_task(table, total=total_rows)

    def advance(self, table: str, rows: int) -> None:
        """Move the table's bar."""
        self._bars.advance(self._tasks[table], rows)

    def finish(self, table: str) -> None:
        """Stop the table's clock."""
        task = self._tasks[table]
        self._bars.stop_task(task)


def _summary_table(results: Sequence[TableResult], failures: Sequence[TableFailure]) -> object:
    from rich.table import Table as RichTable

    summary = RichTable(title="typedrepl run")
    summary.add_column("table", overflow="fold")
    summary.add_column("mode")
    summary.add_column("destination", overflow="fold")
    for header in ("written", "in dest.", "seconds", "rows/s"):
        summary.add_column(header, justify="right")
    summary.add_column("status", overflow="fold")
    for result in results:
        rate = result.rows_written / result.duration_s if result.duration_s > 0 else 0.0
        notes = ["ok"]
        if result.created:
            notes.append("created")
        if result.added_columns:
            notes.append("added " + ", ".join(result.added_columns))
        if result.cursor is not None:
            notes.append(f"cursor {result.cursor}")
        summary.add_row(
            result.table,
            result.mode.value,
            result.destination,
            f"{result.rows_written:,}",
            f"{result.rows_in_destination:,}",
            f"{result.duration_s:.2f}",
            f"{rate:,.0f}",
            "; ".join(notes),
        )
    for failure in failures:
        summary.add_row(
            failure.table, "", "", "", "", "", "", f"[red]FAILED[/red]: {failure.error_type}"
        )
    return summary


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _console_logger(console: Console, verbose: bool) -> logging.Logger:
    """A logger of the command's own, writing to ``console``.

    It is not registered with :mod:`logging`, so running the command (also in-process,
    as the tests do) changes no global logging state.
    """
    from rich.logging import RichHandler

    logger = logging.Logger("typedrepl", logging.INFO if verbose else logging.WARNING)
    logger.addHandler(RichHandler(console=console, show_path=False, show_time=False))
    return logger


def _run(args: argparse.Namespace) -> int:
    replication = _load(args.file)
    if replication is None or not _selected(replication, args.table):
        return EXIT_CONFIG
    from rich.console import Console

    from typedrepl._run import iter_replicate

    out, err = Console(), Console(stderr=True)
    progress = _RichProgress(err)
    try:
        outcomes = iter_replicate(
            replication,
            args.table or None,
            batch_size=args.batch_size,
            progress=progress,
            logger=_console_logger(err, args.verbose),
            keep_open=True,
        )
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    results: list[TableResult] = []
    failures: list[TableFailure] = []
    try:
        with progress:
            for outcome in outcomes:
                if isinstance(outcome, TableFailure):
                    failures.append(outcome)
                else:
                    results.append(outcome)
    except KeyboardInterrupt:
        out.print(_summary_table(results, failures))
        print(
            "error: interrupted: the table being loaded was rolled back and the tables "
            "after it did not run (the summary lists those done before)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    out.print(_summary_table(results, failures))
    for failure in failures:
        print(
            f"error: table {failure.table} failed: {failure.error_type}: {failure.error}",
            file=sys.stderr,
        )
    return EXIT_FAILED if failures else EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    replication = _load(args.file)
    if replication is None or not _selected(replication, args.table):
        return EXIT_CONFIG
    from typedrepl._plan import plan

    try:
        plans = plan(replication, args.table or None)
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for table_plan in plans:
        print(
            f"{table_plan.table} -> {table_plan.destination} ({table_plan.mode.value}): "
            f"{table_plan.describe()}"
        )
        for statement in table_plan.ddl:
            print(f"    {statement};")
    failed = [p for p in plans if p.error is not None]
    for table_plan in failed:
        print(f"error: table {table_plan.table}: {table_plan.error}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


DEFAULT_CHECK_EXAMPLES = 100


def _check(args: argparse.Namespace) -> int:
    """Run typedrepl.testing's checks on a file: exit 0, 1 (a check failed) or 2 (config)."""
    try:
        from typedrepl import testing
    except ImportError as exc:  # hypothesis is an optional dependency
        print(
            f"error: typedrepl check needs hypothesis ({exc}): pip install 'typedrepl[testing]'",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    from typedrepl._check_objects import infer_table_type, load_object, translator_from
    from typedrepl._checks import ChecksFailed
    from typedrepl._translator import Translator

    translator: Translator[Table] | None = None
    try:
        if args.translator is not None:
            translator = translator_from(load_object(args.translator), args.translator)
        if args.table_type is not None:
            table_type = load_object(args.table_type)
            if not (isinstance(table_type, type) and issubclass(table_type, Table)):
                msg = f"{args.table_type} is not a subclass of typedrepl.Table"
                raise ValueError(msg)
        else:
            table_type = infer_table_type(translator)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        replication = load_replication(Path(args.file), table_type=table_type)
    except ConfigError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        summary = testing.assert_replication_ok(
            replication, translator, max_examples=args.examples, derandomize=True
        )
    except ChecksFailed as exc:
        for failure in exc.failures:
            print(f"error: {args.file}: {failure}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.file}: ok: {summary}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(prog="typedrepl", description=__doc__, allow_abbrev=False)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate", help="check a replication file; exit 2 on errors", allow_abbrev=False
    )
    validate.add_argument("file")
    validate.set_defaults(handler=_validate)

    from typedrepl._run import DEFAULT_BATCH_ROWS

    run = commands.add_parser(
        "run",
        help="copy the tables; exit 1 naming each failed table, 2 on config errors",
        allow_abbrev=False,
    )
    run.add_argument("file")
    run.add_argument(
        "--table", action="append", metavar="NAME", help="copy only this table (repeatable)"
    )
    run.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_ROWS,
        metavar="N",
        help=f"rows per Arrow batch (default {DEFAULT_BATCH_ROWS})",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="log each table's steps")
    run.set_defaults(handler=_run)

    plan = commands.add_parser(
        "plan",
        help="print what a run would do to each table, and its DDL; write nothing",
        allow_abbrev=False,
    )
    plan.add_argument("file")
    plan.add_argument(
        "--table", action="append", metavar="NAME", help="plan only this table (repeatable)"
    )
    plan.set_defaults(handler=_plan)

    check = commands.add_parser(
        "check",
        help="check the translator, YAML round trip and asset selection; no database needed; "
        "exit 1 with a minimal failing example, 2 on config errors",
        allow_abbrev=False,  # --table must not silently mean --table-type
    )
    check.add_argument("file")
    check.add_argument(
        "--translator",
        metavar="MODULE:ATTR",
        help="your translator: an instance, or a class to instantiate without arguments "
        "(imported with the working directory on sys.path; default: ReplicationTranslator)",
    )
    check.add_argument(
        "--table-type",
        metavar="MODULE:ATTR",
        help="your Table subclass to load the file with (default: the translator's)",
    )
    check.add_argument(
        "--examples",
        type=_positive,
        default=DEFAULT_CHECK_EXAMPLES,
        metavar="N",
        help=f"subsets of the tables to check the translator on (default {DEFAULT_CHECK_EXAMPLES})",
    )
    check.set_defaults(handler=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``typedrepl`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except BrokenPipeError:  # ``typedrepl plan f.yaml | head``: the reader left, no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush fails silently
        return EXIT_FAILED
    return code


if __name__ == "__main__":
    sys.exit(main())
