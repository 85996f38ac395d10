"""The door allow-list: patrons and cards published per site as card hashes."""

from central import datasets
from edge_common.cardid import card_hash

DATASET = "allowlist"


def entry(patron: dict) -> dict:
    """What a door needs to know about a card's holder: no names, no addresses."""
    return {
        "cat": patron["category"],
        "blk": bool(patron["blocked"]),
        "exp": patron["valid_until"],
        "staff": bool(patron["is_staff"]),
    }


def _site_keys(db) -> list[tuple[str, bytes]]:
    return [(s, bytes.fromhex(k)) for s, k in db.execute("SELECT site, key_hex FROM site_keys")]


def _publish(db, entries: dict[str, dict | None]) -> None:
    for site, key in _site_keys(db):
        datasets.record(db, site, DATASET, {card_hash(key, uid): e for uid, e in entries.items()})


def _patron(db, patron_id: int) -> dict | None:
    cur = db.execute(
        "SELECT category, blocked, valid_until, is_staff FROM patrons WHERE id = ?", [patron_id]
    )
    row = cur.fetchone()
    return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None


def refresh_patron(db, patron_id: int) -> None:
    """Publish the patron's cards to the door allow-lists (call inside the change's transaction)."""
    patron = _patron(db, patron_id)
    cards = db.execute("SELECT uid, active FROM cards WHERE patron_id = ?", [patron_id]).fetchall()
    _publish(db, {uid: entry(patron) if patron and active else None for uid, active in cards})


def withdraw_card(db, uid: str) -> None:
    """Remove a card from every door's list (call before deleting its row)."""
    _publish(db, {uid: None})


def publish_site(db, site: str) -> int:
    """Publish every active card to one site, e.g. when it gets its key; return the count."""
    key = bytes.fromhex(db.execute("SELECT key_hex FROM site_keys WHERE site = ?",
                                   [site]).fetchone()[0])
    cur = db.execute(
        "SELECT c.uid, p.category, p.blocked, p.valid_until, p.is_staff FROM cards c"
        " JOIN patrons p ON p.id = c.patron_id WHERE c.active"
    )
    names = [c[0] for c in cur.description][1:]
    changes = {card_hash(key, row[0]): entry(dict(zip(names, row[1:], strict=True)))
               for row in cur}
    datasets.record(db, site, DATASET, changes)
    return len(changes)

