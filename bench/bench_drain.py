"""Outbox drain after an outage vs raw paho QoS 1 publishing; resume time after the link returns;
a queue delivered after a cut link returns vs the same queue over a link that stayed up; the
allow-list of a device started before central, from central's start."""

import socket
import threading
import time

import paho.mqtt.client as mqtt

from bench.common import median, network, report, wait_for
from central.circulation import allowlist
from edge_common import topics
from edge_common.cardid import card_hash
from edge_common.outbox import Priority
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from provisioning.broker import Account
from tests.harness import mqtt_client
from tests.proxy import Proxy

BODY = AccessDecision(door="d", card="a" * 64, result="granted")


def raw_qos1_rate(net, count: int) -> float:
    """Messages/s of one raw paho QoS 1 publisher with a subscriber consuming them."""
    for name in ("raw-pub", "raw-sub"):
        net.broker.add(Account(name, "pw", service=True))
    net.broker.reload()
    got = threading.Event()
    received = [0]

    def client(name):
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
        c.username_pw_set(name, "pw")
        c.max_inflight_messages_set(1000)
        c.connect("127.0.0.1", net.broker.port)
        c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.loop_start()
        return c

    sub, pub = client("raw-sub"), client("raw-pub")

    def on_message(c, u, m):
        received[0] += 1
        if received[0] == count:
            got.set()

    sub.on_message = on_message
    sub.subscribe("lib/v1/bench/raw", qos=1)
    time.sleep(0.5)
    payload = b"x" * 180
    start = time.perf_counter()
    for _ in range(count):
        pub.publish("lib/v1/bench/raw", payload, qos=1)
    got.wait(120)
    elapsed = time.perf_counter() - start
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()
    return count / elapsed


def drain_rate(net, count: int) -> float:
    """Events/s from `count` events queued while central was down to all applied."""
    dev = net.device("bench-1")
    dev.start()
    for start in range(0, count, 5000):
        dev.emit_many([(ACCESS_DECISION, BODY, Priority.NORMAL)] * min(5000, count - start))
    wait_for(lambda: dev.link.connected)
    began = time.perf_counter()
    net.start_central()
    wait_for(lambda: dev.health().outbox_depth == 0, timeout=600, interval=0.05)
    elapsed = time.perf_counter() - began
    dev.stop()
    applied = net.db.execute("SELECT count(*) FROM access_log").fetchone()[0]
    assert applied == count, applied
    return count / elapsed


def resume_after_outage(net) -> float:
    """Seconds from the broker accepting connections again to the first new event applied."""
    net.start_central()
    dev = net.device("bench-2")
    dev.start()
    wait_for(lambda: dev.central_up)
    net.broker.stop()
    wait_for(lambda: not dev.link.connected)
    dev.emit(ACCESS_DECISION, BODY)
    net.broker.start()
    back = time.perf_counter()
    wait_for(lambda: dev.health().outbox_depth == 0, timeout=60, interval=0.005)
    elapsed = time.perf_counter() - back
    dev.stop()
    return elapsed


def queue_delivery(net, count: int, cut: bool) -> float:
    """Seconds to deliver `count` events queued while central was unreachable: with `cut`,
    from the device's link (dropped, then a reconnection stalled) coming back; without, from
    a link that stayed up seeing central come back."""
    proxy = Proxy(net.broker.port)
    dev = net.device("bench-3", port=proxy.port, ack_timeout=2.0)
    dev.start()
    wait_for(lambda: dev.link.connected)
    if cut:
        net.start_central()
        wait_for(lambda: dev.central_up)
        proxy.cut("drop")
        wait_for(lambda: not dev.link.connected)
    dev.emit_many([(ACCESS_DECISION, BODY, Priority.NORMAL)] * count)
    if cut:
        attempts = proxy.attempts
        proxy.cut("stall")
        wait_for(lambda: proxy.attempts > attempts)   # a reconnection hangs in the stall
    began = time.perf_counter()
    if cut:
        proxy.restore()
    else:
        net.start_central()
    wait_for(lambda: dev.health().outbox_depth == 0, timeout=120, interval=0.005)
    elapsed = time.perf_counter() - began
    dev.stop()
    proxy.close()
    return elapsed


def list_after_central_starts(net) -> tuple[float, float]:
    """Seconds from starting central to a card in the list of a device that started first
    (its first pull unanswered), and to central's own link being up, the floor of that."""
    with net.db.transaction():
        net.db.execute("INSERT INTO patrons (id, category) VALUES (1, 'adult')")
        net.db.execute("INSERT INTO cards VALUES ('04A1B2C3', 1, 'city', 1)")
        allowlist.refresh_patron(net.db, 1)
    net.db.execute("DELETE FROM dataset_deltas")  # published while the device was away
    spy = mqtt_client(net, "spy-1", [(topics.device("bench-4", "req"), 1)], service=True)
    dev = net.device("bench-4", datasets=["allowlist"])
    dev.start()
    spy.inbox.get(timeout=30)   # its first pull, which nobody answers
    spy.stop()
    key = card_hash(bytes.fromhex(net.card_key), "04A1B2C3")
    began = time.perf_counter()
    net.start_central()
    up = time.perf_counter() - began
    wait_for(lambda: dev.lookup("allowlist", key), timeout=120, interval=0.005)
    elapsed = time.perf_counter() - began
    dev.stop()
    return elapsed, up


def main(quick: bool = False) -> None:
    """Median of several runs, each on a fresh broker."""
    count, repeats = (10_000, 1) if quick else (100_000, 3)
    ours, raws, resumes, cuts, ups, lists = [], [], [], [], [], []
    for _ in range(repeats):
        with network() as net:
            ours.append(drain_rate(net, count))
            raws.append(raw_qos1_rate(net, min(count, 50_000)))
        with network() as net:
            resumes.append(resume_after_outage(net))
        for cutting, into in ((True, cuts), (False, ups)):
            with network() as net:
                into.append(queue_delivery(net, 2000, cutting))
        with network() as net:
            lists.append(list_after_central_starts(net))
    drain, raw = median(ours), median(raws)
    ratio = median([a / b for a, b in zip(ours, raws, strict=True)])
    report(f"outbox drain of {count:,} events", drain, "events/s", raw, "raw paho QoS 1",
           "≥ 0.9× raw", ratio >= 0.9, ratio)
    resume = median(resumes)
    report("sending resumes after the link returns", resume, "s", None, "-", "≤ 2 s",
           resume <= 2.0)
    cut = median(cuts)
    report("2,000 queued events delivered after a cut link returns", cut, "s", median(ups),
           "same queue, link up", "≤ 30 s", cut <= 30.0)
    listed = median([got for got, _ in lists])
    report("list on a device started before central, from central's start", listed, "s",
           median([up for _, up in lists]), "central's start to its link up", "≤ 5 s",
           listed <= 5.0)


if __name__ == "__main__":
    import sys

    main("--quick" in sys.argv)
