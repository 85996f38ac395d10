"""When a door admits card holders: weekly windows in the branch's time zone, closed days."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from edge_common.config import Schema

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class Window(Schema, frozen=True):
    """Days of the week and a local time span; an end at or before the start runs past midnight."""

    days: Annotated[list[Day], msgspec.Meta(min_length=1)]
    start: Clock
    end: Clock

    def covers(self, day: date, minute: int) -> bool:
        """True when local `minute` of `day` falls in this window (started today or yesterday)."""
        start, end = _minutes(self.start), _minutes(self.end)
        today, yesterday = DAYS[day.weekday()], DAYS[(day.weekday() - 1) % 7]
        if start < end:
            return today in self.days and start <= minute < end
        return (today in self.days and minute >= start) or (yesterday in self.days
                                                             and minute < end)

    def started_on(self, day: date, minute: int) -> date:
        """The date this window opened for a covered moment (yesterday after midnight)."""
        start, end = _minutes(self.start), _minutes(self.end)
        return day - timedelta(days=1) if start >= end and minute < end else day


class Schedule(Schema, frozen=True):
    """A door's opening windows; no windows means always, closed days follow `on_closed_days`."""

    timezone: str = "Europe/Ljubljana"
    windows: list[Window] = []
    on_closed_days: Literal["closed", "open"] = "closed"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc

    @property
    def zone(self) -> ZoneInfo:
        """The branch's time zone."""
        return ZoneInfo(self.timezone)

    def is_open(self, now: datetime, closed_day: Callable[[date], bool]) -> bool:
        """Whether the door admits now (an aware datetime), given the branch's closed days."""
        local = now.astimezone(self.zone)
        day, minute = local.date(), local.hour * 60 + local.minute
        if not self.windows:
            return self.on_closed_days == "open" or not closed_day(day)
        for window in self.windows:
            if window.covers(day, minute):
                opened = window.started_on(day, minute)
                if self.on_closed_days == "open" or not closed_day(opened):
                    return True
        return False

