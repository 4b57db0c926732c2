"""``typedrepl check FILE``, run as the installed console script (no database needed).

The translators are ``tests/fixtures/check/check_translators.py``, imported by the
command with ``--translator check_translators:NAME`` from that directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures" / "check"
SCRIPT = Path(sys.executable).parent / "typedrepl"
PASSWORD = "check-secret-pw"


def check(*args: str, cwd: Path = FIXTURES) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.is_file(), f"the console script is not installed next to {sys.executable}"
    return subprocess.run(
        [str(SCRIPT), "check", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if not k.startswith("TYPEDREPL_")},
        timeout=300,
        check=False,
    )


def check_in_process(
    *args: str, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """``typedrepl check`` through ``cli.main`` (for the cases that need no fresh process)."""
    from typedrepl.cli import main

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "path", list(sys.path))  # --translator puts cwd on sys.path
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def example_names(stderr: str) -> list[str]:
    """The table names of the first ``minimal example (...)`` block."""
    match = re.search(r"minimal example[^\n]*\((\d+) tables?\):\n((?:    .*\n)+)", stderr)
    assert match, stderr
    loaded = yaml.safe_load(textwrap.dedent(match[2]))
    names = [str(t["name"]) for t in loaded["tables"]]
    assert len(names) == int(match[1])
    return names


# --------------------------------------------------------------------------- exit 0


def test_a_valid_file_exits_0_with_a_one_line_summary() -> None:
    result = check("replication.yaml")
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout == (
        "replication.yaml: ok: 5 tables -> 5 distinct asset keys (translator "
        "ReplicationTranslator()); consistent on the replication and 100 generated subsets; "
        "YAML round trip equal; a dry run materializes exactly the selected keys\n"
    )


def test_a_correct_translator_for_a_table_subclass() -> None:
    """The translator's table model (``DomainTable``) loads the file's ``domain`` fields."""
    result = check("domains.yaml", "--translator", "check_translators:domains", "--examples", "20")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "domains.yaml: ok: 3 tables -> 3 distinct asset keys (translator DomainTranslator)"
    )
    assert len(result.stdout.splitlines()) == 1


def test_a_translator_class_is_instantiated(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = check_in_process(
        "domains.yaml",
        "--translator",
        "check_translators:DomainTranslator",
        "--examples",
        "5",
        cwd=FIXTURES,
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert (code, err) == (0, "")
    assert out.startswith("domains.yaml: ok: 3 tables")


def test_a_100_table_file_is_checked_in_seconds(tmp_path: Path) -> None:
    tables = [
        {"name": f"table_{i:03}", "primary_key": "id", **({"mode": "merge"} if i % 3 else {})}
        for i in range(100)
    ]
    config = {
        "connections": {
            "source": {"type": "duckdb", "connection": "source.duckdb"},
            "destination": {"type": "postgres", "connection": f"postgresql://u:{PASSWORD}@h/db"},
        },
        "tables": tables,
    }
    (tmp_path / "big.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    started = time.monotonic()
    result = check("big.yaml", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("big.yaml: ok: 100 tables -> 100 distinct asset keys")
    assert elapsed < 30, f"typedrepl check took {elapsed:.1f} s on 100 tables"


# --------------------------------------------------------------------------- exit 1


def test_a_constant_key_exits_1_naming_two_tables() -> None:
    result = check("replication.yaml", "--translator", "check_translators:constant")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(
        "error: replication.yaml: translator check failed: translator ConstantKey maps two "
        "tables to one asset key 'raw/tables':\n"
        "    table 'users' -> 'raw/tables'\n"
        "    table 'Orders' -> 'raw/tables'\n"
    )
    assert example_names(result.stderr) == ["users", "Orders"]
    assert PASSWORD not in result.stderr


def test_a_key_without_the_prefix_exits_1_naming_the_table() -> None:
    result = check("replication.yaml", "--translator", "check_translators:vowels")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: replication.yaml: translator check failed: translator VowelsWithoutPrefix "
        "ignores its key_prefix 'raw' on table 'users': its asset key is 'users'"
    )
    assert example_names(result.stderr) == ["users"]


@pytest.mark.parametrize(("name", "suffix"), [("counting", r"\d+"), ("random_key", r"[0-9a-f]{8}")])
def test_a_non_deterministic_key_exits_1_naming_the_table(name: str, suffix: str) -> None:
    result = check("replication.yaml", "--translator", f"check_translators:{name}")
    assert result.returncode == 1
    assert "is not deterministic: asked twice for the asset spec of table 'users'" in result.stderr
    assert re.search(f"key: 'raw/users_{suffix}', then 'raw/users_{suffix}'", result.stderr)
    assert example_names(result.stderr) == ["users"]
    assert "dry-run check" not in result.stderr  # it would repeat the translator's failure


def test_lower_casing_exits_1_naming_the_look_alike_tables() -> None:
    result = check("replication.yaml", "--translator", "check_translators:lower")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: replication.yaml: translator check failed: translator LowerCaseKey maps two "
        "tables to one asset key 'raw/orders':\n"
        "    table 'Orders' -> 'raw/orders'\n"
        "    table 'orders' -> 'raw/orders'\n"
    )
    assert example_names(result.stderr) == ["Orders", "orders"]


def test_colliding_meta_keys_in_the_file_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default translator, but the file's own meta.asset_key takes another table's key."""
    text = (FIXTURES / "replication.yaml").read_text(encoding="utf-8")
    text = text.replace("  - name: users\n", "  - name: users\n    meta: {asset_key: items}\n")
    (tmp_path / "replication.yaml").write_text(text, encoding="utf-8")
    code, out, err = check_in_process(
        "replication.yaml", cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch
    )
    assert (code, out) == (1, "")
    assert "maps two tables to one asset key 'items':" in err
    assert example_names(err) == ["users", "items"]


# --------------------------------------------------------------------------- exit 2


def test_config_errors_exit_2_listing_every_issue() -> None:
    result = check("mistakes.yaml")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: mistakes.yaml:11:11: tables[0].mode: mode 'merge' needs a primary_key "
        "(the columns rows are matched on)\n"
        "error: mistakes.yaml:13:5: tables[1].primary_keys: unknown key 'primary_keys' "
        "(did you mean 'primary_key'?)\n"
    )


def test_the_same_errors_as_validate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = check_in_process(
        "mistakes.yaml", cwd=FIXTURES, capsys=capsys, monkeypatch=monkeypatch
    )
    from typedrepl.cli import main

    validated = main(["validate", "mistakes.yaml"])
    assert (checked[0], checked[2]) == (validated, capsys.readouterr().err)


def test_a_file_of_another_table_type_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """domains.yaml has ``domain`` fields: without the translator, they are unknown keys."""
    code, _, err = check_in_process(
        "domains.yaml", cwd=FIXTURES, capsys=capsys, monkeypatch=monkeypatch
    )
    assert code == 2
    assert "unknown key 'domain'" in err


def test_an_explicit_table_type(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = check_in_process(
        "domains.yaml", "--table-type", "check_translators:DomainTable", "--examples", "5",
        cwd=FIXTURES, capsys=capsys, monkeypatch=monkeypatch,
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    assert "(translator ReplicationTranslator())" in out
    code, _, err = check_in_process(
        "domains.yaml", "--table-type", "check_translators:domains",
        cwd=FIXTURES, capsys=capsys, monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 2
    assert "error: check_translators:domains is not a subclass of typedrepl.Table" in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nowhere:translator", "error: cannot import 'nowhere': ModuleNotFoundError"),
        ("check_translators:missing", "error: 'check_translators' has no attribute 'missing'"),
        ("check_translators", "error: expected module:attribute"),
        ("check_translators:DomainTable", "is a class and calling it without arguments failed"),
        (
            "check_translators:_CALLS",
            "error: check_translators:_CALLS is a count, not a translator",
        ),
    ],
)
def test_a_bad_translator_exits_2(
    spec: str, message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = check_in_process(
        "replication.yaml",
        "--translator",
        spec,
        cwd=FIXTURES,
        capsys=capsys,
        monkeypatch=monkeypatch,
    )
    assert (code, out) == (2, "")
    assert message in err, err


def test_a_missing_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(FIXTURES / "check_translators.py", tmp_path / "my_translators.py")
    code, _, err = check_in_process(
        "nope.yaml", "--translator", "my_translators:constant",
        cwd=tmp_path, capsys=capsys, monkeypatch=monkeypatch,
    )  # fmt: skip
    assert (code, err) == (2, "error: nope.yaml: file not found\n")


def test_an_abbreviated_option_is_refused_not_guessed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--table`` is not ``--table-type``: argparse must not expand it."""
    with pytest.raises(SystemExit) as caught:
        check_in_process(
            str(FIXTURES / "example.yaml"), "--table", "users",
            cwd=FIXTURES, capsys=capsys, monkeypatch=monkeypatch,
        )  # fmt: skip
    assert caught.value.code == 2
    assert "unrecognized arguments: --table users" in capsys.readouterr().err
