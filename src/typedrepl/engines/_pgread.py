"""Read PostgreSQL rows into canonical Arrow arrays.

Binary loaders registered on the source connection turn the wire values Python
cannot hold exactly into plain numbers: dates and timestamps (with ±infinity and
years beyond 9999) into days/microseconds since 1970, times into microseconds
(``24:00:00`` included), intervals into ``(months, days, nanoseconds)`` and UUIDs
into their 16 bytes. Array loaders use them for the elements too.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

import psycopg
import pyarrow as pa
from psycopg.adapt import Buffer, Loader
from psycopg.pq import Format

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

__all__ = ["BeyondDuckDB", "register_loaders", "rows_to_batch"]

_PG_EPOCH_US = 946_684_800_000_000
_PG_EPOCH_DAYS = 10_957
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_Q = struct.Struct(">q")
_I = struct.Struct(">i")
_INTERVAL = struct.Struct(">qii")


class BeyondDuckDB:
    """A PostgreSQL timestamp after DuckDB's last one (294247-01-10 04:00:54.775806).

    DuckDB's next value would be its ``infinity``: the loader returns this marker
    instead, and building the batch fails with an error naming the column.
    """

    def __init__(self, micros_since_2000: int) -> None:
        self.micros = micros_since_2000


class _TimestampLoader(Loader):
    format = Format.BINARY

    def load(self, data: Buffer) -> int | BeyondDuckDB:
        (value,) = _Q.unpack(data)
        if value == _INT64_MAX:
            return TIMESTAMP_INFINITY
        if value == _INT64_MIN:
            return TIMESTAMP_NEG_INFINITY
        micros = int(value) + _PG_EPOCH_US
        if micros >= TIMESTAMP_INFINITY:
            return BeyondDuckDB(int(value))
        return micros


class _DateLoader(Loader):
    format = Format.BINARY

    def load(self, data: Buffer) -> int:
        (value,) = _I.unpack(data)
        if value == _INT32_MAX:
            return DATE_INFINITY
        if value == _INT32_MIN:
            return DATE_NEG_INFINITY
        return int(value) + _PG_EPOCH_DAYS


class _TimeLoader(Loader):
    format = Format.BINARY

    def load(self, data: Buffer) -> int:
        return int(_Q.unpack(data)[0])


class _IntervalLoader(Loader):
    format = Format.BINARY

    def load(self, data: Buffer) -> tuple[int, int, int]:
        micros, days, months = _INTERVAL.unpack(data)
        return (int(months), int(days), int(micros) * 1000)


class _BytesLoader(Loader):
    format = Format.BINARY

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


def register_loaders(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Make ``conn`` load the types above as plain numbers/bytes (binary results)."""
    adapters = conn.adapters
    for name in ("timestamp", "timestamptz"):
        adapters.register_loader(name, _TimestampLoader)
    adapters.register_loader("date", _DateLoader)
    adapters.register_loader("time", _TimeLoader)
    adapters.register_loader("interval", _IntervalLoader)
    adapters.register_loader("uuid", _BytesLoader)


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


def _check_decimals(values: Sequence[object], name: str) -> None:
    for value in values:
        if isinstance(value, Decimal) and not value.is_finite():
            raise RejectedValueError(
                f"numeric value {value} cannot be represented in the destination "
                "(DuckDB DECIMAL has no NaN or infinity)",
                column=name,
            )


def _column(values: list[object], name: str, logical: LogicalType) -> pa.Array[Any]:
    if logical.kind is Kind.DECIMAL:
        _check_decimals(values, name)
    storage = _storage_type(logical)
    try:
        array = pa.array(values, type=storage)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise _conversion_error(values, name, logical, exc) from None
    target = arrow_type(logical)
    return array if storage == target else array.view(target)


def _conversion_error(
    values: list[object], name: str, logical: LogicalType, exc: Exception
) -> RejectedValueError:
    """The error for values Arrow refused, saying which value and why when known."""
    for index, value in enumerate(values):
        beyond = _find_beyond(value)
        if beyond is not None:
            return RejectedValueError(
                f"a timestamp after 294247-01-10 04:00:54.775806 (DuckDB's last; "
                f"{beyond.micros} microseconds from 2000-01-01) at row {index + 1} of the "
                "batch cannot be stored in DuckDB (its next value is infinity); "
                + way_out(name, json=False, view="filter or cast it in a source view"),
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


def _find_beyond(value: object) -> BeyondDuckDB | None:
    if isinstance(value, BeyondDuckDB):
        return value
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, BeyondDuckDB)), None)
    return None


def rows_to_batch(
    rows: Sequence[tuple[object, ...]],
    columns: Sequence[tuple[str, LogicalType]],
    *,
    raw_json: Collection[str] = (),
) -> pa.RecordBatch:
    """A canonical record batch of ``rows`` (one tuple per row, columns in order); the JSON
    columns named in ``raw_json`` are marked as the source's own text (``is_raw_json``)."""
    arrays = [
        _column([row[i] for row in rows], name, logical)
        for i, (name, logical) in enumerate(columns)
    ]
    if raw_json:
        return pa.RecordBatch.from_arrays(
            arrays, schema=arrow_schema(list(columns), raw_json=raw_json)
        )
    return pa.RecordBatch.from_arrays(arrays, names=[name for name, _ in columns])
