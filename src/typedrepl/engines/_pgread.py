"""Read PostgreSQL rows into canonical Arrow arrays.

The source connection loads the wire values Python cannot hold exactly as plain
numbers: dates and timestamps (with ±infinity and years beyond 9999) as PostgreSQL's
own days/microseconds since 2000 (psycopg's C integer loaders; each column is then moved
to 1970 at once), times as microseconds (``24:00:00`` included), intervals as
``(months, days, nanoseconds)`` and UUIDs as their 16 bytes. Array loaders use them for
the elements too.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any, cast

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg.adapt import Buffer, Loader
from psycopg.pq import Format
from psycopg.types.numeric import Int4BinaryLoader, Int8BinaryLoader
from psycopg.types.string import ByteaBinaryLoader

from typedrepl._types import Kind, LogicalType
from typedrepl.engines._arrow import (
    DATE_INFINITY,
    DATE_NEG_INFINITY,
    TIMESTAMP_INFINITY,
    TIMESTAMP_NEG_INFINITY,
    arrow_schema,
    arrow_type,
)
from typedrepl.engines._errors import RejectedValueError, way_out

__all__ = ["register_loaders", "rows_to_batch"]

_PG_EPOCH_US = 946_684_800_000_000
_PG_EPOCH_DAYS = 10_957
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INTERVAL = struct.Struct(">qii")
_DATE_INFINITIES = (DATE_INFINITY, DATE_NEG_INFINITY)
_TIMESTAMP_INFINITIES = (TIMESTAMP_INFINITY, TIMESTAMP_NEG_INFINITY)


class _IntervalLoader(Loader):
    format = Format.BINARY

    def load(self, data: Buffer) -> tuple[int, int, int]:
        micros, days, months = _INTERVAL.unpack(data)
        return (int(months), int(days), int(micros) * 1000)


def register_loaders(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Make ``conn`` load the types above as plain numbers/bytes (binary results).

    A timestamp's, a date's and a time's binary value is an integer: psycopg's own
    (C) integer loaders read them, and :func:`rows_to_batch` moves the whole column
    from PostgreSQL's epoch to Arrow's at once (a Python loader per value cost 2.3x
    the read time of a table of mixed types)."""
    adapters = conn.adapters
    for name in ("timestamp", "timestamptz", "time"):
        adapters.register_loader(name, Int8BinaryLoader)
    adapters.register_loader("date", Int4BinaryLoader)
    adapters.register_loader("interval", _IntervalLoader)
    adapters.register_loader("uuid", ByteaBinaryLoader)


_STORAGE: dict[Kind, pa.DataType] = {
    Kind.DATE: pa.int32(),
    Kind.TIME: pa.int64(),
    Kind.TIMESTAMP: pa.int64(),
    Kind.TIMESTAMPTZ: pa.int64(),
}


def _storage_type(logical: LogicalType) -> pa.DataType:
    """The Arrow type the loaded Python values convert to (before a zero-copy view)."""
    if logical.kind is Kind.LIST:
        assert logical.element is not None
        return pa.list_(_storage_type(logical.element))
    return _STORAGE.get(logical.kind) or arrow_type(logical)


def _column(values: Sequence[object], name: str, logical: LogicalType) -> pa.Array[Any]:
    storage = _storage_type(logical)
    try:
        array = pa.array(values, type=storage)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise _conversion_error(values, name, logical, exc) from None
    try:
        array = _from_pg_epoch(array, logical)
    except _BeyondDuckDB as beyond:
        raise RejectedValueError(
            f"a timestamp after 294247-01-10 04:00:54.775806 (DuckDB's last; "
            f"{beyond.micros} microseconds from 2000-01-01) at row {beyond.row + 1} of the "
            "batch cannot be stored in DuckDB (its next value is infinity); "
            + way_out(name, json=False, view="filter or cast it in a source view"),
            column=name,
        ) from None
    target = arrow_type(logical)
    return array if storage == target else array.view(target)


class _BeyondDuckDB(Exception):
    """A PostgreSQL timestamp after DuckDB's last one (294247-01-10 04:00:54.775806),
    whose next value is its ``infinity``."""

    def __init__(self, row: int, micros: int) -> None:
        super().__init__(row, micros)
        self.row = row
        self.micros = micros


def _from_pg_epoch(array: pa.Array[Any], logical: LogicalType) -> pa.Array[Any]:
    """Dates and timestamps (in lists too) counted from 1970-01-01 rather than from
    PostgreSQL's 2000-01-01, its ±infinity (the integer limits) as DuckDB's; other
    columns unchanged. Raises :class:`_BeyondDuckDB` for a timestamp DuckDB cannot hold."""
    kind = logical.kind
    if kind is Kind.LIST:
        assert logical.element is not None
        lists = cast("pa.ListArray[Any]", array)
        child = lists.values
        try:
            values = _from_pg_epoch(child, logical.element)
        except _BeyondDuckDB as beyond:
            row = pc.list_parent_indices(lists)[beyond.row].as_py()
            raise _BeyondDuckDB(row, beyond.micros) from None
        if values is child:  # no dates or timestamps in it
            return array
        return pa.ListArray.from_arrays(lists.offsets, values, mask=lists.is_null())
    if kind is Kind.DATE:
        return _shifted(array, _PG_EPOCH_DAYS, (_INT32_MAX, _INT32_MIN), _DATE_INFINITIES)
    if kind is Kind.TIMESTAMP or kind is Kind.TIMESTAMPTZ:
        last = pa.scalar(TIMESTAMP_INFINITY - _PG_EPOCH_US, array.type)
        infinity = pa.scalar(_INT64_MAX, array.type)
        after = pc.and_(pc.greater_equal(array, last), pc.not_equal(array, infinity))
        if pc.any(after).as_py():
            row = pc.index(after, True).as_py()
            raise _BeyondDuckDB(row, array[row].as_py())
        return _shifted(array, _PG_EPOCH_US, (_INT64_MAX, _INT64_MIN), _TIMESTAMP_INFINITIES)
    return array


def _shifted(
    array: pa.Array[Any], by: int, pg_infinities: tuple[int, int], infinities: tuple[int, int]
) -> pa.Array[Any]:
    """``array + by``, PostgreSQL's ``(infinity, -infinity)`` mapped to ``infinities``."""
    out: pa.Array[Any] = pc.add(array, pa.scalar(by, array.type))  # wraps at the limits:
    for pg_value, value in zip(pg_infinities, infinities, strict=True):  # replaced here
        is_it = pc.equal(array, pa.scalar(pg_value, array.type))
        out = pc.if_else(is_it, pa.scalar(value, array.type), out)
    return out


def _conversion_error(
    values: Sequence[object], name: str, logical: LogicalType, exc: Exception
) -> RejectedValueError:
    """The error for values Arrow refused, saying which value and why when known."""
    for index, value in enumerate(values):
        for number in value if isinstance(value, list) else (value,):
            if isinstance(number, Decimal) and not number.is_finite():
                return RejectedValueError(
                    f"numeric value {number} at row {index + 1} of the batch cannot be "
                    "represented in the destination (DuckDB DECIMAL has no NaN or infinity); "
                    + way_out(name, view="filter or cast it in a source view"),
                    column=name,
                )
        if isinstance(value, list) and any(isinstance(v, list) for v in value):
            return RejectedValueError(
                f"a multi-dimensional array at row {index + 1} of the batch cannot be stored "
                f"as a DuckDB {logical} list; {way_out(name)}",
                column=name,
            )
    return RejectedValueError(
        f"cannot convert the value(s) to {logical}: {exc}; "
        + way_out(name, view="cast it in a source view"),
        column=name,
    )


def rows_to_batch(
    rows: Sequence[tuple[object, ...]],
    columns: Sequence[tuple[str, LogicalType]],
    *,
    raw_json: Collection[str] = (),
) -> pa.RecordBatch:
    """A canonical record batch of ``rows`` (one tuple per row, columns in order); the JSON
    columns named in ``raw_json`` are marked as the source's own text (``is_raw_json``)."""
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    arrays = [
        _column(values, name, logical)
        for values, (name, logical) in zip(by_column, columns, strict=False)
    ]
    if raw_json:
        return pa.RecordBatch.from_arrays(
            arrays, schema=arrow_schema(list(columns), raw_json=raw_json)
        )
    return pa.RecordBatch.from_arrays(arrays, names=[name for name, _ in columns])
