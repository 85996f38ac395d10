"""Read-only requests answered beside the worker's batches, on a thread and a query-only
connection of their own: a kiosk's account never waits behind a batch of door events."""

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from central.database import connect
from central.handlers import REGISTRY, Context, Device, Handler
from central.ingest import Devices, Reply, admit, answer, failed
from edge_common import envelope, topics
from edge_common.errors import InvalidMessage
from edge_common.link import Incoming

log = logging.getLogger(__name__)
Respond = Callable[[str, bytes | None, Reply], None]


class ReadLane:
    """Answers a read-only request on its own thread, unless something earlier from its
    device is still in the worker's hands: a device's read then waits its turn in the worker,
    and sees its own writes.

    Everything else (writes, events, statuses, refusals a retry must get again, anything
    unreadable) goes to the worker, which answers it as before.
    """

    def __init__(self, path: str, respond: Respond, ack: Callable[[int, int], None],
                 refer: Callable[[Incoming], None], answered: Callable[[float], None],
                 ticks: Callable[[], float] = time.monotonic) -> None:
        self._db = connect(path, read_only=True)
        self._devices = Devices(self._db, ticks)
        self._respond = respond
        self._ack = ack
        self._refer = refer
        self._answered = answered
        self._in_hand: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._reads: queue.SimpleQueue[tuple[Incoming, str, envelope.Envelope] | None] = \
            queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="central-reads", daemon=True)

    def start(self) -> None:
        """Start answering."""
        self._thread.start()

    def stop(self) -> None:
        """Answer what is queued, then stop and close the lane's connection."""
        self._reads.put(None)
        if self._thread.is_alive():
            self._thread.join(10)
        self._db.close()

    def handed(self, topic: str) -> None:
        """A message on `topic` went to the worker."""
        if dev := _ordered(topic):
            with self._lock:
                self._in_hand[dev] += 1

    def finished(self, topics: list[str]) -> None:
        """The worker committed and acknowledged the messages on these topics."""
        senders = [dev for t in topics if (dev := _ordered(t))]
        with self._lock:
            self._in_hand.subtract(senders)
            for dev in set(senders):
                if self._in_hand[dev] <= 0:
                    del self._in_hand[dev]

    def in_hand(self, dev: str) -> int:
        """How many messages of `dev` the worker has not finished."""
        return self._in_hand.get(dev, 0)

    def take(self, inc: Incoming, dev: str) -> bool:
        """On the link's thread: queue `inc` for this lane if it is a read-only request the
        lane may answer; False: the worker must have it."""
        if inc.response_topic != topics.response(dev) or self.in_hand(dev):
            return False
        try:
            env = envelope.decode(inc.payload)
        except InvalidMessage:
            return False
        h = REGISTRY.get(env.type)
        if h is None or not h.read_only:
            return False
        self._reads.put((inc, dev, env))
        return True

    def _run(self) -> None:
        while (item := self._reads.get()) is not None:
            try:
                self._answer(*item)
            except Exception:  # noqa: BLE001 - the lane must outlive any one request
                log.exception("the read lane failed on %s from %s; the worker takes it",
                              item[2].id, item[1])
                self._refer(item[0])

    def _answer(self, inc: Incoming, dev: str, env: envelope.Envelope) -> None:
        admitted = admit(self._devices, env, dev)
        if not isinstance(admitted, tuple):
            self._refer(inc)   # refused: the worker keeps the refusal for a retry
            return
        self._send(dev, inc, self._read(*admitted, env), env.id)
        self._ack(inc.mid, inc.qos)
        self._answered(time.monotonic() - inc.received)

    def _read(self, device: Device, h: Handler[Any, Any], env: envelope.Envelope) -> Reply:
        """The handler's answer from one snapshot of the store; any failure is its
        `internal_error`, as in the worker."""
        now = datetime.now(UTC)
        with self._db.snapshot():
            try:
                return answer(h, Context(self._db, device, env.id, env.at, now, env.seq,
                                         now.isoformat()), env)
            except Exception:  # noqa: BLE001 - one request's failure must not end the link
                log.exception("central could not answer %s %s from %s", env.type, env.id,
                              device.id)
                return failed()

    def _send(self, dev: str, inc: Incoming, body: Reply, re: str) -> None:
        """Send the answer; one that cannot be encoded is answered `internal_error`."""
        try:
            self._respond(dev, inc.correlation, msgspec.structs.replace(body, re=re))
        except Exception:  # noqa: BLE001 - an answer that cannot be sent is still answered
            log.exception("central could not encode its answer to %s from %s", re, dev)
            self._respond(dev, inc.correlation, failed(re))


def _ordered(topic: str) -> str | None:
    """The device whose order a message on `topic` keeps: one of its events or requests
    (`lib/v1/dev/{dev}/evt`, `…/req`), not a status, which no read depends on. Cheap: every
    event passes here."""
    parts = topic.split("/")
    return parts[3] if len(parts) == 5 and parts[4] != "status" else None
