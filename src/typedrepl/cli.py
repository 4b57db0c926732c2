"""The ``typedrepl`` command: ``validate``, ``plan`` and ``run`` a replication file."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from typedrepl._loading import load_replication
from typedrepl._models import Replication, Table
from typedrepl.errors import ConfigError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2


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
        return load_replication(path)
    except ConfigError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        return None


def _validate(args: argparse.Namespace) -> int:
    replication = _load(args.file)
    if replication is None:
        return EXIT_CONFIG
    print(f"{args.file}: valid: {_summary(replication)}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(prog="typedrepl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a replication file; exit 2 on errors")
    validate.add_argument("file")
    validate.set_defaults(handler=_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``typedrepl`` console script."""
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
