"""The debt limit counts the lending branch's debts (TextLib), or every branch's by setting;
then the desk and the kiosk also show what is owed elsewhere, to be paid there."""

import pytest

from central.circulation import accounts, loans, settings, summary
from edge_common.protocol.circulation import ACCOUNT_SUMMARY
from tests.circ import copy, library, patron, refused


@pytest.fixture
def s(central_db):
    """A patron who owes 900 at Šiška and nothing at the centre; the limit is 500."""
    s = library(central_db)
    settings.store(s.db, debt_limit=500)
    copy(s, "B1", "Alamut")
    copy(s, "S1", "Kekec", "siska")
    accounts.add_debt(s, patron(s), "siska", "fine", 900)
    return s


def test_by_default_only_the_lending_branch_debts_count(s):
    """The centre lends although Šiška is owed; Šiška refuses; the centre shows no debt."""
    assert loans.checkout(s, 1, "B1", "center")["barcode"] == "B1"
    refused("debt_over_limit", loans.checkout, s, 1, "S1", "siska")
    view = summary.summary(s, 1, "center")
    assert (view["debts"], view["elsewhere"]) == ([], [])


def test_counting_the_network_refuses_everywhere_and_shows_where_to_pay(s):
    """With debt_scope=network the centre refuses too, and shows the Šiška debt read-only."""
    settings.store(s.db, debt_scope="network")
    refused("debt_over_limit", loans.checkout, s, 1, "B1", "center")
    view = summary.summary(s, 1, "center")
    assert view["debts"] == []
    assert view["elsewhere"] == [{"branch": "siska", "name": "Šiška Library",
                                  "address": "Šiška Library 1", "amount": 900}]
    answer = ACCOUNT_SUMMARY.answer_from(view)           # what a kiosk receives
    assert [(o.name, o.amount) for o in answer.elsewhere] == [("Šiška Library", 900)]
