"""The device coordinator: one thread that sends the outbox, answers the link and wires the rest.

Dataset sync lives in `datasync`, the retained status in `status`; both run on this thread.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import msgspec

from edge_common import envelope, topics
from edge_common.card_keys import CardKeys, key_id
from edge_common.cardid import card_hash
from edge_common.commands import Command, CommandGuard, CommandRefused
from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
from edge_common.datasync import DataSync
from edge_common.errors import EdgeError, InvalidMessage, OfflineError
from edge_common.link import Incoming, MqttLink, publish_properties
from edge_common.outbox import Outbox, Pending, Priority
from edge_common.protocol import Answer, Body, Message
from edge_common.protocol.backbone import Ack, CentralPresence
from edge_common.protocol.commands import COMMAND_RESULT, CardKeyArgs, CommandResult
from edge_common.protocol.datasets import ALLOWLIST, AllowEntry, decode_row
from edge_common.replica import Replicas
from edge_common.requests import Requests
from edge_common.sendplan import SendPlan
from edge_common.status import DatasetHealth, Health, OutboxFacts, StatusReport

log = logging.getLogger(__name__)
B = TypeVar("B", bound=Body)
A = TypeVar("A", bound=Answer)


class DeviceRuntime:
    """Outbox, requests, replicated datasets, commands and status of one device.

    One coordinator thread owns the send plan, the dataset sync, the command guard and the
    status. The link's callbacks only post to its queue, except responses, which resolve their
    waiter on the link's thread (a caller's future, or a post back to the queue for the
    coordinator's own pulls). Three kinds of call run on the caller's thread: `emit` and
    `emit_many` commit to the outbox there (under the outbox's lock, durable on return) and
    only wake the coordinator, which sends; `request` publishes there through
    `MqttLink.publish`, which any thread may call (the coordinator publishes events through
    it too), and waits there for the answer, so a request never queues behind an outbox
    drain; the read-only accessors read SQLite there, through connections made for use from
    any thread. `stop` publishes the offline status on its caller's thread, after the
    coordinator has ended.
    """

    def __init__(
        self,
        device: DeviceSection,
        mqtt: MqttConfig,
        outbox: OutboxConfig,
        *,
        version: str,
        datasets: Sequence[str] = (),
        on_command: Callable[[Command], dict[str, Any] | None] | None = None,
        status_extra: Callable[[], dict[str, Any]] | None = None,
        sync_check_interval: float = 60.0,
    ) -> None:
        self.device = device
        self.version = version
        self.datasets = tuple(datasets)
        data = Path(device.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        self._outbox = Outbox(str(data / "outbox.db"), device.id, outbox)
        self._replicas = Replicas(str(data / "replica.db"))
        key = bytes.fromhex(device.command_key) if device.command_key else None
        if key is None:
            log.warning("%s: no command_key configured: commands from central are refused",
                        device.id)
        self.guard = CommandGuard(str(data / "commands.db"), device.id, key)
        self.card_keys = CardKeys(data, device.card_key)
        self.plan = SendPlan(outbox)
        self.requests = Requests()
        self._on_command = on_command
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.stats = {"invalid": 0, "sent": 0, "resent": 0, "acked": 0, "rejected": 0}
        self._status = StatusReport(
            device.id, device.kind, version, interval=device.status_interval,
            outbox=self._outbox_facts, versions=lambda: self._sync.versions(),
            extra=status_extra or dict,
            publish=lambda topic, payload: self.link.publish(topic, payload, qos=1, retain=True),
        )
        self._status.config_version = device.config_version
        self._status.card_key = key_id(self.card_keys.keys[0])
        self._sync = DataSync(device.id, self._replicas, self.datasets, self._ask,
                              changed=self._status.soon, invalid=self._count_invalid,
                              check_interval=sync_check_interval)
        dev = device.id
        self._res_topic = topics.device(dev, "res")
        subs = [(topics.device(dev, c), 1) for c in ("ack", "res", "cmd")]
        subs += [(topics.sync(device.site, d), 1) for d in self.datasets]
        subs.append((topics.CENTRAL_STATUS_ALL, 1))
        self._central_workers: set[str] = set()
        self._link_since = self._central_since = time.time()
        self._central_was = False
        self.link = MqttLink(
            dev, mqtt, subscriptions=subs, on_message=self._post_message,
            on_state=lambda up: self._queue.put(("link", up)),
            will=lambda: self._status.message(online=False),
        )
        self._thread = threading.Thread(target=self._run, name=f"coord-{dev}", daemon=True)

    # --- public API (any thread) -------------------------------------------------------

    def start(self) -> None:
        """Start the coordinator and the link."""
        self._thread.start()
        self.link.start()

    def stop(self) -> None:
        """Stop the coordinator, say offline, stop the link and close the databases.

        The offline status is published on this thread once the coordinator has ended. Safe
        after a start that failed half-way, or none.
        """
        self._stopping.set()
        self._queue.put(("stop", None))
        if self._thread.is_alive():
            self._thread.join(10)
        self._status.publish(online=False)  # False when the link is down: the will says it
        self.link.stop()
        self._outbox.close()
        self._replicas.close()
        self.guard.close()

    def emit(self, message: Message[B, Any], body: B, priority: Priority = Priority.KEEP,
             id: str | None = None, at: datetime | None = None) -> str:
        """Commit a declared event on this thread (durable on return); the coordinator sends it.

        `at` dates it when it happened (an offline return: when the item went in), not now.
        """
        message.check(body)
        env = self._outbox.add(message.type, body, priority, id, at)
        self._poke()
        return env.id

    def emit_many(self, events: Sequence[tuple[Message[Any, Any], Body, Priority]]) -> list[str]:
        """Commit several declared events with one fsync, like `emit`."""
        for message, body, _ in events:
            message.check(body)
        envs = self._outbox.add_many([(m.type, b, p) for m, b, p in events])
        self._poke()
        return [e.id for e in envs]

    def request(self, message: Message[B, A], body: B, timeout: float | None = None,
                id: str | None = None, at: datetime | None = None) -> A:
        """Ask central and wait for the declared answer; raises OfflineError, RequestTimeout,
        RemoteError (central's code) or InvalidMessage (`answer_invalid`).

        Publishes and waits on this thread. Retrying with the same `id` returns central's
        stored answer, never a second effect; `at` dates it when it happened, if not now.
        """
        message.check(body)
        if not self.link.connected:
            raise OfflineError("no link to central")
        timeout = timeout or self.device.request_timeout
        env = envelope.make(message.type, self.device.id, body, id=id, at=at)
        fut = self.requests.future(env.id, time.monotonic() + timeout)
        self._publish_request(env)
        return message.decode_answer(fut.result(timeout + 1))

    @property
    def central_up(self) -> bool:
        """Whether the broker is reachable and at least one central worker serves."""
        return self.link.connected and bool(self._central_workers)

    def call(self, fn: Callable[[], object]) -> None:
        """Run `fn` on the coordinator thread."""
        self._queue.put(("call", fn))

    def set_alarm(self, name: str, active: bool) -> None:
        """Raise or clear an alarm shown in the retained status."""
        self.call(lambda: self._status.set_alarm(name, active))

    def config_applied(self, version: int) -> None:
        """Report from now on that central's config `version` is in force."""
        self.call(lambda: self._status.set_config_version(version))

    def refresh_status(self) -> None:
        """Publish the retained status soon (e.g. when what `status_extra` returns changed)."""
        self.call(self._status.soon)

    def lookup(self, dataset: str, key: str) -> bytes | None:
        """A replicated row's raw JSON, or None."""
        return self._replicas.get(dataset, key)

    def row(self, dataset: str, key: str) -> Any:
        """A replicated row as its declared Struct, or None: missing, or unreadable (logged;
        an unreadable row proves nothing, so callers treat it as no row)."""
        raw = self._replicas.get(dataset, key)
        try:
            return decode_row(dataset, raw) if raw else None
        except msgspec.MsgspecError:
            log.warning("%s: %s row unreadable (row_invalid)", self.device.id, dataset)
            return None

    def listed(self, uid: str) -> tuple[str, AllowEntry | None]:
        """A card's hash and allow-list entry, under the site's newest key or, while a rotation
        overlaps, the previous one (the hash under the newest key when neither lists it)."""
        found: list[tuple[str, AllowEntry | None]] = []
        for key in self.card_keys.keys:
            hashed = card_hash(key, uid)
            found.append((hashed, self.row(ALLOWLIST, hashed)))
            if found[-1][1] is not None:
                return found[-1]
        return found[0]

    def rows(self, dataset: str) -> list[Any]:
        """Every readable row of a small replicated dataset as its declared Struct, by key
        (unreadable rows are logged and left out, as `row` does)."""
        found = []
        for _, raw in self._replicas.rows(dataset):
            try:
                found.append(decode_row(dataset, raw))
            except msgspec.MsgspecError:
                log.warning("%s: %s row unreadable (row_invalid)", self.device.id, dataset)
        return found

    def synced_at(self, dataset: str) -> float | None:
        """Wall-clock time `dataset` was last confirmed current with central (None: never)."""
        return self._replicas.synced_at(dataset)

    def pending(self, type: str, card: str) -> int:
        """How many events of `type` for `card` (a card hash) wait in the outbox."""
        return self._outbox.pending(type, card)

    def health(self) -> Health:
        """A frozen snapshot of the link, central, the outbox, the datasets and the alarms."""
        box = self._outbox_facts()
        return Health(
            at=time.time(), link_up=self.link.connected, link_since=self._link_since,
            central_up=self.central_up, central_since=self._central_since,
            outbox_depth=box.depth, oldest_at=box.oldest_at,
            dropped=box.dropped, over_capacity=box.over_capacity,
            datasets=MappingProxyType({
                d: DatasetHealth(self._replicas.version(d), self._replicas.synced_at(d))
                for d in self.datasets}),
            alarms=self._status.alarms(box),
        )

    # --- wiring -------------------------------------------------------------------------

    def _outbox_facts(self) -> OutboxFacts:
        box = self._outbox
        oldest = box.oldest_at()
        return OutboxFacts(box.depth, box.dropped, box.over_capacity,
                           oldest.timestamp() if oldest else None)

    def _count_invalid(self) -> None:
        self.stats["invalid"] += 1

    def _ask(self, message: Message[B, A], body: B, timeout: float,
             callback: Callable[[A | None, EdgeError | None], None]) -> None:
        """Send a request without waiting; `callback(answer, error)` runs on the coordinator."""
        message.check(body)
        env = envelope.make(message.type, self.device.id, body)

        def done(result: dict[str, Any] | None, error: EdgeError | None) -> None:
            answer: A | None
            if error is None:
                try:
                    answer = message.decode_answer(result)
                except InvalidMessage as exc:
                    answer, error = None, exc
            self.call(lambda: callback(None if error else answer, error))

        self.requests.add(env.id, time.monotonic() + timeout, done)
        self._publish_request(env)

    def _publish_request(self, env: envelope.Envelope) -> None:
        """Publish a tracked request; when the link does not take it, fail it at once."""
        props = publish_properties(self._res_topic, env.id.encode())
        if not self.link.publish(topics.device(self.device.id, "req"), envelope.encode(env),
                                 qos=1, properties=props):
            self.requests.cancel(env.id, OfflineError("no link to central"))

    # --- coordinator thread ------------------------------------------------------------

    def _poke(self) -> None:
        if not self._wake.is_set():
            self._wake.set()
            self._queue.put(("wake", None))

    def _post_message(self, msg: Incoming) -> None:
        """Link callback: responses resolve their waiter at once, everything else is queued."""
        if msg.topic == self._res_topic:
            self._response(msg)
        else:
            self._queue.put(("msg", msg))

    def _decode(self, msg: Incoming) -> envelope.Envelope | None:
        try:
            return envelope.decode(msg.payload)
        except InvalidMessage as exc:
            self._count_invalid()
            log.warning("%s: dropped message on %s: %s", self.device.id, msg.topic, exc.code)
            return None

    def _response(self, msg: Incoming) -> None:
        env = self._decode(msg)
        if env is None:
            return
        re = env.body.get("re") if isinstance(env.body.get("re"), str) else None
        corr = msg.correlation.decode("ascii", "replace") if msg.correlation else re
        if corr is None or not self.requests.resolve(corr, env.body):
            log.info("%s: response nobody waits for (%s)", self.device.id, corr)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                item = self._queue.get(timeout=self._wait())
            except queue.Empty:
                item = None
            while item is not None:
                if item[0] == "stop":
                    return
                self._handle(*item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the coordinator must outlive any bug in a step
                log.exception("coordinator step failed")

    def _wait(self) -> float:
        """Seconds until the coordinator has something to do without being woken."""
        now = time.monotonic()
        waits = [1.0]
        deadline = self.requests.next_deadline()
        if deadline is not None:
            waits.append(deadline - now)
        if self.link.connected:
            waits.append(self._status.wait(now))
            nxt = self.plan.next_wakeup(now)
            if nxt is not None:
                waits.append(nxt)
            if self.plan.new_capacity(now) == 0 and self.plan.inflight:
                waits.append(0.05)
        return max(0.001, min(waits))

    def _handle(self, kind: str, arg: Any) -> None:
        try:
            if kind == "msg":
                self._message(arg)
            elif kind == "link":
                self._link_changed(arg)
            elif kind == "call":
                arg()
            elif kind == "wake":
                self._wake.clear()
        except Exception:  # noqa: BLE001 - one bad message or callback must not stop the device
            log.exception("coordinator failed handling %s", kind)

    def _tick(self) -> None:
        now = time.monotonic()
        self.requests.expire(now)
        if not self.link.connected:
            return
        self._pump(now)
        self._status.tick(now)
        self._sync.tick(now)

    def _pump(self, now: float) -> None:
        due = self.plan.due(now)
        if due:
            found = self._outbox.get(due)
            self.plan.forget(set(due) - {p.id for p in found})
            for p in found:
                if not self._send(p, now):
                    return
                self.stats["resent"] += 1
        room = self.plan.new_capacity(now)
        if room:
            for p in self._outbox.after(self.plan.cursor, room):
                if not self._send(p, now):
                    return
                self.stats["sent"] += 1

    def _send(self, p: Pending, now: float) -> bool:
        if not self.link.publish(topics.device(self.device.id, "evt"), p.payload, qos=1):
            return False
        self.plan.sent(p.id, p.seq, now)
        return True

    def _link_changed(self, up: bool) -> None:
        log.info("%s: link %s", self.device.id, "up" if up else "down")
        self._link_since = time.time()
        if up:
            self.plan.link_up(time.monotonic())
            self._status.soon()
            self._sync.link_up()
        else:
            self._central_workers.clear()  # learnt again from the retained statuses
        self._note_central()

    def _note_central(self) -> None:
        """Remember when central last became reachable or unreachable."""
        up = self.central_up
        if up != self._central_was:
            self._central_was = up
            self._central_since = time.time()

    def _message(self, msg: Incoming) -> None:
        env = self._decode(msg)
        if env is None:
            return
        parsed = topics.parse_device(msg.topic)
        if parsed and parsed[1] == "ack":
            self._acked(env)
        elif parsed and parsed[1] == "cmd":
            self._command(env)
        elif topics.parse_sync(msg.topic):
            self._sync.delta(env.body)
        elif (worker := topics.parse_central_status(msg.topic)) is not None:
            try:
                online = msgspec.convert(env.body, CentralPresence).online
            except msgspec.ValidationError:
                return self._malformed("central status")
            self._central_presence(worker, online)

    def _central_presence(self, worker: str, online: bool) -> None:
        """A central worker came or went; when central is back, pull and resend now."""
        was_up = bool(self._central_workers)
        (self._central_workers.add if online else self._central_workers.discard)(worker)
        self._note_central()
        if self._central_workers and not was_up:
            log.info("%s: central is serving (%s)", self.device.id, worker)
            self._sync.central_back()
            now = time.monotonic()
            for flight in self.plan.inflight.values():
                flight.deadline = min(flight.deadline, now)

    def _command(self, env: envelope.Envelope) -> None:
        """Run a command from central once, before its expiry, and report the outcome."""
        name, nonce = env.body.get("name"), env.body.get("nonce")
        try:
            cmd = self.guard.admit(env.body, datetime.now(UTC))
            if cmd.name == "resync":
                self._sync.resync()
                result = {}
            elif cmd.name == "card_key":
                result = self._new_card_key(cmd)
            elif self._on_command is None:
                raise CommandRefused(f"unknown command {cmd.name}", code="command_unknown")
            else:
                result = self._on_command(cmd) or {}
            outcome = CommandResult(name=str(name)[:40], nonce=str(nonce)[:64], ok=True,
                                    result=result)
        except EdgeError as exc:
            log.warning("%s: command %s refused: %s", self.device.id, name, exc.code)
            outcome = CommandResult(name=str(name)[:40], nonce=str(nonce)[:64], ok=False,
                                    code=exc.code)
        except Exception:  # noqa: BLE001 - report a failing command instead of losing it
            log.exception("%s: command %s failed", self.device.id, name)
            outcome = CommandResult(name=str(name)[:40], nonce=str(nonce)[:64], ok=False,
                                    code="command_failed")
        self.emit(COMMAND_RESULT, outcome)

    def _new_card_key(self, cmd: Command) -> dict[str, Any]:
        """Hash with the site's new card key from now on (and with the old one meanwhile)."""
        try:
            args = msgspec.convert(cmd.args, CardKeyArgs)
        except msgspec.ValidationError as exc:
            raise CommandRefused(str(exc), code="command_invalid") from exc
        self.card_keys.rotate(args.key)
        self._status.card_key = key_id(self.card_keys.keys[0])
        self._status.soon()
        return {"key_id": self._status.card_key}

    def _acked(self, env: envelope.Envelope) -> None:
        try:
            ack = msgspec.convert(env.body, Ack)
        except msgspec.ValidationError:
            return self._malformed("ack")
        for r in ack.rejected:
            log.warning("%s: central rejected event %s: %s", self.device.id, r.id, r.code)
        ids = [*ack.ids, *(r.id for r in ack.rejected)]
        self._outbox.acked(ids)
        self.plan.forget(ids)
        self.stats["acked"] += len(ids)
        self.stats["rejected"] += len(ack.rejected)

    def _malformed(self, what: str) -> None:
        self._count_invalid()
        log.warning("%s: malformed %s ignored (message_invalid)", self.device.id, what)
