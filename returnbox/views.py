"""What the return box's patron display shows: one immutable view per moment, made by the
daemon's coordinator and drawn by a `Display` (the Kivy screen, or a log line without one).

The coordinator never waits on the display; the display reports the patron's and staff's
taps back as `Action`s, which the coordinator handles on its own thread.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from edge_common.protocol.returns import Route

Screen = Literal[
    "idle",        # ready: insert an item (and optionally tap a card first for a receipt)
    "reading",     # an item is in the chute and being identified
    "taken",       # the visit so far: each item and where it went; finish for a receipt
    "rejected",    # the last item was not taken (take it back): `code` says why
    "wait",        # a jam or an e-stop: please wait, staff are called (`code`)
    "closed",      # out of service (e.g. every bin full, reader lost): `code`
    "staff",       # the maintenance view, opened by a staff card
    "goodbye",     # the receipt was printed / e-mailed / not wanted
]
ActionKind = Literal["finish_print", "finish_email", "finish_none", "language", "bin_emptied",
                     "leave_staff", "belt_restart"]


@dataclass(frozen=True)
class ReturnedItem:
    """One item of the visit as the patron sees it on the screen and on the receipt."""

    barcode: str
    title: str
    route: Route
    bin: str
    queued: bool = False             # taken offline: confirmed when the link returns
    fine: int = 0                    # minor units; 0 when unknown (offline) or none
    pickup_by: date | None = None    # the hold slip: for the hold shelf
    warnings: tuple[str, ...] = ()   # e.g. attachments, hold_waiting, in_library_only
    refusal: str | None = None       # route "reject": the stable code


@dataclass(frozen=True)
class BinState:
    """A bin on the staff view: what lies in it and whether its full sensor is on."""

    name: str
    count: int
    capacity: int
    full: bool
    items: tuple[str, ...] = ()      # barcodes, newest first


@dataclass(frozen=True)
class StaffView:
    """The maintenance view: bins, alarms, sensors, the outbox and the link."""

    bins: tuple[BinState, ...]
    alarms: tuple[str, ...]          # active alarm codes, e.g. "jam", "bin_full", "e_stop"
    sensors: tuple[tuple[str, bool], ...]
    outbox: int
    online: bool
    jammed: str | None = None        # barcode of the item that never arrived


@dataclass(frozen=True)
class View:
    """Everything one screen needs; `lang` is the patron's language (the box's by default)."""

    screen: Screen
    lang: str = "en"
    items: tuple[ReturnedItem, ...] = ()
    offline: bool = False
    card: bool = False               # a card was tapped: the receipt can be e-mailed
    email_on_file: bool = False
    printer: bool = False            # a receipt printer is fitted and has paper
    code: str | None = None
    staff: StaffView | None = None


@dataclass(frozen=True)
class Action:
    """A tap on the display: `arg` is a language code or a bin name where the kind needs one."""

    kind: ActionKind
    arg: str | None = None


class Display(Protocol):
    """The patron display seam: draw a view; report taps to the callback given at start."""

    def start(self, on_action: Callable[[Action], None]) -> None:
        """Begin drawing and reporting taps."""

    def show(self, view: View) -> None:
        """Draw `view` (any thread; the display redraws on its own)."""

    def close(self) -> None:
        """Stop drawing."""
