"""The checks behind :mod:`typedrepl.testing`: translators, YAML round trips, dry runs.

This module imports Dagster and hypothesis; :mod:`typedrepl.testing` imports it only
when a check runs, so that ``import typedrepl.testing`` stays light.

Every check raises :class:`AssertionError` with a readable report: the tables, the
asset keys, and a minimal example. A report names only the tables involved (one
table, or the two that collide). A failing example is made small in two steps:
hypothesis shrinks it for at most ``shrink_seconds`` (shrinking replays the user's
strategies, which can take minutes for rich ones like :func:`~typedrepl.testing.replications`),
then :func:`_reduce` simplifies it greedily while it fails the same way: fewer tables,
fields back to their defaults, shorter names, a simpler drawn translator.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import inspect
import os
import sys
import time
import typing
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final, Generic, TypeVar, cast

import attrs
from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, AssetSpec, MaterializeResult
from hypothesis import HealthCheck, Verbosity, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import (
    FlakyFailure,
    Unsatisfiable,
    UnsatisfiedAssumption,
)

from typedrepl._assets import replication_assets, replication_graph_assets
from typedrepl._converter import CONVERTER
from typedrepl._dagster_execution import AssetContractError, selected_tables
from typedrepl._loading import dump_replication, load_replication
from typedrepl._models import (
    Connections,
    DuckDBConnection,
    LoadMode,
    Replication,
    Table,
    TableMeta,
    TableT,
)
from typedrepl._specs import AssetSpecError, ReplicationDeclaration, declare_replication
from typedrepl._translator import ReplicationTranslator, Translator
from typedrepl.testing import POSTGRES_MAX_IDENTIFIER_BYTES, CheckSummary, subsets

__all__ = [
    "ChecksFailed",
    "check_dry_run",
    "check_replication",
    "check_roundtrip",
    "check_translator",
    "infer_table_type",
    "load_object",
    "translator_from",
]

T = TypeVar("T")

ReplicationsArg = (
    st.SearchStrategy[Replication[TableT]] | Replication[TableT] | Sequence[Replication[TableT]]
)
TranslatorArg = Translator[TableT] | st.SearchStrategy[Translator[TableT]] | None

_SPEC_FIELDS: Final = (
    "key",
    "deps",
    "description",
    "metadata",
    "group_name",
    "automation_condition",
    "owners",
    "tags",
    "kinds",
    "code_version",
    "skippable",
    "partitions_def",
)
"""The ``AssetSpec`` attributes compared when a translator answers twice."""

_MAX_LISTED: Final = 8
"""Name at most this many tables or keys in one line of a report."""


class _Failure(Exception):
    """A property does not hold; ``str()`` is the readable report (built when asked).

    ``kind`` names the property; ``tables`` are the tables to show as the example.
    """

    def __init__(
        self, kind: str, text: str, tables: Sequence[Table], *, label: str = "minimal example"
    ) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text
        self.tables = tuple(tables)
        self.label = label

    def __str__(self) -> str:
        if not self.tables:
            return self.text
        return f"{self.text}\n{_example(self.tables, label=self.label)}"


class _OutOfTime(BaseException):
    """Stops hypothesis's shrinking when its time is up (a ``BaseException``: never a failure)."""


# --------------------------------------------------------------------------- formatting


def show_key(key: AssetKey) -> str:
    """``'raw/users'``; ``AssetKey(['a/b', ''])`` when the ``a/b`` form is ambiguous."""
    path = list(key.path)
    if path and all(part and "/" not in part for part in path):
        return repr(key.to_user_string())
    return f"AssetKey({path!r})"


def _key_order(key: AssetKey) -> tuple[str, ...]:
    return tuple(key.path)


def _show_keys(keys: Sequence[AssetKey]) -> str:
    shown = [show_key(k) for k in keys[:_MAX_LISTED]]
    more = len(keys) - len(shown)
    return "[" + ", ".join(shown) + (f", ... ({more} more)" if more else "") + "]"


def _show_names(names: Sequence[str]) -> str:
    shown = [repr(n) for n in names[:_MAX_LISTED]]
    more = len(names) - len(shown)
    return "[" + ", ".join(shown) + (f", ... ({more} more)" if more else "") + "]"


def _translator_name(translator: object) -> str:
    if translator is None:
        return "ReplicationTranslator()"
    return type(translator).__qualname__


def _example(tables: Sequence[Table], *, label: str = "minimal example") -> str:
    """The tables as the ``tables:`` block of a config (fields equal to defaults left out)."""
    placeholder = Connections(
        source=DuckDBConnection(connection="-"), destination=DuckDBConnection(connection="-")
    )
    text = dump_replication(Replication(connections=placeholder, tables=tuple(tables)))
    lines = text.splitlines()
    block = lines[lines.index("tables:") :] if "tables:" in lines else lines
    count = f"{len(tables)} table{'s' if len(tables) != 1 else ''}"
    body = "\n".join(f"    {line}" for line in block)
    return f"  {label} ({count}):\n{body}"


def _short(value: object, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- properties


def _effective(
    translator: Translator[TableT] | None, replication: Replication[TableT]
) -> Translator[TableT]:
    """The translator as ``declare_replication`` uses it (default; knowing the connections)."""
    chosen: Translator[TableT] = (
        ReplicationTranslator[TableT]() if translator is None else translator
    )
    if isinstance(chosen, ReplicationTranslator):
        chosen = chosen.with_replication(replication)
    return chosen


def _key_problem(key: object) -> str | None:
    """Why ``key`` is not a usable asset key, or ``None``."""
    if not isinstance(key, AssetKey):
        return f"it is a {type(key).__name__}, not an AssetKey"
    if not key.path:
        return "it has no parts"
    parts: Sequence[object] = key.path
    for index, part in enumerate(parts):
        if not isinstance(part, str):
            return f"part {index} is a {type(part).__name__}, not a string"
        if not part:
            return f"part {index} is empty"
    return None


def _spec(chosen: Translator[TableT], table: TableT, name: str) -> AssetSpec:
    """The translator's spec for ``table``, checked: an ``AssetSpec`` with valid keys."""
    try:
        spec: object = chosen.get_asset_spec(table)
    except Exception as exc:
        text = (
            f"translator {name}: get_asset_spec raised {type(exc).__name__} for table "
            f"{table.name!r}: {exc}"
        )
        raise _Failure("raises", text, [table]) from exc
    if not isinstance(spec, AssetSpec):
        text = (
            f"translator {name}: get_asset_spec returned a {type(spec).__name__} for table "
            f"{table.name!r}, not an AssetSpec"
        )
        raise _Failure("not a spec", text, [table])
    problem = _key_problem(spec.key)
    if problem is not None:
        text = (
            f"translator {name} gives table {table.name!r} an invalid asset key "
            f"{show_key(spec.key)}: {problem}"
        )
        raise _Failure("invalid key", text, [table])
    for dep in spec.deps:
        problem = _key_problem(dep.asset_key)
        if problem is not None:
            text = (
                f"translator {name} gives table {table.name!r} an invalid dependency "
                f"{show_key(dep.asset_key)}: {problem}"
            )
            raise _Failure("invalid dep", text, [table])
    return spec


def _spec_differences(first: AssetSpec, second: AssetSpec) -> list[str]:
    lines = []
    for field in _SPEC_FIELDS:
        a, b = getattr(first, field, None), getattr(second, field, None)
        if a != b:
            if field == "key" and isinstance(a, AssetKey) and isinstance(b, AssetKey):
                lines.append(f"    key: {show_key(a)}, then {show_key(b)}")
            else:
                lines.append(f"    {field}: {_short(a)}, then {_short(b)}")
    return lines or ["    (the specs differ, not in any field compared)"]


def _pins(table: Table, key: AssetKey) -> bool:
    """The table's own ``meta.asset_key`` asks for ``key`` (the config chose it)."""
    wanted = table.meta.asset_key
    return wanted is not None and AssetKey.from_user_string(wanted) == key


def _check_prefix(
    translator: object, tables: Sequence[Table], specs: Sequence[AssetSpec], name: str
) -> None:
    """A translator with a ``key_prefix`` puts it in every key the config does not set.

    The prefix's parts must appear in the key, in order and together, followed by at
    least one more part (``[domain, *key_prefix, name]`` keeps the prefix too).
    """
    prefix = getattr(translator, "key_prefix", None)
    if not isinstance(prefix, tuple) or not prefix or not all(isinstance(p, str) for p in prefix):
        return
    shown = show_key(AssetKey(list(prefix)))
    for table, spec in zip(tables, specs, strict=True):
        if table.meta.asset_key is not None:
            continue  # meta.asset_key replaces the whole key
        path = tuple(spec.key.path)
        size = len(prefix)
        if any(path[i : i + size] == prefix for i in range(len(path) - size)):
            continue
        text = (
            f"translator {name} ignores its key_prefix {shown} on table {table.name!r}: its "
            f"asset key is {show_key(spec.key)}, which does not hold the prefix's parts "
            "followed by more parts"
        )
        raise _Failure("prefix", text, [table])


@attrs.frozen(eq=False)
class _Declared:
    """A replication's tables, their specs, and the declaration the assets use."""

    tables: tuple[Table, ...]
    specs: tuple[AssetSpec, ...]
    declaration: ReplicationDeclaration

    def key_of(self) -> dict[str, AssetKey]:
        return {t.name: s.key for t, s in zip(self.tables, self.specs, strict=True)}


def _declare(
    replication: Replication[TableT], translator: Translator[TableT] | None, *, generated: bool
) -> _Declared:
    """Check the translator on every table of ``replication`` and declare its assets.

    ``generated``: the replication was drawn by hypothesis; a failure its own ``meta``
    causes (two tables whose ``meta.asset_key`` collide, ``meta.deps`` in a cycle) is a
    config mistake, not the translator's, and the example is rejected.
    """
    name = _translator_name(translator)
    tables = replication.tables
    chosen = _effective(translator, replication)
    specs = tuple(_spec(chosen, table, name) for table in tables)

    again = _effective(translator, replication)
    for table, spec in zip(tables, specs, strict=True):
        other = _spec(again, table, name)
        if other != spec:
            text = "\n".join(
                [
                    f"translator {name} is not deterministic: asked twice for the asset spec of "
                    f"table {table.name!r}, it gave two different ones:",
                    *_spec_differences(spec, other),
                    "  Dagster builds the assets in every process that loads your code (the "
                    "webserver, the daemon, each run); they must agree on every key.",
                ]
            )
            raise _Failure("not deterministic", text, [table])

    for table, spec in zip(tables, specs, strict=True):
        try:
            key: object = chosen.get_asset_key(table)
        except Exception as exc:
            text = (
                f"translator {name}: get_asset_key raised {type(exc).__name__} for table "
                f"{table.name!r}: {exc}"
            )
            raise _Failure("raises", text, [table]) from exc
        if key != spec.key:
            shown = show_key(key) if isinstance(key, AssetKey) else _short(key)
            text = (
                f"translator {name}: for table {table.name!r}, get_asset_key gives {shown} but "
                f"get_asset_spec gives the key {show_key(spec.key)}: the asset is "
                f"{show_key(spec.key)}, and code that selects it by get_asset_key selects "
                "something else"
            )
            raise _Failure("key disagrees", text, [table])

    _check_prefix(translator, tables, specs, name)

    first_by_key: dict[AssetKey, Table] = {}
    for table, spec in zip(tables, specs, strict=True):
        first = first_by_key.setdefault(spec.key, table)
        if first is table:
            continue
        if generated and (_pins(first, spec.key) or _pins(table, spec.key)):
            reject()  # the generated config itself asks for a key another table has
        text = "\n".join(
            [
                f"translator {name} maps two tables to one asset key {show_key(spec.key)}:",
                f"    table {first.name!r} -> {show_key(spec.key)}",
                f"    table {table.name!r} -> {show_key(spec.key)}",
                "  Each table must have its own asset key.",
            ]
        )
        raise _Failure("collision", text, [first, table])

    try:
        declaration = declare_replication(replication, translator, asset_checks=True)
    except AssetSpecError as exc:
        involved = [t for t in tables if t.name in exc.tables]
        if generated and any(t.meta.deps for t in involved):
            reject()  # the generated meta.deps form a cycle: a config mistake
        text = f"translator {name}: the assets cannot be declared: {exc}"
        raise _Failure("declaration", text, involved) from exc
    declared = [d.key for d in declaration.tables]
    expected = [s.key for s in specs]
    if declared != expected:
        text = (
            f"translator {name}: the declared asset keys {_show_keys(declared)} are not the "
            f"translator's {_show_keys(expected)}"
        )
        raise _Failure("declaration", text, tables)
    return _Declared(tables=tuple(tables), specs=specs, declaration=declaration)


def _check_selection(declared: _Declared, names: Sequence[str], name: str) -> None:
    """Selecting the assets of ``names`` runs exactly those tables and materializes their keys.

    Uses what the resource uses: ``selected_tables`` (selected keys -> tables) and the
    declaration's ``by_name`` (tables -> the keys reported); and, for the graph form, the
    op output names Dagster selects.
    """
    chosen = set(names)
    key_of = declared.key_of()
    expected = [t.name for t in declared.tables if t.name in chosen]
    selected = {key_of[n] for n in expected}
    shown = _show_keys(sorted((key_of[n] for n in expected), key=_key_order))
    declaration = declared.declaration
    total = len(declared.tables)

    def failure(text: str, ran: Sequence[str]) -> _Failure:
        involved = [t for t in declared.tables if t.name in chosen or t.name in ran]
        label = f"minimal example: select {len(expected)} of the replication's {total} tables"
        return _Failure("selection", text, involved, label=label)

    try:
        ran = selected_tables(declaration, selected)
    except AssetContractError as exc:
        text = f"translator {name}: selecting the asset keys {shown} is refused: {exc}"
        raise failure(text, []) from exc

    problems: list[str] = []
    problems += [f"    table {n!r} is selected but would not run" for n in expected if n not in ran]
    problems += [f"    table {n!r} would run but is not selected" for n in ran if n not in chosen]
    problems += [f"    table {n!r} would run {c} times" for n, c in Counter(ran).items() if c > 1]
    if not problems and ran != expected:
        problems.append(
            f"    the tables would run in the order {_show_names(ran)}, not in config order"
        )
    reported = [declaration.by_name[n].key for n in ran if n in declaration.by_name]
    problems += [
        f"    the asset {show_key(k)} would be materialized but is not selected"
        for k in reported
        if k not in selected
    ]
    problems += [
        f"    the asset {show_key(k)} is selected but would not be materialized"
        for k in sorted(selected - set(reported), key=_key_order)
    ]
    outputs = [o for o, k in declaration.keys_by_output_name.items() if k in selected]
    by_output = {d.output_name: d.table.name for d in declaration.tables}
    output_tables = sorted(by_output[o] for o in outputs if o in by_output)
    if output_tables != sorted(expected):
        problems.append(
            f"    the graph form would run the ops of tables {_show_names(output_tables)}"
        )
    if problems:
        text = "\n".join(
            [
                f"translator {name}: selecting the asset keys {shown} would run the tables "
                f"{_show_names(ran)}:",
                *dict.fromkeys(problems),
                "  What the resource materializes must be exactly what is selected.",
            ]
        )
        raise failure(text, ran)


def _check_same_keys(sub: _Declared, full: _Declared, name: str) -> None:
    """A table's key does not depend on which other tables the replication declares."""
    full_keys = full.key_of()
    for table, spec in zip(sub.tables, sub.specs, strict=True):
        before = full_keys.get(table.name)
        if before is not None and before != spec.key:
            others = [t.name for t in sub.tables]
            text = (
                f"translator {name} gives table {table.name!r} the asset key {show_key(before)} "
                f"in the replication of {len(full.tables)} tables, but {show_key(spec.key)} in "
                f"the replication of the tables {_show_names(others)}: a table's key must not "
                "depend on the other tables (adding a table would rename assets)"
            )
            raise _Failure("context", text, sub.tables)


def _sub_replication(replication: Replication[TableT], names: Sequence[str]) -> Replication[TableT]:
    return Replication(connections=replication.connections, tables=replication.select(names))


@attrs.frozen(eq=False)
class _Case(Generic[TableT]):
    """One example: a replication, a translator, and the tables whose assets are selected.

    ``lookalike`` (``(index, way)``) adds a copy of ``base.tables[index]`` under a
    look-alike name (see :data:`_LOOKALIKES`); the copy follows its original when the
    example is simplified.
    """

    base: Replication[TableT]
    translator: Translator[TableT] | None
    selection: tuple[str, ...]
    lookalike: tuple[int, str] | None = None
    translator_drawn: bool = False
    """The translator was drawn from a strategy (so it may be simplified too)."""

    @property
    def replication(self) -> Replication[TableT]:
        """The replication checked: ``base``, plus the look-alike table if any."""
        if self.lookalike is None:
            return self.base
        return _with_lookalike(self.base, *self.lookalike)

    def size(self) -> tuple[int, int, int, int]:
        """Smaller is simpler: tables, selected tables, non-default fields, name lengths."""
        tables = self.replication.tables
        fields = sum(len(CONVERTER.unstructure(t, type(t))) for t in tables)
        return (len(tables), len(self.selection), fields, sum(len(t.name) for t in tables))


def _check_case(case: _Case[TableT], full: _Declared | None, *, generated: bool) -> None:
    """Every property on one example (``full``: the replication, when already checked)."""
    name = _translator_name(case.translator)
    replication = case.replication
    if full is None:
        full = _declare(replication, case.translator, generated=generated)
        names = [t.name for t in replication.tables]
        for selection in [names, *([n] for n in names)]:
            _check_selection(full, selection, name)
    _check_selection(full, case.selection, name)
    sub = _declare(
        _sub_replication(replication, case.selection), case.translator, generated=generated
    )
    _check_same_keys(sub, full, name)


# --------------------------------------------------------------------------- look-alike names


def _nfd(name: str) -> str:
    return unicodedata.normalize("NFD", name)


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


_LOOKALIKES: Final[tuple[tuple[str, Callable[[str], str]], ...]] = (
    ("upper case", str.upper),
    ("lower case", str.lower),
    ("swapped case", str.swapcase),
    ("title case", str.title),
    ("NFD", _nfd),
    ("NFC", _nfc),
    ("spaces for underscores", lambda n: n.replace("_", " ")),
    ("underscores for spaces", lambda n: n.replace(" ", "_")),
    ("underscores for dashes", lambda n: n.replace("-", "_")),
    ("underscores for dots", lambda n: n.replace(".", "_")),
    ("a trailing space", lambda n: n + " "),
    ("an underscore prefix", lambda n: "_" + n),
)
"""Ways to make a distinct table name that a careless translator maps to the same key."""


_LOOKALIKE_WAYS: Final[dict[str, Callable[[str], str]]] = dict(_LOOKALIKES)


def _with_lookalike(replication: Replication[TableT], index: int, way: str) -> Replication[TableT]:
    """``replication`` plus a copy of its table ``index`` under a look-alike name.

    ``Users`` next to ``users``: distinct tables in PostgreSQL, and so distinct assets.
    The copy has no ``meta.asset_key`` nor ``meta.deps``. When the look-alike name is
    taken (or too long), the replication is returned as it is.
    """
    tables = replication.tables
    original = tables[index]
    twin_name = _LOOKALIKE_WAYS[way](original.name)
    names = {t.name for t in tables}
    targets = {(t.destination_schema, t.target_name) for t in tables}
    if (
        not twin_name.strip()
        or twin_name in names
        or (original.destination_schema, twin_name) in targets
        or len(twin_name.encode()) > POSTGRES_MAX_IDENTIFIER_BYTES
    ):
        return replication
    meta = attrs.evolve(original.meta, asset_key=None, deps=())
    twin = attrs.evolve(original, name=twin_name, destination_table=None, meta=meta)
    return Replication(
        connections=replication.connections,
        tables=(*tables[: index + 1], twin, *tables[index + 1 :]),
    )


# --------------------------------------------------------------------------- search and reduce


def _settings(max_examples: int, derandomize: bool) -> settings:
    return settings(
        max_examples=max_examples,
        derandomize=derandomize,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
            HealthCheck.nested_given,
        ],
    )


def _search(
    draw_case: Callable[[st.DataObject], _Case[TableT]],
    check: Callable[[_Case[TableT]], None],
    *,
    max_examples: int,
    derandomize: bool,
    shrink_seconds: float,
) -> tuple[int, list[tuple[_Case[TableT], _Failure]]]:
    """Run ``check`` on hypothesis's examples: ``(examples passed, failures seen)``.

    Hypothesis shrinks the first failure for at most ``shrink_seconds``: shrinking
    replays the user's strategies, which may take minutes. Every failing example it
    tries is kept (each is smaller than the one before it).
    """
    failures: list[tuple[_Case[TableT], _Failure]] = []
    first_failed: list[float] = []
    passed = 0

    @_settings(max_examples, derandomize)
    @given(st.data())
    def prop(data: st.DataObject) -> None:
        nonlocal passed
        case = draw_case(data)
        if first_failed and time.monotonic() - first_failed[0] > shrink_seconds:
            raise _OutOfTime
        try:
            check(case)
        except _Failure as failure:
            if not first_failed:
                first_failed.append(time.monotonic())
            failures.append((case, failure))
            raise
        passed += 1

    try:
        prop()
    except (_Failure, _OutOfTime):
        pass
    except FlakyFailure:
        if not failures:
            raise
    except Unsatisfiable as exc:
        msg = (
            "no usable example: the replications drawn were all rejected (their own "
            f"meta.asset_key or meta.deps collide): {exc}"
        )
        raise AssertionError(msg) from None
    return passed, failures


def _fails(
    case: _Case[TableT], check: Callable[[_Case[TableT]], None], kind: str
) -> _Failure | None:
    """The failure of ``case`` if it fails the same way, else ``None``."""
    try:
        check(case)
    except _Failure as failure:
        return failure if failure.kind == kind else None
    except (UnsatisfiedAssumption, AssertionError, ValueError, TypeError, KeyError):
        return None
    return None


_TABLE_RESETS: Final[tuple[Mapping[str, object], ...]] = (
    {"meta": TableMeta()},
    {"mode": LoadMode.FULL_REFRESH, "cursor": None, "primary_key": ()},
    {"column_types": {}},
    {"columns": None, "exclude_columns": ()},
    {"source_schema": None},
    {"destination_schema": None},
    {"destination_table": None},
)
"""Ways to make a table simpler that keep it valid."""


def _evolve(instance: T, changes: Mapping[str, object]) -> T:
    """``attrs.evolve`` for a value whose attrs class is known only at run time."""
    evolve: Callable[..., object] = attrs.evolve
    return cast("T", evolve(instance, **changes))


def _is_factory(default: object) -> bool:
    """``attrs.Factory(...)``: a default computed per instance (not a value to compare)."""
    return callable(getattr(default, "factory", None))


def _simpler_tables(table: TableT) -> Iterator[TableT]:
    """``table`` with a group of fields back to their defaults, one group at a time."""
    for reset in _TABLE_RESETS:
        if any(getattr(table, k) != v for k, v in reset.items()):
            with contextlib.suppress(Exception):
                yield _evolve(table, reset)
    base = {a.name for a in attrs.fields(Table)}
    for field in attrs.fields(type(table)):
        default: object = field.default
        if field.name in base or default is attrs.NOTHING or _is_factory(default):
            continue
        if getattr(table, field.name) != default:
            with contextlib.suppress(Exception):
                yield _evolve(table, {field.name: default})


def _simpler_translators(translator: Translator[TableT] | None) -> Iterator[Translator[TableT]]:
    """An ``attrs`` translator with one setting back to its default, or one part shorter."""
    cls = type(translator)
    if translator is None or not attrs.has(cls):
        return
    for field in attrs.fields(cls):
        value: object = getattr(translator, field.name)
        default: object = field.default
        candidates: list[object] = []
        if default is not attrs.NOTHING and not _is_factory(default):
            candidates.append(default)
        if isinstance(value, tuple):
            candidates += [value[:i] + value[i + 1 :] for i in range(len(value))]
        for candidate in candidates:
            if candidate != value:
                with contextlib.suppress(Exception):
                    yield _evolve(translator, {field.name: candidate})


def _valid(replication: Replication[TableT]) -> bool:
    """The load checks a simplification could break: unique names and destinations."""
    tables = replication.tables
    targets = {(t.destination_schema, t.target_name) for t in tables}
    return len({t.name for t in tables}) == len(tables) == len(targets)


def _remapped(case: _Case[TableT], changed: _Case[TableT]) -> _Case[TableT]:
    """``changed`` selecting the tables ``case`` selects: by position when the tables
    were renamed, by name when some were dropped."""
    before, after = case.replication.tables, changed.replication.tables
    chosen = set(case.selection)
    if len(before) == len(after):
        selection = tuple(b.name for a, b in zip(before, after, strict=True) if a.name in chosen)
    else:
        remaining = {t.name for t in after}
        selection = tuple(n for n in case.selection if n in remaining)
    return attrs.evolve(changed, selection=selection)


def _shorter_names(name: str) -> Iterator[str]:
    """``name`` with characters removed: its first one alone, or one fewer."""
    if len(name) > 1:
        yield name[0]
        if len(name) <= POSTGRES_MAX_IDENTIFIER_BYTES:
            for index in range(len(name)):
                yield name[:index] + name[index + 1 :]


def _with_table(replication: Replication[TableT], index: int, table: TableT) -> Replication[TableT]:
    tables = (*replication.tables[:index], table, *replication.tables[index + 1 :])
    return Replication(connections=replication.connections, tables=tables)


def _candidates(case: _Case[TableT], *, generated: bool) -> Iterator[_Case[TableT]]:
    """Simpler versions of ``case``: fewer tables selected or declared, simpler fields and
    names, a simpler translator (when it was drawn)."""
    base, selection = case.base, case.selection
    for name in selection:
        if len(selection) > 1:
            yield attrs.evolve(case, selection=tuple(n for n in selection if n != name))
    if case.translator_drawn:
        for translator in _simpler_translators(case.translator):
            yield attrs.evolve(case, translator=translator)
    if not generated:
        return
    if case.lookalike is not None:
        yield _remapped(case, attrs.evolve(case, lookalike=None))
    for index in range(len(base.tables)):
        if len(base.tables) > 1:
            lookalike = case.lookalike
            if lookalike is not None:
                twin_of, way = lookalike
                lookalike = None if twin_of == index else (twin_of - (twin_of > index), way)
            kept = base.tables[:index] + base.tables[index + 1 :]
            dropped = Replication(connections=base.connections, tables=kept)
            yield _remapped(case, attrs.evolve(case, base=dropped, lookalike=lookalike))
    for index, table in enumerate(base.tables):
        for simpler in _simpler_tables(table):
            candidate = _with_table(base, index, simpler)
            if simpler.name == table.name and _valid(candidate):
                yield attrs.evolve(case, base=candidate)
    for index, table in enumerate(base.tables):
        for shorter in _shorter_names(table.name):
            with contextlib.suppress(Exception):
                candidate = _with_table(base, index, _evolve(table, {"name": shorter}))
                if shorter.strip() and _valid(candidate):
                    yield _remapped(case, attrs.evolve(case, base=candidate))


def _reduce(
    case: _Case[TableT],
    failure: _Failure,
    check: Callable[[_Case[TableT]], None],
    *,
    generated: bool,
    budget: int = 2000,
) -> _Failure:
    """Greedily simplify a failing example while it fails the same way; its failure."""
    tries = 0
    progress = True
    while progress and tries < budget:
        progress = False
        for candidate in _candidates(case, generated=generated):
            tries += 1
            found = _fails(candidate, check, failure.kind)
            if found is not None:
                case, failure, progress = candidate, found, True
                break
            if tries >= budget:
                break
    return failure


def _search_and_report(
    draw_case: Callable[[st.DataObject], _Case[TableT]],
    check: Callable[[_Case[TableT]], None],
    *,
    generated: bool,
    max_examples: int,
    derandomize: bool,
    shrink_seconds: float,
) -> int:
    """The examples that passed, or raise the simplest failure, reduced further."""
    passed, failures = _search(
        draw_case,
        check,
        max_examples=max_examples,
        derandomize=derandomize,
        shrink_seconds=shrink_seconds,
    )
    if not failures:
        return passed
    kind = failures[0][1].kind
    case, failure = min(((c, f) for c, f in failures if f.kind == kind), key=lambda p: p[0].size())
    reduced = _reduce(case, failure, check, generated=generated)
    raise AssertionError(str(reduced))


def _draw_translator(
    translator: TranslatorArg[TableT], data: st.DataObject
) -> Translator[TableT] | None:
    if isinstance(translator, st.SearchStrategy):
        drawn: Translator[TableT] = data.draw(translator, label="translator")
        return drawn
    return translator


def _check_generated(
    translator: TranslatorArg[TableT],
    strategy: st.SearchStrategy[Replication[TableT]],
    *,
    max_examples: int,
    derandomize: bool,
    shrink_seconds: float,
) -> int:
    def draw_case(data: st.DataObject) -> _Case[TableT]:
        base = data.draw(strategy, label="replication")
        chosen = _draw_translator(translator, data)
        lookalike = None
        if data.draw(st.booleans(), label="add a look-alike table"):
            index = data.draw(st.integers(0, len(base.tables) - 1), label="look-alike of table")
            way = data.draw(st.sampled_from(list(_LOOKALIKE_WAYS)), label="look-alike")
            lookalike = (index, way)
        case = _Case(
            base=base,
            translator=chosen,
            selection=(),
            lookalike=lookalike,
            translator_drawn=isinstance(translator, st.SearchStrategy),
        )
        picked = data.draw(subsets(case.replication, min_size=1), label="selection")
        return attrs.evolve(case, selection=picked)

    def check(case: _Case[TableT]) -> None:
        _check_case(case, None, generated=True)

    return _search_and_report(
        draw_case,
        check,
        generated=True,
        max_examples=max_examples,
        derandomize=derandomize,
        shrink_seconds=shrink_seconds,
    )


def _check_concrete(
    translator: TranslatorArg[TableT],
    replication: Replication[TableT],
    *,
    max_examples: int,
    derandomize: bool,
    shrink_seconds: float,
) -> int:
    full: _Declared | None = None
    if not isinstance(translator, st.SearchStrategy):
        # the replication itself, every table: the report names only the tables involved
        try:
            full = _declare(replication, translator, generated=False)
            names = [t.name for t in replication.tables]
            for selection in [names, *([n] for n in names)]:
                _check_selection(full, selection, _translator_name(translator))
        except _Failure as failure:
            raise AssertionError(str(failure)) from None

    def draw_case(data: st.DataObject) -> _Case[TableT]:
        chosen = _draw_translator(translator, data)
        picked = data.draw(subsets(replication, min_size=1), label="selection")
        return _Case(
            base=replication,
            translator=chosen,
            selection=picked,
            translator_drawn=isinstance(translator, st.SearchStrategy),
        )

    def check(case: _Case[TableT]) -> None:
        _check_case(case, full, generated=False)

    return _search_and_report(
        draw_case,
        check,
        generated=False,
        max_examples=max_examples,
        derandomize=derandomize,
        shrink_seconds=shrink_seconds,
    )


def check_translator(
    translator: TranslatorArg[TableT],
    replications: ReplicationsArg[TableT],
    *,
    max_examples: int,
    derandomize: bool = False,
    shrink_seconds: float = 3.0,
) -> int:
    """Implements ``typedrepl.testing.assert_translator_consistent``; returns the examples run."""
    if max_examples < 1:
        msg = f"max_examples must be at least 1, got {max_examples}"
        raise ValueError(msg)
    if isinstance(replications, st.SearchStrategy):
        return _check_generated(
            translator,
            replications,
            max_examples=max_examples,
            derandomize=derandomize,
            shrink_seconds=shrink_seconds,
        )
    items = [replications] if isinstance(replications, Replication) else list(replications)
    if not items:
        msg = "no replication to check: the sequence is empty"
        raise ValueError(msg)
    return sum(
        _check_concrete(
            translator,
            r,
            max_examples=max_examples,
            derandomize=derandomize,
            shrink_seconds=shrink_seconds,
        )
        for r in items
    )


# --------------------------------------------------------------------------- round trip


def _table_type_of(replication: Replication[TableT]) -> type[TableT]:
    kinds = {type(t) for t in replication.tables}
    if len(kinds) > 1:
        listed = ", ".join(sorted(k.__qualname__ for k in kinds))
        msg = f"the replication mixes table types ({listed}): pass table_type"
        raise TypeError(msg)
    if not kinds:
        return cast("type[TableT]", Table)
    return kinds.pop()


def _secrets(replication: Replication[TableT]) -> tuple[str, ...]:
    conns = replication.connections
    return (*conns.source.secrets, *conns.destination.secrets)


def _field_differences(where: str, before: object, after: object) -> Iterator[str]:
    if type(before) is not type(after):
        yield f"{where}: a {type(before).__name__} before, a {type(after).__name__} after"
        return
    cls = type(before)
    if not attrs.has(cls):
        if before != after:
            yield f"{where}: {_short(before)} before, {_short(after)} after"
        return
    for field in attrs.fields(cls):
        a, b = getattr(before, field.name), getattr(after, field.name)
        if a != b:
            yield from _field_differences(f"{where}.{field.name}", a, b)


def _differences(before: Replication[TableT], after: Replication[TableT]) -> list[str]:
    found = list(_field_differences("connections", before.connections, after.connections))
    if len(before.tables) != len(after.tables):
        found.append(f"tables: {len(before.tables)} before, {len(after.tables)} after")
    for index, (a, b) in enumerate(zip(before.tables, after.tables, strict=False)):
        found += _field_differences(f"tables[{index}] ({a.name!r})", a, b)
    return found


def check_roundtrip(replication: Replication[TableT], table_type: type[TableT] | None) -> None:
    """Implements ``typedrepl.testing.assert_roundtrip``."""
    from typedrepl._secrets import scrub

    kind = _table_type_of(replication) if table_type is None else table_type
    secrets = _secrets(replication)
    text = dump_replication(replication)
    try:
        loaded = load_replication(text, table_type=kind, env={})
    except Exception as exc:
        numbered = "\n".join(f"  {i:4} | {line}" for i, line in enumerate(text.splitlines(), 1))
        msg = scrub(
            f"the YAML dump of the replication does not load back: {exc}\n  the dump:\n{numbered}",
            secrets,
        )
        raise AssertionError(msg) from None
    if loaded == replication:
        return
    lines = [f"    {d}" for d in _differences(replication, loaded)] or [
        "    (equal field by field, yet not equal)"
    ]
    again = dump_replication(loaded)
    diff = list(
        difflib.unified_diff(
            text.splitlines(),
            again.splitlines(),
            "the dump",
            "the dump of what loading it gave",
            lineterm="",
            n=2,
        )
    )
    parts = [
        f"the replication ({len(replication.tables)} tables of {kind.__qualname__}) is not "
        "equal to itself after a YAML dump and load:",
        *lines,
    ]
    if diff:
        parts += ["  YAML diff:", *(f"    {line}" for line in diff)]
    raise AssertionError(scrub("\n".join(parts), secrets))


# --------------------------------------------------------------------------- dry run


def _dry_run_body(context: AssetExecutionContext) -> Iterator[MaterializeResult[None]]:
    """The body of the assets built for a dry run: never executed."""
    yield from ()


def _selections(names: Sequence[str]) -> Iterator[list[str]]:
    """Every table, each table alone, and every table but one."""
    yield list(names)
    for name in names:
        yield [name]
    if len(names) > 2:
        for name in names:
            yield [n for n in names if n != name]


def check_dry_run(replication: Replication[TableT], translator: Translator[TableT] | None) -> int:
    """Implements ``typedrepl.testing.assert_keys_match_dry_run``; returns the key count."""
    name = _translator_name(translator)
    try:
        declaration = declare_replication(replication, translator, asset_checks=True)
    except AssetSpecError as exc:
        involved = [t for t in replication.tables if t.name in exc.tables]
        msg = f"the replication's assets cannot be declared: {exc}\n{_example(involved)}"
        raise AssertionError(msg) from None
    forms: dict[str, Callable[[], AssetsDefinition]] = {
        "@replication_assets": lambda: replication_assets(
            replication=replication, translator=translator, name="typedrepl_dry_run",
            asset_checks=True,
        )(_dry_run_body),
        "replication_graph_assets": lambda: replication_graph_assets(
            replication=replication, translator=translator, name="typedrepl_dry_run",
            asset_checks=True,
        ),
    }  # fmt: skip
    declared = {d.key for d in declaration.tables}
    for form, build in forms.items():
        try:
            assets = build()
        except Exception as exc:
            msg = f"Dagster rejects the assets ({form}, translator {name}): {type(exc).__name__}: {exc}"
            raise AssertionError(msg) from None
        if set(assets.keys) != declared:
            extra = sorted(set(assets.keys) - declared, key=_key_order)
            missing = sorted(declared - set(assets.keys), key=_key_order)
            msg = (
                f"the assets of {form} are not the declared ones (translator {name}): "
                f"extra {_show_keys(extra)}, missing {_show_keys(missing)}"
            )
            raise AssertionError(msg)
        outputs = dict(assets.keys_by_output_name)
        if outputs != declaration.keys_by_output_name:
            msg = f"the op outputs of {form} do not map to the declared keys (translator {name})"
            raise AssertionError(msg)
    full = _Declared(
        tables=tuple(replication.tables),
        specs=tuple(d.spec for d in declaration.tables),
        declaration=declaration,
    )
    for selection in _selections([t.name for t in replication.tables]):
        try:
            _check_selection(full, selection, name)
        except _Failure as failure:
            raise AssertionError(str(failure)) from None
    return len(declared)


# --------------------------------------------------------------------------- files


def load_object(spec: str) -> object:
    """``module:attr`` (``attr`` may be dotted), imported with the working directory on ``sys.path``.

    Raises:
        ValueError: ``spec`` is not ``module:attr``, or the module or attribute is missing.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        msg = f"expected module:attribute (like my_project.assets:translator), got {spec!r}"
        raise ValueError(msg)
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        value: object = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or whatever the module raises when imported
        msg = f"cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        raise ValueError(msg) from exc
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            msg = f"{module_name!r} has no attribute {attr!r}"
            raise ValueError(msg) from None
    return value


def translator_from(value: object, spec: str) -> Translator[Table]:
    """A translator instance from what ``--translator`` named: an instance, or a class.

    Raises:
        ValueError: the class cannot be instantiated without arguments, or the object is
            no translator (it has no ``get_asset_spec`` and ``get_asset_key``).
    """
    if isinstance(value, type):
        try:
            value = value()
        except Exception as exc:
            msg = f"{spec} is a class and calling it without arguments failed: {exc}"
            raise ValueError(msg) from exc
    if not all(callable(getattr(value, m, None)) for m in ("get_asset_spec", "get_asset_key")):
        msg = f"{spec} is a {type(value).__name__}, not a translator (no get_asset_spec)"
        raise ValueError(msg)
    return cast("Translator[Table]", value)


def infer_table_type(translator: object) -> type[Table]:
    """The table model a translator is written for (default :class:`Table`).

    Read from the generic base (``class T(ReplicationTranslator[MyTable])``), the
    instance's parameter (``ReplicationTranslator[MyTable]()``), or the annotation of
    ``get_asset_key``'s table parameter.
    """
    if translator is None:
        return Table
    candidates: list[object] = []
    for cls in type(translator).__mro__:
        for base in getattr(cls, "__orig_bases__", ()):
            candidates += typing.get_args(base)
    candidates += typing.get_args(getattr(translator, "__orig_class__", None))
    method = getattr(type(translator), "get_asset_key", None)
    if method is not None:
        with contextlib.suppress(Exception):
            parameters = list(inspect.signature(method, eval_str=True).parameters.values())
            if len(parameters) >= 2:
                candidates.append(parameters[1].annotation)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, Table):
            return candidate
    return Table


def _as_replication(
    source: str | os.PathLike[str] | Replication[TableT],
    translator: object,
    table_type: type[TableT] | None,
) -> Replication[TableT]:
    if isinstance(source, Replication):
        return source
    kind = infer_table_type(translator) if table_type is None else table_type
    return cast("Replication[TableT]", load_replication(Path(source), table_type=kind))


class ChecksFailed(AssertionError):
    """Some checks of :func:`check_replication` failed; ``failures`` holds one report per check."""

    def __init__(self, failures: Sequence[str]) -> None:
        self.failures = tuple(failures)
        super().__init__("\n".join(self.failures))


def check_replication(
    source: str | os.PathLike[str] | Replication[TableT],
    translator: Translator[TableT] | None,
    *,
    table_type: type[TableT] | None,
    max_examples: int,
    derandomize: bool,
) -> CheckSummary:
    """Implements ``typedrepl.testing.assert_replication_ok``.

    The dry run is skipped when the translator check fails: it would report the same
    mistake again, less precisely.
    """
    replication = _as_replication(source, translator, table_type)
    failures: list[str] = []
    examples = keys = 0
    try:
        examples = check_translator(
            translator, replication, max_examples=max_examples, derandomize=derandomize
        )
    except AssertionError as exc:
        failures.append(f"translator check failed: {exc}")
    try:
        check_roundtrip(replication, table_type)
    except AssertionError as exc:
        failures.append(f"round-trip check failed: {exc}")
    if not failures or not failures[0].startswith("translator"):
        try:
            keys = check_dry_run(replication, translator)
        except AssertionError as exc:
            failures.append(f"dry-run check failed: {exc}")
    if failures:
        raise ChecksFailed(failures)
    return CheckSummary(
        tables=len(replication.tables),
        asset_keys=keys,
        translator=_translator_name(translator),
        examples=examples,
    )
