"""Opening central's SQLite store with every migration applied: the backbone's, the
circulation domain's, then the access statistics' (they need the branches' time zones).

Only central's own store is migrated: another SQLite file (a device's ledger, an empty file
given by mistake) is refused before anything is written to it.
"""

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from central import access_counts
from central.access_counts import ACCESS_MIGRATIONS
from central.circulation.migrations import CIRCULATION_MIGRATIONS
from central.database import Database, connect, is_url, shown
from central.migrations import MIGRATIONS
from edge_common.errors import EdgeError
from edge_common.migrations import apply

FIRST = MIGRATIONS[0][0]    # recorded in every store central ever made
ALL_MIGRATIONS = [*MIGRATIONS, *CIRCULATION_MIGRATIONS, *ACCESS_MIGRATIONS]


class NotAStore(EdgeError, ValueError):
    """A file given as central's store that is not one."""

    code = "db_not_libedge"


def open_store(target: str, *, init: bool = False) -> Database:
    """Open and migrate central's database, a SQLite file or a PostgreSQL URL; where there is
    no file yet, make a new one.

    An existing file or database must be central's store: an empty one is made a store only
    by `init`, and a database of something else (a device's ledger) never is (NotAStore). A
    file that is no SQLite database at all raises sqlite3.DatabaseError.
    """
    if is_url(target):
        return _open_postgres(target, init)
    if os.path.exists(target) and not is_store(target, init):
        raise NotAStore(f"{target} is not central's store (`libedge admin init` makes one in a"
                        " new or empty file)")
    db = connect(target)
    apply(sqlite_utils.Database(db.conn), ALL_MIGRATIONS)
    access_counts.prepare(db)
    return db


def _open_postgres(url: str, init: bool) -> Database:
    """A PostgreSQL store: made from the schema's description in an empty database (`init`),
    refused when the database holds something else or lacks a step of this version."""
    from central import postgres

    db = connect(url)
    try:
        tables = postgres.tables(db.conn)
        if not tables and init:
            postgres.create(url, [name for name, _ in ALL_MIGRATIONS])
        elif "_migrations" not in tables or FIRST not in (done := postgres.applied(db.conn)):
            raise NotAStore(f"{shown(url)} is not central's store (`libedge admin"
                            " init` makes one in an empty database)")
        elif missing := [name for name, _ in ALL_MIGRATIONS if name not in done]:
            raise NotAStore(f"{shown(url)} lacks {', '.join(missing)}, which this"
                            " version cannot add on PostgreSQL", code="db_outdated")
        access_counts.prepare(db)
    except BaseException:
        db.close()
        raise
    return db


def is_store(path: str, init: bool) -> bool:
    """Whether the file at `path` is central's store (or blank, and `init` may fill it),
    looked at read-only."""
    if os.path.getsize(path) == 0:
        return init
    conn = sqlite3.connect(f"{Path(path).absolute().as_uri()}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return init
        return "_migrations" in tables and conn.execute(
            "SELECT 1 FROM _migrations WHERE name = ?", [FIRST]).fetchone() is not None
    finally:
        conn.close()
