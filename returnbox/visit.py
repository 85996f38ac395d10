"""A patron's visit: the card tapped (if any), the items and what they became, and its receipt.

`receipt_lines` is the one place the receipt is composed; the display's `returnbox.receipt`
(translated) takes over from it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast, get_args

from edge_common.protocol.returns import Route
from kiosk.receipt import Line
from returnbox.ledger import Item
from returnbox.views import ReturnedItem


def returned(item: Item) -> ReturnedItem:
    """How the patron sees one item of the ledger."""
    route = cast(Route, item.route if item.route in get_args(Route) else "reject")
    return ReturnedItem(item.barcode, item.title or item.barcode, route, item.bin,
                        queued=item.offline, fine=item.fine, pickup_by=item.pickup_by,
                        warnings=item.warnings, refusal=item.refusal)


@dataclass
class Visit:
    """The current patron's visit (number 0: nobody yet)."""

    number: int
    card: str | None = None            # card hash, for an e-mailed receipt
    email_on_file: bool = False
    lang: str = "en"
    items: list[ReturnedItem] = field(default_factory=list)
    last_at: float = 0.0               # monotonic time of the last item or tap


def receipt_lines(items: Sequence[ReturnedItem], library: str, branch: str, when: datetime,
                  lang: str) -> list[Line]:
    """The visit's receipt: each item and where it went; queued ones "confirmed later"."""
    lines = [Line("title", library), Line("text", branch), Line("text", f"{when:%Y-%m-%d %H:%M}"),
             Line("heading", "Returned")]
    for i in items:
        if i.refusal:
            continue
        state = "confirmed later" if i.queued else "checked in"
        lines += [Line("text", i.title), Line("text", f"  {i.barcode}  {state}")]
        if i.pickup_by:
            lines.append(Line("text", f"  hold until {i.pickup_by.isoformat()}"))
    return lines
