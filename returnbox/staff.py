"""The maintenance view a staff card opens: bins and what lies in them, alarms, sensors, the
outbox and the link."""

from collections.abc import Collection, Mapping, Sequence

from edge_common.status import Health
from returnbox.ledger import Ledger
from returnbox.views import BinState, StaffView

SHOWN_PER_BIN = 50   # barcodes listed per bin, newest first


def staff_view(ledger: Ledger, capacity: Mapping[str, int], full: Collection[str],
               alarms: Sequence[str], sensors: Sequence[tuple[str, bool]],
               health: Health) -> StaffView:
    """The view from the ledger (counts since each bin was emptied) and the box's state."""
    counts = ledger.counts()
    jammed = ledger.jammed()
    return StaffView(
        bins=tuple(BinState(b, counts.get(b, 0), cap, b in full,
                            tuple(i.barcode for i in ledger.bin_items(b)[:SHOWN_PER_BIN]))
                   for b, cap in capacity.items()),
        alarms=tuple(alarms), sensors=tuple(sensors), outbox=health.outbox_depth,
        online=health.central_up, jammed=jammed[-1].barcode if jammed else None)
