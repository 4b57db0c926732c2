"""``import typedrepl`` is cheap: no Dagster, no database driver, no Arrow, no hypothesis."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import typedrepl

HEAVY = ("dagster", "duckdb", "psycopg", "pyarrow", "hypothesis")


def _modules_after(code: str) -> set[str]:
    """The top-level packages loaded in a fresh interpreter after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return {name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}


@pytest.mark.parametrize(
    "code",
    [
        "import typedrepl",
        "import typedrepl.errors",
        "from typedrepl import load_replication, dump_replication, Replication, Table",
    ],
)
def test_import_loads_no_heavy_dependency(code: str) -> None:
    loaded = _modules_after(code)
    assert "typedrepl" in loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_loading_a_duckdb_config_needs_no_driver() -> None:
    """Validating a DuckDB-only config imports no database driver."""
    code = (
        "from typedrepl import load_replication\n"
        "load_replication({'connections': {'source': {'type': 'duckdb', 'connection': 'a.duckdb'},"
        " 'destination': {'type': 'duckdb', 'connection': 'b.duckdb'}}, 'tables': [{'name': 't'}]})"
    )
    assert _modules_after(code).isdisjoint(HEAVY)


def test_every_public_name_resolves() -> None:
    """Every name in ``__all__`` resolves (the lazy ones import their engine module)."""
    assert len(set(typedrepl.__all__)) == len(typedrepl.__all__)
    missing = [name for name in typedrepl.__all__ if getattr(typedrepl, name, None) is None]
    assert missing == []
    assert sorted(dir(typedrepl)) == sorted(typedrepl.__all__)


def test_star_import_binds_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from typedrepl import *", namespace)
    assert set(typedrepl.__all__) <= set(namespace)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = typedrepl.nope


def test_testing_module_loads_hypothesis_but_no_engine() -> None:
    loaded = _modules_after("import typedrepl.testing")
    assert "hypothesis" in loaded
    assert loaded.isdisjoint({"dagster", "duckdb", "psycopg", "pyarrow"})
