"""Audible cues: a short beep pattern for success, warning, error and "are you still there?".

Wiring: an active piezo buzzer on a GPIO pin (BCM numbering), through a transistor when it draws
more than a few mA; `active_high = false` for boards that sound when the pin is low.
"""

from typing import TYPE_CHECKING, Literal, Protocol

from edge_common.config import BcmPin, Schema

if TYPE_CHECKING:
    from gpiozero.pins import Factory

Cue = Literal["ok", "warning", "error", "attention"]
# (on seconds, off seconds, beeps): one short chirp, two medium beeps, three long ones, a trill
PATTERNS: dict[str, tuple[float, float, int]] = {
    "ok": (0.08, 0.05, 1),
    "warning": (0.15, 0.10, 2),
    "error": (0.35, 0.15, 3),
    "attention": (0.05, 0.05, 4),
}


class Sounder(Protocol):
    """Something that can play a cue without blocking the caller."""

    def cue(self, kind: Cue) -> None:
        """Start playing the cue (a newer cue cuts an older one short)."""


class Silent:
    """A sounder for kiosks without a buzzer."""

    def cue(self, kind: Cue) -> None:
        """Play nothing."""


class BuzzerSounder:
    """Cues as beep patterns on a gpiozero `Buzzer`."""

    def __init__(self, pin: int, active_high: bool = True,
                 pin_factory: "Factory | None" = None) -> None:
        from gpiozero import Buzzer

        self.buzzer = Buzzer(pin, active_high=active_high, pin_factory=pin_factory)

    def cue(self, kind: Cue) -> None:
        """Beep the cue's pattern on the buzzer's background thread."""
        on, off, n = PATTERNS[kind]
        self.buzzer.beep(on_time=on, off_time=off, n=n, background=True)

    def close(self) -> None:
        """Silence and release the pin."""
        self.buzzer.close()


class SounderConfig(Schema, frozen=True):
    """Whether the kiosk has a buzzer, and on which pin."""

    kind: Literal["none", "buzzer"] = "none"
    pin: BcmPin = 18
    active_high: bool = True


def open_sounder(cfg: SounderConfig, pin_factory: "Factory | None" = None) -> Sounder:
    """The sounder a config section describes."""
    if cfg.kind == "buzzer":
        return BuzzerSounder(cfg.pin, cfg.active_high, pin_factory)
    return Silent()
