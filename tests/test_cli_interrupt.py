"""Ctrl-C during ``typedrepl run``: the run stops, the table being loaded is rolled back.

DuckDB's Python client turns a SIGINT that arrives while it runs a statement into
``RuntimeError('Query interrupted')``; before, that failed only the table being loaded
and the run went on with the next. The signal is sent at several moments of the first
table's load (reading the source, inside DuckDB's statement, in the COPY).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import Side
from typedrepl.cli import EXIT_INTERRUPTED

_RUN = "import sys; from typedrepl.cli import main; sys.exit(main(sys.argv[1:]))"


def _writing(destination: Side) -> bool:
    """Whether the load of table ``a`` is writing rows into ``destination`` now."""
    if destination.kind == "duckdb":  # DuckDB writes a large insert to the file as it goes
        file = Path(destination.target)
        return file.exists() and file.stat().st_size > 8 * 2**20
    return bool(destination.execute("SELECT count(*) FROM pg_stat_progress_copy")[0][0])


@pytest.mark.parametrize(
    ("destination_kind", "moment"),
    [
        ("duckdb", "start"),
        ("duckdb", "writing"),  # the signal comes inside DuckDB's INSERT
        ("postgres", "start"),
        ("postgres", "writing"),  # inside the COPY
    ],
)
def test_ctrl_c_stops_the_run_and_leaves_the_destination(
    make_side: Callable[[str], Side], tmp_path: Path, destination_kind: str, moment: str
) -> None:
    source, destination = make_side("duckdb"), make_side(destination_kind)
    source.execute(
        "CREATE TABLE a AS SELECT i AS id, repeat('x', 40) || i AS s, i * 0.5 AS d "
        "FROM range(4000000) r(i)"
    )
    source.execute("CREATE TABLE b AS SELECT i AS id FROM range(10) r(i)")
    config = tmp_path / "replication.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "connections": {"source": source.config(), "destination": destination.config()},
                "tables": [{"name": "a", "primary_key": "id"}, {"name": "b"}],
            }
        )
    )
    run = subprocess.Popen(
        [sys.executable, "-c", _RUN, "run", str(config), "--verbose"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a test runner may start with SIGINT ignored: the CLI gets Python's own handler
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert run.stderr is not None
    seen = ""
    while "table a: loading" not in seen:
        line = run.stderr.readline()
        assert line, f"the run ended before loading table a: {seen}"
        seen += line
    deadline = time.monotonic() + 60
    while moment == "writing" and not _writing(destination):
        assert run.poll() is None, "the run ended before it wrote rows"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=60)
    err = seen + err
    assert run.returncode == EXIT_INTERRUPTED, (run.returncode, out, err)
    assert "error: interrupted: the table being loaded was rolled back" in err, err
    assert "Traceback" not in err
    assert not destination.exists(destination.default_schema, "a")
    assert not destination.exists(destination.default_schema, "b")  # never started
