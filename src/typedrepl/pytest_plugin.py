"""typedrepl's pytest plugin: the ``typedrepl_check`` fixture.

Installed with typedrepl (the ``pytest11`` entry point ``typedrepl``), so a test needs
no import::

    def test_replication_file(typedrepl_check: ReplicationChecker) -> None:
        typedrepl_check("replication.yaml", MyTranslator())

Importing this module is cheap: hypothesis and Dagster load when a check runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from typedrepl._models import Replication, Table

if TYPE_CHECKING:
    from typedrepl._translator import Translator
    from typedrepl.testing import CheckSummary

__all__ = ["ReplicationChecker", "typedrepl_check"]

TableT = TypeVar("TableT", bound=Table)


class ReplicationChecker:
    """Runs :func:`typedrepl.testing.assert_replication_ok`, with paths relative to ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        """Where relative paths start: the pytest root directory."""

    def __call__(
        self,
        source: str | os.PathLike[str] | Replication[TableT],
        translator: Translator[TableT] | None = None,
        *,
        table_type: type[TableT] | None = None,
        max_examples: int = 100,
    ) -> CheckSummary:
        """Check a replication file (relative to the pytest root) or a replication.

        Args:
            source: the file's path, or a replication.
            translator: your translator (default :class:`~typedrepl.ReplicationTranslator`).
            table_type: the table model to load the file with (default: the translator's).
            max_examples: how many subsets of the tables hypothesis draws.

        Returns:
            What was checked.

        Raises:
            AssertionError: the report of every check that failed, each with a minimal
                failing example.
            ConfigError: the file is not a valid replication.
        """
        from typedrepl.testing import assert_replication_ok

        if not isinstance(source, Replication):
            source = self.root / source
        return assert_replication_ok(
            source, translator, table_type=table_type, max_examples=max_examples
        )


@pytest.fixture
def typedrepl_check(request: pytest.FixtureRequest) -> ReplicationChecker:
    """Check a replication file: translator consistency, YAML round trip, dry-run keys.

    Relative paths start at the pytest root directory (``rootdir``).

    Example::

        def test_replication_file(typedrepl_check: ReplicationChecker) -> None:
            typedrepl_check("replication.yaml", MyTranslator())
    """
    return ReplicationChecker(request.config.rootpath)
