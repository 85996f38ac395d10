"""Malformed, oversized and wrongly typed payloads on every topic (what a device's credentials
may do at the broker: tests/test_confinement.py)."""

import json
import logging
import queue
import threading

import pytest

from central import fleet
from central.circulation import allowlist
from edge_common import envelope, topics
from edge_common.cardid import card_hash
from edge_common.config import MqttConfig
from edge_common.link import MqttLink, publish_properties
from edge_common.protocol.datasets import SYNC_PULL, SyncPull
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from provisioning.broker import Account
from tests.harness import wait_for


def deep(dev: str, type: str = "access.decision", depth: int = 1000) -> bytes:
    """A valid envelope from `dev` but for a body field nested `depth` arrays deep."""
    raw = envelope.encode(envelope.make(type, dev, {"door": 0}))
    return raw.replace(b'"door":0', b'"door":' + b"[" * depth + b"]" * depth)


GARBAGE = [b"", b"\x00\xff\xfe", b"{not json", b"[]", b'{"v": 1}', b"x" * (2 << 20 - 1),
           json.dumps({"v": 1, "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "type": "access.decision",
                       "dev": "lock-2", "at": "2026-01-01T00:00:00Z", "seq": "one",
                       "body": {}}).encode(),
           deep("lock-2"), deep("lock-2", depth=100_000), b"[" * 5000 + b"]" * 5000,
           json.dumps({"v": 1, "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "type": "access.decision",
                       "dev": "lock-2", "at": "2026-01-01T00:00:00Z", "seq": 2**64,
                       "body": {}}).encode()]


GOOD_BODY = {"door": "d", "card": "c" * 64, "result": "granted"}
# A body with one field of each class of value past its edge: another type, NUL, control and
# right-to-left override characters, spaces only, 100 KB, huge and negative numbers.
WRONG_BODIES = [GOOD_BODY | {"result": 5}, GOOD_BODY | {"card": "raw-uid"},
                GOOD_BODY | {"door": "a\x00b"}, GOOD_BODY | {"door": "a\x07b"},
                GOOD_BODY | {"room": "\u202eevil"}, GOOD_BODY | {"door": "   "},
                GOOD_BODY | {"result": "x" * 100_000}, GOOD_BODY | {"door": 2**63},
                GOOD_BODY | {"room": -(10**30)}, GOOD_BODY | {"direction": 0}]


def raw_client(net, user, subs=(), password=None, service=False):
    """A plain MQTT client with a broker account (a service account's if `service`), for
    sending what devices must not."""
    account = net.broker.accounts.get(user)
    if account is None:
        account = net.broker.add(Account(user, f"{user}-pw", site=net.site, service=service))
        net.broker.reload()
    inbox = queue.Queue()
    link = MqttLink(user, MqttConfig(port=net.broker.port, username=user,
                                     password=password or account.password,
                                     reconnect_min=0.1, reconnect_max=0.5),
                    subscriptions=list(subs), on_message=inbox.put)
    link.start()
    link.inbox = inbox
    return link


def stop(*links):
    """Stop the links."""
    for link in links:
        link.stop()


def valid(dev, type="access.decision", body=None):
    """A valid envelope from `dev` (an access decision unless told)."""
    body = body if body is not None else GOOD_BODY
    return envelope.encode(envelope.make(type, dev, body))


def test_garbage_from_a_device_gets_codes_and_changes_nothing(net):
    """Garbage from a device on evt, req and status gets stable codes, applies nothing, and central
    keeps serving."""
    service = net.start_central()
    fleet.enrol(net.db, "lock-2", net.site, "lockd")
    res, ack = topics.device("lock-2", "res"), topics.device("lock-2", "ack")
    evil = raw_client(net, "lock-2", [(res, 1), (ack, 1)])
    try:
        wait_for(lambda: evil.connected)
        for payload in GARBAGE:
            for channel in ("evt", "status"):
                evil.publish(topics.device("lock-2", channel), payload)
            evil.publish(topics.device("lock-2", "req"), payload,
                         properties=publish_properties(res, b"corr-1"))
        wait_for(lambda: service.stats["invalid"] >= 3 * len(GARBAGE) - 3,
                 what="every bad payload seen")
        codes = [envelope.decode(evil.inbox.get(timeout=30).payload).body["error"]["code"]
                 for _ in GARBAGE]
        assert set(codes) == {"json_invalid", "envelope_invalid", "nesting_too_deep"}
        for body in WRONG_BODIES:
            evil.publish(topics.device("lock-2", "evt"), valid("lock-2", body=body))
        evil.publish(topics.device("lock-2", "evt"), valid("lock-2"))
        acks = []
        while not any(a.get("ids") for a in acks):
            acks.append(envelope.decode(evil.inbox.get(timeout=30).payload).body)
        rejected = [r["code"] for a in acks for r in a.get("rejected", [])]
        assert rejected == ["bad_body"] * len(WRONG_BODIES)
        assert net.db.execute("SELECT count(*) FROM access_log").fetchone()[0] == 1
        seen = service.stats["invalid"]
        evil.publish(topics.device("lock-2", "status"),
                     valid("lock-2", "status", {"online": "yes", "outbox": -1}))
        wait_for(lambda: service.stats["invalid"] == seen + 1, what="bad status counted")
        assert net.db.execute("SELECT count(*) FROM device_status").fetchone()[0] == 0
        evil.publish(topics.device("lock-2", "status"), valid("lock-2", "status",
                                                              {"online": True, "outbox": 3}))
        wait_for(lambda: net.db.execute("SELECT count(*) FROM device_status").fetchone()[0],
                 what="a good status recorded")
        assert service._thread.is_alive() and service.link.connected
    finally:
        stop(evil)


def test_garbage_to_a_device_is_logged_and_the_device_keeps_working(net, caplog):
    """Garbage on every topic a device reads is logged with its stable code and counted; the
    device still delivers its events and applies central's changes."""
    caplog.set_level(logging.WARNING)
    net.start_central()
    dev = net.device("lock-1", datasets=["allowlist"])
    dev.start()
    # a service account from its first connect: changing an account disconnects its client,
    # and what it published while that went unnoticed would be lost
    evil = raw_client(net, "central-9", service=True)
    try:
        wait_for(lambda: dev.link.connected and dev.synced_at("allowlist"))
        wait_for(lambda: evil.connected)
        for payload in GARBAGE:
            for channel in ("ack", "res", "cmd"):
                evil.publish(topics.device("lock-1", channel), payload)
            evil.publish(topics.sync(net.site, "allowlist"), payload)
        bad_delta = envelope.encode(envelope.make(
            "sync.delta", "central-9", {"dataset": "allowlist", "version": "x", "changes": 3}))
        evil.publish(topics.sync(net.site, "allowlist"), bad_delta)
        bad_changes = envelope.encode(envelope.make(
            "sync.delta", "central-9", {"dataset": "allowlist",
                                        "version": dev.health().datasets["allowlist"].version + 1,
                                        "changes": [[1, 2, 3]]}))
        evil.publish(topics.sync(net.site, "allowlist"), bad_changes)
        wait_for(lambda: dev.stats["invalid"] >= 3 * len(GARBAGE))
        wait_for(lambda: sum("sync_delta_invalid" in r.getMessage() for r in caplog.records)
                 == 2, what="both malformed deltas logged, after all the garbage")
        dropped = {r.args[1:] for r in caplog.records if "dropped message on" in r.msg}
        assert {topic for topic, _ in dropped} == {topics.device("lock-1", c) for c in (
            "ack", "res", "cmd")} | {topics.sync(net.site, "allowlist")}
        assert {code for _, code in dropped} == {"json_invalid", "envelope_invalid",
                                                 "nesting_too_deep"}
        dev.emit(ACCESS_DECISION, AccessDecision(door="d", card="c" * 64, result="granted"))
        wait_for(lambda: dev.health().outbox_depth == 0, what="device still delivers")
        with net.db.transaction():
            net.db.execute("INSERT INTO patrons (id, category) VALUES (5, 'adult')")
            net.db.execute("INSERT INTO cards VALUES ('0405', 5, 'city', 1)")
            allowlist.refresh_patron(net.db, 5)
        key = card_hash(bytes.fromhex(net.card_key), "0405")
        wait_for(lambda: dev.lookup("allowlist", key), what="device still syncs")
    finally:
        stop(evil)
        dev.stop()


@pytest.mark.parametrize("size", [envelope.MAX_PAYLOAD + 1])
def test_oversized_request_gets_payload_too_large(net, size):
    """A request over the size limit is answered payload_too_large."""
    net.start_central()
    res = topics.device("lock-2", "res")
    fleet.enrol(net.db, "lock-2", net.site, "lockd")
    evil = raw_client(net, "lock-2", [(res, 1)])
    try:
        wait_for(lambda: evil.connected)
        evil.publish(topics.device("lock-2", "req"), b"{" + b" " * size + b"}",
                     properties=publish_properties(res, b"big"))
        msg = evil.inbox.get(timeout=30)
        assert envelope.decode(msg.payload).body["error"]["code"] == "payload_too_large"
    finally:
        stop(evil)


def test_a_flood_of_deep_nesting_costs_only_itself(net):
    """One device floods deeply nested events, statuses and requests; another device's events
    are still applied exactly once on their first delivery and its requests answered, and
    every flooded request is answered `nesting_too_deep`, without a batch failing."""
    service = net.start_central()
    fleet.enrol(net.db, "lock-2", net.site, "lockd")
    res = topics.device("lock-2", "res")
    evil = raw_client(net, "lock-2", [(res, 1)])
    good = net.device("lock-1")
    good.start()
    enough, sent = threading.Event(), []

    def flood() -> None:
        """Publish a deeply nested event, status and request every 20 ms until told to stop."""
        while not enough.wait(0.02):  # pacing the flood (the report: one every 50 ms)
            n = len(sent)
            evil.publish(topics.device("lock-2", "evt"), deep("lock-2"))
            evil.publish(topics.device("lock-2", "status"), deep("lock-2", "status"))
            evil.publish(topics.device("lock-2", "req"), deep("lock-2", "sync.pull"),
                         properties=publish_properties(res, f"flood-{n}".encode()))
            sent.append(n)

    flooder = threading.Thread(target=flood, daemon=True)
    try:
        wait_for(lambda: evil.connected and good.central_up, what="both connected")
        flooder.start()
        wait_for(lambda: service.stats["invalid"] >= 30, what="the flood under way")
        ids = []
        for i in range(20):
            mark = len(sent)
            wait_for(lambda: len(sent) >= mark + 2, what="more of the flood")  # noqa: B023
            ids.append(good.emit(ACCESS_DECISION, AccessDecision(
                door="d", card=f"{i:064x}", result="granted")))
            page = good.request(SYNC_PULL, SyncPull(dataset="allowlist", since=0))
            assert page.dataset == "allowlist"
        wait_for(lambda: good.health().outbox_depth == 0,
                 what="every good event acked")
        enough.set()
        flooder.join(10)
        wait_for(lambda: service.stats["invalid"] >= 3 * len(sent),
                 what="every flooded message refused")
        answers = []
        while len(answers) < len(sent):
            answers.append(envelope.decode(evil.inbox.get(timeout=30).payload).body)
        assert {a["error"]["code"] for a in answers} == {"nesting_too_deep"}
        assert good.stats["resent"] == 0, "an event had to be sent again"
        logged = net.db.execute("SELECT card FROM access_log WHERE dev = 'lock-1'").fetchall()
        assert sorted(c for (c,) in logged) == [f"{i:064x}" for i in range(20)]
        assert service.stats["failed_batches"] == 0 and service.stats["contained"] == 0
        assert net.db.execute("SELECT count(*) FROM device_status WHERE dev = 'lock-2'"
                              ).fetchone()[0] == 0
    finally:
        enough.set()
        stop(evil)
        good.stop()


def test_a_failure_sorting_or_answering_one_message_spares_the_batch(tmp_path, monkeypatch):
    """Central's own steps around the Applier (sorting a message, publishing its answer or
    its device's ack) are contained per message as well: the others are applied and
    answered, and the batch counts as done."""
    from central.service import CentralService
    from edge_common.link import Incoming
    from tests.harness import central_config

    class NoBroker:
        port = 1
        accounts = {"central-1": None}

    service = CentralService(central_config(NoBroker(), tmp_path / "central.db"))
    for dev in ("lock-1", "lock-2", "lock-3"):
        fleet.enrol(service.db, dev, "main", "lockd")
    sent: list[tuple[str, bytes]] = []

    def publish(topic, payload, qos=1, retain=False, properties=None):
        if topic == topics.device("lock-2", "ack"):
            raise OSError("the ack to lock-2 cannot be sent")
        sent.append((topic, payload))
        return True

    monkeypatch.setattr(service.link, "publish", publish)
    monkeypatch.setattr(service.link, "ack", lambda mid, qos: None)
    real_decode = envelope.decode

    def decode(payload):
        if b"lock-3" in payload:
            raise RecursionError("maximum recursion depth exceeded")
        return real_decode(payload)

    monkeypatch.setattr(envelope, "decode", decode)
    res = topics.device("lock-1", "res")
    batch = [Incoming(topics.device(dev, "evt"), valid(dev), None, None, n, 1)
             for n, dev in enumerate(["lock-1", "lock-2", "lock-3"])]
    pull = envelope.encode(envelope.make("sync.pull", "lock-1", {"dataset": "allowlist",
                                                                  "since": 0}))
    batch.append(Incoming(topics.device("lock-1", "req"), pull, res, b"c-1", 9, 1))
    try:
        service._process(batch)
    finally:
        service.db.close()
    assert [t for t, _ in sent] == [topics.device("lock-1", "ack"), res]
    assert service.stats["contained"] == 2 and service.stats["applied"] == 2
