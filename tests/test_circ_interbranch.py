"""TextLib (SEEDS 003) branch rules and the inter-branch loan flow, step by step."""

import pytest

from central.circulation import catalogue, holds, interbranch, loans, summary
from tests.circ import copy, library, patron, refused


@pytest.fixture
def s(central_db):
    return library(central_db)


def test_a_hold_considers_only_the_branch_own_copies(s):
    copy(s, "S1", "Kekec", "siska")
    a = patron(s)
    refused("no_copies_at_branch", holds.place, s, a, "S1", "center")
    refused("copy_available", holds.place, s, a, "S1", "siska")


def test_expired_holds_are_purged_library_wide_and_the_copy_moves_on(s):
    copy(s, "B1", "Alamut")
    copy(s, "S1", "Kekec", "siska")
    a, b, c = patron(s), patron(s, "Kos"), patron(s, "Bizjak")
    loans.checkout(s, a, "B1", "center")
    loans.checkout(s, a, "S1", "siska")
    holds.place(s, b, "B1", "center")
    s.clock.advance(minutes=1)
    holds.place(s, c, "B1", "center")
    holds.place(s, c, "S1", "siska")
    loans.checkin(s, "B1", "center")
    s.clock.advance(days=12)
    out = holds.purge_expired(s)
    assert out["ready"] == 1
    assert out["routes"][0]["route"] == "hold_shelf" and out["routes"][0]["hold_patron"] == c
    s.clock.advance(days=200)
    assert holds.purge_expired(s)["waiting"] == 1   # the Šiška hold never came up
    s.clock.advance(days=-200)


def full_flow(s):
    copy(s, "S1", "Kekec", "siska")
    a = patron(s)
    got = interbranch.request(s, a, "S1", "center")
    return a, got["ib_loan"]


def test_inter_branch_loan_whole_flow(s):
    a, ib = full_flow(s)
    assert [r["barcode"] for r in interbranch.requests_for(s, "siska")] == ["S1"]
    refused("reserved_for_other", loans.checkout, s, patron(s, "Kos"), "S1", "siska",
            said="the copy is set aside for another branch")
    lent = interbranch.lend(s, ib)
    assert lent["state"] == "in_transit" and lent["due"]
    arrived = loans.checkin(s, "S1", "center")   # the copy reaches the requesting branch
    assert arrived["route"] == "hold_shelf" and arrived["hold_patron"] == a
    assert [h["state"] for h in summary.summary(s, a, "center")["holds"]] == ["ready"]
    other = patron(s, "Kos")
    refused("ib_other_patron", loans.checkout, s, other, "S1", "center",
            said="this inter-branch copy is for another patron")
    refused("ib_item_no_holds", holds.place, s, other, "S1", "center")
    loan = loans.checkout(s, a, "S1", "center")
    assert loan["due"] == "2026-03-23"
    refused("ib_return_elsewhere", loans.checkin, s, "S1", "bezigrad")
    refused("ib_return_elsewhere", loans.checkin, s, "S1", "siska")
    back = loans.checkin(s, "S1", "center")
    assert (back["route"], back["to"], back["warnings"]) == ("transit", "siska", ["send_home"])
    home = loans.checkin(s, "S1", "siska")   # the inter-branch return
    assert home["route"] == "reshelve"
    assert interbranch.get(s, ib)["state"] == "closed"
    assert interbranch.search(s, "center", current=False)[0]["id"] == ib
    assert catalogue.resolve(s, "S1")["status"] == "available"


def test_no_free_copy_places_an_inter_branch_hold_filled_on_return(s):
    copy(s, "S1", "Kekec", "siska")
    a, b = patron(s), patron(s, "Kos")
    loans.checkout(s, b, "S1", "siska")
    got = interbranch.request(s, a, "S1", "center")
    assert got["ib_loan"] is None and got["hold"]
    back = loans.checkin(s, "S1", "siska")
    assert (back["route"], back["to"], back["hold_patron"]) == ("ib_set_aside", "center", a)
    ib = interbranch.requests_for(s, "siska")[0]["id"]
    interbranch.lend(s, ib)
    loans.checkin(s, "S1", "center")
    assert loans.checkout(s, a, "S1", "center")


def test_away_copy_still_counts_for_holds_at_home(s):
    a, ib = full_flow(s)
    interbranch.lend(s, ib)
    held = holds.place(s, patron(s, "Kos"), "S1", "siska")
    assert held["state"] == "waiting"


def test_renewal_of_an_inter_branch_loan_where_it_was_lent(s):
    a, ib = full_flow(s)
    interbranch.lend(s, ib)
    loans.checkin(s, "S1", "center")
    loan = loans.checkout(s, a, "S1", "center")["loan"]
    refused("item_other_branch", loans.renew, s, loan, at=["siska"])
    s.clock.advance(days=3)
    assert loans.renew(s, loan, at=["center"])["ok"]


def test_an_inter_branch_loan_runs_for_the_inter_branch_period(s):
    """Inter-branch loans lent for 14 days (home loans 21): the loan and its renewal are due
    14 days from their day, and the inter-branch loan shows on loan while the patron has it."""
    catalogue.set_rule(s, "*", "*", ib_loan_days=14)
    a, ib = full_flow(s)
    interbranch.lend(s, ib)
    loans.checkin(s, "S1", "center")
    done = loans.checkout(s, a, "S1", "center")
    assert done["due"] == "2026-03-16" and interbranch.get(s, ib)["state"] == "on_loan"
    s.clock.advance(days=7)   # Monday 9 March + 14 = Monday 23 March
    assert loans.renew(s, done["loan"])["due"] == "2026-03-23"


def test_overdue_inter_branch_loans_are_listed_and_limits_apply(s):
    a, ib = full_flow(s)
    interbranch.lend(s, ib)
    assert interbranch.overdue(s, "center") == []
    s.clock.advance(days=40)
    assert [b["id"] for b in interbranch.overdue(s, "center")] == [ib]
    copy(s, "S2", "Other", "siska")
    catalogue.set_rule(s, "adult", "book", ib_max_items=1)           # per patron category
    refused("ib_limit", interbranch.request, s, a, "S2", "center")
    catalogue.set_rule(s, "adult", "book", ib_max_items=5)
    s.db.execute("UPDATE branches SET ib_max_items = 1 WHERE id = 'center'")
    s.forget()                                                       # per branch
    refused("ib_limit", interbranch.request, s, a, "S2", "center")
