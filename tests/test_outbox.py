"""The outbox: durable, ordered, deleted only on ack, capped with a drop order."""

import sqlite3
from contextlib import closing
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_common import envelope
from edge_common.config import OutboxConfig
from edge_common.outbox import Outbox, Priority


def make(tmp_path, **cfg) -> Outbox:
    """An outbox in tmp_path with these OutboxConfig settings."""
    return Outbox(str(tmp_path / "outbox.db"), "dev-1", OutboxConfig(**cfg))


def table(tmp_path, what: str = "id") -> list:
    """`what` of every event in the outbox file's table, oldest first, read beside the outbox."""
    with closing(sqlite3.connect(tmp_path / "outbox.db")) as db:
        return [r[0] for r in db.execute(f"SELECT {what} FROM outbox ORDER BY seq")]


def test_events_survive_reopen_in_order_with_continuing_seq(tmp_path):
    """Unacked events survive a restart in order, and sequence numbers go on from the last."""
    box = make(tmp_path)
    ids = [box.add("t.x", {"n": i}).id for i in range(5)]
    box.acked(ids[:2])
    box.close()
    box = make(tmp_path)
    pending = box.after(0, 10)
    assert [p.id for p in pending] == ids[2:]
    assert [envelope.decode(p.payload).body["n"] for p in pending] == [2, 3, 4]
    assert box.add("t.x", {}).seq == 6
    assert box.depth == 4


def test_ack_of_unknown_ids_changes_nothing(tmp_path):
    """An ack naming unknown ids, or none, deletes nothing and says so."""
    box = make(tmp_path)
    box.add("t.x", {})
    assert box.acked(["01ARZ3NDEKTSV4RRFFQ69G5FAV"]) == 0
    assert box.acked([]) == 0
    assert box.depth == 1


def test_cap_drops_lowest_priority_oldest_first_and_never_keep(tmp_path):
    """Past the cap LOW events go before NORMAL ones, oldest first, KEEP events never."""
    box = make(tmp_path, max_rows=10)
    keep = [box.add("loan.checkout", {}, Priority.KEEP).id for _ in range(4)]
    normal = [box.add("access.decision", {}, Priority.NORMAL).id for _ in range(3)]
    low = [box.add("telemetry", {}, Priority.LOW).id for _ in range(3)]
    box.add("access.decision", {}, Priority.NORMAL)
    left = {p.id for p in box.after(0, 100)}
    assert low[0] not in left and set(low[1:]) <= left
    assert set(keep) | set(normal) <= left
    assert box.dropped == 1
    for _ in range(10):
        box.add("loan.checkout", {}, Priority.KEEP)
    left = {p.id for p in box.after(0, 100)}
    assert set(keep) <= left and box.over_capacity
    assert box.dropped == 1 + 2 + 4
    box.close()
    assert make(tmp_path, max_rows=10).dropped == 7


def test_past_max_rows_access_events_go_oldest_first_and_circulation_and_alarms_never(tmp_path):
    """README: past max_rows access events may be dropped, never circulation or alarms. The
    table keeps max_rows events without the oldest access events; when only undroppable ones
    are left it keeps them all, over capacity, and every drop is counted, across a restart."""
    box = make(tmp_path, max_rows=10)

    def add(type: str, priority: Priority = Priority.KEEP) -> str:
        """Add one event, return its id."""
        return box.add(type, {}, priority).id

    access = [add("access.decision", Priority.NORMAL) for _ in range(4)]
    kept = [add("loan.checkout"), add("door.alarm")]
    access += [add("access.decision", Priority.NORMAL) for _ in range(4)]
    kept += [add("loan.checkout"), add("door.alarm")]
    assert table(tmp_path) == access[2:4] + kept[:2] + access[4:] + kept[2:]
    more = [e.id for e in box.add_many([("loan.checkout", {}, Priority.KEEP)] * 10)]
    assert table(tmp_path) == kept + more and box.over_capacity
    box.close()
    assert make(tmp_path, max_rows=10).dropped == 2 + 6


def test_past_max_bytes_the_oldest_access_events_go_until_the_table_fits(tmp_path):
    """A large checkout reaching a nearly full outbox pushes out just enough of the oldest
    access events (two of ~1 kB for one of ~3.5 kB) for the stored events to fit max_bytes."""
    box = make(tmp_path, max_bytes=10_000)
    access = [box.add("access.decision", {"pad": "x" * 900}, Priority.NORMAL).id
              for _ in range(8)]
    loan = box.add("loan.checkout", {"pad": "x" * 3400}).id
    assert table(tmp_path) == access[2:] + [loan]
    assert sum(table(tmp_path, "length(payload)")) <= 10_000
    box.close()
    assert make(tmp_path).dropped == 2


def test_one_ack_naming_over_a_thousand_events_deletes_every_one(tmp_path):
    """Central may ack a long backlog at once: each named event leaves the table."""
    box = make(tmp_path)
    ids = [e.id for e in box.add_many([("t.x", {}, Priority.KEEP)] * 1201)]
    assert box.acked(ids) == 1201
    assert table(tmp_path) == [] and box.depth == 0


def test_a_request_queued_offline_keeps_its_id_and_cannot_be_queued_twice(tmp_path):
    """An offline request waits under its own id (central answers by it); queuing that id
    again fails without touching the outbox, which goes on working."""
    box = make(tmp_path)
    rid = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert box.add("loan.checkout_offline", {}, id=rid).id == rid
    with pytest.raises(sqlite3.IntegrityError):
        box.add("loan.checkout_offline", {}, id=rid)
    other = box.add("t.x", {}).id
    assert table(tmp_path) == [rid, other] and box.depth == 2


def test_an_event_that_happened_earlier_is_dated_then(tmp_path):
    """`at` dates an event when it happened (an offline return: when the item went in), on
    disk and in the envelope; without it, now."""
    box = make(tmp_path)
    went_in = datetime(2026, 3, 2, 21, 15, 7, 250_000, tzinfo=UTC)
    assert box.add("loan.checkin_offline", {}, at=went_in).at == went_in
    later = box.add("t.x", {})
    stored = [envelope.decode(p).at for p in table(tmp_path, "payload")]
    assert stored == [went_in, later.at] and later.at > went_in


def test_waiting_events_are_found_by_type_and_text_by_id_and_by_age(tmp_path):
    """pending() counts a type's waiting events naming a text (a patron's offline loans),
    get() returns named waiting events in order, oldest_at() when the oldest was made."""
    box = make(tmp_path)
    assert box.oldest_at() is None and box.get([]) == []
    loans = [box.add("loan.checkout_offline", {"patron": p}) for p in ("p1", "p2", "p1")]
    box.add("loan.renew", {"patron": "p1"})
    assert box.pending("loan.checkout_offline", "p1") == 2
    assert [p.id for p in box.get([loans[2].id, "01ARZ3NDEKTSV4RRFFQ69G5FAV", loans[0].id])] \
        == [loans[0].id, loans[2].id]
    assert box.oldest_at() == loans[0].at
    box.acked([loans[0].id])
    assert box.pending("loan.checkout_offline", "p1") == 1 and box.oldest_at() == loans[1].at


def test_an_event_is_on_disk_when_add_returns(tmp_path):
    """The outbox commits with synchronous=FULL: a power cut after add() loses no event."""
    assert make(tmp_path)._db.execute("PRAGMA synchronous").fetchone() == (2,)   # 2 = FULL


def test_add_many_is_one_transaction(tmp_path):
    """A batch gets consecutive sequence numbers and lands whole."""
    box = make(tmp_path)
    envs = box.add_many([("t.x", {"i": i}, Priority.KEEP) for i in range(100)])
    assert [e.seq for e in envs] == list(range(1, 101))
    assert box.depth == 100


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "ack"]), st.integers(0, 3)), max_size=40))
def test_depth_and_bytes_match_the_table(tmp_path_factory, ops):
    """Whatever adds, acks and drops happen, the counters match the table."""
    box = make(tmp_path_factory.mktemp("ob"), max_rows=15)
    ids = []
    for op, n in ops:
        if op == "add":
            ids.append(box.add("t.x", {"n": n}, Priority(n % 3)).id)
        elif ids:
            box.acked(ids[: n + 1])
            del ids[: n + 1]
    depth, size = box._db.execute(
        "SELECT count(*), coalesce(sum(size), 0) FROM outbox").fetchone()
    assert (box.depth, box.bytes) == (depth, size)
