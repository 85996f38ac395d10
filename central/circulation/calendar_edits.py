"""Closed days changed one at a time: staff add or remove days, never replace a year by accident,
and the audit log keeps what each changed day was before."""

from collections.abc import Collection, Mapping
from datetime import date

from central.circulation import audit, bounds
from central.circulation.calendar import LIBRARY
from central.circulation.errors import Refused
from central.circulation.store import Store


def _own_years(s: Store, branch: str) -> set[int]:
    return {y for (y,) in s.db.execute("SELECT year FROM calendars WHERE branch_id = ?",
                                         [branch])}


def days_of(s: Store, year: int, branch: str = LIBRARY) -> dict[str, str]:
    """The closed days of `year` a branch keeps (its own calendar, else the library's), or the
    library-wide ones, by ISO date with their reasons."""
    if branch:
        s.branch(branch)
    source = branch if branch and year in _own_years(s, branch) else LIBRARY
    return {d: reason or "" for d, reason in s.db.execute(
        "SELECT day, reason FROM closed_days WHERE branch_id = ? AND day BETWEEN ? AND ?"
        " ORDER BY day", [source, f"{year}-01-01", f"{year}-12-31"])}


def add(s: Store, days: Mapping[date, str], actor: audit.Actor, branch: str = LIBRARY) -> None:
    """Close the branch (or the whole library) on `days` (with reasons), keeping every other
    closed day; a branch's first own day of a year starts its own calendar from the
    library's, so the holidays stay."""
    _change(s, branch, actor, dict(days), ())


def remove(s: Store, days: Collection[date], actor: audit.Actor,
           branch: str = LIBRARY) -> None:
    """Open the branch (or the whole library) again on `days`, each of which must be closed."""
    _change(s, branch, actor, {}, days)


def _change(s: Store, branch: str, actor: audit.Actor, added: dict[date, str],
            removed: Collection[date]) -> None:
    if not added and not removed:
        raise Refused("name at least one day", code="bad_day")
    by_year = sorted({bounds.check_year(d.year) for d in (*added, *removed)})
    with s.atomic():
        for year in by_year:
            _change_year(s, branch, actor, year, {d: r for d, r in added.items()
                                                  if d.year == year},
                         [d for d in removed if d.year == year])
        s.calendar_changed(branch)
    s.forget()


def _change_year(s: Store, branch: str, actor: audit.Actor, year: int,
                 added: dict[date, str], removed: list[date]) -> None:
    now = days_of(s, year, branch)
    if branch and year not in _own_years(s, branch):
        s.db.execute("INSERT INTO calendars VALUES (?, ?)", [branch, year])
        s.db.executemany("INSERT INTO closed_days VALUES (?, ?, ?)",
                           [(branch, d, reason) for d, reason in now.items()])
    missing = [d.isoformat() for d in removed if d.isoformat() not in now]
    if missing:
        raise Refused(f"{', '.join(missing)} is not a closed day", code="day_not_closed")
    keys = sorted({*(d.isoformat() for d in added), *(d.isoformat() for d in removed)})
    s.db.executemany("DELETE FROM closed_days WHERE branch_id = ? AND day = ?",
                       [(branch, d.isoformat()) for d in removed])
    s.db.executemany("INSERT INTO closed_days VALUES (?, ?, ?) ON CONFLICT (branch_id, day)"
                       " DO UPDATE SET reason = excluded.reason",
                       [(branch, d.isoformat(), reason) for d, reason in sorted(added.items())])
    after = days_of(s, year, branch)
    audit.record(s, actor, "calendar.change", f"calendar:{branch or 'library'}:{year}",
                 {d: now[d] for d in keys if d in now},
                 {d: after[d] for d in keys if d in after})
