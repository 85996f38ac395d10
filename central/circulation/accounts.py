"""Money: debts by kind, payments split over chosen debts, credit, receipts and reports.

Invariants: what a patron owes minus their credit equals all debts minus all money really paid
(a credit payment moves credit onto debts and is never money); credit is never negative and is
kept per branch, as debts are settled per branch (TextLib); no debt is paid more than its
amount. Every change of money is in the audit log with its values before and after.
"""

import json
from datetime import date
from typing import Any

from central.circulation import audit, bounds, branches, patrons
from central.circulation.errors import NotFound, Refused
from central.circulation.owing import OPEN_SQL
from central.circulation.store import Store

KINDS = ("fine", "reminder", "registration", "membership", "replacement", "other")
METHODS = ("cash", "card", "transfer", "credit")
EDITORS = ("cashier", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")

DEBT_SQL = f"SELECT d.*, {OPEN_SQL} AS open FROM debts d"


def add_debt(s: Store, patron_id: int, branch: str, kind: str, amount: int,
             note: str | None = None, loan_id: int | None = None, ref: str | None = None) -> int:
    """Charge a patron (amount in minor units) at a branch."""
    if kind not in KINDS:
        raise Refused(f"debt kind is one of {', '.join(KINDS)}", code="bad_debt_kind")
    bounds.check_amount(amount)
    patrons.patron(s, patron_id)
    s.branch(branch)
    with s.atomic():
        debt_id = s.add("debts", {"patron_id": patron_id, "branch_id": branch, "kind": kind,
                                     "amount": amount, "note": note, "loan_id": loan_id,
                                     "ref": ref, "created_at": s.now().isoformat()})
        s.patron_changed(patron_id)
    return debt_id


def debts(s: Store, patron_id: int, branch: str | None = None, open_only: bool = True) -> list:
    """A patron's debts with what is still open, oldest first; one branch's when given."""
    rows = s.rows(f"{DEBT_SQL} WHERE d.patron_id = ? AND (? IS NULL OR d.branch_id = ?)"
                  " ORDER BY d.created_at, d.id", [patron_id, branch, branch])
    return [d for d in rows if d["open"] > 0 or not open_only]


def credit(s: Store, patron_id: int, branch: str | None = None) -> int:
    """Money paid and not used for any debt, kept as a deposit: in all, or the part paid at
    one branch (only that part settles the branch's debts)."""
    return s.scalar(
        "SELECT coalesce(sum(p.amount), 0) - coalesce((SELECT sum(a.amount) FROM allocations a"
        " JOIN payments q ON q.id = a.payment_id WHERE q.patron_id = ? AND q.deleted_at IS NULL"
        " AND (? IS NULL OR q.branch_id = ?)), 0) FROM payments p WHERE p.patron_id = ?"
        " AND p.deleted_at IS NULL AND (? IS NULL OR p.branch_id = ?)",
        [patron_id, branch, branch, patron_id, branch, branch])


def owed(s: Store, patron_id: int, branch: str | None = None) -> int:
    """Open debts in total (of one branch when given)."""
    return sum(d["open"] for d in debts(s, patron_id, branch))


def owed_elsewhere(s: Store, patron_id: int, branch: str) -> list[dict]:
    """What the patron owes at each other branch, with where that branch is (to pay there)."""
    return s.rows(
        f"SELECT b.id AS branch, b.name, coalesce(b.address, '') AS address,"
        f" sum({OPEN_SQL}) AS amount FROM debts d JOIN branches b ON b.id = d.branch_id"
        f" WHERE d.patron_id = ? AND d.branch_id != ? GROUP BY b.id, b.name, b.address"
        f" HAVING sum({OPEN_SQL}) > 0"
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


def _actor(branch: str, staff_id: str | None, dev: str | None) -> audit.Actor:
    """Who moved the money: a member of staff, a device on its own, or the system (a job)."""
    if staff_id:
        return audit.Actor(staff_id, branch)
    return audit.Actor.of_device(dev, branch) if dev else audit.Actor("system", branch)


def _state(s: Store, payment_id: int) -> dict[str, Any]:
    """What the audit log keeps of a payment: amount, method, whether it stands, what it paid."""
    found = payment(s, payment_id)
    return {"payment": payment_id, "amount": found["amount"], "method": found["method"],
            "deleted": found["deleted_at"] is not None,
            "settles": [[a["debt_id"], a["amount"]] for a in s.rows(
                "SELECT debt_id, amount FROM allocations WHERE payment_id = ? ORDER BY debt_id",
                [payment_id])]}


def _log(s: Store, actor: audit.Actor, action: str, found: dict[str, Any],
         before: dict[str, Any] | None, **also: Any) -> None:
    """Log a change of money with the payment before and after, the branch's day of it, and
    what else it moved (`also`: credit settlements taken back)."""
    after = _state(s, found["id"]) | {"on": s.today(found["branch_id"]).isoformat()} | also
    audit.record(s, actor, action, f"patron:{found['patron_id']}", before, after)


def pay(s: Store, patron_id: int, branch: str, amount: int, *, debt_ids: list[int] | None = None,
        method: str = "cash", staff_id: str | None = None, dev: str | None = None,
        ref: str | None = None) -> dict:
    """Record a payment split over chosen debts (default: all open ones at the branch, oldest
    first); the rest becomes credit at the branch. A repeated `ref` returns the first receipt."""
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
        payment_id = s.add("payments", {
            "patron_id": patron_id, "branch_id": branch, "amount": amount, "method": method,
            "created_at": now.isoformat(), "day": s.today(branch).isoformat(),
            "staff_id": staff_id, "dev": dev, "ref": ref})
        _allocate(s, payment_id, chosen, amount)
        _log(s, _actor(branch, staff_id, dev), "payment.add", payment(s, payment_id), None)
        s.patron_changed(patron_id)
    return receipt(s, payment_id)


def use_credit(s: Store, patron_id: int, branch: str, debt_ids: list[int] | None = None,
               staff_id: str | None = None) -> dict:
    """Settle chosen debts of the branch from the credit paid at that branch (debts are settled
    per branch: credit paid elsewhere is used where it was paid)."""
    available = credit(s, patron_id, branch)
    if available <= 0:
        raise Refused(f"the patron has no credit at {branch}", code="no_credit")
    with s.atomic():
        payment_id = s.add("payments", {
            "patron_id": patron_id, "branch_id": branch, "amount": 0, "method": "credit",
            "created_at": s.now().isoformat(), "day": s.today(branch).isoformat(),
            "staff_id": staff_id})
        _allocate(s, payment_id, _chosen(s, patron_id, branch, debt_ids), available)
        _log(s, _actor(branch, staff_id, None), "payment.credit", payment(s, payment_id), None)
        s.patron_changed(patron_id)
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
    """Correct a payment's amount or method (authorised staff); its allocations are redone.
    A credit payment moved credit, not money: it is deleted, never edited."""
    found = payment(s, payment_id)
    _may_change(s, found, staff_id)
    if found["method"] == "credit":
        raise Refused("a credit payment cannot be edited (delete it to reopen its debts)",
                      code="credit_payment")
    if method is not None and (method not in METHODS or method == "credit"):
        raise Refused("method is cash, card or transfer", code="bad_method")
    amount = found["amount"] if amount is None else amount
    bounds.check_amount(amount)
    with s.atomic():
        before = _state(s, payment_id)
        chosen = [d["debt"] for d in receipt(s, payment_id)["lines"]]
        s.db.execute("DELETE FROM allocations WHERE payment_id = ?", [payment_id])
        s.update("payments", payment_id, {"amount": amount, "method": method or found["method"]})
        _allocate(s, payment_id, _chosen(s, found["patron_id"], found["branch_id"],
                                         chosen or None), amount)
        back = _give_back_spent_credit(s, found["patron_id"], found["branch_id"])
        _log(s, audit.Actor(staff_id, found["branch_id"]), "payment.edit", found, before,
             credit_taken_back=back)
        s.patron_changed(found["patron_id"])
    return receipt(s, payment_id)


def _give_back_spent_credit(s: Store, patron_id: int, branch: str) -> list[list[int]]:
    """After a payment at `branch` shrank or went, credit spent there may exceed what is left:
    undo the branch's newest credit settlements by that much, so their debts are owed again
    (never a negative credit, never money that was not paid). Returns what was taken back:
    [credit payment, debt, amount] each."""
    return release(s, s.rows("SELECT a.payment_id, a.debt_id, a.amount FROM allocations a"
                             " JOIN payments p ON p.id = a.payment_id WHERE p.patron_id = ?"
                             " AND p.branch_id = ? AND p.method = 'credit'"
                             " AND p.deleted_at IS NULL ORDER BY p.id DESC, a.debt_id DESC",
                             [patron_id, branch]), -credit(s, patron_id, branch))


def release(s: Store, allocations: list[dict], amount: int) -> list[list[int]]:
    """Take `amount` back from these allocations (payment_id, debt_id, amount), in their order:
    each shrinks, or goes when all of it is taken; the money is its payer's credit again.
    Returns what was taken back: [payment, debt, amount] each."""
    taken: list[list[int]] = []
    for part in allocations:
        if amount <= 0:
            break
        back = min(amount, part["amount"])
        key = [part["payment_id"], part["debt_id"]]
        if back == part["amount"]:
            s.db.execute("DELETE FROM allocations WHERE payment_id = ? AND debt_id = ?", key)
        else:
            s.db.execute("UPDATE allocations SET amount = amount - ? WHERE payment_id = ?"
                           " AND debt_id = ?", [back, *key])
        taken.append([*key, back])
        amount -= back
    return taken


def delete_payment(s: Store, payment_id: int, staff_id: str) -> None:
    """Cancel a payment (authorised staff; a supervisor for an earlier day); its debts reopen."""
    found = payment(s, payment_id)
    _may_change(s, found, staff_id)
    with s.atomic():
        before = _state(s, payment_id)
        s.update("payments", payment_id, {"deleted_at": s.now().isoformat(),
                                          "deleted_by": staff_id})
        back = _give_back_spent_credit(s, found["patron_id"], found["branch_id"])
        _log(s, audit.Actor(staff_id, found["branch_id"]), "payment.delete", found, before,
             credit_taken_back=back)
        s.patron_changed(found["patron_id"])


def report(s: Store, branch: str, start: date, end: date) -> list[dict]:
    """Payments per day and method at a branch over a period (a daily report: start = end)."""
    return s.rows(
        "SELECT day, method, count(*) AS payments, sum(amount) AS total FROM payments"
        " WHERE branch_id = ? AND day BETWEEN ? AND ? AND deleted_at IS NULL AND method != 'credit'"
        " GROUP BY day, method ORDER BY day, method", [branch, start.isoformat(), end.isoformat()])


CORRECTIONS = ("payment.edit", "payment.delete")


def corrections(s: Store, branch: str, start: date, end: date) -> list[dict[str, Any]]:
    """The payment edits and deletions made at a branch over a period, with who made them and
    the payment before and after (the report shows them beside the totals)."""
    found = s.rows(
        "SELECT at, staff_id, action, before, after FROM audit WHERE branch_id = ?"
        f" AND action IN (?, ?) AND {s.db.json_field('after', 'on')} BETWEEN ? AND ? ORDER BY id",
        [branch, *CORRECTIONS, start.isoformat(), end.isoformat()])
    return [{"at": c["at"], "staff": c["staff_id"], "action": c["action"],
             "payment": json.loads(c["after"])["payment"], "before": json.loads(c["before"]),
             "after": json.loads(c["after"])} for c in found]
