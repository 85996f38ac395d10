"""End to end over a real broker: events exactly once, requests, dataset sync."""

import sqlite3
import time

import pytest

from central import datasets
from central.circulation import allowlist
from edge_common import envelope, topics
from edge_common.cardid import card_hash
from edge_common.protocol.datasets import SYNC_PULL, SyncPage, SyncPull
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from tests.harness import mqtt_client, seqs, wait_for

pytestmark = pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)

def test_events_reach_central_once_and_leave_the_outbox(net):
    """Events reach central's access log once each, and their outbox rows are gone, also after a
    restart."""
    net.start_central()
    dev = net.device("lock-1")
    dev.start()
    try:
        for _ in range(50):
            dev.emit(ACCESS_DECISION, AccessDecision(door="d1", card="a" * 64, result="granted"))
        wait_for(lambda: dev.health().outbox_depth == 0, what="outbox drained")
        rows = net.db.execute("SELECT count(*), count(DISTINCT seq) FROM access_log").fetchone()
        assert rows == (50, 50)
        assert dev.pending(ACCESS_DECISION.type, "a" * 64) == 0   # the rows, not a counter
    finally:
        dev.stop()
    with sqlite3.connect(net.root / "lock-1" / "outbox.db") as box:   # and after a restart
        assert box.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_card_added_at_central_reaches_the_device_replica(net):
    """A card added at central, and then its block, reach a running device's allow-list copy."""
    net.start_central()
    dev = net.device("lock-1", datasets=["allowlist"])
    dev.start()
    try:
        with net.db.transaction():
            net.db.execute("INSERT INTO patrons (id, category) VALUES (1, 'adult')")
            net.db.execute("INSERT INTO cards VALUES ('04A1B2C3', 1, 'city', 1)")
            allowlist.refresh_patron(net.db, 1)
        key = card_hash(bytes.fromhex(net.card_key), "04A1B2C3")
        wait_for(lambda: dev.lookup("allowlist", key), what="card in replica")
        with net.db.transaction():
            net.db.execute("UPDATE patrons SET blocked = 1 WHERE id = 1")
            allowlist.refresh_patron(net.db, 1)
        wait_for(lambda: b'"blk":true' in dev.lookup("allowlist", key), what="block applied")
    finally:
        dev.stop()


def test_a_new_device_copies_a_list_of_many_pages(net, monkeypatch):
    """A device that missed every delta copies the whole list by paged pulls (packed, in key
    order)."""
    from edge_common.protocol import packed

    monkeypatch.setattr(packed, "PAGE", 3)
    with net.db.transaction():
        for i in range(10):
            net.db.execute("INSERT INTO patrons (id, category) VALUES (?, 'adult')", [i])
            net.db.execute("INSERT INTO cards VALUES (?, ?, 'city', 1)", [f"04{i:06X}", i])
        allowlist.publish_site(net.db, net.site)
    datasets.mark_published(net.db, datasets.unpublished(net.db))   # went out before the device
    net.start_central()
    dev = net.device("lock-1", datasets=["allowlist"])
    dev.start()
    try:
        wait_for(lambda: dev.health().datasets["allowlist"].version > 0, what="list copied")
        key = bytes.fromhex(net.card_key)
        assert all(dev.lookup("allowlist", card_hash(key, f"04{i:06X}")) for i in range(10))
    finally:
        dev.stop()


def test_a_request_gets_its_declared_answer(net):
    """A request through the broker gets the answer type its message declares."""
    net.start_central()
    dev = net.device("lock-1")
    dev.start()
    try:
        wait_for(lambda: dev.link.connected)
        first = dev.request(SYNC_PULL, SyncPull(dataset="allowlist", since=0))
        assert isinstance(first, SyncPage) and first.head >= 0 and first.next is None
    finally:
        dev.stop()


def test_status_is_retained_and_the_will_says_offline(net):
    """A device's status is online while up, offline by its will after a drop and after a clean
    stop, and replayed to a late central."""
    import msgspec

    from central.service import CentralService
    from tests.harness import central_config

    net.start_central()
    dev = net.device("lock-1", datasets=["allowlist"])
    dev.start()

    def status():
        """The device's online flag and status body at central, or None."""
        row = net.db.execute("SELECT online, body FROM device_status WHERE dev = 'lock-1'")
        row = row.fetchone()
        return row and (row[0], msgspec.json.decode(row[1])["body"])

    try:
        online, body = wait_for(lambda: (s := status()) and s[0] and s, what="online status")
        assert body["kind"] == "lockd" and body["outbox"] == 0 and "allowlist" in body["datasets"]
        dev.link.client._sock.close()  # an unclean drop: the broker publishes the will
        wait_for(lambda: status()[0] == 0, what="will published")
        wait_for(lambda: status()[0] == 1, what="back online after reconnect")
    finally:
        dev.stop()
    wait_for(lambda: status()[0] == 0, what="offline after a clean stop")
    net.central.stop()
    net.db.execute("DELETE FROM device_status")   # before the late worker can be replayed to
    late = CentralService(central_config(net.broker, net.store, worker="central-2"))
    late.start()
    try:
        wait_for(lambda: status() and status()[0] == 0, what="retained status replayed")
    finally:
        late.stop()
        net.central = None


def test_two_central_workers_share_the_load_exactly_once(net):
    """Two central workers share three devices' events, each applied once."""
    from central.service import CentralService
    from tests.harness import central_config

    net.start_central()
    second = CentralService(central_config(net.broker, net.store, worker="central-2"))
    second.start()
    devs = [net.device(f"lock-{i}") for i in range(3)]
    for d in devs:
        d.start()
    try:
        for d in devs:
            body = AccessDecision(door="d", card="b" * 64, result="granted")
            d.emit_many([(ACCESS_DECISION, body, 1)] * 300)
        for d in devs:
            wait_for(lambda d=d: d.health().outbox_depth == 0, what="drained")
        for d in devs:
            assert seqs(net.db, d.device.id) == list(range(1, 301)), "each event once"
        assert net.central.stats["applied"] > 0 and second.stats["applied"] > 0
    finally:
        for d in devs:
            d.stop()
        second.stop()


def test_an_offline_device_does_not_spin(net, tmp_path):
    """Offline with events waiting, the coordinator wakes about once a second, not in a busy
    loop: counted steps, not CPU time (which other work on the machine would distort)."""
    dev = net.device("lock-1", port=1)  # nothing listens there
    steps = []
    tick = dev._tick
    dev._tick = lambda: (steps.append(time.monotonic()), tick())[1]
    dev.start()
    try:
        for _ in range(20):
            dev.emit(ACCESS_DECISION, AccessDecision(door="d", card="b" * 64, result="granted"))
        wait_for(lambda: len(steps) > 25 or (steps and steps[-1] - steps[0] >= 3.0),
                 what="three seconds of coordinator steps")
        span = steps[-1] - steps[0]
        assert len(steps) <= 25 and span >= 3.0, (len(steps), span)  # a 1 ms loop: thousands
        assert dev.health().outbox_depth == 20
    finally:
        dev.stop()


def test_device_started_before_central_pulls_its_list_when_central_comes_up(net, monkeypatch):
    """A device whose first pull went unanswered (no central yet) pulls again as soon as
    central announces itself: with that pull's timeout longer than any wait here, nothing
    else could bring the list."""
    from edge_common import datasync

    monkeypatch.setattr(datasync, "PULL_TIMEOUT", 3600.0)
    spy = mqtt_client(net, "spy-1", [(topics.device("lock-1", "req"), 1)], service=True)
    dev = net.device("lock-1", datasets=["allowlist"])
    with net.db.transaction():
        net.db.execute("INSERT INTO patrons (id, category) VALUES (1, 'adult')")
        net.db.execute("INSERT INTO cards VALUES ('04A1B2C3', 1, 'city', 1)")
        allowlist.refresh_patron(net.db, 1)
    net.db.execute("DELETE FROM dataset_deltas")  # as if published while the device was away
    dev.start()
    try:
        first = envelope.decode(spy.inbox.get(timeout=30).payload)
        assert first.type == SYNC_PULL.type, "its first pull, which nobody answers"
        net.start_central()
        key = card_hash(bytes.fromhex(net.card_key), "04A1B2C3")
        wait_for(lambda: dev.lookup("allowlist", key), what="list pulled after central came up")
    finally:
        dev.stop()
        spy.stop()


def test_a_revoked_device_is_refused_by_a_running_central_within_seconds(net):
    """A device revoked while central runs gets its events and status refused as device_unknown,
    nothing more applied."""
    from central import fleet

    central = net.start_central()
    dev = net.device("lock-1")
    dev.start()
    body = AccessDecision(door="d", card="a" * 64, result="granted")

    def rejected() -> list:
        """The codes of lock-1's refused events at central."""
        return [r[0] for r in net.db.execute("SELECT code FROM rejected WHERE dev = 'lock-1'")]

    try:
        dev.emit(ACCESS_DECISION, body)
        wait_for(lambda: net.db.execute("SELECT count(*) FROM access_log").fetchone()[0] == 1)
        wait_for(lambda: net.db.execute("SELECT count(*) FROM device_status").fetchone()[0])
        fleet.revoke(net.db, "lock-1")         # by staff, in another process

        def refused() -> bool:          # a worker rereads a device within DEVICE_SECONDS
            """Emit one more event; whether central has refused one yet."""
            dev.emit(ACCESS_DECISION, body)
            return bool(rejected())

        wait_for(refused, interval=0.5, what="the revoked device refused")
        # a status that came before central reread the device was still kept; none after
        net.db.execute("DELETE FROM device_status")
        applied = net.db.execute("SELECT count(*) FROM access_log").fetchone()[0]
        invalid = central.stats["invalid"]
        dev.emit(ACCESS_DECISION, body)
        dev.refresh_status()
        wait_for(lambda: len(rejected()) >= 2 and central.stats["invalid"] > invalid,
                 what="its next event and its status refused")
        assert set(rejected()) == {"device_unknown"}
        assert net.db.execute("SELECT count(*) FROM access_log").fetchone()[0] == applied
        assert net.db.execute("SELECT count(*) FROM device_status").fetchone()[0] == 0
    finally:
        dev.stop()
