"""Audible cues: a short beep pattern for success, warning, error and "are you still there?",
on a buzzer, and the same as tones (and the screen's words) on a speaker where there is one.

Wiring: an active piezo buzzer on a GPIO pin (BCM numbering), through a transistor when it draws
more than a few mA; `active_high = false` for boards that sound when the pin is low. The speaker
is any ALSA output (patron_ui.speaker).
"""

from typing import TYPE_CHECKING, Literal

from edge_common.config import BcmPin, Schema
from patron_ui.cues import PATTERNS, Chorus, Cue, Silent, Sounder
from patron_ui.speaker import Speaker, SpeakerConfig

if TYPE_CHECKING:
    from gpiozero.pins import Factory


class BuzzerSounder:
    """Cues as beep patterns on a gpiozero `Buzzer`."""

    def __init__(self, pin: int, active_high: bool = True,
                 pin_factory: "Factory | None" = None) -> None:
        from gpiozero import Buzzer

        self.buzzer = Buzzer(pin, active_high=active_high, pin_factory=pin_factory)

    def cue(self, kind: Cue, words: str = "", lang: str = "en") -> None:
        """Beep the cue's pattern on the buzzer's background thread (words are not beeped)."""
        on, off, n = PATTERNS[kind]
        self.buzzer.beep(on_time=on, off_time=off, n=n, background=True)

    def close(self) -> None:
        """Silence and release the pin."""
        self.buzzer.close()


class SounderConfig(Schema, frozen=True):
    """Whether the kiosk has a buzzer (on which pin) and a speaker."""

    kind: Literal["none", "buzzer"] = "none"
    pin: BcmPin = 18
    active_high: bool = True
    speaker: SpeakerConfig = SpeakerConfig()


def open_sounder(cfg: SounderConfig, pin_factory: "Factory | None" = None) -> Sounder:
    """The sounders a config section describes: none, the buzzer, the speaker, or both."""
    sounders: list[Sounder] = []
    if cfg.kind == "buzzer":
        sounders.append(BuzzerSounder(cfg.pin, cfg.active_high, pin_factory))
    if cfg.speaker.kind != "none":
        sounders.append(Speaker(cfg.speaker))
    return sounders[0] if len(sounders) == 1 else Chorus(*sounders) if sounders else Silent()
