"""The return box with the link cut or the answers lost: items keep coming, each is queued
dated when it went in and applied once; a check-in whose answer got lost is never repeated."""

import json
import sqlite3
from contextlib import closing
from datetime import datetime

import pytest

from tests.boxes import insert, items, library, returns, settled, start
from tests.harness import wait_for
from tests.proxy import Proxy


@pytest.fixture
def lib(net):
    """The library with items on loan, and central running."""
    s = library(net)
    net.start_central()
    return s


@pytest.fixture
def proxy(net):
    """A TCP proxy in front of the broker, for cutting the box's link."""
    p = Proxy(net.broker.port)
    yield p
    p.close()


@pytest.fixture
def box(net, lib, tmp_path, proxy):
    """A started box that reaches the broker through the proxy."""
    b = start(net, tmp_path, port=proxy.port)
    yield b
    b.stop()


def ledger_at(box) -> dict[str, datetime]:
    """When each item went in, by barcode, as the box recorded it."""
    with closing(sqlite3.connect(f"{box.cfg.device.data_dir}/returnbox.db")) as db:
        return {b: datetime.fromisoformat(at) for b, at in db.execute(
            "SELECT barcode, at FROM items WHERE state != 'rejected'")}


def queued(box) -> dict[str, datetime]:
    """The envelope `at` of each loan.checkin_offline waiting in the outbox, by barcode."""
    with closing(sqlite3.connect(f"{box.cfg.device.data_dir}/outbox.db")) as db:
        envs = [json.loads(p) for (p,) in db.execute(
            "SELECT payload FROM outbox WHERE type = 'loan.checkin_offline'")]
    return {e["body"]["item"]: datetime.fromisoformat(e["at"]) for e in envs}


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_an_answer_lost_on_the_way_back_is_not_a_second_check_in(net, box, proxy):
    """Central checks B1 in but its answer never arrives: the box queues the return under the
    same id, and central, seeing that id again, acks it without a second check-in."""
    proxy.cut("deaf")
    insert(box, "B1")
    wait_for(lambda: settled(box, 1), what="B1 taken offline")
    assert items(box)[0][1:] == ("arrived", "shelf", "reshelve", None, 1)   # by shelf_items
    wait_for(lambda: returns(net, "B1"), what="central took the request")
    proxy.restore()
    wait_for(lambda: box.runtime.health().outbox_depth == 0 and box.runtime.central_up,
             what="the queued return acked")
    assert len(returns(net, "B1")) == 1


def test_with_the_link_cut_items_are_queued_dated_when_they_went_in_and_applied_once(
        net, box, proxy):
    """Cut: each item is taken, sorted from the datasets and queued with the time it went in;
    restored: central applies each once, dated then (needs central's loan.checkin_offline
    handler and the held/shelf datasets)."""
    wait_for(lambda: box.runtime.synced_at("held_items") and box.runtime.synced_at(
        "shelf_items"), what="the box's datasets")
    proxy.cut("drop")
    wait_for(lambda: not box.runtime.central_up, what="the box offline")
    for barcode in ("B2", "H1", "B3"):
        insert(box, barcode)
        wait_for(lambda b=barcode: settled(box, 1) and items(box)[-1][0] == b,
                 what=f"{barcode} taken offline")
    went_in = ledger_at(box)
    assert queued(box) == went_in
    assert [r[:3] + r[5:] for r in items(box)] == [
        ("B2", "arrived", "shelf", 1), ("H1", "arrived", "holds", 1), ("B3", "arrived", "shelf", 1)]
    assert box.parts.display.last.offline and all(i.queued for i in box.parts.display.last.items)
    proxy.restore()
    wait_for(lambda: box.runtime.health().outbox_depth == 0, what="the queue drained")
    for barcode, at in went_in.items():
        (returned_at,) = returns(net, barcode)
        assert datetime.fromisoformat(returned_at) == at
