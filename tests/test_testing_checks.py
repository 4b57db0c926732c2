"""``typedrepl.testing``'s checks catch broken translators and models, with minimal examples.

The translators live in ``tests/fixtures/check/check_translators.py`` so that the CLI
tests (``tests/test_cli_check.py``) import the very same ones with ``--translator``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import attrs
import dagster as dg
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from typedrepl import ReplicationTranslator, Table, Translator, load_replication
from typedrepl._models import Connections, DuckDBConnection, PostgresConnection, Replication
from typedrepl.testing import (
    CheckSummary,
    assert_keys_match_dry_run,
    assert_replication_ok,
    assert_roundtrip,
    assert_translator_consistent,
    replications,
    tables,
    translators,
)

FIXTURES = Path(__file__).parent / "fixtures" / "check"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(FIXTURES))

from check_translators import (  # noqa: E402
    ConstantKey,
    CountingKey,
    DomainTable,
    DomainTranslator,
    LowerCaseKey,
    RandomKey,
    VowelsWithoutPrefix,
)

# Failing checks shrink for at most this long (then reduce the example themselves).
SHRINK = 1.0


def failure_of(translator: Translator[Table] | st.SearchStrategy[Translator[Table]]) -> str:
    """The report of ``assert_translator_consistent`` on generated replications."""
    with pytest.raises(AssertionError) as caught:
        assert_translator_consistent(
            translator, replications=replications(), max_examples=100, shrink_seconds=SHRINK
        )
    return str(caught.value)


def example_tables(report: str) -> list[dict[str, object]]:
    """The tables of the report's ``minimal example (...)`` block, as YAML mappings."""
    match = re.search(r"minimal example[^\n]*\((\d+) tables?\):\n((?:    .*(?:\n|$))+)", report)
    assert match, report
    loaded = yaml.safe_load(textwrap.dedent(match[2]))
    assert isinstance(loaded, dict)
    found = loaded["tables"]
    assert isinstance(found, list)
    assert len(found) == int(match[1]), report
    return found


def names_of(report: str) -> list[str]:
    return [str(t["name"]) for t in example_tables(report)]


# --------------------------------------------------------------------------- broken translators


def test_a_constant_key_is_caught_with_two_tables() -> None:
    report = failure_of(ConstantKey(key_prefix="raw"))
    first, second = names_of(report)
    assert first != second
    assert "translator ConstantKey maps two tables to one asset key 'raw/tables':" in report
    assert f"table {first!r} -> 'raw/tables'" in report
    assert f"table {second!r} -> 'raw/tables'" in report


def test_a_key_without_the_prefix_on_some_tables_is_caught_with_one_table() -> None:
    report = failure_of(VowelsWithoutPrefix(key_prefix="raw"))
    (name,) = names_of(report)
    assert name[0].lower() in "aeiou"
    assert (
        f"translator VowelsWithoutPrefix ignores its key_prefix 'raw' on table {name!r}: "
        f"its asset key is {dg.AssetKey([name]).to_user_string()!r}"
    ) in report or f"AssetKey([{name!r}])" in report


def test_a_key_without_the_prefix_is_caught_for_generated_prefixes() -> None:
    """A strategy of translators: the prefix and the table are both shrunk."""
    report = failure_of(translators(VowelsWithoutPrefix))
    (name,) = names_of(report)
    assert name[0].lower() in "aeiou"
    assert "translator VowelsWithoutPrefix ignores its key_prefix" in report


@pytest.mark.parametrize(("translator", "pattern"), [
    (CountingKey(key_prefix="raw"), r"key: 'raw/(?P<a>.+)_\d+', then 'raw/(?P=a)_\d+'"),
    (RandomKey(key_prefix="raw"), r"key: 'raw/(?P<a>.+)_[0-9a-f]{8}', then 'raw/(?P=a)_[0-9a-f]{8}'"),
], ids=["counter", "random"])  # fmt: skip
def test_a_non_deterministic_key_is_caught_with_one_table(
    translator: ReplicationTranslator[Table], pattern: str
) -> None:
    report = failure_of(translator)
    (name,) = names_of(report)
    head = f"translator {type(translator).__name__} is not deterministic: asked twice for the asset spec of table {name!r}"
    assert head in report
    match = re.search(pattern, report)
    assert match, report
    assert match["a"] == name


def test_lower_casing_names_is_caught_with_two_look_alike_tables() -> None:
    """``replications()`` never draws two names equal but for case; the check adds one."""
    report = failure_of(LowerCaseKey(key_prefix="raw"))
    first, second = names_of(report)
    assert first != second
    assert first.lower() == second.lower()
    key = f"raw/{first.lower()}"
    assert f"translator LowerCaseKey maps two tables to one asset key {key!r}:" in report


def test_a_raising_translator_names_the_table() -> None:
    class Picky(ReplicationTranslator[Table]):
        def get_asset_key(self, table: Table, /) -> dg.AssetKey:
            if " " in table.name:
                raise ValueError("no spaces, please")
            return super().get_asset_key(table)

    report = failure_of(Picky())
    (name,) = names_of(report)
    assert " " in name
    assert f"get_asset_spec raised ValueError for table {name!r}: " in report


def test_an_empty_key_part_is_invalid() -> None:
    class Blank(ReplicationTranslator[Table]):
        def get_asset_key(self, table: Table, /) -> dg.AssetKey:
            return dg.AssetKey(["raw", ""])

    report = failure_of(Blank())
    assert "an invalid asset key AssetKey(['raw', '']): part 1 is empty" in report
    assert len(names_of(report)) == 1


def test_get_asset_key_must_agree_with_the_spec() -> None:
    class TwoFaced(ReplicationTranslator[Table]):
        def get_asset_spec(self, table: Table, /) -> dg.AssetSpec:
            spec = super().get_asset_spec(table)
            return spec.replace_attributes(key=spec.key.with_prefix("other"))

    report = failure_of(TwoFaced())
    (name,) = names_of(report)
    assert f"for table {name!r}, get_asset_key gives" in report
    assert "code that selects it by get_asset_key selects something else" in report


def test_a_key_that_depends_on_the_other_tables_is_caught() -> None:
    """Numbering tables by position: adding a table renames the others' assets."""

    @attrs.frozen(kw_only=True)
    class Numbered(ReplicationTranslator[Table]):
        positions: tuple[str, ...] = ()

        def with_replication(self, replication: Replication[Table]) -> Numbered:
            named = attrs.evolve(self, positions=tuple(t.name for t in replication.tables))
            return super(Numbered, named).with_replication(replication)

        def get_asset_key(self, table: Table, /) -> dg.AssetKey:
            return dg.AssetKey([f"t{self.positions.index(table.name)}"])

    report = failure_of(Numbered())
    assert "a table's key must not depend on the other tables" in report


# --------------------------------------------------------------------------- correct translators


def test_the_default_translator_passes() -> None:
    assert_translator_consistent(None, replications=replications(), max_examples=40)


def test_generated_translators_pass() -> None:
    assert_translator_consistent(translators(), replications=replications(), max_examples=40)


def test_a_correct_translator_for_a_table_subclass_passes() -> None:
    domain_tables = tables(DomainTable, domain=st.sampled_from(["core", "crm", "Core"]))
    assert_translator_consistent(
        DomainTranslator(key_prefix="raw"),
        replications=replications(domain_tables),
        max_examples=40,
    )
    assert_translator_consistent(
        translators(DomainTranslator), replications=replications(domain_tables), max_examples=20
    )


def test_a_translator_whose_specs_dagster_rejects_is_caught() -> None:
    """Domains become groups; ``a b`` is no valid group name: it breaks only when loaded."""
    with pytest.raises(AssertionError) as caught:
        assert_translator_consistent(
            DomainTranslator(),
            replications=replications(tables(DomainTable, domain=st.sampled_from(["crm", "a b"]))),
            shrink_seconds=SHRINK,
        )
    report = str(caught.value)
    ((table),) = example_tables(report)
    assert table["domain"] == "a b"
    assert (
        f"get_asset_spec raised DagsterInvalidDefinitionError for table {table['name']!r}" in report
    )
    assert '"a b" is not a valid asset group name' in report


def test_concrete_replications_and_sequences() -> None:
    replication = load_replication(FIXTURES / "replication.yaml")
    assert_translator_consistent(ReplicationTranslator[Table](), replications=replication)
    assert_translator_consistent(None, replications=[replication, replication], max_examples=10)
    with pytest.raises(AssertionError) as caught:
        assert_translator_consistent(LowerCaseKey(key_prefix="raw"), replications=[replication])
    report = str(caught.value)
    assert names_of(report) == ["Orders", "orders"]
    assert "translator LowerCaseKey maps two tables to one asset key 'raw/orders':" in report
    with pytest.raises(ValueError, match="the sequence is empty"):
        assert_translator_consistent(None, replications=[])


def test_a_concrete_file_with_colliding_meta_keys_fails() -> None:
    """Generated configs whose own meta collides are skipped; a real file's are reported."""
    replication = load_replication(FIXTURES / "replication.yaml")
    first, *rest = replication.tables
    pinned = attrs.evolve(first, meta=attrs.evolve(first.meta, asset_key="orders"))
    broken = attrs.evolve(replication, tables=(pinned, *rest))
    with pytest.raises(AssertionError) as caught:
        assert_translator_consistent(None, replications=broken)
    assert names_of(str(caught.value)) == ["users", "orders"]


# --------------------------------------------------------------------------- round trip


@settings(max_examples=30, deadline=None)
@given(replications(tables(DomainTable, domain=st.text(min_size=1, max_size=5))))
def test_generated_replications_round_trip(replication: Replication[DomainTable]) -> None:
    assert_roundtrip(replication)


def _shout(value: str) -> str:
    return value.upper() + "!"


@attrs.frozen(kw_only=True)
class ShoutingTable(Table):
    """Does not round-trip: its converter runs again when the dump is loaded."""

    label: str = attrs.field(default="", converter=_shout)


def test_a_model_that_does_not_round_trip_fails_readably() -> None:
    replication = Replication(
        connections=Connections(
            source=DuckDBConnection(connection="a.duckdb"),
            destination=PostgresConnection(connection="postgresql://app:hunter2-pw@db/warehouse"),
        ),
        tables=(ShoutingTable(name="users", label="hi"), ShoutingTable(name="orders")),
    )
    with pytest.raises(AssertionError) as caught:
        assert_roundtrip(replication)
    report = str(caught.value)
    assert "is not equal to itself after a YAML dump and load:" in report
    assert "tables[0] ('users').label: 'HI!' before, 'HI!!' after" in report
    assert "('orders')" not in report  # its label is the default: not dumped, equal after
    assert "-  label: HI!" in report
    assert "+  label: HI!!" in report
    assert "hunter2-pw" not in report


# --------------------------------------------------------------------------- dry run and files


def test_dry_run_matches_the_files() -> None:
    assert_keys_match_dry_run(FIXTURES / "replication.yaml")
    assert_keys_match_dry_run(str(FIXTURES / "domains.yaml"), DomainTranslator())
    with pytest.raises(AssertionError, match="'Orders' and 'orders' both map to the asset key"):
        assert_keys_match_dry_run(FIXTURES / "replication.yaml", LowerCaseKey(key_prefix="raw"))


def test_the_translator_gives_the_table_type() -> None:
    """domains.yaml has a ``domain`` field: loading it as plain tables fails."""
    summary = assert_replication_ok(FIXTURES / "domains.yaml", DomainTranslator())
    assert summary == CheckSummary(
        tables=3, asset_keys=3, translator="DomainTranslator", examples=summary.examples
    )
    assert str(summary).startswith(
        "3 tables -> 3 distinct asset keys (translator DomainTranslator)"
    )


def test_assert_replication_ok_lists_every_failed_check() -> None:
    replication = load_replication(FIXTURES / "replication.yaml")
    with pytest.raises(AssertionError) as caught:
        assert_replication_ok(replication, CountingKey(key_prefix="raw"), max_examples=5)
    report = str(caught.value)
    assert report.startswith("translator check failed: translator CountingKey is not deterministic")
    assert "dry-run" not in report  # skipped: it would repeat the translator's failure


# --------------------------------------------------------------------------- pytest plugin


USER_TESTS = """
from typedrepl.testing import assert_translator_consistent, replications
from check_translators import DomainTranslator, LowerCaseKey, ReplicationTranslator

def test_my_translator() -> None:
    assert_translator_consistent(ReplicationTranslator(key_prefix="raw"), replications=replications())

def test_replication_file(typedrepl_check) -> None:
    typedrepl_check("domains.yaml", DomainTranslator())

def test_broken_file(typedrepl_check) -> None:
    typedrepl_check("replication.yaml", LowerCaseKey(key_prefix="raw"))
"""


def test_a_users_tests_with_the_plugin(tmp_path: Path) -> None:
    """The README's three-line test and the ``typedrepl_check`` fixture, in a user's project."""
    for name in ("check_translators.py", "domains.yaml", "replication.yaml"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    (tmp_path / "test_user.py").write_text(USER_TESTS, encoding="utf-8")
    result = subprocess.run(
        # the plugin comes from the installed package's pytest11 entry point, as for users
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
         "-q", "--rootdir", str(tmp_path), "test_user.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "2 passed, 1 failed" in output or "1 failed, 2 passed" in output, output
    assert "translator LowerCaseKey maps two tables to one asset key 'raw/orders':" in output


def test_the_plugin_is_declared_as_a_pytest11_entry_point() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["entry-points"]["pytest11"] == {
        "typedrepl": "typedrepl.pytest_plugin"
    }
    assert pyproject["project"]["optional-dependencies"]["testing"] == ["hypothesis>=6.100"]


def test_the_plugin_and_testing_modules_import_light() -> None:
    """pytest imports the plugin in every session: it must not load hypothesis or Dagster."""
    code = (
        "import sys, typedrepl.pytest_plugin\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'hypothesis', 'dagster'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- typing


def test_checks_are_generic_in_the_table_type() -> None:
    """A ``Translator[MyTable]`` goes with ``Replication[MyTable]``, not with plain tables.

    mypy checks this file strictly, where an unused ``type: ignore`` is an error: the
    ignore below proves mypy rejects the call; the check rejects it at run time too.
    """
    mine = replications(tables(DomainTable, domain=st.sampled_from(["crm", "sales"])))
    assert_translator_consistent(DomainTranslator(), replications=mine, max_examples=5)
    assert_translator_consistent(ReplicationTranslator[Table](), replications=mine, max_examples=5)
    with pytest.raises(AssertionError, match="raised AttributeError for table"):
        assert_translator_consistent(  # type: ignore[misc]
            DomainTranslator(),
            replications=replications(),
            max_examples=5,
            shrink_seconds=0.1,
        )
