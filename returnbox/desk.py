"""What people do at the box: cards, the screen's buttons, receipts, restarting the belt."""

import logging
import time
from datetime import datetime

from edge_common.access import GRANTED
from edge_common.printer import Line, PrinterUnavailable, print_receipt
from edge_common.protocol import circulation as wire
from edge_common.readers import CardRead
from returnbox.cards import judge
from returnbox.flow import ItemFlow
from returnbox.i18n import Translator
from returnbox.parts import BoxParts
from returnbox.receipt import compose_visit, email
from returnbox.views import Action
from returnbox.visit import Visit

log = logging.getLogger(__name__)
GOODBYE_FOR = 5.0   # seconds the goodbye screen stays before the box is idle again


class Desk:
    """Cards, screen actions, receipts and the belt restart of `parts`, beside the item `flow`."""

    def __init__(self, parts: BoxParts, flow: ItemFlow) -> None:
        self.parts = parts
        self.flow = flow

    def card(self, read: CardRead) -> None:
        """A card: staff open the maintenance view; a patron starts a visit (and, where the
        flap needs a card, opens it when lockd's rules allow)."""
        p = self.parts
        flap = p.cfg.box.flap_requires_card
        tap = judge(p.runtime, read, p.cfg.box.flap_policy if flap else None)
        if read.reply is not None:
            read.reply(tap.verdict)   # `libedge tap`
        if tap.staff:
            p.staff_open = True
        elif tap.verdict != GRANTED:
            p.show("rejected", tap.verdict)
            return
        else:
            if flap:
                p.flap_until = time.monotonic() + p.cfg.box.flap_open_seconds
                p.pins.open_flap(True)
            p.open_visit()
            p.visit.card, p.visit.email_on_file = tap.hashed, tap.known
        p.show()

    def action(self, action: Action) -> None:
        """A touch on the patron's or staff screen."""
        p = self.parts
        kind = action.kind
        if kind.startswith("finish_"):
            self.finish(kind)
        elif kind == "language" and action.arg in p.cfg.box.languages:
            p.visit.lang = action.arg
            p.show()
        elif kind == "bin_emptied" and action.arg in p.capacity:
            n = p.ledger.emptied(action.arg)
            if p.sim is not None:
                p.sim.empty(action.arg)
            log.warning("bin %s emptied by staff (%d items)", action.arg, n)
            p.check_bins()
            p.show()
        elif kind == "leave_staff":
            p.staff_open = False
            p.show()
        elif kind == "belt_restart":
            self.restart_belt()

    def restart_belt(self) -> None:
        """Staff cleared the jam or the e-stop: jammed items are in their hands, the belt runs."""
        p = self.parts
        if p.pins.estop is not None and p.pins.estop.is_pressed:
            p.show("wait", "e_stop")
            return
        for item in p.ledger.jammed():
            p.ledger.move(item, "cleared")
        p.alarms.set("belt", "jam", False)
        p.alarms.set("e_stop", "e_stop", False)
        p.estopped = False
        if self.flow.current is not None and self.flow.current.state == "diverted":
            self.flow.divert(self.flow.current)
        self.flow.next_item()
        p.show()

    def close_flap(self, now: float) -> None:
        """Lock the flap again once the card's time is up."""
        p = self.parts
        if p.flap_until and now >= p.flap_until:
            p.flap_until = 0.0
            p.pins.open_flap(False)

    def time_out(self, now: float) -> None:
        """The goodbye screen's time is up; a visit nobody added to lately ends unprinted."""
        p = self.parts
        if p.goodbye_until and now >= p.goodbye_until:
            p.goodbye_until = 0.0
            p.show()
        if (p.visit.number and self.flow.idle
                and now - p.visit.last_at >= p.cfg.box.visit_timeout):
            self.finish("finish_none")

    def finish(self, how: str) -> None:
        """End the visit with its receipt printed, e-mailed or not wanted."""
        p = self.parts
        visit, code = p.visit, None
        taken = [i for i in visit.items if i.refusal is None]
        if taken and how != "finish_none":
            t = Translator(visit.lang)
            lines = compose_visit(t, p.cfg.box.library, p.cfg.box.branch_name,
                                  datetime.now(), taken, p.cfg.box.currency)
            if how == "finish_print":
                code = self._print(lines)
            elif how == "finish_email" and visit.card is not None:
                p.runtime.emit(wire.RECEIPT_EMAIL, email(t, visit.card, lines))
        p.visit = Visit(0, lang=p.cfg.box.languages[0])
        p.goodbye_until = time.monotonic() + GOODBYE_FOR
        p.show("goodbye", code, items=visit)

    def _print(self, lines: list[Line]) -> str | None:
        """Print the receipt; a failure is the code the goodbye screen shows and an alarm."""
        p = self.parts
        try:
            print_receipt(p.cfg.printer, lines)
        except PrinterUnavailable as exc:
            log.warning("receipt not printed: %s", exc.code)
            p.alarms.set("printer", "printer_fault", p.cfg.printer.kind != "none")
            return exc.code
        p.alarms.set("printer", "printer_fault", False)
        return None
