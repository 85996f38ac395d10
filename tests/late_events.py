"""A library whose kiosk and return box send events dated when they happened, delivered to
central's ingest whenever the test says: late, out of order, or never."""

from datetime import datetime
from pathlib import Path

from central import fleet
from central.circulation import sites
from central.ingest import Applier, Message, Outcome
from edge_common import envelope
from edge_common.cardid import card_hash
from edge_common.protocol import circulation as wire
from edge_common.protocol import returns
from tests.circ import library

KIOSK, BOX = "kiosk-1", "box-1"


class LateLibrary:
    """Three branches on a fixed clock; a kiosk and a return box at the centre."""

    def __init__(self, path: Path) -> None:
        self.s = library(path)
        self.clock = self.s.clock
        fleet.enrol(self.s.db, KIOSK, "center", "kiosk")
        fleet.enrol(self.s.db, BOX, "center", "returnbox")
        self.key = bytes.fromhex(sites.open_site(self.s.db, "center"))
        self.applier = Applier(self.s.db, clock=self.clock.now)

    def _event(self, dev: str, type: str, body, at: datetime) -> Message:
        env = envelope.decode(envelope.encode(envelope.make(type, dev, body, at=at)))
        return Message(dev, "evt", env, envelope.encode(env))

    def box_return(self, item: str, at: datetime,
                   route: returns.Route = "reshelve") -> Message:
        """What the box queues when `item` goes in offline at `at`."""
        return self._event(BOX, returns.LOAN_CHECKIN_OFFLINE.type,
                           returns.CheckinOffline(item=item, route=route, bin="shelf"), at)

    def kiosk_loan(self, uid: str, item: str, at: datetime) -> Message:
        """What the kiosk queues when the holder of card `uid` borrows `item` offline at `at`."""
        return self._event(KIOSK, wire.LOAN_CHECKOUT_OFFLINE.type,
                           wire.Checkout(card=card_hash(self.key, uid), item=item), at)

    def deliver(self, *messages: Message) -> Outcome:
        """Apply queued events now, as central does when the device is back online."""
        return self.applier.apply(messages)

    def close(self) -> None:
        """Close the store."""
        self.s.db.conn.close()
