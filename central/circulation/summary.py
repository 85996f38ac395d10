"""A patron's account as a kiosk or signpad shows it: loans with renewability, holds, debts."""

from central.circulation import accounts, holds, loans, patrons
from central.circulation.store import Store


def display_name(p: dict) -> str:
    """How a screen greets the patron: first name and surname initial, never more."""
    first = (p["first_name"] or "").strip()
    return f"{first} {p['surname'][:1]}." if first else p["surname"]


def _loans(s: Store, patron_id: int, branch: str) -> list[dict]:
    rows = s.rows(
        "SELECT l.*, i.barcode, i.category, i.home_branch, i.title_id, t.title, t.author"
        " FROM loans l JOIN items i ON i.id = l.item_id JOIN titles t ON t.id = l.title_id"
        " WHERE l.patron_id = ? AND l.returned_at IS NULL ORDER BY l.due, l.id", [patron_id])
    held = loans.titles_held(s, rows)
    p = patrons.patron(s, patron_id)
    out = []
    for loan in rows:
        refusal = ("item_other_branch" if loan["branch_id"] != branch else
                   loans.renewal_refusal(s, loan, p, loan,
                                         (loan["title_id"], loan["home_branch"]) in held))
        out.append({"id": loan["id"], "title": loan["title"], "author": loan["author"],
                    "barcode": loan["barcode"], "due": loan["due"], "branch": loan["branch_id"],
                    "renewals": loan["renewals"], "renewable": refusal is None,
                    "refusal": refusal})
    return out


def _holds(s: Store, patron_id: int) -> list[dict]:
    out = []
    for h in s.rows("SELECT h.*, t.title FROM holds h JOIN titles t ON t.id = h.title_id"
                    " WHERE h.patron_id = ? AND h.state IN ('waiting', 'in_transit', 'ready')"
                    " ORDER BY h.placed_at, h.id", [patron_id]):
        out.append({"id": h["id"], "title": h["title"], "state": h["state"],
                    "branch": h["for_branch"] or h["branch_id"], "pickup_by": h["pickup_by"],
                    "position": holds.position(s, h) if h["state"] == "waiting" else None})
    for b in s.rows("SELECT b.*, t.title FROM ib_loans b JOIN items i ON i.id = b.item_id"
                    " JOIN titles t ON t.id = i.title_id WHERE b.patron_id = ?"
                    " AND b.state IN ('requested', 'in_transit', 'at_branch')", [patron_id]):
        state = "ready" if b["state"] == "at_branch" else "in_transit"
        out.append({"id": f"ib{b['id']}", "title": b["title"], "state": state,
                    "branch": b["to_branch"], "pickup_by": None, "position": None})
    return out


def patron_facts(p: dict) -> dict:
    """What a device may show about a patron: a greeting, category, language, state."""
    return {"id": p["id"], "name": display_name(p), "category": p["category"],
            "language": p["language"], "valid_until": p["valid_until"],
            "blocked": bool(p["blocked"]), "staff": bool(p["is_staff"]),
            "needs_pin": bool(p["pin_hash"])}


def summary(s: Store, patron_id: int, branch: str) -> dict:
    """Everything the patron sees at a branch's device: debts of that branch to pay, and when
    the debt limit counts the whole network, what is owed elsewhere, to be paid there."""
    p = patrons.patron(s, patron_id)
    debts = [{"id": d["id"], "kind": d["kind"], "amount": d["open"], "note": d["note"] or ""}
             for d in accounts.debts(s, patron_id, branch)]
    return {
        "patron": patron_facts(p),
        "loans": _loans(s, patron_id, branch),
        "holds": _holds(s, patron_id),
        "debts": debts,
        "credit": accounts.credit(s, patron_id),
        "currency": s.settings.currency,
        "elsewhere": accounts.owed_elsewhere(s, patron_id, branch)
        if s.settings.debt_scope == "network" else [],
    }
