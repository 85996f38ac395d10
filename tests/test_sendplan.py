"""The send plan: window, in-order resends with backoff and jitter, replay throttle."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_common.config import OutboxConfig
from edge_common.sendplan import SendPlan


def plan(**cfg) -> SendPlan:
    return SendPlan(OutboxConfig(**cfg), random.Random(1))


def test_window_bounds_events_in_flight():
    p = plan(window=3, replay_rate=1e9)
    assert p.new_capacity(0) == 3
    for i in range(3):
        p.sent(f"e{i}", i + 1, 0)
    assert p.new_capacity(0) == 0
    p.forget(["e0"])
    assert p.new_capacity(1) == 1
    assert p.cursor == 3


def test_overdue_events_come_back_in_order_with_growing_backoff():
    p = plan(ack_timeout=10, max_backoff=35, replay_rate=1e9)
    p.sent("b", 2, 0)
    p.sent("a", 1, 0)
    assert p.due(7) == []
    assert p.due(13) == ["a", "b"]
    waits = []
    now = 0.0
    for _ in range(5):
        p.sent("c", 3, now)
        waits.append(p.inflight["c"].deadline - now)
    assert 8 <= waits[0] <= 12 and 16 <= waits[1] <= 24
    assert all(w <= 35 * 1.2 for w in waits) and waits[-1] >= 35 * 0.8


def test_jitter_spreads_deadlines():
    p = SendPlan(OutboxConfig(ack_timeout=10), random.Random())
    for i in range(50):
        p.sent(str(i), i, 0)
    assert len({round(f.deadline, 3) for f in p.inflight.values()}) > 40


def test_replay_after_outage_starts_slowly():
    p = plan(window=1000, replay_rate=100)
    p.link_up(50.0)
    assert p.new_capacity(50.0) == 0
    assert p.new_capacity(50.5) == 50
    assert p.new_capacity(70.0) == 1000


def test_next_wakeup_is_the_earliest_deadline():
    p = plan(ack_timeout=10)
    assert p.next_wakeup(0) is None
    p.sent("a", 1, 0)
    assert 8 <= p.next_wakeup(0) <= 12


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["send", "resend", "ack", "now", "tick"]),
                          st.integers(0, 40), st.floats(0, 30)), max_size=120))
def test_late_events_and_the_next_wakeup_are_what_every_flight_says(steps):
    """Whatever sends, resends, acks and 'central is back' happen, `due` is every flight past
    its deadline in sequence order (up to the budget) and `next_wakeup` the earliest
    deadline, as a scan of all flights finds them."""
    p = plan(ack_timeout=5, max_backoff=20, replay_rate=1e9, window=65535)
    now = 0.0
    for op, n, dt in steps:
        now += dt
        if op == "send" and f"e{n}" not in p.inflight:
            p.sent(f"e{n}", n, now)
        elif op == "resend":
            for i in p.due(now)[:3]:
                p.sent(i, p.inflight[i].seq, now)
        elif op == "ack":
            p.forget([f"e{n}", f"e{n + 1}"])
        elif op == "now":
            p.due_now(now)
        late = sorted((f.seq, i) for i, f in p.inflight.items() if f.deadline <= now)
        assert p.due(now) == [i for _, i in late]
        earliest = min((f.deadline for f in p.inflight.values()), default=None)
        assert p.next_wakeup(now) == (None if earliest is None else max(0.0, earliest - now))
