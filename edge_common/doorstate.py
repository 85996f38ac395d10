"""A door's state as pure data: releases, contact, exit, emergency, lockdown, alarms, deadlines.

The relay follows `released(now)`; the daemon re-evaluates at `next_deadline(now)`.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

FORCED = "door_forced"
HELD_OPEN = "door_held_open"
EMERGENCY = "emergency_release"
RELAY_FAULT = "relay_fault"


@dataclass
class DoorState:
    """Everything that decides whether a door's lock is released right now."""

    unlock_seconds: float
    held_open_limit: float
    emergency_release: bool = True
    released_until: float | None = None
    held_released: bool = False
    lockdown: bool = False
    emergency: bool = False
    is_open: bool = False
    opened_at: float | None = None
    alarms: set[str] = field(default_factory=set)
    feedback_settle: float = 0.2
    relay_on: bool = False
    feedback: bool | None = None
    changed_at: float = 0.0

    def released(self, now: float) -> bool:
        """Whether the lock should be released at monotonic time `now`."""
        if self.emergency and self.emergency_release:
            return True
        if self.held_released and not self.lockdown:
            return True
        return self.released_until is not None and now < self.released_until

    def grant(self, now: float, seconds: float | None = None) -> None:
        """Release for the unlock time (a card, a remote open, the exit button)."""
        until = now + (self.unlock_seconds if seconds is None else seconds)
        self.released_until = max(self.released_until or 0.0, until)

    def end_release(self) -> None:
        """End a timed release now (a locker's door has swung open: its lock may latch again)."""
        self.released_until = None

    def set_contact(self, is_open: bool, now: float) -> set[str]:
        """The door contact changed; return the alarms this raised."""
        raised = set()
        if is_open and not self.is_open:
            self.opened_at = now
            if not self.released(now):
                raised.add(FORCED)
        elif not is_open and self.is_open:
            self.opened_at = None
            self.released_until = None
            self.alarms.discard(HELD_OPEN)
        self.is_open = is_open
        self.alarms |= raised
        return raised

    def set_emergency(self, active: bool) -> None:
        """The fire-alarm input changed."""
        self.emergency = active
        (self.alarms.add if active and self.emergency_release else self.alarms.discard)(EMERGENCY)

    def set_lockdown(self, active: bool) -> None:
        """Lockdown refuses every card and cancels releases; the exit button still works."""
        self.lockdown = active
        if active:
            self.released_until = None
            self.held_released = False

    def clear(self, alarm: str) -> None:
        """Acknowledge an alarm (e.g. door_forced after staff checked the door)."""
        self.alarms.discard(alarm)

    def relay_driven(self, on: bool, now: float) -> None:
        """The relay was (or stays) energised or not."""
        if on != self.relay_on:
            self.relay_on, self.changed_at = on, now

    def set_feedback(self, active: bool, now: float) -> None:
        """The relay's auxiliary contact (or current sensor) reports whether it pulled in."""
        if active != self.feedback:
            self.feedback, self.changed_at = active, now

    def _relay_disagrees(self) -> bool:
        return self.feedback is not None and self.feedback != self.relay_on

    def tick(self, now: float) -> set[str]:
        """Raise time-based alarms; return the new ones."""
        if not self._relay_disagrees():
            self.alarms.discard(RELAY_FAULT)
        elif RELAY_FAULT not in self.alarms and now - self.changed_at >= self.feedback_settle:
            self.alarms.add(RELAY_FAULT)
            return {RELAY_FAULT}
        if (self.is_open and self.opened_at is not None and HELD_OPEN not in self.alarms
                and not self.released(now) and now - self.opened_at > self.held_open_limit):
            self.alarms.add(HELD_OPEN)
            return {HELD_OPEN}
        return set()

    def next_deadline(self, now: float) -> float | None:
        """The next moment something may change without an input (release end, held-open)."""
        times = []
        if self.released_until is not None and self.released_until > now:
            times.append(self.released_until)
        if self.is_open and self.opened_at is not None and HELD_OPEN not in self.alarms:
            times.append(max(now, self.opened_at + self.held_open_limit) + 0.001)
        if self._relay_disagrees() and RELAY_FAULT not in self.alarms:
            times.append(max(now, self.changed_at + self.feedback_settle))
        return min(times) if times else None


def next_wait(states: Iterable[DoorState], now: float, longest: float = 1.0) -> float:
    """Seconds until the soonest deadline of these doors, at most `longest`."""
    deadlines = [t for s in states if (t := s.next_deadline(now)) is not None]
    return min(longest, max(0.0, min(deadlines, default=now + longest) - now))
