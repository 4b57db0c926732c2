"""Load a replication from YAML (a file or text) or a mapping; dump it back to YAML.

Every mistake is collected (YAML syntax, environment variables, structure, meaning)
and raised together as one :class:`~typedrepl.errors.ConfigError`, each with its path
and, for YAML, its ``file:line:column``.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path as FsPath
from typing import overload

import attrs
import yaml

from typedrepl._converter import CONVERTER, Path, describe, issues_from, suggest
from typedrepl._meta_rules import meta_problems
from typedrepl._models import (
    ColumnType,
    Connection,
    Connections,
    LoadMode,
    PostgresConnection,
    Replication,
    Table,
    TableT,
)
from typedrepl.errors import ConfigError, ConfigIssue

__all__ = ["dump_replication", "load_replication"]

POSTGRES_MAX_IDENTIFIER_BYTES = 63
_TOP_LEVEL_KEYS = ("connections", "defaults", "tables")
_ENV_PATTERN = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")

ConfigSource = str | os.PathLike[str] | Mapping[str, object]
"""A path to a YAML file, YAML text, or a mapping of the same shape."""


def format_path(path: Path) -> str:
    """``("tables", 2, "primary_key")`` -> ``tables[2].primary_key``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@attrs.define
class _Context:
    """What the loader knows while it reads one config."""

    file: str | None
    root: yaml.Node | None
    issues: list[ConfigIssue] = attrs.field(factory=list)
    unset: set[Path] = attrs.field(factory=set)
    """Where a string names an unset environment variable (reported once, there): no
    other check judges such a value, as it is not the one the user means."""

    def holds_unset(self, path: Path) -> bool:
        """The value at ``path``, or a value inside it, names an unset variable."""
        return any(u[: len(path)] == path for u in self.unset)

    def within_unset(self, path: Path) -> bool:
        """``path`` is (inside) a value that names an unset variable."""
        return any(path[: len(u)] == u for u in self.unset)

    def add(self, path: Path, message: str, *, at_key: bool = False) -> None:
        line = column = None
        if self.root is not None:
            mark = _mark(self.root, path, at_key=at_key)
            line, column = mark.line + 1, mark.column + 1
        issue = ConfigIssue(
            path=format_path(path), message=message, file=self.file, line=line, column=column
        )
        if issue not in self.issues:
            self.issues.append(issue)

    def sorted_issues(self) -> list[ConfigIssue]:
        """Issues in file order (those without a position last)."""
        return sorted(self.issues, key=lambda i: (i.line is None, i.line or 0, i.column or 0))


def _mark(root: yaml.Node, path: Path, *, at_key: bool) -> yaml.Mark:
    """The position of ``path`` in the YAML tree, or of its nearest existing parent."""
    mark: yaml.Mark = _find(root, path, at_key=at_key).start_mark
    return mark


def _find(root: yaml.Node, path: Path, *, at_key: bool) -> yaml.Node:
    node = root
    for index, part in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
            found = [(k, v) for k, v in pairs if k.value == part]
            if not found:
                return node
            key, value = found[-1]
            if last and at_key:
                return key
            node = value
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            items: list[yaml.Node] = node.value
            node = items[part]
        else:
            return node
    return node


def _read_yaml(text: str, file: str) -> tuple[object, yaml.Node | None, list[ConfigIssue]]:
    """Parse YAML text; syntax errors and duplicate keys come back as issues."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}, {problem}"
        issue = ConfigIssue(
            path="",
            message=f"invalid YAML: {problem}",
            file=file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        )
        return None, None, [issue]
    except yaml.YAMLError as exc:
        return None, None, [ConfigIssue(path="", message=f"invalid YAML: {exc}", file=file)]
    issues = [
        ConfigIssue(
            path="",
            message=f"duplicate key {key.value!r} (first at line {first.start_mark.line + 1})",
            file=file,
            line=key.start_mark.line + 1,
            column=key.start_mark.column + 1,
        )
        for first, key in _duplicate_keys(root)
    ]
    return data, root, issues


def _duplicate_keys(node: yaml.Node | None) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, yaml.Node] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    yield seen[key.value], key
                seen.setdefault(key.value, key)
            yield from _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


def _interpolate(value: object, path: Path, env: Mapping[str, str], ctx: _Context) -> object:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string; ``$$`` is a literal ``$``."""
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match["name"]
            if name is None:
                return "$"
            default = match["default"]
            # As in the shell: ${VAR:-default} also replaces a variable set to "".
            if name in env and (env[name] or default is None):
                return env[name]
            if default is not None:
                return default
            ctx.add(path, f"environment variable {name} is not set (used as ${{{name}}})")
            ctx.unset.add(path)
            return match[0]

        return _ENV_PATTERN.sub(replace, value)
    if isinstance(value, Mapping):
        return {k: _interpolate(v, (*path, str(k)), env, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*path, i), env, ctx) for i, v in enumerate(value)]
    return value


def _structure_at(
    data: object,
    cls: type[object],
    path: Path,
    ctx: _Context,
    remap: Mapping[str, Path],
    failed: set[str] | None = None,
) -> object | None:
    """Structure ``data`` as ``cls``; record issues (under ``path``) instead of raising.

    ``failed`` collects the keys of ``data`` that the issues are about (``""`` for an
    issue about the whole of it)."""
    try:
        return CONVERTER.structure(data, cls)
    except Exception as exc:
        for sub, message, at_key in issues_from(exc):
            target = (*path, *sub)
            if sub and isinstance(sub[0], str) and sub[0] in remap:
                target = (*remap[sub[0]], *sub[1:])
            if at_key or not ctx.within_unset(target):
                ctx.add(target, message, at_key=at_key)
            if failed is not None:
                failed.add(sub[0] if sub and isinstance(sub[0], str) else "")
        return None


def _without(
    merged: Mapping[str, object], failed: set[str], table_type: type[TableT]
) -> TableT | None:
    """The table with its failed keys left out (defaults instead), so that the checks of
    the rest can run too; ``None`` when that is not a table either."""
    if "" in failed:
        return None
    try:
        return CONVERTER.structure({k: v for k, v in merged.items() if k not in failed}, table_type)
    except Exception:
        return None


def _table_field_names(table_type: type[Table]) -> list[str]:
    return [a.name for a in attrs.fields(table_type)]


def _build(
    data: object, table_type: type[TableT], env: Mapping[str, str], ctx: _Context
) -> Replication[TableT] | None:
    if data is None:
        ctx.add((), "the config is empty; expected a mapping with 'connections' and 'tables'")
        return None
    if not isinstance(data, Mapping):
        ctx.add((), f"expected a mapping with 'connections' and 'tables', got {describe(data)}")
        return None
    data = _interpolate(data, (), env, ctx)
    assert isinstance(data, Mapping)

    for key in data:
        if key not in _TOP_LEVEL_KEYS:
            ctx.add(
                (str(key),),
                f"unknown key {key!r}{suggest(str(key), list(_TOP_LEVEL_KEYS))}",
                at_key=True,
            )
    for key in ("connections", "tables"):
        if key not in data:
            ctx.add((), f"missing required key {key!r}")

    connections = None
    if "connections" in data:
        structured = _structure_at(data["connections"], Connections, ("connections",), ctx, {})
        connections = structured if isinstance(structured, Connections) else None

    fields = _table_field_names(table_type)
    defaults: Mapping[str, object] = {}
    raw_defaults = data.get("defaults", {})
    if not isinstance(raw_defaults, Mapping):
        ctx.add(("defaults",), f"expected a mapping of table fields, got {describe(raw_defaults)}")
    else:
        defaults = {k: v for k, v in raw_defaults.items() if k in fields and k != "name"}
        for key in raw_defaults:
            if key == "name":
                ctx.add(("defaults", "name"), "'name' cannot have a default", at_key=True)
            elif key not in fields:
                hint = suggest(str(key), fields)
                ctx.add(("defaults", str(key)), f"unknown key {key!r}{hint}", at_key=True)
        _check_defaults(defaults, table_type, ctx)
        default_meta = defaults.get("meta")
        if isinstance(default_meta, Mapping):
            _check_meta(default_meta, ("defaults", "meta"), ctx)

    tables: list[TableT] = []
    located: list[_Located] = []
    raw_tables = data.get("tables")
    if "tables" in data and not isinstance(raw_tables, list):
        ctx.add(("tables",), f"expected a list of tables, got {describe(raw_tables)}")
    elif isinstance(raw_tables, list):
        if not raw_tables:
            ctx.add(("tables",), "the list of tables is empty")
        for index, raw in enumerate(raw_tables):
            path: Path = ("tables", index)
            if not isinstance(raw, Mapping):
                ctx.add(path, f"expected a table (a mapping with 'name'), got {describe(raw)}")
                continue
            merged = {**defaults, **raw}
            remap: dict[str, Path] = {k: ("defaults", k) for k in defaults if k not in raw}
            if isinstance(defaults.get("meta"), Mapping) and isinstance(raw.get("meta"), Mapping):
                base_meta = defaults["meta"]
                assert isinstance(base_meta, Mapping)
                merged["meta"] = {**base_meta, **raw["meta"]}
            failed: set[str] = set()
            table = _structure_at(merged, table_type, path, ctx, remap, failed)
            own_meta = raw.get("meta")
            if isinstance(own_meta, Mapping):
                _check_meta(own_meta, (*path, "meta"), ctx)
            # Fields whose value is wrong or names an unset variable are unknown: the
            # checks that read them say nothing (their answer would be about a stand-in).
            unset = {str(k) for k in merged if ctx.holds_unset(_where(str(k), path, remap))}
            unknown = frozenset(failed | unset)
            checked: Table | None
            if isinstance(table, table_type):
                tables.append(table)
                checked = table
            else:  # a wrong field hides none of the table's other mistakes
                checked = _without(merged, failed, table_type)
            if checked is not None:
                _check_table(checked, path, remap, ctx, unknown=unknown)
                located.append(_Located(checked, path, unknown))

    if connections is not None:
        for side in ("source", "destination"):
            where: Path = ("connections", side, "connection")
            if ctx.holds_unset(where):  # the string is not the one meant: nothing to parse
                continue
            problem = getattr(connections, side).check()
            if problem:
                ctx.add(where, problem)
        _check_identifiers(located, connections, ctx)
    _check_unique(located, ctx, None if connections is None else connections.destination)

    if ctx.issues or connections is None:
        return None
    return Replication(connections=connections, tables=tuple(tables))


def _check_defaults(defaults: Mapping[str, object], table_type: type[Table], ctx: _Context) -> None:
    """Structure errors in the defaults, even those every table overrides."""
    try:
        CONVERTER.structure({**defaults, "name": ""}, table_type)
    except Exception as exc:
        for sub, message, at_key in issues_from(exc):
            if sub and sub[0] in defaults:  # not the probe's missing required fields
                target = ("defaults", *sub)
                if at_key or not ctx.within_unset(target):
                    ctx.add(target, message, at_key=at_key)


def _check_meta(meta: Mapping[object, object], at: Path, ctx: _Context) -> None:
    """Values of a ``meta`` block that Dagster would refuse (see :mod:`._meta_rules`).

    Run on the block as written (defaults' own and each table's own), so that a wrong
    value in it hides none of the others."""
    for sub, message, at_key in meta_problems(meta):
        where = (*at, *sub)
        if at_key or not ctx.holds_unset(where):
            ctx.add(where, message, at_key=at_key)


def _where(field: str, path: Path, remap: Mapping[str, Path]) -> Path:
    return remap.get(field, (*path, field))


def _check_table(
    table: Table,
    path: Path,
    remap: Mapping[str, Path],
    ctx: _Context,
    *,
    unknown: frozenset[str] = frozenset(),
) -> None:
    """Checks that need only the table itself.

    ``unknown`` are fields whose value was wrong (``table`` has their defaults): a check
    that reads one of them says nothing, as its answer would be about the default.
    """

    def add(field: str, message: str, *, reads: Iterable[str] = (), key: str | None = None) -> None:
        if unknown.intersection((field, *reads)):
            return
        where = _where(field, path, remap)
        if where != (*path, field):  # the value is a default: say which table it fails
            message += f"; used by {format_path(path)} ({table.name!r})"
        ctx.add(where if key is None else (*where, key), message)

    if table.mode is LoadMode.MERGE and not table.primary_key:
        add(
            "mode",
            "mode 'merge' needs a primary_key (the columns rows are matched on)",
            reads=["primary_key"],
        )
    if table.mode is LoadMode.INCREMENTAL and table.cursor is None:
        add(
            "mode",
            "mode 'incremental' needs a cursor (the column the load advances on)",
            reads=["cursor"],
        )
    if table.cursor is not None and table.mode is not LoadMode.INCREMENTAL:
        add(
            "cursor",
            f"a cursor is used only by mode 'incremental', not {table.mode.value!r}",
            reads=["mode"],
        )
    if table.columns is not None and table.exclude_columns:
        add(
            "exclude_columns",
            "use either columns or exclude_columns, not both",
            reads=["columns"],
        )
    for field in ("primary_key", "columns", "exclude_columns"):
        names: tuple[str, ...] = getattr(table, field) or ()
        for name, count in Counter(names).items():
            if count > 1:
                add(field, f"column {name!r} is listed {count} times")
    needed = [*table.primary_key, *([table.cursor] if table.cursor else [])]
    for name in needed:
        role = "cursor" if name == table.cursor else "primary key column"
        reads = ["cursor" if name == table.cursor else "primary_key"]
        if name in table.exclude_columns:
            add("exclude_columns", f"the {role} {name!r} cannot be excluded", reads=reads)
        if table.columns is not None and name not in table.columns:
            add("columns", f"the {role} {name!r} must be one of the copied columns", reads=reads)
    for name, message in _column_type_problems(table):
        add(
            "column_types",
            message,
            key=name,
            reads=["cursor", "primary_key", "exclude_columns", "columns"],
        )


def _column_type_problems(table: Table) -> Iterator[tuple[str, str]]:
    """``(column, problem)``: an override names a copied column that is not the cursor,
    and a primary key column only as text."""
    for name, kind in table.column_types.items():
        if name == table.cursor:
            yield (
                name,
                f"the cursor {name!r} cannot be read as {kind}: its comparisons would change "
                "meaning (an incremental load compares the source's own values)",
            )
        elif name in table.primary_key and kind == ColumnType.JSON:
            yield (
                name,
                f"the primary key column {name!r} cannot be read as json (rows are matched on "
                "it); read it as text",
            )
        if name in table.exclude_columns:
            yield name, f"column {name!r} is left out by exclude_columns; drop one of the two"
        elif table.columns is not None and name not in table.columns:
            yield name, f"column {name!r} is not one of the copied columns; add it to columns"


@attrs.frozen
class _Located:
    """A table for the checks across tables: where it is, and which fields are unknown
    (wrong, or naming an unset variable: ``table`` has their defaults instead)."""

    table: Table
    path: Path
    unknown: frozenset[str]

    def knows(self, *fields: str) -> bool:
        return self.unknown.isdisjoint(fields)


def _identifier_fields(table: Table) -> Iterator[tuple[Path, str, str, tuple[str, ...]]]:
    """``(where in the table, value, side, fields read)`` for every identifier a table names."""
    yield ("name",), table.name, "source", ("name",)
    if table.destination_table is None:  # a stand-in, when the field was wrong
        yield ("name",), table.name, "destination", ("name", "destination_table")
    else:
        yield ("destination_table",), table.destination_table, "destination", ("destination_table",)
    if table.source_schema is not None:
        yield ("source_schema",), table.source_schema, "source", ("source_schema",)
    if table.destination_schema is not None:
        yield (
            ("destination_schema",),
            table.destination_schema,
            "destination",
            ("destination_schema",),
        )
    for field in ("primary_key", "columns", "exclude_columns"):
        for name in getattr(table, field) or ():
            yield (field,), name, "both", (field,)
    if table.cursor is not None:
        yield ("cursor",), table.cursor, "both", ("cursor",)
    for name in table.column_types:
        yield (
            ("column_types", name) if name else ("column_types",),
            name,
            "both",
            ("column_types",),
        )


def _check_identifiers(located: list[_Located], connections: Connections, ctx: _Context) -> None:
    limited = {
        side: isinstance(conn, PostgresConnection)
        for side, conn in (("source", connections.source), ("destination", connections.destination))
    }
    for entry in located:
        for where, value, side, reads in _identifier_fields(entry.table):
            if not entry.knows(*reads):
                continue
            at = (*entry.path, *where)
            if not value:
                ctx.add(at, "an identifier cannot be empty")
            elif "\x00" in value:
                ctx.add(at, f"identifier {value!r} contains a NUL character")
            size = len(value.encode())
            sides = ("source", "destination") if side == "both" else (side,)
            if size > POSTGRES_MAX_IDENTIFIER_BYTES and any(limited[s] for s in sides):
                ctx.add(
                    at,
                    f"identifier {value!r} is {size} bytes; PostgreSQL allows at most "
                    f"{POSTGRES_MAX_IDENTIFIER_BYTES} (it would silently truncate it): choose a "
                    "shorter name (destination_table renames the table in the destination)",
                )


def _check_unique(located: list[_Located], ctx: _Context, destination: Connection | None) -> None:
    """Table names, and the destination tables they write, are unique.

    Every table whose fields in question could be read takes part, also one with
    mistakes in its other fields; a field that could not be read is compared with nothing.
    Destination tables are compared as the destination resolves them: no schema is its
    default schema (``public``, ``main``), and DuckDB ignores ASCII case.
    """
    names: dict[str, Path] = {}
    targets: dict[tuple[str | None, str], Path] = {}
    default = None if destination is None else destination.default_schema

    def same(name: str | None) -> str | None:
        return name if destination is None or name is None else destination.same_name(name)

    for entry in located:
        table, path = entry.table, entry.path
        if entry.knows("name"):
            if table.name in names:
                first = format_path(names[table.name])
                ctx.add((*path, "name"), f"duplicate table name {table.name!r} (also {first})")
                continue
            names[table.name] = path
        if not entry.knows("destination_schema", "destination_table"):
            continue
        if table.destination_table is None and not entry.knows("name"):
            continue
        target = (same(table.destination_schema or default), str(same(table.target_name)))
        if target in targets:
            other = format_path(targets[target])
            ctx.add(path, f"destination table {table.target_name!r} is also written by {other}")
        targets.setdefault(target, path)


@overload
def load_replication(
    source: ConfigSource, *, table_type: None = None, env: Mapping[str, str] | None = None
) -> Replication[Table]: ...


@overload
def load_replication(
    source: ConfigSource, *, table_type: type[TableT], env: Mapping[str, str] | None = None
) -> Replication[TableT]: ...


def load_replication(
    source: ConfigSource,
    *,
    table_type: type[TableT] | None = None,
    env: Mapping[str, str] | None = None,
) -> Replication[TableT] | Replication[Table]:
    """Load and check a replication.

    Args:
        source: a path to a YAML file (``pathlib.Path``, or a one-line string naming
            an existing file or ending in ``.yaml``/``.yml``), YAML text, or a mapping.
        table_type: the table model: ``Table`` or your subclass of it.
        env: the variables ``${VAR}`` reads (default: ``os.environ``).

    Raises:
        ConfigError: listing every mistake, each with its path and YAML position.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    if isinstance(source, Mapping):
        ctx = _Context(file=None, root=None)
        data: object = source
    else:
        text, file = _read_source(source)
        data, root, issues = _read_yaml(text, file)
        ctx = _Context(file=file, root=root, issues=issues)
        if issues:
            raise ConfigError(issues)
    replication = _build(data, table_type or Table, environ, ctx)
    if ctx.issues or replication is None:
        raise ConfigError(ctx.sorted_issues() or [ConfigIssue(path="", message="invalid config")])
    return replication


def _read_source(source: str | os.PathLike[str]) -> tuple[str, str]:
    """``(text, file name)`` for a path or YAML text."""
    is_path = not isinstance(source, str) or (
        "\n" not in source and (source.endswith((".yaml", ".yml")) or os.path.isfile(source))
    )
    if not is_path:
        assert isinstance(source, str)
        return source, "<string>"
    path = FsPath(source)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        raise ConfigError(
            [ConfigIssue(path="", message="file not found", file=str(path))]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [ConfigIssue(path="", message=f"cannot read the file: {exc}", file=str(path))]
        ) from None


def dump_replication(replication: Replication[TableT]) -> str:
    """The replication as YAML; ``load_replication`` of the result gives an equal model.

    Values equal to their defaults are left out. The dump holds connection strings
    as they are, passwords included: it is data, not a log line.
    """
    data = {
        "connections": CONVERTER.unstructure(replication.connections, Connections),
        "tables": [CONVERTER.unstructure(t, type(t)) for t in replication.tables],
    }
    for side in ("source", "destination"):
        conn: Connection = getattr(replication.connections, side)
        data["connections"][side] = CONVERTER.unstructure(conn, type(conn))
        data["connections"][side]["type"] = conn.type
    return yaml.dump(_escape_dollars(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True)


class _Dumper(yaml.SafeDumper):
    """``safe_dump`` that keeps a NEL (U+0085) in a string: in single quotes it reads back as a space."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if "\x85" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _escape_dollars(value: object) -> object:
    """Double every ``$`` in string values, so loading does not interpolate them."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, Mapping):
        return {k: _escape_dollars(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escape_dollars(v) for v in value]
    return value
