"""Hypothesis strategies for typedrepl configs: test your own tables and replications.

This module needs `hypothesis <https://hypothesis.readthedocs.io>`_, an optional
dependency (``pip install 'typedrepl[testing]'``); ``import typedrepl`` never imports it.

Every replication these strategies generate passes :func:`typedrepl.load_replication`'s
checks, and dumps and loads back equal::

    from hypothesis import given
    from typedrepl import dump_replication, load_replication
    from typedrepl.testing import replications

    @given(replications())
    def test_round_trip(replication):
        assert load_replication(dump_replication(replication)) == replication

Names are adversarial on purpose: SQL keywords, quotes, spaces, dots, mixed case,
unicode letters and emoji, YAML look-alikes (``yes``, ``null``, ``1e3``), ``$`` signs.

The checks (``assert_*``) run such properties for you and fail with an
``AssertionError`` naming a minimal counterexample; they import Dagster when they run::

    from typedrepl.testing import assert_translator_consistent, replications

    def test_my_translator() -> None:
        assert_translator_consistent(MyTranslator(), replications=replications())

``typedrepl check FILE`` runs them on a replication file (no database needed).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final, TypeVar, overload
from urllib.parse import quote

import attrs
from hypothesis import strategies as st

from typedrepl._models import (
    ColumnType,
    Connection,
    Connections,
    DuckDBConnection,
    LoadMode,
    PostgresConnection,
    Replication,
    Table,
    TableMeta,
)

if TYPE_CHECKING:
    from typedrepl._translator import ReplicationTranslator, Translator

__all__ = [
    "POSTGRES_MAX_IDENTIFIER_BYTES",
    "SQL_KEYWORDS",
    "connections",
    "identifier_key",
    "identifiers",
    "replications",
    "subsets",
    "tables",
    "translators",
    # checks
    "CheckSummary",
    "assert_keys_match_dry_run",
    "assert_replication_ok",
    "assert_roundtrip",
    "assert_translator_consistent",
]

TableT = TypeVar("TableT", bound=Table)
TranslatorT = TypeVar("TranslatorT")

POSTGRES_MAX_IDENTIFIER_BYTES: Final = 63
"""PostgreSQL's identifier limit, in UTF-8 bytes (longer names are truncated silently)."""

SQL_KEYWORDS: Final[tuple[str, ...]] = (
    "all", "analyze", "and", "any", "array", "as", "asc", "both", "by", "case", "cast",
    "check", "collate", "column", "constraint", "create", "current_date", "current_user",
    "default", "delete", "desc", "describe", "distinct", "do", "drop", "else", "end",
    "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "if",
    "in", "index", "insert", "into", "is", "join", "key", "lateral", "leading", "like",
    "limit", "natural", "not", "null", "offset", "on", "only", "or", "order", "pivot",
    "primary", "qualify", "references", "returning", "select", "session_user", "show",
    "some", "summarize", "table", "then", "to", "trailing", "true", "type", "union",
    "unique", "update", "user", "using", "values", "when", "where", "window", "with",
)  # fmt: skip
"""Reserved or awkward words in PostgreSQL and DuckDB; :func:`identifiers` draws from them."""

_YAML_LOOKALIKES: Final[tuple[str, ...]] = (
    "yes", "No", "ON", "off", "y", "n", "null", "Null", "~", "true", "False", "1", "007",
    "0x1F", "0o17", "1e3", "1_000", ".inf", "-.inf", ".NaN", "2024-01-01", "12:30:00",
    "-", "- a", "a: b", "? a", "*a", "&a", "!a", "#a", "a #b", "%a", "@a", "`a", "|", ">",
    "[a]", "{a}", "'", '"', "''", '""', "a,b", "<<", "=",
)  # fmt: skip
"""Strings a YAML dumper must quote to keep them strings."""

_PUNCTUATION: Final = " .\"'$-_/\\@:#{}[]%&*!|>?,`+=;()~\u00a0"
_EMOJI: Final[tuple[str, ...]] = ("🦆", "🐘", "✨", "👩‍💻", "🇩🇪", "🏳️‍🌈", "❤️", "1️⃣")

_CASINGS: Final = (str.lower, str.upper, str.title, str.capitalize, str.swapcase)


def _fit(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, on a character boundary."""
    return text.encode()[:max_bytes].decode("utf-8", "ignore")


def identifier_key(name: str) -> str:
    """The form under which two names denote the same object in DuckDB or PostgreSQL.

    DuckDB compares identifiers case-insensitively, even quoted ones, and may normalize
    unicode; generated names are unique under this key, not just as strings.
    """
    return unicodedata.normalize("NFC", name).casefold()


def identifiers(*, max_bytes: int = POSTGRES_MAX_IDENTIFIER_BYTES) -> st.SearchStrategy[str]:
    """Table, schema and column names, from the plain to the awkward.

    Draws plain names (``order_items``), SQL keywords in any case (``select``,
    ``ORDER``, ``User``), YAML look-alikes (``yes``, ``null``, ``1e3``) and free text
    mixing quotes, spaces, dots, ``$``, unicode letters, combining marks and emoji.

    Args:
        max_bytes: the longest name, in UTF-8 bytes (default 63, PostgreSQL's limit).

    Returns:
        A strategy of non-empty strings without NUL of at most ``max_bytes`` UTF-8 bytes.

    Raises:
        ValueError: if ``max_bytes`` is less than 4 (one emoji character needs 4).
    """
    if max_bytes < 4:
        msg = f"max_bytes must be at least 4, got {max_bytes}"
        raise ValueError(msg)
    return _identifiers(max_bytes)


_PLAIN_START: Final = "abcdefghijklmnopqrstuvwxyz_"
_PLAIN_REST: Final = _PLAIN_START + "0123456789"


@functools.cache
def _identifiers(max_bytes: int) -> st.SearchStrategy[str]:
    """:func:`identifiers`, built once per limit (building strategies is not free)."""
    plain = st.tuples(st.sampled_from(_PLAIN_START), st.text(_PLAIN_REST, max_size=20)).map("".join)
    keywords = st.tuples(st.sampled_from(SQL_KEYWORDS), st.sampled_from(_CASINGS)).map(
        lambda pair: pair[1](pair[0])
    )
    characters = st.characters(
        categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Nd", "So"),
        include_characters=_PUNCTUATION + "abcxyzABCXYZ_0123456789",
    )
    with_emoji = st.lists(
        st.sampled_from(_EMOJI) | st.text(characters, min_size=1, max_size=4),
        min_size=1,
        max_size=8,
    ).map("".join)
    names = st.one_of(
        plain,
        keywords,
        st.sampled_from(_YAML_LOOKALIKES),
        st.text(characters, min_size=1, max_size=max_bytes),
        with_emoji,
        # long names: right at the byte limit
        st.text(characters, min_size=max_bytes, max_size=max_bytes),
    )
    return names.map(lambda name: _fit(name, max_bytes))


@functools.cache
def _asset_keys() -> st.SearchStrategy[str]:
    segment = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
    return st.lists(segment, min_size=1, max_size=3).map("/".join)


@functools.cache
def _table_meta() -> st.SearchStrategy[TableMeta]:
    """Dagster overrides that Dagster accepts (valid names, tags and owners)."""
    group = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
    tag_key = st.from_regex(r"[a-z][a-z0-9_.-]{0,12}", fullmatch=True)
    tag_value = st.from_regex(r"[A-Za-z0-9_.-]{0,20}", fullmatch=True)
    owner = st.one_of(
        st.from_regex(r"[a-z]{1,8}@example\.com", fullmatch=True),
        st.from_regex(r"team:[a-z][a-z_]{0,8}", fullmatch=True),
    )
    description = st.text(
        st.characters(exclude_categories=("Cs", "Co", "Cn"), exclude_characters="\x00"),
        max_size=40,
    )
    full = st.builds(
        TableMeta,
        asset_key=st.none() | _asset_keys(),
        group=st.none() | group,
        description=st.none() | description,
        tags=st.dictionaries(tag_key, tag_value, max_size=3),
        owners=st.lists(owner, max_size=2, unique=True).map(tuple),
        deps=st.lists(_asset_keys(), max_size=2, unique=True).map(tuple),
    )
    return st.just(TableMeta()) | full


_BASE_FIELDS: Final = frozenset(a.name for a in attrs.fields(Table))


@overload
def tables() -> st.SearchStrategy[Table]: ...


@overload
def tables(
    table_type: type[TableT], **extra_field_strategies: st.SearchStrategy[object]
) -> st.SearchStrategy[TableT]: ...


def tables(
    table_type: type[Table] = Table, **extra_field_strategies: st.SearchStrategy[object]
) -> st.SearchStrategy[Table]:
    """Valid tables: every load mode with the fields it needs.

    ``merge`` tables have a primary key (often composite), ``incremental`` tables a
    cursor; ``columns``/``exclude_columns`` keep the key and cursor copied;
    ``column_types`` overrides some copied columns (never the cursor, a key column only
    as ``text``); names may be renamed in the destination and placed in schemas;
    ``meta`` holds Dagster overrides. Column names within a table are unique under
    :func:`identifier_key`.

    Args:
        table_type: :class:`~typedrepl.Table` or your ``attrs`` subclass of it.
        **extra_field_strategies: a strategy for each field your subclass adds, by
            field name (``owner=st.text()``). Fields with a default may be left out.

    Returns:
        A strategy of ``table_type`` instances.

    Raises:
        TypeError: if a strategy names no field of ``table_type`` or one of
            :class:`~typedrepl.Table`'s own fields, or a required extra field has none.

    Example::

        @attrs.frozen(kw_only=True)
        class MyTable(Table):
            owner: str

        my_tables = tables(MyTable, owner=st.text(min_size=1))
    """
    extra_fields = {a.name: a for a in attrs.fields(table_type) if a.name not in _BASE_FIELDS}
    unknown = sorted(set(extra_field_strategies) - set(extra_fields))
    if unknown:
        msg = f"{table_type.__name__} has no extra field(s) {', '.join(map(repr, unknown))}"
        raise TypeError(msg)
    missing = sorted(
        name
        for name, field in extra_fields.items()
        if field.default is attrs.NOTHING and name not in extra_field_strategies
    )
    if missing:
        msg = f"tables({table_type.__name__}) needs a strategy for {', '.join(map(repr, missing))}"
        raise TypeError(msg)
    with contextlib.suppress(NameError):  # a name only the caller's scope knows: unchecked
        attrs.resolve_types(table_type)
    extras = st.fixed_dictionaries(
        {
            name: strategy.map(functools.partial(_typed_extra, table_type, extra_fields[name]))
            for name, strategy in extra_field_strategies.items()
        }
    )
    names = identifiers()
    optional = st.none() | names
    column_lists = st.lists(names, min_size=1, max_size=6, unique_by=identifier_key)
    meta = _table_meta()

    @st.composite
    def build(draw: st.DrawFn) -> Table:
        mode = draw(st.sampled_from(LoadMode))
        columns = draw(column_lists)
        key_size = st.integers(1 if mode is LoadMode.MERGE else 0, min(3, len(columns)))
        primary_key = tuple(columns[: draw(key_size)])
        cursor = draw(st.sampled_from(columns)) if mode is LoadMode.INCREMENTAL else None
        needed = [*primary_key, *([cursor] if cursor and cursor not in primary_key else [])]
        others = [c for c in columns if c not in needed]
        selection = draw(st.sampled_from(("all", "columns", "exclude")))
        copied: tuple[str, ...] | None = None
        excluded: tuple[str, ...] = ()
        if selection == "columns":
            chosen = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
            copied = tuple(draw(st.permutations([*needed, *chosen]))) or (columns[0],)
        elif selection == "exclude" and others:
            excluded = tuple(draw(st.lists(st.sampled_from(others), min_size=1, unique=True)))
        copyable = [
            c for c in (columns if copied is None else copied) if c not in excluded and c != cursor
        ]
        overridden = (
            draw(st.lists(st.sampled_from(copyable), max_size=2, unique=True)) if copyable else []
        )
        column_types = {
            c: ColumnType.TEXT if c in primary_key else draw(st.sampled_from(ColumnType))
            for c in overridden
        }
        return table_type(
            name=draw(names),
            primary_key=primary_key,
            mode=mode,
            cursor=cursor,
            source_schema=draw(optional),
            destination_schema=draw(optional),
            destination_table=draw(optional),
            columns=copied,
            exclude_columns=excluded,
            column_types=column_types,
            meta=draw(meta),
            **draw(extras),
        )

    return build()


def _typed_extra(table_type: type[Table], field: attrs.Attribute[object], value: object) -> object:
    """``value`` if the config loader would give it to ``field``; else a ``TypeError``.

    mypy cannot check the strategies passed by field name: a strategy drawing values of
    the wrong type (``owner=st.integers()`` for ``owner: str``) is refused at its first
    example, as ``load_replication`` would refuse such a value in a config. A field of a
    type the loader has no rule for (nor a config could hold) is not checked.
    """
    import cattrs

    from typedrepl._converter import CONVERTER, Invalid

    if field.type is None or isinstance(field.type, str):  # no annotation, or unresolved
        return value
    try:
        loaded = CONVERTER.structure(CONVERTER.unstructure(value), field.type)
    except cattrs.errors.StructureHandlerNotFoundError:
        return value
    except (Invalid, cattrs.BaseValidationError) as exc:
        msg = (
            f"tables({table_type.__name__}): the strategy for {field.name!r} drew {value!r}, "
            f"which a config cannot hold for {field.name}: {_type_name(field.type)}"
        )
        raise TypeError(msg) from exc
    if loaded != value:
        msg = (
            f"tables({table_type.__name__}): the strategy for {field.name!r} drew {value!r}, "
            f"which a config would load as {loaded!r}"
        )
        raise TypeError(msg)
    return value


def _type_name(annotation: object) -> str:
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def _passwords() -> st.SearchStrategy[str]:
    """Any text libpq takes (no NUL), often with characters that end or escape a value."""
    awkward = st.sampled_from(" \t\n\\'\"@:/?#&=%+$\u00a0\u2028\u0085")
    return st.text(
        awkward | st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=16
    )


def _conninfo_quote(value: str) -> str:
    """A libpq ``key=value`` value: single-quoted, with ``'`` and ``\\`` escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@st.composite
def _postgres_connection_strings(draw: st.DrawFn) -> str:
    user = draw(st.sampled_from(("postgres", "app", "repl_user", "ünïcode", "a b@c:d")))
    password = draw(_passwords())
    host = draw(st.sampled_from(("localhost", "127.0.0.1", "db.example.com", "[::1]")))
    port = draw(st.sampled_from(("", ":5432", ":6543")))
    database = draw(st.sampled_from(("postgres", "analytics", "my db", "données")))
    scheme = draw(st.sampled_from(("postgresql", "postgres")))
    form = draw(st.sampled_from(("url", "query", "keywords")))
    if form == "url":
        options = draw(st.sampled_from(("", "?sslmode=disable", "?application_name=typedrepl")))
        userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return f"{scheme}://{userinfo}@{host}{port}/{quote(database, safe='')}{options}"
    if form == "query":
        return (
            f"{scheme}://{quote(user, safe='')}@{host}{port}/{quote(database, safe='')}"
            f"?password={quote(password, safe='')}"
        )
    host = host.strip("[]")
    words = [f"host={host}", f"user={_conninfo_quote(user)}"]
    words += [f"password={_conninfo_quote(password)}", f"dbname={_conninfo_quote(database)}"]
    if port:
        words.append(f"port={port[1:]}")
    return " ".join(draw(st.permutations(words)))


def _duckdb_paths() -> st.SearchStrategy[str]:
    named = identifiers().filter(lambda n: n.strip() != "").map(lambda n: f"{n}.duckdb")
    fixed = st.sampled_from(("example.duckdb", "data/warehouse.duckdb", ":memory:", "C:\\x.db"))
    return fixed | named


def _connection() -> st.SearchStrategy[Connection]:
    duckdb: st.SearchStrategy[Connection] = st.builds(DuckDBConnection, connection=_duckdb_paths())
    postgres: st.SearchStrategy[Connection] = st.builds(
        PostgresConnection, connection=_postgres_connection_strings()
    )
    return duckdb | postgres


def connections() -> st.SearchStrategy[Connections]:
    """A source and a destination, each DuckDB or PostgreSQL (any pair, same kind too).

    PostgreSQL connection strings come as ``postgresql://user:password@host/db`` URLs
    (percent-encoded), with ``?password=``, or in libpq ``key=value`` form (quoted);
    passwords are arbitrary unicode text. None of them connect anywhere.

    Returns:
        A strategy of :class:`~typedrepl.Connections`.
    """
    return st.builds(Connections, source=_connection(), destination=_connection())


def _target_key(table: Table) -> tuple[str | None, str]:
    """Where a table lands; no schema and the default schemas are the same place."""
    schema = table.destination_schema
    schema_key = None if schema is None else identifier_key(schema)
    if schema_key in ("public", "main"):
        schema_key = None
    return schema_key, identifier_key(table.target_name)


@overload
def replications(
    *,
    connections: st.SearchStrategy[Connections] | None = None,
    min_tables: int = 1,
    max_tables: int = 5,
) -> st.SearchStrategy[Replication[Table]]: ...


@overload
def replications(
    tables: st.SearchStrategy[TableT],
    *,
    connections: st.SearchStrategy[Connections] | None = None,
    min_tables: int = 1,
    max_tables: int = 5,
) -> st.SearchStrategy[Replication[TableT]]: ...


def replications(
    tables: st.SearchStrategy[TableT] | None = None,
    *,
    connections: st.SearchStrategy[Connections] | None = None,
    min_tables: int = 1,
    max_tables: int = 5,
) -> st.SearchStrategy[Replication[TableT]] | st.SearchStrategy[Replication[Table]]:
    """Valid replications: connections and tables that ``load_replication`` accepts.

    Table names are unique, and so are the destination tables they write (both under
    :func:`identifier_key`, with no schema, ``public`` and ``main`` taken as one).

    Args:
        tables: the strategy for each table (default: :func:`tables`).
        connections: the strategy for the connections (default: :func:`connections`).
        min_tables: the fewest tables (at least 1).
        max_tables: the most tables.

    Returns:
        A strategy of :class:`~typedrepl.Replication`, typed by the table strategy.

    Raises:
        ValueError: if ``min_tables`` is less than 1 or more than ``max_tables``.
    """
    if not 1 <= min_tables <= max_tables:
        msg = f"need 1 <= min_tables <= max_tables, got {min_tables} and {max_tables}"
        raise ValueError(msg)
    connection_strategy = _default_connections() if connections is None else connections
    if tables is None:
        return _replications(_default_tables(), connection_strategy, min_tables, max_tables)
    return _replications(tables, connection_strategy, min_tables, max_tables)


def _replications(
    tables: st.SearchStrategy[TableT],
    connections: st.SearchStrategy[Connections],
    min_tables: int,
    max_tables: int,
) -> st.SearchStrategy[Replication[TableT]]:
    table_lists = st.lists(
        tables,
        min_size=min_tables,
        max_size=max_tables,
        unique_by=(lambda t: identifier_key(t.name), _target_key),
    )

    def build(connections: Connections, tables: list[TableT]) -> Replication[TableT]:
        return Replication(connections=connections, tables=tuple(tables))

    return st.builds(build, connections, table_lists)


_default_tables = tables
_default_connections = connections


def subsets(
    replication: Replication[TableT], *, min_size: int = 0, max_size: int | None = None
) -> st.SearchStrategy[tuple[str, ...]]:
    """Subsets of a replication's table names, in any order (for ``Replication.select``).

    Args:
        replication: the replication whose tables are chosen from.
        min_size: the fewest names.
        max_size: the most names (default: all of them).

    Returns:
        A strategy of tuples of distinct table names.
    """
    names: Sequence[str] = [t.name for t in replication.tables]
    return st.lists(st.sampled_from(names), min_size=min_size, max_size=max_size, unique=True).map(
        tuple
    )


# --------------------------------------------------------------------------- translators

_KIND_NAMES: Final = ("duckdb", "postgres", "sql", "python", "table", "warehouse")


@functools.cache
def _translator_fields() -> dict[str, st.SearchStrategy[object]]:
    """Strategies for :class:`~typedrepl.ReplicationTranslator`'s settings, Dagster-valid."""
    plain = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
    segment = plain | identifiers(max_bytes=16)
    tag_key = st.from_regex(r"[a-z][a-z0-9_.-]{0,12}", fullmatch=True)
    tag_value = st.from_regex(r"[A-Za-z0-9_.-]{0,20}", fullmatch=True)
    owner = st.one_of(
        st.from_regex(r"[a-z]{1,8}@example\.com", fullmatch=True),
        st.from_regex(r"team:[a-z][a-z_]{0,8}", fullmatch=True),
    )
    return {
        "key_prefix": st.lists(segment, max_size=3).map(tuple),
        "group_name": st.none() | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True),
        "kinds": st.none() | st.frozensets(st.sampled_from(_KIND_NAMES), max_size=3),
        "tags": st.dictionaries(tag_key, tag_value, max_size=3),
        "owners": st.lists(owner, max_size=2, unique=True).map(tuple),
    }


@overload
def translators() -> st.SearchStrategy[ReplicationTranslator[Table]]: ...


@overload
def translators(
    translator_type: Callable[..., TranslatorT], /, **field_strategies: st.SearchStrategy[object]
) -> st.SearchStrategy[TranslatorT]: ...


def translators(
    translator_type: Callable[..., object] | None = None,
    /,
    **field_strategies: st.SearchStrategy[object],
) -> st.SearchStrategy[object]:
    """Translators with every setting drawn: key prefixes, groups, kinds, tags, owners.

    Key prefixes have zero to three parts, as awkward as table names (``select``,
    ``a b``, emoji); groups, tags, kinds and owners are values Dagster accepts.

    Args:
        translator_type: :class:`~typedrepl.ReplicationTranslator` (the default) or your
            ``attrs`` subclass of it; the settings it has are drawn. Any other callable
            receives only ``field_strategies``.
        **field_strategies: a strategy per keyword argument, replacing the default one
            (``key_prefix=st.just(("raw",))``) or filling a field your subclass adds.

    Returns:
        A strategy of translators (``translator_type`` instances).

    Raises:
        TypeError: at once, if a strategy names no argument of ``translator_type``.

    Example::

        from hypothesis import strategies as st
        from typedrepl.testing import assert_translator_consistent, replications, translators

        def test_every_prefix_and_group() -> None:
            assert_translator_consistent(
                translators(MyTranslator, region=st.sampled_from(["eu", "us"])),
                replications=replications(),
            )
    """
    from typedrepl._translator import ReplicationTranslator

    target: Callable[..., object] = (
        ReplicationTranslator[Table] if translator_type is None else translator_type
    )
    owner = ReplicationTranslator if translator_type is None else translator_type
    try:
        inspect.signature(owner).bind_partial(**field_strategies)
    except TypeError as exc:  # a misspelt field: say so now, not when an example is drawn
        msg = f"translators(): {getattr(owner, '__qualname__', owner)!s} {exc}"
        raise TypeError(msg) from None
    except ValueError:  # no signature to check against (a builtin): hypothesis will tell
        pass
    settable = (
        {f.name for f in attrs.fields(owner)}
        if isinstance(owner, type) and attrs.has(owner)
        else set()
    )
    drawn = {k: v for k, v in _translator_fields().items() if k in settable}
    return st.builds(target, **{**drawn, **field_strategies})


# --------------------------------------------------------------------------- checks


@attrs.frozen(kw_only=True)
class CheckSummary:
    """What :func:`assert_replication_ok` checked, when every check passed."""

    tables: int
    """The replication's tables."""
    asset_keys: int
    """Their distinct asset keys (one per table)."""
    translator: str
    """The translator's class name."""
    examples: int
    """The generated subsets the translator was checked on."""

    def __str__(self) -> str:
        plural = "s" if self.tables != 1 else ""
        return (
            f"{self.tables} table{plural} -> {self.asset_keys} distinct asset keys "
            f"(translator {self.translator}); consistent on the replication and "
            f"{self.examples} generated subsets; YAML round trip equal; a dry run "
            "materializes exactly the selected keys"
        )


def assert_translator_consistent(
    translator: Translator[TableT] | st.SearchStrategy[Translator[TableT]] | None,
    replications: st.SearchStrategy[Replication[TableT]]
    | Replication[TableT]
    | Sequence[Replication[TableT]],
    *,
    max_examples: int = 100,
    derandomize: bool = False,
    shrink_seconds: float = 3.0,
) -> None:
    """Check that a translator gives every table its own, stable, usable asset key.

    On each replication (drawn from a strategy, or the ones given and subsets of their
    tables), the translator must:

    - give valid specs: ``get_asset_spec`` returns an ``AssetSpec`` whose key and deps
      have at least one part and no empty part, and ``build_replication_specs`` accepts
      the specs (no collision, no dependency cycle);
    - be deterministic: asked twice, it gives equal specs; ``get_asset_key`` agrees
      with ``get_asset_spec().key``;
    - keep its ``key_prefix`` (for a translator that has one) on every key that the
      table's ``meta.asset_key`` does not set;
    - give distinct tables distinct keys. A generated replication may gain a look-alike
      table (``Users`` next to ``users``, ``a b`` next to ``a_b``): PostgreSQL tells
      such tables apart, so their assets must differ too;
    - give a table the same key whatever other tables the replication declares;
    - round-trip every selection: selecting the keys of some tables makes the resource
      run exactly those tables and report exactly those keys (the code path
      :class:`~typedrepl.ReplicationResource` uses, and the graph form's op outputs).

    Generated replications whose own ``meta`` is contradictory (two tables asking for
    one ``meta.asset_key``, ``meta.deps`` in a cycle) are skipped: that is a config
    mistake, which checking a concrete replication reports.

    The check runs hypothesis itself: call it from a plain test. To vary the
    translator, pass a strategy of translators rather than calling the check from a
    ``@given`` test (which then needs ``HealthCheck.nested_given`` suppressed).

    Args:
        translator: the translator, a strategy of translators (see :func:`translators`),
            or ``None`` for :class:`~typedrepl.ReplicationTranslator`.
        replications: a strategy of replications (see :func:`replications`), a
            replication, or a sequence of replications.
        max_examples: how many examples hypothesis runs (per concrete replication).
        derandomize: draw the same examples on every run (for reproducible CI).
        shrink_seconds: how long hypothesis may shrink a failing example; the check then
            simplifies it further itself (fewer tables, fields back to their defaults).

    Raises:
        AssertionError: naming a minimal failing example: the tables and keys involved.
        ValueError: ``max_examples`` is less than 1, or the sequence is empty.

    Example::

        from typedrepl.testing import assert_translator_consistent, replications, tables

        def test_my_translator() -> None:
            assert_translator_consistent(MyTranslator(), replications=replications())

        def test_my_translator_on_my_tables() -> None:
            my_replications = replications(tables(MyTable, domain=st.sampled_from(["crm"])))
            assert_translator_consistent(MyTranslator(), replications=my_replications)
    """
    from typedrepl._check_keys import check_translator

    check_translator(
        translator,
        replications,
        max_examples=max_examples,
        derandomize=derandomize,
        shrink_seconds=shrink_seconds,
    )


def assert_roundtrip(
    replication: Replication[TableT], *, table_type: type[TableT] | None = None
) -> None:
    """Check that ``load_replication(dump_replication(replication))`` equals ``replication``.

    The dump is loaded with an empty environment (a ``$`` must survive as it is).

    Args:
        replication: the replication.
        table_type: the table model to load with (default: the type of its tables).

    Raises:
        AssertionError: listing each field that differs after the round trip
            (``tables[2] ('users').primary_key: ...``) and the YAML diff, or the load
            errors; passwords are masked.
        TypeError: the tables are of several types and ``table_type`` is not given.

    Example::

        from hypothesis import given
        from typedrepl.testing import assert_roundtrip, replications, tables

        @given(replications(tables(MyTable)))
        def test_my_tables_round_trip(replication: Replication[MyTable]) -> None:
            assert_roundtrip(replication)
    """
    from typedrepl._check_roundtrip import check_roundtrip

    check_roundtrip(replication, table_type)


def assert_keys_match_dry_run(
    source: str | os.PathLike[str] | Replication[TableT],
    translator: Translator[TableT] | None = None,
    *,
    table_type: type[TableT] | None = None,
) -> None:
    """Check a replication's declared asset keys against a dry run of the resource's selection.

    Builds both asset forms (``@replication_assets`` and ``replication_graph_assets``),
    checks their keys and op outputs are the declared ones, then maps selections (every
    table, each table alone, every table but one) from keys to the tables the resource
    would run and back to the keys it would report. No database is touched.

    Args:
        source: a replication file's path, or a replication.
        translator: the translator (default :class:`~typedrepl.ReplicationTranslator`).
        table_type: the table model to load a file with (default: the one the
            translator is written for, else :class:`~typedrepl.Table`).

    Raises:
        AssertionError: the assets cannot be declared, Dagster rejects them, or a
            selection would run other tables than those selected.
        ConfigError: the file is not a valid replication.

    Example::

        from typedrepl.testing import assert_keys_match_dry_run

        def test_replication_file() -> None:
            assert_keys_match_dry_run("replication.yaml", MyTranslator())
    """
    from typedrepl._check_dryrun import check_dry_run
    from typedrepl._check_objects import as_replication

    check_dry_run(as_replication(source, translator, table_type), translator)


def assert_replication_ok(
    source: str | os.PathLike[str] | Replication[TableT],
    translator: Translator[TableT] | None = None,
    *,
    table_type: type[TableT] | None = None,
    max_examples: int = 100,
    derandomize: bool = False,
) -> CheckSummary:
    """Run every check on a replication file (what ``typedrepl check FILE`` runs).

    :func:`assert_translator_consistent` on the replication and generated subsets of
    its tables, :func:`assert_roundtrip`, and :func:`assert_keys_match_dry_run`.

    Args:
        source: a replication file's path, or a replication.
        translator: the translator (default :class:`~typedrepl.ReplicationTranslator`).
        table_type: the table model to load a file with (default: the one the
            translator is written for, else :class:`~typedrepl.Table`).
        max_examples: how many subsets of the tables hypothesis draws.
        derandomize: draw the same subsets on every run.

    Returns:
        What was checked; ``str()`` of it is a one-line summary.

    Raises:
        AssertionError: the report of every check that failed.
        ConfigError: the file is not a valid replication.

    Example::

        from typedrepl.testing import assert_replication_ok

        def test_replication_file() -> None:
            assert_replication_ok("replication.yaml", MyTranslator())
    """
    from typedrepl._checks import check_replication

    return check_replication(
        source,
        translator,
        table_type=table_type,
        max_examples=max_examples,
        derandomize=derandomize,
    )
