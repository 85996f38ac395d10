"""Holds: a queue per title and branch, placing, cancelling and expiry; where the copy then
goes is `routing`.

As in TextLib a hold belongs to the branch that registered it and only that branch's own
copies can fill it; an inter-branch hold (`for_branch`) is filled by sending the copy there.
"""

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from central.circulation import accounts, catalogue, patrons, routing
from central.circulation.errors import NotFound, Refused
from central.circulation.stock import IN_STOCK_SQL
from central.circulation.store import Store

ACTIVE = ("waiting", "in_transit", "ready")


def position(s: Store, hold: dict) -> int:
    """1-based place of a waiting hold in its queue."""
    return 1 + s.scalar(
        "SELECT count(*) FROM holds WHERE title_id = ? AND branch_id = ? AND state = 'waiting'"
        " AND (placed_at < ? OR (placed_at = ? AND id < ?))",
        [hold["title_id"], hold["branch_id"], hold["placed_at"], hold["placed_at"], hold["id"]])


def patron_refusals(s: Store, p: dict, branch: str, at: datetime | None = None) -> list[str]:
    """Every reason the patron may not borrow now, or at `at` (unfinished, blocked, expired,
    in debt)."""
    st = s.settings
    reasons = []
    if p["status"] != "active":
        reasons.append("registration_incomplete")
    if st.check_blocked and p["blocked"]:
        reasons.append("patron_blocked")
    if st.check_membership and p["valid_until"] and \
            p["valid_until"] < s.today(branch, at).isoformat():
        reasons.append("membership_expired")
    scope = branch if st.debt_scope == "branch" else None
    if st.debt_limit is not None and accounts.owed(s, p["id"], scope) > st.debt_limit:
        reasons.append("debt_over_limit")
    return reasons


def check_patron(s: Store, p: dict, branch: str,
                 overrides: Collection[str] = frozenset(), at: datetime | None = None) -> None:
    """Refuse a patron who may not borrow now (or at `at`), unless staff passed that check."""
    for code in patron_refusals(s, p, branch, at):
        if code not in overrides:
            raise Refused(f"the patron may not borrow: {code}", code=code)


def _title_of(s: Store, target: str | int, branch: str) -> int:
    if isinstance(target, int):
        if not s.scalar("SELECT 1 FROM titles WHERE id = ?", [target]):
            raise NotFound(f"no title {target}", code="title_unknown")
        return target
    it = catalogue.resolve(s, target)
    if s.scalar("SELECT 1 FROM ib_loans WHERE item_id = ? AND to_branch = ? AND state != 'closed'",
                [it["id"], branch]):
        raise Refused("holds cannot be placed on an inter-branch loan", code="ib_item_no_holds")
    return it["title_id"]


def place(s: Store, patron_id: int, target: str | int, branch: str,
          for_branch: str | None = None) -> dict:
    """Place a hold on a title (by title id or any copy's identifier) at a branch."""
    p = patrons.patron(s, patron_id)
    check_patron(s, p, branch)
    title_id = _title_of(s, target, branch)
    copies = s.rows("SELECT id, category, status, at_branch FROM items WHERE title_id = ?"
                    f" AND home_branch = ? AND {IN_STOCK_SQL}",
                    [title_id, branch])
    if not copies:
        raise Refused("this branch has no copy of the title", code="no_copies_at_branch")
    if not any(catalogue.rule(s, p["category"], c["category"])["hold_allowed"]
               and not catalogue.item_category(s, c["category"])["in_library_only"]
               for c in copies):
        raise Refused("holds are not allowed on this title", code="hold_not_allowed")
    if s.scalar("SELECT 1 FROM holds WHERE patron_id = ? AND title_id = ? AND state IN"
                " ('waiting', 'in_transit', 'ready')", [patron_id, title_id]):
        raise Refused("the patron already has a hold on this title", code="already_held")
    if s.scalar("SELECT 1 FROM loans WHERE patron_id = ? AND title_id = ? AND returned_at IS NULL",
                [patron_id, title_id]):
        raise Refused("the patron has this title on loan", code="already_on_loan")
    if for_branch is None and any(c["status"] == "available" and c["at_branch"] == branch
                                  for c in copies):
        raise Refused("a copy is on the shelf", code="copy_available")
    now = s.now()
    today = s.today(branch)
    with s.atomic():
        hold_id = s.add("holds", {
            "title_id": title_id, "patron_id": patron_id, "branch_id": branch,
            "for_branch": for_branch, "placed_at": now.isoformat(), "state": "waiting",
            "expires": (today + timedelta(days=s.settings.hold_expiry_days)).isoformat()})
        s.count(branch, "holds")
        s.title_changed(title_id)
    return hold(s, hold_id)


def hold(s: Store, hold_id: int) -> dict:
    """A hold with its position when waiting."""
    found = s.row("SELECT * FROM holds WHERE id = ?", [hold_id])
    if found is None:
        raise NotFound(f"no hold {hold_id}", code="hold_unknown")
    found["position"] = position(s, found) if found["state"] == "waiting" else None
    return found


def cancel(s: Store, hold_id: int, patron_id: int | None = None) -> dict | None:
    """Cancel an active hold; a set-aside copy goes to the next in line. Returns its routing."""
    found = hold(s, hold_id)
    if patron_id is not None and found["patron_id"] != patron_id:
        raise NotFound(f"no hold {hold_id}", code="hold_unknown")
    if found["state"] not in ACTIVE:
        raise Refused("the hold is no longer active", code="hold_closed")
    with s.atomic():
        _close(s, found, "cancelled")
        routed = None
        if found["state"] == "ready":
            routed = routing.item_back(s, catalogue.item(s, found["item_id"]), found["branch_id"])
        s.title_changed(found["title_id"])
    return routed


def _close(s: Store, found: dict, state: str) -> None:
    s.update("holds", found["id"], {"state": state, "closed_at": s.now().isoformat()})


def shelf(s: Store, branch: str) -> list[dict]:
    """The set-aside list of a branch: copies waiting for pickup, by pickup deadline."""
    return s.rows(
        "SELECT h.id AS hold, h.patron_id, h.pickup_by, i.barcode, i.call_number, t.title,"
        " p.surname, p.first_name FROM holds h JOIN items i ON i.id = h.item_id"
        " JOIN titles t ON t.id = h.title_id JOIN patrons p ON p.id = h.patron_id"
        " WHERE h.state = 'ready' AND h.branch_id = ? ORDER BY h.pickup_by, p.surname",
        [branch])


def purge_expired(s: Store) -> dict:
    """Library-wide: expire uncollected set-aside holds and stale waiting ones; route the copies."""
    expired: dict[str, Any] = {"ready": 0, "waiting": 0, "routes": []}
    changed: set[int] = set()
    with s.atomic():
        for found in s.rows("SELECT * FROM holds WHERE state IN ('ready', 'waiting')"):
            today = s.today(found["branch_id"]).isoformat()
            if found["state"] == "ready" and found["pickup_by"] < today:
                _close(s, found, "expired")
                route = routing.item_back(s, catalogue.item(s, found["item_id"]),
                                          found["branch_id"])
                expired["routes"].append({"hold": found["id"], **route})
                expired["ready"] += 1
            elif found["state"] == "waiting" and found["expires"] < today:
                _close(s, found, "expired")
                expired["waiting"] += 1
            else:
                continue
            changed.add(found["title_id"])
        for title_id in changed:
            s.title_changed(title_id)
    return expired


def fulfil(s: Store, patron_id: int, it: dict, branch: str) -> None:
    """Close the borrower's own hold that this checkout satisfies, if any."""
    mine = s.row("SELECT * FROM holds WHERE patron_id = ? AND title_id = ? AND state IN"
                 " ('waiting', 'ready') AND branch_id = ? ORDER BY state = 'ready' DESC LIMIT 1",
                 [patron_id, it["title_id"], branch])
    if mine:
        _close(s, mine, "fulfilled")
