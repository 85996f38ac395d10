"""The return box's coordinator: one thread turns reads, pins, taps and central's answers into
the item state machine, the belt, the bins, alarms and the patron's views.

One item at a time: detected → identified → checked in (or queued) → diverted → arrived (or
jammed). Each state is committed to the ledger before the box acts on it; a restart resumes
every unfinished item with the same request id, so nothing is checked in twice or lost.
"""

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory

from edge_common import __version__
from edge_common.commands import Command, CommandRefused, arguments
from edge_common.protocol import circulation as wire
from edge_common.protocol.commands import ClearAlarmArgs
from edge_common.protocol.datasets import ALLOWLIST
from edge_common.protocol.returns import HELD_ITEMS, SHELF_ITEMS
from edge_common.readers import CardRead, CardReader, open_reader
from edge_common.runtime import DeviceRuntime
from kiosk.receipt import Line, PrinterUnavailable, print_receipt
from lockd.decision import GRANTED
from returnbox import RETURNED
from returnbox.alarms import BoxAlarms
from returnbox.belt import BeltPins
from returnbox.cards import judge
from returnbox.checkin import Checkins
from returnbox.config import ItemReaderConfig, ReturnboxConfig, RfidReaderConfig
from returnbox.i18n import Translator
from returnbox.ledger import Item, Ledger
from returnbox.logdisplay import LogDisplay
from returnbox.receipt import compose_visit, email
from returnbox.rfid import RfidItemReader, SimTagSource
from returnbox.simbelt import SimulatedBelt
from returnbox.sorting import choose_bin
from returnbox.staff import staff_view
from returnbox.views import Action, Display, Screen, StaffView, View
from returnbox.visit import Visit, returned

log = logging.getLogger(__name__)
GOODBYE_FOR = 5.0   # seconds the goodbye screen stays before the box is idle again


class ReturnBox:
    """Readers, pins, ledger, runtime and display of one box, with one deciding thread."""

    def __init__(self, cfg: ReturnboxConfig, factory: Factory | None = None,
                 display: Display | None = None) -> None:
        self.cfg = cfg
        self._events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.runtime = DeviceRuntime(cfg.device, cfg.mqtt, cfg.outbox, version=__version__,
                                     datasets=[ALLOWLIST, HELD_ITEMS, SHELF_ITEMS],
                                     status_extra=lambda: {"readers": dict(self.readers_state)},
                                     on_command=self._command)
        self.ledger = Ledger(str(Path(cfg.device.data_dir) / "returnbox.db"))
        self.pins = BeltPins(cfg.gpio, cfg.bins, self.post, factory)
        self.sim = (SimulatedBelt(factory, cfg.gpio, cfg.bins, cfg.simulator.travel_time,
                                  cfg.simulator.chute)
                    if cfg.simulator.belt and isinstance(factory, MockFactory) else None)
        self.display: Display = display or LogDisplay()
        self.checkins = Checkins(self.runtime, cfg.device.site, cfg.box.checkin_timeout)
        self.tag_field = SimTagSource()   # what a simulated RFID reader reads
        self.readers: dict[str, CardReader] = {"item_reader": self._item_reader(cfg.item_reader)}
        if cfg.card_reader is not None:
            self.readers["card_reader"] = open_reader(cfg.card_reader)
        self.readers_state = dict.fromkeys(self.readers, "starting")
        self.capacity = {b.name: b.capacity for b in cfg.bins}
        self.alarms = BoxAlarms(self.runtime)
        self.current: Item | None = None
        self.deadline: float | None = None        # the read or arrival the current item awaits
        self.waiting: deque[CardRead] = deque()
        self.resuming: deque[Item] = deque()
        self.replies: dict[int, Callable[[str], None]] = {}
        self.visit = Visit(0, lang=cfg.box.languages[0])
        self._visits = self.ledger.last_visit()
        self.estopped = False
        self.staff_open = False
        self.flap_until = 0.0
        self.goodbye_until = 0.0
        self.offline_since: float | None = None
        self.resume_at = 0.0
        self.full: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="returnbox", daemon=True)

    # --- any thread ---------------------------------------------------------------------

    def post(self, kind: str, arg: object = None) -> None:
        """Hand an event to the coordinator (hardware, readers, display, central all do)."""
        self._events.put((kind, arg))

    def start(self) -> None:
        """Start the runtime, the belt simulator, the coordinator, the display and readers."""
        self.runtime.start()
        if self.sim is not None:
            self.sim.start()
        self.post("resume")
        self._thread.start()
        self.display.start(lambda action: self.post("action", action))
        for name, reader in self.readers.items():
            reader.start(partial(self.post, "card" if name == "card_reader" else "read"),
                         partial(self._reader_state, name))

    def _item_reader(self, cfg: ItemReaderConfig) -> CardReader:
        """The configured item reader; an RFID reader's refused tags (another library's, or
        unreadable) are handed back to the patron with their code."""
        if isinstance(cfg, RfidReaderConfig):
            return RfidItemReader(cfg.name, self.tag_field, cfg.isil,
                                  lambda code, tag: self.post("tag_refused", code))
        return open_reader(cfg)

    def _reader_state(self, name: str, state: str, detail: str | None) -> None:
        self.post("reader", (name, state))

    def stop(self) -> None:
        """Stop readers, the coordinator, the simulator and runtime; free the pins (also after
        a start that failed half-way)."""
        for reader in self.readers.values():
            reader.stop()
        self.post("stop")
        if self._thread.is_alive():
            self._thread.join(5)
        self.display.close()
        if self.sim is not None:
            self.sim.stop()
        self.pins.close()
        self.runtime.stop()
        self.ledger.close()

    def _command(self, cmd: Command) -> dict[str, Any]:
        """Central's `clear_alarm` (`door` names the part: `belt`, a bin, `e_stop`, ...), run
        on the coordinator; the box takes no other command."""
        args = arguments(cmd)
        if not isinstance(args, ClearAlarmArgs) or args.door is None:
            raise CommandRefused(f"{cmd.name} is not for a return box", code="command_unknown")
        done: Future[dict[str, Any]] = Future()
        part, code = args.door, args.alarm

        def run() -> None:
            try:
                done.set_result(self._clear(part, code))
            except Exception as exc:  # noqa: BLE001 - handed back to the runtime as its code
                done.set_exception(exc)

        self.post("call", run)
        return done.result(10)

    def _clear(self, part: str, code: str) -> dict[str, Any]:
        """Staff cleared an alarm from afar: a jam or an e-stop as from the staff view."""
        if (part, code) not in self.alarms:
            raise CommandRefused(f"no alarm {code} at {part}", code="alarm_unknown")
        if code in ("jam", "e_stop"):
            self._restart_belt()
        else:
            self.alarms.set(part, code, False)
        return {"cleared": f"{part}:{code}", "active": (part, code) in self.alarms}

    # --- the coordinator thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                kind, arg = self._events.get(timeout=self._wait())
            except queue.Empty:
                kind, arg = "tick", None
            if kind == "stop":
                return
            try:
                self._handle(kind, arg)
                self._tick()
            except Exception:  # noqa: BLE001 - one bad event must not stop the box
                log.exception("returnbox: handling %s failed", kind)

    def _wait(self) -> float:
        if self.deadline is None:
            return 0.5
        return min(0.5, max(0.0, self.deadline - time.monotonic()))

    def _handle(self, kind: str, arg: Any) -> None:
        handlers: dict[str, Callable[[Any], None]] = {
            "resume": lambda _: self._resume(), "read": self._read, "card": self._card,
            "eye": self._eye, "arrived": self._arrived, "full": lambda _: self._check_bins(),
            "estop": self._estop, "action": self._action, "reader": self._reader,
            "tick": lambda _: None, "call": lambda fn: fn(), "tag_refused": self._tag_refused,
        }
        handlers[kind](arg)

    def _resume(self) -> None:
        """Find every item a restart left unfinished; they carry on, oldest first, once central
        answers or `start_grace` has passed (then offline)."""
        pruned = self.ledger.prune(datetime.now(UTC) - timedelta(days=self.cfg.box.keep_days))
        if pruned:
            log.info("ledger: %d finished items older than %d days forgotten", pruned,
                     self.cfg.box.keep_days)
        if self.ledger.jammed():
            self.alarms.set("belt", "jam", True)   # still stuck: staff have not cleared it
        if self.pins.estop is not None and self.pins.estop.is_pressed:
            self._estop(True)                      # pressed while the box was off
        self.resuming.extend(self.ledger.unfinished())
        if self.resuming:
            log.warning("resuming %d unfinished item(s)", len(self.resuming))
        self.resume_at = time.monotonic() + self.cfg.box.start_grace
        self._check_bins()
        self._show()

    def _tick(self) -> None:
        now = time.monotonic()
        if self.deadline is not None and now >= self.deadline and self.current is not None:
            self.deadline = None
            if self.current.state == "detected":
                self._reject(self.current, "item_unreadable")
            elif self.current.state == "diverted" and not self.estopped:
                self._jam(self.current)
        if self.flap_until and now >= self.flap_until:
            self.flap_until = 0.0
            self.pins.open_flap(False)
        if self.resuming and self.current is None and (
                self.runtime.central_up or now >= self.resume_at):
            self._next()
        if self.goodbye_until and now >= self.goodbye_until:
            self.goodbye_until = 0.0
            self._show()
        if (self.visit.number and self.current is None and not self.waiting
                and now - self.visit.last_at >= self.cfg.box.visit_timeout):
            self._finish("finish_none")
        self._watch_link(now)

    def _watch_link(self, now: float) -> None:
        if self.runtime.central_up:
            self.offline_since = None
        else:
            self.offline_since = self.offline_since or now
        too_long = self.offline_since is not None and (
            now - self.offline_since >= self.cfg.box.offline_alarm_minutes * 60)
        self.alarms.set("link", "offline_too_long", too_long)

    # --- items ----------------------------------------------------------------------------

    def _eye(self, broken: bool) -> None:
        """An item entered the chute: detected, awaiting its read."""
        if not broken or self.current is not None or self.waiting:
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
        detected, self.current = self.current, None
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
        """Start the next resumed item, or the next read that waited."""
        while self.current is None and (self.resuming or self.waiting):
            if self.resuming:
                item = self.resuming.popleft()
                self._carry_on(item)
            else:
                self._identify(self.waiting.popleft())

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

    # --- the box's condition -------------------------------------------------------------

    def _out_of_service(self) -> str | None:
        """Why the box takes no item now (None: it does)."""
        if self.estopped:
            return "e_stop"
        if ("belt", "jam") in self.alarms:
            return "jam"
        if self.cfg.sorting.fallback in self.full:
            return "bins_full"
        if self.cfg.box.flap_requires_card and not self.flap_until:
            return "card_required"
        return None

    def _check_bins(self) -> None:
        counts = self.ledger.counts()
        self.full = {b for b in self.capacity
                     if self.pins.is_full(b) or counts.get(b, 0) >= self.capacity[b]}
        for b in self.capacity:
            self.alarms.set(b, "bin_full", b in self.full)

    def _estop(self, pressed: bool) -> None:
        if pressed:
            self.pins.stop()
            self.estopped = True
            self.alarms.set("e_stop", "e_stop", True)
            self._show()
        log.warning("e-stop %s", "pressed" if pressed else "released (the belt waits for staff)")

    def _reader(self, arg: tuple[str, str]) -> None:
        name, state = arg
        self.readers_state[name] = state
        self.alarms.set(name, "reader_lost", state == "lost")
        self.runtime.refresh_status()
        if self.current is None:
            self._show()

    # --- cards, visits, staff ------------------------------------------------------------

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

    def _open_visit(self) -> None:
        if not self.visit.number:
            self._visits += 1
            self.visit = Visit(self._visits, lang=self.visit.lang)
        self.visit.last_at = time.monotonic()

    def _add_to_visit(self, item: Item) -> None:
        self.visit.items = [i for i in self.visit.items if i.barcode != item.barcode
                            or i.refusal is not None] + [returned(item)]
        self.visit.last_at = time.monotonic()

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

    # --- what the display shows -----------------------------------------------------------

    def _show(self, screen: Screen | None = None, code: str | None = None,
              items: Visit | None = None) -> None:
        if screen is None:
            screen, code = self._screen()
        visit = items or self.visit
        self.display.show(View(
            screen=screen, lang=visit.lang, items=tuple(visit.items),
            offline=not self.runtime.central_up, card=visit.card is not None,
            email_on_file=visit.email_on_file, printer=self.cfg.printer.kind != "none",
            code=code, staff=self.staff_view() if screen == "staff" else None))

    def _screen(self) -> tuple[Screen, str | None]:
        if self.staff_open:
            return "staff", None
        if self.estopped:
            return "wait", "e_stop"
        if ("belt", "jam") in self.alarms:
            return "wait", "jam"
        lost = [n for n, s in self.readers_state.items() if s == "lost"]
        if lost or self.cfg.sorting.fallback in self.full:
            return "closed", "reader_lost" if lost else "bins_full"
        if self.goodbye_until:
            return "goodbye", None
        if self.visit.items:
            return "taken", None
        return "idle", None

    def staff_view(self) -> StaffView:
        """What the maintenance view shows now."""
        return staff_view(self.ledger, self.capacity, self.full, self.alarms.names(),
                          self.pins.sensors(), self.runtime.health())
