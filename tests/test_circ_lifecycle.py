"""Patron lifecycle (SEEDS 000, 002): pre-registration to erasure, devices following along."""

from datetime import date

import pytest

from central import fleet
from central.circulation import (
    accounts,
    allowlist,
    branches,
    holds,
    lifecycle,
    loans,
    patrons,
    sites,
)
from edge_common.cardid import card_hash
from tests.circ import DESK, copy, library, patron, refused


@pytest.fixture
def s(central_db):
    s = library(central_db)
    branches.add_staff(s, "maja", "Maja", "clerk", ["center"])
    fleet.enrol(s.db, "lock-1", "center", "lockd")
    sites.open_site(s.db, "center")
    return s


def door_entry(s, uid):
    key = bytes.fromhex(s.scalar("SELECT key_hex FROM site_keys WHERE site = 'center'"))
    return s.scalar("SELECT value FROM dataset_rows WHERE key = ?", [card_hash(key, uid)])


@pytest.mark.parametrize("category", ["adult", "child", "student", "senior", "legal"])
def test_preregistration_for_every_category_completed_at_the_desk(s, category):
    pid = lifecycle.preregister(s, "Novak", category, "center", email="a@example.org")
    patrons.add_card(s, pid, "04AABBCC")
    assert door_entry(s, "04AABBCC") is None          # not a member yet: doors refuse
    copy(s, "B1", "Alamut")
    refused("registration_incomplete", loans.checkout, s, pid, "B1", "center")
    done = lifecycle.complete(s, pid, "center", "maja")
    assert done["status"] == "active" and done["valid_until"] == "2027-03-02"
    assert door_entry(s, "04AABBCC") is not None
    fees = [d["open"] for d in accounts.debts(s, pid)]
    assert len(fees) == (1 if category not in ("child",) else 0)   # charged once only
    refused("not_preregistered", lifecycle.complete, s, pid, "center", "maja")


def test_membership_renewal_extends_from_the_end_and_charges_once(s):
    pid = patron(s)
    s.clock.advance(days=300)
    renewed = lifecycle.renew_membership(s, pid, "center")
    assert renewed["valid_until"] == "2028-03-02"
    assert [d["kind"] for d in accounts.debts(s, pid)] == ["membership"]


def test_cleanup_never_deletes_who_completed_borrowed_or_paid(s):
    stale = lifecycle.preregister(s, "Stale", "adult", "center")
    patrons.add_card(s, stale, "04000001")
    borrowed = lifecycle.preregister(s, "Borrowed", "adult", "center")
    paid = lifecycle.preregister(s, "Paid", "adult", "center")
    accounts.pay(s, paid, "center", 1800)
    completed = lifecycle.preregister(s, "Done", "adult", "center")
    lifecycle.complete(s, completed, "center", "maja")
    copy(s, "B1", "Alamut")
    s.db.execute("UPDATE patrons SET status = 'active' WHERE id = ?", [borrowed])
    loans.checkout(s, borrowed, "B1", "center",
                   overrides=frozenset({"debt_over_limit"}), actor=DESK)
    s.db.execute("UPDATE patrons SET status = 'pre' WHERE id = ?", [borrowed])
    fresh = lifecycle.preregister(s, "Fresh", "adult", "center")
    s.clock.advance(days=91)
    lifecycle.preregister(s, "Newest", "adult", "center")
    out = lifecycle.cleanup(s)
    assert out["deleted"] == [stale, fresh]
    assert {x["id"]: x["reason"] for x in out["skipped"]} == {borrowed: "borrowed", paid: "paid"}
    refused("patron_unknown", patrons.patron, s, stale)
    assert s.scalar("SELECT count(*) FROM debts WHERE patron_id = ?", [stale]) == 0
    assert s.scalar("SELECT count(*) FROM card_hashes WHERE uid = '04000001'") == 0
    assert patrons.patron(s, completed)["status"] == "active"


def test_cleanup_deletes_nothing_newer_than_a_day_and_zero_is_not_the_default(s):
    """`--days 0` or `-1` would delete today's pre-registrations: refused, nothing deleted."""
    today = lifecycle.preregister(s, "Today", "adult", "center")
    for days in (0, -1):
        refused("bad_days", lifecycle.cleanup, s, days)
    assert lifecycle.cleanup(s, 1)["deleted"] == []
    assert patrons.patron(s, today)["status"] == "pre"


def test_archive_only_with_loans_returned_and_restore(s):
    pid = patron(s)
    patrons.add_card(s, pid, "04AABBCC")
    copy(s, "B1", "Alamut")
    loans.checkout(s, pid, "B1", "center")
    refused("loans_open", lifecycle.archive, s, pid)
    loans.checkin(s, "B1", "center")
    lifecycle.archive(s, pid)
    assert door_entry(s, "04AABBCC") is None
    lifecycle.restore(s, pid)
    assert door_entry(s, "04AABBCC") is not None


def test_anonymisation_of_loan_history(s):
    a = patron(s)
    copy(s, "B1", "Alamut")
    loans.checkout(s, a, "B1", "center")
    loans.checkin(s, "B1", "center")
    s.clock.advance(days=10)
    loans.checkout(s, a, "B1", "center")
    assert lifecycle.anonymise_loans(s, before=date(2026, 3, 5)) == 1
    assert s.scalar("SELECT count(*) FROM loans WHERE patron_id = ?", [a]) == 1


def test_erasure_removes_personal_data_everywhere_and_devices_forget_the_card(s):
    pid = patron(s, "Novak", first_name="Ana", email="ana@example.org", birth_date="1990-01-01")
    patrons.add_card(s, pid, "04AABBCC")
    other = patron(s, "Kos")
    copy(s, "B1", "Alamut")
    loans.checkout(s, other, "B1", "center")
    holds.place(s, pid, "B1", "center")
    copy(s, "B2", "Kekec")
    loans.checkout(s, pid, "B2", "center")
    refused("loans_open", lifecycle.erase, s, pid)
    loans.checkin(s, "B2", "center")
    accounts.add_debt(s, pid, "center", "fine", 100)
    accounts.pay(s, pid, "center", 100)
    version = s.scalar("SELECT version FROM dataset_heads WHERE dataset = 'allowlist'")
    lifecycle.erase(s, pid)
    row = patrons.patron(s, pid)
    assert row["status"] == "erased" and row["surname"] == "" and row["email"] is None
    assert row["birth_date"] is None and row["first_name"] is None
    assert s.scalar("SELECT count(*) FROM cards WHERE patron_id = ?", [pid]) == 0
    assert s.scalar("SELECT count(*) FROM loans WHERE patron_id = ?", [pid]) == 0
    assert s.scalar("SELECT count(*) FROM notices WHERE patron_id = ?", [pid]) == 0
    assert s.scalar("SELECT count(*) FROM holds WHERE patron_id = ?", [pid]) == 0
    assert s.scalar("SELECT state FROM holds WHERE patron_id IS NULL") == "cancelled"
    key = bytes.fromhex(s.scalar("SELECT key_hex FROM site_keys WHERE site = 'center'"))
    gone = s.row("SELECT version, value FROM dataset_rows WHERE key = ?",
                 [card_hash(key, "04AABBCC")])
    assert gone["value"] is None and gone["version"] > version   # a delta devices apply
    assert allowlist.card_of(s.db, "center", card_hash(key, "04AABBCC")) is None
    assert accounts.owed(s, pid) == 0   # the books still balance
