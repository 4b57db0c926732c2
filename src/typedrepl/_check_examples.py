"""The examples the translator check runs on: drawn by hypothesis, then made small.

An example (:class:`Case`) is a replication, a translator, and the tables whose
assets are selected; it may add a copy of a table under a look-alike name (``Users``
next to ``users``). A failing example is made small in two steps: hypothesis shrinks
it for at most ``shrink_seconds`` (shrinking replays the user's strategies, which can
take minutes for rich ones like :func:`~typedrepl.testing.replications`), then
:func:`_reduce` simplifies it greedily while it fails the same way: fewer tables,
fields back to their defaults, shorter names, a simpler drawn translator.
"""

from __future__ import annotations

import contextlib
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from typing import Final, Generic, TypeVar, cast

import attrs
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import (
    FlakyFailure,
    Unsatisfiable,
    UnsatisfiedAssumption,
)

from typedrepl._check_report import Failure
from typedrepl._converter import CONVERTER
from typedrepl._models import LoadMode, Replication, Table, TableMeta, TableT
from typedrepl._translator import Translator
from typedrepl.testing import POSTGRES_MAX_IDENTIFIER_BYTES

__all__ = ["Case", "LOOKALIKE_WAYS", "search_and_report"]

T = TypeVar("T")


class _OutOfTime(BaseException):
    """Stops hypothesis's shrinking when its time is up (a ``BaseException``: never a failure)."""


# --------------------------------------------------------------------------- examples


@attrs.frozen(eq=False)
class Case(Generic[TableT]):
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


LOOKALIKE_WAYS: Final[dict[str, Callable[[str], str]]] = dict(_LOOKALIKES)


def _with_lookalike(replication: Replication[TableT], index: int, way: str) -> Replication[TableT]:
    """``replication`` plus a copy of its table ``index`` under a look-alike name.

    ``Users`` next to ``users``: distinct tables in PostgreSQL, and so distinct assets.
    The copy has no ``meta.asset_key`` nor ``meta.deps``. When the look-alike name is
    taken (or too long), the replication is returned as it is.
    """
    tables = replication.tables
    original = tables[index]
    twin_name = LOOKALIKE_WAYS[way](original.name)
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
    draw_case: Callable[[st.DataObject], Case[TableT]],
    check: Callable[[Case[TableT]], None],
    *,
    max_examples: int,
    derandomize: bool,
    shrink_seconds: float,
) -> tuple[int, list[tuple[Case[TableT], Failure]]]:
    """Run ``check`` on hypothesis's examples: ``(examples passed, failures seen)``.

    Hypothesis shrinks the first failure for at most ``shrink_seconds``: shrinking
    replays the user's strategies, which may take minutes. Every failing example it
    tries is kept (each is smaller than the one before it).
    """
    failures: list[tuple[Case[TableT], Failure]] = []
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
        except Failure as failure:
            if not first_failed:
                first_failed.append(time.monotonic())
            failures.append((case, failure))
            raise
        passed += 1

    try:
        prop()
    except (Failure, _OutOfTime):
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


def _fails(case: Case[TableT], check: Callable[[Case[TableT]], None], kind: str) -> Failure | None:
    """The failure of ``case`` if it fails the same way, else ``None``."""
    try:
        check(case)
    except Failure as failure:
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


def _remapped(case: Case[TableT], changed: Case[TableT]) -> Case[TableT]:
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


def _candidates(case: Case[TableT], *, generated: bool) -> Iterator[Case[TableT]]:
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
    case: Case[TableT],
    failure: Failure,
    check: Callable[[Case[TableT]], None],
    *,
    generated: bool,
    budget: int = 2000,
) -> Failure:
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


def search_and_report(
    draw_case: Callable[[st.DataObject], Case[TableT]],
    check: Callable[[Case[TableT]], None],
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
