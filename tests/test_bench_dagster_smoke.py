"""The Dagster overhead benchmark's harness runs end to end on a few tables (its speed is
not checked)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import run_bench


def test_bench_dagster_runs_and_reports(tmp_path: Path) -> None:
    output = run_bench(
        "bench_dagster.py",
        *("--tables", "5,20", "--repeat", "1", "--profile-top", "3"),
        cwd=tmp_path,
    )
    assert output.startswith("typedrepl Dagster overhead: dagster ")
    for count in (5, 20):
        for form in ("engine-only", "one-op", "graph", "chunks"):
            assert re.search(rf"^ +{count}  {form} ", output, re.MULTILINE), (count, form)
    for form in ("one-op", "graph", "chunks"):
        assert re.search(
            rf"^{form} overhead per table, 20 vs 5 tables: .* ms = [0-9.]+x wall, [0-9.]+x CPU ",
            output,
            re.MULTILINE,
        ), form
    assert "profile: one-op materialize of 20 tables" in output
    assert "top 3 by own time:" in output
    assert "top 3 by cumulative time:" in output
    assert not list(tmp_path.iterdir())  # everything was made in a temporary directory


def test_bench_dagster_splits_past_the_op_size(tmp_path: Path) -> None:
    """``--split-above`` and ``--tables-per-part`` split the one-op form, ``--chunk-size``
    sizes the chunks; asset checks are counted too."""
    output = run_bench(
        "bench_dagster.py",
        "--tables",
        "7",
        "--split-above",
        "5",
        "--tables-per-part",
        "3",
        "--chunk-size",
        "4",
        "--asset-checks",
        "--graph-max",
        "0",
        "--profile-top",
        "0",
        cwd=tmp_path,
    )
    assert re.search(r"^ +7  one-op +3 ", output, re.MULTILINE), output
    assert re.search(r"^ +7  chunks +2 ", output, re.MULTILINE), output
    assert "graph form not run for 7 tables" in output
    assert "profile:" not in output
