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

Not carried over: column statistics targets and storage, publications
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

    ``columns`` are the new table's columns: comments on any other column are not kept
    (an index or constraint on a column the new table lacks fails loudly instead).
    """
    after: list[KeptStatement] = []
    row = conn.execute(
        "SELECT c.relpersistence = 'u', coalesce(c.reloptions, '{}'), "
        "coalesce(t.reloptions, '{}'), obj_description(c.oid, 'pg_class'), "
        "pg_get_userbyid(c.relowner), c.relowner <> (SELECT oid FROM pg_roles "
        "WHERE rolname = current_user), c.relrowsecurity, c.relforcerowsecurity "
        "FROM pg_class c LEFT JOIN pg_class t ON t.oid = c.reltoastrelid WHERE c.oid = %s",
        (oid,),
    ).fetchone()
    assert row is not None
    unlogged, options, toast_options, comment, owner, other_owner, rls, force_rls = row

    def keep(what: str, template: LiteralString, *parts: sql.Composable) -> None:
        after.append(KeptStatement(sql.SQL(template).format(*parts), what))

    for name, not_null, default in conn.execute(
        "SELECT a.attname, a.attnotnull AND NOT EXISTS (SELECT 1 FROM pg_index i "
        "WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY (i.indkey)), "
        "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "AND (a.attnotnull OR d.adbin IS NOT NULL) ORDER BY a.attnum",
        (oid,),
    ):
        if str(name) not in columns:
            continue
        if not_null:
            keep(
                f"NOT NULL of column {str(name)!r}",
                "ALTER TABLE {} ALTER COLUMN {} SET NOT NULL",
                target,
                sql.Identifier(str(name)),
            )
        if default is not None:
            keep(
                f"default of column {str(name)!r}",
                "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
                target,
                sql.Identifier(str(name)),
                _server_sql(default),
            )
    for name, definition in conn.execute(
        "SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conrelid = i.indrelid "
        "AND k.conindid = i.indexrelid) ORDER BY ic.relname",
        (oid,),
    ):
        keep(f"index {str(name)!r}", "{}", _server_sql(definition))
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s AND contype IN ('u', 'x', 'c', 'f') ORDER BY contype DESC, conname",
        (oid,),
    ):
        keep(
            f"constraint {str(name)!r}",
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            target,
            sql.Identifier(str(name)),
            _server_sql(definition),
        )
    for name, definition, state in conn.execute(
        "SELECT tgname, pg_get_triggerdef(oid), tgenabled FROM pg_trigger "
        "WHERE tgrelid = %s AND NOT tgisinternal ORDER BY tgname",
        (oid,),
    ):
        keep(f"trigger {str(name)!r}", "{}", _server_sql(definition))
        if str(state) in _TRIGGER_STATE:
            keep(
                f"trigger {str(name)!r}",
                "ALTER TABLE {} {} {}",
                target,
                sql.SQL(_TRIGGER_STATE[str(state)]),
                sql.Identifier(str(name)),
            )
    if rls:
        keep("row-level security", "ALTER TABLE {} ENABLE ROW LEVEL SECURITY", target)
    if force_rls:
        keep("row-level security", "ALTER TABLE {} FORCE ROW LEVEL SECURITY", target)
    for name, permissive, command, roles, using, check in conn.execute(
        "SELECT p.polname, p.polpermissive, CASE p.polcmd WHEN 'r' THEN 'SELECT' "
        "WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END, "
        "ARRAY(SELECT CASE WHEN r = 0 THEN NULL ELSE pg_get_userbyid(r) END "
        "FROM unnest(p.polroles) AS r ORDER BY 1 NULLS FIRST), "
        "pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) "
        "FROM pg_policy p WHERE p.polrelid = %s ORDER BY p.polname",
        (oid,),
    ):
        assert isinstance(roles, list)
        keep(
            f"policy {str(name)!r}",
            "CREATE POLICY {} ON {} AS {} FOR {} TO {}{}{}",
            sql.Identifier(str(name)),
            target,
            sql.SQL("PERMISSIVE" if permissive else "RESTRICTIVE"),
            sql.SQL(_POLICY_COMMANDS[str(command)]),
            sql.SQL(", ").join(_grantee(r) for r in roles),
            sql.SQL("") if using is None else sql.SQL(" USING ({})").format(_server_sql(using)),
            sql.SQL("")
            if check is None
            else sql.SQL(" WITH CHECK ({})").format(_server_sql(check)),
        )
    if comment is not None:
        keep("comment on the table", "COMMENT ON TABLE {} IS {}", target, sql.Literal(comment))
    for name, text in conn.execute(
        "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped "
        "AND col_description(attrelid, attnum) IS NOT NULL ORDER BY attnum",
        (oid,),
    ):
        if str(name) in columns:
            keep(
                f"comment on column {str(name)!r}",
                "COMMENT ON COLUMN {}.{} IS {}",
                target,
                sql.Identifier(str(name)),
                sql.Literal(text),
            )
    for grantee, privilege, grantable in conn.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, "
        "a.privilege_type, a.is_grantable FROM pg_class c, aclexplode(c.relacl) a "
        "WHERE c.oid = %s AND a.grantee <> c.relowner ORDER BY 1 NULLS FIRST, 2",
        (oid,),
    ):
        keep(
            f"{privilege} grant to {grantee or 'PUBLIC'}",
            "GRANT {} ON {} TO {}{}",
            sql.SQL(_privilege(privilege, grantee)),
            target,
            _grantee(grantee),
            sql.SQL(" WITH GRANT OPTION" if grantable else ""),
        )
    for column, grantee, privilege, grantable in conn.execute(
        "SELECT a.attname, CASE WHEN g.grantee = 0 THEN NULL ELSE pg_get_userbyid(g.grantee) "
        "END, g.privilege_type, g.is_grantable FROM pg_attribute a, aclexplode(a.attacl) g "
        "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum, 2, 3",
        (oid,),
    ):
        if str(column) not in columns:
            continue
        keep(
            f"{privilege} grant on column {str(column)!r} to {grantee or 'PUBLIC'}",
            "GRANT {} ({}) ON {} TO {}{}",
            sql.SQL(_privilege(privilege, grantee)),
            sql.Identifier(str(column)),
            target,
            _grantee(grantee),
            sql.SQL(" WITH GRANT OPTION" if grantable else ""),
        )
    if other_owner:  # last: it hands the grants made above over to the owner
        keep(f"owner {owner}", "ALTER TABLE {} OWNER TO {}", target, _grantee(owner))
    return Kept(
        unlogged=bool(unlogged),
        options=tuple(_options(options, "") + _options(toast_options, "toast.")),
        after=tuple(after),
    )


def _privilege(privilege: object, grantee: object) -> LiteralString:
    """A privilege's keyword, from a fixed list (never the catalog's text itself)."""
    if str(privilege) not in _PRIVILEGES:  # a newer server's privilege: say so
        raise psycopg.errors.FeatureNotSupported(
            f"cannot keep the {privilege} privilege of {grantee or 'PUBLIC'}"
        )
    return _PRIVILEGES[str(privilege)]


def _grantee(role: object) -> sql.Composable:
    return sql.SQL("PUBLIC") if role is None else sql.Identifier(str(role))
