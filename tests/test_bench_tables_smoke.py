"""The many-tables benchmark's harness runs end to end on a few tables (its speed is not
checked)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_tables.py"


def test_bench_tables_runs_and_reports(postgres_url: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--tables",
            "4",
            "--repeat",
            "2",
            "--postgres-url",
            postgres_url,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    output = done.stdout
    assert done.returncode == 0, output[-4000:] + done.stderr[-4000:]
    for rep in (1, 2):
        for method in ("kept", "per table"):
            assert re.search(rf"^rep {rep} {method} +[0-9.]+ s +[0-9.]+ ms/table$", output, re.M)
    assert re.search(r"^  per table / kept: [0-9.]+x$", output, re.MULTILINE)
    assert "verification: every table of every run succeeded with its 2 rows" in output
    assert postgres_url not in output
