"""A restart's unfinished items carry on before anything new: an item put in meanwhile waits
behind them, an offline item is never queued into full bins, and a return the outbox already
holds is not queued twice."""

import threading
import time
from contextlib import closing

from edge_common.protocol.returns import LOAN_CHECKIN_OFFLINE
from returnbox.ledger import Item, Ledger
from tests.boxes import BINS, build, insert, items, library, returns, screens, settled
from tests.harness import wait_for


def left_behind(box, *barcodes: str, state: str = "identified", **facts) -> list[Item]:
    """What a kill -9 leaves in the box's ledger: items of `barcodes` in `state`."""
    with closing(Ledger(f"{box.cfg.device.data_dir}/returnbox.db")) as ledger:
        return [ledger.move(ledger.new(1, "identified", b), state, **facts)
                if state != "identified" else ledger.new(1, "identified", b) for b in barcodes]


def every_bin_full(box) -> None:
    """One arrived item in each bin of capacity 1."""
    with closing(Ledger(f"{box.cfg.device.data_dir}/returnbox.db")) as ledger:
        for n, name in enumerate(BINS):
            ledger.move(ledger.new(1, "identified", f"X{n}"), "arrived", bin=name)


def test_an_item_put_in_while_a_restart_resumes_is_taken_once_never_refused_first(
        net, tmp_path):
    """Restarted with an item still on its way (identified, not yet checked in), the box waits
    for central before it carries on. An item put in meanwhile (eye, then read) waits behind it:
    it is not refused `item_unreadable` when its read timeout passes and then taken anyway."""
    library(net)
    box = build(net, tmp_path, read_timeout=0.2, start_grace=3600)
    left_behind(box, "B1")
    box.start()
    try:
        wait_for(lambda: ("idle", None) in screens(box) and box.flow.resuming, what="box resuming")
        insert(box, "B2")
        wait_for(lambda: box.flow.waiting, what="B2's read held behind the resumed item")
        deadline = time.monotonic() + box.cfg.box.read_timeout
        wait_for(lambda: time.monotonic() > deadline, what="B2's read timeout passed")
        ticked = [threading.Event() for _ in range(2)]
        for event in ticked:   # the second runs after the first one's tick
            box.coordinator.soon(event.set)
        wait_for(ticked[1].is_set, what="the box ticked after the read timeout")
        net.start_central()
        wait_for(lambda: settled(box, 2), what="both items done")
        assert [r[:2] for r in items(box)] == [("B1", "arrived"), ("B2", "arrived")]
        assert ("rejected", "item_unreadable") not in screens(box)
        wait_for(lambda: returns(net, "B1"), what="B1's return at central")
        assert len(returns(net, "B1")) == len(returns(net, "B2")) == 1
    finally:
        box.stop()


def test_offline_a_resumed_item_is_handed_back_when_every_bin_is_full_and_nothing_queued(
        net, tmp_path):
    """No central, every bin full: the item a restart left behind is handed back `bins_full`
    and no offline return is queued for it (nobody took it)."""
    library(net)
    box = build(net, tmp_path, bins=dict.fromkeys(BINS, 1), start_grace=0.01)
    every_bin_full(box)
    [left] = left_behind(box, "B1")
    box.start()
    try:
        wait_for(lambda: settled(box, len(BINS) + 1), what="B1 resumed")
        assert items(box)[-1][:5] == ("B1", "rejected", "", "reject", "bins_full")
        assert box.runtime.pending(LOAN_CHECKIN_OFFLINE.type, left.request) == 0
    finally:
        box.stop()


def test_online_a_resumed_item_central_checks_in_goes_to_its_bin_over_the_brim(net, tmp_path):
    """Every bin full, but central checks the resumed item in: it is the library's now, so it
    goes where it belongs rather than back to a patron who has left."""
    library(net)
    net.start_central()
    box = build(net, tmp_path, bins=dict.fromkeys(BINS, 1))
    every_bin_full(box)
    left_behind(box, "B1")
    box.start()
    try:
        wait_for(lambda: settled(box, len(BINS) + 1), what="B1 resumed")
        assert items(box)[-1][:4] == ("B1", "arrived", "shelf", "reshelve")
        assert len(returns(net, "B1")) == 1
    finally:
        box.stop()


def test_a_return_queued_before_the_crash_is_not_queued_again(net, tmp_path):
    """Killed after the offline return reached the outbox but before the item moved on: the
    restarted box sends that one event (the same id), not a second, and central applies it
    once."""
    library(net)
    box = build(net, tmp_path, start_grace=0.01)
    [left] = left_behind(box, "B1", state="queued", route="reshelve", bin="shelf", offline=True)
    box.parts.checkins.queue(left)                      # what the outbox held at the kill
    box.start()
    try:
        wait_for(lambda: settled(box, 1), what="B1 resumed")
        assert items(box) == [("B1", "arrived", "shelf", "reshelve", None, 1)]
        assert box.runtime.pending(LOAN_CHECKIN_OFFLINE.type, left.request) == 1
        net.start_central()
        wait_for(lambda: box.runtime.health().outbox_depth == 0, what="the return delivered")
        assert len(returns(net, "B1")) == 1
    finally:
        box.stop()
