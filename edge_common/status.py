"""What a device says about itself: the retained status and its will, alarms, a health snapshot."""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import msgspec

from edge_common import envelope, topics
from edge_common.protocol.backbone import DeviceStatus


@dataclass(frozen=True)
class OutboxFacts:
    """The outbox's size as the status reports it."""

    depth: int
    dropped: int
    over_capacity: bool
    oldest_at: float | None = None  # wall clock of the oldest waiting event; None: empty


@dataclass(frozen=True)
class DatasetHealth:
    """One replicated dataset: the version held and when it was last confirmed current."""

    version: int
    synced_at: float | None  # wall clock; None: never synced


@dataclass(frozen=True)
class Health:
    """A read-only snapshot of a device runtime (times are wall-clock seconds)."""

    at: float  # when the snapshot was taken
    link_up: bool  # the broker is connected
    link_since: float  # when `link_up` last changed (when the runtime was made, if never)
    central_up: bool  # the broker is connected and a central worker serves
    central_since: float  # when `central_up` last changed (when the runtime was made, if never)
    outbox_depth: int  # events waiting for central's ack
    oldest_at: float | None  # when the oldest of them was made; None: outbox empty
    dropped: int  # droppable events dropped over the outbox's cap, ever
    over_capacity: bool  # undroppable events alone exceed the cap
    datasets: Mapping[str, DatasetHealth]
    alarms: frozenset[str]  # as the retained status shows them

    @property
    def oldest_age(self) -> float | None:
        """Seconds the oldest unacknowledged event had waited when the snapshot was taken."""
        return None if self.oldest_at is None else max(0.0, self.at - self.oldest_at)


class StatusReport:
    """The device's retained status: alarms, the body, and when to publish it next.

    It is given `outbox()` (OutboxFacts now), `versions()` (dataset → version held),
    `extra()` (fields the device adds while online) and `publish(topic, payload)`, which
    sends a retained QoS 1 message and says whether the link took it. Alarms and publishing
    belong to the coordinator thread; `message` and `alarms` may run on any thread (the
    link builds the will from `message` on each connect).
    """

    def __init__(self, dev: str, kind: str, version: str, *, interval: float,
                 outbox: Callable[[], OutboxFacts], versions: Callable[[], dict[str, int]],
                 publish: Callable[[str, bytes], bool], extra: Callable[[], dict] = dict,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.dev = dev
        self.kind = kind
        self.version = version
        self.interval = interval
        self._outbox = outbox
        self._versions = versions
        self._publish = publish
        self._extra = extra
        self._clock = clock
        self._alarms: set[str] = set()
        self._next = 0.0
        self.config_version = 0
        self.card_key = ""  # the key id of the newest card key (card_keys.key_id)

    def alarms(self, outbox: OutboxFacts | None = None) -> frozenset[str]:
        """The raised alarms, with `outbox_over_capacity` while the outbox is over its cap."""
        over = (outbox or self._outbox()).over_capacity
        return frozenset(self._alarms) | ({"outbox_over_capacity"} if over else frozenset())

    def set_alarm(self, name: str, active: bool) -> None:
        """Raise or clear an alarm; a change is published at the next tick."""
        before = set(self._alarms)
        (self._alarms.add if active else self._alarms.discard)(name)
        if self._alarms != before:
            self.soon()

    def set_config_version(self, version: int) -> None:
        """Say from the next tick on that central's config `version` is in force."""
        self.config_version = version
        self.soon()

    def soon(self) -> None:
        """Publish at the next tick instead of waiting for the interval."""
        self._next = 0.0

    def wait(self, now: float) -> float:
        """Seconds until the next publication is due."""
        return self._next - now

    def tick(self, now: float) -> None:
        """Publish the online status when it is due (call it while the link is up)."""
        if now >= self._next:
            self.publish(online=True)

    def publish(self, online: bool = True) -> bool:
        """Publish the status now and schedule the next; False if the link did not take it."""
        self._next = self._clock() + self.interval
        return self._publish(*self.message(online))

    def message(self, online: bool) -> tuple[str, bytes]:
        """(topic, payload) of the status; offline it is also the will."""
        box = self._outbox()
        body = {
            "online": online, "kind": self.kind, "version": self.version,
            "outbox": box.depth, "dropped": box.dropped, "alarms": sorted(self.alarms(box)),
            "datasets": self._versions(), "config_version": self.config_version,
            "card_key": self.card_key,
            "outbox_age": round(max(0.0, time.time() - box.oldest_at), 1)
            if box.oldest_at else 0.0,
        }
        if online:
            body.update(self._extra())
        env = envelope.make("status", self.dev, msgspec.convert(body, DeviceStatus))
        return topics.device(self.dev, "status"), envelope.encode(env)
