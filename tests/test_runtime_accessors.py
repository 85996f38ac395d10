"""DeviceRuntime's read-only accessors (pending, synced_at, health) on a real broker."""

import dataclasses
import time

import pytest

from edge_common.outbox import Priority
from edge_common.protocol.doors import ACCESS_DECISION, AccessDecision
from edge_common.status import DatasetHealth
from tests.harness import wait_for


def decision(card: str) -> AccessDecision:
    """An access decision for `card`."""
    return AccessDecision(door="d", card=card, result="granted")


A, B, C = "a" * 64, "b" * 64, "c" * 64


def test_accessors_follow_the_outbox_the_datasets_and_central(net):
    made = time.time()
    dev = net.device("lock-1", datasets=["allowlist"], max_rows=10)
    fresh = dev.health()
    assert (fresh.link_up, fresh.central_up, fresh.outbox_depth, fresh.oldest_at) == (
        False, False, 0, None)
    assert fresh.datasets == {"allowlist": DatasetHealth(0, None)}
    assert dev.synced_at("allowlist") is None and fresh.alarms == frozenset()
    dev.start()
    try:
        wait_for(lambda: dev.health().link_up, what="link up")
        up = dev.health()
        assert up.link_since >= made and not up.central_up and up.central_since <= up.at

        for card in (A, A, A, B):                                # broker up, central not
            dev.emit(ACCESS_DECISION, decision(card))
        dev.emit_many([(ACCESS_DECISION, decision(C), Priority.NORMAL)] * 8)
        assert (dev.pending("access.decision", A), dev.pending("access.decision", B)) == (3, 1)
        assert dev.pending("door.exit", A) == 0
        full = dev.health()
        assert (full.outbox_depth, full.dropped, full.over_capacity) == (10, 2, False)
        assert dev.pending("access.decision", C) == 6            # the two oldest were dropped
        assert full.oldest_at is not None and made <= full.oldest_at <= full.at
        assert full.oldest_age == pytest.approx(full.at - full.oldest_at)

        dev.emit_many([(ACCESS_DECISION, decision(B), Priority.KEEP)] * 8)
        dev.set_alarm("wc:tamper", True)
        over = wait_for(lambda: "wc:tamper" in (h := dev.health()).alarms and h,
                        what="alarm raised")
        assert over.over_capacity and over.dropped == 8 and over.outbox_depth == 12
        assert over.alarms == {"wc:tamper", "outbox_over_capacity"}
        with pytest.raises(dataclasses.FrozenInstanceError):
            over.outbox_depth = 0
        with pytest.raises(TypeError):
            over.datasets["calendar"] = DatasetHealth(1, None)

        net.start_central()
        served = wait_for(lambda: (h := dev.health()).central_up and h, what="central seen")
        assert served.central_since >= up.central_since and served.link_up
        drained = wait_for(lambda: (h := dev.health()).outbox_depth == 0 and h,
                           what="outbox drained")
        assert drained.oldest_at is None and drained.oldest_age is None
        assert not drained.over_capacity and drained.alarms == {"wc:tamper"}
        assert dev.pending("access.decision", A) == 0
        synced = wait_for(lambda: dev.synced_at("allowlist"), what="allow-list pulled")
        assert made <= synced <= time.time()
        assert dev.health().datasets["allowlist"] == DatasetHealth(0, synced)
    finally:
        dev.stop()
