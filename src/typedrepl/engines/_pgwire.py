"""Encode canonical Arrow batches as PostgreSQL binary ``COPY`` data.

Most columns go straight through pgpq's encoders (Rust, no per-value Python). A few
are first turned into their binary wire bytes here, then sent through pgpq's
``bytea`` encoder, which writes the bytes as they are: PostgreSQL reads them with
the column's own type. These are numbers Arrow cannot hold (128-bit integers,
numbers over 38 digits), intervals (months, days and microseconds apart), and the
batches of dates and timestamps that hold ±infinity.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

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
    is_raw_json,
)
from typedrepl.engines._errors import way_out

__all__ = ["CopyEncoder", "WireValueError", "interval_wire", "numeric_wire"]

T = TypeVar("T")

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
# PostgreSQL's ranges (its src/include/datatype/timestamp.h), since 1970 like Arrow:
# timestamps from 4713-11-24 BC 00:00 up to (not including) 294277-01-01 00:00,
# dates from 4713-11-24 BC up to (not including) 5874898-01-01.
_PG_TIMESTAMP_MIN = -211_813_488_000_000_000 + _PG_EPOCH_US
_PG_TIMESTAMP_END = 9_223_371_331_200_000_000 + _PG_EPOCH_US
_PG_DATE_MIN = -2_451_545 + _PG_EPOCH_DAYS
_PG_DATE_END = 2_145_031_949 + _PG_EPOCH_DAYS
_OID_DATE = 1082
_OID_TIMESTAMP = 1114


class WireValueError(ValueError):
    """A value cannot be encoded; ``column`` names its column, ``row`` its 1-based row."""

    def __init__(self, message: str, column: str, row: int | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.row = row


class _RowValueError(ValueError):
    """A value of a column cannot be encoded; ``index`` is its row in the batch."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


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
    if not _PG_TIMESTAMP_MIN <= us < _PG_TIMESTAMP_END:
        raise ValueError(
            f"timestamp {_timestamp_text(us)} is outside PostgreSQL's range "
            "(4713-11-24 BC to 294276-12-31)"
        )
    return struct.pack(">q", us - _PG_EPOCH_US)


def _date_wire(days: int) -> bytes:
    if days >= DATE_INFINITY:
        return struct.pack(">i", _INT32_MAX)
    if days <= DATE_NEG_INFINITY:
        return struct.pack(">i", _INT32_MIN)
    if not _PG_DATE_MIN <= days < _PG_DATE_END:
        raise ValueError(
            f"date {_date_text(days)} is outside PostgreSQL's range (4713-11-24 BC to 5874897-12-31)"
        )
    return struct.pack(">i", days - _PG_EPOCH_DAYS)


def _timestamp_text(us: int) -> str:
    return f"{us} microseconds from 1970-01-01"


def _date_text(days: int) -> str:
    return f"{days} days from 1970-01-01"


def _bytes_array(values: Sequence[T | None], encode: Callable[[T], bytes]) -> pa.Array[Any]:
    out: list[bytes | None] = []
    for index, value in enumerate(values):
        try:
            out.append(None if value is None else encode(value))
        except ValueError as exc:
            raise _RowValueError(str(exc), index) from None
    return pa.array(out, type=pa.binary())


def _numeric_column(array: pa.Array[Any]) -> pa.Array[Any]:
    return _bytes_array(array.to_pylist(), lambda v: numeric_wire(str(v)))


def _interval_column(array: pa.Array[Any]) -> pa.Array[Any]:
    def encode(value: object) -> bytes:
        assert isinstance(value, tuple)
        months, days, nanos = value
        return interval_wire(int(months), int(days), int(nanos))

    return _bytes_array(array.to_pylist(), encode)


def _needs_wire(ints: pa.Array[Any], low: int, high: int, infinity: int) -> bool:
    """Whether any value is ``±infinity`` or outside PostgreSQL's range ``[low, high)``."""
    lo, hi = pc.min(ints).as_py(), pc.max(ints).as_py()
    if lo is None or hi is None:
        return False
    return bool(lo <= -infinity or hi >= infinity or lo < low or hi >= high)


def _temporal_column(array: pa.Array[Any], kind: Kind) -> pa.Array[Any] | None:
    """The wire bytes of a date/timestamp column holding an infinity (or a value outside
    PostgreSQL's range: an error naming it), else ``None`` (pgpq encodes it)."""
    if kind is Kind.DATE:
        if not _needs_wire(array.view(pa.int32()), _PG_DATE_MIN, _PG_DATE_END, DATE_INFINITY):
            return None
        days = array.view(pa.int32()).to_pylist()
        return _bytes_array(days, _date_wire)
    if not _needs_wire(
        array.view(pa.int64()), _PG_TIMESTAMP_MIN, _PG_TIMESTAMP_END, TIMESTAMP_INFINITY
    ):
        return None
    micros = array.view(pa.int64()).to_pylist()
    return _bytes_array(micros, _timestamp_wire)


def _array_wire(items: Sequence[bytes | None], oid: int) -> bytes:
    """PostgreSQL's binary encoding of a one-dimensional array (lower bound 1)."""
    if not items:
        return struct.pack(">iiI", 0, 0, oid)
    has_null = any(item is None for item in items)
    parts = [struct.pack(">iiIii", 1, int(has_null), oid, len(items), 1)]
    for item in items:
        if item is None:
            parts.append(struct.pack(">i", -1))
        else:
            parts.append(struct.pack(">i", len(item)) + item)
    return b"".join(parts)


def _temporal_list_column(array: pa.Array[Any], element: Kind) -> pa.Array[Any] | None:
    """Like :func:`_temporal_column`, for lists of dates or timestamps (pgpq cannot encode
    their infinities)."""
    flat = pc.list_flatten(array)
    storage: pa.DataType
    encode: Callable[[int], bytes]
    if element is Kind.DATE:
        storage, low, high, oid = pa.int32(), _PG_DATE_MIN, _PG_DATE_END, _OID_DATE
        infinity, encode = DATE_INFINITY, _date_wire
    else:
        storage, low, high, oid = pa.int64(), _PG_TIMESTAMP_MIN, _PG_TIMESTAMP_END, _OID_TIMESTAMP
        infinity, encode = TIMESTAMP_INFINITY, _timestamp_wire
    if not _needs_wire(flat.view(storage), low, high, infinity):
        return None
    rows: list[Any] = array.cast(pa.list_(storage)).to_pylist()  # type: ignore[misc]

    def one(value: object) -> bytes:
        assert isinstance(value, list)
        return _array_wire([None if v is None else encode(int(v)) for v in value], oid)

    return _bytes_array(rows, one)


class _DuplicateKeyError(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen.add(key)


_UNIQUE_KEYS = json.JSONDecoder(object_pairs_hook=_refuse_duplicates)
"""Parses a document only to raise :class:`_DuplicateKeyError` at a key seen twice in an
object (one decoder for all: ``json.loads`` with a hook builds a new one per call)."""


def _check_json_keys(array: pa.Array[Any], name: str) -> None:
    """Refuse a JSON document with a duplicate object key: ``jsonb`` keeps only the last.

    Only documents with two ``:`` or more can have two keys: the others (numbers, strings,
    lists of scalars, objects of one key) are skipped without going through Python.
    """
    text = cast("pa.StringArray", array)
    two = pa.scalar(2, pa.int32())
    maybe = pc.indices_nonzero(pc.greater_equal(pc.count_substring(text, ":"), two))
    if not len(maybe):
        return
    decode = _UNIQUE_KEYS.decode
    for index, doc in zip(maybe.to_pylist(), text.take(maybe).to_pylist(), strict=True):
        assert index is not None
        assert doc is not None  # a null has no ':'
        try:
            decode(doc)
        except _DuplicateKeyError as exc:
            raise _RowValueError(
                f"a JSON document has the key {exc.args[0]!r} twice; PostgreSQL jsonb would keep "
                "only the last value (to keep the exact text, "
                f"{way_out(name, json=False)})",
                index,
            ) from None
        except ValueError:  # not JSON: PostgreSQL rejects it, naming the row
            continue


_AS_TEXT_NUMBERS = frozenset({Kind.INT16, Kind.UINT16, Kind.NUMERIC})


class CopyEncoder:
    """Encodes canonical batches of fixed columns as binary COPY data."""

    def __init__(self, columns: Sequence[tuple[str, LogicalType]]) -> None:
        self._columns = tuple(columns)
        self._rows = 0
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
            wire = self._wire(name, logical, array, batch.schema.field(index))
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
        self._rows += batch.num_rows
        return [body, memoryview(tail)[: -len(_TRAILER)]]

    def _wire(
        self, name: str, logical: LogicalType, array: pa.Array[Any], field: pa.Field[Any]
    ) -> pa.Array[Any] | None:
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
            if kind is Kind.LIST:
                assert logical.element is not None
                if logical.element.kind in (Kind.DATE, Kind.TIMESTAMP):
                    return _temporal_list_column(array, logical.element.kind)
            # the source's own JSON text, bound for jsonb: its object keys must be unique
            if kind is Kind.JSON and is_raw_json(field):
                _check_json_keys(array, name)
        except _RowValueError as exc:
            row = self._rows + exc.index + 1
            raise WireValueError(f"{exc} at row {row} of the load", name, row) from None
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
