"""The device-facing MQTT service: shared subscriptions, acks after commit, delta publishing."""

import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import click
import msgspec
from paho.mqtt.properties import Properties

from central import (  # noqa: F401 - handlers register
    access,
    alarms,
    catch_up,
    commands,
    datasets,
    lockers,
    site_keys,
    sync_api,
)
from central.circulation import (  # noqa: F401 - handlers register
    allowlist,
    device_api,
    form_api,
)
from central.config import CentralConfig
from central.ingest import Applier, Message, Reply, refusal
from central.metrics import Metrics
from central.read_lane import ReadLane
from central.store import open_store
from edge_common import envelope, topics
from edge_common.daemon_cli import daemon_command, run_until_stopped
from edge_common.errors import EdgeError, InvalidMessage
from edge_common.link import Incoming, MqttLink, publish_properties
from edge_common.protocol.backbone import Ack, CentralPresence, DeviceStatus
from edge_common.protocol.datasets import SyncDelta

log = logging.getLogger(__name__)
SHARE_GROUP = "central"
OVERLAP_CHECK = 60.0  # seconds between looks for site-key overlaps that ended


class CentralService:
    """One central worker; several may share the load through the `$share/central` group."""

    def __init__(self, cfg: CentralConfig) -> None:
        self.cfg = cfg
        self.worker = cfg.central.worker
        self.db = open_store(cfg.central.store)
        self.applier = Applier(self.db, keep_rejected=cfg.central.keep_rejected)
        self._inbox: queue.SimpleQueue[Incoming] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._ages_done: date | None = None
        self._overlaps_at = 0.0
        self.stats = {"applied": 0, "duplicates": 0, "invalid": 0, "batches": 0, "deltas": 0,
                      "response_topic_refused": 0, "contained": 0, "failed_batches": 0,
                      "read_lane": 0}
        self.metrics = Metrics(cfg.central.store, self.worker, self.stats)
        self.metrics_port: int | None = None
        subs = [(topics.shared(SHARE_GROUP, topics.all_devices(c)), 1)
                for c in ("evt", "req", "status")]
        self.link = MqttLink(
            self.worker, cfg.mqtt, subscriptions=subs, on_message=self._arrive,
            on_state=self._announce, manual_ack=True, receive_maximum=cfg.central.batch_max * 2,
            will=lambda: (topics.central_status(self.worker), self._presence(False)),
        )
        self.lane = ReadLane(cfg.central.store, self._respond, self.link.ack, self._to_worker,
                             self._answered_at_once)
        self._thread = threading.Thread(target=self._run, name="central-worker", daemon=True)

    def start(self) -> None:
        """Start consuming, and answering scrapes where the config asks for it."""
        if self.cfg.metrics.port:
            self.metrics_port = self.metrics.serve(self.cfg.metrics.bind, self.cfg.metrics.port)
        self._thread.start()
        self.lane.start()
        self.link.start()

    def stop(self) -> None:
        """Finish the batch in hand, say this worker is gone, then disconnect."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        if self.link.connected:
            self.link.publish(topics.central_status(self.worker), self._presence(False),
                              retain=True)
        self.link.stop()
        self.lane.stop()
        self.metrics.close()
        self.db.close()

    def _presence(self, online: bool) -> bytes:
        return envelope.encode(envelope.make("status", self.worker, CentralPresence(online)))

    def _announce(self, up: bool) -> None:
        """Tell devices this worker is serving (retained), so they pull and resend at once."""
        if up:
            self.link.publish(topics.central_status(self.worker), self._presence(True),
                              qos=1, retain=True)

    def _arrive(self, inc: Incoming) -> None:
        """On the link's thread: a read the lane may answer goes there, the rest to the worker."""
        if inc.topic.endswith("/req") and (parsed := topics.parse_device(inc.topic)) \
                and self.lane.take(inc, parsed[0]):
            return
        self._to_worker(inc)

    def _to_worker(self, inc: Incoming) -> None:
        self.lane.handed(inc.topic)
        self._inbox.put(inc)

    def _answered_at_once(self, seconds: float) -> None:
        self.stats["read_lane"] += 1
        self.metrics.request_seconds.observe(seconds)

    def _run(self) -> None:
        poll = self.cfg.central.poll_interval
        while not self._stop.is_set():
            batch = self._take(poll)
            try:
                if batch:
                    self._process(batch)
                self._door_ages()
                self._key_overlaps()
                self._publish()
            except Exception:  # noqa: BLE001 - the worker must survive; unacked messages return
                self.stats["failed_batches"] += 1
                log.exception("central batch failed; its messages will be redelivered")
                time.sleep(poll)

    def _door_ages(self) -> None:
        """Once a day, republish the cards of holders who reached a door age (door lists hold
        no birth dates); at start, catch up the last week."""
        day = allowlist.door_day()
        if day == self._ages_done:
            return
        first = day - timedelta(days=6) if self._ages_done is None else \
            self._ages_done + timedelta(days=1)
        self._ages_done = day  # a failing refresh is logged once a day, never blocks deltas
        count = 0
        with self._alone(f"the door-age refresh of {day}"), self.db.transaction():
            count = allowlist.refresh_birthdays(self.db, day, since=first)
        if count:
            log.info("door ages: %d holders reached one by %s", count, day)

    def _key_overlaps(self) -> None:
        """Every minute, end the site-key overlaps that are over (the old hashes leave the
        lists)."""
        now = time.monotonic()
        if now < self._overlaps_at:
            return
        self._overlaps_at = now + OVERLAP_CHECK
        ended: list[str] = []
        with self._alone("the end of key overlaps"):
            ended = site_keys.finish(self.db)
        for site in ended:
            log.info("site %s: the previous card key's overlap ended", site)

    def _take(self, timeout: float) -> list[Incoming]:
        try:
            first = self._inbox.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self.cfg.central.batch_max:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[Incoming]) -> None:
        """Apply a batch, then ack it at MQTT level whatever happened.

        Acking a batch that failed is safe: the devices' outboxes re-send what central did
        not acknowledge, while an unacked MQTT window would stall this worker.
        """
        try:
            self._apply(batch)
        finally:
            for inc in batch:
                self.link.ack(inc.mid, inc.qos)
            self.lane.finished([inc.topic for inc in batch])

    def _apply(self, batch: list[Incoming]) -> None:
        arrived: dict[bytes | None, float] = {inc.correlation: inc.received for inc in batch
                                              if inc.correlation}
        messages: list[Message] = []
        statuses: list[tuple[str, DeviceStatus, bytes]] = []
        for inc in batch:
            with self._alone(f"a message on {inc.topic}"):
                self._sort(inc, messages, statuses)
        out = self.applier.apply(messages) if messages else None
        if statuses:
            self._record_statuses(statuses)
        self.stats["batches"] += 1
        if out is None:
            return
        self.stats["applied"] += out.applied
        self.stats["duplicates"] += out.duplicates
        for dev in out.acks.keys() | out.rejected.keys():
            with self._alone(f"the ack to {dev}"):
                body = Ack(ids=out.acks.get(dev, []), rejected=out.rejected.get(dev, []))
                self._send(topics.device(dev, "ack"), "ack", body)
        for msg, response in out.responses:
            with self._alone(f"the answer to {msg.env.id} from {msg.dev}"):
                self._respond(msg.dev, msg.correlation, response)
            answered = time.monotonic()
            self.metrics.request_seconds.observe(answered - arrived.get(msg.correlation, answered))

    def _sort(self, inc: Incoming, messages: list[Message],
              statuses: list[tuple[str, DeviceStatus, bytes]]) -> None:
        """Decode one incoming message into `messages` or `statuses`, or refuse it with a code."""
        parsed = topics.parse_device(inc.topic)
        if parsed and parsed[1] == "req" and not self._answerable(inc, parsed[0]):
            return
        try:
            env = envelope.decode(inc.payload)
        except InvalidMessage as exc:
            self._invalid(inc, parsed, exc)
            return
        if parsed and parsed[1] == "status":
            try:
                status = msgspec.convert(env.body, DeviceStatus)
            except msgspec.ValidationError as exc:
                self._invalid(inc, parsed, InvalidMessage(str(exc), code="status_invalid"))
                return
            if env.dev == parsed[0] and self.applier.devices.get(parsed[0]) is not None:
                statuses.append((parsed[0], status, envelope.encode(env)))
            else:   # not the device of the topic, or not enrolled (or revoked): not kept
                self._invalid(inc, parsed, InvalidMessage(parsed[0], code="device_unknown"))
        elif parsed:
            messages.append(Message(parsed[0], parsed[1], env, inc.payload,
                                    inc.response_topic, inc.correlation))

    @contextmanager
    def _alone(self, what: str) -> Iterator[None]:
        """Contain a failure to the one message or answer it concerns: log it, count it, go on."""
        try:
            yield
        except Exception:  # noqa: BLE001 - one message's failure must not fail its batch
            self.stats["contained"] += 1
            log.exception("central failed on %s; the rest of the batch goes on", what)

    def _answerable(self, inc: Incoming, dev: str) -> bool:
        """Whether a request may go on: its ResponseTopic is none (nobody waits for the
        answer) or the sender's own `res`. A request naming any other topic is refused
        unapplied, counted, logged as `response_topic_invalid` and answered on the sender's
        own `res` (which only the sender may read), so a misconfigured device learns why at
        once instead of timing out, and a device cannot aim central's answers at another."""
        if inc.response_topic is None or inc.response_topic == topics.response(dev):
            return True
        self.stats["response_topic_refused"] += 1
        log.warning("refused request on %s: response_topic_invalid (ResponseTopic %r)",
                    inc.topic, inc.response_topic[:200])
        self._refuse(dev, inc.correlation, InvalidMessage(
            "ResponseTopic must be the sender's own res topic", code="response_topic_invalid"))
        return False

    def _invalid(self, inc: Incoming, parsed: tuple[str, str] | None, exc: EdgeError) -> None:
        """Log a message that is not a valid envelope and answer a request with its code."""
        self.stats["invalid"] += 1
        log.warning("invalid message on %s: %s (%s)", inc.topic, exc.code, exc)
        if parsed and parsed[1] == "req" and inc.response_topic is not None:
            self._refuse(parsed[0], inc.correlation, exc)

    def _refuse(self, dev: str, correlation: bytes | None, exc: EdgeError) -> None:
        """Answer a request that was not applied with its code; `re` is the correlation data
        (the request id, as devices send it), since the envelope may be unreadable; the
        words are cut as any refusal's, so a device can decode them."""
        re = correlation.decode("ascii", "replace") if correlation else ""
        self._respond(dev, correlation, refusal(exc.code, str(exc), re))

    def _respond(self, dev: str, correlation: bytes | None, body: Reply) -> None:
        """Answer a request of `dev`: always on `dev`'s own `res` topic, the only one it reads,
        whatever a request's ResponseTopic said."""
        self._send(topics.response(dev), "response", body,
                   publish_properties(correlation=correlation))

    def _send(self, topic: str, type: str, body: msgspec.Struct,
              properties: Properties | None = None) -> None:
        env = envelope.make(type, self.worker, body)
        self.link.publish(topic, envelope.encode(env), qos=1, properties=properties)

    def _record_statuses(self, statuses: list[tuple[str, DeviceStatus, bytes]]) -> None:
        """Keep each device's status; queue again what an online device missed (its site's
        card key, its config: `catch_up`)."""
        now = datetime.now(UTC).isoformat()
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO device_status (dev, online, body, updated_at, since)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (dev) DO UPDATE SET"
                " since = CASE WHEN device_status.online = excluded.online THEN device_status.since"
                " ELSE excluded.since END,"
                " online = excluded.online, body = excluded.body, updated_at = excluded.updated_at",
                [(dev, status.online, body, now, now) for dev, status, body in statuses],
            )
        for dev, status, _ in statuses:
            if status.online:
                with self._alone(f"catching up {dev}"):
                    catch_up.catch_up(self.db, dev, status)

    def _publish(self) -> None:
        """Publish the dataset changes and the commands that any process committed: the
        change table and the unsent commands are this worker's outbox, read each turn."""
        if not self.link.connected:
            return
        while True:
            deltas = datasets.unpublished(self.db)
            for d in deltas:
                self._send(topics.sync(d.site, d.dataset), "sync.delta",
                           SyncDelta(dataset=d.dataset, version=d.version, changes=d.changes))
            if not deltas:
                break
            datasets.mark_published(self.db, deltas)
            self.stats["deltas"] += len(deltas)
        now = datetime.now(UTC)
        queued = commands.due(self.db, now)
        for dev, body in queued:
            self._send(topics.device(dev, "cmd"), "cmd", body)
        if queued:
            commands.mark_sent(self.db, [cmd.nonce for _, cmd in queued], now)


@daemon_command(CentralConfig, "Central")
def main(cfg: CentralConfig) -> None:
    """Run central's device-facing MQTT service until SIGTERM or Ctrl-C."""
    try:
        service = CentralService(cfg)
    except EdgeError as exc:        # its store is not central's
        raise click.ClickException(f"[{exc.code}] {exc}") from None

    def start() -> None:
        service.start()
        log.info("central worker %s consuming from %s:%s", service.worker, cfg.mqtt.host,
                 cfg.mqtt.port)

    run_until_stopped(start, service.stop)


if __name__ == "__main__":
    main()
