"""Read-only requests are answered on arrival, beside the worker's batches, and never before
what their own device sent earlier."""

import threading
import time

import pytest

from central.handlers import REGISTRY, handler
from edge_common import topics
from edge_common.errors import RemoteError
from edge_common.protocol import MESSAGES, Nothing
from edge_common.protocol.datasets import SYNC_PULL, SyncPage, SyncPull
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from edge_common.protocol.spec import request
from tests.harness import wait_for
from tests.stores import WriteLock

PULL = SyncPull(dataset="allowlist", since=0)


pytestmark = pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)

@pytest.fixture
def writing_read():
    """A request declared read-only whose handler tries to write anyway."""
    message = request("test.read_that_writes", SyncPull, Nothing)

    @handler(message, read_only=True)
    def writes(ctx, body):
        ctx.db.execute("INSERT INTO patrons (id, category) VALUES (99, 'adult')")

    yield message
    del MESSAGES[message.type], REGISTRY[message.type]


def test_a_read_is_answered_while_the_worker_waits_and_a_device_reads_after_its_own_event(net):
    """With the worker stuck on the store's write lock, another device's read is answered at
    once; the stuck event's own device gets its read only after that event committed."""
    central = net.start_central()
    busy, idle = net.device("lock-1"), net.device("lock-2")
    busy.start()
    idle.start()
    lock = WriteLock(net.store)
    try:
        wait_for(lambda: busy.central_up and idle.central_up, what="both devices see central")
        lock.take()
        busy.emit(ACCESS_DECISION, AccessDecision(door="d1", card="a" * 64, result="granted"))
        wait_for(lambda: central.lane.in_hand("lock-1"), what="the worker has the event")
        assert isinstance(idle.request(SYNC_PULL, PULL), SyncPage)   # the worker still waits

        answered = threading.Event()
        reader = threading.Thread(target=lambda: (busy.request(SYNC_PULL, PULL, timeout=30),
                                                  answered.set()))
        reader.start()
        time.sleep(0.5)
        assert not answered.is_set(), "a read overtook its own device's event"
        lock.release()
        reader.join(35)
        assert answered.is_set()
        assert net.db.execute("SELECT count(*) FROM access_log").fetchone()[0] == 1
        assert central.stats["read_lane"] >= 1
    finally:
        lock.close()
        busy.stop()
        idle.stop()


def test_a_read_that_writes_is_refused_and_writes_nothing(net, writing_read):
    """The lane's connection is read-only: a read handler that writes gets `internal_error`,
    its write is not made, and the next read is answered. (A device's status, which no read
    depends on, never holds its reads back.)"""
    central = net.start_central()
    central.lane.handed(topics.device("lock-1", "status"))
    assert central.lane.in_hand("lock-1") == 0
    dev = net.device("lock-1")
    dev.start()
    try:
        wait_for(lambda: dev.central_up, what="central up")
        with pytest.raises(RemoteError) as refused:
            dev.request(writing_read, PULL)
        assert refused.value.code == "internal_error"
        assert net.db.execute("SELECT count(*) FROM patrons WHERE id = 99").fetchone()[0] == 0
        assert isinstance(dev.request(SYNC_PULL, PULL), SyncPage)
    finally:
        dev.stop()
