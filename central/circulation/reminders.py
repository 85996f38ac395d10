"""Overdue reminders in levels with fees, due-date warnings, and membership expiry charges.

Every run is safe to repeat: each notice has a unique key and each fee a unique debt ref, so a
second run (the same day, or after a crash) finds them and adds nothing. A loan that is late
enough for several levels at once gets every level's notice and fee it has not had, in order,
as the library would have sent them had the job run daily.
"""

from datetime import date, timedelta

from central.circulation import accounts, notices, patrons
from central.circulation.store import Store


def _overdue(s: Store, branch: str | None) -> list[dict]:
    return s.rows(
        "SELECT l.id, l.patron_id, l.branch_id, l.due, i.barcode, t.title FROM loans l"
        " JOIN items i ON i.id = l.item_id JOIN titles t ON t.id = l.title_id"
        " WHERE l.returned_at IS NULL AND l.patron_id IS NOT NULL"
        " AND (? IS NULL OR l.branch_id = ?) ORDER BY l.branch_id, l.patron_id, l.due",
        [branch, branch])


def run(s: Store, branch: str | None = None) -> dict:
    """Queue overdue notices (per branch) and charge their fees; return what was new."""
    levels = s.settings.reminders
    report = {"notices": 0, "fees": 0, "amount": 0}
    with s.atomic():
        for loan in _overdue(s, branch):
            today = s.today(loan["branch_id"])
            late = (today - s.calendar(loan["branch_id"]).fined_from(
                date.fromisoformat(loan["due"]), today)).days
            reached = [n for n, lv in enumerate(levels, 1) if late >= lv.after_days]
            if not reached:
                continue
            p = patrons.patron(s, loan["patron_id"])
            for n in reached:
                if notices.queue(s, p, loan["branch_id"], "overdue", f"overdue:{loan['id']}:{n}",
                                 level=n, title=loan["title"], barcode=loan["barcode"],
                                 due=loan["due"], days_late=late):
                    report["notices"] += 1
                fee = levels[n - 1].fee
                ref = f"reminder:{loan['id']}:{n}"
                if fee and not s.scalar("SELECT 1 FROM debts WHERE ref = ?", [ref]):
                    accounts.add_debt(s, p["id"], loan["branch_id"], "reminder", fee,
                                      note=f"reminder {n}: {loan['barcode']}",
                                      loan_id=loan["id"], ref=ref)
                    report["fees"] += 1
                    report["amount"] += fee
    return report


def due_warnings(s: Store, branch: str | None = None) -> int:
    """Queue a warning for loans due within the warning period (once per loan and due date)."""
    ahead = s.settings.due_warning_days
    queued = 0
    with s.atomic():
        for loan in s.rows(
                "SELECT l.id, l.patron_id, l.branch_id, l.due, t.title FROM loans l"
                " JOIN titles t ON t.id = l.title_id WHERE l.returned_at IS NULL"
                " AND l.patron_id IS NOT NULL AND (? IS NULL OR l.branch_id = ?)",
                [branch, branch]):
            today = s.today(loan["branch_id"])
            if not today <= date.fromisoformat(loan["due"]) <= today + timedelta(days=ahead):
                continue
            p = patrons.patron(s, loan["patron_id"])
            queued += notices.queue(s, p, loan["branch_id"], "due_soon",
                                    f"due_soon:{loan['id']}:{loan['due']}",
                                    title=loan["title"], due=loan["due"])
    return queued


def memberships(s: Store, branch: str | None = None) -> int:
    """Charge the category fee once when a membership expires (Verbis: expiry creates a debt),
    at the patron's home branch (all branches, or only `branch`)."""
    charged = 0
    with s.atomic():
        for p in s.rows("SELECT p.*, c.fee, coalesce(p.home_branch, (SELECT min(id) FROM"
                        " branches)) AS charged_at FROM patrons p JOIN patron_categories c"
                        " ON c.code = p.category WHERE p.status = 'active'"
                        " AND p.valid_until IS NOT NULL AND c.fee > 0 AND (? IS NULL OR"
                        " coalesce(p.home_branch, (SELECT min(id) FROM branches)) = ?)",
                        [branch, branch]):
            branch_id = p["charged_at"]
            if p["valid_until"] >= s.today(branch_id).isoformat():
                continue
            ref = f"membership:{p['id']}:{p['valid_until']}"
            if s.scalar("SELECT 1 FROM debts WHERE ref = ?", [ref]):
                continue
            accounts.add_debt(s, p["id"], branch_id, "membership", p["fee"],
                              note=f"membership expired {p['valid_until']}", ref=ref)
            notices.queue(s, p, branch_id, "membership", ref, valid_until=p["valid_until"],
                          fee=p["fee"])
            charged += 1
    return charged
