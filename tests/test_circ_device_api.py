"""Circulation over the backbone: a kiosk and a return box talk to central through mosquitto."""

from datetime import date, timedelta

import pytest

from central.circulation import (
    accounts,
    alerts,
    allowlist,
    audit,
    catalogue,
    holds,
    loans,
    patrons,
)
from central.circulation.store import Store
from edge_common.cardid import card_hash
from edge_common.envelope import new_id
from edge_common.errors import RemoteError
from edge_common.protocol import circulation as wire
from edge_common.protocol.datasets import ALLOWLIST, AllowEntry, decode_row
from kiosk.central_backend import CentralBackend
from kiosk.session import Screen, Session
from tests.circ import card_holder, copy, install
from tests.harness import wait_for

UID = "04A1B2C3D4"


pytestmark = pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)

@pytest.fixture
def lib(net):
    """The network's store with one branch (the devices' site), two copies and a patron."""
    s = install(Store(net.db), branches=[(net.site, "Main Library")])
    copy(s, "B1", "Alamut", net.site)
    copy(s, "B2", "Alamut", net.site)
    copy(s, "R1", "Dictionary", net.site, "reference")
    s.pid = card_holder(s, UID, "Novak", net.site, first_name="Ana")
    net.start_central()
    return s


def ref(net) -> str:
    return card_hash(bytes.fromhex(net.card_key), UID)


def test_identify_summary_checkout_renew_hold_and_pay(net, lib, kiosk):
    card = ref(net)
    who = kiosk.request(wire.PATRON_IDENTIFY, wire.Card(card=card))
    assert (who.name, who.refusal, who.email_on_file) == ("Ana N.", None, False)
    done = kiosk.request(wire.LOAN_CHECKOUT, wire.Checkout(card=card, item="B1"))
    assert done.title == "Alamut" and done.due > date.today()
    with pytest.raises(RemoteError) as refused:
        kiosk.request(wire.LOAN_CHECKOUT, wire.Checkout(card=card, item="R1"))
    assert refused.value.code == "in_library_only"
    summary = kiosk.request(wire.ACCOUNT_SUMMARY, wire.Card(card=card))
    assert [loan.barcode for loan in summary.loans] == ["B1"]
    assert summary.loans[0].due == done.due
    refused = kiosk.request(wire.LOAN_RENEW, wire.Renew(card=card))
    assert refused.renewals[0].refusal == "not_extended"     # lent today: nothing to extend
    with lib.atomic():                                         # as if lent two weeks ago
        lib.db.execute("UPDATE loans SET due = ?", [(done.due - timedelta(days=14)).isoformat()])
    renewed = kiosk.request(wire.LOAN_RENEW, wire.Renew(card=card))
    assert renewed.renewals[0].ok is True and renewed.renewals[0].due == done.due
    (renewal,) = [e for e in audit.entries(lib, subject=f"patron:{lib.pid}")
                  if e["action"] == "loan.renew"]          # the refused one changed nothing
    assert (renewal["staff_id"], renewal["branch_id"]) == ("device:kiosk-1", net.site)
    assert renewal["after"]["due"] == done.due.isoformat() != renewal["before"]["due"]
    accounts.add_debt(lib, lib.pid, net.site, "fine", 250)
    payment = wire.Payment(card=card, amount=300, ref="T-1")
    paid = kiosk.request(wire.PAYMENT_RECORD, payment)
    again = kiosk.request(wire.PAYMENT_RECORD, payment)
    assert paid == again and paid.to_credit == 50
    assert net.db.execute("SELECT count(*) FROM payments").fetchone()[0] == 1


def test_bad_bodies_get_codes_not_effects(net, lib, kiosk):
    # Structs are not validated when built, so a buggy sender can still send these
    for body, code in [(wire.Checkout(card="zz", item="B1"), "bad_body"),
                       (wire.Checkout(card="0" * 64, item="B1"), "card_unknown"),
                       (wire.Checkout(card=ref(net), item="x" * 10_000), "bad_body"),
                       (wire.Checkout(card=ref(net), item=5), "bad_body"),
                       (wire.Checkout(card=ref(net), item="NOPE"), "item_unknown")]:
        with pytest.raises(RemoteError) as refused:
            kiosk.request(wire.LOAN_CHECKOUT, body)
        assert refused.value.code == code
    assert net.db.execute("SELECT count(*) FROM loans").fetchone()[0] == 0


def test_return_box_checkin_routes_to_the_hold_shelf(net, lib):
    box = net.device("box-1", kind="returnbox")
    box.start()
    try:
        loans.checkout(lib, lib.pid, "B1", net.site)
        loans.checkout(lib, lib.pid, "B2", net.site)
        other = patrons.add_patron(lib, "Kranjc", "adult", branch=net.site)
        holds.place(lib, other, catalogue.resolve(lib, "B1")["title_id"], net.site)
        box.emit(wire.LOAN_CHECKIN, wire.Checkin(item="B1"))
        wait_for(lambda: box.health().outbox_depth == 0, what="checkin applied")
        assert loans.open_loan(lib, catalogue.resolve(lib, "B1")["id"]) is None
        routed = box.request(wire.LOAN_CHECKIN, wire.Checkin(item="B2"))
        assert (routed.route, routed.to, routed.fine) == ("reshelve", net.site, 0)
        shelf = holds.shelf(lib, net.site)
        assert [(h["barcode"], h["patron_id"]) for h in shelf] == [("B1", other)]
    finally:
        box.stop()


def test_kiosk_session_borrows_offline_and_central_reconciles(net, lib, kiosk):
    backend = CentralBackend(kiosk)
    session = Session(backend, terminal=None, print_receipt=lambda s: None)
    wait_for(lambda: kiosk.lookup("allowlist", ref(net)), what="allow-list replicated")
    session.card(UID)
    assert session.screen == Screen.ACCOUNT and session.patron.display_name == "Ana N."
    session.show(Screen.CHECKOUT)
    session.scan("B1")
    assert session.borrowed[-1].due is not None and not session.borrowed[-1].queued
    net.central.stop()
    net.central = None
    wait_for(lambda: not kiosk.central_up, what="central gone")
    session.scan("B2")
    assert session.borrowed[-1].queued and session.notice.code == "checkout_queued"
    session.logout()
    patrons.set_blocked(lib, lib.pid, True)
    net.start_central()
    wait_for(lambda: kiosk.health().outbox_depth == 0, what="offline loan delivered")
    assert loans.open_loan(lib, catalogue.resolve(lib, "B2")["id"])["patron_id"] == lib.pid
    assert [a["code"] for a in alerts.open_alerts(lib, net.site)] == ["patron_blocked"]


def test_payment_approved_while_offline_is_recorded_once(net, lib, kiosk):
    accounts.add_debt(lib, lib.pid, net.site, "fine", 400)
    backend = CentralBackend(kiosk)
    patron = backend.identify(UID, "uid")
    debt = backend.account(patron).debts[0]
    net.central.stop()
    net.central = None
    backend.record_payment(patron, [debt.id], 400, "TERM-77")
    backend.record_payment(patron, [debt.id], 400, "TERM-77")
    net.start_central()
    wait_for(lambda: kiosk.health().outbox_depth == 0, what="payments delivered")
    assert accounts.owed(lib, lib.pid) == 0
    assert net.db.execute("SELECT count(*), sum(amount) FROM payments").fetchone() == (1, 400)


def test_offline_the_kiosk_knows_cards_from_its_list_and_lends_within_its_limit(net, lib,
                                                                             kiosk):
    from datetime import date, timedelta

    from edge_common.errors import EdgeError

    blocked = card_holder(lib, "04B10C4ED0", "Kranjc", net.site)
    patrons.set_blocked(lib, blocked, True)
    gone = card_holder(lib, "04E4B12ED0", "Zupan", net.site)
    with lib.atomic():
        lib.update("patrons", gone,
                   {"valid_until": (date.today() - timedelta(days=2)).isoformat()})
        allowlist.refresh_patron(lib.db, gone)
    key = bytes.fromhex(net.card_key)

    def listed(uid: str) -> AllowEntry | None:
        raw = kiosk.lookup(ALLOWLIST, card_hash(key, uid))
        return decode_row(ALLOWLIST, raw) if raw else None

    wait_for(lambda: listed(UID) and listed("04B10C4ED0") and listed("04E4B12ED0")
             and listed("04E4B12ED0").expired_on(date.today()), what="card list replicated")
    backend = CentralBackend(kiosk, offline_max_items=2)
    net.central.stop()
    net.central = None
    wait_for(lambda: not kiosk.central_up, what="central gone")
    ana = backend.identify(UID, "uid")
    assert (ana.display_name, ana.category, ana.needs_pin) == ("", "adult", False)
    for uid, code in [("04B10C4ED0", "patron_blocked"), ("04E4B12ED0", "membership_expired"),
                      ("04FFFFFFFF", "card_unknown")]:
        with pytest.raises(EdgeError) as refused:
            backend.identify(uid, "uid")
        assert refused.value.code == code
    assert backend.checkout(ana, "B1").queued and backend.checkout(ana, "B2").queued
    with pytest.raises(EdgeError) as refused:
        backend.checkout(ana, "R1")
    assert refused.value.code == "offline_limit"
    net.start_central()
    wait_for(lambda: kiosk.health().outbox_depth == 0, what="offline loans delivered")
    assert net.db.execute("SELECT count(*) FROM loans WHERE returned_at IS NULL").fetchone() \
        == (2,)


def test_one_device_cannot_guess_a_patron_s_pin(net, lib, kiosk):
    """Wrong PINs from a device are counted at central: past three for one patron there, the
    next guess is refused `pin_locked` unchecked, the right one too, until the wait is over;
    a retried guess is counted once, and a right PIN starts the patron's count again."""
    patrons.set_pin(lib, lib.pid, "2468")
    card = ref(net)

    def verify(pin: str, id: str | None = None) -> str:
        try:
            kiosk.request(wire.PATRON_VERIFY_PIN, wire.Pin(card=card, pin=pin), id=id)
        except RemoteError as exc:
            return exc.code
        return "ok"

    assert [verify("1111"), verify("2222"), verify("2468")] == ["pin_wrong", "pin_wrong", "ok"]
    retried = new_id()
    assert [verify("0000", id=retried), verify("0000", id=retried)] == ["pin_wrong"] * 2
    assert [verify("1111"), verify("2222")] == ["pin_wrong", "pin_wrong"]
    assert [verify("3333"), verify("2468")] == ["pin_locked", "pin_locked"]
    with lib.atomic():                              # as if the wait were over
        lib.db.execute("UPDATE sign_in_throttle SET last_at = '2000-01-01T00:00:00+00:00'")
    assert verify("2468") == "ok"
