"""The many-tables benchmark's harness runs end to end on a few tables (its speed is not
checked)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import run_bench


def test_bench_tables_runs_and_reports(postgres_url: str, tmp_path: Path) -> None:
    output = run_bench(
        "bench_tables.py",
        *("--tables", "4", "--repeat", "2", "--postgres-url", postgres_url),
        cwd=tmp_path,
    )
    for rep in (1, 2):
        for method in ("kept", "per table"):
            assert re.search(rf"^rep {rep} {method} +[0-9.]+ s +[0-9.]+ ms/table$", output, re.M)
    assert re.search(r"^  per table / kept: [0-9.]+x$", output, re.MULTILINE)
    assert "verification: every table of every run succeeded with its 2 rows" in output
    assert postgres_url not in output
