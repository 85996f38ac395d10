"""Copies out of stock (Verbis): lost, missing, damaged or withdrawn, what each does to an open
loan and to a hold the copy was set aside for, the desk's lists, and a copy found again.

On an open loan: `lost` and `damaged` close it and charge the borrower the replacement
(setting `replacement_charge`, by item category); `missing` (the borrower says it came back,
nobody finds it) closes it with no charge; `withdrawn` is refused (mark it lost first). A
closed loan gets no more reminders, and the patron may be archived or erased. The replacement
is a debt like any other: over `door_debt_limit` the doors refuse the holder with
`debt_over_limit`, as they do for any debt.
"""

from central.circulation import (
    accounts,
    audit,
    branches,
    catalogue,
    interbranch,
    loans,
    routing,
)
from central.circulation.errors import Refused
from central.circulation.stock import OUT_OF_STOCK
from central.circulation.store import Store

CHARGED = ("lost", "damaged")


def replacement_charge(s: Store, category: str) -> int:
    """What a lost or damaged copy of an item category costs its borrower (0: nothing)."""
    charges = s.settings.replacement_charge
    return charges.get(category, charges.get("*", 0))


def _where_staff_may(s: Store, it: dict, loan: dict | None, actor: audit.Actor) -> None:
    """Staff of the copy's home branch, or of the branch that lent it, decide (TextLib)."""
    branches.require_role(s, actor.staff_id, actor.branch_id or "", *branches.ROLES)
    if actor.branch_id not in (it["home_branch"], loan and loan["branch_id"]):
        raise Refused("the item belongs to another branch's collection",
                      code="item_other_branch")


def mark(s: Store, identifier: str, status: str, actor: audit.Actor,
         note: str | None = None) -> dict:
    """Take a copy out of stock as `status`; close its open loan as that status says, and put
    a hold it was set aside for back in the queue. Logged with the status before."""
    if status not in OUT_OF_STOCK:
        raise Refused(f"an item status is one of {', '.join(OUT_OF_STOCK)}", code="bad_status")
    it = catalogue.resolve(s, identifier)
    loan = loans.open_loan(s, it["id"])
    _where_staff_may(s, it, loan, actor)
    if it["status"] == status:
        raise Refused(f"the item is already {status}", code="already_marked")
    if loan and status == "withdrawn":
        raise Refused("the item is on loan: mark it lost first", code="item_on_loan")
    done: dict = {"barcode": it["barcode"], "status": status, "before": it["status"],
                  "loan": None, "patron": None, "charge": 0}
    with s.atomic():
        if loan:
            done |= _close_loan(s, it, loan, status, actor)
        _release(s, it)
        s.update("items", it["id"], {"status": status, "status_at": s.now().isoformat(),
                                     "status_note": note})
        audit.record(s, actor, "item.status", f"item:{it['barcode']}",
                     {"status": it["status"]}, {"status": status, "note": note,
                                                "loan": done["loan"], "charge": done["charge"]})
        s.title_changed(it["title_id"])
    return done


def _close_loan(s: Store, it: dict, loan: dict, status: str, actor: audit.Actor) -> dict:
    """Close the loan as `status` (no late fine, no more reminders) and charge if it says so."""
    s.update("loans", loan["id"], {"returned_at": s.now().isoformat(),
                                   "returned_branch": actor.branch_id, "closed_as": status})
    charge = replacement_charge(s, it["category"]) if status in CHARGED else 0
    if charge and loan["patron_id"] is not None:
        accounts.add_debt(s, loan["patron_id"], loan["branch_id"], "replacement", charge,
                          note=f"{it['barcode']} {status}", loan_id=loan["id"],
                          ref=f"replacement:{loan['id']}")
    return {"loan": loan["id"], "patron": loan["patron_id"], "charge": charge}


def _release(s: Store, it: dict) -> None:
    """A hold the copy was set aside or travelling for waits again; an inter-branch loan of
    it ends (the owning branch's copy is gone)."""
    s.db.execute("UPDATE holds SET state = 'waiting', item_id = NULL, ready_at = NULL,"
                   " pickup_by = NULL WHERE item_id = ? AND state IN ('in_transit', 'ready')",
                   [it["id"]])
    ib = interbranch.open_for_item(s, it["id"])
    if ib:
        s.update("ib_loans", ib["id"], {"state": "closed", "closed_at": s.now().isoformat()})


def found(s: Store, identifier: str, actor: audit.Actor) -> dict:
    """A copy out of stock is back at its home branch: a waiting hold gets it, else the
    shelf. A replacement already charged stays (staff may refund it as a payment edit)."""
    it = catalogue.resolve(s, identifier)
    _where_staff_may(s, it, None, actor)
    if it["status"] not in OUT_OF_STOCK:
        raise Refused("the item is in stock", code="item_in_stock")
    with s.atomic():
        s.update("items", it["id"], {"status_at": s.now().isoformat(), "status_note": None})
        route = routing.item_back(s, it, it["home_branch"])
        audit.record(s, actor, "item.status", f"item:{it['barcode']}",
                     {"status": it["status"]}, {"status": "available", "route": route["route"]})
        s.title_changed(it["title_id"])
    return {"barcode": it["barcode"], "before": it["status"]} | route


def listed(s: Store, branch: str, status: str | None = None) -> list[dict]:
    """The desk's list of a branch's copies out of stock (one status, or all), newest first,
    with the patron whose loan each closed."""
    if status is not None and status not in OUT_OF_STOCK:
        raise Refused(f"an item status is one of {', '.join(OUT_OF_STOCK)}", code="bad_status")
    s.branch(branch)
    marks = ", ".join("?" * len(OUT_OF_STOCK))
    return s.rows(
        "SELECT i.barcode, t.title, i.status, i.status_at, i.status_note, i.call_number,"
        " (SELECT l.patron_id FROM loans l WHERE l.item_id = i.id AND l.closed_as = i.status"
        "  ORDER BY l.id DESC LIMIT 1) AS patron FROM items i JOIN titles t ON t.id = i.title_id"
        f" WHERE i.home_branch = ? AND i.status IN ({marks}) AND (? IS NULL OR i.status = ?)"
        " ORDER BY i.status_at DESC, i.barcode", [branch, *OUT_OF_STOCK, status, status])
