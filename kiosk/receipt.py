"""The kiosk session's receipt, composed as plain lines in the patron's language (no name);
printed by `edge_common.printer` or e-mailed through central."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from edge_common.printer import Line, header
from kiosk.i18n import Translator
from patron_ui.models import Borrowed, Renewal


@dataclass
class Paid:
    """An approved payment in this session."""

    amount: int
    reference: str
    debt_ids: list[str]


def compose(t: Translator, library: str, branch: str, when: datetime,
            borrowed: Sequence[Borrowed] = (), renewals: Sequence[Renewal] = (),
            paid: Sequence[Paid] = (), currency: str = "EUR") -> list[Line]:
    """The receipt of one kiosk session, in the patron's language."""
    lines = header(t, library, branch, when)
    if borrowed:
        lines.append(Line("heading", t.label("borrowed_now")))
        for b in borrowed:
            due = t.label("due", date=b.due) if b.due else t.notice("checkout_queued", title="")
            lines += [Line("text", b.title or b.barcode), Line("text", f"  {b.barcode}  {due}")]
    ok = [r for r in renewals if r.ok]
    if ok:
        lines.append(Line("heading", t.label("renew")))
        lines += [Line("text", f"{r.title}  {t.label('due', date=r.due)}") for r in ok]
    if paid:
        lines.append(Line("heading", t.label("pay")))
        lines += [Line("text", f"{p.reference}  {t.money(p.amount, currency)}") for p in paid]
        lines.append(Line("total", f"{t.label('total')}: "
                                   f"{t.money(sum(p.amount for p in paid), currency)}"))
    return lines
