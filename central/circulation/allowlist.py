"""The door and kiosk allow-list: every active card, published per site as a card hash with
the least devices need to know of its holder (protocol.datasets.AllowEntry): no name, no
address, no birth date, no amount owed — the door age thresholds reached and whether the
holder owes more than the door debt limit, both from central's settings."""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from central import datasets, fleet
from central.circulation import settings
from central.circulation.ages import age_on
from central.circulation.owing import owed_sql
from central.database import Database, among
from edge_common.cardid import card_hash
from edge_common.protocol.datasets import ALLOWLIST, AllowEntry


def _patron_sql() -> str:
    return ("SELECT p.id, p.category, p.blocked, p.valid_until, p.is_staff, p.birth_date,"
            f" p.agreement, p.status, {owed_sql('p.id')} AS debt FROM patrons p")


def door_day(now: datetime | None = None) -> date:
    """The day ages are reckoned on: a day behind UTC, so that no door anywhere counts a
    holder a year older before it is true where the door is."""
    return ((now or datetime.now(UTC)).astimezone(UTC) - timedelta(days=1)).date()


@dataclass(frozen=True)
class DoorRules:
    """What a row is made from besides the patron: the library's door settings and the day."""

    ages: tuple[int, ...]
    debt_limit: int | None
    day: date

    @classmethod
    def now(cls, db: Database, day: date | None = None) -> "DoorRules":
        """The stored settings, ages reckoned on `day` (default: `door_day()`)."""
        st = settings.load(db)
        return cls(st.door_ages, st.door_debt_limit, day or door_day())

    def entry(self, patron: dict[str, Any] | None) -> AllowEntry | None:
        """What a device needs to know about a card's holder (None: the card must not work)."""
        if patron is None or patron["status"] != "active":
            return None
        born = _day(patron["birth_date"])
        reached = () if born is None else tuple(
            a for a in self.ages if age_on(born, self.day) >= a)
        return AllowEntry(
            category=patron["category"], blocked=bool(patron["blocked"]),
            valid_until=_day(patron["valid_until"]), staff=bool(patron["is_staff"]),
            ages=reached, agreement=bool(patron["agreement"]),
            over_debt_limit=self.debt_limit is not None and patron["debt"] > self.debt_limit)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _publish(db: Database, site: str, key: bytes,
             entries: dict[str, AllowEntry | None]) -> None:
    hashed = {uid: card_hash(key, uid) for uid in entries}
    db.executemany("INSERT INTO card_hashes VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        [(site, h, uid) for uid, h in hashed.items()])
    datasets.record(db, site, ALLOWLIST, {hashed[uid]: e for uid, e in entries.items()})


def _patrons(db: Database, where: str,
             params: Sequence[Any]) -> dict[int, dict[str, Any]]:
    cur = db.execute(f"{_patron_sql()} WHERE {where}", params)
    names = [c[0] for c in cur.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cur}


def refresh_patron(db: Database, patron_id: int,
                   rules: DoorRules | None = None) -> None:
    """Publish the patron's cards to every site's list (call inside the change's transaction)."""
    rules = rules or DoorRules.now(db)
    patron = _patrons(db, "p.id = ?", [patron_id]).get(patron_id)
    cards = db.execute("SELECT uid, active FROM cards WHERE patron_id = ?", [patron_id]).fetchall()
    changes = {uid: rules.entry(patron) if active else None for uid, active in cards}
    for site, key in fleet.card_keys(db):
        _publish(db, site, key, changes)


def withdraw_card(db: Database, uid: str) -> None:
    """Remove a card from every site's list and from central's hash index (before deleting it)."""
    for site, key in fleet.card_keys(db):
        datasets.record(db, site, ALLOWLIST, {card_hash(key, uid): None})
    db.execute("DELETE FROM card_hashes WHERE uid = ?", [uid])


def publish_site(db: Database, site: str) -> int:
    """Publish every active card to one site under each of its keys, e.g. when it gets a key;
    return the count of cards."""
    rules = DoorRules.now(db)
    holders = _patrons(db, "1 = 1", [])
    cards = db.execute("SELECT uid, patron_id FROM cards WHERE active = 1").fetchall()
    changes = {uid: rules.entry(holders.get(pid)) for uid, pid in cards}
    for _, key in fleet.card_keys(db, site):
        _publish(db, site, key, {uid: e for uid, e in changes.items() if e is not None})
    return sum(e is not None for e in changes.values())


def drop_key(db: Database, site: str, key: bytes) -> int:
    """Take every card hashed with `key` out of the site's list and central's hash index (a
    retired key); return how many."""
    uids = [u for (u,) in db.execute("SELECT uid FROM card_hashes WHERE site = ?", [site])]
    gone = {card_hash(key, uid) for uid in uids}
    rows = db.execute("SELECT hash FROM card_hashes WHERE site = ?", [site]).fetchall()
    retired = [h for (h,) in rows if h in gone]
    datasets.record(db, site, ALLOWLIST, dict.fromkeys(retired))
    db.executemany("DELETE FROM card_hashes WHERE site = ? AND hash = ?",
                        [(site, h) for h in retired])
    return len(retired)


def publish_everywhere(db: Database) -> int:
    """Publish every active card to every site again, e.g. after the door settings changed."""
    return sum(publish_site(db, site) for site, _ in fleet.card_keys(db))


def refresh_birthdays(db: Database, day: date, since: date | None = None) -> int:
    """Republish the cards of holders who reach one of the door ages on `day`, or on any day
    from `since` to `day` (29 February birthdays count on 1 March in other years); return how
    many holders. The patrons are read once for all those days (a scan of every patron
    each day of a week's catch-up cost seconds of CPU with a million)."""
    days = [day] if since is None else [since + timedelta(days=n)
                                        for n in range((day - since).days + 1)]
    falls_on: dict[str, list[date]] = {}   # a birthday's month-day → the days it counts on
    for d in days:
        falls_on.setdefault(d.strftime("%m-%d"), []).append(d)
        if d.strftime("%m-%d") == "03-01" and not calendar.isleap(d.year):
            falls_on.setdefault("02-29", []).append(d)
    born = db.execute(
        "SELECT id, birth_date FROM patrons WHERE status = 'active' AND birth_date IS NOT NULL"
        f" AND {among('substr(birth_date, 6)', list(falls_on))}", list(falls_on)).fetchall()
    count = 0
    for d in days:
        rules = DoorRules.now(db, d)
        due = [pid for pid, birth in born if d in falls_on[birth[5:]]
               and age_on(date.fromisoformat(birth), d) in rules.ages]
        for pid in due:
            refresh_patron(db, pid, rules)
        count += len(due)
    return count


def card_of(db: Database, site: str, hashed: str) -> str | None:
    """The card UID behind a hash a device at `site` sent, or None."""
    row = db.execute("SELECT uid FROM card_hashes WHERE site = ? AND hash = ?",
                          [site, hashed]).fetchone()
    return row[0] if row else None
