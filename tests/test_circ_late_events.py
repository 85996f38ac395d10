"""Events dated in the past (a box's offline returns, a kiosk's offline loans) applied to a
present that moved on: the state as at their date, never anything that started after them."""

from datetime import timedelta

import pytest

from central.circulation import accounts, alerts, audit, holds, loans, reminders
from tests.circ import card_holder, copy, patron
from tests.late_events import LateLibrary

UID = "04A1B2C3D4"
PER_DAY = 20          # the book rule of tests.circ's library: 20 a day late, capped at 1000


@pytest.fixture
def lib(tmp_path):
    """The library with one copy of a title at the centre and two patrons."""
    found = LateLibrary(tmp_path / "central.db")
    copy(found.s, "X1", "Alamut")
    found.ana = card_holder(found.s, UID, "Novak", "center")
    found.bor = patron(found.s, "Kranjc")
    yield found
    found.close()


def _loan(lib, loan_id: int) -> dict:
    return lib.s.row("SELECT * FROM loans WHERE id = ?", [loan_id])


def _alerts(lib) -> dict[str, dict]:
    return {a["code"]: a for a in alerts.open_alerts(lib.s, "center")}


def test_an_offline_return_never_closes_the_next_borrowers_loan(lib):
    s = lib.s
    first = loans.checkout(s, lib.ana, "X1", "center")["loan"]       # due in 21 days
    went_in = lib.clock.advance(days=25)                              # 4 days late, in the box
    queued = lib.box_return("X1", went_in)
    lib.clock.advance(days=3)                                         # the desk takes it in
    assert loans.checkin(s, "X1", "center")["fine"] == 7 * PER_DAY
    lib.clock.advance(hours=1)
    then = loans.checkout(s, lib.bor, "X1", "center")["loan"]       # ... and lends it again
    lib.clock.advance(days=1)
    assert lib.deliver(queued).applied == 1
    assert _loan(lib, then)["returned_at"] is None                   # the next loan stays open
    assert _loan(lib, first)["returned_at"] == went_in.isoformat()  # closed when it went in
    assert not s.rows("SELECT id FROM loans WHERE returned_at < out_at")
    fines = [d["amount"] for d in accounts.debts(s, lib.ana, open_only=False)]
    assert fines == [4 * PER_DAY]                                     # counted to the box
    said = _alerts(lib)["return_backdated"]
    assert (said["kind"], said["dev"]) == ("late_return", "box-1")
    assert said["details"]["loan"] == first and said["details"]["lent_since"] == then
    assert said["details"]["debts"][0] | {"debt": 0} == {
        "debt": 0, "kind": "fine", "before": 7 * PER_DAY, "after": 4 * PER_DAY}
    assert [(e["staff_id"], e["before"]["amount"], e["after"]["amount"])
            for e in audit.entries(s) if e["action"] == "debt.reverse"] == [
        ("device:box-1", 7 * PER_DAY, 4 * PER_DAY)]


def test_a_hold_filled_by_a_late_offline_return_gets_its_whole_pickup_window(lib):
    s = lib.s
    loans.checkout(s, lib.ana, "X1", "center")
    hold = holds.place(s, lib.bor, "X1", "center")["id"]
    queued = lib.box_return("X1", lib.clock.advance(days=2))
    ready = lib.clock.advance(days=10)                                # applied ten days later
    lib.deliver(queued)
    found = holds.hold(s, hold)
    window = s.calendar("center").open_days_after(s.today("center"), s.settings.pickup_days)
    assert (found["state"], found["ready_at"], found["pickup_by"]) == (
        "ready", ready.isoformat(), window.isoformat())
    assert holds.purge_expired(s)["ready"] == 0                       # the patron keeps it
    assert holds.hold(s, hold)["state"] == "ready"


def test_a_reminder_fee_charged_after_the_item_went_into_the_box_is_reversed(lib):
    s = lib.s
    loan = loans.checkout(s, lib.ana, "X1", "center")["loan"]
    queued = lib.box_return("X1", lib.clock.advance(days=22))        # one day late
    lib.clock.advance(days=7)                                         # eight days late
    assert reminders.run(s)["fees"] == 1
    fee = s.row("SELECT * FROM debts WHERE kind = 'reminder'")
    accounts.pay(s, lib.ana, "center", 60)          # part of the fee, paid at the desk meanwhile
    lib.deliver(queued)
    assert not s.rows("SELECT * FROM debts WHERE kind = 'reminder'")
    assert [(d["kind"], d["amount"]) for d in accounts.debts(s, lib.ana, open_only=False)] == [
        ("fine", PER_DAY)]                                            # one day late, not eight
    assert accounts.credit(s, lib.ana) == 60        # what was paid for the fee is theirs again
    assert accounts.owed(s, lib.ana) == PER_DAY
    said = _alerts(lib)["fees_reversed"]
    assert said["details"]["loan"] == loan
    assert said["details"]["debts"] == [
        {"debt": fee["id"], "kind": "reminder", "before": fee["amount"], "after": 0}]


def test_an_offline_loan_never_touches_a_loan_made_since(lib):
    s = lib.s
    queued = lib.kiosk_loan(UID, "X1", lib.clock.now())
    lib.clock.advance(hours=2)
    lent = loans.checkout(s, lib.bor, "X1", "center")["loan"]   # the desk lends the copy since
    lib.clock.advance(hours=2)
    loans.checkin(s, "X1", "center")                             # ... and takes it back
    lib.clock.advance(days=1)
    lib.deliver(queued)
    assert [r["id"] for r in s.rows("SELECT id FROM loans")] == [lent]
    said = _alerts(lib)["lent_since"]
    assert (said["kind"], said["details"]["patron"], said["details"]["item"]) == (
        "offline_checkout", lib.ana, "X1")


def test_an_offline_loan_dated_ahead_of_central_is_dated_now(lib):
    now = lib.clock.now()
    lib.deliver(lib.kiosk_loan(UID, "X1", now + timedelta(days=30)))
    assert lib.s.scalar("SELECT out_at FROM loans") == now.isoformat()


def test_an_offline_loan_whose_return_reached_central_first_is_closed_when_it_went_in(lib):
    s = lib.s
    lent = lib.kiosk_loan(UID, "X1", lib.clock.now())            # the link is down all along
    back = lib.box_return("X1", lib.clock.advance(days=25))       # four days late, in the box
    lib.clock.advance(days=1)
    lib.deliver(back)                                             # the box is back online first
    assert _alerts(lib)["not_on_loan"]["details"]["item"] == "X1"
    lib.deliver(lent)
    loan = s.row("SELECT * FROM loans")
    assert (loan["patron_id"], loan["returned_at"]) == (lib.ana, back.env.at.isoformat())
    assert [d["amount"] for d in accounts.debts(s, lib.ana)] == [4 * PER_DAY]
    assert s.scalar("SELECT status FROM items WHERE barcode = 'X1'") == "available"
    said = _alerts(lib)["returned_since"]
    assert (said["kind"], said["details"]["loan"]) == ("offline_checkout", loan["id"])
