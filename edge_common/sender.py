"""The outbox pump: events committed on any thread, sent in order by the coordinator within
the send plan's window, deleted when central's ack names them (DESIGN §3)."""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from edge_common import envelope, topics
from edge_common.config import OutboxConfig
from edge_common.link import MqttLink
from edge_common.outbox import Outbox, Pending, Priority
from edge_common.protocol import Body, Message
from edge_common.protocol.backbone import Ack
from edge_common.sendplan import SendPlan
from edge_common.status import OutboxFacts

log = logging.getLogger(__name__)
B = TypeVar("B", bound=Body)


class Sender:
    """The device's outbox and its send plan; `emit` from any thread, the rest on the
    coordinator. `stats` counts sent, resent, acked and rejected events."""

    def __init__(self, path: str, dev: str, cfg: OutboxConfig, link: MqttLink,
                 wake: Callable[[], None], stats: dict[str, int]) -> None:
        self.dev = dev
        self.outbox = Outbox(path, dev, cfg)
        self.plan = SendPlan(cfg)
        self._link = link
        self._wake = wake
        self._topic = topics.device(dev, "evt")
        self.stats = stats

    # --- any thread ---

    def emit(self, message: Message[B, Any], body: B, priority: Priority = Priority.KEEP,
             id: str | None = None, at: datetime | None = None) -> str:
        """Commit a declared event (durable on return) and wake the coordinator to send it."""
        message.check(body)
        env = self.outbox.add(message.type, body, priority, id, at)
        self._wake()
        return env.id

    def emit_many(self, events: Sequence[tuple[Message[Any, Any], Body, Priority]]) -> list[str]:
        """Commit several declared events with one fsync, like `emit`."""
        for message, body, _ in events:
            message.check(body)
        envs = self.outbox.add_many([(m.type, b, p) for m, b, p in events])
        self._wake()
        return [e.id for e in envs]

    def facts(self) -> OutboxFacts:
        """Depth, drops, capacity and the oldest waiting event's time, for the status."""
        box = self.outbox
        oldest = box.oldest_at()
        return OutboxFacts(box.depth, box.dropped, box.over_capacity,
                           oldest.timestamp() if oldest else None)

    # --- the coordinator ---

    def wait(self, now: float) -> list[float]:
        """Seconds until the plan has something to send without being woken (none: nothing)."""
        waits = []
        nxt = self.plan.next_wakeup(now)
        if nxt is not None:
            waits.append(nxt)
        if self.plan.new_capacity(now) == 0 and self.plan.inflight:
            waits.append(0.05)
        return waits

    def pump(self, now: float) -> None:
        """Resend what is overdue, then send new events while the window has room."""
        due = self.plan.due(now)
        if due:
            found = self.outbox.get(due)
            self.plan.forget(set(due) - {p.id for p in found})
            for p in found:
                if not self._send(p, now):
                    return
                self.stats["resent"] += 1
        room = self.plan.new_capacity(now)
        if room:
            for p in self.outbox.after(self.plan.cursor, room):
                if not self._send(p, now):
                    return
                self.stats["sent"] += 1

    def _send(self, p: Pending, now: float) -> bool:
        if not self._link.publish(self._topic, p.payload, qos=1):
            return False
        self.plan.sent(p.id, p.seq, now)
        return True

    def resend_now(self, now: float) -> None:
        """Central serves again: whatever is in flight is due at once."""
        self.plan.due_now(now)

    def acked(self, env: envelope.Envelope) -> bool:
        """Delete the events central's ack names (applied or rejected); False if malformed."""
        try:
            ack = msgspec.convert(env.body, Ack)
        except msgspec.ValidationError:
            return False
        for r in ack.rejected:
            log.warning("%s: central rejected event %s: %s", self.dev, r.id, r.code)
        ids = [*ack.ids, *(r.id for r in ack.rejected)]
        self.outbox.acked(ids)
        self.plan.forget(ids)
        self.stats["acked"] += len(ids)
        self.stats["rejected"] += len(ack.rejected)
        return True
