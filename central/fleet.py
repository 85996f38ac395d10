"""The devices central talks to, and the per-site card keys they hash with."""

import secrets
from datetime import UTC, datetime

import sqlite_utils


def enrol(db: sqlite_utils.Database, dev: str, site: str, kind: str) -> None:
    """Register a device (or re-enrol a revoked one) at a site."""
    with db.atomic():
        db.execute(
            "INSERT INTO devices VALUES (?, ?, ?, ?, NULL) ON CONFLICT (id) DO UPDATE SET"
            " site = excluded.site, kind = excluded.kind, revoked_at = NULL",
            [dev, site, kind, datetime.now(UTC).isoformat()],
        )


def revoke(db: sqlite_utils.Database, dev: str) -> bool:
    """Stop accepting a device's messages; False when it is unknown."""
    with db.atomic():
        cur = db.execute(
            "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [datetime.now(UTC).isoformat(), dev],
        )
    return cur.rowcount == 1


def site_key(db: sqlite_utils.Database, site: str) -> str | None:
    """The site's card key (hex), or None when the site has none yet."""
    row = db.execute("SELECT key_hex FROM site_keys WHERE site = ?", [site]).fetchone()
    return row[0] if row else None


def add_site_key(db: sqlite_utils.Database, site: str) -> str:
    """Give a site a new random card key (in the caller's transaction); return it (hex)."""
    key = secrets.token_hex(32)
    db.execute("INSERT INTO site_keys VALUES (?, ?)", [site, key])
    return key
