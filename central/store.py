"""Opening central's SQLite store with every migration applied: the backbone's, then the
circulation domain's."""

import sqlite_utils

from central.circulation.migrations import CIRCULATION_MIGRATIONS
from central.migrations import MIGRATIONS
from edge_common.migrations import apply, open_db


def open_store(path: str) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate central's database."""
    db = open_db(path, synchronous="FULL")
    apply(db, [*MIGRATIONS, *CIRCULATION_MIGRATIONS])
    return db
