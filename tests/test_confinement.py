"""What one device's broker credentials can do, attacked as an outside check did."""

import logging
import threading

import pytest
from paho.mqtt.reasoncodes import ReasonCode

from central import fleet
from edge_common import envelope, topics
from edge_common.config import MqttConfig
from edge_common.link import Incoming, MqttLink, publish_properties
from provisioning.broker import Account
from tests.harness import wait_for

NOT_AUTHORIZED = 0x87


class Probe(MqttLink):
    """An MQTT 5 client with a broker account that records what the broker answers: CONNACK,
    SUBACK and PUBACK reason codes, and every message delivered to it, in order."""

    def __init__(self, port: int, user: str, password: str,
                 will: tuple[str, bytes] | None = None):
        super().__init__(user, MqttConfig(port=port, username=user, password=password,
                                          reconnect_min=0.1, reconnect_max=0.5),
                         subscriptions=[], on_message=self._got,
                         will=(lambda: will) if will else None)
        self._lock = threading.Lock()
        self.messages: list[Incoming] = []
        self.connacks: list[int] = []
        self.disconnects: list[int] = []
        self.subacks: dict[int, list[int]] = {}
        self.pubacks: dict[int, int] = {}
        self.client.on_subscribe = self._suback
        self.client.on_publish = self._puback

    def _got(self, msg: Incoming) -> None:
        with self._lock:
            self.messages.append(msg)

    def _connected(self, client, userdata, flags, reason_code: ReasonCode, properties) -> None:
        self.connacks.append(reason_code.value)
        super()._connected(client, userdata, flags, reason_code, properties)

    def _disconnected(self, client, userdata, flags, reason_code: ReasonCode,
                      properties) -> None:
        self.disconnects.append(reason_code.value)
        super()._disconnected(client, userdata, flags, reason_code, properties)

    def _suback(self, client, userdata, mid: int, codes: list[ReasonCode], properties) -> None:
        self.subacks[mid] = [c.value for c in codes]

    def _puback(self, client, userdata, mid: int, code: ReasonCode, properties) -> None:
        self.pubacks[mid] = code.value

    def subscribe(self, *filters: str) -> dict[str, int]:
        """SUBACK reason code of each filter (one SUBSCRIBE each, so each has its own)."""
        mids = {f: self.client.subscribe(f, qos=1)[1] for f in filters}
        wait_for(lambda: all(m in self.subacks for m in mids.values()), what="SUBACKs")
        return {f: self.subacks[m][0] for f, m in mids.items()}

    def publish_acked(self, topic: str, payload: bytes, retain: bool = False,
                      response_topic: str | None = None, correlation: bytes | None = None) -> int:
        """Publish at QoS 1 and return the broker's PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain,
                                   properties=publish_properties(response_topic, correlation))
        wait_for(lambda: info.mid in self.pubacks, what=f"PUBACK for {topic}")
        return self.pubacks[info.mid]

    def until(self, topic: str, payload: bytes, timeout: float = 10.0) -> list[Incoming]:
        """Every message received before the first one with this topic and payload (a marker
        sent after the attack: whatever the attack made the broker deliver came before it)."""
        def position() -> int | None:
            with self._lock:
                return next((i for i, m in enumerate(self.messages)
                             if m.topic == topic and m.payload == payload), None)
        at = wait_for(lambda: (i := position()) is not None and (i,), timeout=timeout,
                      what=f"marker on {topic}")[0]
        with self._lock:
            return self.messages[:at]


def probe(net, user: str, service: bool = False, password: str | None = None) -> Probe:
    """A started Probe with `user`'s broker account (added, as a device of the test site or a
    service, when it has none); `password` overrides the account's."""
    account = net.broker.accounts.get(user)
    if account is None:
        account = net.broker.add(Account(user, f"{user}-pw", site=net.site, service=service))
        net.broker.reload()
    p = Probe(net.broker.port, user, password or account.password)
    p.start()
    return p


def connected(p: Probe) -> Probe:
    wait_for(lambda: p.connected, what=f"{p.client_id} connected")
    return p


def event(dev: str, n: int) -> bytes:
    """A valid access event from `dev`."""
    return envelope.encode(envelope.make(
        "access.decision", dev, {"door": "d", "card": f"{n:064x}", "result": "granted"}))


def pull(dev: str) -> bytes:
    """A valid `sync.pull` request from `dev`."""
    return envelope.encode(envelope.make("sync.pull", dev, {"dataset": "allowlist", "since": 0}))


def body(msg: Incoming) -> dict:
    return envelope.decode(msg.payload).body


@pytest.fixture
def two(net):
    """Central, and two enrolled locks at the test site."""
    central = net.start_central()
    for dev in ("lock-1", "lock-2"):
        fleet.enrol(net.db, dev, net.site, "lockd")
    return central


@pytest.fixture
def marker(net):
    """A service account that sends markers to any topic."""
    sender = connected(probe(net, "central-marker", service=True))
    yield sender
    sender.stop()


def test_central_answers_only_on_the_senders_own_res_topic(net, two, marker, caplog):
    """A request from lock-2 with ResponseTopic lock-1/res: nothing reaches lock-1, nothing is
    applied, lock-2 is told why on its own res topic, and central counts and logs it."""
    victim = connected(probe(net, "lock-1"))
    attacker = connected(probe(net, "lock-2"))
    try:
        assert set(victim.subscribe(topics.device("lock-1", "res")).values()) == {1}
        assert set(attacker.subscribe(topics.device("lock-2", "res")).values()) == {1}
        caplog.set_level(logging.WARNING, logger="central.service")
        # a lock may not send loan.checkout: were it applied, `processed` would hold its refusal
        evil = envelope.encode(envelope.make("loan.checkout", "lock-2", {}))
        good = pull("lock-2")
        evil_id, good_id = envelope.decode(evil).id, envelope.decode(good).id
        for foreign in (topics.device("lock-1", "res"), topics.device("lock-1", "cmd"),
                        "lib/v1/dev/+/res", "elsewhere"):
            attacker.publish_acked(topics.device("lock-2", "req"), evil,
                                   response_topic=foreign, correlation=evil_id.encode())
        attacker.publish_acked(topics.device("lock-2", "req"), good,
                               response_topic=topics.device("lock-2", "res"),
                               correlation=good_id.encode())
        wait_for(lambda: any(body(m).get("re") == good_id for m in attacker.messages),
                 what="the good request answered")
        assert victim.until(topics.device("lock-1", "res"), marker_payload(marker, "lock-1")) \
            == []
        refusals = [body(m) for m in attacker.messages if body(m).get("re") == evil_id]
        assert len(refusals) == 4
        assert {r["error"]["code"] for r in refusals} == {"response_topic_invalid"}
        assert not any(r["ok"] for r in refusals)
        assert two.stats["response_topic_refused"] == 4
        assert sum("response_topic_invalid" in r.getMessage() for r in caplog.records) == 4
        assert all(m.correlation == evil_id.encode() for m in attacker.messages
                   if body(m).get("re") == evil_id)
        assert net.db.execute("SELECT count(*) FROM processed WHERE id = ?",
                              [evil_id]).fetchone()[0] == 0
    finally:
        victim.stop()
        attacker.stop()


def marker_payload(marker: Probe, dev: str) -> bytes:
    """Send a marker to `dev`'s res topic from the service account; return its payload."""
    payload = f"marker-{dev}".encode()
    assert marker.publish_acked(topics.device(dev, "res"), payload) < 0x80
    return payload
