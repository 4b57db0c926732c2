"""The type mapping between the databases, in one place, as data.

Every source column is read as a :class:`LogicalType` (a database-neutral type);
every destination spells a logical type its own way. :data:`TYPES` holds one row
per logical kind with its DuckDB and PostgreSQL spellings and a note; the readers
(:func:`from_duckdb`, :func:`from_postgres`) and writers (:func:`duckdb_type`,
:func:`postgres_type`) only look that table up. :func:`type_mapping_rows` returns
the mapping as rows for the README.

This module imports no database driver and no pyarrow.
"""

from __future__ import annotations

import enum
import re

import attrs

__all__ = [
    "ARRAY_ELEMENT_KINDS",
    "CURSOR_KINDS",
    "DUCKDB_DECIMAL_MAX_PRECISION",
    "LOOSE_EQUALITY_KINDS",
    "TYPES",
    "Kind",
    "LogicalType",
    "TypeRow",
    "UnsupportedTypeError",
    "duckdb_type",
    "from_duckdb",
    "from_postgres",
    "postgres_type",
    "type_mapping_rows",
]

DUCKDB_DECIMAL_MAX_PRECISION = 38


class UnsupportedTypeError(ValueError):
    """A type has no faithful counterpart; the message says why."""


class Kind(enum.StrEnum):
    """The kinds of logical type."""

    BOOL = "bool"
    INT1 = "int1"
    INT2 = "int2"
    INT4 = "int4"
    INT8 = "int8"
    UINT1 = "uint1"
    UINT2 = "uint2"
    UINT4 = "uint4"
    UINT8 = "uint8"
    INT16 = "int16"
    UINT16 = "uint16"
    DECIMAL = "decimal"
    """Exact number with a declared precision and scale."""
    NUMERIC = "numeric"
    """Exact number without a declared precision (PostgreSQL ``numeric``)."""
    FLOAT4 = "float4"
    FLOAT8 = "float8"
    TEXT = "text"
    BYTES = "bytes"
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"
    TIMESTAMPTZ = "timestamptz"
    INTERVAL = "interval"
    UUID = "uuid"
    JSON = "json"
    """A JSON document; PostgreSQL stores it as ``jsonb`` (normalized)."""
    JSON_TEXT = "json_text"
    """A JSON document kept as exact text (PostgreSQL ``json``)."""
    LIST = "list"


@attrs.frozen
class LogicalType:
    """A database-neutral column type."""

    kind: Kind
    precision: int | None = None
    """For ``DECIMAL``: the number of significant digits."""
    scale: int | None = None
    """For ``DECIMAL``: the number of digits after the point."""
    element: LogicalType | None = None
    """For ``LIST``: the element type."""

    def __str__(self) -> str:
        if self.kind is Kind.DECIMAL:
            return f"decimal({self.precision},{self.scale})"
        if self.kind is Kind.LIST:
            return f"list({self.element})"
        return self.kind.value


@attrs.frozen
class TypeRow:
    """One row of the mapping: a logical kind and its spelling in each database."""

    kind: Kind
    duckdb: str | None
    """DuckDB's spelling, as ``information_schema`` prints it (``None``: no DuckDB type)."""
    postgres: str
    """PostgreSQL's spelling, as ``format_type`` prints it."""
    note: str = ""
    duckdb_also: tuple[str, ...] = ()
    """Other DuckDB types read as this kind (exactly)."""
    postgres_also: tuple[str, ...] = ()
    """Other PostgreSQL types read as this kind (exactly; matched on the name before any ``(``)."""


TYPES: tuple[TypeRow, ...] = (
    TypeRow(kind=Kind.BOOL, duckdb="BOOLEAN", postgres="boolean"),
    TypeRow(kind=Kind.INT1, duckdb="TINYINT", postgres="smallint", note="widened"),
    TypeRow(kind=Kind.INT2, duckdb="SMALLINT", postgres="smallint"),
    TypeRow(kind=Kind.INT4, duckdb="INTEGER", postgres="integer"),
    TypeRow(kind=Kind.INT8, duckdb="BIGINT", postgres="bigint"),
    TypeRow(kind=Kind.UINT1, duckdb="UTINYINT", postgres="smallint", note="widened"),
    TypeRow(kind=Kind.UINT2, duckdb="USMALLINT", postgres="integer", note="widened"),
    TypeRow(kind=Kind.UINT4, duckdb="UINTEGER", postgres="bigint", note="widened"),
    TypeRow(
        kind=Kind.UINT8,
        duckdb="UBIGINT",
        postgres="numeric(20,0)",
        note="exact; read back into DuckDB as DECIMAL(20,0)",
    ),
    TypeRow(
        kind=Kind.INT16,
        duckdb="HUGEINT",
        postgres="numeric(39,0)",
        note="exact; PostgreSQL numeric(39,0) is read back as HUGEINT",
    ),
    TypeRow(
        kind=Kind.UINT16,
        duckdb="UHUGEINT",
        postgres="numeric(39,0)",
        note="exact; read back as HUGEINT, so values above 2^127-1 cannot return to DuckDB",
    ),
    TypeRow(
        kind=Kind.DECIMAL,
        duckdb="DECIMAL(p,s)",
        postgres="numeric(p,s)",
        note="exact; numeric(p,s) with p > 38 or s < 0 has no DuckDB type (error naming the column)",
    ),
    TypeRow(
        kind=Kind.NUMERIC,
        duckdb=None,
        postgres="numeric",
        note="unconstrained numeric: PostgreSQL to PostgreSQL only; into DuckDB it is an error "
        "naming the column (cast it to numeric(p,s) with p <= 38 in a view, or exclude it)",
    ),
    TypeRow(kind=Kind.FLOAT4, duckdb="FLOAT", postgres="real", note="NaN, ±Infinity, -0.0 exact"),
    TypeRow(
        kind=Kind.FLOAT8,
        duckdb="DOUBLE",
        postgres="double precision",
        note="NaN, ±Infinity, -0.0 exact",
    ),
    TypeRow(
        kind=Kind.TEXT,
        duckdb="VARCHAR",
        postgres="text",
        note="DuckDB ENUM and PostgreSQL varchar(n), char(n), name and enums are read as text; "
        "a NUL character cannot enter PostgreSQL (error naming the column and a row key)",
        duckdb_also=("ENUM",),
        postgres_also=("character varying", "character", "bpchar", '"char"', "name"),
    ),
    TypeRow(kind=Kind.BYTES, duckdb="BLOB", postgres="bytea", note="byte-exact; empty is not NULL"),
    TypeRow(kind=Kind.DATE, duckdb="DATE", postgres="date", note="±infinity kept"),
    TypeRow(
        kind=Kind.TIME,
        duckdb="TIME",
        postgres="time without time zone",
        note="microseconds; 24:00:00 kept",
    ),
    TypeRow(
        kind=Kind.TIMESTAMP,
        duckdb="TIMESTAMP",
        postgres="timestamp without time zone",
        note="microseconds, ±infinity kept; DuckDB TIMESTAMP_S and TIMESTAMP_MS widen exactly; "
        "TIMESTAMP_NS is an error (it would lose the nanoseconds)",
        duckdb_also=("TIMESTAMP_S", "TIMESTAMP_MS"),
    ),
    TypeRow(
        kind=Kind.TIMESTAMPTZ,
        duckdb="TIMESTAMP WITH TIME ZONE",
        postgres="timestamp with time zone",
        note="the instant is kept, whatever the session time zone",
    ),
    TypeRow(
        kind=Kind.INTERVAL,
        duckdb="INTERVAL",
        postgres="interval",
        note="months, days and microseconds kept apart",
    ),
    TypeRow(kind=Kind.UUID, duckdb="UUID", postgres="uuid"),
    TypeRow(
        kind=Kind.JSON,
        duckdb="JSON",
        postgres="jsonb",
        note="jsonb normalizes key order and whitespace; a document with a key given twice "
        "(also inside a list, struct or map) is refused into jsonb, kept as written into "
        "DuckDB; DuckDB STRUCT, MAP, nested lists and lists of other kinds become JSON documents",
        duckdb_also=("STRUCT", "MAP"),
    ),
    TypeRow(
        kind=Kind.JSON_TEXT,
        duckdb="JSON",
        postgres="json",
        note="PostgreSQL json keeps its exact text",
    ),
    TypeRow(
        kind=Kind.LIST,
        duckdb="T[]",
        postgres="t[]",
        note="one-dimensional lists of scalar kinds (not UUID, INTERVAL, TIMESTAMPTZ, JSON, "
        "HUGEINT, UHUGEINT, unconstrained numeric); other lists become JSON",
    ),
)
"""The mapping, one row per logical kind."""

_BY_KIND: dict[Kind, TypeRow] = {row.kind: row for row in TYPES}

_UNSUPPORTED_DUCKDB: dict[str, str] = {
    "TIMESTAMP_NS": "nanoseconds cannot be kept by PostgreSQL (microseconds); cast the column "
    "to TIMESTAMP in a view to truncate explicitly",
    "TIME WITH TIME ZONE": "a time with an offset has no exact counterpart",
    "TIME_NS": "nanoseconds cannot be kept",
    "BIT": "bit strings are not supported",
    "BIGNUM": "arbitrary-size integers are not supported",
    "VARINT": "arbitrary-size integers are not supported",
    "UNION": "unions are not supported",
    "VARIANT": "variants are not supported",
    "GEOMETRY": "geometries are not supported",
    "NULL": "a column of type NULL has no type",
}
"""DuckDB types that have no faithful mapping, with the reason (for the error message)."""

ARRAY_ELEMENT_KINDS: frozenset[Kind] = frozenset(
    {
        Kind.BOOL,
        Kind.INT1,
        Kind.INT2,
        Kind.INT4,
        Kind.INT8,
        Kind.UINT1,
        Kind.UINT2,
        Kind.UINT4,
        Kind.UINT8,
        Kind.DECIMAL,
        Kind.FLOAT4,
        Kind.FLOAT8,
        Kind.TEXT,
        Kind.BYTES,
        Kind.DATE,
        Kind.TIME,
        Kind.TIMESTAMP,
    }
)
"""Element kinds a ``LIST`` may hold (a list of anything else is read as JSON)."""

CURSOR_KINDS: frozenset[Kind] = frozenset(
    {
        Kind.INT1,
        Kind.INT2,
        Kind.INT4,
        Kind.INT8,
        Kind.UINT1,
        Kind.UINT2,
        Kind.UINT4,
        Kind.UINT8,
        Kind.INT16,
        Kind.UINT16,
        Kind.DECIMAL,
        Kind.NUMERIC,
        Kind.FLOAT4,
        Kind.FLOAT8,
        Kind.TEXT,
        Kind.DATE,
        Kind.TIME,
        Kind.TIMESTAMP,
        Kind.TIMESTAMPTZ,
        Kind.UUID,
    }
)
"""Kinds an ``incremental`` cursor may have (ordered, with an exact text form)."""

LOOSE_EQUALITY_KINDS: frozenset[Kind] = frozenset(
    {Kind.FLOAT4, Kind.FLOAT8, Kind.INTERVAL, Kind.NUMERIC, Kind.LIST, Kind.JSON_TEXT}
)
"""Kinds whose equality is looser than sameness: ``-0.0 = 0.0``, ``'1 mon' = '30 days'``,
``1.0 = 1.00`` (``numeric``), lists of those, and PostgreSQL ``json`` (no equality at
all). A merge compares their text form too, so that such a change is not skipped as
"unchanged"."""

_DUCKDB_SIMPLE: dict[str, Kind] = {}
for _row in TYPES:
    if _row.duckdb is not None and _row.kind not in (Kind.DECIMAL, Kind.LIST, Kind.JSON_TEXT):
        _DUCKDB_SIMPLE[_row.duckdb] = _row.kind
    for _name in _row.duckdb_also:
        _DUCKDB_SIMPLE[_name] = _row.kind

_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC)\((\d+),\s*(-?\d+)\)$", re.IGNORECASE)
_ARRAY_SUFFIX = re.compile(r"\[\d*\]$")
_PG_NUMERIC = re.compile(r"^numeric\((\d+),(-?\d+)\)$")


def _decimal(precision: int, scale: int) -> LogicalType:
    return LogicalType(Kind.DECIMAL, precision=precision, scale=scale)


def _list_or_json(element: LogicalType) -> LogicalType:
    if element.kind in ARRAY_ELEMENT_KINDS:
        return LogicalType(Kind.LIST, element=element)
    return LogicalType(Kind.JSON)


def from_duckdb(type_name: str) -> LogicalType:
    """The logical type of a DuckDB column type (as ``information_schema`` spells it).

    Raises:
        UnsupportedTypeError: the type has no faithful mapping.
    """
    name = type_name.strip()
    upper = name.upper()
    if _ARRAY_SUFFIX.search(name):
        inner = _ARRAY_SUFFIX.sub("", name)
        if _ARRAY_SUFFIX.search(inner):  # nested list: PostgreSQL arrays must be rectangular
            from_duckdb(_ARRAY_SUFFIX.sub("", inner))
            return LogicalType(Kind.JSON)
        return _list_or_json(from_duckdb(inner))
    match = _DECIMAL.match(name)
    if match:
        return _decimal(int(match[1]), int(match[2]))
    base = upper.split("(", 1)[0].strip()
    if base in _DUCKDB_SIMPLE:
        return LogicalType(_DUCKDB_SIMPLE[base])
    if upper in _DUCKDB_SIMPLE:
        return LogicalType(_DUCKDB_SIMPLE[upper])
    reason = _UNSUPPORTED_DUCKDB.get(base) or _UNSUPPORTED_DUCKDB.get(upper)
    raise UnsupportedTypeError(reason or f"DuckDB type {name} is not supported")


# Kinds PostgreSQL never reads back as such (it reads the wider or numeric type instead).
_PG_WRITE_ONLY = frozenset(
    {Kind.INT1, Kind.UINT1, Kind.UINT2, Kind.UINT4, Kind.UINT8, Kind.INT16, Kind.UINT16}
)
_PG_SIMPLE: dict[str, Kind] = {}
for _row in TYPES:
    if _row.kind not in (*_PG_WRITE_ONLY, Kind.DECIMAL, Kind.LIST, Kind.NUMERIC):
        _PG_SIMPLE[_row.postgres] = _row.kind
    for _name in _row.postgres_also:
        _PG_SIMPLE[_name] = _row.kind
_PG_SIMPLE["numeric"] = Kind.NUMERIC
_PG_TEMPORAL = re.compile(r"^(time|timestamp)\(\d\)( with(?:out)? time zone)$")


def from_postgres(type_name: str, *, is_enum: bool = False) -> LogicalType:
    """The logical type of a PostgreSQL column (``format_type`` of its type).

    Arrays are passed as ``element[]``; ``is_enum`` marks a user enum (read as text).

    Raises:
        UnsupportedTypeError: the type has no faithful mapping.
    """
    name = type_name.strip()
    if name.endswith("[]"):
        element = from_postgres(name[:-2], is_enum=is_enum)
        return _list_or_json(element)
    if is_enum:
        return LogicalType(Kind.TEXT)
    match = _PG_NUMERIC.match(name)
    if match:
        precision, scale = int(match[1]), int(match[2])
        if precision == 39 and scale == 0:
            return LogicalType(Kind.INT16)
        return _decimal(precision, scale)
    name = _PG_TEMPORAL.sub(r"\1\2", name)
    if name.startswith("interval"):
        return LogicalType(Kind.INTERVAL)
    base = name.split("(", 1)[0].strip()
    kind = _PG_SIMPLE.get(name) or _PG_SIMPLE.get(base)
    if kind is None:
        raise UnsupportedTypeError(f"PostgreSQL type {type_name} is not supported")
    return LogicalType(kind)


def duckdb_type(logical: LogicalType) -> str:
    """DuckDB's spelling of ``logical`` (as ``information_schema`` prints it).

    Raises:
        UnsupportedTypeError: DuckDB cannot hold the type exactly.
    """
    if logical.kind is Kind.DECIMAL:
        precision, scale = logical.precision or 0, logical.scale or 0
        if not (0 < precision <= DUCKDB_DECIMAL_MAX_PRECISION and 0 <= scale <= precision):
            raise UnsupportedTypeError(
                f"numeric({precision},{scale}) has no DuckDB type (DECIMAL allows precision "
                f"1..{DUCKDB_DECIMAL_MAX_PRECISION} and 0 <= scale <= precision)"
            )
        return f"DECIMAL({precision},{scale})"
    if logical.kind is Kind.LIST:
        assert logical.element is not None
        return duckdb_type(logical.element) + "[]"
    spelled = _BY_KIND[logical.kind].duckdb
    if spelled is None:
        raise UnsupportedTypeError(_BY_KIND[logical.kind].note)
    return spelled


def postgres_type(logical: LogicalType) -> str:
    """PostgreSQL's spelling of ``logical`` (as ``format_type`` prints it)."""
    if logical.kind is Kind.DECIMAL:
        return f"numeric({logical.precision},{logical.scale})"
    if logical.kind is Kind.LIST:
        assert logical.element is not None
        return postgres_type(logical.element) + "[]"
    return _BY_KIND[logical.kind].postgres


def type_mapping_rows() -> list[tuple[str, str, str]]:
    """The mapping as ``(duckdb_type, postgres_type, note)`` rows, for the README."""
    rows = [(row.duckdb or "(none)", row.postgres, row.note) for row in TYPES]
    rows += [
        ("STRUCT(...), MAP(...)", "jsonb", "as a JSON object (never DuckDB literal syntax)"),
        ("ENUM(...)", "text", ""),
        *((name, "(error)", reason) for name, reason in _UNSUPPORTED_DUCKDB.items()),
    ]
    return rows
