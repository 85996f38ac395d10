"""When to send outbox events: in order, a bounded window, backoff with jitter, a rate cap."""

import random
from collections.abc import Iterable
from dataclasses import dataclass

from edge_common.config import OutboxConfig


@dataclass
class Flight:
    """An event sent and not yet acknowledged."""

    seq: int
    deadline: float
    attempts: int


class SendPlan:
    """Pure scheduling state of the outbox sender; the caller passes the time in."""

    def __init__(self, cfg: OutboxConfig, rng: random.Random | None = None) -> None:
        self.cfg = cfg
        self.rng = rng or random.Random()
        self.cursor = 0
        self.inflight: dict[str, Flight] = {}
        self._tokens = float(cfg.window)
        self._refilled: float | None = None

    def _refill(self, now: float) -> None:
        if self._refilled is not None:
            gained = (now - self._refilled) * self.cfg.replay_rate
            self._tokens = min(float(self.cfg.window), self._tokens + gained)
        self._refilled = now

    def link_up(self, now: float) -> None:
        """The link came back: replay starts slowly from an empty bucket."""
        self._tokens = 0.0
        self._refilled = now

    def _deadline(self, now: float, attempts: int) -> float:
        wait = min(self.cfg.ack_timeout * (2 ** (attempts - 1)), self.cfg.max_backoff)
        return now + wait * self.rng.uniform(0.8, 1.2)

    def budget(self, now: float) -> int:
        """How many sends (new or repeated) may go out now."""
        self._refill(now)
        return max(0, min(int(self._tokens), self.cfg.window))

    def new_capacity(self, now: float) -> int:
        """How many never-sent events may go out now."""
        return max(0, min(self.budget(now), self.cfg.window - len(self.inflight)))

    def due(self, now: float) -> list[str]:
        """Ids whose ack is overdue, oldest first, as many as the budget allows."""
        late = [(f.seq, i) for i, f in self.inflight.items() if f.deadline <= now]
        late.sort()
        return [i for _, i in late[: self.budget(now)]]

    def sent(self, id: str, seq: int, now: float) -> None:
        """Record one send (first or repeated) of an event."""
        flight = self.inflight.get(id)
        attempts = flight.attempts + 1 if flight else 1
        self.inflight[id] = Flight(seq, self._deadline(now, attempts), attempts)
        self.cursor = max(self.cursor, seq)
        self._tokens -= 1

    def forget(self, ids: Iterable[str]) -> None:
        """Stop tracking events that were acknowledged or are gone from the outbox."""
        for i in ids:
            self.inflight.pop(i, None)

    def next_wakeup(self, now: float) -> float | None:
        """Seconds until the earliest ack deadline, or None with nothing in flight."""
        if not self.inflight:
            return None
        return max(0.0, min(f.deadline for f in self.inflight.values()) - now)
