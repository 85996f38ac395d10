"""A patron's visit at the return box: the card first, every item listed, the receipt printed or
e-mailed through central; the chute flap that opens only for an allowed card (seed 000)."""

import json

import pytest

from returnbox.views import Action
from tests.boxes import ANA, BOR, insert, items, library, settled, start, tap
from tests.harness import wait_for


@pytest.fixture
def lib(net):
    """The library with items on loan, and central running."""
    s = library(net)
    net.start_central()
    return s


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_visit_lists_every_item_and_its_receipt_is_e_mailed_through_central(net, lib,
                                                                               tmp_path):
    """Ana taps her card, returns two items, one unknown is refused; the e-mailed receipt lists
    the two she returned."""
    box = start(net, tmp_path)
    try:
        tap(box, ANA)
        wait_for(lambda: box.parts.display.last.card, what="the visit knows the card")
        for barcode in ("B1", "NOPE", "H1"):
            insert(box, barcode)
            wait_for(lambda b=barcode: items(box) and items(box)[-1][0] == b
                     and settled(box, 1), what=f"{barcode} handled")
        view = box.parts.display.last
        assert [(i.barcode, i.refusal) for i in view.items] == [
            ("B1", None), ("NOPE", "item_unknown"), ("H1", None)]
        assert view.email_on_file
        box.parts.display.tap(Action("finish_email"))
        wait_for(lambda: box.parts.display.last.screen == "goodbye", what="goodbye")
        notice = wait_for(lambda: net.db.execute(
            "SELECT patron_id, body FROM notices WHERE kind = 'receipt'").fetchone(),
            what="the receipt e-mail queued at central")
        assert notice[0] == lib.ana
        text = " ".join(line["text"] for line in json.loads(notice[1])["lines"])
        assert "B1" in text and "H1" in text and "NOPE" not in text
    finally:
        box.stop()


@pytest.mark.parametrize("printer, code", [("none", "printer_unavailable"), ("dummy", None)])
@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_printed_receipt_or_the_code_why_not(net, lib, tmp_path, printer, code):
    """The finish with a printed receipt: goodbye with no code when the (dummy) printer took
    it; without a printer, goodbye with `printer_unavailable` and the visit still listed."""
    box = start(net, tmp_path, printer=printer)
    try:
        insert(box, "B1")
        wait_for(lambda: settled(box, 1), what="B1 taken")
        box.parts.display.tap(Action("finish_print"))
        wait_for(lambda: box.parts.display.last.screen == "goodbye", what="goodbye")
        assert box.parts.display.last.code == code
        assert [i.barcode for i in box.parts.display.last.items] == ["B1"]
        assert box.parts.display.shown[-2].printer == (printer != "none")
    finally:
        box.stop()


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_the_flap_opens_only_for_an_allowed_card(net, lib, tmp_path):
    """With `flap_requires_card`, an item without a card and an unknown card are refused; Ana's
    card releases the flap lock and her item is taken; a blocked patron's is not."""
    from central.circulation import allowlist, patrons

    patrons.set_blocked(lib, lib.bor, True)
    allowlist.refresh_patron(net.db, lib.bor)
    box = start(net, tmp_path, flap_requires_card=True)
    flap = box.parts.pins.flap
    try:
        answers: list[str] = []
        insert(box, "B1", answers)
        wait_for(lambda: answers == ["card_required"], what="refused without a card")
        tap(box, "04DEADBEEF")
        wait_for(lambda: box.parts.display.last.code == "card_unknown", what="unknown card refused")
        tap(box, BOR)
        wait_for(lambda: box.parts.display.last.code == "patron_blocked", what="blocked refused")
        assert not flap.value
        tap(box, ANA)
        wait_for(lambda: flap.value, what="the flap released")
        insert(box, "B1", answers)
        wait_for(lambda: settled(box, 1) and items(box)[-1][1] == "arrived", what="B1 taken")
        assert items(box)[-1][:3] == ("B1", "arrived", "shelf")
    finally:
        box.stop()
