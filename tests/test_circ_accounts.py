"""Money (SEEDS 002): debts by kind, split payments, credit, receipts, staff rights, reports."""

from datetime import date

import msgspec
import pytest

from central.circulation import accounts, audit, branches
from tests.circ import library, patron, refused


@pytest.fixture
def s(central_db):
    """A fresh library with a clerk, a cashier and a supervisor at the center."""
    s = library(central_db)
    branches.add_staff(s, "clerk", "Clerk", "clerk", ["center"])
    branches.add_staff(s, "cash", "Cashier", "cashier", ["center"])
    branches.add_staff(s, "boss", "Supervisor", "supervisor", ["center"])
    return s


def owing(s, p: int, *amounts: int) -> list[int]:
    """Fines of these amounts at the center, a minute apart (oldest first)."""
    ids = []
    for amount in amounts:
        ids.append(accounts.add_debt(s, p, "center", "fine", amount))
        s.clock.advance(minutes=1)
    return ids


def lines(receipt: dict) -> list[tuple[int, int]]:
    """Each receipt line's debt and the amount it settled."""
    return [(x["debt"], x["amount"]) for x in receipt["lines"]]


def test_payment_split_over_chosen_debts_and_overpayment_becomes_credit(s):
    """A payment covers the chosen debts; the rest is credit, usable later."""
    p = patron(s)
    fine = accounts.add_debt(s, p, "center", "fine", 300)
    fee = accounts.add_debt(s, p, "center", "reminder", 200)
    accounts.add_debt(s, p, "siska", "fine", 900)
    assert accounts.owed(s, p, "center") == 500   # other branches' debts are not shown
    got = accounts.pay(s, p, "center", 250, debt_ids=[fee], staff_id="clerk")
    assert [(x["debt"], x["amount"]) for x in got["lines"]] == [(fee, 200)]
    assert got["to_credit"] == 50 and got["credit"] == 50
    used = accounts.use_credit(s, p, "center", [fine])
    assert used["lines"] == [{"debt": fine, "kind": "fine", "note": None, "amount": 50}]
    assert accounts.credit(s, p) == 0 and accounts.owed(s, p, "center") == 250


def test_default_payment_covers_all_open_debts_oldest_first(s):
    """Without a choice, a payment covers the branch's open debts oldest first."""
    p = patron(s)
    first, second = owing(s, p, 300, 1800)
    got = accounts.pay(s, p, "center", 1000)
    assert lines(got) == [(first, 300), (second, 700)]
    assert got["owed"] == 1100 and got["receipt_no"].startswith("center-20260302-")


def test_a_reference_pays_once(s):
    """A repeated payment reference returns the first receipt; another amount is refused."""
    p = patron(s)
    accounts.add_debt(s, p, "center", "fine", 300)
    one = accounts.pay(s, p, "center", 300, method="card", ref="T-9")
    assert accounts.pay(s, p, "center", 300, method="card", ref="T-9")["id"] == one["id"]
    refused("ref_reused", accounts.pay, s, p, "center", 999, ref="T-9")


def test_edit_and_delete_need_rights_and_a_supervisor_for_an_earlier_day(s):
    """Editing needs a cashier, deleting an earlier day's payment a supervisor."""
    p = patron(s)
    accounts.add_debt(s, p, "center", "fine", 300)
    got = accounts.pay(s, p, "center", 300, staff_id="clerk")
    refused("role_required", accounts.delete_payment, s, got["id"], "clerk")
    edited = accounts.edit_payment(s, got["id"], "cash", amount=200, method="card")
    assert (edited["amount"], edited["method"], edited["owed"]) == (200, "card", 100)
    s.clock.advance(days=1)
    refused("supervisor_required", accounts.delete_payment, s, got["id"], "cash")
    accounts.delete_payment(s, got["id"], "boss")
    assert accounts.owed(s, p) == 300 and accounts.credit(s, p) == 0


def test_bad_amounts_and_kinds_are_refused(s):
    """Non-positive or fractional amounts, unknown kinds and debts are refused."""
    p = patron(s)
    refused("bad_amount", accounts.add_debt, s, p, "center", "fine", 0)
    refused("bad_amount", accounts.add_debt, s, p, "center", "fine", 1.5)
    refused("bad_debt_kind", accounts.add_debt, s, p, "center", "bribe", 10)
    refused("bad_amount", accounts.pay, s, p, "center", -5)
    refused("no_credit", accounts.use_credit, s, p, "center")
    refused("debt_unknown", accounts.pay, s, p, "center", 10, debt_ids=[999])


def test_daily_and_period_reports(s):
    """Reports sum payments per day and method over a day or a period."""
    p = patron(s)
    accounts.add_debt(s, p, "center", "fine", 1000)
    accounts.pay(s, p, "center", 300, method="cash")
    accounts.pay(s, p, "center", 200, method="card")
    s.clock.advance(days=1)
    accounts.pay(s, p, "center", 100, method="cash")
    day = accounts.report(s, "center", date(2026, 3, 2), date(2026, 3, 2))
    assert [(r["method"], r["total"]) for r in day] == [("card", 200), ("cash", 300)]
    period = accounts.report(s, "center", date(2026, 3, 1), date(2026, 3, 31))
    assert sum(r["total"] for r in period) == 600


def test_the_door_list_says_only_whether_the_holder_owes_over_the_door_limit(s):
    """The debt it is computed from is what the domain says the patron owes (every branch,
    payments, spent credit, a deleted payment); the amount itself never reaches a device."""
    from central import datasets
    from central.circulation import allowlist, patrons, settings, sites
    from edge_common.cardid import card_hash
    from edge_common.protocol.datasets import ALLOWLIST

    settings.store(s.db, door_debt_limit=800)
    p = patron(s)
    key = bytes.fromhex(sites.open_site(s.db, "center"))
    patrons.add_card(s, p, "04AA0001")
    hashed = card_hash(key, "04AA0001")

    def door_row() -> dict:
        rows = dict(datasets.pull(s.db, "center", ALLOWLIST, 0, "", 1000).changes)
        return msgspec.json.decode(bytes(rows[hashed]))

    def over() -> bool:
        return door_row()["owe"]

    accounts.add_debt(s, p, "center", "fine", 300)
    accounts.add_debt(s, p, "siska", "fine", 600)
    paid = accounts.pay(s, p, "center", 500, staff_id="cash")   # 300 settled, 200 credit
    assert accounts.owed(s, p) == 600 and not over()
    accounts.add_debt(s, p, "center", "fine", 250)
    assert accounts.owed(s, p) == 850 and over()
    accounts.use_credit(s, p, "center", None)
    assert accounts.owed(s, p) == 650 and not over()
    accounts.delete_payment(s, paid["id"], "boss")   # the first fine reopens, and so does
    assert accounts.owed(s, p) == 1150 and over()      # what its credit paid of the second
    assert accounts.credit(s, p) == 0
    assert set(door_row()) <= {"cat", "blk", "exp", "staff", "age", "owe", "agr"}
    with s.atomic():
        settings.store(s.db, door_debt_limit=None)
        allowlist.publish_everywhere(s.db)
    assert not over()


def test_refusals_name_the_rule_in_words_for_the_desk(s):
    """Each money refusal carries its code and the words the staff tools show beside it."""
    p = patron(s)
    kinds = "fine, reminder, registration, membership, replacement, other"
    refused("bad_debt_kind", accounts.add_debt, s, p, "center", "bribe", 10,
            said=f"debt kind is one of {kinds}")
    whole = "an amount is a positive whole number of minor units"
    refused("bad_amount", accounts.add_debt, s, p, "center", "fine", 0, said=whole)
    refused("bad_amount", accounts.pay, s, p, "center", 0, said=whole)
    refused("no_credit", accounts.use_credit, s, p, "center",
            said="the patron has no credit at center")
    refused("debt_unknown", accounts.pay, s, p, "center", 10, debt_ids=[999],
            said="debt 999 is not open at center")
    refused("payment_unknown", accounts.delete_payment, s, 999, "boss", said="no payment 999")
    for method in ("credit", "cheque"):
        refused("bad_method", accounts.pay, s, p, "center", 10, method=method,
                said="method is cash, card or transfer")
    accounts.pay(s, p, "center", 100, ref="T-1")
    refused("ref_reused", accounts.pay, s, p, "center", 200, ref="T-1",
            said="the payment reference was used for another payment")


def test_the_smallest_amount_is_one_minor_unit(s):
    """One cent is a debt, a payment and usable credit; nothing below it is an amount."""
    p = patron(s)
    older, newer = owing(s, p, 1, 300)
    got = accounts.pay(s, p, "center", 302)
    assert lines(got) == [(older, 1), (newer, 300)]
    assert (got["to_credit"], got["owed"]) == (1, 0)
    [third] = owing(s, p, 5)
    assert lines(accounts.use_credit(s, p, "center")) == [(third, 1)]
    assert lines(accounts.pay(s, p, "center", 1)) == [(third, 1)]
    assert accounts.owed(s, p) == 3
    refused("bad_amount", accounts.edit_payment, s, got["id"], "cash", amount=0,
            said="an amount is a positive whole number of minor units")


def test_a_payment_settles_debts_oldest_first_until_the_money_runs_out(s):
    """300 + 200 + 800 owed, 1000 paid: the first two in full, 500 of the third, no line for
    a debt the money did not reach, and a debt paid exactly leaves nothing open."""
    p = patron(s)
    ids = owing(s, p, 300, 200, 800, 50)
    got = accounts.pay(s, p, "center", 1000)
    assert lines(got) == [(ids[0], 300), (ids[1], 200), (ids[2], 500)]
    assert (got["to_credit"], got["owed"]) == (0, 350)
    assert lines(accounts.pay(s, p, "center", 300)) == [(ids[2], 300)]
    assert [d["id"] for d in accounts.debts(s, p)] == [ids[3]]


def test_debts_lists_open_ones_unless_asked_for_all(s):
    """Settled debts leave the open list and stay in the full one; a debt with one cent
    left is still open."""
    p = patron(s)
    paid, part = owing(s, p, 300, 200)
    accounts.pay(s, p, "center", 499)
    assert [(d["id"], d["open"]) for d in accounts.debts(s, p)] == [(part, 1)]
    assert [(d["id"], d["open"]) for d in accounts.debts(s, p, open_only=False)] == [
        (paid, 0), (part, 1)]


def test_credit_settles_only_the_chosen_debts_and_is_no_payment_in_the_report(s):
    """Credit used for one chosen debt leaves the others open, and the daily report counts
    money taken in, not credit moved."""
    p = patron(s)
    accounts.pay(s, p, "center", 500, method="card")   # nothing owed yet: all credit
    older, newer = owing(s, p, 300, 200)
    assert lines(accounts.use_credit(s, p, "center", [newer])) == [(newer, 200)]
    assert [(d["id"], d["open"]) for d in accounts.debts(s, p)] == [(older, 300)]
    day = accounts.report(s, "center", date(2026, 3, 2), date(2026, 3, 2))
    assert [(r["method"], r["payments"], r["total"]) for r in day] == [("card", 1, 500)]


def test_an_edit_keeps_what_it_does_not_change_and_the_debts_the_payment_chose(s):
    """Editing the amount keeps the method and the chosen debt; editing the method keeps the
    amount; a credit or unknown method is refused; a deleted payment cannot change again."""
    p = patron(s)
    older, newer = owing(s, p, 300, 200)
    got = accounts.pay(s, p, "center", 200, debt_ids=[newer], method="card")
    edited = accounts.edit_payment(s, got["id"], "cash", amount=150)
    assert (edited["amount"], edited["method"]) == (150, "card")
    assert lines(edited) == [(newer, 150)]
    assert accounts.owed(s, p) == 350 and accounts.debts(s, p)[0]["id"] == older
    edited = accounts.edit_payment(s, got["id"], "cash", method="transfer")
    assert (edited["amount"], edited["method"]) == (150, "transfer")
    for method in ("credit", "cheque"):
        refused("bad_method", accounts.edit_payment, s, got["id"], "cash", method=method,
                said="method is cash, card or transfer")
    refused("bad_amount", accounts.edit_payment, s, got["id"], "cash", amount=1.5)
    assert accounts.edit_payment(s, got["id"], "cash", amount=1)["amount"] == 1
    s.clock.advance(days=1)
    refused("supervisor_required", accounts.delete_payment, s, got["id"], "cash",
            said="only a supervisor may change a payment from an earlier day")
    accounts.delete_payment(s, got["id"], "boss")
    refused("payment_deleted", accounts.delete_payment, s, got["id"], "boss",
            said="the payment was deleted")


def test_every_change_of_money_names_who_and_keeps_the_payment_before_and_after(s):
    """A cashier's payment, a kiosk's, a job's, a credit use, an edit and a deletion: each is
    an audit row under the patron, naming the staff member, device or system and the branch,
    with the payment before (for edits) and after; the report's corrections are the edits and
    deletions of the period, on the branch's day."""
    p = patron(s)
    (fine,) = owing(s, p, 300)
    desk = accounts.pay(s, p, "center", 500, staff_id="cash")["id"]
    kiosk = accounts.pay(s, p, "center", 50, method="card", dev="kiosk-1", ref="T-9")["id"]
    job = accounts.pay(s, p, "center", 20)["id"]
    (more,) = owing(s, p, 100)
    accounts.use_credit(s, p, "center", staff_id="clerk")
    accounts.edit_payment(s, kiosk, "cash", method="transfer")
    accounts.delete_payment(s, job, "boss")
    log = [e for e in audit.entries(s, subject=f"patron:{p}")[::-1]
           if e["action"].startswith("payment.")]   # not the paper form `patron()` records
    assert [(e["action"], e["staff_id"], e["branch_id"]) for e in log] == [
        ("payment.add", "cash", "center"), ("payment.add", "device:kiosk-1", "center"),
        ("payment.add", "system", "center"), ("payment.credit", "clerk", "center"),
        ("payment.edit", "cash", "center"), ("payment.delete", "boss", "center")]
    assert log[0]["after"] == {"payment": desk, "amount": 500, "method": "cash",
                               "deleted": False, "settles": [[fine, 300]], "on": "2026-03-02"}
    assert (log[3]["before"], log[3]["after"]["settles"]) == (None, [[more, 100]])
    assert (log[4]["before"]["method"], log[4]["after"]["method"]) == ("card", "transfer")
    assert log[5]["after"]["credit_taken_back"] == [] and log[5]["after"]["deleted"]
    assert [(c["action"], c["payment"], c["staff"]) for c in accounts.corrections(
        s, "center", date(2026, 3, 2), date(2026, 3, 2))] == [
        ("payment.edit", kiosk, "cash"), ("payment.delete", job, "boss")]
    assert accounts.corrections(s, "center", date(2026, 3, 3), date(2026, 3, 9)) == []
    assert accounts.corrections(s, "siska", date(2026, 3, 2), date(2026, 3, 2)) == []
