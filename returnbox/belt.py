"""The chute, conveyor and bins on gpiozero; inputs only post events, outputs are set by the
coordinator.

Wiring (BCM numbers): the entry photo-eye, each bin's arrival eye and full sensor, and the
emergency stop switch to GND (internal pull-ups; closed = active: beam broken, bin full,
e-stop pressed); the conveyor motor contactor, one diverter solenoid per bin and the chute
flap's lock on relay outputs (`active_high = false` for active-low relay boards). A real
e-stop also cuts the motor's power in hardware; the daemon stops it too and waits for staff.
"""

from collections.abc import Callable

from gpiozero import Button, OutputDevice
from gpiozero.pins import Factory

from edge_common.config import Pin
from edge_common.gpio import input_pin
from returnbox.config import BinConfig, GpioSection
from returnbox.events import Arrived, BinSensor, EStop, Eye

Post = Callable[[object], None]   # hands an event to the coordinator, never blocks


class BeltPins:
    """The gpiozero devices of one box."""

    def __init__(self, gpio: GpioSection, bins: list[BinConfig], post: Post,
                 factory: Factory | None = None) -> None:
        def out(pin: Pin) -> OutputDevice:
            return OutputDevice(pin, active_high=gpio.active_high, initial_value=False,
                                pin_factory=factory)

        self.motor = out(gpio.motor_pin)
        self.flap = out(gpio.flap_lock_pin) if gpio.flap_lock_pin is not None else None
        self.diverters = {b.name: out(b.diverter_pin) for b in bins}
        self.inputs: list[Button] = []
        self.eye = input_pin(gpio.entry_pin, lambda on: post(Eye(on)), factory, self.inputs)
        self.estop = input_pin(gpio.estop_pin, lambda on: post(EStop(on)), factory, self.inputs)
        self.arrival = {b.name: input_pin(b.arrival_pin, _arrival(post, b.name),
                                       factory, self.inputs) for b in bins}
        self.full = {b.name: input_pin(b.full_pin, _full(post, b.name), factory,
                                    self.inputs) for b in bins}

    def run(self, bin: str | None) -> None:
        """Set the one diverter for `bin` and run the belt (None: stop it, diverters off)."""
        if bin is None:
            self.motor.off()
        for name, diverter in self.diverters.items():
            diverter.value = name == bin
        if bin is not None:
            self.motor.on()

    def stop(self) -> None:
        """Stop the belt at once (diverters stay as they are)."""
        self.motor.off()

    def open_flap(self, open: bool) -> None:
        """Release (True) or lock the chute flap, when the box has one."""
        if self.flap is not None:
            self.flap.value = open

    def sensors(self) -> list[tuple[str, bool]]:
        """Every input and whether it is active now, for the staff view."""
        named = [("entry", self.eye), ("e_stop", self.estop),
                 *((f"{n}:arrival", b) for n, b in self.arrival.items()),
                 *((f"{n}:full", b) for n, b in self.full.items())]
        return [(name, bool(b.is_pressed)) for name, b in named if b is not None]

    def is_full(self, bin: str) -> bool:
        """Whether the bin's full sensor is active (False without one)."""
        sensor = self.full.get(bin)
        return bool(sensor is not None and sensor.is_pressed)

    def close(self) -> None:
        """Stop the belt, lock the flap and free every pin."""
        for device in [self.motor, self.flap, *self.diverters.values(), *self.inputs]:
            if device is not None:
                device.close()


def _arrival(post: Post, bin: str) -> Callable[[bool], None]:
    return lambda on: post(Arrived(bin)) if on else None


def _full(post: Post, bin: str) -> Callable[[bool], None]:
    return lambda on: post(BinSensor(bin, on))
