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
from returnbox.receipt import compose_visit, email
from returnbox.views import Action
from returnbox.visit import Visit

log = logging.getLogger(__name__)
GOODBYE_FOR = 5.0   # seconds the goodbye screen stays before the box is idle again


class Desk(ItemFlow):
    """Cards, screen actions, receipts and the belt restart, on top of the item flow."""

    def _card(self, read: CardRead) -> None:
        """A card: staff open the maintenance view; a patron starts a visit (and, where the
        flap needs a card, opens it when lockd's rules allow)."""
        flap = self.cfg.box.flap_requires_card
        tap = judge(self.runtime, read, self.cfg.box.flap_policy if flap else None)
        if read.reply is not None:
            read.reply(tap.verdict)   # `libedge tap`
        if tap.staff:
            self.staff_open = True
        elif tap.verdict != GRANTED:
            self._show("rejected", tap.verdict)
            return
        else:
            if flap:
                self.flap_until = time.monotonic() + self.cfg.box.flap_open_seconds
                self.pins.open_flap(True)
            self._open_visit()
            self.visit.card, self.visit.email_on_file = tap.hashed, tap.known
        self._show()

    def _action(self, action: Action) -> None:
        kind = action.kind
        if kind.startswith("finish_"):
            self._finish(kind)
        elif kind == "language" and action.arg in self.cfg.box.languages:
            self.visit.lang = action.arg
            self._show()
        elif kind == "bin_emptied" and action.arg in self.capacity:
            n = self.ledger.emptied(action.arg)
            if self.sim is not None:
                self.sim.empty(action.arg)
            log.warning("bin %s emptied by staff (%d items)", action.arg, n)
            self._check_bins()
            self._show()
        elif kind == "leave_staff":
            self.staff_open = False
            self._show()
        elif kind == "belt_restart":
            self._restart_belt()

    def _restart_belt(self) -> None:
        """Staff cleared the jam or the e-stop: jammed items are in their hands, the belt runs."""
        if self.pins.estop is not None and self.pins.estop.is_pressed:
            self._show("wait", "e_stop")
            return
        for item in self.ledger.jammed():
            self.ledger.move(item, "cleared")
        self.alarms.set("belt", "jam", False)
        self.alarms.set("e_stop", "e_stop", False)
        self.estopped = False
        if self.current is not None and self.current.state == "diverted":
            self._divert(self.current)
        self._next()
        self._show()

    def _finish(self, how: str) -> None:
        """End the visit with its receipt printed, e-mailed or not wanted."""
        visit, code = self.visit, None
        taken = [i for i in visit.items if i.refusal is None]
        if taken and how != "finish_none":
            t = Translator(visit.lang)
            lines = compose_visit(t, self.cfg.box.library, self.cfg.box.branch_name,
                                  datetime.now(), taken, self.cfg.box.currency)
            if how == "finish_print":
                code = self._print(lines)
            elif how == "finish_email" and visit.card is not None:
                self.runtime.emit(wire.RECEIPT_EMAIL, email(t, visit.card, lines))
        self.visit = Visit(0, lang=self.cfg.box.languages[0])
        self.goodbye_until = time.monotonic() + GOODBYE_FOR
        self._show("goodbye", code, items=visit)

    def _print(self, lines: list[Line]) -> str | None:
        """Print the receipt; a failure is the code the goodbye screen shows and an alarm."""
        try:
            print_receipt(self.cfg.printer, lines)
        except PrinterUnavailable as exc:
            log.warning("receipt not printed: %s", exc.code)
            self.alarms.set("printer", "printer_fault", self.cfg.printer.kind != "none")
            return exc.code
        self.alarms.set("printer", "printer_fault", False)
        return None
