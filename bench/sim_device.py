"""One simulated device on the real wire: an aiomqtt client with an outbox, requests and sync."""

import asyncio
import random
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
import msgspec
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_common import envelope, topics
from edge_common.link import publish_properties
from edge_common.protocol.backbone import Ack, DeviceResponse, DeviceStatus
from edge_common.protocol.datasets import ALLOWLIST, SyncDelta
from edge_common.protocol.spec import Message

NODELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
SESSION_EXPIRY = 7 * 86400  # as MqttConfig's default: the broker keeps the session a week
WITH_ALLOWLIST = ("lockd", "kiosk")  # kinds that replicate the site's allow-list


@dataclass
class Tally:
    """What a whole simulated fleet sent and received, counted in its event loop."""

    sent: int = 0  # new events put in outboxes
    resent: int = 0
    acked: int = 0
    rejected: int = 0
    answered: list[float] = field(default_factory=list)  # seconds per answered request
    refused: int = 0  # requests answered with an error
    timeouts: int = 0  # request attempts that got no answer in time
    watched: set[str] = field(default_factory=set)  # card hashes whose deltas are timed
    seen: dict[str, dict[str, float]] = field(default_factory=dict)  # hash -> dev -> when


def connect_properties() -> Properties:
    """CONNECT properties of a device's persistent session."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = SESSION_EXPIRY
    return props


class SimDevice:
    """A device's connection, outbox and pending requests; its behaviour is run beside them."""

    def __init__(self, dev: str, site: str, kind: str, password: str, port: int, tally: Tally,
                 *, window: int = 100, ack_timeout: float = 10.0,
                 request_timeout: float = 5.0) -> None:
        self.dev, self.site, self.kind = dev, site, kind
        self.password, self.port, self.tally = password, port, tally
        self.window, self.ack_timeout, self.request_timeout = window, ack_timeout, request_timeout
        self.seq = 0
        self.version = 0  # of the site's allow-list, as the deltas said
        self.queued: deque[tuple[str, bytes]] = deque()  # in the outbox, not sent yet
        self.unacked: dict[str, tuple[bytes, float]] = {}  # sent: payload, when, oldest first
        self.pending: dict[bytes, asyncio.Future[Any]] = {}  # correlation -> answer
        self.client: aiomqtt.Client | None = None
        self.connected = asyncio.Event()
        self._wake = asyncio.Event()

    @property
    def backlog(self) -> int:
        """Events in the outbox: not yet acknowledged by central."""
        return len(self.queued) + len(self.unacked)

    def event(self, message: Message[Any, Any], body: msgspec.Struct) -> str:
        """Put an event in the outbox (as a device commits it before sending); its id."""
        message.check(body)
        self.seq += 1
        env = envelope.make(message.type, self.dev, body, seq=self.seq)
        self.queued.append((env.id, envelope.encode(env)))
        self.tally.sent += 1
        self._wake.set()
        return env.id

    async def request(self, message: Message[Any, Any], body: msgspec.Struct,
                      attempts: int = 3) -> dict[str, Any] | None:
        """Ask central and wait for its answer, retrying with the same id; None if none came."""
        message.check(body)
        env = envelope.make(message.type, self.dev, body)
        correlation = env.id.encode()
        answer = self.pending[correlation] = asyncio.get_running_loop().create_future()
        props = publish_properties(topics.response(self.dev), correlation)
        started = time.monotonic()
        try:
            for _ in range(attempts):
                await self._publish(topics.device(self.dev, "req"), envelope.encode(env),
                                    properties=props)
                try:
                    got = await asyncio.wait_for(asyncio.shield(answer), self.request_timeout)
                except TimeoutError:
                    self.tally.timeouts += 1
                    continue
                self.tally.answered.append(time.monotonic() - started)
                return got
            return None
        finally:
            self.pending.pop(correlation, None)

    async def status(self, online: bool = True) -> None:
        """Publish the retained status a device keeps on its own topic."""
        await self._publish(topics.device(self.dev, "status"), self._status(online), retain=True)

    def _status(self, online: bool) -> bytes:
        body = DeviceStatus(online=online, kind=self.kind, version="city", outbox=self.backlog)
        return envelope.encode(envelope.make("status", self.dev, body))

    async def run(self) -> None:
        """Stay connected (reconnecting with jitter) and keep the outbox flowing until cancelled."""
        while True:
            try:
                await self._session()
            except aiomqtt.MqttError:
                self.connected.clear()
                self.client = None
                await asyncio.sleep(random.uniform(0.1, 1.0))

    async def _session(self) -> None:
        will = aiomqtt.Will(topics.device(self.dev, "status"), self._status(False), qos=1,
                            retain=True)
        async with aiomqtt.Client(
            "127.0.0.1", self.port, username=self.dev, password=self.password,
            identifier=self.dev, protocol=aiomqtt.ProtocolVersion.V5, clean_start=False,
            properties=connect_properties(), will=will, socket_options=[NODELAY],
            max_inflight_messages=self.window, timeout=30, queue_type=self._inbox(),
        ) as client:
            client.pending_calls_threshold = 2 * self.window  # a full window is no warning
            subs = [(topics.device(self.dev, "ack"), 1), (topics.response(self.dev), 1)]
            if self.kind in WITH_ALLOWLIST:
                subs.append((topics.sync(self.site, ALLOWLIST), 1))
            await client.subscribe(subs)
            self.client = client
            for id_, (payload, _) in self.unacked.items():  # a reconnect re-sends at once
                self.unacked[id_] = (payload, 0.0)
            self.connected.set()
            await self.status()
            sender = asyncio.create_task(self._send_outbox(client))
            try:
                async for _ in client.messages:  # nothing is queued: this ends at a disconnect
                    pass
            finally:
                sender.cancel()

    def _inbox(self) -> type[asyncio.Queue[aiomqtt.Message]]:
        """aiomqtt's message queue, made to hand each message to this device at once, in the
        client's callback: no task and no queue hop a message, which thousands of clients in
        one loop cannot afford."""
        device = self

        class Inbox(asyncio.Queue[aiomqtt.Message]):
            def put_nowait(self, msg: aiomqtt.Message) -> None:
                device._receive(str(msg.topic), msg.payload, msg.properties)

        return Inbox

    async def _publish(self, topic: str, payload: bytes, *, retain: bool = False,
                       properties: Properties | None = None) -> None:
        await self.connected.wait()
        assert self.client is not None
        await self.client.publish(topic, payload, qos=1, retain=retain, properties=properties)

    async def _send_outbox(self, client: aiomqtt.Client) -> None:
        """Send what the window allows, oldest first; re-send what waited `ack_timeout`.

        Events go to paho without waiting for their PUBACKs (aiomqtt's `publish` would make a
        task and a timer of each): central's ack, not the broker's, is what clears them.
        """
        evt = topics.device(self.dev, "evt")
        paho = client._client  # noqa: SLF001 - the paho client aiomqtt drives in this loop
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            now = time.monotonic()
            for id_, (payload, at) in list(self.unacked.items()):
                if at > now - self.ack_timeout:
                    break
                del self.unacked[id_]
                self.unacked[id_] = (payload, now)  # to the end: oldest first stays true
                self.tally.resent += 1
                paho.publish(evt, payload, qos=1)
            while self.queued and len(self.unacked) < self.window:
                id_, payload = self.queued.popleft()
                self.unacked[id_] = (payload, now)
                paho.publish(evt, payload, qos=1)
            tick = loop.call_later(self.ack_timeout / 4, self._wake.set) if self.unacked else None
            await self._wake.wait()
            if tick is not None:
                tick.cancel()

    def _receive(self, topic: str, payload: Any, props: Properties | None) -> None:
        """Hand an ack, an answer or a sync delta to what waits for it."""
        env = envelope.decode(bytes(payload))
        channel = topic.rsplit("/", 1)[-1]
        if channel == "ack":
            ack = msgspec.convert(env.body, Ack)
            for id_ in ack.ids:
                self.tally.acked += self.unacked.pop(id_, None) is not None
            for r in ack.rejected:
                self.tally.rejected += self.unacked.pop(r.id, None) is not None
            self._wake.set()
        elif channel == "res":
            answer = self.pending.get(getattr(props, "CorrelationData", b""))
            if answer is not None and not answer.done():
                response = msgspec.convert(env.body, DeviceResponse)
                self.tally.refused += not response.ok
                answer.set_result(response.result)
        elif env.type == "sync.delta":
            self._delta(msgspec.convert(env.body, SyncDelta))

    def _delta(self, delta: SyncDelta) -> None:
        """Keep the list's version; note when a watched card's blocked row arrived."""
        self.version = max(self.version, delta.version)
        for key, row in delta.changes:
            if key in self.tally.watched and row is not None and row.get("blk"):
                self.tally.seen.setdefault(key, {}).setdefault(self.dev, time.monotonic())
