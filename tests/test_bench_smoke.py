"""The copy benchmark's harness runs end to end on a tiny table (its speed is not checked)."""

from __future__ import annotations

from pathlib import Path

from conftest import run_bench


def test_bench_copy_runs_and_reports(postgres_server_url: str, tmp_path: Path) -> None:
    output = run_bench(
        "bench_copy.py",
        *("--rows", "20000", "--repeat", "1", "--merge-rows", "2000"),
        *("--postgres-url", postgres_server_url),
        cwd=tmp_path,
    )
    for method in (
        "typedrepl",
        "psql \\copy",
        "raw",
        "typedrepl merge, key order",
        "typedrepl merge, random order",
        "SQL upsert (info)",
    ):
        assert f"\n{method} " in output, method  # a row of a results table
    for line in (
        "typedrepl/psql \\copy rate",
        "typedrepl/raw rate",
        "typedrepl peak RSS",
        "typedrepl merge rate",
        "the rate of the SQL upsert alone",
    ):
        assert line in output, line
    assert "verification: all" in output
    assert postgres_server_url not in output  # the password is never printed
