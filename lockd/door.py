"""A door's pins, driven with gpiozero; inputs only post events, outputs follow the door state.

Wiring (BCM numbers): relay board IN on `relay_pin` (many boards are active-low:
`relay_active_high = false`); door contact between `contact_pin` and GND, closed when the
door is shut; exit button and fire-alarm contact likewise to GND (internal pull-ups); tamper
switch closed while the housing is shut; the relay's auxiliary contact (or a current sensor)
to GND on `relay_feedback_pin`, closed while the relay is pulled in; LEDs and buzzer on
their pins through resistors.
`fail_mode = "secure"` means the relay is energised to unlock (strike); `"safe"` means it is
energised to lock (maglock), so a power cut opens the door.
"""

from collections.abc import Callable
from typing import Literal

from gpiozero import LED, Button, Buzzer, DigitalOutputDevice
from gpiozero.pins import Factory

from edge_common.gpio import input_pin
from lockd.config import DoorConfig

PinKind = Literal["contact", "exit", "tamper", "feedback"]
FEEDBACK = {  # reason class → (LED, on seconds, beeps)
    "granted": ("green", 1.5, 1),
    "denied": ("red", 1.5, 2),
    "fault": ("red", 0.2, 3),
}
FAULT_REASONS = {"list_stale", "card_data_invalid"}


class DoorPins:
    """The gpiozero devices of one door."""

    def __init__(self, cfg: DoorConfig, post: Callable[[PinKind, bool | None], None],
                 factory: Factory | None = None) -> None:
        self.cfg = cfg
        safe = cfg.fail_mode == "safe"
        self.relay = DigitalOutputDevice(cfg.relay_pin, active_high=cfg.relay_active_high,
                                         initial_value=safe, pin_factory=factory)
        self.inputs: list[Button] = []
        self.contact = input_pin(cfg.contact_pin, lambda down: post("contact", not down),
                                   factory, self.inputs)
        input_pin(cfg.exit_pin, lambda down: post("exit", None) if down else None, factory,
                  self.inputs)
        self.tamper = input_pin(cfg.tamper_pin, lambda down: post("tamper", not down), factory,
                                self.inputs)
        feedback = input_pin(cfg.relay_feedback_pin, lambda down: post("feedback", down),
                             factory, self.inputs)
        if feedback is not None:
            post("feedback", feedback.is_pressed)
        self.leds = {name: LED(pin, pin_factory=factory) for name, pin in
                     (("green", cfg.green_led_pin), ("red", cfg.red_led_pin)) if pin is not None}
        self.buzzer = (Buzzer(cfg.buzzer_pin, pin_factory=factory)
                       if cfg.buzzer_pin is not None else None)

    def set_released(self, released: bool) -> bool:
        """Drive the relay so the lock is released or secured, per the fail mode; return
        whether it is energised."""
        energised = released if self.cfg.fail_mode == "secure" else not released
        if bool(self.relay.value) != energised:
            self.relay.value = energised
        return energised

    def signal(self, reason: str) -> None:
        """Show a decision to the person at the door: green for granted, red otherwise."""
        kind = "granted" if reason == "granted" else (
            "fault" if reason in FAULT_REASONS else "denied")
        led, seconds, beeps = FEEDBACK[kind]
        if led in self.leds:
            self.leds[led].blink(on_time=seconds if beeps == 1 else seconds / beeps,
                                 off_time=0.1, n=1 if kind != "fault" else beeps)
        if self.buzzer:
            self.buzzer.beep(on_time=0.1, off_time=0.1, n=beeps)

    def close(self) -> None:
        """Free every pin (a fail-safe lock opens, a fail-secure one stays locked)."""
        for device in [self.relay, *self.inputs, *self.leds.values(), self.buzzer]:
            if device is not None:
                device.close()
