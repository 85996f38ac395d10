"""The return box through its real seams: MockFactory pins driven by the simulated belt, the
simulated reader, a real broker and central."""

import os

import pytest

from central import alarms
from returnbox.views import Action
from tests.boxes import (
    ANA,
    STAFF,
    insert,
    items,
    library,
    returns,
    screens,
    settled,
    start,
    tap,
)
from tests.harness import wait_for
from tests.ptypair import close_quietly, pty_pair


@pytest.fixture
def lib(net):
    """The library with items on loan, and central running."""
    s = library(net)
    net.start_central()
    return s


@pytest.fixture
def box(net, lib, tmp_path):
    """A started box that sees central."""
    b = start(net, tmp_path)
    yield b
    b.stop()


def test_each_route_lands_in_its_bin_and_is_checked_in_once(net, box):
    """Reshelve, hold shelf, transit and an item with a CD go to their rules' bins; an unknown
    barcode is not taken; central closed each loan once."""
    answers: list[str] = []
    for barcode in ("B1", "H1", "T1", "K1", "NOPE"):
        insert(box, barcode, answers)
        wait_for(lambda b=barcode: any(r[0] == b for r in items(box)) and settled(box, 1),
                 what=f"{barcode} settled")
    wait_for(lambda: settled(box, 5), what="all items settled")
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in items(box)] == [
        ("B1", "arrived", "shelf", "reshelve", None),
        ("H1", "arrived", "holds", "hold_shelf", None),
        ("T1", "arrived", "transit", "transit", None),
        ("K1", "arrived", "staff", "reshelve", None),
        ("NOPE", "rejected", "", "reject", "item_unknown")]
    assert box.parts.sim.delivered == ["shelf", "holds", "transit", "staff"]
    for barcode in ("B1", "H1", "T1", "K1"):
        assert len(returns(net, barcode)) == 1
    assert answers == ["returned: reshelve -> bin shelf",
                       "returned: hold_shelf -> bin holds (hold_waiting)",
                       "returned: transit -> bin transit",
                       "returned: reshelve -> bin staff (attachments)", "item_unknown"]
    assert ("rejected", "item_unknown") in screens(box)
    assert box.parts.display.last.screen == "rejected" and not box.parts.pins.motor.value
    assert [i.barcode for i in box.parts.display.shown[-2].items] == ["B1", "H1", "T1", "K1"]


def test_the_same_item_twice_is_a_no_op_with_a_clear_message(net, box):
    """A second return of an item already in a bin sends nothing and moves nothing: the patron
    is told and keeps it."""
    answers: list[str] = []
    insert(box, "B1", answers)
    wait_for(lambda: settled(box, 1), what="B1 in its bin")
    insert(box, "B1", answers)
    wait_for(lambda: len(answers) == 2, what="second answer")
    assert answers[1] == "already_returned"
    assert [r[:5] for r in items(box)] == [("B1", "arrived", "shelf", "reshelve", None),
                                           ("B1", "rejected", "", "reject", "already_returned")]
    assert len(returns(net, "B1")) == 1
    assert box.parts.display.last.code == "already_returned"
    assert box.parts.sim.delivered == ["shelf"]


def test_a_full_bin_sends_items_to_the_fallback_and_raises_bin_full(net, lib, tmp_path):
    """With the shelf bin at capacity, the next reshelve item goes to the fallback bin; staff
    emptying it puts it back in use."""
    box = start(net, tmp_path, bins={"shelf": 1})
    try:
        insert(box, "B1")
        wait_for(lambda: settled(box, 1), what="B1 in the shelf bin")
        wait_for(lambda: "shelf:bin_full" in box.runtime.health().alarms, what="bin_full")
        insert(box, "B2")
        wait_for(lambda: settled(box, 2), what="B2 in a bin")
        assert [r[2] for r in items(box)] == ["shelf", "later"]
        box.parts.display.tap(Action("bin_emptied", "shelf"))
        wait_for(lambda: "shelf:bin_full" not in box.runtime.health().alarms,
                 what="bin_full cleared")
        insert(box, "B3")
        wait_for(lambda: settled(box, 3), what="B3 in a bin")
        assert items(box)[2][2] == "shelf"
    finally:
        box.stop()


def test_a_jam_stops_the_belt_raises_an_alarm_and_tells_the_patron(net, box):
    """No arrival within the jam timeout: belt off, `jam` alarm, the patron asked to wait; the
    next item is refused until staff restart the belt."""
    box.parts.sim.jam = True
    answers: list[str] = []
    insert(box, "B1", answers)
    wait_for(lambda: items(box)[0][1] == "jammed" if items(box) else False, what="jammed")
    wait_for(lambda: "belt:jam" in box.runtime.health().alarms, what="jam alarm")
    assert not box.parts.pins.motor.value
    shown = box.parts.display
    wait_for(lambda: (shown.last.screen, shown.last.code) == ("wait", "jam"),
             what="patron told to wait")
    wait_for(lambda: [(a.dev, a.door, a.alarm) for a in alarms.latest(net.db)] == [
        ("box-1", "belt", "jam")], what="the jam in central's alarms")
    insert(box, "B2", answers)
    wait_for(lambda: answers[-1:] == ["jam"], what="B2 refused")
    box.parts.sim.jam = False
    tap(box, STAFF)
    wait_for(lambda: box.parts.display.last.screen == "staff", what="the staff view")
    assert box.parts.display.last.staff.jammed == "B1"
    box.parts.display.tap(Action("belt_restart"))
    wait_for(lambda: "belt:jam" not in box.runtime.health().alarms, what="jam cleared")
    assert items(box)[0][1] == "cleared"
    insert(box, "B2")
    wait_for(lambda: settled(box, 2) and len(items(box)) == 2, what="B2 taken after restart")
    assert len(returns(net, "B1")) == 1 and len(returns(net, "B2")) == 1


def test_e_stop_stops_the_belt_at_once_and_resumes_only_after_release_and_staff(net, lib,
                                                                              tmp_path):
    """An e-stop while an item travels stops the motor; release alone does not restart it."""
    box = start(net, tmp_path, jam_timeout=120.0)
    try:
        box.parts.sim.travel_time = 60.0   # the item is on the belt until the test says otherwise
        insert(box, "B1")
        wait_for(lambda: box.parts.pins.motor.value, what="belt running")
        box.parts.sim.press_estop(True)
        wait_for(lambda: not box.parts.pins.motor.value, what="belt stopped")
        wait_for(lambda: "e_stop:e_stop" in box.runtime.health().alarms, what="e_stop alarm")
        box.parts.sim.press_estop(False)
        box.parts.display.tap(Action("language", "sl"))   # handled after the release
        wait_for(lambda: box.parts.display.last.lang == "sl", what="language")
        assert not box.parts.pins.motor.value and box.parts.display.last.code == "e_stop"
        box.parts.sim.travel_time = 0.2
        box.parts.display.tap(Action("belt_restart"))
        wait_for(lambda: settled(box, 1), what="B1 arrived after the restart")
        assert items(box)[0][1:3] == ("arrived", "shelf")
        assert "e_stop:e_stop" not in box.runtime.health().alarms
    finally:
        box.stop()


def test_a_staff_card_opens_the_maintenance_view_with_bins_and_items(net, box):
    """Bins with their counts and items, sensors, outbox and link; a patron card does not."""
    insert(box, "B1")
    wait_for(lambda: settled(box, 1), what="B1 in its bin")
    tap(box, ANA)
    wait_for(lambda: box.parts.display.last.card, what="Ana's visit")
    assert box.parts.display.last.screen == "taken"
    tap(box, STAFF)
    wait_for(lambda: box.parts.display.last.screen == "staff", what="the staff view")
    staff = box.parts.display.last.staff
    shelf = next(b for b in staff.bins if b.name == "shelf")
    assert (shelf.count, shelf.items, shelf.full) == (1, ("B1",), False)
    assert staff.online and ("entry", False) in staff.sensors
    box.parts.display.tap(Action("leave_staff"))
    wait_for(lambda: box.parts.display.last.screen != "staff", what="staff view left")


def test_a_lost_scanner_closes_the_box_with_an_alarm_until_it_is_back(net, lib, tmp_path):
    """Unplugged: `reader_lost` in the status and a closed screen; plugged back: open again."""
    link = str(tmp_path / "scanner")
    controller, device = pty_pair(link)
    box = start(net, tmp_path, reader={"kind": "serial", "url": link, "name": "scanner"})
    try:
        wait_for(lambda: box.parts.readers_state["item_reader"] == "ok", what="scanner open")
        close_quietly(controller, device)
        os.unlink(link)
        wait_for(lambda: "item_reader:reader_lost" in box.runtime.health().alarms,
                 what="reader_lost raised")
        wait_for(lambda: box.parts.display.last.screen == "closed", what="the box closed")
        assert box.parts.display.last.code == "reader_lost"
        controller, device = pty_pair(link)
        wait_for(lambda: "item_reader:reader_lost" not in box.runtime.health().alarms,
                 what="reader_lost cleared")
        os.write(controller, b"B1\r\n")
        wait_for(lambda: settled(box, 1), what="B1 taken")
    finally:
        box.stop()
        close_quietly(controller, device)


def test_offline_for_too_long_raises_an_alarm_cleared_when_central_is_back(net, tmp_path):
    """No central for `offline_alarm_minutes`: `offline_too_long`, as an event central gets."""
    library(net)
    box = start(net, tmp_path, offline_alarm_minutes=0.01)
    try:
        wait_for(lambda: "link:offline_too_long" in box.runtime.health().alarms,
                 what="offline_too_long raised")
        net.start_central()
        wait_for(lambda: "link:offline_too_long" not in box.runtime.health().alarms,
                 what="offline_too_long cleared")
        wait_for(lambda: box.runtime.health().outbox_depth == 0, what="alarm events delivered")
    finally:
        box.stop()


def test_central_s_clear_alarm_restarts_a_jammed_belt_and_refuses_what_is_not_raised(net, box):
    """Staff clear the box's jam from central (`clear_alarm`, the part as `door`); clearing an
    alarm that is not raised is refused with a code."""
    from central import commands

    box.parts.sim.jam = True
    insert(box, "B1")
    wait_for(lambda: "belt:jam" in box.runtime.health().alarms, what="jam alarm")
    box.parts.sim.jam = False

    def sent(**args):
        nonce = commands.issue(net.db, "box-1", "clear_alarm", args)
        return wait_for(lambda: net.db.execute(
            "SELECT outcome, result FROM command_results WHERE nonce = ?", [nonce]).fetchone(),
            what="the box's answer")

    assert sent(door="belt", alarm="jam")[0] == "ok"
    assert "belt:jam" not in box.runtime.health().alarms and items(box)[0][1] == "cleared"
    outcome = sent(door="shelf", alarm="bin_full")
    assert outcome[0] != "ok" and "alarm_unknown" in str(outcome)


def test_an_rfid_tagged_item_is_taken_and_another_library_s_is_handed_back(net, lib, tmp_path):
    """With the RFID item reader, our tag's item id is checked in like a scanned barcode; a tag
    owned by another library is not taken (`tag_not_ours`), nothing is sent for it."""
    from returnbox.tags import ItemTag, encode

    box = start(net, tmp_path, reader={"kind": "rfid", "isil": "SI-50001"})
    try:
        wait_for(lambda: box.parts.readers_state["item_reader"] == "ok", what="RFID reader open")
        box.parts.sim.insert()
        box.parts.tag_field.put(encode(ItemTag("B1", country="SI", owner="50001")))
        wait_for(lambda: settled(box, 1), what="B1 taken by its tag")
        assert items(box)[0][:3] == ("B1", "arrived", "shelf")
        box.parts.sim.insert()
        box.parts.tag_field.put(encode(ItemTag("B2", country="SI", owner="50999")))
        wait_for(lambda: box.parts.display.last.code == "tag_not_ours", what="foreign tag refused")
        wait_for(lambda: settled(box, 2), what="the foreign item handed back")
        assert items(box)[1][1:5] == ("rejected", "", "reject", "tag_not_ours")
        assert len(returns(net, "B1")) == 1 and not returns(net, "B2")
    finally:
        box.stop()


def test_a_jam_outlives_a_restart_until_staff_clear_it(net, lib, tmp_path):
    """The box restarted with an item still jammed raises `jam` again and takes nothing."""
    box = start(net, tmp_path)
    box.parts.sim.jam = True
    insert(box, "B1")
    wait_for(lambda: items(box) and items(box)[0][1] == "jammed", what="jammed")
    box.stop()
    box = start(net, tmp_path)
    try:
        wait_for(lambda: "belt:jam" in box.runtime.health().alarms, what="jam raised again")
        answers: list[str] = []
        insert(box, "B2", answers)
        wait_for(lambda: answers == ["jam"], what="B2 refused")
        box.parts.display.tap(Action("belt_restart"))
        wait_for(lambda: "belt:jam" not in box.runtime.health().alarms, what="jam cleared")
        insert(box, "B2")
        wait_for(lambda: settled(box, 2) and items(box)[-1][:2] == ("B2", "arrived"),
                 what="B2 taken")
    finally:
        box.stop()
