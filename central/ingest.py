"""Exactly-once application of device messages: each effect commits with its (dev, id) row."""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from central import rejected
from central.database import Database
from central.handlers import BEFORE_COMMIT, REGISTRY, Context, Counted, Device, Handler
from edge_common.envelope import Envelope
from edge_common.errors import EdgeError
from edge_common.protocol import Answer
from edge_common.protocol.backbone import Error, Rejected, Response

log = logging.getLogger(__name__)
DEVICE_SECONDS = 5.0  # how long a worker trusts what it read of a device
_json = msgspec.json.Encoder()
_decode = msgspec.json.Decoder()
_stored = msgspec.json.Decoder(Response[Any])  # an answer kept for replay
Reply = Response[Any]  # an answer Struct fresh from its handler, a mapping when replayed


@dataclass
class Message:
    """A decoded device message and where it came from."""

    dev: str
    channel: str
    env: Envelope
    payload: bytes
    response_topic: str | None = None
    correlation: bytes | None = None


@dataclass
class Outcome:
    """What to tell devices after a batch commits."""

    acks: dict[str, list[str]] = field(default_factory=dict)
    rejected: dict[str, list[Rejected]] = field(default_factory=dict)
    responses: list[tuple[Message, Reply]] = field(default_factory=list)
    applied: int = 0
    duplicates: int = 0
    kept_rejected: int = 0


def _ok(result: Answer) -> Reply:
    """The `Response` for an answer."""
    return Response(ok=True, result=result)


def refusal(code: str, message: str, re: str = "") -> Reply:
    """The `Response` for a refusal; the words are cut, as they are kept."""
    return Response(re=re, ok=False, error=Error(code, message[:rejected.MESSAGE_CHARS]))


class Devices:
    """Enrolled, unrevoked devices as one connection reads them, each read again every
    DEVICE_SECONDS so that a revocation (by staff, in another process) takes effect within
    seconds."""

    def __init__(self, db: Database, ticks: Callable[[], float]) -> None:
        self.db = db
        self.ticks = ticks
        self._seen: dict[str, tuple[float, Device | None]] = {}

    def get(self, dev: str) -> Device | None:
        """The device with this id, or None when it is not enrolled or was revoked."""
        now = self.ticks()
        cached = self._seen.get(dev)
        if cached is None or cached[0] < now:
            row = self.db.execute(
                "SELECT id, site, kind FROM devices WHERE id = ? AND revoked_at IS NULL", (dev,)
            ).fetchone()
            cached = self._seen[dev] = (now + DEVICE_SECONDS, Device(*row) if row else None)
        return cached[1]


def admit(devices: Devices, env: Envelope,
          dev: str) -> tuple[Device, Handler[Any, Any]] | Reply:
    """The sender and the handler of a message from `dev`, or the refusal that keeps it from
    its handler."""
    h = REGISTRY.get(env.type)
    device = devices.get(dev)
    if env.dev != dev:
        return refusal("dev_mismatch", "envelope dev differs from the topic")
    if device is None:
        return refusal("device_unknown", "device is not enrolled or was revoked")
    if h is None:
        return refusal("type_unknown", f"no handler for {env.type}")
    if h.message.senders is not None and device.kind not in h.message.senders:
        return refusal("type_not_allowed", f"{device.kind} may not send {env.type}")
    return device, h


def failed(re: str = "") -> Reply:
    """The answer to a message central failed on (`internal_error`)."""
    return refusal("internal_error", "central could not apply this message", re)


def answer(h: Handler[Any, Any], ctx: Context, env: Envelope,
           undo: Callable[[], object] = lambda: None) -> Reply:
    """Run one handler: its answer, or its refusal (`EdgeError`) with the code it raised,
    after `undo()` for every refusal but a `Counted` one (what that one wrote stands)."""
    try:
        return _ok(h.run(ctx, env.body))
    except EdgeError as exc:
        if not isinstance(exc, Counted):
            undo()
        return refusal(exc.code, str(exc))


class Applier:
    """Applies batches of device messages in one transaction each."""

    def __init__(self, db: Database,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                 keep_rejected: int = rejected.KEEP,
                 ticks: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self.clock = clock
        self.keep_rejected = keep_rejected
        self.devices = Devices(db, ticks)
        self._received = ""

    def apply(self, batch: Sequence[Message]) -> Outcome:
        """Apply a batch atomically; duplicates get their stored answer, not a second effect.

        Each message runs in its own savepoint: whatever fails in one (its handler, its
        answer's encoding, any exception at all) undoes only its own writes and becomes its
        `internal_error`, and the others still commit.
        """
        out = Outcome()
        now = self.clock()
        self._received = now.isoformat()   # once per batch: every row it writes says this
        conn = self.db
        with conn.transaction():
            for msg in batch:
                body = self._contained(conn, msg, now, out)
                if msg.channel == "evt":
                    if body.error is None:
                        out.acks.setdefault(msg.dev, []).append(msg.env.id)
                    else:
                        out.rejected.setdefault(msg.dev, []).append(
                            Rejected(msg.env.id, body.error.code))
                elif msg.response_topic:
                    out.responses.append((msg, msgspec.structs.replace(body, re=msg.env.id)))
            if out.kept_rejected:
                rejected.trim(conn, self.keep_rejected)
            for settle in BEFORE_COMMIT:
                settle(self.db)
        return out

    def _contained(self, conn: Database, msg: Message, now: datetime,
                   out: Outcome) -> Reply:
        """`_one` in a savepoint: any failure undoes only its writes and is its `internal_error`."""
        conn.execute("SAVEPOINT message")
        try:
            body = self._one(conn, msg, now, out)
        except Exception:  # noqa: BLE001 - one message's failure must not fail its batch
            conn.execute("ROLLBACK TO message")
            log.exception("central could not apply %s %s from %s", msg.env.type, msg.env.id,
                          msg.dev)
            body = failed()
            h = REGISTRY.get(msg.env.type)
            if h is None or not h.read_only:
                self._record(conn, msg, body, _json.encode(body), out)
                out.applied += 1
        conn.execute("RELEASE message")
        return body

    def _one(self, conn: Database, msg: Message, now: datetime,
             out: Outcome) -> Reply:
        env = msg.env
        stored = conn.execute(
            "SELECT response FROM processed WHERE dev = ? AND id = ?", (msg.dev, env.id)
        ).fetchone()
        if stored is not None:
            out.duplicates += 1
            return _stored.decode(stored[0])
        admitted = admit(self.devices, env, msg.dev)
        read_only = False
        if isinstance(admitted, tuple):
            device, h = admitted
            # a refusal undoes the handler's writes, back to the message's savepoint where
            # nothing else was written yet; any other exception is left to `_contained`
            body = answer(h, Context(self.db, device, env.id, env.at, now, env.seq,
                                     self._received), env,
                          lambda: conn.execute("ROLLBACK TO message"))
            read_only = h.read_only
        else:
            body = admitted
        encoded = _json.encode(body)  # read-only answers too: one that cannot be sent fails here
        if read_only:
            return body
        self._record(conn, msg, body, encoded, out)
        out.applied += 1
        return body

    def _record(self, conn: Database, msg: Message, body: Reply,
                encoded: bytes, out: Outcome) -> None:
        """Store a message's answer for replay, and keep a refused event in `rejected`."""
        env = msg.env
        conn.execute(
            "INSERT INTO processed VALUES (?, ?, ?, ?, ?)",
            (msg.dev, env.id, env.type, self._received, encoded),
        )
        if body.error is not None and msg.channel == "evt":
            rejected.keep(conn, msg.dev, env.id, env.type, body.error.code, body.error.message,
                          msg.payload, self._received)
            out.kept_rejected += 1
            log.warning("rejected %s from %s: %s", env.type, msg.dev, body.error.code)


def prune(db: Database, before: datetime) -> int:
    """Forget processed ids received before `before`; return how many.

    A device must not re-send an event older than this, so keep it well above the longest
    offline period a device may have (default: 90 days).
    """
    with db.transaction():
        cur = db.execute("DELETE FROM processed WHERE received_at < ?", (before.isoformat(),))
    return cur.rowcount


def scrub(db: Database, values: Sequence[str]) -> int:
    """Blank every text equal to one of `values` in the stored answers (an erased patron's
    name on a hold slip), in the caller's transaction: a request retried later gets its
    answer, without them. Returns how many answers changed."""
    wanted = {v for v in values if v}
    changed = 0
    for value in wanted:
        rows = db.execute("SELECT dev, id, response FROM processed"
                               f" WHERE {db.holds('response')}", (value.encode(),)).fetchall()
        for dev, id_, response in rows:
            db.execute("UPDATE processed SET response = ? WHERE dev = ? AND id = ?",
                            (_json.encode(_blank(_decode.decode(response), wanted)), dev, id_))
            changed += 1
    return changed


def _blank(value: Any, wanted: set[str]) -> Any:
    """`value` with every string in `wanted` made empty, however deep."""
    if isinstance(value, dict):
        return {k: _blank(v, wanted) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v, wanted) for v in value]
    return "" if isinstance(value, str) and value in wanted else value
