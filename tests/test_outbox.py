"""The outbox: durable, ordered, deleted only on ack, capped with a drop order."""

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_common import envelope
from edge_common.config import OutboxConfig
from edge_common.outbox import Outbox, Priority


def make(tmp_path, **cfg) -> Outbox:
    return Outbox(str(tmp_path / "outbox.db"), "dev-1", OutboxConfig(**cfg))


def test_events_survive_reopen_in_order_with_continuing_seq(tmp_path):
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
    box = make(tmp_path)
    box.add("t.x", {})
    assert box.acked(["01ARZ3NDEKTSV4RRFFQ69G5FAV"]) == 0
    assert box.depth == 1


def test_cap_drops_lowest_priority_oldest_first_and_never_keep(tmp_path):
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


def test_add_many_is_one_transaction(tmp_path):
    box = make(tmp_path)
    envs = box.add_many([("t.x", {"i": i}, Priority.KEEP) for i in range(100)])
    assert [e.seq for e in envs] == list(range(1, 101))
    assert box.depth == 100


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "ack"]), st.integers(0, 3)), max_size=40))
def test_depth_and_bytes_match_the_table(tmp_path_factory, ops):
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
