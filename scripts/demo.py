"""The demo: replicate ``replication.yaml`` into PostgreSQL with the example Dagster job.

1. a throwaway PostgreSQL server is started unless ``TYPEDREPL_DESTINATION_URL`` is set;
2. ``typedrepl validate`` checks the config;
3. ``dagster definitions validate`` loads ``examples/definitions.py``, which creates
   ``example.duckdb`` (users, products, activity) when it is missing;
4. ``typedrepl plan`` shows what a run will do, without writing anything;
5. ``dagster job execute`` runs the job that materializes one asset per table, for real;
6. the row counts that landed in PostgreSQL are printed.
"""

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from typedrepl import load_replication
from typedrepl._pgserver import local_postgres

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONFIG = ROOT / "replication.yaml"


def _run(args: list[str], env: dict[str, str]) -> None:
    print(f"\n$ {' '.join(args)}", flush=True)
    subprocess.run(args, cwd=ROOT, env=env, check=True, timeout=900)


def _summary(url: str) -> None:
    replication = load_replication(CONFIG, env={"TYPEDREPL_DESTINATION_URL": url})
    print("\nRows in the destination:")
    with psycopg.connect(url, connect_timeout=10) as conn:
        for table in replication.tables:
            schema = table.destination_schema or "public"
            name = sql.Identifier(schema, table.target_name)
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()
            count = row[0] if row else 0
            print(f"  {schema}.{table.target_name:<10} {count:>8} rows")


def main() -> int:
    """Run the demo; return the exit code."""
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if not env.get("TYPEDREPL_DESTINATION_URL"):
            server = stack.enter_context(local_postgres())
            env["TYPEDREPL_DESTINATION_URL"] = server.url
            print(f"Started a throwaway PostgreSQL server on {server.host}:{server.port}.")
        if "DAGSTER_HOME" not in env:
            home = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
            env["DAGSTER_HOME"] = str(home)
        try:
            _run([str(BIN / "typedrepl"), "validate", str(CONFIG)], env)
            # Loading the definitions creates example.duckdb when it is missing.
            _run(
                [str(BIN / "dagster"), "definitions", "validate", "-f", "examples/definitions.py"],
                env,
            )
            _run([str(BIN / "typedrepl"), "plan", str(CONFIG)], env)
            _run(
                [
                    str(BIN / "dagster"),
                    "job",
                    "execute",
                    "-f",
                    "examples/definitions.py",
                    "-j",
                    "replicate_all",
                ],
                env,
            )
        except subprocess.CalledProcessError as exc:
            print(f"\ndemo failed: {exc.cmd[0]} exited with {exc.returncode}", file=sys.stderr)
            return 1
        _summary(env["TYPEDREPL_DESTINATION_URL"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
