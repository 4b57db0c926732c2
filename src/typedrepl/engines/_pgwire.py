"""Encode canonical Arrow batches as PostgreSQL binary ``COPY`` data.

Most columns go straight through pgpq's encoders (Rust, no per-value Python). A few
are first turned into their binary wire bytes here, then sent through pgpq's
``bytea`` encoder, which writes the bytes as they are: PostgreSQL reads them with
the column's own type. These are numbers Arrow cannot hold (128-bit integers,
numbers over 38 digits), intervals (months, days and microseconds apart), and the
batches of dates and timestamps that hold ±infinity.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pgpq
import pyarrow as pa
import pyarrow.compute as pc
from pgpq import encoders
from pgpq.schema import Jsonb

if TYPE_CHECKING:
    from pgpq._pgpq import EncoderBuilder

from typedrepl._types import Kind, LogicalType
from typedrepl.engines._arrow import (
    DATE_INFINITY,
    DATE_NEG_INFINITY,
    TIMESTAMP_INFINITY,
    TIMESTAMP_NEG_INFINITY,
)

__all__ = ["CopyEncoder", "WireValueError", "interval_wire", "numeric_wire"]

_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in microseconds since 1970-01-01
_PG_EPOCH_DAYS = 10_957
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_NUMERIC_TEXT = re.compile(r"^[+-]?(\d*)(?:\.(\d*))?$", re.ASCII)
_TRAILER = struct.pack(">h", -1)
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_NUMERIC_NAN = struct.pack(">hhHH", 0, 0, 0xC000, 0)
_NUMERIC_PINF = struct.pack(">hhHH", 0, 0, 0xD000, 0)
_NUMERIC_NINF = struct.pack(">hhHH", 0, 0, 0xF000, 0)


class WireValueError(ValueError):
    """A value cannot be encoded; ``column`` names its column."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


def numeric_wire(text: str) -> bytes:
    """The binary ``numeric`` encoding of a decimal number written in plain digits."""
    if text == "NaN":
        return _NUMERIC_NAN
    if text in ("Infinity", "+Infinity"):
        return _NUMERIC_PINF
    if text == "-Infinity":
        return _NUMERIC_NINF
    match = _NUMERIC_TEXT.match(text)
    if match is None or not (match[1] or match[2]):
        raise ValueError(f"not a decimal number: {text!r}")
    whole, frac = match[1].lstrip("0"), match[2] or ""
    dscale = len(frac)
    whole = "0" * (-len(whole) % 4) + whole
    frac = frac + "0" * (-len(frac) % 4)
    digits = [int(whole[i : i + 4]) for i in range(0, len(whole), 4)]
    weight = len(digits) - 1
    digits += [int(frac[i : i + 4]) for i in range(0, len(frac), 4)]
    while digits and digits[0] == 0:
        digits.pop(0)
        weight -= 1
    while digits and digits[-1] == 0:
        digits.pop()
    if not digits:
        return struct.pack(">hhHH", 0, 0, 0, dscale)
    sign = 0x4000 if text.startswith("-") else 0
    return struct.pack(f">hhHH{len(digits)}H", len(digits), weight, sign, dscale, *digits)


def interval_wire(months: int, days: int, nanoseconds: int) -> bytes:
    """The binary ``interval`` encoding (microseconds, days, months)."""
    if nanoseconds % 1000:
        raise ValueError("an interval with nanoseconds cannot be kept (microseconds only)")
    return struct.pack(">qii", nanoseconds // 1000, days, months)


def _timestamp_wire(us: int) -> bytes:
    if us >= TIMESTAMP_INFINITY:
        return struct.pack(">q", _INT64_MAX)
    if us <= TIMESTAMP_NEG_INFINITY:
        return struct.pack(">q", _INT64_MIN)
    return struct.pack(">q", us - _PG_EPOCH_US)


def _date_wire(days: int) -> bytes:
    if days >= DATE_INFINITY:
        return struct.pack(">i", _INT32_MAX)
    if days <= DATE_NEG_INFINITY:
        return struct.pack(">i", _INT32_MIN)
    return struct.pack(">i", days - _PG_EPOCH_DAYS)


def _bytes_array(values: Sequence[object], encode: Callable[[object], bytes]) -> pa.Array[Any]:
    return pa.array([None if v is None else encode(v) for v in values], type=pa.binary())


def _numeric_column(array: pa.Array[Any]) -> pa.Array[Any]:
    return _bytes_array(array.to_pylist(), lambda v: numeric_wire(str(v)))


def _interval_column(array: pa.Array[Any]) -> pa.Array[Any]:
    def encode(value: object) -> bytes:
        assert isinstance(value, tuple)
        months, days, nanos = value
        return interval_wire(int(months), int(days), int(nanos))

    return _bytes_array(array.to_pylist(), encode)


def _has_infinity(array: pa.Array[Any], storage: pa.DataType, low: int, high: int) -> bool:
    ints = array.view(storage)
    lo, hi = pc.min(ints).as_py(), pc.max(ints).as_py()
    return lo is not None and hi is not None and (lo <= low or hi >= high)


def _temporal_column(array: pa.Array[Any], kind: Kind) -> pa.Array[Any] | None:
    """The wire bytes of a date/timestamp column if it holds an infinity, else ``None``."""
    if kind is Kind.DATE:
        if not _has_infinity(array, pa.int32(), DATE_NEG_INFINITY, DATE_INFINITY):
            return None
        days = array.view(pa.int32()).to_pylist()
        return _bytes_array(days, lambda v: _date_wire(int(v)))  # type: ignore[call-overload]
    if not _has_infinity(array, pa.int64(), TIMESTAMP_NEG_INFINITY, TIMESTAMP_INFINITY):
        return None
    micros = array.view(pa.int64()).to_pylist()
    return _bytes_array(micros, lambda v: _timestamp_wire(int(v)))  # type: ignore[call-overload]


_AS_TEXT_NUMBERS = frozenset({Kind.INT16, Kind.UINT16, Kind.NUMERIC})


class CopyEncoder:
    """Encodes canonical batches of fixed columns as binary COPY data."""

    def __init__(self, columns: Sequence[tuple[str, LogicalType]]) -> None:
        self._columns = tuple(columns)
        self._builders: dict[tuple[tuple[bool, ...], pa.Schema], dict[str, EncoderBuilder]] = {}

    @staticmethod
    def header() -> bytes:
        """The COPY header (write it once, first): signature, flags, no extension."""
        return _COPY_SIGNATURE + struct.pack(">ii", 0, 0)

    @staticmethod
    def trailer() -> bytes:
        """The COPY trailer (write it once, last)."""
        return _TRAILER

    def encode(self, batch: pa.RecordBatch) -> list[bytes | memoryview]:
        """The COPY tuples of ``batch`` (its columns in this encoder's order), as chunks.

        pgpq buffers small outputs until ``finish``; a fresh encoder per batch, finished
        at once (its trailer cut off), keeps the tuples in order and memory bounded.
        """
        arrays: list[pa.Array[Any]] = []
        raw: list[bool] = []
        for index, (name, logical) in enumerate(self._columns):
            array = batch.column(index)
            wire = self._wire(name, logical, array)
            raw.append(wire is not None)
            arrays.append(array if wire is None else wire)
        key = tuple(raw)
        schema = pa.schema(
            [
                pa.field(name, pa.binary() if is_raw else arrays[i].type)
                for i, ((name, _), is_raw) in enumerate(zip(self._columns, key, strict=True))
            ]
        )
        encoder = self._encoder(key, schema)
        body = encoder.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
        tail = encoder.finish()
        if not tail.endswith(_TRAILER):
            raise ValueError("unexpected end of pgpq output")
        return [body, memoryview(tail)[: -len(_TRAILER)]]

    def _wire(self, name: str, logical: LogicalType, array: pa.Array[Any]) -> pa.Array[Any] | None:
        kind = logical.kind
        try:
            if kind in _AS_TEXT_NUMBERS or (
                kind is Kind.DECIMAL and pa.types.is_string(array.type)
            ):
                return _numeric_column(array)
            if kind is Kind.INTERVAL:
                return _interval_column(array)
            if kind in (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMPTZ):
                return _temporal_column(array, kind)
        except ValueError as exc:
            raise WireValueError(str(exc), name) from exc
        return None

    def _encoder(
        self, key: tuple[bool, ...], schema: pa.Schema
    ) -> pgpq.ArrowToPostgresBinaryEncoder:
        builders = self._builders.get((key, schema))
        if builders is None:
            builders = {
                field.name: self._builder(field, logical, is_raw)
                for field, (_, logical), is_raw in zip(schema, self._columns, key, strict=True)
            }
            self._builders[(key, schema)] = builders
        encoder = pgpq.ArrowToPostgresBinaryEncoder.new_with_encoders(schema, builders)
        encoder.write_header()  # pgpq's state machine wants it; we wrote our own header once
        return encoder

    @staticmethod
    def _builder(field: pa.Field[Any], logical: LogicalType, is_raw: bool) -> EncoderBuilder:
        if is_raw or logical.kind is Kind.UUID:
            return encoders.BinaryEncoderBuilder(field)
        if logical.kind is Kind.JSON:
            return encoders.StringEncoderBuilder.new_with_output(field, Jsonb())
        return pgpq.ArrowToPostgresBinaryEncoder.infer_encoder(field)
