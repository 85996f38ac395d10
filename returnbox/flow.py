"""The item state machine, each state committed to the ledger before the box acts on it."""

import logging
import time

from edge_common.readers import CardRead
from returnbox import RETURNED
from returnbox.ledger import Item
from returnbox.parts import BoxParts
from returnbox.sorting import choose_bin
from returnbox.visit import Visit

log = logging.getLogger(__name__)


class ItemFlow(BoxParts):
    """One item at a time through the chute, the reader, central and the belt."""

    def _eye(self, broken: bool) -> None:
        """An item entered the chute: detected, awaiting its read. While a restart's items
        carry on, it waits behind them: its read timeout starts when the box can read it."""
        if not broken or self.current is not None or self.waiting:
            return
        if self.resuming:
            self.eye_waiting = True
            self._show("reading")
            return
        if self._out_of_service():
            return
        self._open_visit()
        self.current = self.ledger.new(self.visit.number, "detected", card=self.visit.card)
        self.deadline = time.monotonic() + self.cfg.box.read_timeout
        self._show("reading")

    def _read(self, read: CardRead) -> None:
        """The item reader read a barcode: identify it now, or after the item on the belt."""
        busy = self.current is not None and self.current.state != "detected"
        if busy or self.resuming:
            self.waiting.append(read)
            return
        self._identify(read)

    def _identify(self, read: CardRead) -> None:
        # an item already in a bin: nothing is sent to central and nothing moves
        code = self._out_of_service() or (
            "already_returned" if self.ledger.in_box(read.uid) is not None else None)
        detected, self.current, self.eye_waiting = self.current, None, False
        if code is not None and detected is None:
            self._refuse(read, code)
            return
        self._open_visit()
        item = (self.ledger.move(detected, "identified", barcode=read.uid)
                if detected is not None else
                self.ledger.new(self.visit.number, "identified", read.uid, self.visit.card))
        if read.reply is not None:
            self.replies[item.id] = read.reply
        if code is not None:
            self._reject(item, code)
        else:
            self._check_in(item)

    def _check_in(self, item: Item) -> None:
        """Ask central (same id on every retry); unreachable: route from the datasets, queue."""
        self.current = item
        self.deadline = None
        answer = self.checkins.online(item)
        if answer is None:
            facts = self.checkins.offline(item.barcode)
        elif answer.facts is None:
            self._reject(item, answer.refusal or "refused")
            return
        else:
            facts = answer.facts
        choice = choose_bin(self.cfg.sorting, facts, self.full)
        # every bin full (a resumed item): one checked in at central goes where it belongs,
        # over the brim; one not yet taken is handed back, nothing queued
        bin = choice.bin or (choice.wanted if answer is not None else None)
        if bin is None:
            self._reject(item, "bins_full")
            return
        if choice.fallback:
            log.warning("bin %s full: item %d to bin %s", choice.wanted, item.id, bin)
        if answer is None:
            item = self.ledger.move(item, "queued", route=facts.route, bin=bin,
                                    warnings=facts.warnings, offline=True)
            self.checkins.queue(item)
        else:
            item = self.ledger.move(item, "checked_in", route=facts.route, bin=bin,
                                    title=answer.title, fine=answer.fine,
                                    pickup_by=answer.pickup_by, warnings=facts.warnings)
        self._divert(item)

    def _divert(self, item: Item) -> None:
        """Set the bin's diverter and run the belt; the arrival eye must see it in time."""
        if item.state != "diverted":
            item = self.ledger.move(item, "diverted")
        self.current = item
        notes = [*item.warnings, *(["offline: confirmed later"] if item.offline else [])]
        self._answer(item, f"{RETURNED}{item.route} -> bin {item.bin}"
                           + (f" ({', '.join(notes)})" if notes else ""))
        self._add_to_visit(item)
        if self.estopped:
            return   # runs when staff restart the belt
        self.pins.run(item.bin)
        self.deadline = time.monotonic() + self.cfg.box.jam_timeout
        self._show()

    def _arrived(self, bin: str) -> None:
        item = self.current
        if item is None or item.state != "diverted" or item.bin != bin:
            log.warning("bin %s: an arrival nobody expected", bin)
            return
        self.ledger.move(item, "arrived")
        self.pins.run(None)
        self.current, self.deadline = None, None
        self._check_bins()
        self._next()
        self._show()

    def _jam(self, item: Item) -> None:
        """No arrival in time: stop the belt, alarm, tell the patron to wait for staff."""
        self.pins.stop()
        self.ledger.move(item, "jammed")
        self.current = None
        self.alarms.set("belt", "jam", True)
        log.error("jam: item %d (%s) never reached bin %s", item.id, item.barcode, item.bin)
        self._show()

    def _reject(self, item: Item, code: str) -> None:
        """The item is not taken: the flap gives it back / it stays in the chute opening."""
        item = self.ledger.move(item, "rejected", refusal=code, route="reject")
        self._answer(item, code)
        self.current, self.deadline = None, None
        self._add_to_visit(item)
        self._show("rejected", code)
        self._next()

    def _refuse(self, read: CardRead, code: str) -> None:
        """A read the box does not act on (nothing recorded, nothing sent)."""
        log.info("item %s not taken: %s", read.uid, code)
        if read.reply is not None:
            read.reply(code)
        self._show("rejected", code)

    def _tag_refused(self, code: str) -> None:
        """A tag the box does not take (`tag_not_ours`, `tag_*`): the item goes back."""
        if self.current is not None and self.current.state == "detected":
            self._reject(self.current, code)
        else:
            log.info("tagged item not taken: %s", code)
            self._show("rejected", code)

    def _next(self) -> None:
        """Start the next resumed item (once central answers or `start_grace` has passed), or
        the next read that waited behind them, or detect an item whose eye broke meanwhile."""
        while self.current is None:
            if self.resuming:
                if not self._resume_due():
                    return
                self._carry_on(self.resuming.popleft())
            elif self.waiting:
                self._identify(self.waiting.popleft())
            else:
                break
        if self.current is None and self.eye_waiting:
            self.eye_waiting = False
            self._eye(True)

    def _resume_due(self) -> bool:
        """Whether a restart's unfinished items may carry on now."""
        return self.runtime.central_up or time.monotonic() >= self.resume_at

    def _carry_on(self, item: Item) -> None:
        self.visit = Visit(item.visit, item.card, lang=self.visit.lang, last_at=time.monotonic())
        if item.state == "detected":
            self.current = item
            self._reject(item, "item_unreadable")
        elif item.state == "identified":
            self._check_in(item)
        elif item.state == "queued":
            self.checkins.queue(item)
            self._divert(item)
        else:   # checked_in, diverted
            self._divert(item)

    def _answer(self, item: Item, text: str) -> None:
        reply = self.replies.pop(item.id, None)
        if reply is not None:
            reply(text)
