"""Read-only requests answered as they arrive, on the link's thread, from a read-only
connection of their own: a kiosk's account never waits behind a batch of door events."""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec

from central.handlers import REGISTRY, Context, Device, Handler
from central.ingest import Devices, Reply, admit, answer, refusal
from edge_common import envelope, topics
from edge_common.errors import InvalidMessage
from edge_common.link import Incoming
from edge_common.migrations import open_db

log = logging.getLogger(__name__)
Respond = Callable[[str, bytes | None, Reply], None]


class ReadLane:
    """Answers a read-only request at once, unless something earlier from its device is still
    in the worker's hands: a device's read then waits its turn, and sees its own writes.

    Everything else (writes, events, statuses, refusals a retry must get again, anything
    unreadable) goes to the worker, which answers it as before.
    """

    def __init__(self, path: str, respond: Respond, ack: Callable[[int, int], None],
                 answered: Callable[[float], None],
                 ticks: Callable[[], float] = time.monotonic) -> None:
        self._db = open_db(path)
        self._db.conn.execute("PRAGMA query_only = ON")
        self._devices = Devices(self._db, ticks)
        self._respond = respond
        self._ack = ack
        self._answered = answered
        self._in_hand: Counter[str] = Counter()
        self._lock = threading.Lock()

    def handed(self, dev: str) -> None:
        """A message of `dev` went to the worker."""
        with self._lock:
            self._in_hand[dev] += 1

    def finished(self, devs: Iterable[str]) -> None:
        """The worker committed and acknowledged these messages (one `dev` each)."""
        with self._lock:
            self._in_hand.subtract(devs)
            self._in_hand += Counter()  # drop the devices with nothing left

    def in_hand(self, dev: str) -> int:
        """How many messages of `dev` the worker has not finished."""
        return self._in_hand[dev]

    def take(self, inc: Incoming, dev: str) -> bool:
        """Answer `inc` now if it is a read-only request this lane may answer; False: the
        worker must have it."""
        if inc.response_topic != topics.response(dev) or self.in_hand(dev):
            return False
        try:
            env = envelope.decode(inc.payload)
        except InvalidMessage:
            return False
        h = REGISTRY.get(env.type)
        if h is None or not h.read_only:
            return False
        admitted = admit(self._devices, env, dev)
        if not isinstance(admitted, tuple):
            return False
        self._send(dev, inc, self._read(*admitted, env), env.id)
        self._ack(inc.mid, inc.qos)
        self._answered(time.monotonic() - inc.received)
        return True

    def close(self) -> None:
        """Close the lane's connection."""
        self._db.conn.close()

    def _read(self, device: Device, h: Handler[Any, Any], env: envelope.Envelope) -> Reply:
        """The handler's answer from one snapshot of the store; any failure is its
        `internal_error`, as in the worker."""
        conn = self._db.conn
        now = datetime.now(UTC)
        conn.execute("BEGIN")
        try:
            return answer(h, Context(self._db, device, env.id, env.at, now, env.seq,
                                     now.isoformat()), env)
        except Exception:  # noqa: BLE001 - one request's failure must not end the link
            log.exception("central could not answer %s %s from %s", env.type, env.id, device.id)
            return refusal("internal_error", "central could not apply this message")
        finally:
            conn.execute("ROLLBACK")

    def _send(self, dev: str, inc: Incoming, body: Reply, re: str) -> None:
        """Send the answer; one that cannot be encoded is answered `internal_error`."""
        try:
            self._respond(dev, inc.correlation, msgspec.structs.replace(body, re=re))
        except Exception:  # noqa: BLE001 - an answer that cannot be sent is still answered
            log.exception("central could not encode its answer to %s from %s", re, dev)
            self._respond(dev, inc.correlation, refusal(
                "internal_error", "central could not apply this message", re))

