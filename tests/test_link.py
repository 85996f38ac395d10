"""The MQTT link under concurrent publishers: the stream stays whole, nothing is lost."""

import queue
import socket
import threading

from edge_common import topics
from edge_common.config import MqttConfig
from edge_common.link import MqttLink
from provisioning.broker import Account
from tests.harness import mqtt_client, wait_for

THREADS, EACH, SIZE = 4, 100, 32 * 1024


def test_many_threads_publishing_big_messages_keep_one_whole_stream(net):
    """paho writes on the publishing thread unless told otherwise, without a lock: with a full
    send buffer two threads can interleave half-written packets. Only the link thread writes."""
    topic = topics.device("lock-1", "evt")
    central = mqtt_client(net, "central-9", [(topics.all_devices("evt"), 1)], service=True)
    drops = []
    dev = mqtt_client(net, "lock-1", on_state=lambda up: up or drops.append(1))
    dev.client.socket().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    writers: set[str] = set()
    send = dev.client._sock_send

    def recording_send(data):
        """paho's socket write, noting which thread calls it."""
        writers.add(threading.current_thread().name)
        return send(data)

    dev.client._sock_send = recording_send
    start = threading.Barrier(THREADS)

    def publish(n: int) -> None:
        """Publish EACH big messages from thread `n`, waiting for the link when it is down."""
        start.wait()
        for i in range(EACH):
            payload = bytes([n]) + i.to_bytes(4, "big") + bytes([n]) * SIZE
            while not dev.publish(topic, payload, qos=1):
                wait_for(lambda: dev.connected, what="link back")

    workers = [threading.Thread(target=publish, args=(n,)) for n in range(THREADS)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        got: set[tuple[int, int]] = set()
        while len(got) < THREADS * EACH:
            msg = central.inbox.get(timeout=30)
            n, i = msg.payload[0], int.from_bytes(msg.payload[1:5], "big")
            assert msg.payload[5:] == bytes([n]) * SIZE, "a message arrived mangled"
            got.add((n, i))
        assert drops == [], "the broker dropped the link: the stream was corrupted"
        assert writers == {"mqtt-lock-1"}, "only the link thread may write the socket"
    finally:
        dev.stop()
        central.stop()


def test_a_consumer_failing_on_one_message_does_not_end_the_link(net):
    """paho re-raises what `on_message` raises out of its loop, which would end the link
    thread for good; the link contains it to that message and keeps receiving."""
    topic = topics.device("lock-1", "cmd")
    got: queue.Queue = queue.Queue()

    def consume(msg) -> None:
        """Fail on a poison message, keep any other."""
        if msg.payload == b"poison":
            raise RecursionError("maximum recursion depth exceeded")
        got.put(msg.payload)

    account = net.broker.add(Account("lock-1", "lock-1-pw", site=net.site))
    net.broker.reload()
    dev = MqttLink("lock-1", MqttConfig(port=net.broker.port, username="lock-1",
                                        password=account.password),
                   subscriptions=[(topic, 1)], on_message=consume)
    dev.start()
    central = mqtt_client(net, "central-9", service=True)
    try:
        wait_for(lambda: dev.connected, what="device connected")
        for payload in (b"poison", b"after", b"poison", b"still"):
            central.publish(topic, payload, qos=1)
        assert [got.get(timeout=30), got.get(timeout=30)] == [b"after", b"still"]
        assert dev.connected and dev._thread is not None and dev._thread.is_alive()
    finally:
        dev.stop()
        central.stop()
