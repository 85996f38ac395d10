"""A patron's visit: the card tapped (if any), the items and what they became."""

from dataclasses import dataclass, field
from typing import cast, get_args

from edge_common.protocol.returns import Route
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
