"""Fault injection against a real broker: kill -9 broker, device and central; cut the link."""

import random
import signal
import subprocess
import sys
import threading

import pytest

from central import fleet
from edge_common.outbox import Priority
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from edge_common.readers import send_sim_tap
from tests.harness import device_json, seqs, wait_for, write_central_toml
from tests.locks import add_card, decisions, pulses, start_lock
from tests.producer import Progress, progress
from tests.proxy import Proxy

BODY = AccessDecision(door="d", card="a" * 64, result="granted")
FOREVER = 10**9  # a producer run that is killed never reaches its total
pytestmark = pytest.mark.slow


class Stream:
    """Events emitted from a background thread, as a busy door would, until `stop()`."""

    def __init__(self, dev, batch: int, pause: float):
        self.emitted = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(dev, batch, pause), daemon=True)
        self._thread.start()

    def _run(self, dev, batch: int, pause: float) -> None:
        """Emit a batch, pause (pacing the load, not waiting for anything), repeat."""
        while not self._done.wait(pause):
            dev.emit_many([(ACCESS_DECISION, BODY, Priority.NORMAL)] * batch)
            self.emitted += batch

    def stop(self) -> int:
        """End the stream; how many events it emitted."""
        self._done.set()
        self._thread.join(30)
        return self.emitted


def emit(dev, count: int) -> None:
    """Commit `count` access decisions to the device's outbox at once."""
    dev.emit_many([(ACCESS_DECISION, BODY, Priority.NORMAL)] * count)


def applied(db, dev: str = "lock-1") -> int:
    """How many of a device's events central holds."""
    return db.execute("SELECT count(*) FROM access_log WHERE dev = ?", [dev]).fetchone()[0]


def assert_exactly_once(db, dev: str, total: int) -> None:
    """Central holds the device's events 1..total, each once."""
    got = seqs(db, dev)
    assert len(got) == total and got == list(range(1, total + 1)), (
        f"{len(got)} rows, {len(set(got))} distinct, missing "
        f"{sorted(set(range(1, total + 1)) - set(got))[:10]}")


def test_broker_killed_and_restarted_mid_stream(net):
    """kill -9 of the broker (which loses its queues) while a device streams: once it is back,
    every event the device committed reaches central exactly once."""
    net.start_central()
    dev = net.device("lock-1", ack_timeout=2.0)
    dev.start()
    try:
        stream = Stream(dev, batch=50, pause=0.01)
        wait_for(lambda: dev.stats["acked"] > 2000, what="stream under way")
        net.broker.kill()
        wait_for(lambda: not dev.link.connected, what="the device sees the broker gone")
        net.broker.start()
        acked = dev.stats["acked"]
        wait_for(lambda: dev.stats["acked"] > acked + 2000,
                 what="the stream acked again through the restarted broker")
        total = stream.stop()
        wait_for(lambda: dev.health().outbox_depth == 0, what="outbox drained")
        assert_exactly_once(net.db, "lock-1", total)
    finally:
        dev.stop()


def run_producer(cfg, total: int) -> subprocess.Popen:
    """Start the producer device process (tests/producer.py) with its config."""
    return subprocess.Popen([sys.executable, "-m", "tests.producer", str(cfg), str(total)])


def kill_mid_stream(proc, data_dir, proxy: Proxy, db, skip: int) -> Progress:
    """Let a producer run stream through `proxy` until central applied a new event and the
    run committed `skip` more events, stall the link so that no ack can come, wait for
    events committed after the stall, then kill -9 the producer while it is producing."""
    start = progress(data_dir).seq
    wait_for(lambda: max(seqs(db, "lock-1"), default=0) > start,
             what="central applying this run's events")
    wait_for(lambda: progress(data_dir).seq >= start + skip, what="the run producing")
    proxy.cut("stall")
    stalled = progress(data_dir).seq
    wait_for(lambda: progress(data_dir).seq > stalled, what="events committed after the stall")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proxy.restore()
    return progress(data_dir)


def test_device_killed_mid_stream_loses_and_repeats_nothing(net, tmp_path):
    """Four device processes in a row are killed -9 while producing, each with events in its
    outbox that central has not acked (committed after its link stalled, or sent before and
    their acks held up); every restart continues the stream, and central ends with each
    committed event once."""
    net.start_central()
    fleet.enrol(net.db, "lock-1", net.site, "lockd")
    proxy = Proxy(net.broker.port)
    cfg = device_json(net.broker, tmp_path, "lock-1", net.site, net.card_key, port=proxy.port,
                      ack_timeout=2.0)
    rng = random.Random(7)
    try:
        for _ in range(4):
            proc = run_producer(cfg, FOREVER)
            try:
                left = kill_mid_stream(proc, tmp_path / "lock-1", proxy, net.db,
                                       skip=rng.randint(50, 600))
            finally:
                proc.kill()
                proc.wait()
            assert left.depth > 0, "the kill left no unacked event behind"
        total = left.seq + 500
        assert run_producer(cfg, total).wait(120) == 0
        assert progress(tmp_path / "lock-1") == (total, 0)
        assert_exactly_once(net.db, "lock-1", total)
    finally:
        proxy.close()


def test_central_killed_mid_batch_loses_and_repeats_nothing(net, tmp_path):
    """kill -9 of central's worker process three times while a device streams: after each
    restart it goes on, and it ends with every event once."""
    conf = write_central_toml(net.broker, net.store, tmp_path / "central.toml")

    log = open(tmp_path / "central.log", "ab")

    def start_central():
        """Start central's worker as its own process, logging to central.log."""
        return subprocess.Popen([sys.executable, "-m", "central.service", "--config", str(conf)],
                                stdout=log, stderr=subprocess.STDOUT)

    central = start_central()
    dev = net.device("lock-1", ack_timeout=2.0)
    dev.start()
    rng = random.Random(11)
    stream = Stream(dev, batch=20, pause=0.02)
    try:
        for _ in range(3):
            mark = applied(net.db) + rng.randint(20, 400)
            wait_for(lambda: applied(net.db) > mark,  # noqa: B023
                     what=f"central applying; its log: {(tmp_path / 'central.log').read_text()}")
            central.send_signal(signal.SIGKILL)
            central.wait()
            central = start_central()
        total = stream.stop()
        wait_for(lambda: dev.health().outbox_depth == 0, what="outbox drained")
        assert_exactly_once(net.db, "lock-1", total)
    finally:
        stream.stop()
        dev.stop()
        central.send_signal(signal.SIGTERM)
        central.wait(10)


class Workers:
    """Central's worker processes, each with its own config and log, started and killed by
    name."""

    def __init__(self, net, folder, names: list[str]):
        self.folder = folder
        self.confs = {n: write_central_toml(net.broker, net.store, folder / f"{n}.toml", n)
                      for n in names}
        self.procs = {n: self.start(n) for n in names}

    def start(self, name: str) -> subprocess.Popen:
        """Start one worker as its own process."""
        log = open(self.folder / f"{name}.log", "ab")  # noqa: SIM115 - the process writes it
        return subprocess.Popen([sys.executable, "-m", "central.service", "--config",
                                 str(self.confs[name])], stdout=log, stderr=subprocess.STDOUT)

    def kill(self, name: str) -> None:
        """kill -9 one worker and start it again."""
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()
        self.procs[name] = self.start(name)

    def logs(self) -> str:
        """Every worker's log, for a failing wait."""
        return "\n".join((self.folder / f"{n}.log").read_text() for n in self.procs)

    def stop(self) -> None:
        """Stop every worker."""
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            proc.wait(10)


@pytest.mark.parametrize("net", ["postgresql"], indirect=True)
def test_four_workers_on_postgresql_killed_apply_every_event_once(net, tmp_path):
    """Four central worker processes share one PostgreSQL store and the devices' messages
    ($share): each is killed -9 in turn while four devices stream, and every event of every
    device ends in the store once."""
    workers = Workers(net, tmp_path, [f"central-{n}" for n in range(1, 5)])
    devices = [net.device(f"lock-{n}", ack_timeout=2.0) for n in range(1, 5)]
    for dev in devices:
        dev.start()
    streams = [Stream(dev, batch=10, pause=0.1) for dev in devices]
    rng = random.Random(26)
    try:
        for name in [*workers.procs, *rng.sample(list(workers.procs), 2)]:
            mark = sum(applied(net.db, d.device.id) for d in devices) + rng.randint(50, 400)
            wait_for(lambda: sum(applied(net.db, d.device.id) for d in devices) > mark,  # noqa: B023
                     what=f"central applying; its logs: {workers.logs()}")
            workers.kill(name)
        totals = [s.stop() for s in streams]
        for dev, total in zip(devices, totals, strict=True):
            wait_for(lambda: dev.health().outbox_depth == 0,  # noqa: B023
                     what=f"{dev.device.id}'s outbox drained")
            assert_exactly_once(net.db, dev.device.id, total)
    finally:
        for s in streams:
            s.stop()
        for dev in devices:
            dev.stop()
        workers.stop()


def keep_emitting_while_cut(dev, proxy: Proxy, batches: int) -> None:
    """Emit a batch after each connection attempt the cut link refuses."""
    for _ in range(batches):
        attempts = proxy.attempts
        wait_for(lambda: proxy.attempts > attempts, what="the device trying again")  # noqa: B023
        emit(dev, 200)


def test_cut_link_keeps_queueing_and_delivers_everything_after(net):
    """Connections dropped, then a connection stalled, while events keep coming: the outbox
    keeps every one, and once the link is back central gets each exactly once (how fast:
    bench_drain)."""
    net.start_central()
    proxy = Proxy(net.broker.port)
    dev = net.device("lock-1", port=proxy.port, ack_timeout=2.0)
    dev.start()
    try:
        wait_for(lambda: dev.link.connected, what="connected through the proxy")
        emit(dev, 100)
        wait_for(lambda: dev.health().outbox_depth == 0, what="first events delivered")
        proxy.cut("drop")
        wait_for(lambda: not dev.link.connected, what="link noticed down")
        keep_emitting_while_cut(dev, proxy, 5)
        proxy.cut("stall")
        keep_emitting_while_cut(dev, proxy, 1)   # its connection now hangs in the stall
        emit(dev, 800)
        assert dev.health().outbox_depth == 2000 and applied(net.db) == 100
        proxy.restore()
        wait_for(lambda: dev.health().outbox_depth == 0, what="queue delivered")
        assert_exactly_once(net.db, "lock-1", 2100)
    finally:
        dev.stop()
        proxy.close()


def test_lock_keeps_granting_from_its_list_while_cut(net, tmp_path):
    """Cut off, a door keeps granting a listed card from its own copy, one patron after
    another, and its decisions reach central once the link is back."""
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
        wait_for(lambda: lock.runtime.health().outbox_depth == 20,   # the relay goes first
                 what="every decision queued for central")
        proxy.restore()
        wait_for(lambda: len(decisions(net)) == 20, what="offline decisions arrive")
        assert set(decisions(net)) == {"granted"}
    finally:
        lock.stop()
        proxy.close()
