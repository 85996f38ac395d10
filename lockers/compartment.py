"""One compartment: its door's state (edge_common's `DoorState`) and its gpiozero pins.

Wiring (BCM numbers): the lock's solenoid on a relay output on `relay_pin`, energised to unlock
(fail-secure: a power cut leaves every compartment locked; `relay_active_high = false` for
active-low relay boards); the door contact between `contact_pin` and GND, closed while the door
is shut; the occupancy sensor's open-collector output (or a switch) on `occupancy_pin`, pulled
to GND while something is inside. Inputs only post events; the relay follows the state.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gpiozero import Button, DigitalOutputDevice
from gpiozero.pins import Factory

from edge_common.config import Pin
from edge_common.doorstate import DoorState
from edge_common.gpio import input_pin
from lockers.config import CompartmentConfig

Sensor = Literal["contact", "occupancy"]


@dataclass(frozen=True)
class PinChange:
    """A compartment's door contact or occupancy sensor changed (`closed`: pulled to GND)."""

    compartment: str
    sensor: Sensor
    closed: bool


class Compartment:
    """A compartment's config, door state and pins."""

    def __init__(self, cfg: CompartmentConfig, relay_active_high: bool,
                 post: Callable[[PinChange], None], factory: Factory | None) -> None:
        self.cfg = cfg
        self.state = DoorState(cfg.unlock_seconds, cfg.held_open_seconds,
                               emergency_release=False)
        self.reported: set[str] = set()   # the alarms central was told are raised
        self.relay = DigitalOutputDevice(cfg.relay_pin, active_high=relay_active_high,
                                         initial_value=False, pin_factory=factory)
        self.inputs: list[Button] = []
        self.contact = self._input(cfg.contact_pin, "contact", post, factory)
        self.occupancy = self._input(cfg.occupancy_pin, "occupancy", post, factory)

    def _input(self, pin: Pin, sensor: Sensor, post: Callable[[PinChange], None],
               factory: Factory | None) -> Button:
        return input_pin(pin, lambda closed: post(PinChange(self.cfg.id, sensor, closed)),
                         factory, self.inputs)

    @property
    def occupied(self) -> bool:
        """Whether the occupancy sensor sees something inside now."""
        return bool(self.occupancy.is_pressed)

    def drive(self, now: float) -> bool:
        """Energise the relay exactly while the state releases the lock; whether it is."""
        on = self.state.released(now)
        if bool(self.relay.value) != on:
            self.relay.value = on
        self.state.relay_driven(on, now)
        return on

    def close(self) -> None:
        """Lock (relay off) and free every pin."""
        self.relay.off()
        for device in [self.relay, *self.inputs]:
            device.close()
