"""Request/response through central vs raw MQTT 5 request/response on the same broker, and
the same request while central ingests another device's door events."""

import queue
import socket
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.bench_drain import BODY
from bench.common import median, network, percentile, report, wait_for
from edge_common.outbox import Priority
from edge_common.protocol.datasets import SYNC_PULL, SyncPull
from edge_common.protocol.doors import ACCESS_DECISION
from provisioning.broker import Account


def raw_clients(net, *names: str) -> list[mqtt.Client]:
    """Plain paho MQTT 5 clients on the network's broker, connected with TCP_NODELAY."""
    for name in names:
        if name not in net.broker.accounts:
            net.broker.add(Account(name, "pw", service=True))
    net.broker.reload()
    clients = []
    for name in names:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
        c.username_pw_set(name, "pw")
        c.connect("127.0.0.1", net.broker.port)
        c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.loop_start()
        clients.append(c)
    return clients


def raw_round_trips(net, count: int, body: bytes = b'{"dataset":"allowlist","since":0}',
                    answer: bytes | None = None) -> list[float]:
    """Two plain paho clients: a requester sending `body` and a responder answering in its
    callback (with `answer`, or the body itself)."""
    answers: queue.SimpleQueue = queue.SimpleQueue()
    resp, req = raw_clients(net, "raw-resp", "raw-req")

    def respond(c, userdata, msg):
        props = Properties(PacketTypes.PUBLISH)
        props.CorrelationData = msg.properties.CorrelationData
        c.publish(msg.properties.ResponseTopic, msg.payload if answer is None else answer,
                  qos=1, properties=props)

    resp.on_message = respond
    req.on_message = lambda c, u, msg: answers.put(msg)
    resp.subscribe("lib/v1/bench/req", qos=1)
    req.subscribe("lib/v1/bench/res", qos=1)
    time.sleep(0.5)
    times = []
    for i in range(count):
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = "lib/v1/bench/res"
        props.CorrelationData = str(i).encode()
        start = time.perf_counter()
        req.publish("lib/v1/bench/req", body, qos=1, properties=props)
        answers.get(timeout=5)
        times.append(time.perf_counter() - start)
    for c in (req, resp):
        c.loop_stop()
        c.disconnect()
    return times


def central_round_trips(net, dev, count: int) -> list[float]:
    """`DeviceRuntime.request` of a read-only request through central."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        dev.request(SYNC_PULL, SyncPull(dataset="allowlist", since=10**9))
        times.append(time.perf_counter() - start)
    return times


def during_drain(net, dev, events: int, count: int) -> list[float]:
    """Round trips of `dev` (at most `count`) while another device drains `events` door events
    into central, until the drain is done."""
    door = net.device("bench-drain")
    door.emit_many([(ACCESS_DECISION, BODY, Priority.NORMAL)] * events)
    door.start()
    try:
        wait_for(lambda: door.health().outbox_depth < events, what="the drain started")
        times: list[float] = []
        while len(times) < count and door.health().outbox_depth > 0:
            times += central_round_trips(net, dev, 1)
        return times
    finally:
        door.stop()


def main(quick: bool = False) -> None:
    """Median p50 and p99 over several runs, each run on its own broker."""
    count, repeats = (300, 2) if quick else (2000, 5)
    p50s, p99s, raw50s, raw99s, busy50s = [], [], [], [], []
    for _ in range(repeats):
        with network() as net:
            net.start_central()
            dev = net.device("bench-1")
            dev.start()
            wait_for(lambda dev=dev: dev.central_up)
            central_round_trips(net, dev, 50)
            ours = central_round_trips(net, dev, count)
            raw = raw_round_trips(net, count)
            busy = during_drain(net, dev, 20_000, count // 4)
            dev.stop()
        busy50s.append(percentile(busy, 50))
        p50s.append(percentile(ours, 50))
        p99s.append(percentile(ours, 99))
        raw50s.append(percentile(raw, 50))
        raw99s.append(percentile(raw, 99))
    ms = 1000
    p50, p99, r50, r99 = (median(x) * ms for x in (p50s, p99s, raw50s, raw99s))
    ratio50 = median([a / b for a, b in zip(p50s, raw50s, strict=True)])
    ratio99 = median([a / b for a, b in zip(p99s, raw99s, strict=True)])
    report("request via central p50", p50, "ms", r50, "raw MQTT 5 p50", "≤ 1.2× raw",
           ratio50 <= 1.2, ratio50)
    report("request via central p99", p99, "ms", r99, "raw MQTT 5 p99", "≤ 3× raw",
           ratio99 <= 3, ratio99)
    busy = median(busy50s) * ms
    ratio_busy = median([a / b for a, b in zip(busy50s, p50s, strict=True)])
    report("request via central p50 while another device drains door events", busy, "ms", p50,
           "the same request idle", "≤ 20 ms", busy <= 20, ratio_busy)


if __name__ == "__main__":
    import sys

    main("--quick" in sys.argv)
