"""The checks behind :mod:`typedrepl.testing`: :func:`check_replication` runs them all.

The checks live in private modules of their own, which import Dagster and hypothesis;
:mod:`typedrepl.testing` imports them only when a check runs, so that
``import typedrepl.testing`` stays light:

- :mod:`typedrepl._check_keys`: the translator check (``assert_translator_consistent``);
- :mod:`typedrepl._check_examples`: its examples, drawn by hypothesis and made small;
- :mod:`typedrepl._check_roundtrip`: the YAML round trip (``assert_roundtrip``);
- :mod:`typedrepl._check_dryrun`: the dry run (``assert_keys_match_dry_run``);
- :mod:`typedrepl._check_objects`: a replication from a file, the objects the CLI names;
- :mod:`typedrepl._check_report`: the reports of a failure, shared by all.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from typedrepl._check_dryrun import check_dry_run
from typedrepl._check_keys import check_translator
from typedrepl._check_objects import as_replication
from typedrepl._check_report import translator_name
from typedrepl._check_roundtrip import check_roundtrip
from typedrepl._models import Replication, TableT
from typedrepl._translator import Translator
from typedrepl.testing import CheckSummary

__all__ = ["ChecksFailed", "check_replication"]


class ChecksFailed(AssertionError):
    """Some checks of :func:`check_replication` failed; ``failures`` holds one report per check."""

    def __init__(self, failures: Sequence[str]) -> None:
        self.failures = tuple(failures)
        super().__init__("\n".join(self.failures))


def check_replication(
    source: str | os.PathLike[str] | Replication[TableT],
    translator: Translator[TableT] | None,
    *,
    table_type: type[TableT] | None,
    max_examples: int,
    derandomize: bool,
) -> CheckSummary:
    """Implements ``typedrepl.testing.assert_replication_ok``.

    The dry run is skipped when the translator check fails: it would report the same
    mistake again, less precisely.
    """
    replication = as_replication(source, translator, table_type)
    failures: list[str] = []
    examples = keys = 0
    try:
        examples = check_translator(
            translator, replication, max_examples=max_examples, derandomize=derandomize
        )
    except AssertionError as exc:
        failures.append(f"translator check failed: {exc}")
    try:
        check_roundtrip(replication, table_type)
    except AssertionError as exc:
        failures.append(f"round-trip check failed: {exc}")
    if not failures or not failures[0].startswith("translator"):
        try:
            keys = check_dry_run(replication, translator)
        except AssertionError as exc:
            failures.append(f"dry-run check failed: {exc}")
    if failures:
        raise ChecksFailed(failures)
    return CheckSummary(
        tables=len(replication.tables),
        asset_keys=keys,
        translator=translator_name(translator),
        examples=examples,
    )
