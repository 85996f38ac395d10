"""SQLite files the libedge way: WAL, chosen durability, named append-only migrations.

Devices use plain sqlite3 connections (lean); central opens them through its store seam
(central.database), and its SQLite-only legacy migrations get sqlite-utils over the same
connection.
"""

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

Migration = tuple[str, Callable[[Any], None]]


def connect(path: str, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """A WAL-mode connection usable from several threads (callers serialise their writes);
    deleted content is overwritten with zeros (secure_delete), so no freed page keeps it."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def open_db(path: str, *, synchronous: str = "FULL") -> "sqlite_utils.Database":
    """A sqlite-utils Database over `connect(path)`, for central and staff tools."""
    import sqlite_utils

    return sqlite_utils.Database(connect(path, synchronous=synchronous))


def with_row_ids(db: Any, table: str, primary_key: str = "") -> None:
    """Rebuild `table` with an `id INTEGER PRIMARY KEY` first, holding each row's rowid, so its
    order of insertion is a column every store has; its indexes are made again, and its former
    primary key (`primary_key`, as written in its CREATE TABLE: "PRIMARY KEY (a, b)" or
    "a TEXT PRIMARY KEY") becomes a unique key."""
    conn = getattr(db, "conn", db)
    (create,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                             [table]).fetchone()
    indexes = [sql for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        [table])]
    columns = ", ".join(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))
    head = f"CREATE TABLE {table} ("
    if not create.startswith(head):
        raise ValueError(f"unexpected definition of {table}: {create[:60]}")
    body = create[len(head):]
    if primary_key:
        if primary_key not in body:
            raise ValueError(f"{table} has no {primary_key}")
        unique = "UNIQUE" if primary_key.startswith("PRIMARY KEY") else "NOT NULL UNIQUE"
        body = body.replace(primary_key, primary_key.replace("PRIMARY KEY", unique))
    conn.execute(f"CREATE TABLE {table}_rebuilt (id INTEGER PRIMARY KEY, {body}")
    conn.execute(f"INSERT INTO {table}_rebuilt (id, {columns})"
                 f" SELECT rowid, {columns} FROM {table}")
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
    for sql in indexes:
        conn.execute(sql)


def apply(db: "sqlite3.Connection | sqlite_utils.Database",
          migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations not yet recorded in `_migrations`, in order; return their names.

    `db` is a sqlite3 connection or a sqlite-utils Database; each step gets it as given.
    """
    conn = getattr(db, "conn", db)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations").fetchall()}
    names = [name for name, _ in migrations]
    if len(set(names)) != len(names):
        raise ValueError("duplicate migration name")
    applied = []
    for name, step in migrations:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                         [name, datetime.now(UTC).isoformat()])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
