"""What a PostgreSQL ``full_refresh`` carries over from the table it replaces.

A full refresh loads a new table and drops the old one. What the user (or their DBA)
added to the old table would go with it; this module reads it from the catalog so that
the new table gets it back, in the same transaction:

* persistence (``UNLOGGED``) and storage parameters (``fillfactor``, ``autovacuum_*``,
  ``toast.*``): on the ``CREATE TABLE`` of the stage, so the rows are loaded under them;
* ``NOT NULL`` and defaults of the columns the new table has, indexes, constraints
  (unique, check, exclusion, foreign keys to other tables) and triggers (with their
  enabled state): rebuilt after the swap, so an index or trigger costs nothing during
  the ``COPY`` and a constraint checks the new rows;
* row-level security and its policies, comments on the table and its columns, grants
  on the table and on its columns, and the owner.

Definitions come from the server's own deparsers (``pg_get_indexdef``,
``pg_get_constraintdef``, ``pg_get_triggerdef``, ``pg_get_expr``), as ``pg_dump`` does:
that text is the server's, never the config's. Names and values are composed with
:mod:`psycopg.sql`.

Not carried over: tablespaces, column statistics targets and storage, publications
(a ``FOR ALL TABLES`` publication includes the new table by itself), security labels,
and objects that depend on the table (a view makes the load fail: see ``_pgdest``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import LiteralString

import attrs
import psycopg
from psycopg import sql

__all__ = ["Kept", "KeptStatement", "read_kept"]

_PRIVILEGES: dict[str, LiteralString] = {
    p: p for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
}
_POLICY_COMMANDS: dict[str, LiteralString] = {
    c: c for c in ("ALL", "SELECT", "INSERT", "UPDATE", "DELETE")
}
_TRIGGER_STATE: dict[str, LiteralString] = {
    "D": "DISABLE TRIGGER",
    "R": "ENABLE REPLICA TRIGGER",
    "A": "ENABLE ALWAYS TRIGGER",
}


@attrs.frozen
class KeptStatement:
    """One statement that gives the new table something the old one had."""

    statement: sql.Composed
    what: str
    """What it keeps, for an error: ``index 't_a_idx'``."""


@attrs.frozen
class Kept:
    """Everything a full refresh carries over from the table it replaces."""

    unlogged: bool = False
    options: tuple[tuple[str, str], ...] = ()
    """Storage parameters as ``(name, value)``; a TOAST one is named ``toast.<name>``."""
    after: tuple[KeptStatement, ...] = ()
    """Run on the new table after the swap, in order."""
    warnings: tuple[str, ...] = ()
    """What is not kept though the old table had it, to log."""

    def with_clause(self) -> sql.Composable:
        """`` WITH (name = 'value', ...)`` for the ``CREATE TABLE``, or nothing."""
        if not self.options:
            return sql.SQL("")
        return sql.SQL(" WITH ({})").format(
            sql.SQL(", ").join(
                sql.SQL("{} = {}").format(_option_name(name), sql.Literal(value))
                for name, value in self.options
            )
        )


def _option_name(name: str) -> sql.Composable:
    if name.startswith("toast."):
        return sql.SQL("toast.{}").format(sql.Identifier(name.removeprefix("toast.")))
    return sql.Identifier(name)


def _server_sql(text: object) -> sql.SQL:
    """SQL text the server deparsed from one of its own catalog entries (not config)."""
    return sql.SQL(str(text))


def _options(values: object, prefix: str) -> list[tuple[str, str]]:
    assert isinstance(values, list)
    out = []
    for item in values:
        name, _, value = str(item).partition("=")
        out.append((prefix + name, value))
    return out


def read_kept(
    conn: psycopg.Connection[tuple[object, ...]],
    oid: int,
    target: sql.Identifier,
    columns: Collection[str],
) -> Kept:
    """What the table ``oid`` has that its replacement ``target`` should get back.

    ``columns`` are the new table's columns: what belongs to any other column (its
    ``NOT NULL``, default, comment, grants) is not kept; an index or constraint on such
    a column fails loudly instead.
    """
    row = conn.execute(
        "SELECT c.relpersistence = 'u', coalesce(c.reloptions, '{}'), "
        "coalesce(t.reloptions, '{}'), obj_description(c.oid, 'pg_class'), "
        "pg_get_userbyid(c.relowner), c.relowner <> (SELECT oid FROM pg_roles "
        "WHERE rolname = current_user), (SELECT rolsuper FROM pg_roles WHERE rolname = "
        "current_user) OR (pg_has_role(c.relowner, 'MEMBER') AND "
        "has_schema_privilege(c.relowner, c.relnamespace, 'CREATE')), "
        "c.relrowsecurity, c.relforcerowsecurity "
        "FROM pg_class c LEFT JOIN pg_class t ON t.oid = c.reltoastrelid WHERE c.oid = %s",
        (oid,),
    ).fetchone()
    assert row is not None
    unlogged, options, toast, comment, owner, other_owner, can_own, rls, force_rls = row
    reader = _Reader(conn, oid, target, frozenset(columns))
    reader.columns()
    reader.indexes()
    reader.constraints()
    reader.triggers()
    reader.security(rls=bool(rls), force=bool(force_rls))
    reader.comments(comment)
    reader.grants()
    warnings = []
    if other_owner and can_own:  # last: it hands the grants made above over to the owner
        reader.keep(f"owner {owner}", "ALTER TABLE {} OWNER TO {}", target, _grantee(owner))
    elif other_owner:  # as before typedrepl kept anything: the loading user owns it
        warnings.append(
            f"the new table is owned by the loading user, not by {owner}: that role cannot "
            "own it (this user is not a member of it, or it may not CREATE in the schema)"
        )
    return Kept(
        unlogged=bool(unlogged),
        options=tuple(_options(options, "") + _options(toast, "toast.")),
        after=tuple(reader.after),
        warnings=tuple(warnings),
    )


class _Reader:
    """Reads one kind of object of the old table at a time into :attr:`after`."""

    def __init__(
        self,
        conn: psycopg.Connection[tuple[object, ...]],
        oid: int,
        target: sql.Identifier,
        columns: frozenset[str],
    ) -> None:
        self._conn = conn
        self._oid = oid
        self._target = target
        self._columns = columns
        self.after: list[KeptStatement] = []

    def keep(self, what: str, template: LiteralString, *parts: sql.Composable) -> None:
        self.after.append(KeptStatement(sql.SQL(template).format(*parts), what))

    def _rows(self, query: LiteralString) -> list[tuple[object, ...]]:
        return self._conn.execute(query, (self._oid,)).fetchall()

    def columns(self) -> None:
        """``NOT NULL`` (but the primary key's, which the new table has) and defaults."""
        for name, not_null, default in self._rows(
            "SELECT a.attname, a.attnotnull AND NOT EXISTS (SELECT 1 FROM pg_index i "
            "WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY (i.indkey)), "
            "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "AND (a.attnotnull OR d.adbin IS NOT NULL) ORDER BY a.attnum"
        ):
            if str(name) not in self._columns:
                continue
            column = sql.Identifier(str(name))
            if not_null:
                self.keep(
                    f"NOT NULL of column {str(name)!r}",
                    "ALTER TABLE {} ALTER COLUMN {} SET NOT NULL",
                    self._target,
                    column,
                )
            if default is not None:
                self.keep(
                    f"default of column {str(name)!r}",
                    "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
                    self._target,
                    column,
                    _server_sql(default),
                )

    def indexes(self) -> None:
        """Indexes that no constraint owns (those come back with their constraint)."""
        for name, definition in self._rows(
            "SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = %s AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint k WHERE k.conrelid = i.indrelid "
            "AND k.conindid = i.indexrelid) ORDER BY ic.relname"
        ):
            self.keep(f"index {str(name)!r}", "{}", _server_sql(definition))

    def constraints(self) -> None:
        """Exclusion and unique first, then foreign keys (which may use them), then checks."""
        for name, definition in self._rows(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s "
            "AND contype IN ('u', 'x', 'c', 'f') ORDER BY contype DESC, conname"
        ):
            self.keep(
                f"constraint {str(name)!r}",
                "ALTER TABLE {} ADD CONSTRAINT {} {}",
                self._target,
                sql.Identifier(str(name)),
                _server_sql(definition),
            )

    def triggers(self) -> None:
        for name, definition, state in self._rows(
            "SELECT tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger "
            "WHERE tgrelid = %s AND NOT tgisinternal ORDER BY tgname"
        ):
            what = f"trigger {str(name)!r}"
            self.keep(what, "{}", _server_sql(definition))
            if str(state) in _TRIGGER_STATE:
                self.keep(
                    what,
                    "ALTER TABLE {} {} {}",
                    self._target,
                    sql.SQL(_TRIGGER_STATE[str(state)]),
                    sql.Identifier(str(name)),
                )

    def security(self, *, rls: bool, force: bool) -> None:
        """Row-level security, and its policies."""
        if rls:
            self.keep(
                "row-level security", "ALTER TABLE {} ENABLE ROW LEVEL SECURITY", self._target
            )
        if force:
            self.keep("row-level security", "ALTER TABLE {} FORCE ROW LEVEL SECURITY", self._target)
        for name, permissive, command, roles, using, check in self._rows(
            "SELECT p.polname, p.polpermissive, CASE p.polcmd WHEN 'r' THEN 'SELECT' "
            "WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' "
            "END, ARRAY(SELECT CASE WHEN r = 0 THEN NULL ELSE pg_get_userbyid(r) END "
            "FROM unnest(p.polroles) AS r ORDER BY 1 NULLS FIRST), "
            "pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) "
            "FROM pg_policy p WHERE p.polrelid = %s ORDER BY p.polname"
        ):
            assert isinstance(roles, list)
            self.keep(
                f"policy {str(name)!r}",
                "CREATE POLICY {} ON {} AS {} FOR {} TO {}{}{}",
                sql.Identifier(str(name)),
                self._target,
                sql.SQL("PERMISSIVE" if permissive else "RESTRICTIVE"),
                sql.SQL(_POLICY_COMMANDS[str(command)]),
                sql.SQL(", ").join(_grantee(r) for r in roles),
                _clause(" USING ({})", using),
                _clause(" WITH CHECK ({})", check),
            )

    def comments(self, comment: object) -> None:
        if comment is not None:
            self.keep(
                "comment on the table",
                "COMMENT ON TABLE {} IS {}",
                self._target,
                sql.Literal(comment),
            )
        for name, text in self._rows(
            "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute "
            "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped "
            "AND col_description(attrelid, attnum) IS NOT NULL ORDER BY attnum"
        ):
            if str(name) in self._columns:
                self.keep(
                    f"comment on column {str(name)!r}",
                    "COMMENT ON COLUMN {}.{} IS {}",
                    self._target,
                    sql.Identifier(str(name)),
                    sql.Literal(text),
                )

    def grants(self) -> None:
        """Grants on the table (but the owner's own), then on its columns."""
        for grantee, privilege, grantable in self._rows(
            "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, "
            "a.privilege_type, a.is_grantable FROM pg_class c, aclexplode(c.relacl) a "
            "WHERE c.oid = %s AND a.grantee <> c.relowner ORDER BY 1 NULLS FIRST, 2"
        ):
            self.keep(
                f"{privilege} grant to {grantee or 'PUBLIC'}",
                "GRANT {} ON {} TO {}{}",
                sql.SQL(_privilege(privilege, grantee)),
                self._target,
                _grantee(grantee),
                sql.SQL(" WITH GRANT OPTION" if grantable else ""),
            )
        for column, grantee, privilege, grantable in self._rows(
            "SELECT a.attname, CASE WHEN g.grantee = 0 THEN NULL ELSE "
            "pg_get_userbyid(g.grantee) END, g.privilege_type, g.is_grantable "
            "FROM pg_attribute a, aclexplode(a.attacl) g WHERE a.attrelid = %s "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum, 2, 3"
        ):
            if str(column) not in self._columns:
                continue
            self.keep(
                f"{privilege} grant on column {str(column)!r} to {grantee or 'PUBLIC'}",
                "GRANT {} ({}) ON {} TO {}{}",
                sql.SQL(_privilege(privilege, grantee)),
                sql.Identifier(str(column)),
                self._target,
                _grantee(grantee),
                sql.SQL(" WITH GRANT OPTION" if grantable else ""),
            )


def _clause(template: LiteralString, expression: object) -> sql.Composable:
    """``template`` around a deparsed expression, or nothing when there is none."""
    return sql.SQL("") if expression is None else sql.SQL(template).format(_server_sql(expression))


def _privilege(privilege: object, grantee: object) -> LiteralString:
    """A privilege's keyword, from a fixed list (never the catalog's text itself)."""
    if str(privilege) not in _PRIVILEGES:  # a newer server's privilege: say so
        raise psycopg.errors.FeatureNotSupported(
            f"cannot keep the {privilege} privilege of {grantee or 'PUBLIC'}"
        )
    return _PRIVILEGES[str(privilege)]


def _grantee(role: object) -> sql.Composable:
    return sql.SQL("PUBLIC") if role is None else sql.Identifier(str(role))
