"""End to end over a real broker: events exactly once, requests, dataset sync."""

from central import allowlist
from edge_common.cardid import card_hash
from tests.harness import wait_for


def test_events_reach_central_once_and_leave_the_outbox(net):
    net.start_central()
    dev = net.device("lock-1")
    dev.start()
    try:
        for _ in range(50):
            dev.emit("access.decision", {"door": "d1", "card": "a" * 64, "result": "granted"})
        wait_for(lambda: dev.outbox.depth == 0, what="outbox drained")
        rows = net.db.execute("SELECT count(*), count(DISTINCT seq) FROM access_log").fetchone()
        assert rows == (50, 50)
    finally:
        dev.stop()


def test_card_added_at_central_reaches_the_device_replica(net):
    net.start_central()
    dev = net.device("lock-1", datasets=["allowlist"])
    dev.start()
    try:
        with net.db.atomic():
            net.db.execute("INSERT INTO patrons (id, category) VALUES (1, 'adult')")
            net.db.execute("INSERT INTO cards VALUES ('04A1B2C3', 1, 'city', 1)")
            allowlist.refresh_patron(net.db, 1)
        key = card_hash(bytes.fromhex(net.card_key), "04A1B2C3")
        wait_for(lambda: dev.lookup("allowlist", key), what="card in replica")
        with net.db.atomic():
            net.db.execute("UPDATE patrons SET blocked = 1 WHERE id = 1")
            allowlist.refresh_patron(net.db, 1)
        wait_for(lambda: b'"blk":true' in dev.lookup("allowlist", key), what="block applied")
    finally:
        dev.stop()


def test_request_gets_answer_and_retry_with_same_id_gets_same_answer(net):
    net.start_central()
    dev = net.device("lock-1")
    dev.start()
    try:
        wait_for(lambda: dev.link.connected)
        first = dev.request("sync.pull", {"dataset": "allowlist", "since": 0})
        assert first["head"] >= 0 and first["next"] is None
    finally:
        dev.stop()
