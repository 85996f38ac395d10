"""The access log's counts per branch, room, door and local hour: kept in the transaction that
logs each event, so they stay exact whenever an event arrives (late offline ones too).

An event's hour is noted in a temporary table inside the event's own savepoint (so an event
undone is never counted), and a batch's notes are added to the counts once, before the batch
commits (`settle`): one upsert per hour and door instead of three per event."""

from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from central.database import Database
from edge_common.migrations import with_row_ids

if TYPE_CHECKING:
    import sqlite_utils

GRANTED, EXIT_BUTTON = "granted", "exit_button"


class HourCount(NamedTuple):
    """Events of one local hour with one direction and result."""

    day: date
    hour: int
    direction: str
    result: str
    n: int


class DayCount(NamedTuple):
    """One local day: visits (a card's first entry into a room that day) and finished stays."""

    day: date
    visits: int
    stays: int
    stay_seconds: float


def log(db: Database, dev: str, site: str, door: str, room: str, direction: str,
        card: str, result: str, at: str, seq: int, received: str) -> None:
    """Append a door event to the access log and count it (inside the caller's transaction)."""
    db.execute("INSERT INTO access_log (dev, site, door, card, result, at, seq, received_at,"
               " room, direction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [dev, site, door, card, result, at, seq, received, room, direction])
    count(db, site, room, door, direction, result, card, at)


def count(db: Database, site: str, room: str, door: str, direction: str,
          result: str, card: str, at: str) -> None:
    """Add one access-log row to the counts (inside the caller's transaction)."""
    day, hour = local_hour(_zone_name(db, site), at)
    db.execute("INSERT INTO access_pending VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [site, day, hour, direction, result, room, door])
    if result == GRANTED and direction == "in" and card:
        first = db.execute("INSERT INTO access_visits VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                           [site, room, day, card]).rowcount
        if first:
            _add_day(db, site, room, day, 1, 0, 0.0)


def prepare(db: Database) -> None:
    """Make this connection's table of events not yet counted (each connection has its own)."""
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS access_pending (site TEXT, day TEXT, hour INTEGER,"
        " direction TEXT, result TEXT, room TEXT, door TEXT)")


def settle(db: Database) -> None:
    """Add the events noted since the last settle to the hourly counts and places (in the
    caller's transaction, before it commits)."""
    conn = db
    if conn.execute("SELECT 1 FROM access_pending LIMIT 1").fetchone() is None:
        return
    conn.execute(
        "INSERT INTO access_hours SELECT site, day, hour, direction, result, room, door,"
        " count(*) FROM access_pending WHERE true GROUP BY 1, 2, 3, 4, 5, 6, 7"
        " ON CONFLICT (site, day, hour, direction, result, room, door)"
        " DO UPDATE SET n = access_hours.n + excluded.n")
    conn.execute(
        "INSERT INTO access_branch_hours SELECT site, day, hour, direction, result, count(*)"
        " FROM access_pending WHERE true GROUP BY 1, 2, 3, 4, 5"
        " ON CONFLICT (site, day, hour, direction, result)"
        " DO UPDATE SET n = access_branch_hours.n + excluded.n")
    conn.execute("INSERT INTO access_places SELECT DISTINCT site, room, door"
                 " FROM access_pending WHERE true ON CONFLICT DO NOTHING")
    conn.execute("DELETE FROM access_pending")


def stay(db: Database, site: str, room: str, entered: str, left: str) -> None:
    """Count a finished stay (entry to exit by card) on the local day it ended."""
    seconds = (datetime.fromisoformat(left) - datetime.fromisoformat(entered)).total_seconds()
    if seconds >= 0:
        _add_day(db, site, room, local_hour(_zone_name(db, site), left)[0], 0, 1, seconds)


def _add_day(db: Database, site: str, room: str, day: str, visits: int, stays: int,
             seconds: float) -> None:
    db.execute("INSERT INTO access_days VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, day, room)"
               " DO UPDATE SET visits = access_days.visits + excluded.visits,"
               " stays = access_days.stays + excluded.stays,"
               " stay_seconds = access_days.stay_seconds + excluded.stay_seconds",
               [site, day, room, visits, stays, seconds])


def _zone_name(db: Database, site: str) -> str:
    row = db.execute("SELECT tz FROM branches WHERE id = ?", [site]).fetchone()
    return row[0] if row else "UTC"


@lru_cache(maxsize=65_536)
def local_hour(tz: str, at: str) -> tuple[str, int]:
    """The local day (ISO) and hour of an ISO timestamp (whole hours: the cache holds those)."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = datetime.fromisoformat(at).astimezone(zone)
    return local.date().isoformat(), local.hour


def hours(db: Database, site: str, start: date, end: date, room: str | None = None,
          door: str | None = None) -> list[HourCount]:
    """Counts per local hour, direction and result over days start..end (of a room, a door)."""
    span = [site, start.isoformat(), end.isoformat()]
    if room is None and door is None:           # the whole branch: its own, smaller table
        rows = db.execute("SELECT day, hour, direction, result, n FROM access_branch_hours"
                          " WHERE site = ? AND day BETWEEN ? AND ?", span)
    else:
        rows = db.execute(
            "SELECT day, hour, direction, result, sum(n) FROM access_hours WHERE site = ?"
            " AND day BETWEEN ? AND ? AND (? IS NULL OR room = ?) AND (? IS NULL OR door = ?)"
            " GROUP BY day, hour, direction, result", [*span, room, room, door, door])
    days: dict[str, date] = {}
    return [HourCount(days.get(d) or days.setdefault(d, date.fromisoformat(d)), h, direction,
                      result, n) for d, h, direction, result, n in rows]


def days(db: Database, site: str, start: date, end: date,
         room: str | None = None) -> list[DayCount]:
    """Visits and finished stays per local day start..end (of a room), by day."""
    rows = db.execute(
        "SELECT day, sum(visits), sum(stays), sum(stay_seconds) FROM access_days"
        " WHERE site = ? AND day BETWEEN ? AND ? AND (? IS NULL OR room = ?)"
        " GROUP BY day ORDER BY day",
        [site, start.isoformat(), end.isoformat(), room, room]).fetchall()
    return [DayCount(date.fromisoformat(d), v, s, secs) for d, v, s, secs in rows]


def places(db: Database, site: str) -> list[tuple[str, str]]:
    """The (room, door) pairs a branch's access log has seen."""
    return [(room, door) for room, door in db.execute(
        "SELECT room, door FROM access_places WHERE site = ? ORDER BY room, door", [site])]


def rebuild(db: "sqlite_utils.Database") -> None:
    """Count the whole access log afresh (the migration's backfill; finished stays are only
    counted as they happen)."""
    db.conn.create_function("libedge_local_day", 2, _day_of, deterministic=True)
    db.conn.create_function("libedge_local_hour", 2, _hour_of, deterministic=True)
    for table in ("access_hours", "access_branch_hours", "access_places", "access_visits",
                  "access_days"):
        db.execute(f"DELETE FROM {table}")
    hourly = ("SELECT site, room, door, direction, result, card, coalesce((SELECT tz FROM"
              " branches WHERE id = site), 'UTC') AS tz, substr(at, 1, 13) || ':00:00'"
              " || substr(at, -6) AS h FROM access_log")
    db.execute(
        "INSERT INTO access_hours SELECT site, libedge_local_day(tz, h),"
        " libedge_local_hour(tz, h), direction, result, room, door, sum(n) FROM"
        f" (SELECT site, room, door, direction, result, tz, h, count(*) AS n FROM ({hourly})"
        "  GROUP BY site, room, door, direction, result, h)"
        " GROUP BY 1, 2, 3, 4, 5, 6, 7")
    db.execute("INSERT INTO access_branch_hours SELECT site, day, hour, direction, result,"
               " sum(n) FROM access_hours GROUP BY site, day, hour, direction, result")
    db.execute("INSERT INTO access_places SELECT DISTINCT site, room, door FROM access_hours")
    db.execute(
        "INSERT OR IGNORE INTO access_visits SELECT DISTINCT site, room,"
        f" libedge_local_day(tz, h), card FROM ({hourly}) WHERE result = 'granted'"
        " AND direction = 'in' AND card != ''")
    db.execute("INSERT INTO access_days SELECT site, day, room, count(*), 0, 0.0"
               " FROM access_visits GROUP BY site, day, room")


def _day_of(tz: str, at: str) -> str:
    return local_hour(tz, at)[0]


def _hour_of(tz: str, at: str) -> int:
    return local_hour(tz, at)[1]


def room_access(db: Database, start: date, end: date,
                site: str | None = None) -> list[dict[str, Any]]:
    """Granted entries per room and day, and distinct cards, for facilities."""
    return list(db.query(
        "SELECT substr(at, 1, 10) AS day, site, room,"
        " count(*) AS entries, count(DISTINCT card) AS people FROM access_log"
        " WHERE result = 'granted' AND substr(at, 1, 10) BETWEEN ? AND ?"
        " AND (? IS NULL OR site = ?) GROUP BY day, site, room ORDER BY day, site, room",
        [start.isoformat(), end.isoformat(), site, site]))


def _access_statistics(db: "sqlite_utils.Database") -> None:
    """Room and direction in the access log (existing rows: the door's own room, in unless the
    exit button), and the counts the statistics read, filled from the log so far."""
    db.execute("ALTER TABLE access_log ADD COLUMN room TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE access_log ADD COLUMN direction TEXT NOT NULL DEFAULT 'in'")
    db.execute("UPDATE access_log SET room = door, direction = CASE result WHEN 'exit_button'"
               " THEN 'out' ELSE 'in' END")
    db.execute(
        "CREATE TABLE access_hours (site TEXT NOT NULL, day TEXT NOT NULL, hour INTEGER NOT NULL,"
        " direction TEXT NOT NULL, result TEXT NOT NULL, room TEXT NOT NULL, door TEXT NOT NULL,"
        " n INTEGER NOT NULL,"
        " PRIMARY KEY (site, day, hour, direction, result, room, door)) WITHOUT ROWID")
    db.execute(
        "CREATE TABLE access_branch_hours (site TEXT NOT NULL, day TEXT NOT NULL,"
        " hour INTEGER NOT NULL, direction TEXT NOT NULL, result TEXT NOT NULL,"
        " n INTEGER NOT NULL, PRIMARY KEY (site, day, hour, direction, result)) WITHOUT ROWID")
    db.execute(
        "CREATE TABLE access_days (site TEXT NOT NULL, day TEXT NOT NULL, room TEXT NOT NULL,"
        " visits INTEGER NOT NULL, stays INTEGER NOT NULL, stay_seconds REAL NOT NULL,"
        " PRIMARY KEY (site, day, room)) WITHOUT ROWID")
    db.execute(
        "CREATE TABLE access_visits (site TEXT NOT NULL, room TEXT NOT NULL, day TEXT NOT NULL,"
        " card TEXT NOT NULL, PRIMARY KEY (site, room, day, card)) WITHOUT ROWID")
    db.execute(
        "CREATE TABLE access_places (site TEXT NOT NULL, room TEXT NOT NULL, door TEXT NOT NULL,"
        " PRIMARY KEY (site, room, door)) WITHOUT ROWID")
    rebuild(db)


ACCESS_MIGRATIONS = [("0201_access_statistics", _access_statistics),
                     ("0202_access_log_ids", lambda db: with_row_ids(db, "access_log"))]
"""After the circulation schema: local days need the branches' time zones."""
