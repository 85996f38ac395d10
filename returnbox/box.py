"""The return box's coordinator: one thread turns reads, pins, taps and central's answers into
the item state machine, the belt, the bins, alarms and the patron's views.

One item at a time: detected → identified → checked in (or queued) → diverted → arrived (or
jammed). Each state is committed to the ledger before the box acts on it; a restart resumes
every unfinished item with the same request id, so nothing is checked in twice or lost.
"""

import logging
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from gpiozero.pins import Factory

from edge_common.commands import CommandRefused
from edge_common.coordinator import Coordinator
from edge_common.protocol.commands import ClearAlarmArgs
from edge_common.readers import CardRead
from returnbox.config import ReturnboxConfig
from returnbox.desk import Desk
from returnbox.events import (
    Arrived,
    BinSensor,
    CardTap,
    EStop,
    Eye,
    ItemRead,
    ReaderChanged,
    Resume,
    ScreenAction,
    TagRefused,
)
from returnbox.views import Display

log = logging.getLogger(__name__)


class ReturnBox(Desk):
    """The box with its one deciding thread: events, timers, resume at start, central's commands."""

    def __init__(self, cfg: ReturnboxConfig, factory: Factory | None = None,
                 display: Display | None = None) -> None:
        coordinator = Coordinator("returnbox", {
            Resume: lambda _: self._resume(), ItemRead: lambda e: self._read(e.read),
            CardTap: lambda e: self._card(e.read), Eye: lambda e: self._eye(e.broken),
            Arrived: lambda e: self._arrived(e.bin), BinSensor: lambda _: self._check_bins(),
            EStop: lambda e: self._estop(e.pressed), ScreenAction: lambda e: self._action(e.action),
            ReaderChanged: self._reader, TagRefused: lambda e: self._tag_refused(e.code),
        }, tick=lambda: self._tick(), wait=lambda: self._wait())
        super().__init__(cfg, factory, display, coordinator)
        # central's `clear_alarm` (`door` names the part: `belt`, a bin, `e_stop`, ...)
        self.runtime.commands.route("clear_alarm", self._clear, on=coordinator.call)

    def start(self) -> None:
        """Start the runtime, the belt simulator, the coordinator, the display and readers."""
        self.runtime.start()
        if self.sim is not None:
            self.sim.start()
        self.post(Resume())
        self.coordinator.start()
        self.display.start(lambda action: self.post(ScreenAction(action)))
        for name, reader in self.readers.items():
            reader.start(self._tapped if name == "card_reader" else self._item_read,
                         partial(self._reader_state, name))

    def _tapped(self, read: CardRead) -> None:
        self.post(CardTap(read))

    def _item_read(self, read: CardRead) -> None:
        self.post(ItemRead(read))

    def stop(self) -> None:
        """Stop readers, the coordinator, the simulator and runtime; free the pins (also after
        a start that failed half-way)."""
        for reader in self.readers.values():
            reader.stop()
        self.coordinator.stop(5)
        self.display.close()
        if self.sim is not None:
            self.sim.stop()
        self.pins.close()
        self.runtime.stop()
        self.ledger.close()

    def _clear(self, args: ClearAlarmArgs) -> dict[str, Any]:
        """Staff cleared an alarm from afar: a jam or an e-stop as from the staff view."""
        part, code = args.door, args.alarm
        if part is None:
            raise CommandRefused("clear_alarm names no part of the box", code="command_invalid")
        if (part, code) not in self.alarms:
            raise CommandRefused(f"no alarm {code} at {part}", code="alarm_unknown")
        if code in ("jam", "e_stop"):
            self._restart_belt()
        else:
            self.alarms.set(part, code, False)
        return {"cleared": f"{part}:{code}", "active": (part, code) in self.alarms}

    # --- the coordinator thread ---

    def _wait(self) -> float:
        if self.deadline is None:
            return 0.5
        return min(0.5, max(0.0, self.deadline - time.monotonic()))

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
        if self.resuming and self.current is None:
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
