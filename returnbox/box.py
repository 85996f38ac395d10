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
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from gpiozero.pins import Factory

from edge_common.commands import Command, CommandRefused, arguments
from edge_common.protocol.commands import ClearAlarmArgs
from returnbox.config import ReturnboxConfig
from returnbox.desk import Desk
from returnbox.views import Display

log = logging.getLogger(__name__)


class ReturnBox(Desk):
    """The box with its one deciding thread: events, timers, resume at start, central's commands."""

    def __init__(self, cfg: ReturnboxConfig, factory: Factory | None = None,
                 display: Display | None = None) -> None:
        super().__init__(cfg, factory, display, self._command)
        self._thread = threading.Thread(target=self._run, name="returnbox", daemon=True)

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

    # --- the coordinator thread ---

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
