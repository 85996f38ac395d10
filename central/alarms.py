"""Device alarms as staff see them: the latest state of each, acknowledged by whom, and
clearing. A lock reports per door, a return box per part (belt, a bin, reader, e-stop, link);
both are kept in one table, the part in the door column."""

from dataclasses import dataclass
from datetime import datetime

from central import commands
from central.database import Database, among
from central.handlers import Context, handler
from edge_common.protocol.returns import RETURNS_ALARM, BoxAlarm


@dataclass(frozen=True)
class Alarm:
    """The latest report of one alarm at one door (or return-box part), and who acknowledged
    it."""

    site: str
    dev: str
    door: str
    alarm: str
    active: bool
    at: str
    acked_by: str | None
    acked_at: str | None


def latest(db: Database, sites: list[str] | None = None,
           open_only: bool = True) -> list[Alarm]:
    """Each alarm's latest report (only those still raised unless not `open_only`), newest
    first, of the given sites or all."""
    rows = db.execute(
        "SELECT a.site, a.dev, a.door, a.alarm, a.active, a.at, a.acked_by, a.acked_at"
        " FROM door_alarms a WHERE a.id = (SELECT max(b.id) FROM door_alarms b"
        " WHERE b.dev = a.dev AND b.door = a.door AND b.alarm = a.alarm)"
        f" AND {among('a.site', sites)} AND (a.active = 1 OR ? = 1)"
        " ORDER BY a.at DESC", [*(sites or ()), not open_only],
    ).fetchall()
    return [Alarm(site, dev, door, alarm, bool(active), at, by, when)
            for site, dev, door, alarm, active, at, by, when in rows]


def find(db: Database, dev: str, door: str, alarm: str) -> Alarm | None:
    """One alarm's latest report, or None."""
    return next((a for a in latest(db, open_only=False)
                 if (a.dev, a.door, a.alarm) == (dev, door, alarm)), None)


def acknowledge(db: Database, dev: str, door: str, alarm: str, staff_id: str,
                now: datetime) -> None:
    """Note on an alarm's latest report that a member of staff has seen it."""
    db.execute(
        "UPDATE door_alarms SET acked_by = ?, acked_at = ? WHERE id = (SELECT max(id)"
        " FROM door_alarms WHERE dev = ? AND door = ? AND alarm = ?)",
        [staff_id, now.isoformat(), dev, door, alarm])


def clear(db: Database, dev: str, door: str, alarm: str) -> str:
    """Ask the lock to clear a latched alarm; its report that it did closes it. The nonce."""
    return commands.issue(db, dev, "clear_alarm", {"door": door, "alarm": alarm})



def record(ctx: Context, door: str, alarm: str, active: bool) -> None:
    """Keep an alarm report of the sending device (dated when it was sent)."""
    ctx.db.execute(
        "INSERT INTO door_alarms (dev, site, door, alarm, active, at) VALUES (?, ?, ?, ?, ?, ?)",
        (ctx.device.id, ctx.device.site, door, alarm, int(active), ctx.sent),
    )


@handler(RETURNS_ALARM)
def returns_alarm(ctx: Context, body: BoxAlarm) -> None:
    """Record a return box's alarm change at one of its parts, as a door's is recorded."""
    record(ctx, body.part, body.alarm, body.active)
