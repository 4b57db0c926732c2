"""``typedrepl run`` and ``typedrepl plan`` on real databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import Side
from typedrepl.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, main


def _config(
    tmp_path: Path, source: Side, destination: Side, tables: list[dict[str, object]]
) -> str:
    path = tmp_path / "replication.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "connections": {"source": source.config(), "destination": destination.config()},
                "tables": tables,
            }
        )
    )
    return str(path)


def test_run_copies_and_prints_a_summary(
    make_side: Callable[[str], Side], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE users AS SELECT range AS id FROM range(5)")
    path = _config(tmp_path, source, destination, [{"name": "users", "primary_key": "id"}])
    assert main(["run", path, "--batch-size", "2"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "users" in out
    assert "ok" in out
    assert destination.execute("SELECT count(*) FROM users") == [(5,)]


def test_run_exits_1_naming_each_failed_table(
    make_side: Callable[[str], Side], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, destination = make_side("duckdb"), make_side("duckdb")
    source.execute("CREATE TABLE good (id INTEGER)")
    tables: list[dict[str, object]] = [{"name": "missing"}, {"name": "good"}]
    path = _config(tmp_path, source, destination, tables)
    assert main(["run", path]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "error: table missing failed" in err
    assert "good failed" not in err
    assert destination.exists("main", "good")


def test_run_only_the_named_tables(make_side: Callable[[str], Side], tmp_path: Path) -> None:
    source, destination = make_side("duckdb"), make_side("duckdb")
    source.execute("CREATE TABLE a (id INTEGER)")
    source.execute("CREATE TABLE b (id INTEGER)")
    path = _config(tmp_path, source, destination, [{"name": "a"}, {"name": "b"}])
    assert main(["run", path, "--table", "b"]) == EXIT_OK
    assert destination.exists("main", "b")
    assert not destination.exists("main", "a")


def test_run_exits_2_on_config_errors(
    make_side: Callable[[str], Side], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, destination = make_side("duckdb"), make_side("duckdb")
    bad = _config(tmp_path, source, destination, [{"name": "t", "mode": "merge"}])
    assert main(["run", bad]) == EXIT_CONFIG
    assert "primary_key" in capsys.readouterr().err
    good = _config(tmp_path, source, destination, [{"name": "users"}, {"name": "t"}])
    unknown = "error: no such table(s) in the replication: nope, user (did you mean 'users'?)\n"
    for command in ("run", "plan"):  # the same exit and message for both, before any work
        assert main([command, good, "--table", "user", "--table", "t", "--table", "nope"]) == (
            EXIT_CONFIG
        )
        assert capsys.readouterr() == ("", unknown)
    assert not destination.exists("main", "t")


def test_plan_prints_actions_and_ddl_without_writing(
    make_side: Callable[[str], Side], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR)")
    path = _config(
        tmp_path, source, destination, [{"name": "users", "primary_key": "id", "mode": "merge"}]
    )
    assert main(["plan", path]) == EXIT_OK
    out = capsys.readouterr().out
    assert "users -> public.users (merge): create public.users; merge on (id)" in out
    assert 'CREATE TABLE "public"."users"' in out
    assert "ON CONFLICT" in out
    assert not destination.exists("public", "users")
