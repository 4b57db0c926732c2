"""The copy benchmark's harness runs end to end on a tiny table (its speed is not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_copy.py"


def test_bench_copy_runs_and_reports(postgres_server_url: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--rows",
            "20000",
            "--repeat",
            "1",
            "--merge-rows",
            "2000",
            "--postgres-url",
            postgres_server_url,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    output = done.stdout
    assert done.returncode == 0, output[-4000:] + done.stderr[-4000:]
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
