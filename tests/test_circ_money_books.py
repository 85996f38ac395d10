"""The books always sum: over any sequence of charges, payments, edits, credit use and
deletions at two branches, no credit is negative, no debt is paid beyond its amount, and what a
patron owes minus their credit is every debt minus every payment."""

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from central.circulation import accounts, branches
from central.circulation.errors import CirculationError
from tests.circ import library, patron

BRANCHES = ("center", "siska")
charge = st.tuples(st.just("charge"), st.sampled_from(BRANCHES), st.integers(1, 2000))
pay = st.tuples(st.just("pay"), st.sampled_from(BRANCHES), st.integers(1, 3000))
spend = st.tuples(st.just("use_credit"), st.sampled_from(BRANCHES), st.just(0))
edit = st.tuples(st.just("edit"), st.integers(0, 9), st.integers(1, 3000))
delete = st.tuples(st.just("delete"), st.integers(0, 9), st.just(0))
OPERATIONS = st.lists(st.one_of(charge, pay, spend, edit, delete), min_size=1, max_size=25)


def check_books(s, pid: int) -> None:
    """The invariants of `accounts`, from the tables themselves."""
    credit = accounts.credit(s, pid)
    assert credit >= 0
    for d in accounts.debts(s, pid, open_only=False):
        assert 0 <= d["open"] <= d["amount"]
    for p in s.rows("SELECT id, amount FROM payments WHERE patron_id = ? AND deleted_at IS NULL"
                    " AND method != 'credit'", [pid]):
        assert s.scalar("SELECT coalesce(sum(amount), 0) FROM allocations WHERE payment_id = ?",
                        [p["id"]]) <= p["amount"]
    charged = s.scalar("SELECT coalesce(sum(amount), 0) FROM debts WHERE patron_id = ?", [pid])
    paid = s.scalar("SELECT coalesce(sum(amount), 0) FROM payments WHERE patron_id = ?"
                    " AND deleted_at IS NULL", [pid])
    assert accounts.owed(s, pid) - credit == charged - paid


@given(OPERATIONS)
def test_the_books_sum_after_any_sequence(operations):
    """Each operation either happens or is refused with a code; the books sum after each."""
    with tempfile.TemporaryDirectory() as tmp:
        s = library(Path(tmp) / "c.db")
        branches.add_staff(s, "boss", "Supervisor", "supervisor", list(BRANCHES))
        pid = patron(s)
        payments: list[int] = []
        for op, where, amount in operations:
            try:
                if op == "charge":
                    accounts.add_debt(s, pid, where, "fine", amount)
                elif op == "pay":
                    payments.append(accounts.pay(s, pid, where, amount, staff_id="boss")["id"])
                elif op == "use_credit":
                    accounts.use_credit(s, pid, where)
                elif payments and op == "edit":
                    accounts.edit_payment(s, payments[where % len(payments)], "boss",
                                          amount=amount)
                elif payments and op == "delete":
                    accounts.delete_payment(s, payments[where % len(payments)], "boss")
            except CirculationError as exc:
                assert exc.code in ("no_credit", "payment_deleted"), exc.code
            check_books(s, pid)
        s.db.conn.close()


def test_editing_a_payment_whose_credit_was_spent_reopens_what_the_credit_paid(tmp_path):
    """Pay 1,000 against 600 (400 to credit), spend the credit on a 400 fine, then correct the
    payment to 600: the 400 fine is owed again, the credit is 0, not -400."""
    s = library(tmp_path / "c.db")
    branches.add_staff(s, "boss", "Supervisor", "supervisor", ["center"])
    pid = patron(s)
    accounts.add_debt(s, pid, "center", "replacement", 600)
    paid = accounts.pay(s, pid, "center", 1000, staff_id="boss")
    fine = accounts.add_debt(s, pid, "center", "fine", 400)
    accounts.use_credit(s, pid, "center")
    assert (accounts.owed(s, pid), accounts.credit(s, pid)) == (0, 0)
    accounts.edit_payment(s, paid["id"], "boss", amount=600)
    assert (accounts.owed(s, pid), accounts.credit(s, pid)) == (400, 0)
    assert [d["id"] for d in accounts.debts(s, pid)] == [fine]
    accounts.delete_payment(s, paid["id"], "boss")
    assert (accounts.owed(s, pid), accounts.credit(s, pid)) == (1000, 0)


def test_a_shortfall_takes_back_the_newest_credit_settlements_first_and_only_as_much(tmp_path):
    """Credit of 400 settled fines of 150 and 250; correcting the payment down by 100 reopens
    100 of the newest fine, down by 151 more the rest of it and 1 of the older fine."""
    s = library(tmp_path / "c.db")
    branches.add_staff(s, "boss", "Supervisor", "supervisor", ["center"])
    pid = patron(s)
    accounts.add_debt(s, pid, "center", "replacement", 600)
    paid = accounts.pay(s, pid, "center", 1000, staff_id="boss")["id"]
    older = accounts.add_debt(s, pid, "center", "fine", 150)
    newer = accounts.add_debt(s, pid, "center", "fine", 250)
    accounts.use_credit(s, pid, "center")

    def still_open() -> dict[int, int]:
        return {d["id"]: d["open"] for d in accounts.debts(s, pid)}

    accounts.edit_payment(s, paid, "boss", amount=900)
    assert (still_open(), accounts.credit(s, pid)) == ({newer: 100}, 0)
    accounts.edit_payment(s, paid, "boss", amount=749)
    assert (still_open(), accounts.credit(s, pid)) == ({older: 1, newer: 250}, 0)
    check_books(s, pid)
