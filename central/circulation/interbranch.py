"""Inter-branch loans (TextLib): a branch lends its copy to another branch for a named patron.

States: requested (set aside at home) → in_transit → at_branch (on the requesting branch's
hold shelf) → on_loan → returned (to send home) → closed (back home: the inter-branch return).
"""

from central.circulation import catalogue, holds, notices, patrons
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
                return {"ib_loan": _set_aside(s, it, to_branch, patron_id), "hold": None}
        home = copies[0]["home_branch"]
        found = holds.place(s, patron_id, title_id, home, for_branch=to_branch)
        return {"ib_loan": None, "hold": found["id"]}


def _set_aside(s: Store, it: dict, to_branch: str, patron_id: int) -> int:
    s.update("items", it["id"], {"status": "ib_requested"})
    return s.insert("ib_loans", {"item_id": it["id"], "home_branch": it["home_branch"],
                                 "to_branch": to_branch, "patron_id": patron_id,
                                 "state": "requested", "requested_at": s.now().isoformat()})


def send_for_hold(s: Store, hold: dict, it: dict) -> dict:
    """A returned copy fills an inter-branch hold: set aside for the requesting branch."""
    ib_id = _set_aside(s, it, hold["for_branch"], hold["patron_id"])
    s.update("holds", hold["id"], {"state": "fulfilled", "item_id": it["id"],
                                   "closed_at": s.now().isoformat()})
    return {"route": "ib_set_aside", "to": hold["for_branch"], "hold_patron": hold["patron_id"],
            "ib_loan": ib_id}


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


def arrive(s: Store, found: dict, it: dict, branch: str) -> dict:
    """A copy in transit for an inter-branch loan reached `branch`; where it goes now."""
    if found["state"] == "in_transit" and branch == found["to_branch"]:
        s.update("ib_loans", found["id"], {"state": "at_branch"})
        s.update("items", it["id"], {"status": "on_hold_shelf", "at_branch": branch})
        notices.queue(s, patrons.patron(s, found["patron_id"]), branch, "hold_ready",
                      f"ib_ready:{found['id']}", title=it["title"], barcode=it["barcode"])
        return {"route": "hold_shelf", "to": branch, "hold_patron": found["patron_id"],
                "ib_loan": found["id"]}
    if found["state"] == "returned" and branch == found["home_branch"]:
        s.update("ib_loans", found["id"], {"state": "closed", "closed_at": s.now().isoformat()})
        s.count(branch, "ib_returned")
        return holds.item_back(s, it, branch)
    raise Refused("the copy is travelling to another branch", code="item_in_transit")


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
        " OR b.home_branch = ?) AND (b.state != 'closed') = ? AND (? IS NULL OR b.patron_id = ?)"
        " ORDER BY b.requested_at", [branch, branch, branch, int(current), patron_id, patron_id])


def overdue(s: Store, branch: str | None = None) -> list[dict]:
    """Open inter-branch loans past their due date."""
    return [b for b in search(s, branch)
            if b["due"] and b["due"] < s.today(b["to_branch"]).isoformat()]
