"""The kiosk's CentralBackend over a real device runtime, mosquitto and central: what central
knows reaches the patron's screen, what needs central says so offline, and a loan whose answer
got lost on the way back is lent exactly once."""

from datetime import date, timedelta

import pytest

from central.circulation import (
    accounts,
    alerts,
    branches,
    catalogue,
    holds,
    lifecycle,
    loans,
    messages,
    patrons,
    settings,
)
from edge_common.cardid import card_hash
from edge_common.errors import EdgeError
from edge_common.protocol.datasets import ALLOWLIST, MESSAGES
from kiosk.central_backend import CentralBackend
from kiosk.session import Screen, Session
from patron_ui.models import Debt, Hold, Loan, OwedElsewhere, Patron, Renewal
from tests.circ import card_holder, copy, site_library
from tests.harness import wait_for
from tests.proxy import Proxy

ANA = "04A1B2C3D4"
LIBRARY_CARD = "LK-0042"


@pytest.fixture
def lib(net):
    """The devices' branch (in Czech crowns) with Ana (PIN, English, e-mail, a library card)
    and some copies."""
    settings.store(net.db, currency="CZK")  # not the default, so the kiosk must show central's
    s = site_library(net, ("B1", "Alamut"), ("P1", "Pod svobodnim soncem"), ("C1", "Cankar"))
    copy(s, "K1", "Kosovel", net.site, attachments="1 CD")
    s.pid = card_holder(s, ANA, "Novak", net.site, first_name="Ana", language="en",
                        email="ana@example.org")
    patrons.add_card(s, s.pid, LIBRARY_CARD, "library")
    patrons.set_pin(s, s.pid, "2468")
    net.start_central()
    return s


def backend_of(net, runtime) -> CentralBackend:
    """The kiosk's backend on `runtime`, with the site's card key."""
    return CentralBackend(runtime)


def ref(net, card: str = ANA) -> str:
    """The card hash central and the kiosk know a card by."""
    return card_hash(bytes.fromhex(net.card_key), card)


def stop_central(net, runtime) -> None:
    """Stop every central worker and wait until the kiosk knows."""
    net.central.stop()
    net.central = None
    wait_for(lambda: not runtime.central_up, what="central gone")


def refused(code: str, fn, *args) -> None:
    """Assert that the backend call `fn(*args)` fails with `code`."""
    with pytest.raises(EdgeError) as err:
        fn(*args)
    assert err.value.code == code


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_online_the_patron_is_known_as_central_knows_them(net, lib, kiosk):
    """A tap (any UID spelling) or the library card's barcode names the patron as central does."""
    backend = backend_of(net, kiosk)
    ana = Patron(ref(net), "Ana N.", "adult", "en", needs_pin=True, email_on_file=True)
    assert backend.online
    assert backend.identify("04:a1:b2:c3:d4", "uid") == ana
    assert backend.identify(LIBRARY_CARD, "barcode") == Patron(
        ref(net, LIBRARY_CARD), "Ana N.", "adult", "en", needs_pin=True, email_on_file=True)
    staff = patrons.add_patron(lib, "Kos", "adult", branch=net.site, is_staff=True)
    patrons.add_card(lib, staff, "04FF0001")
    assert backend.identify("04FF0001", "uid") == Patron(ref(net, "04FF0001"), "Kos", "adult",
                                                         staff=True)


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_central_turns_away_blocked_and_unfinished_patrons_but_not_expired_ones(net, lib,
                                                                              kiosk):
    """Blocked and unfinished registrations may not use the kiosk; expired ones may (to pay)."""
    backend = backend_of(net, kiosk)
    patrons.set_blocked(lib, card_holder(lib, "04B10C4ED0", "Kranjc", net.site), True)
    pre = lifecycle.preregister(lib, "Zupan", "adult", net.site)
    patrons.add_card(lib, pre, "04E4B12ED0")
    gone = card_holder(lib, "04C0FFEE01", "Mlakar", net.site)
    lib.update("patrons", gone, {"valid_until": (date.today() - timedelta(days=2)).isoformat()})
    refused("patron_blocked", backend.identify, "04B10C4ED0", "uid")
    refused("registration_incomplete", backend.identify, "04E4B12ED0", "uid")
    refused("card_unknown", backend.identify, "04FFFFFFFF", "uid")
    assert backend.identify("04C0FFEE01", "uid").display_name == "Mlakar"


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_the_account_shows_central_s_loans_holds_debts_and_credit(net, lib, kiosk):
    """Every field of the account screen comes from central's answer."""
    backend = backend_of(net, kiosk)
    ana = backend.identify(ANA, "uid")
    first, cd = backend.checkout(ana, "B1"), backend.checkout(ana, "K1")
    other = card_holder(lib, "04C0FFEE01", "Mlakar", net.site)
    for barcode in ("P1", "C1"):
        loans.checkout(lib, other, barcode, net.site)
    ready, waiting = (holds.place(lib, lib.pid, barcode, net.site) for barcode in ("P1", "C1"))
    loans.checkin(lib, "P1", net.site)  # Mlakar brings it back: it waits for Ana on the shelf
    holds.place(lib, other, "K1", net.site)
    accounts.pay(lib, lib.pid, net.site, 50)  # nothing owed yet: all of it is credit
    accounts.add_debt(lib, lib.pid, net.site, "fine", 150, note="late")
    accounts.add_debt(lib, lib.pid, net.site, "reminder", 200)
    account = backend.account(ana)
    ids = [str(r["id"]) for r in lib.rows(
        "SELECT id FROM loans WHERE patron_id = ? ORDER BY id", [lib.pid])]
    assert sorted(account.loans, key=lambda loan: loan.barcode) == [
        Loan(ids[0], "Alamut", "B1", first.due, False, "not_extended"),   # lent today
        Loan(ids[1], "Kosovel", "K1", cd.due, False, "hold_waiting")]
    pickup_by = date.fromisoformat(holds.hold(lib, ready["id"])["pickup_by"])
    assert account.holds == [
        Hold(str(ready["id"]), "Pod svobodnim soncem", "ready", net.site, pickup_by),
        Hold(str(waiting["id"]), "Cankar", "waiting", net.site, None, 1)]
    debt = {d["kind"]: str(d["id"]) for d in accounts.debts(lib, lib.pid, net.site)}
    assert sorted(account.debts, key=lambda d: d.amount) == [
        Debt(debt["fine"], "fine", 150, "late"), Debt(debt["reminder"], "reminder", 200)]
    assert (account.credit, account.currency, account.owed) == (50, "CZK", 300)


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_checkout_online_brings_central_s_title_due_date_and_warnings(net, lib, kiosk):
    """An online loan is central's: its title, due date and what the patron must be told."""
    backend = backend_of(net, kiosk)
    ana = backend.identify(ANA, "uid")
    plain, with_cd = backend.checkout(ana, "B1"), backend.checkout(ana, "K1")
    assert (plain.barcode, plain.title, plain.warnings, plain.queued) == ("B1", "Alamut", [],
                                                                          False)
    assert plain.due > date.today()
    assert (with_cd.title, with_cd.warnings) == ("Kosovel", ["attachments"])
    refused("item_unknown", backend.checkout, ana, "NOPE")
    assert kiosk.health().outbox_depth == 0, "a refusal online is not queued"


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_renewal_and_pin_check_are_central_s_and_need_it(net, lib, kiosk):
    """Central renews and checks PINs; offline both are refused as needing the connection."""
    backend = backend_of(net, kiosk)
    ana = backend.identify(ANA, "uid")
    backend.checkout(ana, "B1")
    loan_id, due = lib.db.execute("SELECT id, due FROM loans WHERE patron_id = ?",
                                    [lib.pid]).fetchone()
    backend.checkout(ana, "P1")
    [early] = backend.renew(ana, [str(loan_id)])     # lent today: nothing to extend yet
    assert early == Renewal(str(loan_id), "Alamut", False, None, "not_extended")
    with lib.atomic():                                # as if lent two weeks ago
        lib.db.execute("UPDATE loans SET due = ? WHERE id = ?",
                       [(date.fromisoformat(due) - timedelta(days=14)).isoformat(), loan_id])
    [renewal] = backend.renew(ana, [str(loan_id)])  # only the chosen loan
    assert renewal == Renewal(str(loan_id), "Alamut", True, date.fromisoformat(due))
    refused("pin_wrong", backend.verify_pin, ana, "1357")
    backend.verify_pin(ana, "2468")
    stop_central(net, kiosk)
    assert not backend.online
    refused("needs_connection", backend.renew, ana, [str(loan_id)])
    refused("needs_connection", backend.verify_pin, ana, "2468")
    refused("offline", backend.account, ana)


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_payments_reach_central_for_the_chosen_debts_or_all(net, lib, kiosk):
    """A payment for one chosen debt pays that one; a payment for none chosen pays them all."""
    backend = backend_of(net, kiosk)
    ana = backend.identify(ANA, "uid")
    accounts.add_debt(lib, lib.pid, net.site, "fine", 150)
    accounts.add_debt(lib, lib.pid, net.site, "reminder", 200)
    older, newer = backend.account(ana).debts
    backend.record_payment(ana, [newer.id], newer.amount, "TERM-1")
    wait_for(lambda: kiosk.health().outbox_depth == 0, what="the first payment applied")
    assert [(d.id, d.amount) for d in backend.account(ana).debts] == [(older.id, older.amount)]
    backend.record_payment(ana, [], older.amount, "TERM-2")
    wait_for(lambda: kiosk.health().outbox_depth == 0, what="the second payment applied")
    assert backend.account(ana).debts == [] and accounts.owed(lib, lib.pid) == 0


def test_offline_the_session_queues_loans_and_sends_renewing_and_paying_to_central(
        net, lib, kiosk):
    """Offline through the real backend: scans are queued up to five, renewing and paying need
    central, a staff card still opens maintenance."""
    staff = patrons.add_patron(lib, "Kos", "adult", branch=net.site, is_staff=True)
    patrons.add_card(lib, staff, "04FF0001")
    wait_for(lambda: kiosk.lookup(ALLOWLIST, ref(net)) and kiosk.lookup(ALLOWLIST,
             ref(net, "04FF0001")), what="card list replicated")
    session = Session(backend_of(net, kiosk), terminal=None, print_receipt=lambda s: None)
    stop_central(net, kiosk)
    session.card("04FF0001")
    assert session.screen == Screen.MAINTENANCE
    session.leave()
    session.card(ANA)
    assert session.screen == Screen.ACCOUNT and session.patron.display_name == ""
    assert session.notice.code == "offline", "no account to show without central"
    session.show(Screen.RENEW)
    assert session.screen == Screen.ACCOUNT and session.notice.code == "needs_connection"
    session.show(Screen.PAY)
    assert session.screen == Screen.ACCOUNT and session.notice.code == "needs_connection"
    session.show(Screen.CHECKOUT)
    session.scan("B1")
    assert session.notice.code == "checkout_queued" and session.borrowed[0].queued
    for barcode in ("X2", "X3", "X4", "X5"):
        session.scan(barcode)
        assert session.notice.code == "checkout_queued"
    session.scan("X6")
    assert session.notice.code == "offline_limit"
    assert [b.barcode for b in session.borrowed] == ["B1", "X2", "X3", "X4", "X5"]
    assert kiosk.pending("loan.checkout_offline", ref(net)) == 5


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_a_loan_whose_answer_is_lost_is_queued_under_its_request_id_and_lent_once(net, lib):
    """Central lends, the answer never comes back, the kiosk queues the loan with the request's
    id; however often the queue delivers it, central holds one loan and raises no alert."""
    proxy = Proxy(net.broker.port)
    runtime = net.device("kiosk-1", kind="kiosk", datasets=[ALLOWLIST], port=proxy.port,
                         request_timeout=3.0)
    runtime.start()
    try:
        wait_for(lambda: runtime.central_up, what="kiosk sees central")
        session = Session(backend_of(net, runtime), terminal=None, print_receipt=lambda s: None)
        session.card(ANA)
        session.enter_pin("2468")
        session.show(Screen.CHECKOUT)
        proxy.cut("deaf")  # the kiosk still talks to the broker but hears nothing back
        session.scan("B1")
        assert [(b.barcode, b.queued) for b in session.borrowed] == [("B1", True)]
        assert session.notice.code == "checkout_queued"
        seen = net.central.stats
        wait_for(lambda: seen["applied"] + seen["duplicates"] >= 2,
                 what="the request and the queued loan reached central")
        proxy.cut("drop")
        wait_for(lambda: not runtime.link.connected, what="link down")
        proxy.restore()
        wait_for(lambda: runtime.health().outbox_depth == 0, what="the queued loan acked")
        assert lib.rows("SELECT patron_id FROM loans") == [{"patron_id": lib.pid}]
        assert alerts.open_alerts(lib, net.site) == []
        assert catalogue.resolve(lib, "B1")["status"] == "on_loan"
        assert len(session.borrowed) == 1
    finally:
        runtime.stop()
        proxy.close()


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_renewing_nothing_renewable_is_central_s_refusal(net, lib, kiosk):
    """A loan central will not renew comes back refused with central's reason."""
    backend = backend_of(net, kiosk)
    ana = backend.identify(ANA, "uid")
    backend.checkout(ana, "K1")
    holds.place(lib, card_holder(lib, "04C0FFEE01", "Mlakar", net.site), "K1", net.site)
    loan_id = str(lib.scalar("SELECT id FROM loans WHERE patron_id = ?", [lib.pid]))
    [renewal] = backend.renew(ana, [loan_id])
    assert renewal == Renewal(loan_id, "Kosovel", False, None, "hold_waiting")


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_with_the_network_debt_limit_the_account_shows_what_is_owed_elsewhere(net, lib,
                                                                              kiosk):
    """A fine at another branch is listed to be paid there, never among what is paid here."""
    branches.add_branch(lib, "east", "East Library", "Europe/Ljubljana")
    accounts.add_debt(lib, lib.pid, "east", "fine", 300)
    settings.store(net.db, debt_scope="network")       # before central first reads settings
    backend = backend_of(net, kiosk)
    account = backend.account(backend.identify(ANA, "uid"))
    assert (account.elsewhere, account.debts) == ([OwedElsewhere("East Library", 300)], [])


def test_the_branchs_message_of_the_day_reaches_the_kiosk_in_each_language_and_stays_offline(
        net, lib):
    """Set at central (`libedge admin branch message`), replicated as the `messages` dataset."""
    dev = net.device("kiosk-2", kind="kiosk", datasets=[ALLOWLIST, MESSAGES])
    dev.start()
    try:
        backend = backend_of(net, dev)
        assert backend.message("en") == ""
        messages.set_message(lib, net.site, "*", "Open until 20:00.")
        messages.set_message(lib, net.site, "sl", "Odprto do 20.00.")
        wait_for(lambda: backend.message("sl") == "Odprto do 20.00.", what="Slovenian message")
        assert backend.message("hu") == backend.message("en") == "Open until 20:00."
        messages.set_message(lib, net.site, "*", None)
        wait_for(lambda: backend.message("hu") == "", what="message taken away")
        stop_central(net, dev)
        assert backend.message("sl") == "Odprto do 20.00."  # the kiosk keeps its copy offline
    finally:
        dev.stop()


@pytest.mark.parametrize("net", ["sqlite", "postgresql"], indirect=True)
def test_offline_after_a_key_rotation_a_card_is_found_under_the_key_the_list_holds(net, lib,
                                                                                  kiosk):
    """The kiosk got the site's new card key and lost central before the list came again under
    it: a tap is still looked up under the previous key, as a door does, not refused as
    unknown."""
    wait_for(lambda: kiosk.lookup(ALLOWLIST, ref(net)), what="card list replicated")
    stop_central(net, kiosk)
    kiosk.card_keys.rotate("ab" * 32)
    assert backend_of(net, kiosk).identify(ANA, "uid") == Patron(ref(net), "", "adult")
