"""The device coordinator: one thread that sends the outbox, answers the link and keeps replicas.

MQTT callbacks and application threads only post work to its queue (DESIGN §9).
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge_common import envelope, topics
from edge_common.commands import Command, CommandGuard, CommandRefused
from edge_common.config import DeviceSection, MqttConfig, OutboxConfig
from edge_common.errors import EdgeError, InvalidMessage, OfflineError
from edge_common.link import Incoming, MqttLink, publish_properties
from edge_common.outbox import Outbox, Priority
from edge_common.replica import Replicas, Verdict, classify
from edge_common.requests import Requests
from edge_common.sendplan import SendPlan

log = logging.getLogger(__name__)
PULL_PAGE = 5000
PULL_TIMEOUT = 10.0


class DeviceRuntime:
    """Outbox, requests, replicated datasets, commands and status of one device."""

    def __init__(
        self,
        device: DeviceSection,
        mqtt: MqttConfig,
        outbox: OutboxConfig,
        *,
        version: str,
        datasets: Sequence[str] = (),
        on_command: Callable[[Command], dict | None] | None = None,
        status_extra: Callable[[], dict] | None = None,
        sync_check_interval: float = 60.0,
    ):
        self.device = device
        self.version = version
        self.datasets = tuple(datasets)
        Path(device.data_dir).mkdir(parents=True, exist_ok=True)
        self.outbox = Outbox(str(Path(device.data_dir) / "outbox.db"), device.id, outbox)
        self.replicas = Replicas(str(Path(device.data_dir) / "replica.db"))
        self.guard = CommandGuard(str(Path(device.data_dir) / "commands.db"))
        self.plan = SendPlan(outbox)
        self.requests = Requests()
        self.alarms: set[str] = set()
        self._on_command = on_command
        self._status_extra = status_extra or dict
        self._sync_check_interval = sync_check_interval
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pulling: dict[str, str] = {}
        self._pull_from: dict[str, int] = {}
        self._next_status = 0.0
        self._next_sync_check = 0.0
        self._pull_failures = 0
        self._last_status: dict | None = None
        self.stats = {"invalid": 0, "sent": 0, "resent": 0, "acked": 0, "rejected": 0}
        dev = device.id
        self._res_topic = topics.device(dev, "res")
        subs = [(topics.device(dev, c), 1) for c in ("ack", "res", "cmd")]
        subs += [(topics.sync(device.site, d), 1) for d in self.datasets]
        subs.append((topics.CENTRAL_STATUS_ALL, 1))
        self.central_workers: set[str] = set()
        self.central_since = time.time()  # wall clock of the last change of `central_up`
        self._central_was = False
        self.link = MqttLink(
            dev, mqtt, subscriptions=subs, on_message=self._post_message,
            on_state=lambda up: self._queue.put(("link", up)), will=self._will,
        )
        self._thread = threading.Thread(target=self._run, name=f"coord-{dev}", daemon=True)

    # --- public API (any thread) -------------------------------------------------------

    def start(self) -> None:
        """Start the coordinator and the link."""
        self._thread.start()
        self.link.start()

    def stop(self) -> None:
        """Publish offline status, stop the link and the coordinator, close the databases."""
        self._stopping.set()
        self._queue.put(("stop", None))
        self._thread.join(10)
        if self.link.connected:
            self.link.publish(*self._status_message(online=False), retain=True)
        self.link.stop()
        self.outbox.close()
        self.replicas.close()
        self.guard.close()

    def emit(self, type: str, body: dict, priority: Priority = Priority.KEEP,
             id: str | None = None) -> str:
        """Commit an event to the outbox (durable on return) and schedule its sending."""
        env = self.outbox.add(type, body, priority, id)
        self._poke()
        return env.id

    def emit_many(self, events: Sequence[tuple[str, dict, Priority]]) -> list[str]:
        """Commit several events with one fsync."""
        envs = self.outbox.add_many(events)
        self._poke()
        return [e.id for e in envs]

    def request(self, type: str, body: dict, timeout: float | None = None,
                id: str | None = None) -> dict:
        """Ask central and wait; raises OfflineError, RequestTimeout or RemoteError (with a code).

        Retrying with the same `id` returns central's stored answer, never a second effect.
        """
        if not self.link.connected:
            raise OfflineError("no link to central")
        timeout = timeout or self.device.request_timeout
        env = envelope.make(type, self.device.id, body, id=id)
        fut = self.requests.future(env.id, time.monotonic() + timeout)
        if not self._publish_request(env):
            self.requests.cancel(env.id, OfflineError("no link to central"))
        return fut.result(timeout + 1)

    @property
    def central_up(self) -> bool:
        """Whether the broker is reachable and at least one central worker serves."""
        return self.link.connected and bool(self.central_workers)

    def call(self, fn: Callable[[], Any]) -> None:
        """Run `fn` on the coordinator thread."""
        self._queue.put(("call", fn))

    def set_alarm(self, name: str, active: bool) -> None:
        """Raise or clear an alarm shown in the retained status."""
        self.call(lambda: self._alarm(name, active))

    def lookup(self, dataset: str, key: str) -> bytes | None:
        """A replicated row's raw JSON, or None."""
        return self.replicas.get(dataset, key)

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
            self.stats["invalid"] += 1
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
            waits.append(self._next_status - now)
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
        if now >= self._next_status:
            self._publish_status()
        if now >= self._next_sync_check:
            self._next_sync_check = now + self._sync_check_interval
            for d in self.datasets:
                self._pull(d)

    def _pump(self, now: float) -> None:
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

    def _send(self, p, now: float) -> bool:
        if not self.link.publish(topics.device(self.device.id, "evt"), p.payload, qos=1):
            return False
        self.plan.sent(p.id, p.seq, now)
        return True

    def _link_changed(self, up: bool) -> None:
        log.info("%s: link %s", self.device.id, "up" if up else "down")
        if up:
            self.plan.link_up(time.monotonic())
            self._next_status = 0.0
            self._next_sync_check = 0.0
        else:
            self.central_workers.clear()  # learnt again from the retained statuses
        self._note_central()

    def _note_central(self) -> None:
        """Remember when central last became reachable or unreachable."""
        up = self.central_up
        if up != self._central_was:
            self._central_was = up
            self.central_since = time.time()

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
            self._delta(env)
        elif (worker := topics.parse_central_status(msg.topic)) is not None:
            self._central_presence(worker, env.body.get("online") is True)

    def _central_presence(self, worker: str, online: bool) -> None:
        """A central worker came or went; when central is back, pull and resend now."""
        was_up = bool(self.central_workers)
        (self.central_workers.add if online else self.central_workers.discard)(worker)
        self._note_central()
        if self.central_workers and not was_up:
            log.info("%s: central is serving (%s)", self.device.id, worker)
            self._pulling.clear()
            self._next_sync_check = 0.0
            self._pull_failures = 0
            now = time.monotonic()
            for flight in self.plan.inflight.values():
                flight.deadline = min(flight.deadline, now)

    def _command(self, env: envelope.Envelope) -> None:
        """Run a command from central once, before its expiry, and report the outcome."""
        name, nonce = env.body.get("name"), env.body.get("nonce")
        try:
            cmd = self.guard.admit(env.body, datetime.now(UTC))
            if cmd.name == "resync":
                for d in self.datasets:
                    self._pull(d, since=0)
                result = {}
            elif self._on_command is None:
                raise CommandRefused(f"unknown command {cmd.name}", code="command_unknown")
            else:
                result = self._on_command(cmd) or {}
            outcome = {"ok": True, "result": result}
        except EdgeError as exc:
            log.warning("%s: command %s refused: %s", self.device.id, name, exc.code)
            outcome = {"ok": False, "code": exc.code}
        except Exception:  # noqa: BLE001 - report a failing command instead of losing it
            log.exception("%s: command %s failed", self.device.id, name)
            outcome = {"ok": False, "code": "command_failed"}
        self.emit("cmd.result", {"name": str(name)[:40], "nonce": str(nonce)[:64], **outcome})

    def _acked(self, env: envelope.Envelope) -> None:
        ids = [i for i in env.body.get("ids", []) if isinstance(i, str)]
        rejected = [r for r in env.body.get("rejected", []) if isinstance(r, dict)]
        for r in rejected:
            log.warning("%s: central rejected event %s: %s", self.device.id, r.get("id"),
                        r.get("code"))
            if isinstance(r.get("id"), str):
                ids.append(r["id"])
        self.outbox.acked(ids)
        self.plan.forget(ids)
        self.stats["acked"] += len(ids)
        self.stats["rejected"] += len(rejected)

    def _delta(self, env: envelope.Envelope) -> None:
        body = env.body
        dataset, version, changes = body.get("dataset"), body.get("version"), body.get("changes")
        if dataset not in self.datasets or not isinstance(version, int) or not isinstance(
            changes, list
        ):
            self.stats["invalid"] += 1
            log.warning("%s: malformed sync delta ignored (sync_delta_invalid)", self.device.id)
            return
        if dataset in self._pulling:
            return
        verdict = classify(self.replicas.version(dataset), version)
        if verdict is Verdict.APPLY:
            try:
                self.replicas.apply(dataset, _changes(changes), version)
            except ValueError:
                self.stats["invalid"] += 1
                log.warning("%s: malformed sync delta ignored (sync_delta_invalid)", self.device.id)
        elif verdict is Verdict.GAP:
            self._pull(dataset)

    def _pull(self, dataset: str, since: int | None = None, after: str = "") -> None:
        """Fetch the changes since our version from central, page by page."""
        if since is None and dataset in self._pulling:
            return
        since = self.replicas.version(dataset) if since is None else since
        if not after:
            self._pull_from[dataset] = since
            if since == 0:
                self.replicas.stage(dataset, [], fresh=True)
        env = envelope.make("sync.pull", self.device.id,
                            {"dataset": dataset, "since": since, "after": after,
                             "limit": PULL_PAGE})
        self._pulling[dataset] = env.id

        def done(result, error):
            self.call(lambda: self._pulled(dataset, env.id, result, error))

        self.requests.add(env.id, time.monotonic() + PULL_TIMEOUT, done)
        if not self._publish_request(env):
            self.requests.cancel(env.id, OfflineError("link down"))

    def _pulled(self, dataset: str, id: str, result: dict | None,
                error: EdgeError | None) -> None:
        if self._pulling.get(dataset) != id:
            return
        del self._pulling[dataset]
        if error is not None:
            self._pull_failures += 1
            retry = min(self._sync_check_interval, 2.0 ** self._pull_failures)
            self._next_sync_check = min(self._next_sync_check, time.monotonic() + retry)
            log.info("%s: pull of %s failed (%s); retrying in %.0f s", self.device.id, dataset,
                     error.code, retry)
            return
        self._pull_failures = 0
        try:
            changes = _changes(result["changes"])
            head, nxt = int(result["head"]), result.get("next")
        except (KeyError, TypeError, ValueError):
            log.warning("%s: malformed pull result (sync_pull_invalid)", self.device.id)
            return
        # A pull from version 0 is a full copy: staged, then written in one go (Replicas).
        full = self._pull_from.get(dataset) == 0
        if nxt:
            if full:
                self.replicas.stage(dataset, changes)
            else:
                self.replicas.apply(dataset, changes, None)
            self._pull(dataset, int(nxt["since"]), str(nxt["after"]))
        else:
            before = self.replicas.version(dataset)
            if full:
                self.replicas.apply_staged(dataset, changes, head)
            else:
                self.replicas.apply(dataset, changes, head)
            if head != before:
                self._next_status = 0.0

    def _publish_request(self, env: envelope.Envelope) -> bool:
        dev = self.device.id
        props = publish_properties(topics.device(dev, "res"), env.id.encode())
        return self.link.publish(topics.device(dev, "req"), envelope.encode(env), qos=1,
                                 properties=props)

    def _alarm(self, name: str, active: bool) -> None:
        before = set(self.alarms)
        (self.alarms.add if active else self.alarms.discard)(name)
        if self.alarms != before:
            self._next_status = 0.0

    def _status_message(self, online: bool) -> tuple[str, bytes]:
        body = {
            "online": online, "kind": self.device.kind, "version": self.version,
            "outbox": self.outbox.depth, "dropped": self.outbox.dropped,
            "alarms": sorted(self.alarms | ({"outbox_over_capacity"}
                                            if self.outbox.over_capacity else set())),
            "datasets": {d: self.replicas.version(d) for d in self.datasets},
        }
        if online:
            body.update(self._status_extra())
        env = envelope.make("status", self.device.id, body)
        return topics.device(self.device.id, "status"), envelope.encode(env)

    def _publish_status(self) -> None:
        self._next_status = time.monotonic() + self.device.status_interval
        topic, payload = self._status_message(online=True)
        self.link.publish(topic, payload, qos=1, retain=True)

    def _will(self) -> tuple[str, bytes]:
        return self._status_message(online=False)


def _changes(raw: list) -> list[tuple[str, dict | None]]:
    """Validate `[[key, value-or-null], ...]` from central."""
    out = []
    for item in raw:
        if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str)
                or not (item[1] is None or isinstance(item[1], dict))):
            raise ValueError("malformed change")
        out.append((item[0], item[1]))
    return out
