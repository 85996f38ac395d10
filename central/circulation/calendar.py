"""Open days of a branch: its weekly hours, its own or the library-wide closed days, due dates."""

from dataclasses import dataclass
from datetime import date, timedelta

from central.circulation.errors import Refused
from central.database import Database

LIBRARY = ""


@dataclass(frozen=True)
class BranchCalendar:
    """When a branch is open: weekdays with hours, minus closed days (pure)."""

    open_weekdays: frozenset[int]
    closed: frozenset[date]

    def is_open(self, day: date) -> bool:
        """Whether the branch opens on `day`."""
        return day.weekday() in self.open_weekdays and day not in self.closed

    def next_open(self, day: date) -> date:
        """`day` if open, else the first open day after it (within a year)."""
        for step in range(367):
            candidate = day + timedelta(days=step)
            if self.is_open(candidate):
                return candidate
        raise Refused("the branch has no open day within a year", code="branch_never_open")

    def due_date(self, start: date, days: int) -> date:
        """`days` after `start`, moved forward onto an open day."""
        return self.next_open(start + timedelta(days=days))

    def fined_from(self, due: date, returned: date) -> date:
        """The day lateness counts from: the due date, or the first open day after it when
        the branch was closed that day (a day closed after lending fines nobody), never
        later than the return."""
        day = due
        while day < returned and not self.is_open(day):
            day += timedelta(days=1)
        return day

    def open_days_after(self, start: date, count: int) -> date:
        """The `count`-th open day after `start` (e.g. the last day of a pickup window)."""
        day = start
        for _ in range(count):
            day = self.next_open(day + timedelta(days=1))
        return day


def load(db: Database, branch: str, years: range) -> BranchCalendar:
    """A branch's calendar: per year its own closed days if it keeps them, else the library's."""
    weekdays = frozenset(w for (w,) in db.execute(
        "SELECT weekday FROM opening_hours WHERE branch_id = ?", [branch]))
    own = {y for (y,) in db.execute("SELECT year FROM calendars WHERE branch_id = ?", [branch])}
    closed: set[date] = set()
    for year in years:
        source = branch if year in own else LIBRARY
        closed.update(date.fromisoformat(d) for (d,) in db.execute(
            "SELECT day FROM closed_days WHERE branch_id = ? AND day BETWEEN ? AND ?",
            [source, f"{year}-01-01", f"{year}-12-31"]))
    return BranchCalendar(weekdays, frozenset(closed))
