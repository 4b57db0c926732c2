"""The translator check: the asset keys a translator gives, and :func:`check_translator`.

The properties: every table gets a valid asset spec, the same when asked twice, whose
key is what ``get_asset_key`` gives, keeps the translator's ``key_prefix``, is no other
table's, and does not depend on the other tables (:func:`_declare`,
:func:`_check_same_keys`); selecting assets runs exactly their tables
(:func:`check_selection`). :func:`check_translator` checks them on the replications
given or drawn (the examples: :mod:`typedrepl._check_examples`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Final

import attrs
from dagster import AssetKey, AssetSpec
from hypothesis import reject
from hypothesis import strategies as st

from typedrepl._check_examples import LOOKALIKE_WAYS, Case, search_and_report
from typedrepl._check_report import (
    Failure,
    key_order,
    shorten,
    show_key,
    show_keys,
    show_names,
    translator_name,
)
from typedrepl._dagster_execution import AssetContractError, selected_tables
from typedrepl._models import Replication, Table, TableT
from typedrepl._specs import AssetSpecError, ReplicationDeclaration, declare_replication
from typedrepl._translator import ReplicationTranslator, Translator
from typedrepl.testing import subsets

__all__ = ["Declared", "check_selection", "check_translator"]

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
        raise Failure("raises", text, [table]) from exc
    if not isinstance(spec, AssetSpec):
        text = (
            f"translator {name}: get_asset_spec returned a {type(spec).__name__} for table "
            f"{table.name!r}, not an AssetSpec"
        )
        raise Failure("not a spec", text, [table])
    problem = _key_problem(spec.key)
    if problem is not None:
        text = (
            f"translator {name} gives table {table.name!r} an invalid asset key "
            f"{show_key(spec.key)}: {problem}"
        )
        raise Failure("invalid key", text, [table])
    for dep in spec.deps:
        problem = _key_problem(dep.asset_key)
        if problem is not None:
            text = (
                f"translator {name} gives table {table.name!r} an invalid dependency "
                f"{show_key(dep.asset_key)}: {problem}"
            )
            raise Failure("invalid dep", text, [table])
    return spec


def _spec_differences(first: AssetSpec, second: AssetSpec) -> list[str]:
    lines = []
    for field in _SPEC_FIELDS:
        a, b = getattr(first, field, None), getattr(second, field, None)
        if a != b:
            if field == "key" and isinstance(a, AssetKey) and isinstance(b, AssetKey):
                lines.append(f"    key: {show_key(a)}, then {show_key(b)}")
            else:
                lines.append(f"    {field}: {shorten(a)}, then {shorten(b)}")
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
        raise Failure("prefix", text, [table])


@attrs.frozen(eq=False)
class Declared:
    """A replication's tables, their specs, and the declaration the assets use."""

    tables: tuple[Table, ...]
    specs: tuple[AssetSpec, ...]
    declaration: ReplicationDeclaration

    def key_of(self) -> dict[str, AssetKey]:
        return {t.name: s.key for t, s in zip(self.tables, self.specs, strict=True)}


def _declare(
    replication: Replication[TableT], translator: Translator[TableT] | None, *, generated: bool
) -> Declared:
    """Check the translator on every table of ``replication`` and declare its assets.

    ``generated``: the replication was drawn by hypothesis; a failure its own ``meta``
    causes (two tables whose ``meta.asset_key`` collide, ``meta.deps`` in a cycle) is a
    config mistake, not the translator's, and the example is rejected.
    """
    name = translator_name(translator)
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
            raise Failure("not deterministic", text, [table])

    for table, spec in zip(tables, specs, strict=True):
        try:
            key: object = chosen.get_asset_key(table)
        except Exception as exc:
            text = (
                f"translator {name}: get_asset_key raised {type(exc).__name__} for table "
                f"{table.name!r}: {exc}"
            )
            raise Failure("raises", text, [table]) from exc
        if key != spec.key:
            shown = show_key(key) if isinstance(key, AssetKey) else shorten(key)
            text = (
                f"translator {name}: for table {table.name!r}, get_asset_key gives {shown} but "
                f"get_asset_spec gives the key {show_key(spec.key)}: the asset is "
                f"{show_key(spec.key)}, and code that selects it by get_asset_key selects "
                "something else"
            )
            raise Failure("key disagrees", text, [table])

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
        raise Failure("collision", text, [first, table])

    try:
        declaration = declare_replication(replication, translator, asset_checks=True)
    except AssetSpecError as exc:
        involved = [t for t in tables if t.name in exc.tables]
        if generated and any(t.meta.deps for t in involved):
            reject()  # the generated meta.deps form a cycle: a config mistake
        text = f"translator {name}: the assets cannot be declared: {exc}"
        raise Failure("declaration", text, involved) from exc
    declared = [d.key for d in declaration.tables]
    expected = [s.key for s in specs]
    if declared != expected:
        text = (
            f"translator {name}: the declared asset keys {show_keys(declared)} are not the "
            f"translator's {show_keys(expected)}"
        )
        raise Failure("declaration", text, tables)
    return Declared(tables=tuple(tables), specs=specs, declaration=declaration)


def check_selection(declared: Declared, names: Sequence[str], name: str) -> None:
    """Selecting the assets of ``names`` runs exactly those tables and materializes their keys.

    Uses what the resource uses: ``selected_tables`` (selected keys -> tables) and the
    declaration's ``by_name`` (tables -> the keys reported); and, for the graph form, the
    op output names Dagster selects.
    """
    chosen = set(names)
    key_of = declared.key_of()
    expected = [t.name for t in declared.tables if t.name in chosen]
    selected = {key_of[n] for n in expected}
    shown = show_keys(sorted((key_of[n] for n in expected), key=key_order))
    declaration = declared.declaration
    total = len(declared.tables)

    def failure(text: str, ran: Sequence[str]) -> Failure:
        involved = [t for t in declared.tables if t.name in chosen or t.name in ran]
        label = f"minimal example: select {len(expected)} of the replication's {total} tables"
        return Failure("selection", text, involved, label=label)

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
            f"    the tables would run in the order {show_names(ran)}, not in config order"
        )
    reported = [declaration.by_name[n].key for n in ran if n in declaration.by_name]
    problems += [
        f"    the asset {show_key(k)} would be materialized but is not selected"
        for k in reported
        if k not in selected
    ]
    problems += [
        f"    the asset {show_key(k)} is selected but would not be materialized"
        for k in sorted(selected - set(reported), key=key_order)
    ]
    outputs = [o for o, k in declaration.keys_by_output_name.items() if k in selected]
    by_output = {d.output_name: d.table.name for d in declaration.tables}
    output_tables = sorted(by_output[o] for o in outputs if o in by_output)
    if output_tables != sorted(expected):
        problems.append(
            f"    the graph form would run the ops of tables {show_names(output_tables)}"
        )
    if problems:
        text = "\n".join(
            [
                f"translator {name}: selecting the asset keys {shown} would run the tables "
                f"{show_names(ran)}:",
                *dict.fromkeys(problems),
                "  What the resource materializes must be exactly what is selected.",
            ]
        )
        raise failure(text, ran)


def _check_same_keys(sub: Declared, full: Declared, name: str) -> None:
    """A table's key does not depend on which other tables the replication declares."""
    full_keys = full.key_of()
    for table, spec in zip(sub.tables, sub.specs, strict=True):
        before = full_keys.get(table.name)
        if before is not None and before != spec.key:
            others = [t.name for t in sub.tables]
            text = (
                f"translator {name} gives table {table.name!r} the asset key {show_key(before)} "
                f"in the replication of {len(full.tables)} tables, but {show_key(spec.key)} in "
                f"the replication of the tables {show_names(others)}: a table's key must not "
                "depend on the other tables (adding a table would rename assets)"
            )
            raise Failure("context", text, sub.tables)


def _sub_replication(replication: Replication[TableT], names: Sequence[str]) -> Replication[TableT]:
    return Replication(connections=replication.connections, tables=replication.select(names))


def _check_case(case: Case[TableT], full: Declared | None, *, generated: bool) -> None:
    """Every property on one example (``full``: the replication, when already checked)."""
    name = translator_name(case.translator)
    replication = case.replication
    if full is None:
        full = _declare(replication, case.translator, generated=generated)
        names = [t.name for t in replication.tables]
        for selection in [names, *([n] for n in names)]:
            check_selection(full, selection, name)
    check_selection(full, case.selection, name)
    sub = _declare(
        _sub_replication(replication, case.selection), case.translator, generated=generated
    )
    _check_same_keys(sub, full, name)


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
    def draw_case(data: st.DataObject) -> Case[TableT]:
        base = data.draw(strategy, label="replication")
        chosen = _draw_translator(translator, data)
        lookalike = None
        if data.draw(st.booleans(), label="add a look-alike table"):
            index = data.draw(st.integers(0, len(base.tables) - 1), label="look-alike of table")
            way = data.draw(st.sampled_from(list(LOOKALIKE_WAYS)), label="look-alike")
            lookalike = (index, way)
        case = Case(
            base=base,
            translator=chosen,
            selection=(),
            lookalike=lookalike,
            translator_drawn=isinstance(translator, st.SearchStrategy),
        )
        picked = data.draw(subsets(case.replication, min_size=1), label="selection")
        return attrs.evolve(case, selection=picked)

    def check(case: Case[TableT]) -> None:
        _check_case(case, None, generated=True)

    return search_and_report(
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
    full: Declared | None = None
    if not isinstance(translator, st.SearchStrategy):
        # the replication itself, every table: the report names only the tables involved
        try:
            full = _declare(replication, translator, generated=False)
            names = [t.name for t in replication.tables]
            for selection in [names, *([n] for n in names)]:
                check_selection(full, selection, translator_name(translator))
        except Failure as failure:
            raise AssertionError(str(failure)) from None

    def draw_case(data: st.DataObject) -> Case[TableT]:
        chosen = _draw_translator(translator, data)
        picked = data.draw(subsets(replication, min_size=1), label="selection")
        return Case(
            base=replication,
            translator=chosen,
            selection=picked,
            translator_drawn=isinstance(translator, st.SearchStrategy),
        )

    def check(case: Case[TableT]) -> None:
        _check_case(case, full, generated=False)

    return search_and_report(
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
