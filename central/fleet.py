"""The devices central talks to, their command keys, and the per-site card keys they hash with."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from central.database import Database
from edge_common import ids


def enrol(db: Database, dev: str, site: str, kind: str) -> str:
    """Register a device at a site; return its command key (hex) for its config.

    A new or revoked device gets a fresh key (a revoked one's old key is worthless); enrolling
    an active device again keeps its key, so its config stays valid. Ids off the pattern, a
    service account's name or an unknown kind are refused (IdRefused).
    """
    dev, site, kind = ids.placement(dev, site, kind)
    with db.transaction():
        row = db.execute("SELECT command_key, revoked_at FROM devices WHERE id = ?",
                         [dev]).fetchone()
        key = row[0] if row and row[0] and row[1] is None else secrets.token_hex(32)
        db.execute(
            "INSERT INTO devices (id, site, kind, enrolled_at, revoked_at, command_key)"
            " VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT (id) DO UPDATE SET site = excluded.site,"
            " kind = excluded.kind, revoked_at = NULL, command_key = excluded.command_key",
            [dev, site, kind, datetime.now(UTC).isoformat(), key],
        )
    return key


def command_key(db: Database, dev: str) -> bytes | None:
    """The key central signs an active device's commands with (None: unknown or revoked)."""
    row = db.execute("SELECT command_key FROM devices WHERE id = ? AND revoked_at IS NULL",
                     [dev]).fetchone()
    return bytes.fromhex(row[0]) if row and row[0] else None


def revoke(db: Database, dev: str) -> bool:
    """Stop accepting a device's messages; False when it is unknown."""
    with db.transaction():
        cur = db.execute(
            "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            [datetime.now(UTC).isoformat(), dev],
        )
    return cur.rowcount == 1


def site_key(db: Database, site: str) -> str | None:
    """The site's card key (hex), or None when the site has none yet."""
    row = db.execute("SELECT key_hex FROM site_keys WHERE site = ?", [site]).fetchone()
    return row[0] if row else None


def card_keys(db: Database, site: str | None = None) -> list[tuple[str, bytes]]:
    """Every site's card key (or one site's), and a previous key while its overlap lasts."""
    return [(s, bytes.fromhex(k)) for s, k in db.execute(
        "SELECT site, key_hex FROM site_keys WHERE ?1 IS NULL OR site = ?1 UNION ALL"
        " SELECT site, key_hex FROM site_keys_previous WHERE ?1 IS NULL OR site = ?1", [site])]


def keyed_sites(db: Database) -> list[str]:
    """The sites that have a card key (every site that has had a device), in order."""
    return [site for (site,) in db.execute("SELECT site FROM site_keys ORDER BY site")]


@dataclass(frozen=True)
class Enrolled:
    """An enrolled, unrevoked device: its site and kind, and whether it said it is online."""

    site: str
    kind: str
    online: bool


def enrolled(db: Database, dev: str) -> Enrolled | None:
    """The device, if it is enrolled and not revoked."""
    row = db.execute("SELECT d.site, d.kind, st.online FROM devices d LEFT JOIN device_status st"
                     " ON st.dev = d.id WHERE d.id = ? AND d.revoked_at IS NULL", [dev]).fetchone()
    return None if row is None else Enrolled(row[0], row[1], bool(row[2]))


def add_site_key(db: Database, site: str) -> str:
    """Give a site a new random card key (in the caller's transaction); return it (hex).
    A site id off the pattern is refused (IdRefused)."""
    ids.site(site)
    key = secrets.token_hex(32)
    db.execute("INSERT INTO site_keys VALUES (?, ?)", [site, key])
    return key
