"""Opening central's SQLite store with every migration applied: the backbone's, the
circulation domain's, then the access statistics' (they need the branches' time zones)."""

import sqlite_utils

from central.access_counts import ACCESS_MIGRATIONS
from central.circulation.migrations import CIRCULATION_MIGRATIONS
from central.migrations import MIGRATIONS
from edge_common.migrations import apply, open_db


def open_store(path: str) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate central's database."""
    db = open_db(path, synchronous="FULL")
    apply(db, [*MIGRATIONS, *CIRCULATION_MIGRATIONS, *ACCESS_MIGRATIONS])
    return db
