"""Site card-key rotation with an overlap: the new key is hashed into the site's lists beside
the old one and sent (signed) to every device of the site; when the overlap ends the old
hashes leave the lists, so a copy of the old key (a stolen or revoked device's) opens nothing."""

import secrets
from datetime import UTC, datetime, timedelta

from central import commands
from central.circulation import allowlist
from central.circulation.store import Store
from central.database import Database
from edge_common import ids
from edge_common.commands import MAX_TTL
from edge_common.errors import EdgeError

DEFAULT_OVERLAP = timedelta(hours=24)
TTL = MAX_TTL.total_seconds()


class RotationRefused(EdgeError, ValueError):
    """`site_unknown` (no key yet) or `rotation_pending` (the last overlap has not ended)."""

    code = "site_unknown"


def rotate(db: Database, site: str, overlap: timedelta = DEFAULT_OVERLAP,
           now: datetime | None = None) -> tuple[str, list[str]]:
    """Give `site` a new card key, keep the old one until `now + overlap`, re-hash every card
    under both, and queue the new key for each active device there. Returns the new key (hex)
    and the devices it was queued for."""
    ids.site(site)
    now = now or datetime.now(UTC)
    with Store(db).atomic():
        old = db.execute("SELECT key_hex FROM site_keys WHERE site = ?", [site]).fetchone()
        if old is None:
            raise RotationRefused(f"site {site} has no card key yet")
        if db.execute("SELECT 1 FROM site_keys_previous WHERE site = ?", [site]).fetchone():
            raise RotationRefused(f"site {site} is still in an overlap",
                                  code="rotation_pending")
        key = secrets.token_hex(32)
        db.execute("INSERT INTO site_keys_previous VALUES (?, ?, ?)",
                   [site, old[0], (now + overlap).isoformat()])
        db.execute("UPDATE site_keys SET key_hex = ? WHERE site = ?", [key, site])
        allowlist.publish_site(db, site)
        devices = [d for (d,) in db.execute(
            "SELECT id FROM devices WHERE site = ? AND revoked_at IS NULL"
            " AND command_key IS NOT NULL ORDER BY id", [site])]
        for dev in devices:
            commands.issue(db, dev, "card_key", {"key": key}, ttl=TTL)
    return key, devices


def finish(db: Database, now: datetime | None = None) -> list[str]:
    """End every overlap that is over: the old key's hashes leave the lists. Returns the sites."""
    now = now or datetime.now(UTC)
    with Store(db).atomic():
        due = db.execute("SELECT site, key_hex FROM site_keys_previous WHERE until <= ?",
                         [now.isoformat()]).fetchall()
        for site, key in due:
            db.execute("DELETE FROM site_keys_previous WHERE site = ?", [site])
            allowlist.drop_key(db, site, bytes.fromhex(key))
    return [site for site, _ in due]
