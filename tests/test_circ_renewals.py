"""Renewals extend a loan from today by the rule, or by N days from its due date; never
shorten it, and a renewal that would change nothing is refused and not counted."""

import pytest

from central.circulation import catalogue, loans
from tests.circ import copy, library, patron, refused


@pytest.fixture
def s(central_db):
    """The test library with one adult and one book lent on Monday 2 March 2026 (21 days)."""
    s = library(central_db)
    copy(s, "B1", "Alamut")
    catalogue.set_rule(s, "adult", "book", loan_days=21, max_renewals=2)
    loans.checkout(s, patron(s), "B1", "center")
    return s


def loan(s) -> dict:
    """The loan's row."""
    return s.row("SELECT due, renewals FROM loans WHERE id = 1")


def test_a_renewal_on_the_day_of_checkout_changes_nothing_and_is_not_counted(s):
    """Renewing the same day would keep 23 March: refused as not_extended, twice over."""
    for _ in range(3):
        refused("not_extended", loans.renew, s, 1, said="renewal refused: already due 2026-03-23")
    assert loan(s) == {"due": "2026-03-23", "renewals": 0}
    out = loans.renew_all(s, 1)
    assert [(o["ok"], o["refusal"]) for o in out] == [(False, "not_extended")]
    assert loan(s)["renewals"] == 0


def test_a_renewal_runs_a_new_period_from_today(s):
    """Renewed on 12 March: 21 days from then, 2 April; the second renewal uses the limit."""
    s.clock.advance(days=10)
    assert loans.renew(s, 1)["due"] == "2026-04-02"
    s.clock.advance(days=5)
    assert loans.renew(s, 1)["due"] == "2026-04-07"
    assert loan(s)["renewals"] == 2
    s.clock.advance(days=5)
    refused("renewal_limit", loans.renew, s, 1)


def test_days_move_the_due_date_later_only(s):
    """`--days 7` moves 23 March to 30 March, a day more to the 31st; zero or negative days
    are refused."""
    assert loans.renew(s, 1, days=7)["due"] == "2026-03-30"
    assert loans.renew(s, 1, days=1)["due"] == "2026-03-31"
    for days in (0, -40):
        refused("bad_days", loans.renew, s, 1, days=days,
                said="a renewal moves the due date at least a day later")
    assert loan(s) == {"due": "2026-03-31", "renewals": 2}


def test_chosen_loans_are_renewed_each_with_its_outcome_and_title(s):
    """A kiosk's chosen loans: one renewed, one too early, one not this patron's; a loan
    chosen twice is renewed once."""
    copy(s, "B2", "Kekec")
    other = patron(s, "Kos")
    loans.checkout(s, other, "B2", "center")
    s.clock.advance(days=10)
    copy(s, "B3", "Visoška kronika")
    loans.checkout(s, 1, "B3", "center")
    out = loans.renew_chosen(s, 1, [1, 3, 2, 1], at=["center"])
    assert [(o["loan"], o["ok"], o["title"], o["refusal"]) for o in out] == [
        (1, True, "Alamut", None), (3, False, "Visoška kronika", "not_extended"),
        (2, False, "", "loan_unknown")]
    assert loan(s) == {"due": "2026-04-02", "renewals": 1}
    out = loans.renew_chosen(s, 1, [1], at=["siska"])
    assert [(o["title"], o["refusal"]) for o in out] == [("Alamut", "item_other_branch")]
