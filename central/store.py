"""Opening central's SQLite store with every migration applied."""

import sqlite_utils

from central.migrations import MIGRATIONS
from edge_common.migrations import apply, open_db


def all_migrations() -> list:
    """Backbone migrations first, then the circulation domain's."""
    try:
        from central.circulation.migrations import CIRCULATION_MIGRATIONS
    except ImportError:
        return list(MIGRATIONS)
    return list(MIGRATIONS) + list(CIRCULATION_MIGRATIONS)


def open_store(path: str) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate central's database."""
    db = open_db(path, synchronous="FULL")
    apply(db, all_migrations())
    return db
