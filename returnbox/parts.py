"""The return box's parts, its condition, the visit and what its display shows."""

import logging
import time
from pathlib import Path

from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory

from edge_common import __version__
from edge_common.protocol.datasets import ALLOWLIST
from edge_common.protocol.returns import HELD_ITEMS, SHELF_ITEMS
from edge_common.readers import CardReader, open_reader
from edge_common.runtime import DeviceRuntime
from returnbox.alarms import BoxAlarms
from returnbox.belt import BeltPins, Post
from returnbox.checkin import Checkins
from returnbox.config import ItemReaderConfig, ReturnboxConfig, RfidReaderConfig
from returnbox.events import TagRefused
from returnbox.ledger import Item, Ledger
from returnbox.logdisplay import LogDisplay
from returnbox.rfid import RfidItemReader, SimTagSource
from returnbox.simbelt import SimulatedBelt
from returnbox.staff import staff_view
from returnbox.views import Display, Screen, StaffView, View
from returnbox.visit import Visit, returned

log = logging.getLogger(__name__)


class BoxParts:
    """Readers, pins, ledger, runtime and display of one box, its condition and the visit;
    `post` hands what the pins and readers report to whoever decides (never blocks)."""

    def __init__(self, cfg: ReturnboxConfig, factory: Factory | None, display: Display | None,
                 post: Post) -> None:
        self.cfg = cfg
        self.post = post
        self.runtime = DeviceRuntime(cfg.device, cfg.mqtt, cfg.outbox, version=__version__,
                                     datasets=[ALLOWLIST, HELD_ITEMS, SHELF_ITEMS],
                                     status_extra=lambda: {"readers": dict(self.readers_state)})
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
        self.visit = Visit(0, lang=cfg.box.languages[0])
        self._visits = self.ledger.last_visit()
        self.estopped = False
        self.staff_open = False
        self.flap_until = 0.0
        self.goodbye_until = 0.0
        self.full: set[str] = set()

    def close(self) -> None:
        """Close the display, stop the simulator and runtime, free the pins and the ledger."""
        self.display.close()
        if self.sim is not None:
            self.sim.stop()
        self.pins.close()
        self.runtime.stop()
        self.ledger.close()

    def _item_reader(self, cfg: ItemReaderConfig) -> CardReader:
        """The configured item reader; an RFID reader's refused tags (another library's, or
        unreadable) are handed back to the patron with their code."""
        if isinstance(cfg, RfidReaderConfig):
            return RfidItemReader(cfg.name, self.tag_field, cfg.isil,
                                  lambda code, tag: self.post(TagRefused(code)))
        return open_reader(cfg)

    # --- the box's condition ---

    def out_of_service(self) -> str | None:
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

    def check_bins(self) -> None:
        """Which bins are full, by their sensor or the ledger's count; each an alarm."""
        counts = self.ledger.counts()
        self.full = {b for b in self.capacity
                     if self.pins.is_full(b) or counts.get(b, 0) >= self.capacity[b]}
        for b in self.capacity:
            self.alarms.set(b, "bin_full", b in self.full)

    def estop_changed(self, pressed: bool) -> None:
        """The emergency stop: pressed stops the belt until staff restart it."""
        if pressed:
            self.pins.stop()
            self.estopped = True
            self.alarms.set("e_stop", "e_stop", True)
            self.show()
        log.warning("e-stop %s", "pressed" if pressed else "released (the belt waits for staff)")

    def reader_changed(self, name: str, state: str) -> None:
        """A reader was lost or is back: an alarm, and central sees it in the status."""
        self.readers_state[name] = state
        self.alarms.set(name, "reader_lost", state == "lost")
        self.runtime.refresh_status()

    # --- the visit ---

    def open_visit(self) -> None:
        """Number a new visit (unless one is open); it is active now."""
        if not self.visit.number:
            self._visits += 1
            self.visit = Visit(self._visits, lang=self.visit.lang)
        self.visit.last_at = time.monotonic()

    def add_to_visit(self, item: Item) -> None:
        """What became of an item, in the visit (a new read of it replaces one taken)."""
        self.visit.items = [i for i in self.visit.items if i.barcode != item.barcode
                            or i.refusal is not None] + [returned(item)]
        self.visit.last_at = time.monotonic()

    # --- what the display shows ---

    def show(self, screen: Screen | None = None, code: str | None = None,
             items: Visit | None = None) -> None:
        """Hand the display a View: `screen` (or the box's condition) of `items` (or the visit)."""
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
