"""Where a copy goes next: the hold shelf of a waiting hold, the branch an inter-branch hold
is for, home from an inter-branch loan, or back on its shelf (TextLib's routing)."""

from central.circulation import notices, patrons
from central.circulation.errors import Refused
from central.circulation.store import Store


def queue(s: Store, title_id: int, branch: str) -> list[dict]:
    """Waiting holds on a title at a branch, first in line first."""
    return s.rows("SELECT * FROM holds WHERE title_id = ? AND branch_id = ? AND state = 'waiting'"
                  " ORDER BY placed_at, id", [title_id, branch])


def set_aside(s: Store, found: dict, it: dict, branch: str) -> dict:
    """Put a copy on the hold shelf for the hold's patron and queue the hold notice; the pickup
    window starts now, when central makes the hold ready (never at a late return's date)."""
    today = s.today(branch)
    pickup_by = s.calendar(branch).open_days_after(today, s.settings.pickup_days)
    s.update("holds", found["id"], {"state": "ready", "item_id": it["id"],
                                    "ready_at": s.now().isoformat(),
                                    "pickup_by": pickup_by.isoformat()})
    s.update("items", it["id"], {"status": "on_hold_shelf", "at_branch": branch})
    p = patrons.patron(s, found["patron_id"])
    notices.queue(s, p, branch, "hold_ready", notices.fresh_key(s, f"hold_ready:{found['id']}"),
                  title=it["title"], barcode=it["barcode"], pickup_by=pickup_by.isoformat())
    return {"route": "hold_shelf", "to": branch, "hold_patron": found["patron_id"],
            "hold": found["id"], "pickup_by": pickup_by.isoformat()}


def set_aside_for(s: Store, it: dict, to_branch: str, patron_id: int) -> int:
    """Set a copy aside at home to lend to `to_branch` for a patron: a new inter-branch loan."""
    s.update("items", it["id"], {"status": "ib_requested"})
    return s.add("ib_loans", {"item_id": it["id"], "home_branch": it["home_branch"],
                                 "to_branch": to_branch, "patron_id": patron_id,
                                 "state": "requested", "requested_at": s.now().isoformat()})


def send_for_hold(s: Store, hold: dict, it: dict) -> dict:
    """A returned copy fills an inter-branch hold: set aside for the requesting branch."""
    ib_id = set_aside_for(s, it, hold["for_branch"], hold["patron_id"])
    s.update("holds", hold["id"], {"state": "fulfilled", "item_id": it["id"],
                                   "closed_at": s.now().isoformat()})
    return {"route": "ib_set_aside", "to": hold["for_branch"], "hold_patron": hold["patron_id"],
            "ib_loan": ib_id}


def item_back(s: Store, it: dict, branch: str) -> dict:
    """Where a copy that is free again at its home branch goes: a waiting hold, or the shelf."""
    for waiting in queue(s, it["title_id"], branch):
        if waiting["for_branch"]:
            return send_for_hold(s, waiting, it)
        return set_aside(s, waiting, it, branch)
    s.update("items", it["id"], {"status": "available", "at_branch": branch})
    return {"route": "reshelve", "to": branch}


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
        return item_back(s, it, branch)
    raise Refused("the copy is travelling to another branch", code="item_in_transit")
