"""What one device's broker credentials can do, attacked as an outside check did: answers sent
to another device's `res`, a device in central's shared-subscription group, every other
subscription and publication a device might try, retained messages, revocation."""

import logging
import socket
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

    def until(self, topic: str, payload: bytes, timeout: float = 30.0) -> list[Incoming]:
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
    """Wait until the probe is connected and return it."""
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
    """The body of a received envelope."""
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


ATTACKS = [
    "$share/central/lib/v1/dev/+/evt", "$share/central/lib/v1/dev/+/req",
    "$share/central/lib/v1/dev/+/status", "$share/x/lib/v1/dev/lock-2/#",
    "$share/x/lib/v1/dev/lock-2/res", "#", "+/#", "lib/#", "lib/v1/#", "lib/v1/dev/#",
    "lib/v1/dev/+/evt", "lib/v1/dev/+/req", "lib/v1/dev/+/res", "lib/v1/dev/+/ack",
    "lib/v1/dev/+/cmd", "lib/v1/dev/+/status", "lib/v1/dev/+/#", "lib/v1/dev/lock-2/#",
    "lib/v1/dev/lock-2/+", "lib/v1/dev/lock-2/evt", "lib/v1/dev/lock-2/req",
    "lib/v1/dev/lock-1/res", "lib/v1/dev/lock-1/ack", "lib/v1/dev/lock-1/cmd",
    "lib/v1/dev/lock-1/evt", "lib/v1/dev/lock-1/status", "lib/v1/site/other/sync/#",
    "lib/v1/site/other/sync/allowlist", "lib/v1/site/+/sync/#", "lib/v1/site/#",
    "lib/v1/central/#", "lib/v1/central/+/+", "$SYS/#", "$CONTROL/#",
    "$CONTROL/dynamic-security/v1/response",
]
OWN = ["lib/v1/dev/lock-2/ack", "lib/v1/dev/lock-2/res", "lib/v1/dev/lock-2/cmd",
       "lib/v1/dev/lock-2/status", "lib/v1/site/main/sync/#", "lib/v1/site/main/sync/+",
       "lib/v1/site/main/sync/allowlist", "lib/v1/central/+/status"]


def test_a_device_may_subscribe_to_its_own_topics_only(net, two, marker):
    """Every filter but the device's own topics, its site's sync and central's status is
    refused at SUBSCRIBE, and nothing published elsewhere reaches the device."""
    spy = connected(probe(net, "lock-2"))
    other = connected(probe(net, "lock-1"))
    try:
        codes = spy.subscribe(*ATTACKS)
        assert {f: c for f, c in codes.items() if c < 0x80} == {}
        assert set(codes.values()) == {NOT_AUTHORIZED}
        assert set(spy.subscribe(*OWN).values()) == {1}
        for channel in ("evt", "req", "status"):
            assert other.publish_acked(topics.device("lock-1", channel), event("lock-1", 1)) < 0x80
        for channel in ("ack", "res", "cmd"):
            assert marker.publish_acked(topics.device("lock-1", channel), b"{}") < 0x80
        assert marker.publish_acked(topics.sync("other", "allowlist"), b"{}") < 0x80
        seen = spy.until(topics.device("lock-2", "res"), marker_payload(marker, "lock-2"))
        assert [m.topic for m in seen
                if not m.topic.startswith(("lib/v1/central/", "lib/v1/site/main/"))] == []
    finally:
        spy.stop()
        other.stop()


N_EVENTS, N_REQUESTS = 200, 40


def test_a_device_in_centrals_share_group_takes_nothing_from_central(net, two):
    """With lock-2 trying to join `$share/central`, central still applies every event and
    answers every request lock-1 sends once (no resends)."""
    attacker = connected(probe(net, "lock-2"))
    sender = connected(probe(net, "lock-1"))
    try:
        codes = attacker.subscribe(*(topics.shared("central", topics.all_devices(c))
                                     for c in ("evt", "req", "status")))
        sender.subscribe(topics.device("lock-1", "ack"), topics.device("lock-1", "res"))
        events = [event("lock-1", n) for n in range(N_EVENTS)]
        requests = [pull("lock-1") for _ in range(N_REQUESTS)]
        for n, payload in enumerate(events):
            sender.client.publish(topics.device("lock-1", "evt"), payload, qos=1)
            if n % 5 == 0 and requests:
                req = requests.pop()
                sender.client.publish(topics.device("lock-1", "req"), req, qos=1,
                                      properties=publish_properties(
                                          topics.device("lock-1", "res"), b"c"))
        want = {envelope.decode(p).id for p in events}

        def acked() -> set[str]:
            return {i for m in list(sender.messages) if m.topic.endswith("/ack")
                    for i in body(m)["ids"]}

        def answered() -> int:
            return sum(m.topic.endswith("/res") for m in list(sender.messages))
        wait_for(lambda: acked() >= want and answered() >= N_REQUESTS,
                 what=f"all {N_EVENTS} events acked and {N_REQUESTS} requests answered")
        assert net.db.execute("SELECT count(*) FROM access_log WHERE dev = 'lock-1'"
                              ).fetchone()[0] == N_EVENTS
        assert attacker.messages == []
        assert set(codes.values()) == {NOT_AUTHORIZED}
    finally:
        attacker.stop()
        sender.stop()


def test_a_device_may_publish_on_its_own_evt_req_and_status_only(net, two, marker):
    """Everything else a device publishes is refused at PUBLISH (PUBACK 0x87): other devices'
    topics, its own inbound topics, sync, central's status, `$CONTROL`; nothing retained."""
    attacker = connected(probe(net, "lock-2"))
    watcher = connected(probe(net, "central-watch", service=True))
    try:
        refused = [topics.device("lock-1", c) for c in topics.DEVICE_CHANNELS]
        refused += [topics.device("lock-2", c) for c in ("ack", "res", "cmd")]
        refused += [topics.sync(net.site, "allowlist"), topics.sync("other", "allowlist"),
                    topics.central_status("central-1"), topics.central_status("fake"),
                    "lib/v1/other", "elsewhere", "$SYS/broker/x",
                    "$CONTROL/dynamic-security/v1"]
        control = (b'{"commands":[{"command":"createClient","username":"evil",'
                   b'"password":"evil"}]}')
        for topic in refused:
            payload = control if topic.startswith("$CONTROL") else event("lock-1", 7)
            for retain in (False, True):
                assert attacker.publish_acked(topic, payload, retain=retain) \
                    == NOT_AUTHORIZED, topic
        for channel in ("evt", "req", "status"):
            assert attacker.publish_acked(topics.device("lock-2", channel),
                                          event("lock-2", 9)) < 0x80
        # retained: a new subscriber to everything gets only what lock-2 may retain
        codes = watcher.subscribe("lib/v1/#")
        assert set(codes.values()) == {1}
        done = marker_payload(marker, "lock-2")
        seen = watcher.until(topics.device("lock-2", "res"), done)
        assert {m.topic for m in seen} <= {topics.device("lock-2", "status"),
                                           topics.central_status("central-1")}
        evil = Probe(net.broker.port, "evil", "evil")
        evil.start()
        wait_for(lambda: evil.connacks, what="CONNACK for the client lock-2 tried to create")
        assert evil.connacks[0] >= 0x80 and not evil.connected
        evil.stop()
        assert net.db.execute("SELECT count(*) FROM access_log WHERE dev = 'lock-1'"
                              ).fetchone()[0] == 0
    finally:
        attacker.stop()
        watcher.stop()


def test_a_will_on_another_devices_topic_is_not_published(net, two):
    """The broker checks a will when it would publish it: lock-2's will on lock-1's status is
    dropped, while its will on its own status (sent later, on a later connection) arrives."""
    watcher = connected(probe(net, "central-watch", service=True))
    probe(net, "lock-2").stop()
    try:
        assert watcher.subscribe("lib/v1/dev/+/status") == {"lib/v1/dev/+/status": 1}
        for topic in (topics.device("lock-1", "status"), topics.device("lock-2", "status")):
            dying = Probe(net.broker.port, "lock-2", "lock-2-pw",
                          will=(topic, f"will-on-{topic}".encode()))
            dying.start()
            connected(dying)
            dying.client.socket().shutdown(socket.SHUT_RDWR)  # no DISCONNECT: the will is due
            wait_for(lambda d=dying: d.disconnects, what="the dying link noticed")
            dying.stop()
        own = topics.device("lock-2", "status")
        assert watcher.until(own, f"will-on-{own}".encode()) == []
    finally:
        watcher.stop()


def test_revoked_account_is_disconnected_at_once_and_refused(net, two):
    """Removing an account at the broker ends its connection now and refuses the next one;
    a wrong password is refused too."""
    liar = probe(net, "lock-1", password="wrong")
    wait_for(lambda: liar.connacks, what="CONNACK for a wrong password")
    assert liar.connacks[0] >= 0x80 and not liar.connected
    liar.stop()
    dev = connected(probe(net, "lock-2"))
    try:
        net.broker.remove("lock-2")
        net.broker.reload()
        wait_for(lambda: dev.disconnects, what="the revoked device disconnected")
        wait_for(lambda: len(dev.connacks) >= 2, what="its reconnect answered")
        assert dev.connacks[-1] >= 0x80 and not dev.connected
    finally:
        dev.stop()
