"""Money (SEEDS 002): debts by kind, split payments, credit, receipts, staff rights, reports."""

from datetime import date

import msgspec
import pytest

from central.circulation import accounts, branches
from tests.circ import library, patron, refused


@pytest.fixture
def s(tmp_path):
    s = library(tmp_path / "c.db")
    branches.add_staff(s, "clerk", "Clerk", "clerk", ["center"])
    branches.add_staff(s, "cash", "Cashier", "cashier", ["center"])
    branches.add_staff(s, "boss", "Supervisor", "supervisor", ["center"])
    return s


def test_payment_split_over_chosen_debts_and_overpayment_becomes_credit(s):
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
    p = patron(s)
    first = accounts.add_debt(s, p, "center", "fine", 300)
    s.clock.advance(minutes=1)
    second = accounts.add_debt(s, p, "center", "registration", 1800)
    got = accounts.pay(s, p, "center", 1000)
    assert [(x["debt"], x["amount"]) for x in got["lines"]] == [(first, 300), (second, 700)]
    assert got["owed"] == 1100 and got["receipt_no"].startswith("center-20260302-")


def test_a_reference_pays_once(s):
    p = patron(s)
    accounts.add_debt(s, p, "center", "fine", 300)
    one = accounts.pay(s, p, "center", 300, method="card", ref="T-9")
    assert accounts.pay(s, p, "center", 300, method="card", ref="T-9")["id"] == one["id"]
    refused("ref_reused", accounts.pay, s, p, "center", 999, ref="T-9")


def test_edit_and_delete_need_rights_and_a_supervisor_for_an_earlier_day(s):
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
    p = patron(s)
    refused("bad_amount", accounts.add_debt, s, p, "center", "fine", 0)
    refused("bad_amount", accounts.add_debt, s, p, "center", "fine", 1.5)
    refused("bad_debt_kind", accounts.add_debt, s, p, "center", "bribe", 10)
    refused("bad_amount", accounts.pay, s, p, "center", -5)
    refused("no_credit", accounts.use_credit, s, p, "center")
    refused("debt_unknown", accounts.pay, s, p, "center", 10, debt_ids=[999])


def test_daily_and_period_reports(s):
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
    accounts.add_debt(s, p, "siska", "fine", 900)
    paid = accounts.pay(s, p, "center", 500, staff_id="cash")   # 300 settled, 200 credit
    assert accounts.owed(s, p) == 900 and over()
    accounts.use_credit(s, p, "siska", None)
    assert accounts.owed(s, p) == 700 and not over()
    accounts.delete_payment(s, paid["id"], "boss")   # the center fine reopens, and so does
    assert accounts.owed(s, p) == 1200 and over()      # what its credit paid at siska
    assert accounts.credit(s, p) == 0
    assert set(door_row()) <= {"cat", "blk", "exp", "staff", "age", "owe", "agr"}
    with s.atomic():
        settings.store(s.db, door_debt_limit=None)
        allowlist.publish_everywhere(s.db)
    assert not over()
