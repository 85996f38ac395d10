"""Inter-branch loans (TextLib): a branch lends its copy to another branch for a named patron.

States: requested (set aside at home) → in_transit → at_branch (on the requesting branch's
hold shelf) → on_loan → returned (to send home) → closed (back home: the inter-branch return).
"""

from central.circulation import catalogue, holds, patrons, routing
from central.circulation.errors import NotFound, Refused
from central.circulation.stock import IN_STOCK_SQL
from central.circulation.store import Store

OPEN = ("requested", "in_transit", "at_branch", "on_loan", "returned")


def open_for_item(s: Store, item_id: int) -> dict | None:
    """The item's current inter-branch loan, if any."""
    return s.row("SELECT * FROM ib_loans WHERE item_id = ? AND state != 'closed'", [item_id])


def get(s: Store, ib_id: int) -> dict:
    """An inter-branch loan by id."""
    found = s.row("SELECT * FROM ib_loans WHERE id = ?", [ib_id])
    if found is None:
        raise NotFound(f"no inter-branch loan {ib_id}", code="ib_unknown")
    return found


def request(s: Store, patron_id: int, target: str | int, to_branch: str,
            from_branch: str | None = None) -> dict:
    """Ask other branches for a title for a patron: a free copy is set aside, else an
    inter-branch hold is queued at the branch with the copies."""
    p = patrons.patron(s, patron_id)
    holds.check_patron(s, p, to_branch)
    title_id = target if isinstance(target, int) else catalogue.resolve(s, target)["title_id"]
    limit = s.branch(to_branch)["ib_max_items"]
    if s.scalar("SELECT count(*) FROM ib_loans WHERE to_branch = ? AND state != 'closed'",
                [to_branch]) >= limit:
        raise Refused("the branch has reached its inter-branch loan limit", code="ib_limit")
    copies = s.rows(
        "SELECT i.*, t.title FROM items i JOIN titles t ON t.id = i.title_id"
        " WHERE i.title_id = ? AND i.home_branch != ? AND (? IS NULL OR i.home_branch = ?)"
        f" AND i.{IN_STOCK_SQL} ORDER BY i.home_branch, i.id",
        [title_id, to_branch, from_branch, from_branch])
    if not copies:
        raise Refused("no other branch has a copy", code="no_copies_elsewhere")
    if s.scalar("SELECT count(*) FROM ib_loans WHERE patron_id = ? AND state != 'closed'",
                [patron_id]) >= catalogue.rule(s, p["category"], copies[0]["category"])[
                    "ib_max_items"]:
        raise Refused("the patron has reached the inter-branch loan limit", code="ib_limit")
    with s.atomic():
        for it in copies:
            if it["status"] == "available" and it["at_branch"] == it["home_branch"]:
                return {"ib_loan": routing.set_aside_for(s, it, to_branch, patron_id),
                        "hold": None}
        home = copies[0]["home_branch"]
        found = holds.place(s, patron_id, title_id, home, for_branch=to_branch)
        return {"ib_loan": None, "hold": found["id"]}


def requests_for(s: Store, home_branch: str) -> list[dict]:
    """Copies the branch has set aside for other branches, to send."""
    return s.rows("SELECT b.*, i.barcode, i.call_number FROM ib_loans b JOIN items i"
                  " ON i.id = b.item_id WHERE b.home_branch = ? AND b.state = 'requested'"
                  " ORDER BY b.requested_at", [home_branch])


def lend(s: Store, ib_id: int) -> dict:
    """The owning branch lends the set-aside copy to the requesting branch (it goes in transit)."""
    found = get(s, ib_id)
    if found["state"] != "requested":
        raise Refused("the copy is not set aside for lending", code="ib_wrong_state")
    it = catalogue.item(s, found["item_id"])
    p = patrons.patron(s, found["patron_id"])
    days = catalogue.rule(s, p["category"], it["category"])["ib_loan_days"]
    due = s.calendar(found["to_branch"]).due_date(s.today(found["home_branch"]), days)
    with s.atomic():
        s.update("ib_loans", ib_id, {"state": "in_transit", "lent_at": s.now().isoformat(),
                                     "due": due.isoformat()})
        s.update("items", it["id"], {"status": "in_transit", "at_branch": found["to_branch"]})
        s.count(found["home_branch"], "ib_lent")
        s.title_changed(it["title_id"])
    return get(s, ib_id)


def returned(s: Store, found: dict, it: dict, branch: str) -> dict:
    """The patron returned an inter-branch copy where it was lent: send it home."""
    if branch != found["to_branch"]:
        raise Refused("an inter-branch loan can only be returned where it was lent",
                      code="ib_return_elsewhere")
    s.update("ib_loans", found["id"], {"state": "returned"})
    s.update("items", it["id"], {"status": "in_transit", "at_branch": found["home_branch"]})
    return {"route": "transit", "to": found["home_branch"], "warnings": ["send_home"]}


def search(s: Store, branch: str | None = None, current: bool = True,
           patron_id: int | None = None) -> list[dict]:
    """Inter-branch loans of a branch (lent or borrowed), current or historical."""
    return s.rows(
        "SELECT b.*, i.barcode, t.title FROM ib_loans b JOIN items i ON i.id = b.item_id"
        " JOIN titles t ON t.id = i.title_id WHERE (? IS NULL OR b.to_branch = ?"
        " OR b.home_branch = ?) AND (CASE WHEN b.state = 'closed' THEN 0 ELSE 1 END) = ?"
        " AND (? IS NULL OR b.patron_id = ?)"
        " ORDER BY b.requested_at", [branch, branch, branch, int(current), patron_id, patron_id])


def overdue(s: Store, branch: str | None = None) -> list[dict]:
    """Open inter-branch loans past their due date."""
    return [b for b in search(s, branch)
            if b["due"] and b["due"] < s.today(b["to_branch"]).isoformat()]
