"""The MQTT 5 link: fixed client id, persistent session, TCP_NODELAY, reconnect with full jitter.

Callbacks run on the link's network thread and must only hand work to a coordinator.
"""

import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge_common.config import MqttConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """One received message, as the link hands it over."""

    topic: str
    payload: bytes
    response_topic: str | None
    correlation: bytes | None
    mid: int
    qos: int
    received: float = field(default_factory=time.monotonic)   # when the link took it


def publish_properties(
    response_topic: str | None = None, correlation: bytes | None = None
) -> Properties | None:
    """PUBLISH properties carrying MQTT 5 request/response fields, or None."""
    if response_topic is None and correlation is None:
        return None
    props = Properties(PacketTypes.PUBLISH)
    if response_topic is not None:
        props.ResponseTopic = response_topic
    if correlation is not None:
        props.CorrelationData = correlation
    return props


class MqttLink:
    """A paho client on its own network thread that keeps reconnecting until stopped."""

    def __init__(
        self,
        client_id: str,
        cfg: MqttConfig,
        *,
        subscriptions: list[tuple[str, int]],
        on_message: Callable[[Incoming], None],
        on_state: Callable[[bool], None] = lambda up: None,
        will: Callable[[], tuple[str, bytes]] | None = None,
        manual_ack: bool = False,
        receive_maximum: int = 1000,
        max_inflight: int = 100,  # paho scans its in-flight table on every PUBACK
    ) -> None:
        self.client_id = client_id
        self.cfg = cfg
        self.subscriptions = subscriptions
        self._on_message = on_message
        self._on_state = on_state
        self._will = will
        self._receive_maximum = receive_maximum
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self.connected = False
        c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
            manual_ack=manual_ack,
        )
        if cfg.username:
            c.username_pw_set(cfg.username, cfg.secret())
        if cfg.tls:
            c.tls_set(ca_certs=cfg.ca_file or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.max_inflight_messages_set(max_inflight)
        c.max_queued_messages_set(0)
        c.on_socket_open = self._socket_open
        # With a write-registration callback, paho only queues what another thread publishes
        # (and wakes the loop); the link thread alone writes the socket. Without it, paho
        # writes on the publishing thread without a lock, so two threads could interleave
        # half-written packets when the socket buffer is full.
        c.on_socket_register_write = _loop_writes
        c.on_connect = self._connected
        c.on_disconnect = self._disconnected
        c.on_message = self._message
        self.client = c

    def start(self) -> None:
        """Start the network thread; it connects and reconnects by itself."""
        self._thread = threading.Thread(
            target=self._run, name=f"mqtt-{self.client_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect cleanly (no will) and stop the network thread.

        The link thread sends the DISCONNECT itself; queueing one here only wakes it sooner.
        """
        self._stop.set()
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - a socket already gone is fine when stopping
            pass
        if self._thread:
            self._thread.join(timeout)

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False,
                properties: Properties | None = None) -> bool:
        """Hand a message to paho if the link is up; False (nothing queued) when it is down."""
        if not self.connected:
            return False
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a message received with manual_ack, after its effect is committed."""
        if qos > 0:
            self.client.ack(mid, qos)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._connect()
            except (OSError, ssl.SSLError) as exc:
                log.info("%s: broker unreachable (%s)", self.client_id, exc)
                self._backoff()
                continue
            self._serve()
            self._set_state(False)
            if not self._stop.is_set():
                self._backoff()
        self._set_state(False)

    def _serve(self) -> None:
        """Run paho's loop on this thread until the connection ends; on stop, say DISCONNECT
        (so the broker keeps the will) and flush it, for at most two seconds."""
        closing_until = None
        while self.client.loop(timeout=0.5) == mqtt.MQTT_ERR_SUCCESS:
            if not self._stop.is_set():
                continue
            if closing_until is None:
                closing_until = time.monotonic() + 2.0
                self.client.disconnect()
            elif time.monotonic() > closing_until:
                return

    def _connect(self) -> None:
        if self._will:
            topic, payload = self._will()
            self.client.will_set(topic, payload, qos=1, retain=True)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.cfg.session_expiry
        props.ReceiveMaximum = self._receive_maximum
        self.client.connect(
            self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive,
            clean_start=False, properties=props,
        )

    def _backoff(self) -> None:
        """Sleep a full-jitter exponential backoff, so a fleet does not reconnect in lockstep."""
        self._failures += 1
        cap = min(self.cfg.reconnect_max, self.cfg.reconnect_min * 2 ** min(self._failures, 16))
        self._stop.wait(random.uniform(self.cfg.reconnect_min / 2, cap))

    def _set_state(self, up: bool) -> None:
        if self.connected != up:
            self.connected = up
            self._on_state(up)

    def _socket_open(self, client: mqtt.Client, userdata: Any, sock: "mqtt.SocketLike") -> None:
        # a TCP (or TLS over TCP) socket: this link never uses the websocket transport
        cast(socket.socket, sock).setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _connected(self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                   reason_code: ReasonCode, properties: Properties | None) -> None:
        if reason_code.is_failure:
            log.warning("%s: broker refused the connection: %s", self.client_id, reason_code)
            return
        self._failures = 0
        if self.subscriptions:
            client.subscribe(self.subscriptions)
        self._set_state(True)

    def _disconnected(self, client: mqtt.Client, userdata: Any, flags: mqtt.DisconnectFlags,
                      reason_code: ReasonCode, properties: Properties | None) -> None:
        if not self._stop.is_set():
            log.info("%s: disconnected (%s)", self.client_id, reason_code)
        self._set_state(False)

    def _message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        """paho's callback: hand the message on; what the consumer raises stays with it.

        paho re-raises a callback's exception out of its loop, which would end this thread.
        """
        props = msg.properties
        try:
            self._on_message(Incoming(
                msg.topic,
                bytes(msg.payload),  # typed bytes | bytearray; bytes here, so no copy
                getattr(props, "ResponseTopic", None),
                getattr(props, "CorrelationData", None),
                msg.mid,
                msg.qos,
            ))
        except Exception:  # noqa: BLE001 - one message must not end the link for all the others
            log.exception("%s: failed on a message on %s", self.client_id, msg.topic)


def _loop_writes(client: mqtt.Client, userdata: Any, sock: "mqtt.SocketLike") -> None:
    """paho's write registration: nothing to register, the link thread's loop writes."""
