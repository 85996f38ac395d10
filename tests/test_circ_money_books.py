"""The books always sum: over any sequence of charges, payments, credit use, edits of every
kind of payment and deletions at three branches, no credit is negative at any branch, a credit
payment is never money, no debt is paid beyond its amount, a payment settles only its own
branch's debts, and what a patron owes minus their credit is every debt minus every payment of
real money."""

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from central.circulation import accounts, audit, branches
from central.circulation.errors import CirculationError
from tests.circ import library, patron, refused

BRANCHES = ("center", "siska", "bezigrad")
MONEY = ("cash", "card", "transfer")
METHODS = st.sampled_from((*MONEY, None))
charge = st.tuples(st.just("charge"), st.sampled_from(BRANCHES), st.integers(1, 2000), st.none())
pay = st.tuples(st.sampled_from(("pay", "kiosk")), st.sampled_from(BRANCHES),
                st.integers(1, 3000), st.sampled_from(MONEY))
spend = st.tuples(st.just("use_credit"), st.sampled_from(BRANCHES), st.just(0), st.none())
edit = st.tuples(st.just("edit"), st.integers(0, 9), st.integers(1, 5000) | st.none(), METHODS)
delete = st.tuples(st.just("delete"), st.integers(0, 9), st.just(0), st.none())
OPERATIONS = st.lists(st.one_of(charge, pay, spend, edit, delete), min_size=1, max_size=25)


def check_books(s, pid: int) -> None:
    """The invariants of `accounts`, from the tables themselves."""
    credit = accounts.credit(s, pid)
    standing = "patron_id = ? AND deleted_at IS NULL"
    for branch in BRANCHES:         # credit paid at a branch, less what it settled there
        assert s.scalar(
            f"SELECT coalesce(sum(amount), 0) - coalesce((SELECT sum(a.amount) FROM allocations a"
            f" JOIN payments p ON p.id = a.payment_id WHERE p.{standing} AND p.branch_id = ?), 0)"
            f" FROM payments WHERE {standing} AND branch_id = ?", [pid, branch, pid, branch]) >= 0
    assert s.scalar(f"SELECT count(*) FROM payments WHERE {standing} AND method = 'credit'"
                    " AND amount != 0", [pid]) == 0          # credit use is never money
    assert s.scalar("SELECT count(*) FROM allocations a JOIN payments p ON p.id = a.payment_id"
                    " JOIN debts d ON d.id = a.debt_id WHERE p.branch_id != d.branch_id") == 0
    for d in accounts.debts(s, pid, open_only=False):
        assert 0 <= d["open"] <= d["amount"]
    for p in s.rows(f"SELECT id, amount FROM payments WHERE {standing} AND method != 'credit'",
                    [pid]):
        assert s.scalar("SELECT coalesce(sum(amount), 0) FROM allocations WHERE payment_id = ?",
                        [p["id"]]) <= p["amount"]
    charged = s.scalar("SELECT coalesce(sum(amount), 0) FROM debts WHERE patron_id = ?", [pid])
    paid = s.scalar(f"SELECT coalesce(sum(amount), 0) FROM payments WHERE {standing}"
                    " AND method != 'credit'", [pid])
    assert credit >= 0
    assert accounts.owed(s, pid) - credit == charged - paid


def apply(s, pid: int, payments: list[int], op: str, where, amount, method) -> bool:
    """One operation of the sequence (a payment at the desk or a kiosk, or a credit use, adds
    to `payments`); whether it was a payment, a credit use, an edit or a deletion."""
    if op == "charge":
        accounts.add_debt(s, pid, where, "fine", amount)
        return False
    if op == "pay":
        payments.append(accounts.pay(s, pid, where, amount, method=method, staff_id="boss")["id"])
    elif op == "kiosk":         # a card payment a kiosk sends, with the terminal's reference
        payments.append(accounts.pay(s, pid, where, amount, method="card", dev="kiosk-1",
                                     ref=f"T-{len(payments)}")["id"])
    elif op == "use_credit":
        payments.append(accounts.use_credit(s, pid, where)["id"])
    elif payments and op == "edit":
        accounts.edit_payment(s, payments[where % len(payments)], "boss", amount=amount,
                              method=method)
    elif payments and op == "delete":
        accounts.delete_payment(s, payments[where % len(payments)], "boss")
    return bool(payments)


@given(OPERATIONS)
def test_the_books_sum_after_any_sequence(operations):
    """Each operation either happens or is refused with a code; the books sum after each, and
    each change of money is in the audit log."""
    with tempfile.TemporaryDirectory() as tmp:
        s = library(Path(tmp) / "c.db")
        branches.add_staff(s, "boss", "Supervisor", "supervisor", list(BRANCHES))
        pid = patron(s)
        payments: list[int] = []
        for operation in operations:
            logged = s.scalar("SELECT count(*) FROM audit")
            try:
                moved = apply(s, pid, payments, *operation)
            except CirculationError as exc:
                assert exc.code in ("no_credit", "payment_deleted", "credit_payment"), exc.code
            else:
                assert s.scalar("SELECT count(*) FROM audit") == logged + moved
            check_books(s, pid)
        s.db.close()


def test_editing_a_payment_whose_credit_was_spent_reopens_what_the_credit_paid(central_db):
    """Pay 1,000 against 600 (400 to credit), spend the credit on a 400 fine, then correct the
    payment to 600: the 400 fine is owed again, the credit is 0, not -400."""
    s = library(central_db)
    branches.add_staff(s, "boss", "Supervisor", "supervisor", ["center"])
    pid = patron(s)
    accounts.add_debt(s, pid, "center", "replacement", 600)
    paid = accounts.pay(s, pid, "center", 1000, staff_id="boss")
    fine = accounts.add_debt(s, pid, "center", "fine", 400)
    used = accounts.use_credit(s, pid, "center")["id"]
    assert (accounts.owed(s, pid), accounts.credit(s, pid)) == (0, 0)
    accounts.edit_payment(s, paid["id"], "boss", amount=600)
    assert (accounts.owed(s, pid), accounts.credit(s, pid)) == (400, 0)
    assert [d["id"] for d in accounts.debts(s, pid)] == [fine]
    (edited, *_) = audit.entries(s, subject=f"patron:{pid}")   # the newest: the edit
    assert (edited["action"], edited["before"]["amount"], edited["after"]["amount"]) == (
        "payment.edit", 1000, 600)
    assert edited["after"]["credit_taken_back"] == [[used, fine, 400]]
    accounts.delete_payment(s, paid["id"], "boss")
    assert (accounts.owed(s, pid), accounts.credit(s, pid)) == (1000, 0)


def test_a_shortfall_takes_back_the_newest_credit_settlements_first_and_only_as_much(central_db):
    """Credit of 400 settled fines of 150 and 250; correcting the payment down by 100 reopens
    100 of the newest fine, down by 151 more the rest of it and 1 of the older fine."""
    s = library(central_db)
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


def test_a_credit_payment_is_never_edited_into_money(central_db):
    """Credit of 300 settles a 300 fine; editing that credit payment to 5,000 (or to cash)
    would make 4,700 of credit out of nothing: refused, the books as they were."""
    s = library(central_db)
    branches.add_staff(s, "boss", "Supervisor", "supervisor", ["center"])
    pid = patron(s)
    accounts.pay(s, pid, "center", 300, staff_id="boss")
    accounts.add_debt(s, pid, "center", "fine", 300)
    used = accounts.use_credit(s, pid, "center")["id"]
    refused("credit_payment", accounts.edit_payment, s, used, "boss", amount=5000)
    refused("credit_payment", accounts.edit_payment, s, used, "boss", method="cash")
    assert (accounts.owed(s, pid), accounts.credit(s, pid)) == (0, 0)
    accounts.delete_payment(s, used, "boss")          # undone: the fine is owed, credit back
    assert (accounts.owed(s, pid), accounts.credit(s, pid)) == (300, 300)
    check_books(s, pid)


def test_credit_settles_only_the_debts_of_the_branch_it_was_paid_at(central_db):
    """1,000 paid at Šiška with nothing owed there is credit at Šiška: it does not settle a
    fine at the centre (TextLib: debts are settled per branch), it does settle Šiška's."""
    s = library(central_db)
    branches.add_staff(s, "boss", "Supervisor", "supervisor", ["center", "siska"])
    pid = patron(s)
    accounts.pay(s, pid, "siska", 1000, staff_id="boss")
    accounts.add_debt(s, pid, "center", "fine", 300)
    refused("no_credit", accounts.use_credit, s, pid, "center", staff_id="boss")
    assert (accounts.owed(s, pid, "center"), accounts.credit(s, pid, "siska")) == (300, 1000)
    accounts.add_debt(s, pid, "siska", "fine", 200)
    accounts.use_credit(s, pid, "siska", staff_id="boss")
    assert (accounts.owed(s, pid), accounts.credit(s, pid, "siska")) == (300, 800)
    check_books(s, pid)
