"""The replication model: frozen attrs classes that mirror ``replication.yaml`` key for key."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, Generic, Literal, TypeVar

import attrs

from typedrepl._secrets import passwords_in, redact_url, scrub

__all__ = [
    "CONNECTION_TYPES",
    "ColumnType",
    "Connection",
    "Connections",
    "DuckDBConnection",
    "LoadMode",
    "PostgresConnection",
    "Replication",
    "Table",
    "TableMeta",
    "TableT",
]


def _names(value: str | Iterable[str]) -> tuple[str, ...]:
    """One name or a list of names, as a tuple (``"id"`` -> ``("id",)``)."""
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _opt_names(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else _names(value)


class LoadMode(enum.StrEnum):
    """How a table is loaded into the destination."""

    FULL_REFRESH = "full_refresh"
    """Load into a staging table, then replace the target in one transaction."""
    APPEND = "append"
    """Insert every source row, in one transaction. Re-running appends the rows again."""
    INCREMENTAL = "incremental"
    """Copy the rows whose ``cursor`` is greater than the last value loaded."""
    MERGE = "merge"
    """Upsert every source row by primary key."""


class ColumnType(enum.StrEnum):
    """How a column named in a table's ``column_types`` is read, whatever its own type.

    The way to copy a column whose type has no faithful counterpart (a DuckDB ``BIT``
    or ``UNION``, a PostgreSQL ``point`` or ``money``...), or to copy any column in
    another form: ``column_types: {geom: text, attrs: json}``. The destination column
    gets the override's type; the source column itself is not changed.
    """

    TEXT = "text"
    """The column's text form, as the source prints it (DuckDB ``CAST(col AS VARCHAR)``,
    PostgreSQL ``col::text``), into a text column (PostgreSQL ``text``, DuckDB ``VARCHAR``)."""
    JSON = "json"
    """The column as a JSON document (DuckDB ``to_json(col)``, PostgreSQL ``to_jsonb(col)``),
    into a JSON column (PostgreSQL ``jsonb``, DuckDB ``JSON``)."""


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@attrs.frozen(kw_only=True)
class Connection:
    """Base of the connection kinds. A new kind is one subclass listed in ``CONNECTION_TYPES``.

    ``engine_module`` names the module that implements the kind's engine; it is
    imported only when a replication runs.
    """

    type: str
    connection: str = attrs.field(repr=lambda value: repr(redact_url(value)))
    engine_module: ClassVar[str] = ""
    default_schema: ClassVar[str | None] = None
    """The schema a table without ``source_schema``/``destination_schema`` is in."""

    def same_name(self, name: str) -> str:
        """The form under which the database takes two identifiers for the same object."""
        return name

    @property
    def display(self) -> str:
        """The connection string with any password replaced by ``***``."""
        return redact_url(self.connection)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Passwords held in the connection string (to scrub from messages)."""
        return passwords_in(self.connection)

    def check(self) -> str | None:
        """Return why the connection string is malformed, or ``None`` when it parses."""
        return None if self.connection.strip() else "the connection string is empty"

    def __str__(self) -> str:
        return f"{self.type}:{self.display}"


@attrs.frozen(kw_only=True)
class DuckDBConnection(Connection):
    """A DuckDB database file (``connection`` is its path, relative to the working directory)."""

    type: Literal["duckdb"] = "duckdb"
    engine_module: ClassVar[str] = "typedrepl.engines.duckdb"
    default_schema: ClassVar[str | None] = "main"

    def same_name(self, name: str) -> str:
        """DuckDB compares identifiers, quoted ones too, ignoring ASCII case (only)."""
        return name.translate(_ASCII_LOWER)


@attrs.frozen(kw_only=True)
class PostgresConnection(Connection):
    """A PostgreSQL database: a ``postgresql://`` URL or a ``key=value`` connection string."""

    type: Literal["postgres"] = "postgres"
    engine_module: ClassVar[str] = "typedrepl.engines.postgres"
    default_schema: ClassVar[str | None] = "public"

    def check(self) -> str | None:
        """Parse the connection string the way libpq does."""
        if not self.connection.strip():
            return "the connection string is empty"
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(self.connection)
        except ProgrammingError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            # libpq quotes the part it cannot parse, which may hold the password
            return f"cannot parse the connection string {self.display!r}: {scrub(reason, self.secrets)}"
        return None


CONNECTION_TYPES: tuple[type[Connection], ...] = (DuckDBConnection, PostgresConnection)
"""The connection kinds, dispatched on their ``type`` key. Add a new kind here."""


@attrs.frozen(kw_only=True)
class Connections:
    """Where rows come from and where they go."""

    source: Connection
    destination: Connection


@attrs.frozen(kw_only=True)
class TableMeta:
    """Dagster overrides for one table (the ``meta`` block).

    Asset keys are written as ``a/b/c`` (the same strings ``dagster asset materialize --select`` takes).
    """

    asset_key: str | None = None
    group: str | None = None
    description: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    owners: tuple[str, ...] = attrs.field(default=(), converter=_names)
    deps: tuple[str, ...] = attrs.field(default=(), converter=_names)


@attrs.frozen(kw_only=True)
class Table:
    """One table to replicate. Subclass it (``@attrs.frozen(kw_only=True)``) to add fields of your own."""

    name: str
    """The table's name in the source (and, by default, in the destination)."""
    primary_key: tuple[str, ...] = attrs.field(default=(), converter=_names)
    """One column or a list of columns."""
    mode: LoadMode = LoadMode.FULL_REFRESH
    cursor: str | None = None
    """The column an ``incremental`` load advances on."""
    source_schema: str | None = None
    destination_schema: str | None = None
    destination_table: str | None = None
    columns: tuple[str, ...] | None = attrs.field(default=None, converter=_opt_names)
    """Copy only these columns (default: all of them)."""
    exclude_columns: tuple[str, ...] = attrs.field(default=(), converter=_names)
    """Copy every column but these."""
    column_types: Mapping[str, ColumnType] = attrs.field(factory=dict, hash=False)
    """Columns read in another form than their own type: column name -> ``text`` or ``json``
    (see :class:`ColumnType`). Not the ``cursor``; a primary key column only as ``text``."""
    meta: TableMeta = TableMeta()

    @property
    def target_name(self) -> str:
        """The destination table name (``destination_table``, else ``name``)."""
        return self.destination_table or self.name


TableT = TypeVar("TableT", bound=Table)
"""The table model: :class:`Table` or a user's subclass of it."""


@attrs.frozen(kw_only=True)
class Replication(Generic[TableT]):
    """A source, a destination, and the tables to copy between them."""

    connections: Connections
    tables: tuple[TableT, ...] = attrs.field(converter=tuple)

    def table(self, name: str) -> TableT:
        """The table called ``name``; ``KeyError`` if there is none."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def select(self, names: Sequence[str] | None) -> tuple[TableT, ...]:
        """The tables called ``names`` in config order (all of them for ``None``).

        Unknown names raise ``KeyError`` listing every unknown name; one string instead
        of a sequence of names raises ``TypeError`` (a ``str`` is a sequence of letters).
        """
        if names is None:
            return self.tables
        if isinstance(names, str):
            msg = f"table names are a list, not one string: use [{names!r}]"
            raise TypeError(msg)
        wanted = set(names)
        unknown = sorted(wanted - {t.name for t in self.tables})
        if unknown:
            raise KeyError(", ".join(unknown))
        return tuple(t for t in self.tables if t.name in wanted)
