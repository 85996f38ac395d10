"""Reminders (SEEDS 002): levels with fees per branch, safe to run twice; due-date warnings."""

import pytest

from central.circulation import accounts, loans, notices, patrons, reminders
from tests.circ import copy, library, patron


@pytest.fixture
def s(central_db):
    return library(central_db)


def test_levels_fees_and_separate_branch_letters(s):
    copy(s, "B1", "Alamut")
    copy(s, "S1", "Kekec", "siska")
    a = patron(s)
    loans.checkout(s, a, "B1", "center")     # due 23 March
    loans.checkout(s, a, "S1", "siska")
    s.clock.advance(days=21 + 7)
    first = reminders.run(s)
    assert first == {"notices": 2, "fees": 2, "amount": 200}
    assert reminders.run(s) == {"notices": 0, "fees": 0, "amount": 0}   # safe twice
    letters = {n["branch_id"] for n in notices.pending(s)}
    assert letters == {"center", "siska"}
    assert {d["branch_id"] for d in accounts.debts(s, a)} == {"center", "siska"}
    s.clock.advance(days=30)   # 37 days late: levels 2 and 3 at once
    second = reminders.run(s, branch="center")
    assert second == {"notices": 2, "fees": 2, "amount": 500}
    assert accounts.owed(s, a, "center") == 600


def test_returned_loans_get_no_more_reminders(s):
    copy(s, "B1", "Alamut")
    a = patron(s)
    loans.checkout(s, a, "B1", "center")
    s.clock.advance(days=21 + 8)
    loans.checkin(s, "B1", "center")
    assert reminders.run(s)["notices"] == 0


def test_due_warnings_once_per_due_date(s):
    copy(s, "B1", "Alamut")
    a = patron(s)
    loan = loans.checkout(s, a, "B1", "center")["loan"]
    assert reminders.due_warnings(s) == 0
    s.clock.advance(days=19)
    assert reminders.due_warnings(s) == 1
    assert reminders.due_warnings(s) == 0
    loans.renew(s, loan)
    s.clock.advance(days=19)
    assert reminders.due_warnings(s) == 1


def test_membership_expiry_charges_the_fee_once(s):
    a = patron(s)
    patron(s, "Kid", "child")          # free category: nothing to charge
    s.clock.advance(days=366)
    assert reminders.memberships(s) == 1
    assert reminders.memberships(s) == 0
    assert [(d["kind"], d["open"]) for d in accounts.debts(s, a)] == [("membership", 1800)]


def test_a_branch_run_charges_only_its_own_members(s):
    """`reminders --branch center` leaves a Šiška member's expired membership to Šiška's run."""
    here = patron(s)
    there = patrons.add_patron(s, "Kos", "adult", branch="siska")
    s.clock.advance(days=366)
    assert reminders.memberships(s, "center") == 1
    assert [d["branch_id"] for d in accounts.debts(s, here)] == ["center"]
    assert accounts.debts(s, there) == []
    assert reminders.memberships(s, "siska") == 1
    assert [d["branch_id"] for d in accounts.debts(s, there)] == ["siska"]
