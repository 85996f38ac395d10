"""The return box's coordinator: one thread turns reads, pins, taps and central's answers into
the item state machine, the belt, the bins, alarms and the patron's views. It wires the box's
parts (`BoxParts`), the item flow (`ItemFlow`) and what people do at the box (`Desk`).

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
from returnbox.flow import ItemFlow
from returnbox.parts import BoxParts
from returnbox.views import Display

log = logging.getLogger(__name__)


class ReturnBox:
    """The box with its one deciding thread: events, timers, resume at start, central's commands."""

    def __init__(self, cfg: ReturnboxConfig, factory: Factory | None = None,
                 display: Display | None = None) -> None:
        self.cfg = cfg
        self.coordinator = Coordinator("returnbox", {
            Resume: lambda _: self._resume(), ItemRead: lambda e: self.flow.read(e.read),
            CardTap: lambda e: self.desk.card(e.read), Eye: lambda e: self.flow.eye(e.broken),
            Arrived: lambda e: self.flow.arrived(e.bin),
            BinSensor: lambda _: self.parts.check_bins(),
            EStop: lambda e: self.parts.estop_changed(e.pressed),
            ScreenAction: lambda e: self.desk.action(e.action), ReaderChanged: self._reader,
            TagRefused: lambda e: self.flow.tag_refused(e.code),
        }, tick=self._tick, wait=self._wait)
        self.parts = BoxParts(cfg, factory, display, self.coordinator.post)
        self.flow = ItemFlow(self.parts)
        self.desk = Desk(self.parts, self.flow)
        self.runtime = self.parts.runtime
        self._offline_since: float | None = None
        # central's `clear_alarm` (`door` names the part: `belt`, a bin, `e_stop`, ...)
        self.runtime.commands.route("clear_alarm", self._clear, on=self.coordinator.call)

    def post(self, event: object) -> None:
        """Hand an event to the coordinator (any thread)."""
        self.coordinator.post(event)

    def start(self) -> None:
        """Start the runtime, the belt simulator, the coordinator, the display and readers."""
        p = self.parts
        self.runtime.start()
        if p.sim is not None:
            p.sim.start()
        self.post(Resume())
        self.coordinator.start()
        p.display.start(lambda action: self.post(ScreenAction(action)))
        for name, reader in p.readers.items():
            reader.start(self._tapped if name == "card_reader" else self._item_read,
                         partial(self._reader_state, name))

    def _tapped(self, read: CardRead) -> None:
        self.post(CardTap(read))

    def _item_read(self, read: CardRead) -> None:
        self.post(ItemRead(read))

    def _reader_state(self, name: str, state: str, detail: str | None) -> None:
        self.post(ReaderChanged(name, state))

    def stop(self) -> None:
        """Stop readers, the coordinator, the simulator and runtime; free the pins (also after
        a start that failed half-way)."""
        for reader in self.parts.readers.values():
            reader.stop()
        self.coordinator.stop(5)
        self.parts.close()

    def _clear(self, args: ClearAlarmArgs) -> dict[str, Any]:
        """Staff cleared an alarm from afar: a jam or an e-stop as from the staff view."""
        part, code = args.door, args.alarm
        alarms = self.parts.alarms
        if part is None:
            raise CommandRefused("clear_alarm names no part of the box", code="command_invalid")
        if (part, code) not in alarms:
            raise CommandRefused(f"no alarm {code} at {part}", code="alarm_unknown")
        if code in ("jam", "e_stop"):
            self.desk.restart_belt()
        else:
            alarms.set(part, code, False)
        return {"cleared": f"{part}:{code}", "active": (part, code) in alarms}

    # --- the coordinator thread ---

    def _wait(self) -> float:
        deadline = self.flow.deadline
        if deadline is None:
            return 0.5
        return min(0.5, max(0.0, deadline - time.monotonic()))

    def _resume(self) -> None:
        """Find every item a restart left unfinished and let the flow carry on with them."""
        p = self.parts
        pruned = p.ledger.prune(datetime.now(UTC) - timedelta(days=self.cfg.box.keep_days))
        if pruned:
            log.info("ledger: %d finished items older than %d days forgotten", pruned,
                     self.cfg.box.keep_days)
        if p.ledger.jammed():
            p.alarms.set("belt", "jam", True)   # still stuck: staff have not cleared it
        if p.pins.estop is not None and p.pins.estop.is_pressed:
            p.estop_changed(True)               # pressed while the box was off
        self.flow.resume(p.ledger.unfinished())
        p.check_bins()
        p.show()

    def _reader(self, event: ReaderChanged) -> None:
        self.parts.reader_changed(event.name, event.state)
        if self.flow.current is None:
            self.parts.show()

    def _tick(self) -> None:
        now = time.monotonic()
        self.flow.overdue(now)
        self.desk.close_flap(now)
        self.flow.carry_on()
        self.desk.time_out(now)
        self._watch_link(now)

    def _watch_link(self, now: float) -> None:
        if self.runtime.central_up:
            self._offline_since = None
        else:
            self._offline_since = self._offline_since or now
        too_long = self._offline_since is not None and (
            now - self._offline_since >= self.cfg.box.offline_alarm_minutes * 60)
        self.parts.alarms.set("link", "offline_too_long", too_long)
