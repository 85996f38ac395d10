"""A library whose kiosk and return box send events dated when they happened, delivered to
central's ingest whenever the test says: late, out of order, or never."""

import shutil
from datetime import datetime
from pathlib import Path

from central import fleet
from central.circulation import device_api, sites  # noqa: F401 - registers the handlers
from central.circulation.clock import FixedClock
from central.circulation.store import Store
from central.ingest import Applier, Message, Outcome
from central.store import open_store
from edge_common import envelope
from edge_common.cardid import card_hash
from edge_common.protocol import circulation as wire
from edge_common.protocol import returns
from tests.circ import START, library

KIOSK, BOX = "kiosk-1", "box-1"


class LateLibrary:
    """Three branches on a fixed clock; a kiosk and a return box at the centre."""

    def __init__(self, path: Path, like: "LateLibrary | None" = None) -> None:
        """A new library at `path`, or a copy of `like` as it is (its clock back at START)."""
        if like is None:
            self.s = library(path)
            fleet.enrol(self.s.db, KIOSK, "center", "kiosk")
            fleet.enrol(self.s.db, BOX, "center", "returnbox")
        else:
            shutil.copyfile(like.path, path)
            self.s = Store(open_store(str(path)), FixedClock(START))
        self.path = path
        self.s.db.execute("PRAGMA synchronous = OFF")   # no crash is tested here: no fsyncs
        self.clock = self.s.clock
        self.key = bytes.fromhex(sites.open_site(self.s.db, "center"))
        self.applier = Applier(self.s.db, clock=self.clock.now)

    def _event(self, dev: str, type: str, body, at: datetime, channel: str = "evt") -> Message:
        env = envelope.decode(envelope.encode(envelope.make(type, dev, body, at=at)))
        return Message(dev, channel, env, envelope.encode(env))

    def box_checkin(self, item: str) -> Message:
        """The box's request when `item` goes in online (answered at once)."""
        return self._event(BOX, wire.LOAN_CHECKIN.type, wire.Checkin(item=item),
                           self.clock.now(), "req")

    def kiosk_checkout(self, uid: str, item: str) -> Message:
        """The kiosk's request when the holder of card `uid` borrows `item` online."""
        return self._event(KIOSK, wire.LOAN_CHECKOUT.type,
                           wire.Checkout(card=card_hash(self.key, uid), item=item),
                           self.clock.now(), "req")

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
        self.s.db.close()
