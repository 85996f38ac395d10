"""A simulated belt on gpiozero's MockFactory: it watches the motor and diverter outputs and
drives the sensor inputs on timers as a real belt would (demo and tests).

An item put in breaks the entry eye for a moment; while the motor runs with a diverter set, the
item reaches that bin's arrival eye after `travel_time` (unless told to jam), the bin's fill
grows and its full sensor closes at capacity; `empty(bin)` opens it again. With a `chute`
socket, any datagram sent there (`send_sim_tap`) is an item put in that no reader can read: it
breaks the entry eye and nothing else (how a test outside the process drives the eye).
"""

import threading
import time

from gpiozero.pins.mock import MockFactory

from edge_common.readers.config import SimReaderConfig
from edge_common.readers.sim import SimReader
from returnbox.config import BinConfig, GpioSection

PULSE = 0.05   # how long a passing item breaks an eye


class SimulatedBelt:
    """The physical side of a box, run by a thread of its own."""

    def __init__(self, factory: MockFactory, gpio: GpioSection, bins: list[BinConfig],
                 travel_time: float, chute: str | None = None) -> None:
        self.factory = factory
        self.gpio = gpio
        self.bins = {b.name: b for b in bins}
        self.travel_time = travel_time
        self.fill = dict.fromkeys(self.bins, 0)
        self.jam = False            # the next items never arrive
        self.delivered: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-belt", daemon=True)
        self._chute = SimReader(SimReaderConfig(chute, "chute")) if chute is not None else None

    def start(self) -> None:
        """Open every input (no beam broken, nothing full, e-stop released) and run."""
        inputs = [self.gpio.entry_pin, self.gpio.estop_pin,
                  *(p for b in self.bins.values() for p in (b.arrival_pin, b.full_pin))]
        for pin in inputs:
            if pin is not None:
                self.factory.pin(pin).drive_high()
        self._thread.start()
        if self._chute is not None:
            self._chute.start(lambda read: self.insert(), lambda state, detail: None)

    def stop(self) -> None:
        """Stop the simulation."""
        if self._chute is not None:
            self._chute.stop()
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)

    def insert(self) -> None:
        """An item passes the entry eye."""
        if self.gpio.entry_pin is not None:
            self._pulse(self.gpio.entry_pin)

    def press_estop(self, pressed: bool) -> None:
        """Press or release the emergency stop."""
        if self.gpio.estop_pin is not None:
            pin = self.factory.pin(self.gpio.estop_pin)
            pin.drive_low() if pressed else pin.drive_high()

    def empty(self, bin: str) -> None:
        """Staff emptied a bin: its full sensor opens."""
        with self._lock:
            self.fill[bin] = 0
            self._show_full(bin)

    def _on(self, pin: object) -> bool:
        return bool(self.factory.pin(pin).state) == self.gpio.active_high

    def _run(self) -> None:
        motor = self.factory.pin(self.gpio.motor_pin)
        seen = len(motor.states)          # every change the box made, none missed
        started: float | None = None      # when the current trip began (None: belt stopped)
        releases: list[tuple[float, object]] = []
        while not self._stop.wait(0.002):
            now = time.monotonic()
            changes = motor.states[seen:]
            seen += len(changes)
            for change in changes:
                started = now if bool(change.state) == self.gpio.active_high else None
            for at, pin in [r for r in releases if r[0] <= now]:
                self.factory.pin(pin).drive_high()
                releases.remove((at, pin))
            target = next((n for n, b in self.bins.items() if self._on(b.diverter_pin)), None)
            if started is None or target is None or self.jam or now - started < self.travel_time:
                continue
            pin = self.bins[target].arrival_pin
            if any(p == pin for _, p in releases):
                continue   # the last item still breaks this eye: the next one comes after it
            started = None                # one item per trip: the box starts the next
            with self._lock:
                self.fill[target] += 1
                self.delivered.append(target)
                self._show_full(target)
            self.factory.pin(pin).drive_low()
            releases.append((now + PULSE, pin))

    def _show_full(self, bin: str) -> None:
        b = self.bins[bin]
        if b.full_pin is not None:
            pin = self.factory.pin(b.full_pin)
            pin.drive_low() if self.fill[bin] >= b.capacity else pin.drive_high()

    def _pulse(self, pin: object) -> None:
        p = self.factory.pin(pin)
        p.drive_low()
        time.sleep(PULSE)
        p.drive_high()
