"""What a return box sends and replicates: offline check-ins, its alarms, and the datasets
it sorts by while the link is down (DESIGN §4).

Online, a return box uses `loan.checkin` (circulation); its answer carries the item facts
the box's bin rules route by. Offline it sorts from two small datasets and queues
`loan.checkin_offline`, dated when the item went in.
"""

from datetime import datetime
from typing import Literal

import msgspec

from edge_common.protocol.fields import CardHash, Code, Identifier, Money, Name, Text
from edge_common.protocol.spec import Answer, Body, event

HELD_ITEMS = "held_items"
SHELF_ITEMS = "shelf_items"
Route = Literal["hold_shelf", "transit", "reshelve", "sort_later", "reject"]


class HeldItem(msgspec.Struct, frozen=True, kw_only=True):
    """A `held_items` row, keyed by item barcode: a copy that, returned at this branch, would
    fill a waiting hold (so offline it goes to the hold bin, never back to the shelf): a copy
    of this branch whose title has a waiting hold here (an inter-branch hold registered here
    included: central then sets it aside to send), or an inter-branch copy on its way here."""


class ShelfItem(msgspec.Struct, frozen=True, kw_only=True):
    """A `shelf_items` row, keyed by item barcode: a copy whose home is this branch, with what
    the bin rules route by. A barcode in neither dataset is sorted later by staff."""

    category: Identifier = msgspec.field(name="cat")
    call_number: Text = msgspec.field(name="call", default="")


class CheckinOffline(Body):
    """`loan.checkin_offline`: an item the box took while offline, dated (envelope `at`) when
    it went in, with the route and bin the box chose from its datasets."""

    item: Identifier
    route: Route
    bin: Name
    card: CardHash | None = None


class ReturnedOffline(Answer):
    """`loan.checkin_offline`: whether central checked it in, where it should have gone, and
    the alert codes raised when the box's route differs from central's (or it was refused)."""

    recorded: bool
    route: str = ""
    to: str = ""
    fine: Money = 0
    alerts: list[Code] = []


class BoxAlarm(Body):
    """`returns.alarm`: an alarm raised or cleared at a part of a return box (`belt`, a bin,
    the reader, the e-stop, the link)."""

    part: Name
    alarm: Code
    active: bool
    since: datetime | None = None


LOAN_CHECKIN_OFFLINE = event("loan.checkin_offline", CheckinOffline, ReturnedOffline,
                             senders={"returnbox"})
RETURNS_ALARM = event("returns.alarm", BoxAlarm, senders={"returnbox"})
