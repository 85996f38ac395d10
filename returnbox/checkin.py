"""Checking an item in through central, or routing it from the datasets and queueing it offline.

Every attempt for one item uses the item's request id and is dated when the item went in, so a
retried request gets central's stored answer and a queued return of an item central already
took is acked, never applied twice (DESIGN §3).
"""

import logging
from dataclasses import dataclass
from datetime import date

from edge_common.errors import InvalidMessage, OfflineError, RemoteError, RequestTimeout
from edge_common.protocol import circulation as wire
from edge_common.protocol.returns import (
    HELD_ITEMS,
    LOAN_CHECKIN_OFFLINE,
    SHELF_ITEMS,
    CheckinOffline,
    ShelfItem,
)
from edge_common.runtime import DeviceRuntime
from returnbox.ledger import Item
from returnbox.sorting import Facts, central_route, offline_facts

log = logging.getLogger(__name__)
UNREACHABLE = (OfflineError, RequestTimeout, InvalidMessage)


@dataclass(frozen=True)
class Answer:
    """What central said of an item: where it goes, or why it is refused."""

    facts: Facts | None
    refusal: str | None = None
    title: str = ""
    fine: int = 0
    pickup_by: date | None = None


class Checkins:
    """`loan.checkin` with a short timeout; `loan.checkin_offline` through the outbox."""

    def __init__(self, runtime: DeviceRuntime, site: str, timeout: float) -> None:
        self.runtime = runtime
        self.site = site
        self.timeout = timeout

    def online(self, item: Item) -> Answer | None:
        """Central's answer for the item, or None when central is out of reach in time."""
        if not self.runtime.central_up:
            return None
        body = wire.Checkin(item=item.barcode, card=item.card)
        try:
            got = self.runtime.request(wire.LOAN_CHECKIN, body, timeout=self.timeout,
                                       id=item.request, at=item.at)
        except RemoteError as exc:
            return Answer(None, exc.code)
        except UNREACHABLE as exc:
            log.warning("check-in of item %d: %s, routing offline", item.id, exc.code)
            return None
        facts = Facts(central_route(got.route, got.to, self.site), category=got.category,
                      call_number=got.call_number, home=got.home, warnings=tuple(got.warnings))
        return Answer(facts, None, got.title, got.fine, got.pickup_by)

    def offline(self, barcode: str) -> Facts:
        """The route from the replicated datasets: held → hold shelf, ours → by the rules,
        unknown → sorted later."""
        held = self.runtime.row(HELD_ITEMS, barcode) is not None
        shelf: ShelfItem | None = self.runtime.row(SHELF_ITEMS, barcode)
        return offline_facts(held, (shelf.category, shelf.call_number) if shelf else None,
                             self.site)

    def queue(self, item: Item) -> None:
        """Commit the offline return to the outbox once, under the item's id and time."""
        if self.runtime.pending(LOAN_CHECKIN_OFFLINE.type, item.request):
            return   # already queued before a restart
        self.runtime.emit(LOAN_CHECKIN_OFFLINE, CheckinOffline(
            item=item.barcode, route=item.route, bin=item.bin, card=item.card),  # type: ignore[arg-type]
            id=item.request, at=item.at)
