"""Fault injection against a real broker: kill -9 broker, device and central; cut the link."""

import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from central import fleet
from edge_common.outbox import Priority
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from edge_common.readers import send_sim_tap
from tests.harness import device_json, seqs, wait_for, write_central_toml
from tests.locks import add_card, decisions, pulses, start_lock
from tests.proxy import Proxy

BODY = AccessDecision(door="d", card="a" * 64, result="granted")
pytestmark = pytest.mark.slow


def produce(dev, total: int, batch: int = 50, pause: float = 0.002) -> threading.Thread:
    """Emit `total` events from a background thread, as a busy door would."""
    def run():
        for start in range(0, total, batch):
            dev.emit_many([(ACCESS_DECISION, BODY, Priority.NORMAL)] * min(batch, total - start))
            time.sleep(pause)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def assert_exactly_once(db, dev: str, total: int) -> None:
    got = seqs(db, dev)
    assert len(got) == total and got == list(range(1, total + 1)), (
        f"{len(got)} rows, {len(set(got))} distinct, missing "
        f"{sorted(set(range(1, total + 1)) - set(got))[:10]}")


def test_broker_killed_and_restarted_mid_stream(net):
    net.start_central()
    dev = net.device("lock-1", ack_timeout=2.0)
    dev.start()
    try:
        producer = produce(dev, 10_000)
        wait_for(lambda: dev.stats["acked"] > 2000, timeout=60, what="stream under way")
        net.broker.kill()
        time.sleep(1.0)
        net.broker.start()
        producer.join(120)
        wait_for(lambda: dev.health().outbox_depth == 0, timeout=120, what="outbox drained")
        assert_exactly_once(net.db, "lock-1", 10_000)
    finally:
        dev.stop()


def run_producer(cfg, total):
    return subprocess.Popen([sys.executable, "-m", "tests.producer", str(cfg), str(total)])


def test_device_killed_at_random_points_loses_and_repeats_nothing(net, tmp_path):
    net.start_central()
    fleet.enrol(net.db, "lock-1", net.site, "lockd")
    cfg = device_json(net.broker, tmp_path, "lock-1", net.site, net.card_key, ack_timeout=2.0)
    total, rng = 3000, random.Random(7)
    for _ in range(4):
        proc = run_producer(cfg, total)
        time.sleep(rng.uniform(0.3, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = run_producer(cfg, total)
    assert final.wait(120) == 0
    wait_for(lambda: len(seqs(net.db, "lock-1")) == total, timeout=60, what="all applied")
    assert_exactly_once(net.db, "lock-1", total)


def test_central_killed_mid_batch_loses_and_repeats_nothing(net, tmp_path):
    conf = write_central_toml(net.broker, net.db_path, tmp_path / "central.toml")

    log = open(tmp_path / "central.log", "ab")

    def start_central():
        return subprocess.Popen([sys.executable, "-m", "central.service", "--config", str(conf)],
                                stdout=log, stderr=subprocess.STDOUT)

    central = start_central()
    dev = net.device("lock-1", ack_timeout=2.0)
    dev.start()
    try:
        producer = produce(dev, 10_000, batch=20, pause=0.02)
        for _ in range(3):
            wait_for(lambda: dev.stats["acked"] > 0, timeout=30,
                     what=f"central applying; its log: {(tmp_path / 'central.log').read_text()}")
            time.sleep(random.uniform(0.2, 0.8))
            assert producer.is_alive(), "the stream ended before central was killed"
            central.send_signal(signal.SIGKILL)
            central.wait()
            dev.stats["acked"] = 0
            central = start_central()
        producer.join(60)
        wait_for(lambda: dev.health().outbox_depth == 0, timeout=120, what="outbox drained")
        assert_exactly_once(net.db, "lock-1", 10_000)
    finally:
        dev.stop()
        central.send_signal(signal.SIGTERM)
        central.wait(10)


def test_cut_link_keeps_queueing_and_delivers_everything_after(net):
    net.start_central()
    proxy = Proxy(net.broker.port)
    dev = net.device("lock-1", port=proxy.port, ack_timeout=2.0)
    dev.start()
    try:
        wait_for(lambda: dev.link.connected, what="connected through the proxy")
        dev.emit_many([(ACCESS_DECISION, BODY, Priority.NORMAL)] * 100)
        wait_for(lambda: dev.health().outbox_depth == 0, what="first events delivered")
        proxy.cut("drop")
        wait_for(lambda: not dev.link.connected, what="link noticed down")
        for _ in range(10):
            dev.emit_many([(ACCESS_DECISION, BODY, Priority.NORMAL)] * 100)
            time.sleep(1.0)
        proxy.cut("stall")
        for _ in range(10):
            dev.emit_many([(ACCESS_DECISION, BODY, Priority.NORMAL)] * 100)
            time.sleep(1.0)
        assert dev.health().outbox_depth >= 1000
        restored = time.monotonic()
        proxy.restore()
        wait_for(lambda: dev.health().outbox_depth == 0, timeout=60, what="queue delivered")
        assert time.monotonic() - restored < 30
        assert_exactly_once(net.db, "lock-1", 2100)
    finally:
        dev.stop()
        proxy.close()


def test_lock_keeps_granting_from_its_list_while_cut(net, tmp_path):
    net.start_central()
    proxy = Proxy(net.broker.port)
    lock = start_lock(net, tmp_path, port=proxy.port, policy={"max_list_age": 3600})
    try:
        add_card(net.db, "04A1B2C3", lock)
        proxy.cut("drop")
        wait_for(lambda: not lock.runtime.link.connected, what="lock offline")
        for n in range(1, 21):
            send_sim_tap(lock.socket, "04A1B2C3")
            wait_for(lambda n=n: len(pulses(lock)) == n, what="granted while offline")
        assert lock.runtime.health().outbox_depth == 20
        proxy.restore()
        wait_for(lambda: len(decisions(net)) == 20, timeout=30, what="offline decisions arrive")
        assert set(decisions(net)) == {"granted"}
    finally:
        lock.stop()
        proxy.close()
