"""The fidelity matrix: every type family, the values tried, and the outcome each must have.

``tests/test_fidelity.py`` replicates each family DuckDB -> PostgreSQL -> DuckDB (and
PostgreSQL -> DuckDB -> PostgreSQL), computes each cell's outcome and compares it with
the one declared here; ``scripts/update_readme.py`` renders the same declarations into
the README (and ``test_readme_is_current`` fails when the README is stale). A declared
outcome that the code does not produce fails the test, so the README cannot drift.

Outcomes of a leg:

* ``exact``: every value arrives as the same value (checked against the text the
  other database prints for it), round trip: the same type and the same text back.
* ``lossless``: the same values, another type (``UBIGINT`` comes back as
  ``DECIMAL(20,0)``), or the same JSON document (``jsonb`` orders keys).
* ``error``: the load fails before anything is committed, naming the table, the
  column, the source type and a way out; the destination is unchanged. The way out
  named first is the ``column_types`` override (``override``), and the test loads the
  failing leg again with it: the column then arrives as the source's own text.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "DUCKDB_FAMILIES",
    "GUARANTEES",
    "POSTGRES_FAMILIES",
    "Family",
    "Guarantee",
    "render_fidelity",
    "render_types",
]

EXACT, LOSSLESS, ERROR = "exact", "lossless", "error"


@attrs.frozen(kw_only=True)
class Family:
    """One type family: a column of ``type`` holding ``values``, and what must happen."""

    label: str
    type: str
    """The column type in the origin database."""
    values: tuple[tuple[str, str | None], ...] = ()
    """``(SQL literal in the origin, the value's text in the other database)``."""
    there: str = ""
    """The column type in the other database (empty when the first leg is an error)."""
    there_outcome: str = EXACT
    back: str = ""
    """The column type back in the origin (empty when a leg is an error)."""
    back_outcome: str = EXACT
    json: bool = False
    """Values are compared as JSON documents (``jsonb`` normalizes the text)."""
    note: str = ""
    hint: str = ""
    """For an error: a phrase the message must contain (besides table, column, way out)."""
    override: str = "text"
    """For an error: the ``column_types`` value the message suggests, with which the failing
    leg loads the source's text of each value (``""``: no override helps)."""

    @property
    def literals(self) -> str:
        """The values as written in the origin, for the matrix."""
        shown = ", ".join(v for v, _ in self.values)
        return shown.replace("|", "\\|").replace("\n", " ")


def _d(label: str, type_: str, values: list[tuple[str, str | None]], **kw: Any) -> Family:
    return Family(label=label, type=type_, values=tuple(values), **kw)


HUGE = "170141183460469231731687303715884105727"
NY_DST = "non-UTC session time zone (America/New_York) across the DST changes"

DUCKDB_FAMILIES: tuple[Family, ...] = (
    _d(
        "BOOLEAN",
        "BOOLEAN",
        [("true", "true"), ("false", "false"), ("NULL", None)],
        there="boolean",
        back="BOOLEAN",
    ),
    _d(
        "TINYINT",
        "TINYINT",
        [("-128", "-128"), ("127", "127")],
        there="smallint",
        back="SMALLINT",
        back_outcome=LOSSLESS,
    ),
    _d(
        "SMALLINT",
        "SMALLINT",
        [("-32768", "-32768"), ("32767", "32767")],
        there="smallint",
        back="SMALLINT",
    ),
    _d(
        "INTEGER",
        "INTEGER",
        [("-2147483648", "-2147483648"), ("2147483647", "2147483647")],
        there="integer",
        back="INTEGER",
    ),
    _d(
        "BIGINT",
        "BIGINT",
        [
            ("-9223372036854775808", "-9223372036854775808"),
            ("9223372036854775807", "9223372036854775807"),
        ],
        there="bigint",
        back="BIGINT",
    ),
    _d(
        "UTINYINT",
        "UTINYINT",
        [("0", "0"), ("255", "255")],
        there="smallint",
        back="SMALLINT",
        back_outcome=LOSSLESS,
    ),
    _d(
        "USMALLINT",
        "USMALLINT",
        [("0", "0"), ("65535", "65535")],
        there="integer",
        back="INTEGER",
        back_outcome=LOSSLESS,
    ),
    _d(
        "UINTEGER",
        "UINTEGER",
        [("0", "0"), ("4294967295", "4294967295")],
        there="bigint",
        back="BIGINT",
        back_outcome=LOSSLESS,
    ),
    _d(
        "UBIGINT",
        "UBIGINT",
        [("0", "0"), ("18446744073709551615", "18446744073709551615")],
        there="numeric(20,0)",
        back="DECIMAL(20,0)",
        back_outcome=LOSSLESS,
    ),
    _d(
        "HUGEINT",
        "HUGEINT",
        [(f"-{HUGE} - 1", f"-{int(HUGE) + 1}"), (HUGE, HUGE), ("0", "0")],
        there="numeric(39,0)",
        back="HUGEINT",
    ),
    _d(
        "UHUGEINT up to 2^127-1",
        "UHUGEINT",
        [("0", "0"), (HUGE, HUGE)],
        there="numeric(39,0)",
        back="HUGEINT",
        back_outcome=LOSSLESS,
    ),
    _d(
        "UHUGEINT max",
        "UHUGEINT",
        [("340282366920938463463374607431768211455", "340282366920938463463374607431768211455")],
        there="numeric(39,0)",
        back_outcome=ERROR,
        hint="does not fit DuckDB HUGEINT",
    ),
    _d(
        "DECIMAL(4,1)",
        "DECIMAL(4,1)",
        [("-999.9", "-999.9"), ("999.9", "999.9"), ("0", "0.0")],
        there="numeric(4,1)",
        back="DECIMAL(4,1)",
    ),
    _d(
        "DECIMAL(18,3)",
        "DECIMAL(18,3)",
        [("'999999999999999.999'", "999999999999999.999"), ("'-0.001'", "-0.001")],
        there="numeric(18,3)",
        back="DECIMAL(18,3)",
    ),
    _d(
        "DECIMAL(38,0)",
        "DECIMAL(38,0)",
        [("-" + "9" * 38, "-" + "9" * 38), ("9" * 38, "9" * 38)],
        there="numeric(38,0)",
        back="DECIMAL(38,0)",
    ),
    _d(
        "DECIMAL(38,10)",
        "DECIMAL(38,10)",
        [
            ("'-" + "9" * 28 + "." + "9" * 10 + "'", "-" + "9" * 28 + "." + "9" * 10),
            ("'0.0000000001'", "0.0000000001"),
        ],
        there="numeric(38,10)",
        back="DECIMAL(38,10)",
    ),
    _d(
        "DECIMAL(38,38)",
        "DECIMAL(38,38)",
        [
            ("'0." + "9" * 38 + "'", "0." + "9" * 38),
            ("'-0." + "0" * 37 + "1'", "-0." + "0" * 37 + "1"),
        ],
        there="numeric(38,38)",
        back="DECIMAL(38,38)",
    ),
    _d(
        "FLOAT (REAL)",
        "FLOAT",
        [
            ("'nan'", "NaN"),
            ("'inf'", "Infinity"),
            ("'-inf'", "-Infinity"),
            ("'-0.0'", "-0"),
            ("3.4028235e38", "3.4028235e+38"),
            ("1e-45", "1e-45"),
        ],
        there="real",
        back="FLOAT",
    ),
    _d(
        "DOUBLE",
        "DOUBLE",
        [
            ("'nan'", "NaN"),
            ("'inf'", "Infinity"),
            ("'-inf'", "-Infinity"),
            ("'-0.0'", "-0"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
            ("0.1", "0.1"),
        ],
        there="double precision",
        back="DOUBLE",
    ),
    _d(
        "VARCHAR",
        "VARCHAR",
        [
            ("''", ""),
            ("'NULL'", "NULL"),
            ("'\\N'", "\\N"),
            ("'a' || chr(10) || 'b' || chr(13) || chr(10)", "a\nb\r\n"),
            ("'tab' || chr(9) || 'bed'", "tab\tbed"),
            ("'back\\slash\\\\'", "back\\slash\\\\"),
            ("'\"q\" ''s'''", "\"q\" 's'"),
            ("'emoji 😀 ünïcödé'", "emoji 😀 ünïcödé"),
            ("NULL", None),
        ],
        there="text",
        back="VARCHAR",
    ),
    _d(
        "VARCHAR with a NUL",
        "VARCHAR",
        [("'a' || chr(0) || 'b'", None)],
        there_outcome=ERROR,
        hint="NUL",
        override="",
    ),
    _d(
        "BLOB",
        "BLOB",
        [
            ("''::BLOB", "\\x"),
            ("'\\x00'::BLOB", "\\x00"),
            ("'\\x00\\x01\\xFF'::BLOB", "\\x0001ff"),
            ("NULL", None),
        ],
        there="bytea",
        back="BLOB",
    ),
    _d(
        "DATE",
        "DATE",
        [
            ("'infinity'", "infinity"),
            ("'-infinity'", "-infinity"),
            ("'4713-11-24 (BC)'", "4713-11-24 BC"),
            ("'0044-03-15 (BC)'", "0044-03-15 BC"),
            ("'0001-01-01'", "0001-01-01"),
            ("'5874897-12-31'", "5874897-12-31"),
        ],
        there="date",
        back="DATE",
    ),
    _d(
        "DATE after 5874897-12-31",
        "DATE",
        [("'5881580-07-10'", None)],
        there_outcome=ERROR,
        hint="outside PostgreSQL's range",
    ),
    _d(
        "TIME",
        "TIME",
        [
            ("'00:00:00'", "00:00:00"),
            ("'12:34:56.789012'", "12:34:56.789012"),
            ("'23:59:59.999999'", "23:59:59.999999"),
            ("'24:00:00'", "24:00:00"),
        ],
        there="time without time zone",
        back="TIME",
    ),
    _d(
        "TIMESTAMP",
        "TIMESTAMP",
        [
            ("'infinity'", "infinity"),
            ("'-infinity'", "-infinity"),
            ("'4713-11-24 (BC) 00:00:00'", "4713-11-24 00:00:00 BC"),
            ("'2024-03-10 02:30:00'", "2024-03-10 02:30:00"),
            ("'1999-12-31 23:59:59.999999'", "1999-12-31 23:59:59.999999"),
            ("'294247-01-10 04:00:54.775806'", "294247-01-10 04:00:54.775806"),
        ],
        there="timestamp without time zone",
        back="TIMESTAMP",
        note="2024-03-10 02:30 does not exist in New York: a naive timestamp is kept as written",
    ),
    _d(
        "TIMESTAMP before 4713 BC",
        "TIMESTAMP",
        [("'290309-12-22 (BC) 00:00:00'", None)],
        there_outcome=ERROR,
        hint="outside PostgreSQL's range",
    ),
    _d(
        "TIMESTAMP_S",
        "TIMESTAMP_S",
        [("'2024-01-01 00:00:01'", "2024-01-01 00:00:01")],
        there="timestamp without time zone",
        back="TIMESTAMP",
        back_outcome=LOSSLESS,
    ),
    _d(
        "TIMESTAMP_MS",
        "TIMESTAMP_MS",
        [("'2024-02-29 23:59:59.999'", "2024-02-29 23:59:59.999")],
        there="timestamp without time zone",
        back="TIMESTAMP",
        back_outcome=LOSSLESS,
    ),
    _d(
        "TIMESTAMP_NS",
        "TIMESTAMP_NS",
        [("'2024-01-01 00:00:00.123456789'", None)],
        there_outcome=ERROR,
        hint="TIMESTAMP_NS",
    ),
    _d(
        "TIMESTAMPTZ",
        "TIMESTAMPTZ",
        [
            ("'2024-03-10 06:59:59.999999+00'", "2024-03-10 06:59:59.999999+00"),
            ("'2024-03-10 07:00:00+00'", "2024-03-10 07:00:00+00"),
            ("'2024-11-03 05:30:00+00'", "2024-11-03 05:30:00+00"),
            ("'2024-11-03 06:30:00+00'", "2024-11-03 06:30:00+00"),
            ("'1900-01-01 00:00:00+00'", "1900-01-01 00:00:00+00"),
            ("'infinity'", "infinity"),
            ("'-infinity'", "-infinity"),
        ],
        there="timestamp with time zone",
        back="TIMESTAMP WITH TIME ZONE",
        note=NY_DST,
    ),
    _d(
        "INTERVAL",
        "INTERVAL",
        [
            ("'1 month 2 days 3 microseconds'", "1 mon 2 days 00:00:00.000003"),
            ("'36 hours'", "36:00:00"),
            ("'1 day 12 hours'", "1 day 12:00:00"),
            ("'-1 year'", "-1 years"),
            ("'1 month -1 day'", "1 mon -1 days"),
            ("'2147483647 months'", "178956970 years 7 mons"),
            ("to_hours(2562047)", "2562047:00:00"),
        ],
        there="interval",
        back="INTERVAL",
        note="months, days and microseconds are kept apart: 36 hours is not 1 day 12 hours",
    ),
    _d(
        "INTERVAL over 2562047 hours",
        "INTERVAL",
        [("to_hours(2600000)", None)],
        there_outcome=ERROR,
        hint="2562047 hours",
    ),
    _d(
        "UUID",
        "UUID",
        [
            ("'00000000-0000-0000-0000-000000000000'", "00000000-0000-0000-0000-000000000000"),
            ("'ffffffff-ffff-ffff-ffff-ffffffffffff'", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
            ("'6ba7b810-9dad-11d1-80b4-00c04fd430c8'", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
        ],
        there="uuid",
        back="UUID",
    ),
    _d(
        "ENUM",
        "ENUM('red', 'green')",
        [("'red'", "red"), ("'green'", "green")],
        there="text",
        back="VARCHAR",
        back_outcome=LOSSLESS,
    ),
    _d(
        "JSON",
        "JSON",
        [
            ('\'{"b": 1, "a": [1, 2.5, "x", null]}\'', '{"a": [1, 2.5, "x", null], "b": 1}'),
            ("'123456789012345678901234567890.5'", "123456789012345678901234567890.5"),
            ("'\"\\u00e9\"'", '"é"'),
        ],
        there="jsonb",
        there_outcome=LOSSLESS,
        back="JSON",
        back_outcome=LOSSLESS,
        json=True,
        note="jsonb keeps the document, not its text: key order and whitespace change",
    ),
    _d(
        "JSON with a duplicate key",
        "JSON",
        [('\'{"a": 1, "a": 2}\'', None)],
        there_outcome=ERROR,
        hint="twice",
    ),
    _d(
        "JSON with \\u0000",
        "JSON",
        [("'\"\\u0000\"'", None)],
        there_outcome=ERROR,
        hint="Unicode escape",
    ),
    _d(
        "INTEGER[]",
        "INTEGER[]",
        [("[1, NULL, 3]", "{1,NULL,3}"), ("[]", "{}"), ("NULL", None)],
        there="integer[]",
        back="INTEGER[]",
    ),
    _d(
        "VARCHAR[]",
        "VARCHAR[]",
        [("['a', NULL, '', 'q\"u,o{te}']", '{a,NULL,"","q\\"u,o{te}"}')],
        there="text[]",
        back="VARCHAR[]",
    ),
    _d(
        "DECIMAL(10,2)[]",
        "DECIMAL(10,2)[]",
        [("[1.25, -0.01]", "{1.25,-0.01}")],
        there="numeric(10,2)[]",
        back="DECIMAL(10,2)[]",
    ),
    _d(
        "DOUBLE[]",
        "DOUBLE[]",
        [("['nan', '-0.0', 'inf']", "{NaN,-0,Infinity}")],
        there="double precision[]",
        back="DOUBLE[]",
    ),
    _d(
        "TIMESTAMP[]",
        "TIMESTAMP[]",
        [
            (
                "['infinity', '2000-01-01 00:00:00.000001', NULL]",
                '{infinity,"2000-01-01 00:00:00.000001",NULL}',
            ),
            ("['-infinity']", "{-infinity}"),
        ],
        there="timestamp without time zone[]",
        back="TIMESTAMP[]",
    ),
    _d(
        "DATE[]",
        "DATE[]",
        [("['-infinity', '2024-02-29']", "{-infinity,2024-02-29}")],
        there="date[]",
        back="DATE[]",
    ),
    _d(
        "BIGINT[2] (fixed size)",
        "BIGINT[2]",
        [("[9223372036854775807, -1]", "{9223372036854775807,-1}")],
        there="bigint[]",
        back="BIGINT[]",
        back_outcome=LOSSLESS,
    ),
    _d(
        "INTEGER[][] rectangular",
        "INTEGER[][]",
        [("[[1, 2], [3, 4]]", "[[1, 2], [3, 4]]")],
        there="jsonb",
        there_outcome=LOSSLESS,
        back="JSON",
        back_outcome=LOSSLESS,
        json=True,
    ),
    _d(
        "INTEGER[][] ragged",
        "INTEGER[][]",
        [("[[1], [2, 3], [], NULL]", "[[1], [2, 3], [], null]")],
        there="jsonb",
        there_outcome=LOSSLESS,
        back="JSON",
        back_outcome=LOSSLESS,
        json=True,
    ),
    _d(
        "UUID[]",
        "UUID[]",
        [("['00000000-0000-0000-0000-000000000001']", '["00000000-0000-0000-0000-000000000001"]')],
        there="jsonb",
        there_outcome=LOSSLESS,
        back="JSON",
        back_outcome=LOSSLESS,
        json=True,
    ),
    _d(
        "STRUCT",
        "STRUCT(a INTEGER, b VARCHAR, c DOUBLE[])",
        [
            ("{'a': 1, 'b': 'x', 'c': [1.5, -2.0]}", '{"a": 1, "b": "x", "c": [1.5, -2.0]}'),
            ("{'a': NULL, 'b': NULL, 'c': []}", '{"a": null, "b": null, "c": []}'),
        ],
        there="jsonb",
        there_outcome=LOSSLESS,
        back="JSON",
        back_outcome=LOSSLESS,
        json=True,
    ),
    _d(
        "MAP(VARCHAR, INTEGER)",
        "MAP(VARCHAR, INTEGER)",
        [("MAP {'k': 1, 'l': NULL}", '{"k": 1, "l": null}'), ("MAP {}", "{}")],
        there="jsonb",
        there_outcome=LOSSLESS,
        back="JSON",
        back_outcome=LOSSLESS,
        json=True,
    ),
    _d(
        "MAP(INTEGER, VARCHAR)",
        "MAP(INTEGER, VARCHAR)",
        [("MAP {1: 'a', 2: NULL}", '{"1": "a", "2": null}')],
        there="jsonb",
        there_outcome=LOSSLESS,
        back="JSON",
        back_outcome=LOSSLESS,
        json=True,
        note="map keys become JSON object keys (text)",
    ),
    _d(
        "UNION",
        "UNION(a INTEGER, b VARCHAR)",
        [("1", None)],
        there_outcome=ERROR,
        hint="unions are not supported",
    ),
    _d("BIT", "BIT", [("'101'", None)], there_outcome=ERROR, hint="bit strings"),
    _d(
        "TIME WITH TIME ZONE",
        "TIMETZ",
        [("'01:02:03+04'", None)],
        there_outcome=ERROR,
        hint="no exact counterpart",
    ),
)
"""DuckDB -> PostgreSQL -> DuckDB: the families, their values and outcomes."""


POSTGRES_FAMILIES: tuple[Family, ...] = (
    _d("boolean", "boolean", [("true", "true"), ("NULL", None)], there="BOOLEAN", back="boolean"),
    _d(
        "smallint",
        "smallint",
        [("-32768", "-32768"), ("32767", "32767")],
        there="SMALLINT",
        back="smallint",
    ),
    _d(
        "integer",
        "integer",
        [("-2147483648", "-2147483648"), ("2147483647", "2147483647")],
        there="INTEGER",
        back="integer",
    ),
    _d(
        "bigint",
        "bigint",
        [
            ("-9223372036854775808", "-9223372036854775808"),
            ("9223372036854775807", "9223372036854775807"),
        ],
        there="BIGINT",
        back="bigint",
    ),
    _d(
        "numeric(4,1)",
        "numeric(4,1)",
        [("-999.9", "-999.9"), ("0", "0.0")],
        there="DECIMAL(4,1)",
        back="numeric(4,1)",
    ),
    _d(
        "numeric(38,10)",
        "numeric(38,10)",
        [("-" + "9" * 28 + "." + "9" * 10, "-" + "9" * 28 + "." + "9" * 10)],
        there="DECIMAL(38,10)",
        back="numeric(38,10)",
    ),
    _d(
        "numeric(39,0) within HUGEINT",
        "numeric(39,0)",
        [(HUGE, HUGE), (f"-{int(HUGE) + 1}", f"-{int(HUGE) + 1}")],
        there="HUGEINT",
        back="numeric(39,0)",
    ),
    _d(
        "numeric(39,0) beyond HUGEINT",
        "numeric(39,0)",
        [("9" * 39, None)],
        there_outcome=ERROR,
        hint="does not fit DuckDB HUGEINT",
    ),
    _d(
        "numeric(50,20)",
        "numeric(50,20)",
        [("1", None)],
        there_outcome=ERROR,
        hint="has no DuckDB type",
    ),
    _d(
        "numeric (unconstrained)",
        "numeric",
        [("1", None)],
        there_outcome=ERROR,
        hint="unconstrained numeric",
    ),
    _d("numeric NaN", "numeric(10,2)", [("'NaN'", None)], there_outcome=ERROR, hint="NaN"),
    _d(
        "real",
        "real",
        [
            ("'NaN'", "nan"),
            ("'Infinity'", "inf"),
            ("'-Infinity'", "-inf"),
            ("'-0'", "-0.0"),
            ("3.4028235e+38", "3.4028235e+38"),
            ("1e-45", "1e-45"),
        ],
        there="FLOAT",
        back="real",
    ),
    _d(
        "double precision",
        "double precision",
        [
            ("'NaN'", "nan"),
            ("'Infinity'", "inf"),
            ("'-Infinity'", "-inf"),
            ("'-0'", "-0.0"),
            ("1.7976931348623157e+308", "1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
        ],
        there="DOUBLE",
        back="double precision",
    ),
    _d(
        "text",
        "text",
        [
            ("''", ""),
            ("'NULL'", "NULL"),
            ("'\\N'", "\\N"),
            ("E'a\\nb\\r\\n\\ttab'", "a\nb\r\n\ttab"),
            ("'back\\slash \"q\" ''s'' 😀'", "back\\slash \"q\" 's' 😀"),
        ],
        there="VARCHAR",
        back="text",
    ),
    _d(
        "varchar(10)",
        "character varying(10)",
        [("'abc'", "abc")],
        there="VARCHAR",
        back="text",
        back_outcome=LOSSLESS,
    ),
    _d(
        "char(3)",
        "character(3)",
        [("'ab'", "ab ")],
        there="VARCHAR",
        back="text",
        back_outcome=LOSSLESS,
        note="the padding is kept as text",
    ),
    _d(
        "bytea",
        "bytea",
        [("''", ""), ("'\\x00'", "\\x00"), ("'\\x0001ff'", "\\x00\\x01\\xFF")],
        there="BLOB",
        back="bytea",
    ),
    _d(
        "date",
        "date",
        [
            ("'infinity'", "infinity"),
            ("'-infinity'", "-infinity"),
            ("'4713-11-24 BC'", "4713-11-24 (BC)"),
            ("'5874897-12-31'", "5874897-12-31"),
        ],
        there="DATE",
        back="date",
    ),
    _d(
        "timestamp",
        "timestamp without time zone",
        [
            ("'infinity'", "infinity"),
            ("'-infinity'", "-infinity"),
            ("'4713-11-24 00:00:00 BC'", "4713-11-24 (BC) 00:00:00"),
            ("'2024-03-10 02:30:00'", "2024-03-10 02:30:00"),
            ("'294247-01-10 04:00:54.775806'", "294247-01-10 04:00:54.775806"),
        ],
        there="TIMESTAMP",
        back="timestamp without time zone",
    ),
    _d(
        "timestamp after 294247-01-10 04:00:54.775806",
        "timestamp without time zone",
        [("'294247-01-10 04:00:54.775807'", None), ("'294276-12-31 23:59:59.999999'", None)],
        there_outcome=ERROR,
        hint="DuckDB's last",
    ),
    _d(
        "timestamp(3)",
        "timestamp(3) without time zone",
        [("'2024-01-01 00:00:00.123'", "2024-01-01 00:00:00.123")],
        there="TIMESTAMP",
        back="timestamp without time zone",
        back_outcome=LOSSLESS,
    ),
    _d(
        "timestamptz",
        "timestamp with time zone",
        [
            ("'2024-03-10 06:59:59.999999+00'", "2024-03-10 06:59:59.999999+00"),
            ("'2024-03-10 07:00:00+00'", "2024-03-10 07:00:00+00"),
            ("'2024-11-03 01:30:00-04'", "2024-11-03 05:30:00+00"),
            ("'2024-11-03 01:30:00-05'", "2024-11-03 06:30:00+00"),
            ("'infinity'", "infinity"),
        ],
        there="TIMESTAMP WITH TIME ZONE",
        back="timestamp with time zone",
        note=NY_DST,
    ),
    _d(
        "time",
        "time without time zone",
        [
            ("'00:00'", "00:00:00"),
            ("'23:59:59.999999'", "23:59:59.999999"),
            ("'24:00:00'", "24:00:00"),
        ],
        there="TIME",
        back="time without time zone",
    ),
    _d(
        "interval",
        "interval",
        [
            ("'1 mon 2 days 00:00:00.000003'", "1 month 2 days 00:00:00.000003"),
            ("'36 hours'", "36:00:00"),
            ("'1 day 12 hours'", "1 day 12:00:00"),
            ("'-1 year'", "-1 year"),
            ("'178956970 years 7 mons'", "178956970 years 7 months"),
        ],
        there="INTERVAL",
        back="interval",
    ),
    _d(
        "interval over 2562047 hours",
        "interval",
        [("'2562048 hours'", None)],
        there_outcome=ERROR,
        hint="interval",
    ),
    _d(
        "uuid",
        "uuid",
        [("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")],
        there="UUID",
        back="uuid",
    ),
    _d("enum", "mood", [("'happy'", "happy")], there="VARCHAR", back="text", back_outcome=LOSSLESS),
    _d(
        "json",
        "json",
        [('\'{"b":1,  "a":[1,1]}\'', '{"b":1,  "a":[1,1]}')],
        there="JSON",
        back="jsonb",
        back_outcome=LOSSLESS,
        json=True,
        note="DuckDB keeps the exact text; back in PostgreSQL it is jsonb",
    ),
    _d(
        "json with a duplicate key",
        "json",
        [('\'{"a": 1, "a": 2}\'', '{"a": 1, "a": 2}')],
        there="JSON",
        back_outcome=ERROR,
        hint="twice",
    ),
    _d(
        "jsonb",
        "jsonb",
        [('\'{"z": 1, "a": [true, null, 1.50]}\'', '{"a": [true, null, 1.50], "z": 1}')],
        there="JSON",
        back="jsonb",
        json=True,
    ),
    _d(
        "integer[]",
        "integer[]",
        [("'{1,NULL}'", "[1, NULL]"), ("'{}'", "[]")],
        there="INTEGER[]",
        back="integer[]",
    ),
    _d(
        "text[]",
        "text[]",
        [('\'{"",NULL,"q\\"u,o"}\'', "['', NULL, 'q\"u,o']")],
        there="VARCHAR[]",
        back="text[]",
    ),
    _d(
        "timestamp[]",
        "timestamp without time zone[]",
        [
            (
                "'{infinity,-infinity,\"2000-01-01 00:00:00\"}'",
                "[infinity, -infinity, '2000-01-01 00:00:00']",
            )
        ],
        there="TIMESTAMP[]",
        back="timestamp without time zone[]",
    ),
    _d(
        "enum[]",
        "mood[]",
        [("'{sad,happy}'", "[sad, happy]")],
        there="VARCHAR[]",
        back="text[]",
        back_outcome=LOSSLESS,
    ),
    _d(
        "timestamptz[]",
        "timestamp with time zone[]",
        [("'{\"2024-01-01 00:00:00+00\"}'", '["2024-01-01T00:00:00+00:00"]')],
        there="JSON",
        there_outcome=LOSSLESS,
        back="jsonb",
        back_outcome=LOSSLESS,
        json=True,
    ),
    _d(
        "integer[] with 2 dimensions",
        "integer[]",
        [("'{{1,2},{3,4}}'", None)],
        there_outcome=ERROR,
        hint="more than one dimension",
    ),
    _d(
        "integer[] with lower bound 0",
        "integer[]",
        [("'[0:2]={1,2,3}'", None)],
        there_outcome=ERROR,
        hint="lower bound",
    ),
    _d(
        "timetz",
        "time with time zone",
        [("'01:00+02'", None)],
        there_outcome=ERROR,
        hint="not supported",
    ),
    _d("money", "money", [("1", None)], there_outcome=ERROR, hint="not supported"),
    _d("inet", "inet", [("'127.0.0.1'", None)], there_outcome=ERROR, hint="not supported"),
)
"""PostgreSQL -> DuckDB -> PostgreSQL: the families, their values and outcomes."""


@attrs.frozen
class Guarantee:
    """A promise and the test that proves it (``file::test``)."""

    text: str
    test: str


GUARANTEES: tuple[Guarantee, ...] = (
    Guarantee(
        "Every cell of the matrix above is computed by replicating the values, and compared with this README",
        "tests/test_fidelity.py::test_duckdb_to_postgres_to_duckdb",
    ),
    Guarantee(
        "The same for PostgreSQL -> DuckDB -> PostgreSQL, with a non-UTC session time zone",
        "tests/test_fidelity.py::test_postgres_to_duckdb_to_postgres",
    ),
    Guarantee(
        "A value that cannot be kept is an error naming the table, the column, the type and a way out; nothing is committed",
        "tests/test_fidelity.py::test_duckdb_to_postgres_to_duckdb",
    ),
    Guarantee(
        "Every error cell that an override can fix loads with the one its error names (`column_types: {x: text}`): a text column holding the source's own text of each value",
        "tests/test_fidelity.py::test_duckdb_to_postgres_to_duckdb",
    ),
    Guarantee(
        "A type without a counterpart loads with `column_types` as text or JSON in all four directions",
        "tests/test_column_types.py::test_override_works_in_every_direction",
    ),
    Guarantee(
        "Under merge, a re-run with columns read through `column_types` rewrites no row, and a changed source row rewrites only that row",
        "tests/test_column_types.py::test_merge_with_overrides_reruns_without_a_change",
    ),
    Guarantee(
        "This README's type mapping and matrix are generated, and a stale README fails the suite",
        "tests/test_fidelity.py::test_readme_is_current",
    ),
    Guarantee(
        "A process killed (SIGKILL) at any of 20+ points of each mode leaves the destination exactly before or after, the cursor matching the rows, no staging table, and the next run loads the new rows",
        "tests/test_crash.py::test_kill_point",
    ),
    Guarantee(
        "Every statement the loads run is covered by a kill point (a new statement without one fails)",
        "tests/test_crash.py::test_kill_points_cover_every_statement",
    ),
    Guarantee(
        "A terminated backend (pg_terminate_backend) at every 4th kill point ends the run with a clear error (or success after the commit), the destination before or after",
        "tests/test_crash.py::test_terminated_backend",
    ),
    Guarantee(
        "A tiny statement_timeout ends the run in bounded time with a clear error; the destination is unchanged",
        "tests/test_crash.py::test_statement_timeout",
    ),
    Guarantee(
        "A DuckDB destination killed mid-load recovers to the state before, and the next run completes",
        "tests/test_crash.py::test_duckdb_destination_killed_mid_load",
    ),
    Guarantee(
        "Duplicate or NULL primary keys under merge and incremental fail with sample keys; the destination is untouched",
        "tests/test_hostile.py::test_composite_key_problems_name_sample_keys",
    ),
    Guarantee(
        "A NUL character bound for PostgreSQL fails naming the table, column and row; the destination is untouched",
        "tests/test_hostile.py::test_nul_without_a_key_names_the_row",
    ),
    Guarantee(
        "Quoted, dotted, spaced, mixed-case, keyword and unicode identifiers are kept exactly in every mode",
        "tests/test_hostile.py::test_awkward_identifiers_in_every_mode",
    ),
    Guarantee(
        "Names PostgreSQL would truncate are refused before any row moves; primary keys of tables sharing a 58-byte prefix do not collide",
        "tests/test_hostile.py::test_long_source_column_names_are_refused",
    ),
    Guarantee(
        "Two runs of the same table at once take turns: both succeed, nothing is corrupted",
        "tests/test_hostile.py::test_two_processes_load_the_same_table_at_once",
    ),
    Guarantee(
        "A permanent data error is not retried",
        "tests/test_hostile.py::test_a_permanent_error_is_attempted_once",
    ),
    Guarantee(
        "Wrong passwords and closed ports fail in bounded time without showing the password",
        "tests/test_hostile.py::test_source_connection_errors_are_bounded_and_redacted",
    ),
    Guarantee(
        "Passwords appear in no log line (DEBUG), exception, Dagster event or state table",
        "tests/test_secrets_suite.py::test_no_password_in_logs_errors_or_state",
    ),
    Guarantee(
        "Dagster metadata and the event log of a materialization hold no password",
        "tests/test_secrets_suite.py::test_no_password_in_dagster_events",
    ),
)


def _cell(outcome: str, type_: str, note: str = "") -> str:
    mark = {EXACT: "✓ exact", LOSSLESS: "≈ lossless", ERROR: "E error"}[outcome]
    return f"{mark} {type_}".strip() if outcome != ERROR else mark


def _table(families: tuple[Family, ...], there: str, back: str) -> list[str]:
    lines = [
        f"| source type | values tried | {there} | back | note |",
        "|---|---|---|---|---|",
    ]
    for f in families:
        first = _cell(f.there_outcome, f"`{f.there}`" if f.there else "")
        if f.there_outcome == ERROR:
            second = "-"
        else:
            second = _cell(f.back_outcome, f"`{f.back}`" if f.back else "")
        note = f.note or (f"error names the column: {f.hint}" if f.hint else "")
        if ERROR in (f.there_outcome, f.back_outcome) and f.override:
            note += f"; `column_types: {{x: {f.override}}}` copies its text"
        lines.append(f"| `{f.type}` | {f.literals} | {first} | {second} | {note} |")
    return lines


def render_fidelity() -> str:
    """The README's FIDELITY section (between the markers, without them)."""
    lines = [
        "Generated by `scripts/update_readme.py` from `tests/_fidelity_cases.py`; "
        "`tests/test_fidelity.py` replicates every value below and fails when an outcome "
        "differs or this section is stale.",
        "",
        "✓ exact: same value (and, back home, the same type and text). "
        "≈ lossless: same value in another type, or the same JSON document. "
        "E error: the load fails before anything is committed, naming table, column and "
        "source type with a way out (`column_types: {x: text}` to copy its text form, a "
        "source view, or `exclude_columns`).",
        "",
        "### DuckDB -> PostgreSQL -> DuckDB",
        "",
        *_table(DUCKDB_FAMILIES, "in PostgreSQL", "back"),
        "",
        "### PostgreSQL -> DuckDB -> PostgreSQL",
        "",
        *_table(POSTGRES_FAMILIES, "in DuckDB", "back"),
        "",
        "### Guarantees",
        "",
        *(f"- {g.text} (`{g.test}`)" for g in GUARANTEES),
        "",
        "The destination schema is created when it does not exist. An empty source under "
        "`full_refresh` empties the destination in the same transaction that would have "
        "replaced it.",
    ]
    return "\n".join(lines)


def render_types(rows: list[tuple[str, str, str]]) -> str:
    """The README's TYPES section from ``type_mapping_rows()``."""
    lines = [
        "Generated by `scripts/update_readme.py` from `typedrepl._types.type_mapping_rows()`.",
        "",
        "| DuckDB | PostgreSQL | note |",
        "|---|---|---|",
    ]
    for duck, pg, note in rows:
        cells = [c.replace("|", "\\|") for c in (duck, pg, note)]
        lines.append(f"| `{cells[0]}` | `{cells[1]}` | {cells[2]} |")
    return "\n".join(lines)
