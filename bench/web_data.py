"""The data the web benchmark runs on: a branch with a year of door events, its doors, people
inside and open alarms (a module of its own: the cached database is rebuilt when it changes)."""

from datetime import UTC, date, datetime
from pathlib import Path

from bench.common import data_builder
from central import access_counts, fleet
from central.circulation import branches
from central.circulation.store import Store
from central.store import open_store
from edge_common import envelope
from edge_common.protocol.backbone import DeviceStatus, DoorStatus

SITE, TZ = "center", "Europe/Ljubljana"
YEAR = (date(2025, 12, 1), date(2026, 11, 30))
DOORS = [("reading-room", "rr-north"), ("reading-room", "rr-south"), ("toilets", "wc-1"),
         ("toilets", "wc-2"), ("lobby", "entrance")]


@data_builder(events=500)
def build(path: Path, events: int) -> None:
    """A store whose branch has `events` door events spread over a year (in SQL, for speed),
    counted by the same code the migration uses, plus doors, people inside and alarms."""
    db = open_store(str(path))
    s = Store(db)
    branches.add_branch(s, SITE, "Center", TZ)
    db.execute("PRAGMA synchronous=OFF")
    start = int(datetime(2025, 12, 1, tzinfo=UTC).timestamp())
    with db.transaction():
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " INSERT INTO access_log (dev, site, door, card, result, at, seq, received_at, room,"
            " direction) SELECT 'lock-' || (i % 5), ?, CASE i % 5 WHEN 0 THEN 'rr-north'"
            " WHEN 1 THEN 'rr-south' WHEN 2 THEN 'wc-1' WHEN 3 THEN 'wc-2' ELSE 'entrance' END,"
            " printf('%064x', abs(random()) % 20000), CASE abs(random()) % 20 WHEN 0 THEN"
            " 'blocked' WHEN 1 THEN 'closed_now' WHEN 2 THEN 'rate_limited' ELSE 'granted' END,"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', ? + (i * 365 / ?) * 86400 + 21600"
            "  + abs(random()) % 50400, 'unixepoch'), i, '',"
            " CASE i % 5 WHEN 0 THEN 'reading-room' WHEN 1 THEN 'reading-room' WHEN 2 THEN"
            " 'toilets' WHEN 3 THEN 'toilets' ELSE 'lobby' END,"
            " CASE WHEN abs(random()) % 3 = 0 THEN 'out' ELSE 'in' END FROM n",
            [events - 1, SITE, start, events])
        access_counts.rebuild(db)
        _live(db)
    db.execute("ANALYZE")
    db.conn.close()


def _live(db) -> None:
    """What the Now page shows: five locks with their doors, people inside, open alarms."""
    for i in range(5):
        dev = f"lock-{i}"
        fleet.enrol(db, dev, SITE, "lockd")
        room, door = DOORS[i]
        status = DeviceStatus(online=True, kind="lockd", version="0.1.0", doors={
            door: DoorStatus(released=False, open=False, lockdown=False, room=room, inside=3,
                             result="granted")})
        body = envelope.encode(envelope.make("status", dev, status))
        now = datetime.now(UTC).isoformat()
        db.execute("INSERT INTO device_status (dev, online, body, updated_at, since)"
                   " VALUES (?, 1, ?, ?, ?)", [dev, body, now, now])
        db.execute("INSERT INTO door_alarms (dev, site, door, alarm, active, at) VALUES"
                   " (?, ?, ?, 'door_forced', 1, ?)", [dev, SITE, door,
                                                       datetime.now(UTC).isoformat()])
    db.conn.executemany("INSERT INTO roster VALUES (?, ?, ?, ?)", [
        (SITE, DOORS[i % 5][0], f"{i:064x}", datetime.now(UTC).isoformat())
        for i in range(300)])
