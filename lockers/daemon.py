"""The pickup locker daemon: one thread turns door contacts, occupancy sensors and central's
commands into compartment decisions.

Each compartment's relay follows its door state: released after its pulse, or once its door
has swung open, and on stop; door changes and alarms go to central through the outbox.
`python -m lockers.daemon --config FILE [--check-config]`.
"""

import logging
import time
from typing import Any

from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory

from edge_common import __version__
from edge_common.commands import CommandRefused
from edge_common.coordinator import Coordinator
from edge_common.daemon_cli import daemon_command, run_until_stopped
from edge_common.doorstate import next_wait
from edge_common.gpio import pin_factory
from edge_common.protocol.commands import ClearAlarmArgs, OpenArgs
from edge_common.protocol.doors import DOOR_ALARM, DoorAlarm
from edge_common.protocol.lockers import COMPARTMENT_DOOR, CompartmentDoor
from edge_common.runtime import DeviceRuntime
from lockers.compartment import Compartment, PinChange
from lockers.config import LockerConfig

log = logging.getLogger(__name__)


class Locker:
    """The compartments and the device runtime, with one thread deciding."""

    def __init__(self, cfg: LockerConfig, factory: Factory | None = None) -> None:
        self.cfg = cfg
        self.coordinator = Coordinator("locker", {PinChange: self._pin},
                                       tick=lambda: self._tick(), wait=lambda: self._wait())
        self.runtime = DeviceRuntime(cfg.device, cfg.mqtt, cfg.outbox, version=__version__,
                                     status_extra=self._status)
        commands, on = self.runtime.commands, self.coordinator.call
        commands.route("open", self._open, on=on)
        commands.route("clear_alarm", self._clear_alarm, on=on)
        self.compartments = {c.id: Compartment(c, cfg.gpio.relay_active_high,
                                               self.coordinator.post, factory)
                             for c in cfg.compartments}

    def start(self) -> None:
        """Start the runtime and the deciding thread, from the doors as they are now."""
        self.runtime.start()
        now = time.monotonic()
        for c in self.compartments.values():
            c.state.set_contact(not c.contact.is_pressed, now)
        self.coordinator.start()

    def stop(self) -> None:
        """Stop deciding, lock every compartment and free the pins, then stop the runtime
        (also after a start that failed half-way)."""
        self.coordinator.stop(5)
        for c in self.compartments.values():
            c.close()
        self.runtime.stop()

    # --- the deciding thread ------------------------------------------------------------

    def _wait(self) -> float:
        return next_wait((c.state for c in self.compartments.values()), time.monotonic())

    def _tick(self) -> None:
        """Drive every relay from its state; report each alarm that came or went."""
        now = time.monotonic()
        for c in self.compartments.values():
            c.drive(now)
            c.state.tick(now)
            for alarm in c.state.alarms ^ c.reported:
                self._alarm(c, alarm, alarm in c.state.alarms)

    def _pin(self, event: PinChange) -> None:
        c = self.compartments[event.compartment]
        if event.sensor == "contact" and c.state.is_open == event.closed:
            now = time.monotonic()
            c.state.set_contact(not event.closed, now)
            if not event.closed:
                c.state.end_release()   # open: the lock latches again when the door is shut
            self.runtime.emit(COMPARTMENT_DOOR, CompartmentDoor(
                compartment=c.cfg.id, open=not event.closed, occupied=c.occupied))
            log.info("compartment %s: door %s", c.cfg.id, "shut" if event.closed else "open")
        self.runtime.refresh_status()

    def _alarm(self, c: Compartment, alarm: str, active: bool) -> None:
        (c.reported.add if active else c.reported.discard)(alarm)
        self.runtime.set_alarm(f"{c.cfg.id}:{alarm}", active)
        self.runtime.emit(DOOR_ALARM, DoorAlarm(door=c.cfg.id, alarm=alarm, active=active))
        log.warning("compartment %s: alarm %s %s", c.cfg.id, alarm,
                    "raised" if active else "cleared")

    def _status(self) -> dict[str, Any]:
        now = time.monotonic()
        return {"compartments": {c.cfg.id: {"released": c.state.released(now),
                                            "open": c.state.is_open, "occupied": c.occupied}
                                 for c in self.compartments.values()}}

    # --- commands from central (routed by the runtime, run on the deciding thread) -------

    def _open(self, args: OpenArgs) -> dict[str, Any]:
        """Release one compartment's lock for its pulse (or `seconds`)."""
        c, now = self._target(args.door), time.monotonic()
        c.state.grant(now, args.seconds or c.cfg.unlock_seconds)
        c.drive(now)   # energised before central hears `ok`
        log.warning("compartment %s: opened by central", c.cfg.id)
        return {"compartment": c.cfg.id}

    def _clear_alarm(self, args: ClearAlarmArgs) -> dict[str, Any]:
        """Staff checked a compartment: its latched alarm (a forced door) ends."""
        c = self._target(args.door)
        c.state.clear(args.alarm)
        return {"compartment": c.cfg.id}

    def _target(self, compartment: str | None) -> Compartment:
        if compartment is None:
            raise CommandRefused("a locker opens one compartment at a time: name it",
                                 code="compartment_required")
        if compartment not in self.compartments:
            raise CommandRefused(f"no compartment {compartment}", code="compartment_unknown")
        return self.compartments[compartment]


@daemon_command(LockerConfig, "The pickup locker", lambda cfg: f"{len(cfg.compartments)}"
                " compartments")
def main(cfg: LockerConfig) -> None:
    """Run the pickup locker until SIGTERM or Ctrl-C."""
    factory = pin_factory(cfg.gpio.pin_factory)
    locker = Locker(cfg, factory)
    if isinstance(factory, MockFactory):   # simulated: a mock input rests high, a door open
        for c in cfg.compartments:
            factory.pin(c.contact_pin).drive_low()
    run_until_stopped(locker.start, locker.stop)


if __name__ == "__main__":
    main()
