"""``typedrepl validate FILE``, run as the installed console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "typedrepl"


def validate(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.is_file(), f"the console script is not installed next to {sys.executable}"
    environ = {k: v for k, v in os.environ.items() if k != "TYPEDREPL_DESTINATION_URL"}
    return subprocess.run(
        [str(SCRIPT), "validate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_valid_file_exits_0_with_a_one_line_summary(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "example.yaml", tmp_path / "replication.yaml")
    result = validate("replication.yaml", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "replication.yaml: valid: 3 tables (full_refresh) from duckdb example.duckdb "
        "to postgres postgresql://postgres:***@localhost/postgres\n"
    )


def test_the_repository_demo_config_is_valid() -> None:
    result = validate("replication.yaml", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "replication.yaml: valid: 3 tables (full_refresh, incremental, merge) from duckdb"
    )
    assert len(result.stdout.splitlines()) == 1


def test_summary_reads_the_environment(tmp_path: Path) -> None:
    url = "postgresql://etl:env-secret-pw@warehouse:5433/dw"
    result = validate(
        str(ROOT / "replication.yaml"), cwd=tmp_path, env={"TYPEDREPL_DESTINATION_URL": url}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("to postgres postgresql://etl:***@warehouse:5433/dw")
    assert "env-secret-pw" not in result.stdout + result.stderr


def test_rich_config_summary_lists_every_mode(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "rich.yaml", tmp_path / "rich.yaml")
    result = validate("rich.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "rich.yaml: valid: 5 tables (append, full_refresh, incremental, merge) from postgres "
        "postgresql://app:***@db.example.com:5432/shop?sslmode=disable to duckdb warehouse.duckdb\n"
    )


def test_invalid_file_exits_2_with_every_error_one_per_line(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "mistakes.yaml", tmp_path / "mistakes.yaml")
    result = validate("mistakes.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: mistakes.yaml:2:3: connections.source: missing required key 'connection'",
        "error: mistakes.yaml:4:5: connections.source.conection: unknown key 'conection' (did you mean 'connection'?)",
        "error: mistakes.yaml:9:3: defaults.primary_keys: unknown key 'primary_keys' (did you mean 'primary_key'?)",
        "error: mistakes.yaml:13:11: tables[1].name: expected a string, got integer 42",
        "error: mistakes.yaml:15:11: tables[2].mode: mode 'incremental' needs a cursor (the column the load advances on)",
        "error: mistakes.yaml:16:11: tables[3].name: duplicate table name 'users' (also tables[0])",
        "error: mistakes.yaml:17:11: tables[3].mode: mode 'merge' needs a primary_key (the columns rows are matched on)",
        "error: mistakes.yaml:19:23: tables[4].primary_key[1]: expected a string, got integer 7",
        "error: mistakes.yaml:21:11: tables[5].mode: expected one of full_refresh, append, incremental, merge; got string 'merj' (did you mean 'merge'?)",
        "error: mistakes.yaml:22:5: tables[5].exclude_colums: unknown key 'exclude_colums' (did you mean 'exclude_columns'?)",
    ]
    assert "hunter2-secret" not in result.stderr


def test_malformed_yaml_exits_2_with_the_parser_position(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("tables:\n  - name: [users\n", encoding="utf-8")
    result = validate("broken.yaml", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: broken.yaml:3:1: invalid YAML: ")


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = validate("nowhere.yaml", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "error: nowhere.yaml: file not found\n"


def test_the_argument_is_always_a_path_never_yaml_text(tmp_path: Path) -> None:
    """A mistyped name without ``.yaml`` is a missing file, not the YAML string 'replication'."""
    result = validate("replication", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "error: replication: file not found\n"
    result = validate(".", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: .: cannot read the file: [Errno 21] Is a directory")


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path: Path) -> None:
    """``typedrepl validate f.yaml | head -c0``: exit 1, nothing on stderr."""
    shutil.copy(FIXTURES / "example.yaml", tmp_path / "replication.yaml")
    process = subprocess.Popen(
        [str(SCRIPT), "validate", "replication.yaml"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()  # before the command has imported itself, let alone printed
    _, stderr = process.communicate(timeout=120)
    assert (process.returncode, stderr) == (1, "")


@pytest.mark.parametrize(
    "connection",
    [
        "postgresql://admin:pw-in-url-42@db/x",
        "host=db user=admin password=pw-in-url-42 dbname=x",
        "host=db user=admin password='pw-in-url-42' dbname=x",
        "postgresql://admin@db/x?sslmode=disable&password=pw-in-url-42",
    ],
)
def test_validate_output_never_shows_a_password(tmp_path: Path, connection: str) -> None:
    config = (
        "connections:\n"
        "  source: {type: duckdb, connection: a.duckdb}\n"
        f'  destination: {{type: postgres, connection: "{connection}"}}\n'
        "tables: [{name: t}]\n"
    )
    (tmp_path / "ok.yaml").write_text(config, encoding="utf-8")
    # the same config with another mistake
    (tmp_path / "bad.yaml").write_text(config + "oops: 1\n", encoding="utf-8")
    ok = validate("ok.yaml", cwd=tmp_path)
    bad = validate("bad.yaml", cwd=tmp_path)
    assert (ok.returncode, bad.returncode) == (0, 2)
    assert "***" in ok.stdout
    for output in (ok.stdout, ok.stderr, bad.stdout, bad.stderr):
        assert "pw-in-url-42" not in output


def test_module_entry_point_behaves_like_the_script(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "example.yaml", tmp_path / "example.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "typedrepl.cli", "validate", "example.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("example.yaml: valid: 3 tables")
