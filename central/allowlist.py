"""The door allow-list: patrons and cards published per site as card hashes."""

from central import datasets
from edge_common.cardid import card_hash

DATASET = "allowlist"

PATRON_SQL = (
    "SELECT p.id, p.category, p.blocked, p.valid_until, p.is_staff, p.birth_date, p.agreement,"
    " p.status, (SELECT coalesce(sum(d.amount), 0) FROM debts d WHERE d.patron_id = p.id)"
    " - (SELECT coalesce(sum(a.amount), 0) FROM allocations a JOIN payments q"
    " ON q.id = a.payment_id WHERE q.patron_id = p.id AND q.deleted_at IS NULL) AS debt"
    " FROM patrons p"
)


def entry(patron: dict | None) -> dict | None:
    """What a door needs to know about a card's holder: no names, no addresses."""
    if patron is None or patron["status"] != "active":
        return None
    return {
        "cat": patron["category"],
        "blk": bool(patron["blocked"]),
        "exp": patron["valid_until"],
        "staff": bool(patron["is_staff"]),
        "dob": patron["birth_date"],
        "agr": bool(patron["agreement"]),
        "debt": patron["debt"],
    }


def _site_keys(db) -> list[tuple[str, bytes]]:
    return [(s, bytes.fromhex(k)) for s, k in db.execute("SELECT site, key_hex FROM site_keys")]


def _publish(db, site: str, key: bytes, entries: dict[str, dict | None]) -> None:
    hashed = {uid: card_hash(key, uid) for uid in entries}
    db.conn.executemany("INSERT OR IGNORE INTO card_hashes VALUES (?, ?, ?)",
                        [(site, h, uid) for uid, h in hashed.items()])
    datasets.record(db, site, DATASET, {hashed[uid]: e for uid, e in entries.items()})


def _patrons(db, where: str, params) -> dict[int, dict]:
    cur = db.conn.execute(f"{PATRON_SQL} WHERE {where}", params)
    names = [c[0] for c in cur.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cur}


def refresh_patron(db, patron_id: int) -> None:
    """Publish the patron's cards to the door allow-lists (call inside the change's transaction)."""
    patron = _patrons(db, "p.id = ?", [patron_id]).get(patron_id)
    cards = db.execute("SELECT uid, active FROM cards WHERE patron_id = ?", [patron_id]).fetchall()
    changes = {uid: entry(patron) if active else None for uid, active in cards}
    for site, key in _site_keys(db):
        _publish(db, site, key, changes)


def withdraw_card(db, uid: str) -> None:
    """Remove a card from every door's list and from central's hash index (before deleting it)."""
    for site, key in _site_keys(db):
        datasets.record(db, site, DATASET, {card_hash(key, uid): None})
    db.conn.execute("DELETE FROM card_hashes WHERE uid = ?", [uid])


def publish_site(db, site: str) -> int:
    """Publish every active card to one site, e.g. when it gets its key; return the count."""
    key = bytes.fromhex(db.execute("SELECT key_hex FROM site_keys WHERE site = ?",
                                   [site]).fetchone()[0])
    patrons = _patrons(db, "1", [])
    cards = db.execute("SELECT uid, patron_id FROM cards WHERE active").fetchall()
    changes = {uid: entry(patrons.get(pid)) for uid, pid in cards}
    _publish(db, site, key, {uid: e for uid, e in changes.items() if e is not None})
    return sum(e is not None for e in changes.values())


def card_of(db, site: str, hashed: str) -> str | None:
    """The card UID behind a hash a device at `site` sent, or None."""
    row = db.conn.execute("SELECT uid FROM card_hashes WHERE site = ? AND hash = ?",
                          [site, hashed]).fetchone()
    return row[0] if row else None
