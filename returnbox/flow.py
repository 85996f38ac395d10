"""The item state machine, each state committed to the ledger before the box acts on it."""

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable

from edge_common.readers import CardRead
from returnbox import RETURNED
from returnbox.ledger import Item
from returnbox.parts import BoxParts
from returnbox.sorting import choose_bin
from returnbox.visit import Visit

log = logging.getLogger(__name__)


class ItemFlow:
    """One item at a time through the chute, the reader, central and the belt of `parts`."""

    def __init__(self, parts: BoxParts) -> None:
        self.parts = parts
        self.current: Item | None = None
        self.deadline: float | None = None        # the read or arrival the current item awaits
        self.waiting: deque[CardRead] = deque()
        self.resuming: deque[Item] = deque()
        self.eye_waiting = False                  # an item entered while resumed items went first
        self.resume_at = 0.0
        self._replies: dict[int, Callable[[str], None]] = {}

    @property
    def idle(self) -> bool:
        """Whether no item is on its way and no read waits."""
        return self.current is None and not self.waiting

    def eye(self, broken: bool) -> None:
        """An item entered the chute: detected, awaiting its read. While a restart's items
        carry on, it waits behind them: its read timeout starts when the box can read it."""
        p = self.parts
        if not broken or self.current is not None or self.waiting:
            return
        if self.resuming:
            self.eye_waiting = True
            p.show("reading")
            return
        if p.out_of_service():
            return
        p.open_visit()
        self.current = p.ledger.new(p.visit.number, "detected", card=p.visit.card)
        self.deadline = time.monotonic() + p.cfg.box.read_timeout
        p.show("reading")

    def read(self, read: CardRead) -> None:
        """The item reader read a barcode: identify it now, or after the item on the belt."""
        busy = self.current is not None and self.current.state != "detected"
        if busy or self.resuming:
            self.waiting.append(read)
            return
        self._identify(read)

    def _identify(self, read: CardRead) -> None:
        p = self.parts
        # an item already in a bin: nothing is sent to central and nothing moves
        code = p.out_of_service() or (
            "already_returned" if p.ledger.in_box(read.uid) is not None else None)
        detected, self.current, self.eye_waiting = self.current, None, False
        if code is not None and detected is None:
            self._refuse(read, code)
            return
        p.open_visit()
        item = (p.ledger.move(detected, "identified", barcode=read.uid)
                if detected is not None else
                p.ledger.new(p.visit.number, "identified", read.uid, p.visit.card))
        if read.reply is not None:
            self._replies[item.id] = read.reply
        if code is not None:
            self._reject(item, code)
        else:
            self._check_in(item)

    def _check_in(self, item: Item) -> None:
        """Ask central (same id on every retry); unreachable: route from the datasets, queue."""
        p = self.parts
        self.current = item
        self.deadline = None
        answer = p.checkins.online(item)
        if answer is None:
            facts = p.checkins.offline(item.barcode)
        elif answer.facts is None:
            self._reject(item, answer.refusal or "refused")
            return
        else:
            facts = answer.facts
        choice = choose_bin(p.cfg.sorting, facts, p.full)
        # every bin full (a resumed item): one checked in at central goes where it belongs,
        # over the brim; one not yet taken is handed back, nothing queued
        bin = choice.bin or (choice.wanted if answer is not None else None)
        if bin is None:
            self._reject(item, "bins_full")
            return
        if choice.fallback:
            log.warning("bin %s full: item %d to bin %s", choice.wanted, item.id, bin)
        if answer is None:
            item = p.ledger.move(item, "queued", route=facts.route, bin=bin,
                                 warnings=facts.warnings, offline=True)
            p.checkins.queue(item)
        else:
            item = p.ledger.move(item, "checked_in", route=facts.route, bin=bin,
                                 title=answer.title, fine=answer.fine,
                                 pickup_by=answer.pickup_by, warnings=facts.warnings)
        self.divert(item)

    def divert(self, item: Item) -> None:
        """Set the bin's diverter and run the belt; the arrival eye must see it in time."""
        p = self.parts
        if item.state != "diverted":
            item = p.ledger.move(item, "diverted")
        self.current = item
        notes = [*item.warnings, *(["offline: confirmed later"] if item.offline else [])]
        self._answer(item, f"{RETURNED}{item.route} -> bin {item.bin}"
                           + (f" ({', '.join(notes)})" if notes else ""))
        p.add_to_visit(item)
        if p.estopped:
            return   # runs when staff restart the belt
        p.pins.run(item.bin)
        self.deadline = time.monotonic() + p.cfg.box.jam_timeout
        p.show()

    def arrived(self, bin: str) -> None:
        """A bin's arrival eye saw an item: the one on the belt is in, the next may start."""
        p = self.parts
        item = self.current
        if item is None or item.state != "diverted" or item.bin != bin:
            log.warning("bin %s: an arrival nobody expected", bin)
            return
        p.ledger.move(item, "arrived")
        p.pins.run(None)
        self.current, self.deadline = None, None
        p.check_bins()
        self.next_item()
        p.show()

    def overdue(self, now: float) -> None:
        """The current item's read or arrival did not come by its deadline: reject, or jam."""
        if self.deadline is not None and now >= self.deadline and self.current is not None:
            self.deadline = None
            if self.current.state == "detected":
                self._reject(self.current, "item_unreadable")
            elif self.current.state == "diverted" and not self.parts.estopped:
                self._jam(self.current)

    def _jam(self, item: Item) -> None:
        """No arrival in time: stop the belt, alarm, tell the patron to wait for staff."""
        p = self.parts
        p.pins.stop()
        p.ledger.move(item, "jammed")
        self.current = None
        p.alarms.set("belt", "jam", True)
        log.error("jam: item %d (%s) never reached bin %s", item.id, item.barcode, item.bin)
        p.show()

    def _reject(self, item: Item, code: str) -> None:
        """The item is not taken: the flap gives it back / it stays in the chute opening."""
        p = self.parts
        item = p.ledger.move(item, "rejected", refusal=code, route="reject")
        self._answer(item, code)
        self.current, self.deadline = None, None
        p.add_to_visit(item)
        p.show("rejected", code)
        self.next_item()

    def _refuse(self, read: CardRead, code: str) -> None:
        """A read the box does not act on (nothing recorded, nothing sent)."""
        log.info("item %s not taken: %s", read.uid, code)
        if read.reply is not None:
            read.reply(code)
        self.parts.show("rejected", code)

    def tag_refused(self, code: str) -> None:
        """A tag the box does not take (`tag_not_ours`, `tag_*`): the item goes back."""
        if self.current is not None and self.current.state == "detected":
            self._reject(self.current, code)
        else:
            log.info("tagged item not taken: %s", code)
            self.parts.show("rejected", code)

    def resume(self, unfinished: Iterable[Item]) -> None:
        """Items a restart left unfinished carry on, oldest first, once central answers or
        `start_grace` has passed (then offline)."""
        self.resuming.extend(unfinished)
        if self.resuming:
            log.warning("resuming %d unfinished item(s)", len(self.resuming))
        self.resume_at = time.monotonic() + self.parts.cfg.box.start_grace

    def carry_on(self) -> None:
        """Go on with the restart's items if the box is free for them."""
        if self.resuming and self.current is None:
            self.next_item()

    def next_item(self) -> None:
        """Start the next resumed item (once central answers or `start_grace` has passed), or
        the next read that waited behind them, or detect an item whose eye broke meanwhile."""
        while self.current is None:
            if self.resuming:
                if not self._resume_due():
                    return
                self._resume_item(self.resuming.popleft())
            elif self.waiting:
                self._identify(self.waiting.popleft())
            else:
                break
        if self.current is None and self.eye_waiting:
            self.eye_waiting = False
            self.eye(True)

    def _resume_due(self) -> bool:
        """Whether a restart's unfinished items may carry on now."""
        return self.parts.runtime.central_up or time.monotonic() >= self.resume_at

    def _resume_item(self, item: Item) -> None:
        p = self.parts
        p.visit = Visit(item.visit, item.card, lang=p.visit.lang, last_at=time.monotonic())
        if item.state == "detected":
            self.current = item
            self._reject(item, "item_unreadable")
        elif item.state == "identified":
            self._check_in(item)
        elif item.state == "queued":
            p.checkins.queue(item)
            self.divert(item)
        else:   # checked_in, diverted
            self.divert(item)

    def _answer(self, item: Item, text: str) -> None:
        reply = self._replies.pop(item.id, None)
        if reply is not None:
            reply(text)
