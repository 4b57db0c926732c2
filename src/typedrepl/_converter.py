"""The one cattrs converter: strict hooks, unknown keys rejected, plain-words errors.

Structuring errors keep cattrs' exception groups; :func:`issues_from` flattens them
into ``(path, message, points_at_key)`` triples that the loader locates in the YAML.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Iterator, Mapping
from typing import Final, TypeAlias

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from typedrepl._models import CONNECTION_TYPES, ColumnType, Connection, TableMeta
from typedrepl._secrets import redact_url

PathPart: TypeAlias = str | int
Path: TypeAlias = tuple[PathPart, ...]


class Invalid(ValueError):
    """A value that does not fit its field; ``subpath`` points inside the value."""

    def __init__(self, message: str, subpath: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.subpath = subpath


def describe(value: object) -> str:
    """``int 42``, ``list [1, 2]``: a value and its YAML-ish type, for messages."""
    kind = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        list: "list",
        dict: "mapping",
        type(None): "null",
    }.get(type(value), type(value).__name__)
    # Redact before shortening: a cut-off URL no longer looks like one and would leak.
    text = redact_url(repr(value))
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{kind} {text}" if value is not None else "null"


def suggest(word: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _str(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"expected a string, got {describe(value)}")
    return value


def _bool(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {describe(value)}")
    return value


def _int(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"expected an integer, got {describe(value)}")
    return value


def _float(value: object, _: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"expected a number, got {describe(value)}")
    return float(value)


def _names(value: object, _: object) -> tuple[str, ...]:
    """A name or a list of names."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple):
        raise Invalid(f"expected a name or a list of names, got {describe(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise Invalid(f"expected a string, got {describe(item)}", (index,))
    return tuple(value)


def _str_mapping(value: object, _: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping of strings, got {describe(value)}")
    for key, item in value.items():
        if not isinstance(key, str):
            raise Invalid(f"expected string keys, got {describe(key)}")
        if not isinstance(item, str):
            raise Invalid(f"expected a string, got {describe(item)}", (key,))
    return dict(value)


def _column_types(value: object, _: object) -> dict[str, ColumnType]:
    """``{column: text | json}``; a wrong value is reported at its column's key."""
    if not isinstance(value, Mapping):
        raise Invalid(f"expected a mapping of column names to column types, got {describe(value)}")
    out: dict[str, ColumnType] = {}
    wrong: list[Invalid] = []
    for key, item in value.items():
        if not isinstance(key, str):
            wrong.append(Invalid(f"expected a column name as the key, got {describe(key)}"))
            continue
        try:
            member = _enum(item, ColumnType)
        except Invalid as exc:
            wrong.append(Invalid(exc.message, (key,)))
            continue
        assert isinstance(member, ColumnType)
        out[key] = member
    if len(wrong) == 1:
        raise wrong[0]
    if wrong:
        raise ExceptionGroup("invalid column_types", wrong)
    return out


def _enum(value: object, cls: type[enum.Enum]) -> enum.Enum:
    allowed = [str(m.value) for m in cls]
    if isinstance(value, str) and value in allowed:
        return cls(value)
    hint = suggest(value, allowed) if isinstance(value, str) else ""
    raise Invalid(f"expected one of {', '.join(allowed)}; got {describe(value)}{hint}")


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(str, _str)
    conv.register_structure_hook(bool, _bool)
    conv.register_structure_hook(int, _int)
    conv.register_structure_hook(float, _float)
    # By MRO a StrEnum is first a StrEnum, then a str: both enum bases get the enum hook.
    conv.register_structure_hook(enum.Enum, _enum)
    conv.register_structure_hook(enum.StrEnum, _enum)
    conv.register_structure_hook_func(lambda t: t == tuple[str, ...], _names)
    conv.register_structure_hook_func(
        lambda t: t in (Mapping[str, str], dict[str, str]),
        _str_mapping,
    )
    conv.register_structure_hook_func(
        lambda t: t in (Mapping[str, ColumnType], dict[str, ColumnType]),
        _column_types,
    )

    def mapping_first(cls: type[object]) -> Callable[[object, object], object]:
        """Structure attrs classes from mappings only (not ``AttributeError: 'str' ... 'keys'``)."""
        structure = make_dict_structure_fn(cls, conv)

        def hook(value: object, _: object) -> object:
            if not isinstance(value, Mapping):
                raise Invalid(f"expected a mapping, got {describe(value)}")
            return structure(value, cls)

        return hook

    # Registered before the Connection hook, which must take precedence (last wins).
    conv.register_structure_hook_factory(attrs.has, mapping_first)

    by_type = {attrs.fields(cls).type.default: cls for cls in CONNECTION_TYPES}

    def structure_connection(value: object, _: object) -> Connection:
        if not isinstance(value, Mapping):
            raise Invalid(f"expected a mapping with 'type' and 'connection', got {describe(value)}")
        kind = value.get("type")
        if kind is None:
            raise Invalid(f"missing the connection 'type' (one of: {', '.join(by_type)})")
        cls = by_type.get(kind) if isinstance(kind, str) else None
        if cls is None:
            hint = suggest(kind, list(by_type)) if isinstance(kind, str) else ""
            raise Invalid(
                f"unknown connection type {kind!r}; expected one of: {', '.join(by_type)}{hint}",
                ("type",),
            )
        return conv.structure(value, cls)

    conv.register_structure_hook_func(lambda t: t is Connection, structure_connection)

    # Dump only what differs from the defaults, so a dumped config reads like a written one.
    conv.register_unstructure_hook(
        TableMeta, make_dict_unstructure_fn(TableMeta, conv, _cattrs_omit_if_default=True)
    )
    conv.register_unstructure_hook_factory(
        lambda t: attrs.has(t) and t is not TableMeta,
        lambda t: make_dict_unstructure_fn(t, conv, _cattrs_omit_if_default=True),
    )
    conv.register_unstructure_hook_func(lambda t: t == tuple[str, ...], list)
    conv.register_unstructure_hook_func(
        lambda t: t in (Mapping[str, ColumnType], dict[str, ColumnType]),
        lambda value: {str(k): str(v) for k, v in value.items()},
    )
    return conv


CONVERTER: Final[cattrs.Converter] = _make_converter()
"""typedrepl's converter. Use it to structure your own ``Table`` subclasses' extra field types."""


def issues_from(exc: BaseException, path: Path = ()) -> Iterator[tuple[Path, str, bool]]:
    """Flatten a structuring error into ``(path, message, points_at_key)`` triples."""
    if isinstance(exc, ForbiddenExtraKeysError):
        fields = [a.name for a in attrs.fields(exc.cl)] if attrs.has(exc.cl) else []
        for key in sorted(exc.extra_fields):
            yield (*path, key), f"unknown key {key!r}{suggest(key, fields)}", True
    elif isinstance(exc, ClassValidationError):
        with_notes, without_notes = exc.group_exceptions()
        for noted, note in with_notes:
            if type(noted) is KeyError:
                yield path, f"missing required key {note.name!r}", True
            else:
                yield from issues_from(noted, (*path, note.name))
        for plain in without_notes:
            yield from issues_from(plain, path)
    elif isinstance(exc, IterableValidationError):
        with_index, without_index = exc.group_exceptions()
        for indexed, inote in with_index:
            yield from issues_from(indexed, (*path, inote.index))
        for unindexed in without_index:
            yield from issues_from(unindexed, path)
    elif isinstance(exc, BaseExceptionGroup):
        for member in exc.exceptions:
            yield from issues_from(member, path)
    elif isinstance(exc, Invalid):
        yield (*path, *exc.subpath), exc.message, False
    elif isinstance(exc, TypeError | ValueError) and not isinstance(exc, KeyError):
        yield path, f"invalid value: {exc}", False
    else:
        yield path, f"{type(exc).__name__}: {exc}", False
