"""The canonical Arrow layout: how each logical type travels between engines.

Sources produce, and destinations accept, record batches whose columns have the
Arrow type :func:`arrow_type` gives. Types Arrow cannot hold exactly travel as
text (128-bit integers, numbers over 38 digits) or as raw bytes (UUID: 16 bytes).
Temporal infinities travel as DuckDB stores them (the largest and smallest
representable values, see ``*_INFINITY``).

A JSON column travels as text. Where that text is the document as the source holds
it (DuckDB ``JSON``, PostgreSQL ``json``, also inside a list, struct or map), an object
may have a key twice: the source marks such a field (:func:`arrow_schema` with
``raw_json``, :func:`is_raw_json`), and a destination that would keep only one of the
values (PostgreSQL ``jsonb``) refuses the document instead.
"""

from __future__ import annotations

from collections.abc import Collection

import pyarrow as pa

from typedrepl._types import DUCKDB_DECIMAL_MAX_PRECISION, Kind, LogicalType

__all__ = [
    "DATE_INFINITY",
    "DATE_NEG_INFINITY",
    "TIMESTAMP_INFINITY",
    "TIMESTAMP_NEG_INFINITY",
    "arrow_schema",
    "arrow_type",
    "is_raw_json",
]

TIMESTAMP_INFINITY = 2**63 - 1
"""Microseconds since 1970 that stand for ``infinity`` (DuckDB's encoding)."""
TIMESTAMP_NEG_INFINITY = -(2**63 - 1)
DATE_INFINITY = 2**31 - 1
"""Days since 1970 that stand for ``infinity`` (DuckDB's encoding)."""
DATE_NEG_INFINITY = -(2**31 - 1)

_SIMPLE: dict[Kind, pa.DataType] = {
    Kind.BOOL: pa.bool_(),
    Kind.INT1: pa.int8(),
    Kind.INT2: pa.int16(),
    Kind.INT4: pa.int32(),
    Kind.INT8: pa.int64(),
    Kind.UINT1: pa.uint8(),
    Kind.UINT2: pa.uint16(),
    Kind.UINT4: pa.uint32(),
    Kind.UINT8: pa.uint64(),
    Kind.INT16: pa.string(),
    Kind.UINT16: pa.string(),
    Kind.NUMERIC: pa.string(),
    Kind.FLOAT4: pa.float32(),
    Kind.FLOAT8: pa.float64(),
    Kind.TEXT: pa.string(),
    Kind.BYTES: pa.binary(),
    Kind.DATE: pa.date32(),
    Kind.TIME: pa.time64("us"),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
    Kind.INTERVAL: pa.month_day_nano_interval(),
    Kind.UUID: pa.binary(),
    Kind.JSON: pa.string(),
    Kind.JSON_TEXT: pa.string(),
}


def arrow_type(logical: LogicalType) -> pa.DataType:
    """The canonical Arrow type of ``logical``."""
    if logical.kind is Kind.DECIMAL:
        precision, scale = logical.precision or 0, logical.scale or 0
        if 0 < precision <= DUCKDB_DECIMAL_MAX_PRECISION and 0 <= scale <= precision:
            return pa.decimal128(precision, scale)
        return pa.string()
    if logical.kind is Kind.LIST:
        assert logical.element is not None
        return pa.list_(arrow_type(logical.element))
    return _SIMPLE[logical.kind]


_RAW_JSON_KEY, _RAW_JSON_VALUE = b"typedrepl.json", b"as the source holds it"
_RAW_JSON = {_RAW_JSON_KEY: _RAW_JSON_VALUE}
"""The field metadata of a JSON column whose text may have an object key twice."""


def arrow_schema(
    columns: list[tuple[str, LogicalType]], *, raw_json: Collection[str] = ()
) -> pa.Schema:
    """The canonical schema of ``(name, type)`` columns; the JSON columns named in
    ``raw_json`` are marked as the source's own text (see :func:`is_raw_json`)."""
    return pa.schema(
        [
            pa.field(
                name,
                arrow_type(lt),
                metadata=_RAW_JSON if lt.kind is Kind.JSON and name in raw_json else None,
            )
            for name, lt in columns
        ]
    )


def is_raw_json(field: pa.Field[pa.DataType]) -> bool:
    """Whether ``field`` is JSON text as the source holds it: an object in it may have a
    key twice, which a destination that normalizes JSON must not drop silently."""
    metadata = field.metadata
    return metadata is not None and metadata.get(_RAW_JSON_KEY) == _RAW_JSON_VALUE
