"""Central's schema: one description (central.schema) that a PostgreSQL store is made from and
that SQLite's named migrations reach too; the seam's words for both stores' errors."""

import pytest
import sqlalchemy
import sqlite_utils
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from central.access_counts import ACCESS_MIGRATIONS
from central.circulation.errors import Refused
from central.circulation.migrations import CIRCULATION_MIGRATIONS
from central.database import Conflict, connect, pyformat
from central.migrations import MIGRATIONS
from central.schema import META
from central.store import NotAStore, open_store
from edge_common.migrations import apply
from tests.circ import library
from tests.stores import url_of


def differences(url: str) -> list:
    """What the store at `url` has that the description does not, and the reverse; SQLite's
    one quirk left out: a primary key of text there may be NULL unless declared otherwise."""
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            found = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True, "compare_server_default": True}), META)
            seen = sqlalchemy.inspect(conn)
            found += [("primary_key", name, keys) for name, table in META.tables.items()
                      if (keys := seen.get_pk_constraint(name)["constrained_columns"])
                      != [c.name for c in table.primary_key.columns]]
    finally:
        engine.dispose()
    return [d for d in found if not (
        isinstance(d, list) and d[0][0] == "modify_nullable" and d[0][5] is True
        and d[0][3] in META.tables[d[0][2]].primary_key.columns)]


def test_the_migrations_make_the_schema_described(tmp_path):
    open_store(str(tmp_path / "c.db"), init=True).close()
    assert differences(f"sqlite:///{tmp_path / 'c.db'}") == []


def test_a_postgresql_store_is_made_from_the_description(postgres):
    with postgres.database() as url:
        assert differences(url) == []
        db = open_store(url)
        try:
            assert {n for (n,) in db.execute("SELECT name FROM _migrations")} == {
                n for n, _ in [*MIGRATIONS, *CIRCULATION_MIGRATIONS, *ACCESS_MIGRATIONS]}
        finally:
            db.close()


def test_rows_read_in_insertion_order_get_their_rowid_as_id(tmp_path):
    """An older store's door alarms, terms and access log keep their order as `id`."""
    path = str(tmp_path / "old.db")
    old = connect(path)
    legacy = sqlite_utils.Database(old.conn)
    before = [m for m in [*MIGRATIONS, *CIRCULATION_MIGRATIONS, *ACCESS_MIGRATIONS]
              if m[0] not in ("0072_alarm_ids", "0211_form_terms_ids", "0202_access_log_ids",
                              "0073_command_result_ids", "0074_command_ids")]
    apply(legacy, before)
    for n in range(5):
        old.execute("INSERT INTO door_alarms VALUES ('l1', 's', 'd', ?, 1, ?, NULL, NULL)",
                    [f"a{n}", f"2026-01-0{n + 1}"])
        old.execute("INSERT INTO form_terms VALUES (?, 'en', 't', '2026', NULL)", [f"v{n}"])
        old.execute("INSERT INTO commands VALUES (?, 'l1', 'open', x'7b7d', '2027', '2026',"
                    " NULL)", [f"n{4 - n}"])
    old.execute("DELETE FROM door_alarms WHERE alarm = 'a1'")
    rowids = old.execute("SELECT rowid, alarm FROM door_alarms ORDER BY rowid").fetchall()
    old.close()
    db = open_store(path)
    assert db.execute("SELECT id, alarm FROM door_alarms ORDER BY id").fetchall() == rowids
    assert [v for (v,) in db.execute("SELECT version FROM form_terms ORDER BY id")] == [
        f"v{n}" for n in range(5)]
    with pytest.raises(Conflict) as taken:
        db.execute("INSERT INTO form_terms (version, lang, text, added_at) VALUES"
                   " ('v1', 'en', 'x', '2026')")
    assert taken.value.columns == ["version", "lang"]
    assert [n for (n,) in db.execute("SELECT nonce FROM commands ORDER BY id")] == [
        f"n{4 - n}" for n in range(5)]
    with pytest.raises(Conflict) as taken:
        db.execute("INSERT INTO commands (nonce, dev, name, args, expires, issued_at) VALUES"
                   " ('n1', 'l1', 'open', x'7b7d', '2027', '2026')")
    assert taken.value.columns == ["nonce"]
    db.close()


def test_a_database_of_something_else_is_not_made_a_store(postgres):
    with postgres.database() as url:
        db = connect(url)
        db.execute("DROP TABLE _migrations")
        db.close()
        with pytest.raises(NotAStore) as refused:
            open_store(url, init=True)
        assert refused.value.code == "db_not_libedge"
        db = connect(url)
        db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        db.execute("INSERT INTO _migrations VALUES ('0001_messaging', 'x')")
        db.close()
        with pytest.raises(NotAStore) as refused:
            open_store(url)
        assert refused.value.code == "db_outdated"
        assert ":libedge_test@" not in str(refused.value)    # the password is never shown
        assert ":…@" in str(refused.value)


def test_an_empty_database_is_made_a_store_only_by_init(postgres):
    with postgres.database() as url:
        name = url.rsplit("/", 1)[1]
        db = connect(url)
        db.close()
    empty = f"{name}_empty"
    from tests.stores import _admin
    _admin(f"CREATE DATABASE {empty}")
    try:
        with pytest.raises(NotAStore):
            open_store(url_of(empty))
        open_store(url_of(empty), init=True).close()
        open_store(url_of(empty)).close()
    finally:
        _admin(f"DROP DATABASE IF EXISTS {empty} WITH (FORCE)")


def test_a_taken_value_is_named_the_same_on_both_stores(central_db):
    s = library(central_db)
    s.insert("branches", {"id": "north", "name": "North", "tz": "Europe/Ljubljana"})
    with pytest.raises(Refused) as refused:
        s.insert("branches", {"id": "north", "name": "Again", "tz": "UTC"})
    assert refused.value.code == "already_exists"
    assert str(refused.value) == "branches: id 'north' is taken"
    with pytest.raises(Refused) as refused:
        s.insert("debts", {"patron_id": 1, "branch_id": "center", "kind": "fine", "amount": 0,
                           "created_at": "2026"})
    assert refused.value.code == "bad_value"
    s.db.close()


def test_writes_of_one_block_are_undone_together_on_both_stores(central_db):
    s = library(central_db)
    with pytest.raises(Refused), s.atomic():
        s.insert("rooms", {"id": "r1", "branch_id": "center", "name": "Reading room"})
        with s.atomic():
            s.insert("rooms", {"id": "r2", "branch_id": "center", "name": "Hall"})
        s.insert("rooms", {"id": "r1", "branch_id": "center", "name": "Again"})
    assert s.rows("SELECT id FROM rooms") == []
    with s.atomic():
        s.insert("rooms", {"id": "r1", "branch_id": "center", "name": "Reading room"})
        with pytest.raises(Refused), s.atomic():      # a savepoint: only its own writes go
            s.insert("rooms", {"id": "r2", "branch_id": "center", "name": "Hall"})
            s.insert("rooms", {"id": "r1", "branch_id": "center", "name": "Again"})
    assert s.rows("SELECT id FROM rooms") == [{"id": "r1"}]
    assert not s.db.in_transaction
    s.db.close()


def test_parameters_become_psycopg_s_and_quoted_text_stays():
    assert pyformat("SELECT '?', \"a?\" FROM t WHERE a = ? AND b LIKE '%x' || ?") == (
        "SELECT '?', \"a?\" FROM t WHERE a = %s AND b LIKE '%%x' || %s", False)
    assert pyformat("SELECT 5 % 2 WHERE a = ?1 OR b = ?1 OR c = ?2") == (
        "SELECT 5 %% 2 WHERE a = %(p1)s OR b = %(p1)s OR c = %(p2)s", True)
