"""The lines a patron screen lists about an account (loans, holds, fees), translated; no Kivy."""

from datetime import date

from edge_common.catalogues import N_
from patron_ui import translator
from patron_ui.models import Account, Hold, Loan
from patron_ui.texts import LOCALE_DIR

LABELS = {
    "due": N_("due {date}"),
    "overdue": N_("overdue since {date}"),
    "not_renewable": N_("cannot be renewed"),
    "pickup_by": N_("pick up by {date}"),
    "position": N_("number {position} in the queue"),
    "holds_waiting": N_("Waiting"),
    "holds_transit": N_("On the way"),
    "owed_at": N_("Owed at {branch}"),
    "pay_there": N_("to be paid there"),
    "fine": N_("Late fee"),  # the debt kinds with a name of their own
    "reminder_fee": N_("Reminder fee"),
    "registration": N_("Membership fee"),
    "replacement": N_("Replacement"),
}
TEXTS = translator.Texts(LOCALE_DIR, "patron_ui", LABELS, {}, "")


class AccountTexts(translator.Translator):
    """The account rows' texts, amounts and dates for one language."""

    texts = TEXTS


def loan_row(tr: AccountTexts, loan: Loan, today: date) -> dict:
    """A loan with its due date (or since when it is overdue) and whether it can be renewed."""
    detail = tr.label("due" if loan.due >= today else "overdue", date=loan.due)
    if not loan.renewable:
        detail += f" · {tr.label('not_renewable')}"
    return {"id": loan.id, "title": loan.title, "detail": detail, "selectable": loan.renewable,
            "level": "" if loan.due >= today else "bad"}


def hold_detail(tr: AccountTexts, hold: Hold) -> str:
    """Ready (until when), waiting (at which place) or on the way."""
    if hold.state == "ready":
        return tr.label("pickup_by", date=hold.pickup_by)
    if hold.state == "waiting":
        pos = tr.label("position", position=hold.position) if hold.position else ""
        return f"{tr.label('holds_waiting')} {pos}".strip()
    return tr.label("holds_transit")


def account_rows(tr: AccountTexts, account: Account | None, today: date) -> dict[str, list]:
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

