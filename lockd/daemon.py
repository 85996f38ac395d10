"""The lock daemon: one thread turns card reads, pins and commands into door decisions.

Every decision is local (replicated allow-list and calendar, per-door policy); every outcome
goes to central through the outbox; the relay always follows the door state.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import msgspec
from gpiozero.pins import Factory

from edge_common import __version__
from edge_common.access import GRANTED, Situation, decide
from edge_common.command_router import Route
from edge_common.commands import CommandRefused
from edge_common.coordinator import Coordinator
from edge_common.daemon_cli import daemon_command, run_until_stopped
from edge_common.doorstate import DoorState, next_wait
from edge_common.gpio import input_pin, pin_factory
from edge_common.live_config import LiveConfig
from edge_common.outbox import Priority
from edge_common.protocol.commands import (
    ClearAlarmArgs,
    ConfigArgs,
    DoorArgs,
    OpenArgs,
    SweepArgs,
    SwitchArgs,
)
from edge_common.protocol.datasets import ALLOWLIST, CALENDAR
from edge_common.protocol.doors import (
    ACCESS_DECISION,
    DOOR_ALARM,
    DOOR_EXIT,
    PRESENCE_SWEEP,
    AccessDecision,
    DoorAlarm,
    DoorExit,
    Sweep,
)
from edge_common.protocol.refusals import Door as Verdict
from edge_common.readers import CardRead, CardReader, open_reader
from edge_common.runtime import DeviceRuntime
from lockd.config import DoorConfig, LockdConfig
from lockd.door import DoorPins, PinKind
from lockd.presence import Presence

log = logging.getLogger(__name__)
Direction = Literal["in", "out"]


@dataclass(frozen=True)
class Tap:
    """A card presented at a door's reader."""

    door: str
    read: CardRead
    direction: Direction


@dataclass(frozen=True)
class ReaderState:
    """A door's reader was lost or is back."""

    door: str
    direction: Direction
    ok: bool


@dataclass(frozen=True)
class PinChange:
    """A door's input pin changed (`value`: what it now says; None for the exit button)."""

    door: str
    kind: PinKind
    value: bool | None


@dataclass(frozen=True)
class Emergency:
    """The fire panel's input changed."""

    active: bool


class Door:
    """One door's config, pins, state, readers and what it last decided."""

    def __init__(self, cfg: DoorConfig, post: Callable[[PinChange], None],
                 factory: Factory | None) -> None:
        self.cfg = cfg
        self.room = cfg.room or cfg.id
        self.state = DoorState(cfg.unlock_seconds, cfg.held_open_seconds, cfg.emergency_release,
                               feedback_settle=cfg.relay_feedback_ms / 1000)
        self.pins = DoorPins(cfg, lambda kind, arg: post(PinChange(cfg.id, kind, arg)), factory)
        self.readers: dict[Direction, CardReader] = {"in": open_reader(cfg.reader)}
        if cfg.exit_reader is not None:
            self.readers["out"] = open_reader(cfg.exit_reader)
        self.last_grant: dict[str, float] = {}
        self.last_result = "-"
        self.was_open_hours = False
        self.reported: set[str] = set()
        self.lost_readers: set[Direction] = set()


class LockDaemon:
    """Doors, their readers and the device runtime, with one thread deciding."""

    def __init__(self, cfg: LockdConfig, factory: Factory | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config = LiveConfig(cfg, LockdConfig)
        cfg = self.cfg = self.config.current
        self.clock = clock
        self.coordinator = Coordinator(
            "lockd", {Tap: lambda e: self.present(e.door, e.read, e.direction),
                      ReaderState: self._reader_changed, PinChange: self._pin,
                      Emergency: self._emergency},
            tick=lambda: self._reconcile(), wait=lambda: self._wait())
        self.runtime = DeviceRuntime(
            cfg.device, cfg.mqtt, cfg.outbox, version=__version__,
            datasets=[ALLOWLIST, CALENDAR], status_extra=self._status,
        )
        on = self.coordinator.call   # central's commands run on the deciding thread
        routes: dict[str, Route] = {"open": self._open, "lockdown": self._lockdown,
                                    "release": self._release, "clear_alarm": self._clear_alarm,
                                    "sweep": self._sweep,
                                    "config": self._configure}
        for name, route in routes.items():
            self.runtime.commands.route(name, route, on=on)
        self.presence = Presence(str(Path(cfg.device.data_dir) / "presence.db"))
        self.doors = {d.id: Door(d, self.coordinator.post, factory) for d in cfg.doors}
        self._fire = input_pin(cfg.gpio.emergency_pin,
                               lambda down: self.coordinator.post(Emergency(down)), factory)

    def start(self) -> None:
        """Start the runtime, the deciding thread and every reader."""
        self.runtime.start()
        for door in self.doors.values():
            if door.pins.contact is not None:
                door.state.set_contact(not door.pins.contact.is_pressed, time.monotonic())
            if door.pins.tamper is not None:
                self._alarm(door, "tamper", not door.pins.tamper.is_pressed)
            if self._fire is not None:
                door.state.set_emergency(self._fire.is_pressed)
        self.coordinator.start()
        for door in self.doors.values():
            for direction, reader in door.readers.items():
                reader.start(partial(self._card_read, door.cfg.id, direction),
                             partial(self._reader_state, door.cfg.id, direction))

    def _card_read(self, door_id: str, direction: Direction, read: CardRead) -> None:
        self.coordinator.post(Tap(door_id, read, direction))

    def _reader_state(self, door_id: str, direction: Direction, state: str,
                      detail: str | None) -> None:
        self.coordinator.post(ReaderState(door_id, direction, state == "ok"))

    def stop(self) -> None:
        """Stop readers, the deciding thread and the runtime; free the pins (also after a
        start that failed half-way)."""
        for door in self.doors.values():
            for reader in door.readers.values():
                reader.stop()
        self.coordinator.stop(5)
        self.runtime.stop()
        self.presence.close()
        for door in self.doors.values():
            door.pins.close()
        if self._fire is not None:
            self._fire.close()

    # --- the deciding thread ------------------------------------------------------------

    def _wait(self) -> float:
        return next_wait((d.state for d in self.doors.values()), time.monotonic())

    def _emergency(self, event: Emergency) -> None:
        for d in self.doors.values():
            d.state.set_emergency(event.active)

    def _pin(self, event: PinChange) -> None:
        door, now = self.doors[event.door], time.monotonic()
        if event.kind == "contact":
            door.state.set_contact(bool(event.value), now)
            self._report(door)          # now, not at the next tick: events may queue first
        elif event.kind == "exit":
            door.state.grant(now)
            self.presence.leave(door.room, None)
            self.runtime.emit(DOOR_EXIT, DoorExit(door=door.cfg.id, room=door.room),
                              Priority.NORMAL)
        elif event.kind == "feedback":
            door.state.set_feedback(bool(event.value), now)
        else:
            self._alarm(door, "tamper", bool(event.value))

    def _reader_changed(self, event: ReaderState) -> None:
        door = self.doors[event.door]
        (door.lost_readers.discard if event.ok else door.lost_readers.add)(event.direction)
        self._alarm(door, "reader_lost", bool(door.lost_readers))

    def _reconcile(self) -> None:
        """Drive every relay from its state, raise time alarms, report alarm changes, sweep."""
        now = time.monotonic()
        wall = self.clock()
        for door in self.doors.values():
            door.state.relay_driven(door.pins.set_released(door.state.released(now)), now)
            door.state.tick(now)
            self._report(door)
            open_hours = door.cfg.schedule.is_open(wall, self._closed_day)
            if door.was_open_hours and not open_hours:
                self.sweep(door.room)
            door.was_open_hours = open_hours

    def _report(self, door: Door) -> None:
        """Report each change of the door state's alarms since the last report."""
        for alarm in door.state.alarms ^ (door.reported & _STATE_ALARMS):
            self._alarm(door, alarm, alarm in door.state.alarms)

    def _alarm(self, door: Door, alarm: str, active: bool) -> None:
        if (alarm in door.reported) == active:
            return
        (door.reported.add if active else door.reported.discard)(alarm)
        self.runtime.set_alarm(f"{door.cfg.id}:{alarm}", active)
        self.runtime.emit(DOOR_ALARM, DoorAlarm(door=door.cfg.id, alarm=alarm, active=active))
        log.warning("door %s: alarm %s %s", door.cfg.id, alarm, "raised" if active else "cleared")

    def verdict(self, door: Door, read: CardRead, direction: Direction = "in") -> tuple[str, str]:
        """(card hash, verdict) for a presented card, from local data only; changes nothing."""
        hashed, entry = self.runtime.listed(read.uid)
        now = self.clock()
        synced = self.runtime.synced_at(ALLOWLIST)
        last = door.last_grant.get(hashed)
        situation = Situation(
            today=now.astimezone(door.cfg.schedule.zone).date(),
            open_now=direction == "out" or door.cfg.schedule.is_open(now, self._closed_day),
            list_age=None if synced is None else time.time() - synced,
            since_last_grant=None if last is None else read.at - last,
            inside=self.presence.is_inside(door.room, hashed),
            entering=direction == "in",
        )
        result = Verdict.LOCKDOWN if door.state.lockdown else decide(entry, door.cfg.policy,
                                                                  situation)
        return hashed, result

    @property
    def key(self) -> bytes:
        """The site's newest card key."""
        return self.runtime.card_keys.keys[0]

    def present(self, door_id: str, read: CardRead, direction: Direction = "in") -> str:
        """Decide on a presented card, release the door if granted, log the decision."""
        door = self.doors[door_id]
        hashed, result = self.verdict(door, read, direction)
        if result == GRANTED:
            door.state.grant(time.monotonic())
            door.pins.set_released(True)
            door.last_grant[hashed] = read.at
            (self.presence.enter if direction == "in" else self.presence.leave)(door.room, hashed)
        door.pins.signal(result)
        self.runtime.emit(ACCESS_DECISION, AccessDecision(
            door=door_id, room=door.room, card=hashed, result=result, direction=direction),
            Priority.NORMAL)
        door.last_result = result
        log.info("door %s (%s): %s", door_id, direction, result)
        if read.reply is not None:
            read.reply(result)
        return result

    def sweep(self, room: str) -> dict[str, Any]:
        """End of the evening: report who may still be inside a room and start it afresh."""
        roster, count = self.presence.sweep(room)
        body = Sweep(room=room, count=count, inside=roster)
        self.runtime.emit(PRESENCE_SWEEP, body)
        return msgspec.to_builtins(body)

    def _closed_day(self, day: date) -> bool:
        """Whether the branch calendar central publishes closes `day` (a row: closed)."""
        return self.runtime.lookup(CALENDAR, day.isoformat()) is not None

    def _status(self) -> dict[str, Any]:
        now = time.monotonic()
        return {"doors": {d.cfg.id: {"released": d.state.released(now), "open": d.state.is_open,
                                     "lockdown": d.state.lockdown, "room": d.room,
                                     "inside": self.presence.count(d.room),
                                     "result": d.last_result}
                          for d in self.doors.values()}}

    # --- commands from central (routed by the runtime, run on the deciding thread) -------

    def _open(self, args: OpenArgs) -> dict[str, Any]:
        def open_door(door: Door, now: float) -> None:
            if door.state.lockdown:
                raise CommandRefused("door is in lockdown", code="door_lockdown")
            door.state.grant(now, args.seconds or door.cfg.unlock_seconds)
        return self._doors("open", args, open_door)

    def _lockdown(self, args: SwitchArgs) -> dict[str, Any]:
        return self._doors("lockdown", args, lambda d, _: d.state.set_lockdown(args.active))

    def _release(self, args: SwitchArgs) -> dict[str, Any]:
        def hold(door: Door, now: float) -> None:
            door.state.held_released = args.active
        return self._doors("release", args, hold)

    def _clear_alarm(self, args: ClearAlarmArgs) -> dict[str, Any]:
        return self._doors("clear_alarm", args, lambda d, _: d.state.clear(args.alarm))

    def _sweep(self, args: SweepArgs) -> dict[str, Any]:
        return self.sweep(args.room)

    def _doors(self, name: str, args: DoorArgs,
               act: Callable[[Door, float], None]) -> dict[str, Any]:
        """Apply a door command to its door, or to every door of the lock."""
        targets = self._targets(args.door)
        now = time.monotonic()
        for door in targets:
            act(door, now)
        log.warning("command %s applied to %s", name, [d.cfg.id for d in targets])
        return {"doors": [d.cfg.id for d in targets]}

    def _configure(self, args: ConfigArgs) -> dict[str, Any]:
        """Take central's config: door rules (policy, schedule) apply at once; anything else
        (pins, readers, doors added or removed, other sections) at the next start."""
        new = self.config.take(args)
        live = [d for d in new.doors if d.id in self.doors and _same_but_rules(
            self.doors[d.id].cfg, d)]
        for door_cfg in live:
            self.doors[door_cfg.id].cfg = door_cfg
        restart = len(live) != len(new.doors) or len(new.doors) != len(self.doors) or any(
            getattr(new, f) != getattr(self.cfg, f) for f in ("outbox", "gpio"))
        self.cfg = new
        self.runtime.config_applied(args.version)
        log.warning("config v%d in force%s", args.version,
                    "; the rest at the next start" if restart else "")
        return {"version": args.version, "restart_needed": restart}

    def _targets(self, door_id: str | None) -> list[Door]:
        if door_id is None:
            return list(self.doors.values())
        if door_id not in self.doors:
            raise CommandRefused(f"no door {door_id}", code="door_unknown")
        return [self.doors[door_id]]


def _same_but_rules(old: DoorConfig, new: DoorConfig) -> bool:
    """Whether two door configs differ at most in what a running door can take: its rules."""
    return msgspec.structs.replace(new, policy=old.policy, schedule=old.schedule) == old


_STATE_ALARMS = {"door_forced", "door_held_open", "emergency_release", "relay_fault"}


@daemon_command(LockdConfig, "lockd", lambda cfg: f"{len(cfg.doors)} doors")
def main(cfg: LockdConfig) -> None:
    """Run the door daemon until SIGTERM or Ctrl-C."""
    daemon = LockDaemon(cfg, pin_factory(cfg.gpio.pin_factory))
    run_until_stopped(daemon.start, daemon.stop)


if __name__ == "__main__":
    main()
