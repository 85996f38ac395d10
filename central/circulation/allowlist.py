"""The door and kiosk allow-list: every active card, published per site as a card hash with
what devices may know of its holder (protocol.datasets.AllowEntry: no names, no addresses)."""

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlite_utils

from central import datasets
from central.circulation import accounts
from edge_common.cardid import card_hash
from edge_common.protocol.datasets import ALLOWLIST, AllowEntry


def _patron_sql() -> str:
    return ("SELECT p.id, p.category, p.blocked, p.valid_until, p.is_staff, p.birth_date,"
            f" p.agreement, p.status, {accounts.owed_sql('p.id')} AS debt FROM patrons p")


def entry(patron: dict | None) -> AllowEntry | None:
    """What a device needs to know about a card's holder (None: the card must not work)."""
    if patron is None or patron["status"] != "active":
        return None
    return AllowEntry(category=patron["category"], blocked=bool(patron["blocked"]),
                      valid_until=_day(patron["valid_until"]), staff=bool(patron["is_staff"]),
                      birth_date=_day(patron["birth_date"]),
                      agreement=bool(patron["agreement"]), debt=patron["debt"])


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _site_keys(db: sqlite_utils.Database) -> list[tuple[str, bytes]]:
    return [(s, bytes.fromhex(k)) for s, k in db.execute("SELECT site, key_hex FROM site_keys")]


def _publish(db: sqlite_utils.Database, site: str, key: bytes,
             entries: dict[str, AllowEntry | None]) -> None:
    hashed = {uid: card_hash(key, uid) for uid in entries}
    db.conn.executemany("INSERT OR IGNORE INTO card_hashes VALUES (?, ?, ?)",
                        [(site, h, uid) for uid, h in hashed.items()])
    datasets.record(db, site, ALLOWLIST, {hashed[uid]: e for uid, e in entries.items()})


def _patrons(db: sqlite_utils.Database, where: str,
             params: Sequence[Any]) -> dict[int, dict[str, Any]]:
    cur = db.conn.execute(f"{_patron_sql()} WHERE {where}", params)
    names = [c[0] for c in cur.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cur}


def refresh_patron(db: sqlite_utils.Database, patron_id: int) -> None:
    """Publish the patron's cards to every site's list (call inside the change's transaction)."""
    patron = _patrons(db, "p.id = ?", [patron_id]).get(patron_id)
    cards = db.execute("SELECT uid, active FROM cards WHERE patron_id = ?", [patron_id]).fetchall()
    changes = {uid: entry(patron) if active else None for uid, active in cards}
    for site, key in _site_keys(db):
        _publish(db, site, key, changes)


def withdraw_card(db: sqlite_utils.Database, uid: str) -> None:
    """Remove a card from every site's list and from central's hash index (before deleting it)."""
    for site, key in _site_keys(db):
        datasets.record(db, site, ALLOWLIST, {card_hash(key, uid): None})
    db.conn.execute("DELETE FROM card_hashes WHERE uid = ?", [uid])


def publish_site(db: sqlite_utils.Database, site: str) -> int:
    """Publish every active card to one site, e.g. when it gets its key; return the count."""
    key = bytes.fromhex(db.execute("SELECT key_hex FROM site_keys WHERE site = ?",
                                   [site]).fetchone()[0])
    patrons = _patrons(db, "1", [])
    cards = db.execute("SELECT uid, patron_id FROM cards WHERE active").fetchall()
    changes = {uid: entry(patrons.get(pid)) for uid, pid in cards}
    _publish(db, site, key, {uid: e for uid, e in changes.items() if e is not None})
    return sum(e is not None for e in changes.values())


def card_of(db: sqlite_utils.Database, site: str, hashed: str) -> str | None:
    """The card UID behind a hash a device at `site` sent, or None."""
    row = db.conn.execute("SELECT uid FROM card_hashes WHERE site = ? AND hash = ?",
                          [site, hashed]).fetchone()
    return row[0] if row else None
