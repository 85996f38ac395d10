"""When to send outbox events: in order, a bounded window, backoff with jitter, a rate cap."""

import heapq
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
    """Pure scheduling state of the outbox sender; the caller passes the time in.

    The flights' deadlines are also kept in a heap, so the next wakeup, and that nothing is
    late, cost no scan of the whole window on every pump of a long drain.
    """

    def __init__(self, cfg: OutboxConfig, rng: random.Random | None = None) -> None:
        self.cfg = cfg
        self.rng = rng or random.Random()
        self.cursor = 0
        self.inflight: dict[str, Flight] = {}
        self._deadlines: list[tuple[float, int, str]] = []  # (deadline, seq, id); stale skipped
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
        top = self._earliest()
        if top is None or top[0] > now:   # the common case while acks keep up: nothing late
            return []
        late = sorted((f.seq, i) for i, f in self.inflight.items() if f.deadline <= now)
        return [i for _, i in late[: self.budget(now)]]

    def due_now(self, now: float) -> None:
        """Make every flight due at once (central serves again)."""
        for id, flight in self.inflight.items():
            if flight.deadline > now:
                flight.deadline = now
                heapq.heappush(self._deadlines, (now, flight.seq, id))

    def sent(self, id: str, seq: int, now: float) -> None:
        """Record one send (first or repeated) of an event."""
        flight = self.inflight.get(id)
        attempts = flight.attempts + 1 if flight else 1
        self.inflight[id] = Flight(seq, self._deadline(now, attempts), attempts)
        heapq.heappush(self._deadlines, (self.inflight[id].deadline, seq, id))
        self.cursor = max(self.cursor, seq)
        self._tokens -= 1

    def forget(self, ids: Iterable[str]) -> None:
        """Stop tracking events that were acknowledged or are gone from the outbox."""
        for i in ids:
            self.inflight.pop(i, None)
        if len(self._deadlines) > 2 * len(self.inflight) + 1000:  # mostly acked: rebuild
            self._deadlines = [(f.deadline, f.seq, i) for i, f in self.inflight.items()]
            heapq.heapify(self._deadlines)

    def _earliest(self) -> tuple[float, int, str] | None:
        """The heap's earliest entry that is a flight's current deadline; stale ones go."""
        while self._deadlines:
            deadline, _, id = self._deadlines[0]
            flight = self.inflight.get(id)
            if flight is not None and flight.deadline == deadline:
                return self._deadlines[0]
            heapq.heappop(self._deadlines)
        return None

    def next_wakeup(self, now: float) -> float | None:
        """Seconds until the earliest ack deadline, or None with nothing in flight."""
        top = self._earliest()
        return None if top is None else max(0.0, top[0] - now)
