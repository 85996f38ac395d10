"""Checkout, return and renewal with every check of the Verbis manual and TextLib's branch rules."""

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from central.circulation import (
    audit,
    backdating,
    branches,
    catalogue,
    holds,
    interbranch,
    patrons,
    routing,
)
from central.circulation.errors import CirculationError, NotFound, Refused
from central.circulation.settings import Switch
from central.circulation.stock import OUT_OF_STOCK
from central.circulation.store import Store

CHECKED_IN_SINCE = "checked_in_since"   # the route of a return the desk took in after it happened
OVERRIDABLE = frozenset({"in_library_only", "reserved_for_other", "same_title_now",
                         "same_title_before", "loan_limit", "debt_over_limit", "form_unsigned"})


def open_loan(s: Store, item_id: int) -> dict | None:
    """The item's open loan, if it is out."""
    return s.row("SELECT * FROM loans WHERE item_id = ? AND returned_at IS NULL", [item_id])


def _switch(mode: Switch, hit: bool, code: str, overrides: Collection[str],
            warnings: list[str]) -> None:
    if not hit or mode == "off":
        return
    if mode == "block" and code not in overrides:
        raise Refused(f"check {code} refused the loan", code=code)
    warnings.append(code)


def _unknown_item(s: Store, identifier: str, branch: str, title: str | None) -> dict:
    mode = s.settings.unknown_item
    if mode == "error":
        raise NotFound(f"no item {identifier!r}", code="item_unknown")
    category = s.scalar("SELECT code FROM item_categories WHERE in_library_only = 0"
                        " ORDER BY code = 'book' DESC, code LIMIT 1")
    title_id = catalogue.add_title(s, title or f"[{identifier}]", quick=mode == "quick")
    item_id = catalogue.add_item(s, identifier, title_id, category, branch,
                                 generic=mode == "generic")
    return catalogue.item(s, item_id)


def _item_checks(s: Store, p: dict, it: dict, branch: str, overrides: Collection[str],
                 warnings: list[str], when: datetime) -> dict | None:
    """Refuse an item this patron may not take here at `when` (a loan that was open then, or
    started since, is never touched); return its inter-branch loan, if any."""
    if backdating.lent_since(s, it["id"], when):
        raise Refused("the item was lent again after this loan", code="lent_since")
    loan = backdating.loan_at(s, it["id"], when) or open_loan(s, it["id"])
    if loan:
        code = "already_borrowed" if loan["patron_id"] == p["id"] else "item_on_loan"
        raise Refused("the item is on loan", code=code)
    if it["status"] in OUT_OF_STOCK:
        raise Refused("the item cannot be lent", code="item_unavailable")
    ib = interbranch.open_for_item(s, it["id"])
    if ib and ib["to_branch"] == branch and ib["state"] == "at_branch":
        if ib["patron_id"] != p["id"]:
            raise Refused("this inter-branch copy is for another patron", code="ib_other_patron")
        return ib
    if ib and ib["state"] == "requested" and branch == it["home_branch"]:
        raise Refused("the copy is set aside for another branch", code="reserved_for_other")
    if it["home_branch"] != branch:
        raise Refused("the item belongs to another branch's collection",
                      code="item_other_branch")
    if it["status"] == "in_transit" or it["at_branch"] != branch:
        raise Refused("the item is in transit", code="item_in_transit")
    ready = s.row("SELECT * FROM holds WHERE item_id = ? AND state IN ('in_transit', 'ready')"
                  " AND state = 'ready'", [it["id"]])
    if ready and ready["patron_id"] != p["id"]:
        if "reserved_for_other" not in overrides:
            raise Refused("the item is set aside for another patron", code="reserved_for_other")
        s.update("holds", ready["id"], {"state": "waiting", "item_id": None, "ready_at": None,
                                        "pickup_by": None})
        warnings.append("reserved_for_other")
    return None


def _limits(s: Store, p: dict, it: dict, rule: dict, overrides: Collection[str],
            warnings: list[str]) -> None:
    st = s.settings
    if st.check_may_borrow and not rule["may_borrow"]:
        raise Refused("this patron category may not borrow this kind of item",
                      code="category_not_allowed")
    if catalogue.item_category(s, it["category"])["in_library_only"]:
        if "in_library_only" not in overrides:
            raise Refused("for use in the library only", code="in_library_only")
        warnings.append("in_library_only")
    if st.check_rules and "loan_limit" not in overrides:
        total, same_cat = s.db.execute(
            "SELECT count(*), count(*) FILTER (WHERE i.category = ?) FROM loans l JOIN items i"
            " ON i.id = l.item_id WHERE l.patron_id = ? AND l.returned_at IS NULL",
            [it["category"], p["id"]]).fetchone()
        if total >= catalogue.patron_category(s, p["category"])["max_items"] \
                or same_cat >= rule["max_items"]:
            raise Refused("the patron has reached the loan limit", code="loan_limit")
    now = s.scalar("SELECT 1 FROM loans WHERE patron_id = ? AND title_id = ?"
                   " AND returned_at IS NULL", [p["id"], it["title_id"]])
    _switch(st.same_title_now, bool(now), "same_title_now", overrides, warnings)
    if st.same_title_before != "off" and not now:
        before = s.scalar("SELECT 1 FROM loans WHERE patron_id = ? AND title_id = ?",
                          [p["id"], it["title_id"]])
        _switch(st.same_title_before, bool(before), "same_title_before", overrides, warnings)


def checkout(s: Store, patron_id: int, identifier: str, branch: str, *,
             overrides: frozenset[str] = frozenset(), title: str | None = None,
             actor: audit.Actor | None = None, at: datetime | None = None) -> dict:
    """Lend an item to a patron at a branch; refusals raise with a stable code.

    `overrides` are checks a member of staff (the actor, working at the branch) chose to
    pass, never for devices; they are kept on the loan with who passed them and in the audit.
    `at` dates a loan made earlier (a kiosk's, offline): it is checked against the state at
    that moment and refused (`item_on_loan`, `lent_since`) where the copy was on loan then
    or lent again since; its due date counts from then.
    """
    when = s.now() if at is None else at
    p = patrons.patron(s, patron_id)
    if overrides:
        if actor is None:
            raise Refused("passing a check needs a member of staff", code="staff_required")
        if not actor.device:
            branches.require_role(s, actor.staff_id, branch, *branches.ROLES)
    warnings: list[str] = []
    with s.atomic():
        holds.check_patron(s, p, branch, overrides, at=when)
        _switch(s.settings.unsigned_form, p["status"] == "active" and not p["form_signed"],
                "form_unsigned", overrides, warnings)
        try:
            it = catalogue.resolve(s, identifier)
        except NotFound:
            it = _unknown_item(s, identifier, branch, title)
            warnings.append("quick_catalogued" if it["generic"] == 0 else "generic_item")
        ib = _item_checks(s, p, it, branch, overrides, warnings, when)
        rule = catalogue.rule(s, p["category"], it["category"])
        _limits(s, p, it, rule, overrides, warnings)
        if it["attachments"]:
            warnings.append("attachments")
        due = s.calendar(branch).due_date(s.today(branch, when),
                                          rule["ib_loan_days" if ib else "loan_days"])
        loan_id = s.add("loans", {
            "item_id": it["id"], "patron_id": p["id"], "title_id": it["title_id"],
            "branch_id": branch, "out_at": backdating.utc(when), "due": due.isoformat(),
            "ib_loan_id": ib["id"] if ib else None,
            "overrides": ",".join(sorted(overrides)) or None,
            "override_by": actor.staff_id if overrides and actor else None})
        if overrides and actor:
            audit.record(s, actor, "loan.override",
                         f"loan:{loan_id}", None, {"overrides": sorted(overrides),
                                                   "patron": p["id"], "item": it["barcode"]})
        s.update("items", it["id"], {"status": "on_loan"})
        holds.fulfil(s, p["id"], it, branch)
        if ib:     # the owning branch expects its copy back when the patron does
            s.update("ib_loans", ib["id"], {"state": "on_loan", "due": due.isoformat()})
        s.count(branch, "loans", at=when)
        s.title_changed(it["title_id"])
    return {"loan": loan_id, "barcode": it["barcode"], "title": it["title"],
            "author": it["author"], "due": due.isoformat(), "warnings": warnings,
            "attachments": it["attachments"]}


def fine_for(rule: dict, due: date, returned: date) -> int:
    """The late-return fine: per day late, capped (0 = no cap)."""
    days = (returned - due).days
    if days <= 0 or not rule["fine_per_day"]:
        return 0
    fine = days * rule["fine_per_day"]
    return min(fine, rule["fine_cap"]) if rule["fine_cap"] else fine


def checkin(s: Store, identifier: str, branch: str, *, patron_id: int | None = None,
            unattended: bool = False, at: datetime | None = None,
            actor: audit.Actor | None = None) -> dict:
    """Take an item back at a branch: close the loan, charge a late fine, route the copy.

    `unattended` (a return box): an in-library-use-only item is refused (`in_library_only`),
    to be handed to staff rather than checked in by a machine. The result carries what bin
    rules route by: the item's category, call number and home branch.

    `at` dates a return that happened earlier (a return box's, applied late): it closes the
    loan that was open then, fined to that moment, and never one that started after it. Where
    the world moved on (the desk checked the copy in since, a reminder fee was charged since),
    the return is applied as a librarian would and the result's `late` says what was changed,
    for a staff alert; `actor` (default: central at the branch) is named in the audit log.
    """
    when = s.now() if at is None else at
    actor = actor or audit.Actor("central", branch, device=True)
    it = catalogue.resolve(s, identifier)
    if unattended and catalogue.item_category(s, it["category"])["in_library_only"]:
        raise Refused("for use in the library only: hand it to staff",
                      code="in_library_only")
    base = {"barcode": it["barcode"], "title": it["title"], "attachments": it["attachments"],
            "fine": 0, "patron": None, "category": it["category"],
            "call_number": it["call_number"] or "", "home": it["home_branch"]}
    with s.atomic():
        loan = backdating.loan_at(s, it["id"], when)
        if loan is None and backdating.lent_since(s, it["id"], when):
            raise Refused("the item was lent again after this return", code="lent_since")
        if loan is not None and loan["returned_at"] is not None:
            fine = _fine(s, loan, it, s.today(branch, when))
            late = backdating.backdate(s, loan, when, branch, fine, actor)
            return base | {"route": CHECKED_IN_SINCE, "to": "", "patron": loan["patron_id"],
                           "fine": fine, "warnings": [], "late": [late]}
        ib = interbranch.open_for_item(s, it["id"])
        if loan is None:
            arrived = base | _arrival(s, it, ib, branch)
            s.title_changed(it["title_id"])
            return arrived
        if ib:
            route = interbranch.returned(s, ib, it, branch)
        elif it["home_branch"] != branch:
            if s.settings.other_branch_returns == "refuse":
                raise Refused("the item belongs to another branch's collection",
                              code="item_other_branch")
            s.update("items", it["id"], {"status": "in_transit", "at_branch": it["home_branch"]})
            route = {"route": "transit", "to": it["home_branch"]}
        else:
            route = None
        today = s.today(branch, when)
        s.update("loans", loan["id"], {"returned_at": backdating.utc(when),
                                       "returned_branch": branch})
        fine = _fine(s, loan, it, today)
        if fine:
            s.insert("debts", {"patron_id": loan["patron_id"], "branch_id": loan["branch_id"],
                               "kind": "fine", "amount": fine, "loan_id": loan["id"],
                               "created_at": s.now().isoformat(),
                               "note": f"{it['barcode']} due {loan['due']}"})
            s.patron_changed(loan["patron_id"])
        reversed_ = backdating.charges_to(s, loan, when, fine, actor)
        route = route or routing.item_back(s, it, branch)
        s.count(branch, "returns", at=when)
        s.title_changed(it["title_id"])
    warnings = list(route.pop("warnings", []))
    if patron_id is not None and patron_id != loan["patron_id"]:
        warnings.append("returned_by_other")
    if it["attachments"]:
        warnings.append("attachments")
    if route["route"] == "hold_shelf":
        warnings.append("hold_waiting")
    late = {"late": [{"code": "fees_reversed", "loan": loan["id"], "patron": loan["patron_id"],
                      "returned_at": backdating.utc(when), "debts": reversed_}]} \
        if reversed_ else {}
    due = s.calendar(loan["branch_id"]).fined_from(date.fromisoformat(loan["due"]), today)
    return base | route | late | {
        "fine": fine, "patron": loan["patron_id"], "warnings": warnings,
        "late_days": max(0, (today - due).days)}


def _fine(s: Store, loan: dict, it: dict, returned: date) -> int:
    """The late fine of a loan returned on `returned`, by its patron's rule, counted from the
    first open day on or after its due date in the calendar of that day (none for a loan whose
    patron was anonymised)."""
    if loan["patron_id"] is None:
        return 0
    p = patrons.patron(s, loan["patron_id"])
    due = s.calendar(loan["branch_id"]).fined_from(date.fromisoformat(loan["due"]), returned)
    return fine_for(catalogue.rule(s, p["category"], it["category"]), due, returned)


def _arrival(s: Store, it: dict, ib: dict | None, branch: str) -> dict:
    if it["status"] != "in_transit":
        raise Refused("the item is not on loan", code="not_on_loan")
    if it["at_branch"] != branch:     # passing through: routed on, nothing changes
        return {"route": "transit", "to": it["at_branch"], "warnings": ["item_in_transit"]}
    route = routing.arrive(s, ib, it, branch) if ib else routing.item_back(s, it, branch)
    return route | {"warnings": ["hold_waiting"] if route["route"] == "hold_shelf" else []}


def renewed_due(s: Store, loan: dict, rule: dict, days: int | None = None) -> date:
    """The due date a renewal would give: a new period from today, or `days` later."""
    cal = s.calendar(loan["branch_id"])
    if days is not None:
        return cal.next_open(date.fromisoformat(loan["due"]) + timedelta(days=days))
    return cal.due_date(s.today(loan["branch_id"]),
                        rule["ib_loan_days" if loan["ib_loan_id"] else "loan_days"])


def renewal_refusal(s: Store, loan: dict, p: dict, it: dict, held: bool,
                    days: int | None = None) -> str | None:
    """Why a loan cannot be renewed now (None: it can), the due date included: a renewal that
    would not move it later is refused, as the account shows it."""
    st = s.settings
    if st.check_blocked and p["blocked"]:
        return "patron_blocked"
    if st.check_membership and p["valid_until"] and \
            p["valid_until"] < s.today(loan["branch_id"]).isoformat():
        return "membership_expired"
    if loan["renewals"] >= catalogue.rule(s, p["category"], it["category"])["max_renewals"]:
        return "renewal_limit"
    if held:
        return "hold_waiting"
    try:
        due = renewed_due(s, loan, catalogue.rule(s, p["category"], it["category"]), days)
    except Refused as exc:                          # e.g. the branch has no open day ahead
        return exc.code
    if due <= date.fromisoformat(loan["due"]):     # a new period from today: not yet later
        return "not_extended"
    return None


def titles_held(s: Store, loans: list[dict]) -> set[tuple[int, str]]:
    """(title, home branch) pairs among these loans that have someone waiting."""
    if not loans:
        return set()
    ids = sorted({loan["title_id"] for loan in loans})
    marks = ",".join("?" * len(ids))
    return set(s.db.execute(
        f"SELECT DISTINCT title_id, branch_id FROM holds WHERE state = 'waiting'"
        f" AND title_id IN ({marks})", ids).fetchall())


def renew(s: Store, loan_id: int, *, patron_id: int | None = None,
          at: Collection[str] | None = None, days: int | None = None,
          actor: audit.Actor | None = None) -> dict:
    """Renew one loan (or move its due date by `days`) — only at the branch that lent it, when
    `at` says where the renewal is asked (TextLib); refusals raise with a reason code. An
    `actor` (a kiosk) is named in the audit log with the due date before and after; a staff
    command is logged as a whole by the CLI."""
    if days is not None and days < 1:
        raise Refused("a renewal moves the due date at least a day later", code="bad_days")
    loan = s.row("SELECT * FROM loans WHERE id = ? AND returned_at IS NULL", [loan_id])
    if loan is None or (patron_id is not None and loan["patron_id"] != patron_id):
        raise NotFound(f"no open loan {loan_id}", code="loan_unknown")
    it = catalogue.item(s, loan["item_id"])
    if at is not None and loan["branch_id"] not in at:
        raise Refused("the item belongs to another branch's collection",
                      code="item_other_branch")
    p = patrons.patron(s, loan["patron_id"])
    held = (it["title_id"], it["home_branch"]) in titles_held(s, [loan])
    if code := renewal_refusal(s, loan, p, it, held, days):
        said = f"already due {loan['due']}" if code == "not_extended" else code
        raise Refused(f"renewal refused: {said}", code=code)
    due = renewed_due(s, loan, catalogue.rule(s, p["category"], it["category"]), days)
    with s.atomic():
        s.update("loans", loan_id, {"due": due.isoformat(), "renewals": loan["renewals"] + 1})
        if loan["ib_loan_id"]:   # the owning branch expects its copy back when the patron does
            s.update("ib_loans", loan["ib_loan_id"], {"due": due.isoformat()})
        s.count(loan["branch_id"], "renewals")
        if actor is not None:
            audit.record(s, actor, "loan.renew", f"patron:{loan['patron_id']}",
                         {"loan": loan_id, "due": loan["due"]},
                         {"loan": loan_id, "due": due.isoformat()})
    return {"loan": loan_id, "ok": True, "due": due.isoformat(), "title": it["title"],
            "barcode": it["barcode"], "refusal": None}


def _open_loans(s: Store, patron_id: int) -> list[dict]:
    return s.rows("SELECT l.id, l.branch_id, t.title FROM loans l JOIN titles t"
                  " ON t.id = l.title_id WHERE l.patron_id = ? AND l.returned_at IS NULL"
                  " ORDER BY l.due, l.id", [patron_id])


def _outcome(s: Store, loan_id: int, title: str, **how: Any) -> dict:
    """A renewal's outcome: renewed, or refused with its code (and the title either way)."""
    try:
        return renew(s, loan_id, **how)
    except CirculationError as exc:
        return {"loan": loan_id, "ok": False, "due": None, "title": title, "refusal": exc.code}


def renew_all(s: Store, patron_id: int, *, branches: list[str] | None = None,
              days: int | None = None, actor: audit.Actor | None = None) -> list[dict]:
    """Renew every open loan of a patron (optionally only those of chosen branches, by N days)."""
    patrons.patron(s, patron_id)
    return [_outcome(s, loan["id"], loan["title"], days=days, actor=actor)
            for loan in _open_loans(s, patron_id)
            if branches is None or loan["branch_id"] in branches]


def renew_chosen(s: Store, patron_id: int, loan_ids: list[int], *,
                 at: Collection[str] | None = None,
                 actor: audit.Actor | None = None) -> list[dict]:
    """Renew chosen loans of a patron, each with its outcome (another's loan: loan_unknown)."""
    titles = {loan["id"]: loan["title"] for loan in _open_loans(s, patron_id)}
    return [_outcome(s, i, titles.get(i, ""), patron_id=patron_id, at=at, actor=actor)
            for i in dict.fromkeys(loan_ids)]
