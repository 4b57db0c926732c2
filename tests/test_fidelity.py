"""The fidelity matrix, computed: each type family replicated there and back, cell by cell.

The families, their values and the outcomes they must have are in
``tests/_fidelity_cases.py``; the README's matrix is rendered from the same data, and
``test_readme_is_current`` fails when the README is stale.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import attrs
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from _fidelity_cases import (
    DUCKDB_FAMILIES,
    ERROR,
    EXACT,
    GUARANTEES,
    LOSSLESS,
    POSTGRES_FAMILIES,
    Family,
    render_fidelity,
    render_types,
)
from conftest import Side, replication_for
from typedrepl import TableResult
from typedrepl._run import iter_replicate
from typedrepl._types import type_mapping_rows
from typedrepl.errors import TableFailure

ROOT = Path(__file__).parent.parent
ZONE = "America/New_York"


@attrs.frozen
class Cell:
    """What a family's replication did: types and outcomes of both legs."""

    there: str
    there_outcome: str
    back: str
    back_outcome: str


def _declared(f: Family) -> Cell:
    if f.there_outcome == ERROR:
        return Cell("", ERROR, "", "")
    if f.back_outcome == ERROR:
        return Cell(f.there, f.there_outcome, "", ERROR)
    return Cell(f.there, f.there_outcome, f.back, f.back_outcome)


@pytest.fixture(name="new_york")
def fixture_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every new session (libpq's PGTZ, the process's TZ) starts in New York, not UTC."""
    monkeypatch.setenv("PGTZ", ZONE)
    monkeypatch.setenv("TZ", ZONE)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _in_new_york(side: Side) -> None:
    if side.kind == "postgres":
        name = conninfo_to_dict(side.target)["dbname"]
        side.execute(
            sql.SQL("ALTER DATABASE {} SET TimeZone = {}")
            .format(sql.Identifier(str(name)), sql.Literal(ZONE))
            .as_string(None)
        )


def _texts(side: Side, table: str, *, as_json: bool) -> list[str | None]:
    if side.kind == "duckdb":
        kind = side.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = ? AND column_name = 'x'",
            (table,),
        )[0][0]
        native_json = str(kind).upper() == "JSON"
        expr = (
            "CAST(to_json(x) AS VARCHAR)" if as_json and not native_json else "CAST(x AS VARCHAR)"
        )
    else:
        kind = _type_of(side, table)
        if kind.startswith("character("):  # x::text would drop char(n)'s padding
            expr = "CASE WHEN x IS NULL THEN NULL ELSE format('%s', x) END"
        elif as_json and kind not in ("json", "jsonb"):
            expr = "to_jsonb(x)::text"
        else:
            expr = "x::text"
    rows = side.execute(f"SELECT id, {expr} FROM {table} ORDER BY id")  # noqa: S608
    return [None if v is None else str(v) for _, v in rows]


def _type_of(side: Side, table: str) -> str:
    if side.kind == "duckdb":
        query = (
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = ? AND column_name = 'x'"
        )
    else:
        query = (
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = ?::regclass AND attname = 'x'"
        )
    return str(side.execute(query, (table,))[0][0])


def _doc(text: str | None) -> object:
    if text is None:
        return None
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        return ("not JSON", text)


def _same(got: Sequence[str | None], want: Sequence[str | None], as_json: bool) -> str | None:
    """``EXACT`` (same text), ``LOSSLESS`` (same JSON documents) or ``None`` (changed)."""
    if list(got) == list(want):
        return EXACT
    if as_json and [_doc(g) for g in got] == [_doc(w) for w in want]:
        return LOSSLESS
    return None


def _error_problems(failure: TableFailure, table: str, origin_type: str, f: Family) -> list[str]:
    """What a failure's message lacks: table, column, type, the hint, the ways out."""
    text = failure.error
    wanted = [f"table {table!r}", "column 'x'", origin_type, f.hint, "exclude_columns"]
    if f.override:
        wanted.append(f"set column_types: {{x: {f.override}}}")
    return [
        f"the error does not say {w!r}: {text}" for w in wanted if w.lower() not in text.lower()
    ]


def _run_script(side: Side, statements: list[str]) -> None:
    """Run statements on one connection (one per statement would be slow)."""
    if side.kind == "duckdb":
        import duckdb

        with duckdb.connect(side.target) as con:
            for statement in statements:
                con.execute(statement)
        return
    with psycopg.connect(side.target, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.replace("%", "%%"))


def _run_matrix(
    families: Sequence[Family], origin: Side, there: Side, back: Side
) -> tuple[dict[str, Cell], list[str]]:
    for side in (origin, there, back):
        _in_new_york(side)
    if origin.kind == "postgres":
        origin.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')")
    names = [f"f{i:02d}" for i in range(len(families))]
    script = []
    for name, f in zip(names, families, strict=True):
        script.append(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, x {f.type})")
        rows = ", ".join(f"({i}, {literal})" for i, (literal, _) in enumerate(f.values))
        script.append(f"INSERT INTO {name} VALUES {rows}")  # noqa: S608
    _run_script(origin, script)
    tables = [{"name": n, "primary_key": "id"} for n in names]
    first = {o.table: o for o in iter_replicate(replication_for(origin, there, tables))}
    arrived = [t for t in tables if isinstance(first[str(t["name"])], TableResult)]
    second = {o.table: o for o in iter_replicate(replication_for(there, back, arrived))}

    cells: dict[str, Cell] = {}
    problems: list[str] = []
    for name, f in zip(names, families, strict=True):
        where = f"{f.label} ({name})"
        origin_type = _type_of(origin, name)
        out = first[name]
        if isinstance(out, TableFailure):
            problems += [f"{where}: {p}" for p in _error_problems(out, name, origin_type, f)]
            if there.exists(there.default_schema, name):
                problems.append(f"{where}: the failed load left a table behind")
            cells[f.label] = Cell("", ERROR, "", "")
            continue
        there_type = _type_of(there, name)
        expected = [want for _, want in f.values]
        got = _texts(there, name, as_json=f.json)
        there_outcome = _same(got, expected, f.json)
        if there_outcome is None:
            problems.append(f"{where}: changed on the way: {got!r} != {expected!r}")
            there_outcome = "CHANGED"
        elif f.json and (
            got != _texts(origin, name, as_json=False)
            or origin_type.lower() not in ("json", "jsonb")
        ):
            there_outcome = LOSSLESS  # the document (or its JSON form), not its text
        out2 = second[name]
        if isinstance(out2, TableFailure):
            problems += [f"{where}: {p}" for p in _error_problems(out2, name, there_type, f)]
            if back.exists(back.default_schema, name):
                problems.append(f"{where}: the failed load back left a table behind")
            cells[f.label] = Cell(there_type, there_outcome, "", ERROR)
            continue
        back_type = _type_of(back, name)
        home = _texts(origin, name, as_json=f.json)
        back_outcome = _same(_texts(back, name, as_json=f.json), home, f.json)
        if back_outcome is None:
            problems.append(
                f"{where}: changed on the way back: {_texts(back, name, as_json=f.json)!r} != {home!r}"
            )
            back_outcome = "CHANGED"
        elif back_outcome == EXACT and back_type != origin_type:
            back_outcome = LOSSLESS
        cells[f.label] = Cell(there_type, there_outcome, back_type, back_outcome)
    problems += _run_overrides(families, names, first, origin, there, back)
    return cells, problems


def _run_overrides(
    families: Sequence[Family],
    names: Sequence[str],
    first: dict[str, TableResult | TableFailure],
    origin: Side,
    there: Side,
    back: Side,
) -> list[str]:
    """Load each failed leg again with the override its error suggests: the column must
    arrive as text, each value the text the leg's source prints for it."""
    by_name = dict(zip(names, families, strict=True))
    legs: dict[tuple[Side, Side], list[str]] = {}
    for name, f in by_name.items():
        if f.override and ERROR in (f.there_outcome, f.back_outcome):
            leg = (origin, there) if isinstance(first[name], TableFailure) else (there, back)
            legs.setdefault(leg, []).append(name)
    problems: list[str] = []
    for (source, destination), chosen in legs.items():
        tables = [
            {"name": n, "primary_key": "id", "column_types": {"x": by_name[n].override}}
            for n in chosen
        ]
        for out in iter_replicate(replication_for(source, destination, tables)):
            where = f"{by_name[out.table].label} ({out.table}) with column_types"
            if isinstance(out, TableFailure):
                problems.append(f"{where}: failed: {out.error}")
                continue
            got_type = _type_of(destination, out.table)
            if got_type != ("VARCHAR" if destination.kind == "duckdb" else "text"):
                problems.append(f"{where}: the column is {got_type}, not text")
            got = _texts(destination, out.table, as_json=False)
            want = _texts(source, out.table, as_json=False)
            if got != want:
                problems.append(f"{where}: {got!r} != the source's text {want!r}")
    return problems


def _compare(families: Sequence[Family], cells: dict[str, Cell], problems: list[str]) -> None:
    differences = [
        f"{f.label}: declared {_declared(f)}, computed {cells[f.label]}"
        for f in families
        if _declared(f) != cells[f.label]
    ]
    assert not problems + differences, "\n".join(problems + differences)


@pytest.mark.usefixtures("new_york")
def test_duckdb_to_postgres_to_duckdb(make_side: Callable[[str], Side]) -> None:
    origin, there, back = make_side("duckdb"), make_side("postgres"), make_side("duckdb")
    cells, problems = _run_matrix(DUCKDB_FAMILIES, origin, there, back)
    _compare(DUCKDB_FAMILIES, cells, problems)


@pytest.mark.usefixtures("new_york")
def test_postgres_to_duckdb_to_postgres(make_side: Callable[[str], Side]) -> None:
    origin, there, back = make_side("postgres"), make_side("duckdb"), make_side("postgres")
    cells, problems = _run_matrix(POSTGRES_FAMILIES, origin, there, back)
    _compare(POSTGRES_FAMILIES, cells, problems)


def _section(text: str, name: str) -> str:
    match = re.search(f"<!-- {name}:START -->\n(.*?)\n?<!-- {name}:END -->", text, re.DOTALL)
    assert match is not None, f"README.md has no {name} markers"
    return match[1].strip()


def test_readme_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stale = "README.md is stale: run `.venv/bin/python scripts/update_readme.py`"
    assert _section(readme, "TYPES") == render_types(type_mapping_rows()).strip(), stale
    assert _section(readme, "FIDELITY") == render_fidelity().strip(), stale


def test_every_guarantee_names_a_test_that_exists() -> None:
    for guarantee in GUARANTEES:
        path, _, name = guarantee.test.partition("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {re.escape(name)}\(", source, re.MULTILINE), guarantee.test


def test_every_family_label_is_unique() -> None:
    for families in (DUCKDB_FAMILIES, POSTGRES_FAMILIES):
        labels = [f.label for f in families]
        assert len(labels) == len(set(labels))


def test_postgres_session_time_zone_is_really_new_york(
    make_side: Callable[[str], Side], new_york: None
) -> None:
    side = make_side("postgres")
    _in_new_york(side)
    with psycopg.connect(side.target) as conn:
        assert conn.execute("SHOW TimeZone").fetchone() == (ZONE,)
