"""Copies out of stock (Verbis): lost, missing, damaged, withdrawn — what each does to a loan,
to holds, to reminders, to the patron's account and doors, and the desk's lists."""

import json

import msgspec
import pytest

from central import datasets
from central.circulation import (
    accounts,
    audit,
    holds,
    interbranch,
    item_status,
    lifecycle,
    loans,
    notices,
    reminders,
    settings,
    sites,
)
from edge_common.cardid import card_hash
from edge_common.protocol.datasets import ALLOWLIST
from tests.circ import DESK, card_holder, copy, library, patron, refused
from tests.test_circ_cli import run
from tests.test_circ_rules_members import desk_store


@pytest.fixture
def s(central_db):
    """A fresh library with three branches."""
    return library(central_db)


def test_a_copy_lost_on_loan_closes_the_loan_charges_it_and_stops_the_reminders(s):
    """Ten days late, one reminder out; marked lost: the loan closes as lost, the borrower owes
    the replacement (by category), no reminder follows, and the patron can be archived."""
    settings.store(s.db, replacement_charge={"*": 2500, "dvd": 4000})
    s.forget()
    copy(s, "B1", "Alamut")
    a = patron(s)
    loan = loans.checkout(s, a, "B1", "center")["loan"]
    s.clock.advance(days=21 + 10)
    assert reminders.run(s)["notices"] == 1
    done = item_status.mark(s, "B1", "lost", DESK, note="patron says it burnt")
    assert (done["loan"], done["patron"], done["charge"]) == (loan, a, 2500)
    assert loans.open_loan(s, s.scalar("SELECT id FROM items WHERE barcode = 'B1'")) is None
    assert s.scalar("SELECT closed_as FROM loans WHERE id = ?", [loan]) == "lost"
    assert [(d["kind"], d["open"]) for d in accounts.debts(s, a)] == [
        ("reminder", 100), ("replacement", 2500)]
    s.clock.advance(days=30)
    assert reminders.run(s) == {"notices": 0, "fees": 0, "amount": 0}
    assert all(n["kind"] != "overdue" or notices.withdrawn(s, n)
               for n in notices.pending(s))
    lifecycle.archive(s, a)
    (entry,) = audit.entries(s, subject="item:B1")
    assert entry["before"] == {"status": "on_loan"} and entry["after"]["status"] == "lost"


def test_missing_closes_the_loan_free_damaged_charges_and_withdrawn_waits_for_the_loan(s):
    """Missing (the borrower says it came back) costs nothing; damaged charges the category's
    replacement; a copy on loan cannot be withdrawn; each status is set once."""
    settings.store(s.db, replacement_charge={"*": 2500, "dvd": 4000})
    s.forget()
    copy(s, "B1", "Alamut")
    copy(s, "D1", "Film", category="dvd")
    copy(s, "B2", "Kekec")
    a = patron(s)
    for barcode in ("B1", "D1", "B2"):
        loans.checkout(s, a, barcode, "center")
    assert item_status.mark(s, "B1", "missing", DESK)["charge"] == 0
    assert item_status.mark(s, "D1", "damaged", DESK)["charge"] == 4000
    refused("item_on_loan", item_status.mark, s, "B2", "withdrawn", DESK)
    refused("already_marked", item_status.mark, s, "B1", "missing", DESK)
    refused("bad_status", item_status.mark, s, "B2", "stolen", DESK)
    refused("item_other_branch", item_status.mark, s, "B2", "lost",
            audit.Actor("desk", "siska"))
    assert [(d["kind"], d["open"]) for d in accounts.debts(s, a)] == [("replacement", 4000)]
    lifecycle.erase(s, patron(s, "Kos"))         # another patron, with nothing open
    refused("loans_open", lifecycle.archive, s, a)   # B2 is still out
    item_status.mark(s, "B2", "lost", DESK)
    lifecycle.erase(s, a)


def test_a_copy_out_of_stock_is_not_lent_held_or_sent_and_its_hold_waits_again(s):
    """Set aside for Ana, found damaged: Ana's hold waits again, nobody borrows the copy, no
    hold or inter-branch request counts it; found again, it is set aside for Ana anew."""
    copy(s, "B1", "Alamut")
    ana, ben = patron(s, "Ana", email="ana@example.org"), patron(s, "Ben")
    loans.checkout(s, ben, "B1", "center")
    hold = holds.place(s, ana, "B1", "center")["id"]
    loans.checkin(s, "B1", "center")
    assert holds.hold(s, hold)["state"] == "ready"
    item_status.mark(s, "B1", "damaged", DESK)
    assert holds.hold(s, hold)["state"] == "waiting"
    refused("item_unavailable", loans.checkout, s, ana, "B1", "center")
    refused("no_copies_at_branch", holds.place, s, ben, "B1", "center")
    refused("no_copies_elsewhere", interbranch.request, s, ben, "B1", "siska")
    back = item_status.found(s, "B1", DESK)
    assert (back["route"], back["hold_patron"]) == ("hold_shelf", ana)
    assert holds.hold(s, hold)["state"] == "ready"
    refused("item_in_stock", item_status.found, s, "B1", DESK)


def test_a_replacement_over_the_door_limit_closes_the_doors_as_any_debt_does(s):
    """The doors learn no status: the replacement is a debt, and over `door_debt_limit` the
    holder's row says they owe too much, as for any debt."""
    settings.store(s.db, door_debt_limit=1000)
    s.forget()
    key = bytes.fromhex(sites.open_site(s.db, "center"))
    a = card_holder(s, "04AA0001", "Novak", "center")
    copy(s, "B1", "Alamut")
    loans.checkout(s, a, "B1", "center")

    def owes() -> bool:
        rows = dict(datasets.pull(s.db, "center", ALLOWLIST, 0, "", 1000).changes)
        return msgspec.json.decode(bytes(rows[card_hash(key, "04AA0001")]))["owe"]

    assert not owes()
    item_status.mark(s, "B1", "lost", DESK)
    assert owes()


def test_the_desk_lists_its_copies_out_of_stock(tmp_path):
    """`item mark`, `item list` (by status) and `item found` at the desk."""
    db = desk_store(tmp_path)
    for surname in ("Novak", "Horvat"):
        run(db, "patron", "add", surname, "--branch", "center", "--paper-form")
    for barcode in ("W-1", "W-2", "W-3"):
        run(db, "item", "add", barcode, f"Title {barcode}", "--branch", "center")
    run(db, "checkout", "id:1", "W-1", "--branch", "center")
    desk = ("--branch", "center", "--staff", "maja")
    marked = json.loads(run(db, "item", "mark", "W-1", "lost", *desk, "--note", "burnt"))
    assert (marked["patron"], marked["charge"]) == (1, 2500)
    run(db, "item", "mark", "W-2", "withdrawn", *desk)
    assert "[debt_over_limit]" in run(db, "checkout", "id:1", "W-3", "--branch", "center",
                                      ok=False)          # the replacement is over the limit
    assert "[item_unavailable]" in run(db, "checkout", "id:2", "W-2", "--branch", "center",
                                       ok=False)
    listed = json.loads(run(db, "item", "list", "--branch", "center"))
    assert {(r["barcode"], r["status"], r["patron"]) for r in listed} == {
        ("W-1", "lost", 1), ("W-2", "withdrawn", None)}
    lost = json.loads(run(db, "item", "list", "--branch", "center", "--status", "lost"))
    assert [(r["barcode"], r["status_note"]) for r in lost] == [("W-1", "burnt")]
    assert json.loads(run(db, "item", "found", "W-1", *desk))["route"] == "reshelve"
    assert [r["barcode"] for r in json.loads(run(db, "item", "list", "--branch",
                                                 "center"))] == ["W-2"]
