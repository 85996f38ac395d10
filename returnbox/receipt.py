"""The return box's receipt: every item the visit left, where it went, in the patron's
language and without the patron's name; printed through python-escpos
(`edge_common.printer`) or e-mailed through central (`receipt.email`)."""

from collections.abc import Sequence
from datetime import datetime

from edge_common.printer import Line, header
from edge_common.protocol.circulation import ReceiptEmail, ReceiptLine
from returnbox.i18n import Translator
from returnbox.views import ReturnedItem


def where(t: Translator, item: ReturnedItem) -> str:
    """Where the item went, in words: its route and its bin."""
    return t.label("in_bin", route=t.label(f"route_{item.route}"), bin=item.bin)


def remarks(t: Translator, item: ReturnedItem, currency: str = "EUR") -> list[str]:
    """What else the patron should know about a taken item: confirmed later when taken
    offline, the late fee when known, the hold's pickup date for the hold shelf."""
    said = [t.label("confirmed_later")] if item.queued else []
    if item.fine:
        said.append(t.label("fine", amount=item.fine, currency=currency))
    if item.pickup_by is not None:
        said.append(t.label("pickup_by", date=item.pickup_by))
    return said


def compose_visit(t: Translator, library: str, branch: str, when: datetime,
                  items: Sequence[ReturnedItem], currency: str = "EUR") -> list[Line]:
    """The receipt of one visit: each item taken (not those handed back), in `t`'s language."""
    lines = [*header(t, library, branch, when), Line("heading", t.label("returned"))]
    for item in items:
        if item.route == "reject":
            continue
        lines += [Line("text", item.title or item.barcode),
                  Line("text", f"  {item.barcode}  {where(t, item)}")]
        lines += [Line("text", f"  {said}") for said in remarks(t, item, currency)]
    return lines


def email(t: Translator, card: str, lines: Sequence[Line]) -> ReceiptEmail:
    """The `receipt.email` body for the visit's lines: central finds the address by the card."""
    return ReceiptEmail(card=card, lang=t.lang, subject=t.label("receipt_subject"),
                        lines=[ReceiptLine(style=line.style, text=line.text) for line in lines])
