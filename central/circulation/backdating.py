"""Events dated in the past met by a present that moved on: the loan open at an event's moment,
a return the desk recorded after it really happened, and charges made after the real return.

Times in `loans` are UTC ISO strings, so they compare as text. A late event never touches a
loan that started after it; what it changes is listed for the staff alert that says so.
"""

from datetime import UTC, datetime

from central.circulation import accounts, audit
from central.circulation.store import Store


def utc(at: datetime) -> str:
    """A moment as the loans table writes it."""
    return at.astimezone(UTC).isoformat()


def loan_at(s: Store, item_id: int, at: datetime) -> dict | None:
    """The item's loan that was open at `at`, whether or not it was closed since."""
    when = utc(at)
    return s.row("SELECT * FROM loans WHERE item_id = ? AND out_at <= ? AND (returned_at IS NULL"
                 " OR returned_at > ?) ORDER BY out_at DESC, id DESC LIMIT 1",
                 [item_id, when, when])


def lent_since(s: Store, item_id: int, at: datetime) -> dict | None:
    """The item's first loan that started after `at`."""
    return s.row("SELECT * FROM loans WHERE item_id = ? AND out_at > ? ORDER BY out_at, id"
                 " LIMIT 1", [item_id, utc(at)])


def _reduce(s: Store, debt: dict, amount: int, actor: audit.Actor) -> dict:
    """Lower a debt to `amount` (0: cancel it); what was paid towards it beyond that, newest
    payment first, is released and becomes the patron's credit. Logged with before and after."""
    paid = s.rows("SELECT payment_id, debt_id, amount FROM allocations WHERE debt_id = ?"
                  " ORDER BY payment_id DESC", [debt["id"]])
    accounts.release(s, paid, sum(part["amount"] for part in paid) - amount)
    if amount:
        s.update("debts", debt["id"], {"amount": amount})
    else:
        s.db.execute("DELETE FROM debts WHERE id = ?", [debt["id"]])
    audit.record(s, actor, "debt.reverse", f"debt:{debt['id']}",
                 {"kind": debt["kind"], "amount": debt["amount"], "loan": debt["loan_id"]},
                 {"kind": debt["kind"], "amount": amount, "loan": debt["loan_id"]})
    return {"debt": debt["id"], "kind": debt["kind"], "before": debt["amount"], "after": amount}


def charges_to(s: Store, loan: dict, at: datetime, fine: int, actor: audit.Actor) -> list[dict]:
    """Bring a loan's charges back to its real return moment `at`: its late fines cut to `fine`
    (never raised), every reminder fee charged after `at` reversed. Returns what changed
    (nothing for an anonymised loan: whose charges they were is no longer known)."""
    if loan["patron_id"] is None:
        return []
    changed = []
    fines = s.rows("SELECT * FROM debts WHERE loan_id = ? AND kind = 'fine'"
                   " ORDER BY created_at DESC, id DESC", [loan["id"]])
    excess = sum(d["amount"] for d in fines) - fine
    for debt in fines:
        if excess <= 0:
            break
        cut = min(excess, debt["amount"])
        changed.append(_reduce(s, debt, debt["amount"] - cut, actor))
        excess -= cut
    for debt in s.rows("SELECT * FROM debts WHERE loan_id = ? AND kind = 'reminder'"
                       " AND created_at > ? ORDER BY id", [loan["id"], utc(at)]):
        changed.append(_reduce(s, debt, 0, actor))
    if changed and loan["patron_id"] is not None:
        s.patron_changed(loan["patron_id"])
    return changed


def backdate(s: Store, loan: dict, at: datetime, branch: str, fine: int,
             actor: audit.Actor) -> dict:
    """A return at `at` of a loan closed later (the desk checked the copy in after it went into
    a box): the loan ends at `at`, its charges are brought back to then, and the copy stays
    where the desk sent it. Returns the staff alert's code and details."""
    s.update("loans", loan["id"], {"returned_at": utc(at), "returned_branch": branch})
    later = lent_since(s, loan["item_id"], at)
    return {"code": "return_backdated", "loan": loan["id"], "patron": loan["patron_id"],
            "recorded_return": loan["returned_at"], "recorded_branch": loan["returned_branch"],
            "returned_at": utc(at), "lent_since": later and later["id"],
            "debts": charges_to(s, loan, at, fine, actor)}
