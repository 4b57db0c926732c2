"""A PostgreSQL ``full_refresh`` gives the new table what the old one had.

The destination table is tuned and secured by hand (storage parameters, ``UNLOGGED``,
indexes, constraints, triggers, row-level security, comments, grants, owner); a full
refresh replaces the table and every one of those must be on the new table, read back
from the catalog. What cannot be kept fails the load with its name, and changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from conftest import Side, replication_for
from typedrepl import ReplicationError
from typedrepl._plan import plan
from typedrepl._run import replicate

TABLE = {"name": "t", "primary_key": "id"}


@pytest.fixture(name="pg_sides")
def fixture_pg_sides(make_side: Callable[[str], Side]) -> tuple[Side, Side]:
    source, destination = make_side("duckdb"), make_side("postgres")
    source.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR, b INTEGER, parent INTEGER)")
    source.insert("t", [(1, "one", 1, None), (2, "two", 2, 1), (3, "three", 3, 1)])
    replicate(replication_for(source, destination, [TABLE]))
    return source, destination


@pytest.fixture(name="roles")
def fixture_roles(pg_sides: tuple[Side, Side]) -> Iterator[tuple[str, str]]:
    """Two new roles (cluster-wide, so uniquely named), dropped with what they own."""
    _, destination = pg_sides
    reader, owner = (f"typedrepl_{what}_{uuid.uuid4().hex[:8]}" for what in ("reader", "owner"))
    with psycopg.connect(destination.target, autocommit=True) as conn:
        for role in (reader, owner):
            conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    yield reader, owner
    with psycopg.connect(destination.target, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP OWNED BY {}, {}").format(sql.Identifier(reader), sql.Identifier(owner))
        )
        for role in (reader, owner):
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _catalog(destination: Side) -> dict[str, object]:
    """Everything a full refresh must keep, as the catalog describes it."""
    one = destination.execute
    oid = one("SELECT 'public.t'::regclass::oid")[0][0]
    return {
        "persistence": one("SELECT relpersistence FROM pg_class WHERE oid = ?", (oid,)),
        "options": one(
            "SELECT c.reloptions, t.reloptions FROM pg_class c "
            "LEFT JOIN pg_class t ON t.oid = c.reltoastrelid WHERE c.oid = ?",
            (oid,),
        ),
        "columns": one(
            "SELECT attname, attnotnull, pg_get_expr(adbin, adrelid) FROM pg_attribute "
            "LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum "
            "WHERE attrelid = ? AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (oid,),
        ),
        "indexes": one(
            "SELECT pg_get_indexdef(indexrelid), indisunique, indisprimary FROM pg_index "
            "WHERE indrelid = ? ORDER BY 1",
            (oid,),
        ),
        "constraints": one(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ? ORDER BY 1",
            (oid,),
        ),
        "triggers": one(
            "SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = ? AND NOT tgisinternal ORDER BY 1",
            (oid,),
        ),
        "security": one(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = ?", (oid,)
        ),
        "policies": one(
            "SELECT policyname, permissive, roles::text, cmd, qual, with_check "
            "FROM pg_policies WHERE tablename = 't' ORDER BY 1"
        ),
        "comments": one(
            "SELECT objsubid, description FROM pg_description WHERE objoid = ? ORDER BY 1",
            (oid,),
        ),
        "grants": one(
            "SELECT pg_get_userbyid(grantor), coalesce(pg_get_userbyid(NULLIF(grantee, 0)), "
            "'PUBLIC'), privilege_type, is_grantable FROM pg_class, aclexplode(relacl) "
            "WHERE oid = ? ORDER BY 2, 3",
            (oid,),
        ),
        "column grants": one(
            "SELECT attname, pg_get_userbyid(grantor), coalesce(pg_get_userbyid("
            "NULLIF(grantee, 0)), 'PUBLIC'), privilege_type, is_grantable "
            "FROM pg_attribute, aclexplode(attacl) WHERE attrelid = ? ORDER BY 1, 3, 4",
            (oid,),
        ),
        "owner": one("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = ?", (oid,)),
    }


def test_full_refresh_keeps_what_the_replaced_table_had(
    pg_sides: tuple[Side, Side], roles: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    source, destination = pg_sides
    reader, owner = roles
    for statement in [
        "ALTER TABLE t SET (fillfactor = 70, autovacuum_enabled = false, "
        "toast.autovacuum_enabled = false)",
        "ALTER TABLE t SET UNLOGGED",
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL",
        "ALTER TABLE t ALTER COLUMN b SET DEFAULT 42",
        "CREATE INDEX t_lower_a ON t (lower(a)) WHERE b > 0",
        "CREATE UNIQUE INDEX t_b_unique ON t (b DESC)",
        "ALTER TABLE t ADD CONSTRAINT a_unique UNIQUE (a)",
        "ALTER TABLE t ADD CONSTRAINT b_not_negative CHECK (b >= 0)",
        "ALTER TABLE t ADD CONSTRAINT parent_fk FOREIGN KEY (parent) REFERENCES t (id)",
        "CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.a := upper(NEW.a); RETURN NEW; END $$",
        "CREATE TRIGGER t_shout BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION shout()",
        "CREATE TRIGGER t_off BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION shout()",
        "ALTER TABLE t DISABLE TRIGGER t_off",
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
        f'CREATE POLICY small ON t FOR SELECT TO "{reader}" USING (b < 3)',
        "CREATE POLICY writers ON t AS RESTRICTIVE FOR INSERT TO PUBLIC WITH CHECK (b > 0)",
        "COMMENT ON TABLE t IS 'the ''t'' table'",
        "COMMENT ON COLUMN t.a IS 'a name'",
        f'GRANT SELECT, UPDATE ON t TO "{reader}" WITH GRANT OPTION',
        "GRANT SELECT ON t TO PUBLIC",
        f'GRANT UPDATE (a, b) ON t TO "{reader}"',
        "GRANT INSERT (a) ON t TO PUBLIC",
        f'ALTER TABLE t OWNER TO "{owner}"',
    ]:
        destination.execute(statement)
    before = _catalog(destination)
    assert all(before.values())  # each kind of thing is there to keep
    old_oid = destination.execute("SELECT 'public.t'::regclass::oid")

    source.execute("UPDATE t SET a = 'deux' WHERE id = 2")
    source.insert("t", [(4, "four", 4, 3)])
    replication = replication_for(source, destination, [TABLE])
    (planned,) = plan(replication)
    shown = "\n".join(planned.ddl)
    assert "CREATE UNLOGGED TABLE" in shown
    assert "toast.\"autovacuum_enabled\" = 'false'" in shown
    assert "CREATE INDEX t_lower_a ON public.t USING btree (lower(a)) WHERE (b > 0)" in shown
    assert f'OWNER TO "{owner}"' in shown

    with caplog.at_level(logging.INFO, logger="typedrepl"):
        (result,) = replicate(replication)

    assert result.rows_in_destination == 4
    (said,) = [r.getMessage() for r in caplog.records if "gets back" in r.getMessage()]
    assert said.startswith("public.t: the new table gets back the replaced one's NOT NULL of")
    assert "index 't_lower_a'" in said
    assert f"owner {owner}" in said
    assert destination.execute("SELECT 'public.t'::regclass::oid") != old_oid  # replaced
    # loaded before the trigger was back: 'deux' and 'four' as the source has them
    assert destination.execute("SELECT id, a, b, parent FROM t ORDER BY id") == [
        (1, "one", 1, None),
        (2, "deux", 2, 1),
        (3, "three", 3, 1),
        (4, "four", 4, 3),
    ]
    after = _catalog(destination)
    assert after == before
    # the kept objects work: the trigger fires, the check and the foreign key hold
    destination.execute("INSERT INTO t VALUES (5, 'five', 5, 1)")
    assert destination.execute("SELECT a FROM t WHERE id = 5") == [("FIVE",)]
    with pytest.raises(psycopg.errors.CheckViolation):
        destination.execute("INSERT INTO t VALUES (6, 'six', -1, NULL)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        destination.execute("INSERT INTO t VALUES (7, 'seven', 7, 99)")
    with pytest.raises(psycopg.errors.NotNullViolation):
        destination.execute("INSERT INTO t VALUES (8, NULL, 8, NULL)")
    destination.execute("INSERT INTO t (id, a) VALUES (9, 'nine')")
    assert destination.execute("SELECT b FROM t WHERE id = 9") == [(42,)]


@pytest.mark.parametrize(
    ("setup", "change", "named"),
    [
        (
            "ALTER TABLE t ADD CONSTRAINT b_not_negative CHECK (b >= 0)",
            "UPDATE t SET b = -5 WHERE id = 3",
            "constraint 'b_not_negative' of the table it replaces: check constraint "
            '"b_not_negative" of relation "t" is violated by some row',
        ),
        (
            "CREATE INDEX t_b ON t (b)",
            "ALTER TABLE t DROP COLUMN b",
            "index 't_b' of the table it replaces: column \"b\" does not exist",
        ),
        (
            "ALTER TABLE t ADD CONSTRAINT a_unique UNIQUE (a)",
            "UPDATE t SET a = 'one' WHERE id = 2",
            "constraint 'a_unique' of the table it replaces: could not create unique index "
            '"a_unique" (Key (a)=(one) is duplicated.)',
        ),
        (
            "ALTER TABLE t ALTER COLUMN a SET NOT NULL",
            "UPDATE t SET a = NULL WHERE id = 2",
            "NOT NULL of column 'a' of the table it replaces: column \"a\" of relation "
            '"t" contains null values',
        ),
    ],
    ids=["check-violated", "index-on-a-gone-column", "unique-violated", "not-null-violated"],
)
def test_what_cannot_be_kept_fails_the_load_and_changes_nothing(
    pg_sides: tuple[Side, Side], setup: str, change: str, named: str
) -> None:
    source, destination = pg_sides
    destination.execute(setup)
    before = _catalog(destination)
    rows = destination.execute("SELECT * FROM t ORDER BY id")
    source.execute(change)

    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [TABLE]))

    (failure,) = caught.value.failures
    assert failure.table == "t"
    assert f"full_refresh cannot give the new table the {named}" in failure.error
    assert "(the destination was not changed)" in failure.error
    assert destination.execute("SELECT * FROM t ORDER BY id") == rows
    assert _catalog(destination) == before
    assert destination.execute(
        "SELECT count(*) FROM pg_class WHERE relname LIKE '\\_typedrepl\\_%'"
    ) == [(0,)]


def test_a_table_without_extras_gets_none(pg_sides: tuple[Side, Side]) -> None:
    source, destination = pg_sides
    before = _catalog(destination)
    (planned,) = plan(replication_for(source, destination, [TABLE]))
    assert not any(
        word in statement
        for statement in planned.ddl
        for word in (
            "UNLOGGED",
            "WITH (",
            "INDEX",
            "GRANT",
            "OWNER",
            "COMMENT",
            "POLICY",
            "NOT NULL",
        )
    )
    replicate(replication_for(source, destination, [TABLE]))
    assert _catalog(destination) == before


def _duckdb_catalog(destination: Side) -> list[tuple[object, ...]]:
    return [
        *destination.execute(
            "SELECT index_name, sql FROM duckdb_indexes() WHERE table_name = 't' ORDER BY 1"
        ),
        *destination.execute("SELECT 'table', comment FROM duckdb_tables() WHERE table_name = 't'"),
        *destination.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 't' "
            "ORDER BY column_index"
        ),
    ]


def test_duckdb_full_refresh_keeps_indexes_and_comments(
    make_side: Callable[[str], Side],
) -> None:
    source, destination = make_side("postgres"), make_side("duckdb")
    source.execute("CREATE TABLE t (id integer PRIMARY KEY, a text, b integer)")
    source.insert("t", [(1, "one", 1), (2, "two", 2)])
    replicate(replication_for(source, destination, [TABLE]))
    for statement in [
        'CREATE INDEX "lower a" ON t (lower(a))',
        "CREATE UNIQUE INDEX t_b ON t (b)",
        "COMMENT ON TABLE t IS 'the ''t'' table'",
        "COMMENT ON COLUMN t.a IS 'a name'",
    ]:
        destination.execute(statement)
    before = _duckdb_catalog(destination)
    assert len(before) == 6

    source.insert("t", [(3, "three", 3)])
    (result,) = replicate(replication_for(source, destination, [TABLE]))

    assert result.rows_in_destination == 3
    assert _duckdb_catalog(destination) == before
    with pytest.raises(Exception, match="b: 3"):  # the unique index is back, enforced
        destination.execute("INSERT INTO t VALUES (4, 'four', 3)")

    source.execute("ALTER TABLE t DROP COLUMN b")
    with pytest.raises(ReplicationError) as caught:
        replicate(replication_for(source, destination, [TABLE]))
    (failure,) = caught.value.failures
    assert "full_refresh cannot give the new table the index 't_b'" in failure.error
    assert "(the destination was not changed)" in failure.error
    assert destination.execute("SELECT id, a, b FROM t ORDER BY id") == [
        (1, "one", 1),
        (2, "two", 2),
        (3, "three", 3),
    ]
    assert _duckdb_catalog(destination) == before


def test_an_owner_that_cannot_own_the_new_table_is_a_warning(
    pg_sides: tuple[Side, Side], roles: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Loading as a non-superuser member of the owning role: when that role may not
    CREATE in the schema, the new table stays the loading user's (as before typedrepl
    kept owners) and a warning says so; once it may, the owner is kept."""
    source, destination = pg_sides
    loader, owner = roles  # "loader" logs in; it may create in public and is in "owner"
    password = uuid.uuid4().hex
    for statement in [
        f"ALTER ROLE \"{loader}\" LOGIN PASSWORD '{password}'",
        f'GRANT CREATE ON SCHEMA public TO "{loader}"',
        f'GRANT "{owner}" TO "{loader}"',
        f'ALTER TABLE t OWNER TO "{owner}"',
    ]:
        destination.execute(statement)
    parts = urlsplit(destination.target)
    as_loader = Side(
        "postgres",
        urlunsplit(parts._replace(netloc=f"{loader}:{password}@{parts.hostname}:{parts.port}")),
    )
    owner_of_t = "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.t'::regclass"

    with caplog.at_level(logging.WARNING, logger="typedrepl"):
        replicate(replication_for(source, as_loader, [TABLE]))
    assert destination.execute(owner_of_t) == [(loader,)]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning == (
        f"public.t: the new table is owned by the loading user, not by {owner}: that role "
        "cannot own it (this user is not a member of it, or it may not CREATE in the schema)"
    )
    assert password not in caplog.text

    destination.execute(f'GRANT CREATE ON SCHEMA public TO "{owner}"')
    destination.execute(f'ALTER TABLE t OWNER TO "{owner}"')
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="typedrepl"):
        replicate(replication_for(source, as_loader, [TABLE]))
    assert destination.execute(owner_of_t) == [(owner,)]
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
