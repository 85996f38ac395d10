"""The lines the screens list (loans, holds, fees, what was borrowed now), translated; no Kivy."""

from datetime import date

from kiosk.i18n import Translator
from kiosk.models import Account, Borrowed, Hold, Loan
from kiosk.texts import LABELS


def loan_row(tr: Translator, loan: Loan, today: date) -> dict:
    """A loan with its due date (or since when it is overdue) and whether it can be renewed."""
    detail = tr.label("due" if loan.due >= today else "overdue", date=loan.due)
    if not loan.renewable:
        detail += f" · {tr.label('not_renewable')}"
    return {"id": loan.id, "title": loan.title, "detail": detail, "selectable": loan.renewable,
            "level": "" if loan.due >= today else "bad"}


def hold_detail(tr: Translator, hold: Hold) -> str:
    """Ready (until when), waiting (at which place) or on the way."""
    if hold.state == "ready":
        return tr.label("pickup_by", date=hold.pickup_by)
    if hold.state == "waiting":
        pos = tr.label("position", position=hold.position) if hold.position else ""
        return f"{tr.label('holds_waiting')} {pos}".strip()
    return tr.label("holds_transit")


def account_rows(tr: Translator, account: Account | None, today: date) -> dict[str, list]:
    """The account screen's three lists."""
    if account is None:
        return {"loans": [], "holds": [], "debts": []}
    return {
        "loans": [loan_row(tr, x, today) for x in account.loans],
        "holds": [{"id": h.id, "title": h.title, "detail": hold_detail(tr, h),
                   "level": "ok" if h.state == "ready" else ""} for h in account.holds],
        "debts": [{"id": d.id, "title": tr.label(d.kind) if d.kind in LABELS else d.kind,
                   "detail": " · ".join(filter(None, (d.description,
                                                      tr.money(d.amount, account.currency)))),
                   "selectable": True} for d in account.debts]
        + [{"id": f"elsewhere:{o.branch}", "title": tr.label("owed_at", branch=o.branch),
            "detail": f"{tr.money(o.amount, account.currency)} · {tr.label('pay_there')}",
            "selectable": False} for o in account.elsewhere],
    }


def borrowed_rows(tr: Translator, borrowed: list[Borrowed]) -> list[dict]:
    """What this session borrowed, with due dates or the offline note."""
    return [{"id": b.barcode, "title": b.title or b.barcode,
             "detail": tr.label("due", date=b.due) if b.due else tr.label("offline_banner")}
            for b in borrowed]
