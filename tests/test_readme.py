"""README.md's Python examples type-check under ``mypy --strict`` and do what the README says.

Every ```python block of README.md is extracted when the tests run, so a new block is
covered without touching this file; its test id comes from the nearest heading above it
(``python``, ``dagster``, ``typed-translators``...).

- ``test_block_type_checks``: each block becomes a module of its own (``readme_<id>.py``,
  never with ``from __future__ import annotations``: README warns that Dagster asset
  bodies break under it) and one mypy run, with the repo's ``mypy.ini`` (strict) and its
  shared cache (warm: about a second), checks them all. Names the reader supplies
  (``MyTranslator``) come from :data:`PREAMBLES`; a block that needs a name nobody
  supplies fails with mypy's ``name-defined``. :data:`CLAIMS` turns the README's type
  comments (``# Replication[OwnedTable]``) into ``assert_type`` checks.
- ``test_block_runs``: the blocks that need no database or network are executed in a
  fresh working directory holding ``replication.yaml`` (the repo's) and ``owned.yaml``
  (:data:`OWNED_YAML`), and :data:`RUNS` checks what the README says they do.
"""

import ast
import functools
import re
import shutil
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import dagster as dg
import pytest
import yaml

from conftest import run_mypy
from typedrepl import (
    LoadMode,
    Replication,
    ReplicationResource,
    ReplicationTranslator,
    Table,
    build_replication_specs,
)

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

T = TypeVar("T")
Namespace = dict[str, object]

# --------------------------------------------------------------------------- extraction

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")
_PYTHON_INFO = frozenset({"python", "py", "python3"})


@dataclass(frozen=True)
class Block:
    """One ```python block of the README."""

    id: str
    """The slug of the nearest heading above it (``-2``, ``-3``... for a heading's later blocks)."""
    heading: str
    line: int
    """The README line of the block's first line of code."""
    source: str

    @property
    def module(self) -> str:
        return "readme_" + self.id.replace("-", "_")


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-") or "block"


def extract_blocks(markdown: str) -> list[Block]:
    """Every fenced Python block of ``markdown``, in order (``#`` lines inside fences are code)."""
    blocks: list[Block] = []
    heading = ""
    seen: dict[str, int] = {}
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            title = _HEADING.match(lines[index])
            if title is not None:
                heading = title["text"]
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        info = opening["info"].split()
        if info and info[0].lower() in _PYTHON_INFO:
            code = [re.sub(rf"^ {{0,{indent}}}", "", text) for text in lines[index + 1 : end]]
            slug = _slug(heading)
            seen[slug] = seen.get(slug, 0) + 1
            block_id = slug if seen[slug] == 1 else f"{slug}-{seen[slug]}"
            blocks.append(Block(block_id, heading, index + 2, "\n".join(code) + "\n"))
        index = end + 1
    return blocks


BLOCKS = extract_blocks(README.read_text(encoding="utf-8"))

# --------------------------------------------------------------------------- what the reader supplies

PREAMBLES: dict[str, str] = {
    # `assert_translator_consistent(MyTranslator(), ...)`: the reader's translator. Here the
    # default one, which the check must accept (test_block_runs also swaps in a broken one).
    "checking-your-own-translator-and-config-in-ci": """
        from typedrepl import ReplicationTranslator as _ReplicationTranslator
        from typedrepl import Table as _Table


        class MyTranslator(_ReplicationTranslator[_Table]):
            \"\"\"The reader's translator (README: `MyTranslator()`).\"\"\"
    """,
}
"""Code put before a block (keyed by block id): the names the README leaves to the reader.

Only those names may be public (each must be used by the block and not defined by it);
helpers are imported under a ``_`` alias so they cannot hide an import the block lacks.
"""

CLAIMS: dict[str, str] = {
    # the type comments of the "Python" block
    "python": """
        from typing import assert_type as _assert_type

        from typedrepl import Replication as _Replication
        from typedrepl import Table as _Table

        _assert_type(rep, _Replication[_Table])
        _assert_type(owned, _Replication[OwnedTable])
        _assert_type(owned.tables[0].owner, str)
    """,
}
"""Code put after a block (keyed by block id): the README's type comments, as ``assert_type``."""


def module_text(block: Block) -> tuple[str, int]:
    """The module checked and run for ``block``, and how many lines come before the block."""
    preamble = textwrap.dedent(PREAMBLES.get(block.id, "")).strip("\n")
    head = f"{preamble}\n\n\n" if preamble else ""
    claims = textwrap.dedent(CLAIMS.get(block.id, "")).strip("\n")
    tail = f"\n\n{claims}\n" if claims else ""
    return head + block.source + tail, head.count("\n")


def write_module(directory: Path, block: Block) -> Path:
    path = directory / f"{block.module}.py"
    path.write_text(module_text(block)[0], encoding="utf-8")
    return path


# --------------------------------------------------------------------------- mypy

_MYPY_LINE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+): (?P<severity>error|note): (?P<message>.*?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)


@dataclass(frozen=True)
class MypyError:
    line: int
    """The line in the generated module."""
    code: str
    message: str


@dataclass(frozen=True)
class MypyReport:
    output: str
    errors: Mapping[str, Sequence[MypyError]]
    """By block id."""
    stray: Sequence[str]
    """``error:`` lines about no block's module (or that do not parse)."""


@pytest.fixture(scope="module", name="mypy_report")
def fixture_mypy_report(tmp_path_factory: pytest.TempPathFactory) -> MypyReport:
    """One mypy run over every block, each its own module, with mypy.ini and the shared cache."""
    directory = tmp_path_factory.mktemp("readme_modules")
    paths = [write_module(directory, block) for block in BLOCKS]
    # by file name: for a module whose text is unchanged, mypy replays the errors in its
    # cache under the path it had then (another run's directory)
    block_ids = {f"{block.module}.py": block.id for block in BLOCKS}
    stdout, _ = run_mypy("--show-absolute-path", *map(str, paths))
    errors: dict[str, list[MypyError]] = {block.id: [] for block in BLOCKS}
    stray: list[str] = []
    for text in stdout.splitlines():
        match = _MYPY_LINE.match(text)
        block_id = block_ids.get(Path(match["file"]).name) if match else None
        if match is None or block_id is None:
            if ": error: " in text:
                stray.append(text)
        elif match["severity"] == "error":
            error = MypyError(int(match["line"]), match["code"] or "", match["message"])
            errors[block_id].append(error)
    return MypyReport(stdout, errors, stray)


def _describe(block: Block, error: MypyError) -> str:
    """An error located in README.md (or in this file's preamble or claims for the block)."""
    _, offset = module_text(block)
    block_lines = block.source.count("\n")
    where = error.line - offset
    if where < 1:
        place = f"PREAMBLES[{block.id!r}] line {error.line}"
    elif where > block_lines:
        place = f"CLAIMS[{block.id!r}] (module line {error.line})"
    else:
        place = f"README.md:{block.line + where - 1}"
    hint = ""
    if error.code == "name-defined" and 1 <= where <= block_lines:
        hint = f" (a name the reader supplies? define it in PREAMBLES[{block.id!r}])"
    return f"{place}: {error.message}  [{error.code}]{hint}"


def test_mypy_reports_only_on_the_blocks(mypy_report: MypyReport) -> None:
    """Every error mypy prints is about a block's module, so none escapes the per-block tests."""
    assert BLOCKS, "README.md has no ```python block"
    assert mypy_report.stray == [], mypy_report.output


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_block_type_checks(block: Block, mypy_report: MypyReport) -> None:
    """The block, with its preamble and claims, passes ``mypy --strict``."""
    errors = mypy_report.errors[block.id]
    described = "\n".join(_describe(block, error) for error in errors)
    assert errors == [], f"README block {block.id!r} fails mypy --strict:\n{described}"


# --------------------------------------------------------------------------- running the blocks

OWNED_YAML = """\
connections:
  source:
    type: duckdb
    connection: example.duckdb
  destination:
    type: postgres
    connection: postgresql://postgres@localhost/postgres
tables:
  - name: users
    primary_key: id
    owner: growth
  - name: orders
    primary_key: id
    mode: merge
    owner: sales
"""
"""The reader's ``owned.yaml``: the config of a ``Table`` subclass with an ``owner`` field."""

WAREHOUSE_URL = "postgresql://reader@warehouse.invalid:5432/analytics"
"""``$WAREHOUSE_URL`` for the Dagster block (no server: building definitions connects to none)."""


def _repo_table_names() -> list[str]:
    """The tables of the repo's ``replication.yaml``, read as plain YAML."""
    config = yaml.safe_load((ROOT / "replication.yaml").read_text(encoding="utf-8"))
    names = [str(table["name"]) for table in config["tables"]]
    assert names
    return names


def _get(namespace: Namespace, name: str, kind: type[T]) -> T:
    value = namespace.get(name)
    assert isinstance(value, kind), f"the block defines no {kind.__name__} {name!r}: {value!r}"
    return value


def _run_block(block: Block, directory: Path) -> Namespace:
    """Execute the block (with its preamble and claims) as a module; return its globals."""
    path = write_module(directory, block)
    namespace: Namespace = {"__name__": block.module, "__file__": str(path)}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return namespace


def check_python(namespace: Namespace) -> None:
    """``load_replication`` reads the file; with ``table_type`` the tables are the subclass."""
    rep = _get(namespace, "rep", Replication)
    assert [table.name for table in rep.tables] == _repo_table_names()
    assert all(type(table) is Table for table in rep.tables)
    owned_table = _get(namespace, "OwnedTable", type)
    assert issubclass(owned_table, Table)
    owned = _get(namespace, "owned", Replication)
    assert all(type(table) is owned_table for table in owned.tables)
    owner: object = owned.tables[0].owner
    assert isinstance(owner, str)
    assert owner == "growth"


def check_dagster(namespace: Namespace) -> None:
    """Valid definitions: one asset ``raw/<table>`` per table, its checks, and the resource."""
    defs = _get(namespace, "defs", dg.Definitions)
    dg.Definitions.validate_loadable(defs)
    replication = _get(namespace, "replication", Replication)
    tables: Sequence[Table] = replication.tables
    # "One asset per table, keyed by the translator (default: `[*key_prefix, table.name]`)"
    keys = {table.name: dg.AssetKey(["raw", table.name]) for table in tables}
    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    assert set(specs) == {dg.AssetKey(["raw", name]) for name in _repo_table_names()}
    assert set(specs) == set(keys.values())
    assert len(specs) == len(tables)
    # "the table's `meta` block overrides key, group, description, tags, owners and deps"
    for table in tables:
        spec = specs[keys[table.name]]
        assert spec.group_name == (table.meta.group or "raw")
        assert {dep.asset_key for dep in spec.deps} == {
            dg.AssetKey.from_user_string(dep) for dep in table.meta.deps
        }
        if table.meta.description is not None:
            assert spec.description == table.meta.description
        assert set(table.meta.owners) <= set(spec.owners)
        assert dict(table.meta.tags).items() <= dict(spec.tags).items()
    assert any(spec.deps for spec in specs.values())  # replication.yaml has deps to check

    # "`build_replication_specs(replication, translator)` returns the same `AssetSpec`s"
    translator = ReplicationTranslator[Table](key_prefix="raw", group_name="raw")
    assert {spec.key for spec in build_replication_specs(replication, translator)} == set(specs)

    # asset_checks=True: "rows in destination == rows in source; primary key unique"
    raw_tables = _get(namespace, "raw_tables", dg.AssetsDefinition)
    expected_checks = {
        dg.AssetCheckKey(keys[table.name], name)
        for table in tables
        for name, applies in [
            ("row_count_matches_source", table.mode is LoadMode.FULL_REFRESH),
            ("primary_key_unique", bool(table.primary_key)),
        ]
        if applies
    }
    assert raw_tables.check_keys == expected_checks
    assert any(check.name == "row_count_matches_source" for check in expected_checks)

    # the destination comes from $WAREHOUSE_URL, read when the resource is initialized
    assert defs.resources is not None
    resource = defs.resources["replicator"]
    assert isinstance(resource, ReplicationResource)
    assert resource.process_config_and_initialize().destination_url == WAREHOUSE_URL


def check_typed_translators(namespace: Namespace) -> None:
    """The translator sees ``OwnedTable``: each asset is keyed ``<owner>/<table>``."""
    owned_table = _get(namespace, "OwnedTable", type)
    owned = _get(namespace, "owned", Replication)
    assert all(type(table) is owned_table for table in owned.tables)
    owned_tables = _get(namespace, "owned_tables", dg.AssetsDefinition)
    assert set(owned_tables.keys) == {
        dg.AssetKey(["growth", "users"]),
        dg.AssetKey(["sales", "orders"]),
    }


class _OneKeyForAll(ReplicationTranslator[Table]):
    """A broken translator: every table gets the same key."""

    def get_asset_key(self, table: Table, /) -> dg.AssetKey:
        return dg.AssetKey(["everything"])


def check_testing(namespace: Namespace) -> None:
    """The README's test passes for a sound translator and fails for one that collides keys."""
    test = namespace.get("test_my_translator")
    assert callable(test), "the block defines no test_my_translator"
    test()  # MyTranslator is the default translator (PREAMBLES)
    namespace["MyTranslator"] = _OneKeyForAll
    # the counterexample is found at once; only its shrinking is cut short (default: 3 s)
    check = namespace.get("assert_translator_consistent")
    assert callable(check)
    namespace["assert_translator_consistent"] = functools.partial(check, shrink_seconds=0.2)
    with pytest.raises(AssertionError, match="maps two tables to one asset key 'everything'"):
        test()


RUNS: dict[str, Callable[[Namespace], None]] = {
    "python": check_python,
    "dagster": check_dagster,
    "typed-translators": check_typed_translators,
    "checking-your-own-translator-and-config-in-ci": check_testing,
}
"""Blocks that run without a database or network (keyed by block id): what to check after.

A block not listed here is type-checked only.
"""


@pytest.fixture(name="workdir")
def fixture_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with the files the blocks read, and their environment."""
    shutil.copy(ROOT / "replication.yaml", tmp_path / "replication.yaml")
    (tmp_path / "owned.yaml").write_text(OWNED_YAML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAREHOUSE_URL", WAREHOUSE_URL)
    for name in ("TYPEDREPL_DESTINATION_URL", "TYPEDREPL_EXAMPLE_DUCKDB"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.id in RUNS], ids=lambda b: b.id)
def test_block_runs(block: Block, workdir: Path) -> None:
    """The block runs and does what the README says it does."""
    namespace = _run_block(block, workdir)
    RUNS[block.id](namespace)


# --------------------------------------------------------------------------- the tables above


def test_every_entry_names_a_block() -> None:
    """A renamed heading or a removed block cannot leave an entry here silently unused."""
    ids = {block.id for block in BLOCKS}
    for table in (PREAMBLES, CLAIMS, RUNS):
        assert set(table) <= ids, f"no README block with id {sorted(set(table) - ids)}; ids: {ids}"


def _bound_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        else:
            for target in ast.walk(node):
                if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                    names.add(target.id)
    return names


@pytest.mark.parametrize("block_id", sorted(PREAMBLES))
def test_preambles_supply_only_what_the_block_uses(block_id: str) -> None:
    """Each public name of a preamble is read by the block and not defined by it."""
    block = next(block for block in BLOCKS if block.id == block_id)
    preamble = ast.parse(textwrap.dedent(PREAMBLES[block_id]))
    supplied = {name for name in _bound_names(preamble) if not name.startswith("_")}
    tree = ast.parse(block.source)
    read = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    assert supplied
    assert supplied <= read, f"supplied but not used: {sorted(supplied - read)}"
    assert not supplied & _bound_names(tree), "the block defines these itself"


def test_generated_modules_do_not_import_annotations_from_future() -> None:
    """README: Dagster rejects asset bodies whose annotations are strings."""
    for block in BLOCKS:
        if "from __future__ import annotations" not in block.source:
            assert "from __future__" not in module_text(block)[0]


def test_extract_blocks() -> None:
    """Headings inside fences are code; ids follow headings; only Python fences count."""
    markdown = textwrap.dedent(
        """\
        # Top
        ```python
        a = 1
        ```
        ## Two words!
        ~~~~py title
        # not a heading
        ```
        b = 2
        ~~~~
        ```bash
        # also not a heading
        ```
        ```python
        c = 3
        ```
        ```pycon
        >>> d = 4
        ```
        """
    )
    blocks = extract_blocks(markdown)
    assert [(b.id, b.heading, b.line, b.source) for b in blocks] == [
        ("top", "Top", 3, "a = 1\n"),
        ("two-words", "Two words!", 7, "# not a heading\n```\nb = 2\n"),
        ("two-words-2", "Two words!", 15, "c = 3\n"),
    ]
    assert blocks[1].module == "readme_two_words"
