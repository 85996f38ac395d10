"""Money: debts by kind, payments split over chosen debts, credit, receipts and reports.

Invariants: what a patron owes minus their credit equals all debts minus all payments; credit
is never negative; no debt is paid more than its amount.
"""

from datetime import date

from central.circulation import allowlist, bounds, branches, patrons
from central.circulation.errors import NotFound, Refused
from central.circulation.store import Store

KINDS = ("fine", "reminder", "registration", "membership", "replacement", "other")
METHODS = ("cash", "card", "transfer", "credit")
EDITORS = ("cashier", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")

OPEN_SQL = ("d.amount - coalesce((SELECT sum(a.amount) FROM allocations a"
            " JOIN payments p ON p.id = a.payment_id WHERE a.debt_id = d.id"
            " AND p.deleted_at IS NULL), 0)")
DEBT_SQL = f"SELECT d.*, {OPEN_SQL} AS open FROM debts d"


def owed_sql(patron: str) -> str:
    """SQL for what the patron `patron` (a column or `?`) owes: open debts of every branch."""
    return f"(SELECT coalesce(sum({OPEN_SQL}), 0) FROM debts d WHERE d.patron_id = {patron})"


def add_debt(s: Store, patron_id: int, branch: str, kind: str, amount: int,
             note: str | None = None, loan_id: int | None = None, ref: str | None = None) -> int:
    """Charge a patron (amount in minor units) at a branch."""
    if kind not in KINDS:
        raise Refused(f"debt kind is one of {', '.join(KINDS)}", code="bad_debt_kind")
    bounds.check_amount(amount)
    patrons.patron(s, patron_id)
    s.branch(branch)
    with s.atomic():
        debt_id = s.insert("debts", {"patron_id": patron_id, "branch_id": branch, "kind": kind,
                                     "amount": amount, "note": note, "loan_id": loan_id,
                                     "ref": ref, "created_at": s.now().isoformat()})
        allowlist.refresh_patron(s.db, patron_id)
    return debt_id


def debts(s: Store, patron_id: int, branch: str | None = None, open_only: bool = True) -> list:
    """A patron's debts with what is still open, oldest first; one branch's when given."""
    rows = s.rows(f"{DEBT_SQL} WHERE d.patron_id = ? AND (? IS NULL OR d.branch_id = ?)"
                  " ORDER BY d.created_at, d.id", [patron_id, branch, branch])
    return [d for d in rows if d["open"] > 0 or not open_only]


def credit(s: Store, patron_id: int) -> int:
    """Money paid and not used for any debt, kept as a deposit."""
    return s.scalar(
        "SELECT coalesce(sum(p.amount), 0) - coalesce((SELECT sum(a.amount) FROM allocations a"
        " JOIN payments q ON q.id = a.payment_id WHERE q.patron_id = ? AND q.deleted_at IS NULL),"
        " 0) FROM payments p WHERE p.patron_id = ? AND p.deleted_at IS NULL",
        [patron_id, patron_id])


def owed(s: Store, patron_id: int, branch: str | None = None) -> int:
    """Open debts in total (of one branch when given)."""
    return sum(d["open"] for d in debts(s, patron_id, branch))


def owed_elsewhere(s: Store, patron_id: int, branch: str) -> list[dict]:
    """What the patron owes at each other branch, with where that branch is (to pay there)."""
    return s.rows(
        f"SELECT b.id AS branch, b.name, coalesce(b.address, '') AS address,"
        f" sum({OPEN_SQL}) AS amount FROM debts d JOIN branches b ON b.id = d.branch_id"
        f" WHERE d.patron_id = ? AND d.branch_id != ? GROUP BY b.id HAVING amount > 0"
        f" ORDER BY b.name", [patron_id, branch])


def _chosen(s: Store, patron_id: int, branch: str, debt_ids: list[int] | None) -> list[dict]:
    open_debts = debts(s, patron_id, branch)
    if debt_ids is None:
        return open_debts
    by_id = {d["id"]: d for d in open_debts}
    missing = [i for i in debt_ids if i not in by_id]
    if missing:
        raise NotFound(f"debt {missing[0]} is not open at {branch}", code="debt_unknown")
    return [by_id[i] for i in dict.fromkeys(debt_ids)]


def _allocate(s: Store, payment_id: int, chosen: list[dict], budget: int) -> int:
    used = 0
    for d in chosen:
        part = min(d["open"], budget - used)
        if part <= 0:
            break
        s.insert("allocations", {"payment_id": payment_id, "debt_id": d["id"], "amount": part})
        used += part
    return used


def pay(s: Store, patron_id: int, branch: str, amount: int, *, debt_ids: list[int] | None = None,
        method: str = "cash", staff_id: str | None = None, dev: str | None = None,
        ref: str | None = None) -> dict:
    """Record a payment split over chosen debts (default: all open ones at the branch, oldest
    first); the rest becomes credit. A repeated `ref` returns the first receipt."""
    if ref is not None and (done := s.row("SELECT id, patron_id, amount FROM payments"
                                          " WHERE ref = ?", [ref])):
        if (done["patron_id"], done["amount"]) != (patron_id, amount):
            raise Refused("the payment reference was used for another payment", code="ref_reused")
        return receipt(s, done["id"])
    if method not in METHODS or method == "credit":
        raise Refused("method is cash, card or transfer", code="bad_method")
    bounds.check_amount(amount)
    patrons.patron(s, patron_id)
    if staff_id:
        branches.require_role(s, staff_id, branch, *branches.ROLES)
    with s.atomic():
        chosen = _chosen(s, patron_id, branch, debt_ids)
        now = s.now()
        payment_id = s.insert("payments", {
            "patron_id": patron_id, "branch_id": branch, "amount": amount, "method": method,
            "created_at": now.isoformat(), "day": s.today(branch).isoformat(),
            "staff_id": staff_id, "dev": dev, "ref": ref})
        _allocate(s, payment_id, chosen, amount)
        allowlist.refresh_patron(s.db, patron_id)
    return receipt(s, payment_id)


def use_credit(s: Store, patron_id: int, branch: str, debt_ids: list[int] | None = None,
               staff_id: str | None = None) -> dict:
    """Settle chosen debts from the patron's credit."""
    available = credit(s, patron_id)
    if available <= 0:
        raise Refused("the patron has no credit", code="no_credit")
    with s.atomic():
        payment_id = s.insert("payments", {
            "patron_id": patron_id, "branch_id": branch, "amount": 0, "method": "credit",
            "created_at": s.now().isoformat(), "day": s.today(branch).isoformat(),
            "staff_id": staff_id})
        _allocate(s, payment_id, _chosen(s, patron_id, branch, debt_ids), available)
        allowlist.refresh_patron(s.db, patron_id)
    return receipt(s, payment_id)


def payment(s: Store, payment_id: int) -> dict:
    """A payment row."""
    found = s.row("SELECT * FROM payments WHERE id = ?", [payment_id])
    if found is None:
        raise NotFound(f"no payment {payment_id}", code="payment_unknown")
    return found


def receipt(s: Store, payment_id: int) -> dict:
    """What a receipt shows: the payment, the debts it settled, and the credit left."""
    found = payment(s, payment_id)
    found["lines"] = s.rows("SELECT d.id AS debt, d.kind, d.note, a.amount FROM allocations a"
                            " JOIN debts d ON d.id = a.debt_id WHERE a.payment_id = ?"
                            " ORDER BY d.id", [payment_id])
    found["to_credit"] = found["amount"] - sum(line["amount"] for line in found["lines"])
    found["credit"] = credit(s, found["patron_id"])
    found["owed"] = owed(s, found["patron_id"])
    found["receipt_no"] = f"{found['branch_id']}-{found['day'].replace('-', '')}-{payment_id}"
    return found


def _may_change(s: Store, found: dict, staff_id: str) -> None:
    account = branches.require_role(s, staff_id, found["branch_id"], *EDITORS)
    if found["day"] != s.today(found["branch_id"]).isoformat() \
            and account["role"] not in SUPERVISORS:
        raise Refused("only a supervisor may change a payment from an earlier day",
                      code="supervisor_required")
    if found["deleted_at"]:
        raise Refused("the payment was deleted", code="payment_deleted")


def edit_payment(s: Store, payment_id: int, staff_id: str, *, amount: int | None = None,
                 method: str | None = None) -> dict:
    """Correct a payment's amount or method (authorised staff); its allocations are redone."""
    found = payment(s, payment_id)
    _may_change(s, found, staff_id)
    if method is not None and (method not in METHODS or method == "credit"):
        raise Refused("method is cash, card or transfer", code="bad_method")
    amount = found["amount"] if amount is None else amount
    bounds.check_amount(amount)
    with s.atomic():
        chosen = [d["debt"] for d in receipt(s, payment_id)["lines"]]
        s.conn.execute("DELETE FROM allocations WHERE payment_id = ?", [payment_id])
        s.update("payments", payment_id, {"amount": amount, "method": method or found["method"]})
        _allocate(s, payment_id, _chosen(s, found["patron_id"], found["branch_id"],
                                         chosen or None), amount)
        _give_back_spent_credit(s, found["patron_id"])
        allowlist.refresh_patron(s.db, found["patron_id"])
    return receipt(s, payment_id)


def _give_back_spent_credit(s: Store, patron_id: int) -> None:
    """After a payment shrank or went, credit spent from it may exceed what is left: undo the
    newest credit settlements by that much, so their debts are owed again (never a negative
    credit, never money that was not paid)."""
    short = -credit(s, patron_id)
    for spent in s.rows("SELECT a.payment_id, a.debt_id, a.amount FROM allocations a"
                        " JOIN payments p ON p.id = a.payment_id WHERE p.patron_id = ?"
                        " AND p.method = 'credit' AND p.deleted_at IS NULL"
                        " ORDER BY p.id DESC, a.debt_id DESC", [patron_id]):
        if short <= 0:
            return
        back = min(short, spent["amount"])
        key = [spent["payment_id"], spent["debt_id"]]
        if back == spent["amount"]:
            s.conn.execute("DELETE FROM allocations WHERE payment_id = ? AND debt_id = ?", key)
        else:
            s.conn.execute("UPDATE allocations SET amount = amount - ? WHERE payment_id = ?"
                           " AND debt_id = ?", [back, *key])
        short -= back


def delete_payment(s: Store, payment_id: int, staff_id: str) -> None:
    """Cancel a payment (authorised staff; a supervisor for an earlier day); its debts reopen."""
    found = payment(s, payment_id)
    _may_change(s, found, staff_id)
    with s.atomic():
        s.update("payments", payment_id, {"deleted_at": s.now().isoformat(),
                                          "deleted_by": staff_id})
        _give_back_spent_credit(s, found["patron_id"])
        allowlist.refresh_patron(s.db, found["patron_id"])


def report(s: Store, branch: str, start: date, end: date) -> list[dict]:
    """Payments per day and method at a branch over a period (a daily report: start = end)."""
    return s.rows(
        "SELECT day, method, count(*) AS payments, sum(amount) AS total FROM payments"
        " WHERE branch_id = ? AND day BETWEEN ? AND ? AND deleted_at IS NULL AND method != 'credit'"
        " GROUP BY day, method ORDER BY day, method", [branch, start.isoformat(), end.isoformat()])
