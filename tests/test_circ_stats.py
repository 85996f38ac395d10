"""Statistics per branch or library-wide, per day, and room access for facilities."""

from datetime import date

from central import access_counts
from central.circulation import lifecycle, loans, stats
from tests.circ import copy, library, patron


def test_counts_per_branch_and_library_wide(central_db):
    s = library(central_db)
    copy(s, "B1", "Alamut")
    copy(s, "S1", "Kekec", "siska")
    a = patron(s)
    loans.checkout(s, a, "B1", "center")
    loans.checkout(s, a, "S1", "siska")
    s.clock.advance(days=1)
    loans.renew(s, 1)
    loans.checkin(s, "S1", "siska")
    lifecycle.preregister(s, "Kos", "adult", "siska")
    first, second = date(2026, 3, 2), date(2026, 3, 3)
    center = stats.circulation(s, first, second, "center")
    assert [(r["day"], r["loans"], r["renewals"], r["new_members"]) for r in center] == [
        ("2026-03-02", 1, 0, 1), ("2026-03-03", 0, 1, 0)]
    everywhere = stats.circulation(s, first, second)
    assert stats.totals(everywhere) == {"loans": 2, "returns": 1, "renewals": 1,
                                        "new_members": 1, "holds": 0}
    assert {r["branch"] for r in stats.circulation(s, first, second, by_branch=True)} == {
        "center", "siska"}


def test_room_access_counts_entries_and_people(central_db):
    s = library(central_db)
    rows = [("lock-1", "center", "reading-room", "a" * 64, "granted", "2026-03-02T10:00:00"),
            ("lock-1", "center", "reading-room", "a" * 64, "granted", "2026-03-02T12:00:00"),
            ("lock-1", "center", "reading-room", "b" * 64, "granted", "2026-03-02T13:00:00"),
            ("lock-1", "center", "reading-room", "c" * 64, "blocked", "2026-03-02T14:00:00")]
    s.db.executemany("INSERT INTO access_log (dev, site, room, card, result, at, door, seq,"
                       " received_at) VALUES (?, ?, ?, ?, ?, ?, 'door-1', 1, '')", rows)
    assert access_counts.room_access(s.db, date(2026, 3, 2), date(2026, 3, 2)) == [
        {"day": "2026-03-02", "site": "center", "room": "reading-room", "entries": 3,
         "people": 2}]
