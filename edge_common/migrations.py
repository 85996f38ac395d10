"""Named, append-only schema migrations recorded in the database they change."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlite_utils

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]


def apply(db: sqlite_utils.Database, migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations not yet recorded in `_migrations`, in order; return their names."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    names = [name for name, _ in migrations]
    if len(set(names)) != len(names):
        raise ValueError("duplicate migration name")
    applied = []
    for name, step in migrations:
        if name in done:
            continue
        with db.atomic():
            step(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [name, datetime.now(UTC).isoformat()],
            )
        applied.append(name)
    return applied


def open_db(path: str, *, synchronous: str = "FULL") -> sqlite_utils.Database:
    """Open a SQLite file in WAL mode with the given durability, usable from several threads."""
    import sqlite3

    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    return sqlite_utils.Database(conn)
