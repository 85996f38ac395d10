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
from central.migrations import MIGRATIONS
from edge_common.errors import EdgeError
from edge_common.migrations import apply, open_db

FIRST = MIGRATIONS[0][0]    # recorded in every store central ever made


class NotAStore(EdgeError, ValueError):
    """A file given as central's store that is not one."""

    code = "db_not_libedge"


def open_store(path: str, *, init: bool = False) -> sqlite_utils.Database:
    """Open and migrate central's database; where there is no file yet, make a new one.

    An existing file must be central's store: an empty one is made a store only by `init`,
    and a database of something else (a device's ledger) never is (NotAStore). A file that
    is no SQLite database at all raises sqlite3.DatabaseError.
    """
    if os.path.exists(path) and not is_store(path, init):
        raise NotAStore(f"{path} is not central's store (`libedge admin init` makes one in a"
                        " new or empty file)")
    db = open_db(path, synchronous="FULL")
    apply(db, [*MIGRATIONS, *CIRCULATION_MIGRATIONS, *ACCESS_MIGRATIONS])
    access_counts.prepare(db)
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
