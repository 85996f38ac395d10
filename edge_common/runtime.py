"""The device runtime: the parts every device needs from the network, wired on one thread.

The parts, each with one job: `Sender` (the outbox pump), `Requester` (requests to central),
`CommandRouter` (central's commands to the routes a device registers), `Cards` (card hashes
and the allow-list), `Presence` (whether central serves), `DataSync` (replicated datasets) and
`StatusReport` (the retained status). They run on the runtime's `Coordinator`.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import msgspec

from edge_common import envelope, topics
from edge_common.card_keys import CardKeys, key_id
from edge_common.cards import Cards
from edge_common.command_router import CommandRouter
from edge_common.commands import CommandGuard
from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
from edge_common.coordinator import Coordinator
from edge_common.datasync import DataSync
from edge_common.errors import InvalidMessage
from edge_common.link import Incoming, MqttLink
from edge_common.outbox import Priority
from edge_common.presence import Presence
from edge_common.protocol import Answer, Body, Message
from edge_common.protocol.backbone import CentralPresence
from edge_common.protocol.commands import COMMAND_RESULT, CardKeyArgs, NoArgs
from edge_common.protocol.datasets import ALLOWLIST, AllowEntry, decode_row
from edge_common.replica import Replicas
from edge_common.requester import Requester
from edge_common.sender import Sender
from edge_common.status import DatasetHealth, Health, StatusReport

log = logging.getLogger(__name__)
B = TypeVar("B", bound=Body)
A = TypeVar("A", bound=Answer)


@dataclass(frozen=True)
class _Message:
    """A message from the broker, for the coordinator."""

    msg: Incoming


@dataclass(frozen=True)
class _Link:
    """The link came up or went down."""

    up: bool


class _Wake:
    """Something was committed to the outbox: send it."""


class DeviceRuntime:
    """Outbox, requests, replicated datasets, commands and status of one device.

    One coordinator thread owns the send plan, the dataset sync, the command router and the
    status. The link's callbacks only post to it, except responses, which resolve their waiter
    on the link's thread (a caller's future, or a post back to the coordinator for its own
    pulls). Three kinds of call run on the caller's thread: `emit` and `emit_many` commit to
    the outbox there (durable on return) and only wake the coordinator, which sends; `request`
    publishes there through `MqttLink.publish`, which any thread may call, and waits there for
    the answer, so a request never queues behind an outbox drain; the read-only accessors read
    SQLite there, through connections made for use from any thread. `stop` publishes the
    offline status on its caller's thread, after the coordinator has ended.
    """

    def __init__(
        self,
        device: DeviceSection,
        mqtt: MqttConfig,
        outbox: OutboxConfig,
        *,
        version: str,
        datasets: Sequence[str] = (),
        status_extra: Callable[[], dict[str, Any]] | None = None,
        sync_check_interval: float = 60.0,
    ) -> None:
        self.device = device
        self.version = version
        self.datasets = tuple(datasets)
        dev = device.id
        data = Path(device.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        self.stats = {"invalid": 0, "sent": 0, "resent": 0, "acked": 0, "rejected": 0}
        self.coordinator = Coordinator(
            f"coord-{dev}", {_Message: lambda e: self._message(e.msg),
                             _Link: lambda e: self._link_changed(e.up),
                             _Wake: lambda _: self._woken.clear()},
            tick=lambda: self._tick(), wait=lambda: self._wait())
        self._woken = threading.Event()
        self._replicas = Replicas(str(data / "replica.db"))
        self.presence = Presence()
        self._status = StatusReport(
            dev, device.kind, version, interval=device.status_interval,
            outbox=lambda: self.sender.facts(), versions=lambda: self._sync.versions(),
            extra=status_extra or dict,
            publish=lambda topic, payload: self.link.publish(topic, payload, qos=1, retain=True),
        )
        subs = [(topics.device(dev, c), 1) for c in ("ack", "res", "cmd")]
        subs += [(topics.sync(device.site, d), 1) for d in self.datasets]
        subs.append((topics.CENTRAL_STATUS_ALL, 1))
        self._link_since = time.time()
        self.link = MqttLink(
            dev, mqtt, subscriptions=subs, on_message=self._post_message,
            on_state=lambda up: self.coordinator.post(_Link(up)),
            will=lambda: self._status.message(online=False),
        )
        self.sender = Sender(str(data / "outbox.db"), dev, outbox, self.link, self._poke,
                             self.stats)
        self.requester = Requester(dev, self.link, device.request_timeout, self._decode,
                                   self.call)
        self.cards = Cards(CardKeys(data, device.card_key),
                           lambda hashed: self.row(ALLOWLIST, hashed))
        key = bytes.fromhex(device.command_key) if device.command_key else None
        if key is None:
            log.warning("%s: no command_key configured: commands from central are refused", dev)
        self.commands = CommandRouter(CommandGuard(str(data / "commands.db"), dev, key), dev,
                                      lambda result: self.emit(COMMAND_RESULT, result))
        self.commands.route("resync", self._resync)
        self.commands.route("card_key", self._new_card_key)
        self._status.config_version = device.config_version
        self._status.card_key = key_id(self.cards.keys.keys[0])
        self._sync = DataSync(dev, self._replicas, self.datasets, self.requester.ask,
                              changed=self._status.soon, invalid=self._count_invalid,
                              check_interval=sync_check_interval)

    # --- public API (any thread) -------------------------------------------------------

    def start(self) -> None:
        """Start the coordinator and the link."""
        self.coordinator.start()
        self.link.start()

    def stop(self) -> None:
        """Stop the coordinator, say offline, stop the link and close the databases.

        The offline status is published on this thread once the coordinator has ended. Safe
        after a start that failed half-way, or none.
        """
        self.coordinator.stop(10)
        self._status.publish(online=False)  # False when the link is down: the will says it
        self.link.stop()
        self.sender.outbox.close()
        self._replicas.close()
        self.commands.guard.close()

    def emit(self, message: Message[B, Any], body: B, priority: Priority = Priority.KEEP,
             id: str | None = None, at: datetime | None = None) -> str:
        """Commit a declared event on this thread (durable on return); the coordinator sends it.

        `at` dates it when it happened (an offline return: when the item went in), not now.
        """
        return self.sender.emit(message, body, priority, id, at)

    def emit_many(self, events: Sequence[tuple[Message[Any, Any], Body, Priority]]) -> list[str]:
        """Commit several declared events with one fsync, like `emit`."""
        return self.sender.emit_many(events)

    def request(self, message: Message[B, A], body: B, timeout: float | None = None,
                id: str | None = None, at: datetime | None = None) -> A:
        """Ask central and wait for the declared answer (`Requester.request`)."""
        return self.requester.request(message, body, timeout, id, at)

    @property
    def central_up(self) -> bool:
        """Whether the broker is reachable and at least one central worker serves."""
        return self.presence.up(self.link.connected)

    @property
    def card_keys(self) -> CardKeys:
        """The site's card keys, newest first."""
        return self.cards.keys

    def call(self, fn: Callable[[], object]) -> None:
        """Run `fn` on the coordinator thread (without waiting for it)."""
        self.coordinator.soon(fn)

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
        """A card's hash and allow-list entry (`Cards.listed`)."""
        return self.cards.listed(uid)

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

    def pending(self, type: str, containing: str) -> int:
        """How many events of `type` holding `containing` (a card hash, an id) wait to go."""
        return self.sender.outbox.pending(type, containing)

    def health(self) -> Health:
        """A frozen snapshot of the link, central, the outbox, the datasets and the alarms."""
        box = self.sender.facts()
        return Health(
            at=time.time(), link_up=self.link.connected, link_since=self._link_since,
            central_up=self.central_up, central_since=self.presence.since,
            outbox_depth=box.depth, oldest_at=box.oldest_at,
            dropped=box.dropped, over_capacity=box.over_capacity,
            datasets=MappingProxyType({
                d: DatasetHealth(self._replicas.version(d), self._replicas.synced_at(d))
                for d in self.datasets}),
            alarms=self._status.alarms(box),
        )

    # --- wiring -------------------------------------------------------------------------

    def _count_invalid(self) -> None:
        self.stats["invalid"] += 1

    def _poke(self) -> None:
        if not self._woken.is_set():
            self._woken.set()
            self.coordinator.post(_Wake())

    def _post_message(self, msg: Incoming) -> None:
        """Link callback: responses resolve their waiter at once, everything else is queued."""
        if msg.topic == self.requester.topic:
            self.requester.response(msg)
        else:
            self.coordinator.post(_Message(msg))

    def _decode(self, msg: Incoming) -> envelope.Envelope | None:
        try:
            return envelope.decode(msg.payload)
        except InvalidMessage as exc:
            self._count_invalid()
            log.warning("%s: dropped message on %s: %s", self.device.id, msg.topic, exc.code)
            return None

    # --- coordinator thread ------------------------------------------------------------

    def _wait(self) -> float:
        """Seconds until the coordinator has something to do without being woken."""
        now = time.monotonic()
        waits = [1.0]
        deadline = self.requester.requests.next_deadline()
        if deadline is not None:
            waits.append(deadline - now)
        if self.link.connected:
            waits.append(self._status.wait(now))
            waits += self.sender.wait(now)
        return max(0.001, min(waits))

    def _tick(self) -> None:
        now = time.monotonic()
        self.requester.requests.expire(now)
        if not self.link.connected:
            return
        self.sender.pump(now)
        self._status.tick(now)
        self._sync.tick(now)

    def _link_changed(self, up: bool) -> None:
        log.info("%s: link %s", self.device.id, "up" if up else "down")
        self._link_since = time.time()
        if up:
            self.sender.plan.link_up(time.monotonic())
            self._status.soon()
            self._sync.link_up()
            self.presence.note(True)
        else:
            self.presence.link_down()

    def _message(self, msg: Incoming) -> None:
        env = self._decode(msg)
        if env is None:
            return
        parsed = topics.parse_device(msg.topic)
        if parsed and parsed[1] == "ack":
            if not self.sender.acked(env):
                self._malformed("ack")
        elif parsed and parsed[1] == "cmd":
            self.commands.handle(env.body)
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
        if self.presence.heard(worker, online, self.link.connected):
            log.info("%s: central is serving (%s)", self.device.id, worker)
            self._sync.central_back()
            self.sender.resend_now(time.monotonic())

    def _resync(self, args: NoArgs) -> dict[str, Any]:
        """Central's `resync`: copy every dataset afresh."""
        self._sync.resync()
        return {}

    def _new_card_key(self, args: CardKeyArgs) -> dict[str, Any]:
        """Hash with the site's new card key from now on (and with the old one meanwhile)."""
        self.cards.keys.rotate(args.key)
        self._status.card_key = key_id(self.cards.keys.keys[0])
        self._status.soon()
        return {"key_id": self._status.card_key}

    def _malformed(self, what: str) -> None:
        self._count_invalid()
        log.warning("%s: malformed %s ignored (message_invalid)", self.device.id, what)
