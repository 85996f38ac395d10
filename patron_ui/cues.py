"""The audible cues of the patron screens: beep patterns, their tones as WAV, and what plays them.

Pure: the patterns the buzzer beeps are the same the speaker's tones follow, so a patron who
cannot see the screen hears the same rhythm from either.
"""

import io
import math
import struct
import wave
from functools import cache
from typing import Literal, Protocol

Cue = Literal["ok", "warning", "error", "attention"]
# (on seconds, off seconds, beeps): one short chirp, two medium beeps, three long ones, a trill
PATTERNS: dict[str, tuple[float, float, int]] = {
    "ok": (0.08, 0.05, 1),
    "warning": (0.15, 0.10, 2),
    "error": (0.35, 0.15, 3),
    "attention": (0.05, 0.05, 4),
}
PITCH = {"ok": 1320.0, "warning": 880.0, "error": 440.0, "attention": 1760.0}  # Hz
RATE = 16_000  # samples per second
FADE = 0.005  # seconds of fade in and out, so that a beep does not click


class Sounder(Protocol):
    """Something that can play a cue without blocking the caller."""

    def cue(self, kind: Cue, words: str = "", lang: str = "en") -> None:
        """Start playing the cue (a newer cue cuts an older one short); `words` are what the
        screen says with it, in `lang`, for a sounder that speaks."""

    def close(self) -> None:
        """Fall silent and let go of the hardware."""


class Silent:
    """A sounder for a device without a buzzer or a speaker."""

    def cue(self, kind: Cue, words: str = "", lang: str = "en") -> None:
        """Play nothing."""

    def close(self) -> None:
        """Nothing to let go of."""


class Chorus:
    """Several sounders playing every cue (a buzzer and a speaker)."""

    def __init__(self, *sounders: Sounder) -> None:
        self.sounders = sounders

    def cue(self, kind: Cue, words: str = "", lang: str = "en") -> None:
        """Play the cue on each."""
        for sounder in self.sounders:
            sounder.cue(kind, words, lang)

    def close(self) -> None:
        """Close each."""
        for sounder in self.sounders:
            sounder.close()


@cache
def tone(kind: Cue) -> bytes:
    """The cue as a 16-bit mono WAV: its pattern's beeps at its pitch, with silences between."""
    on, off, beeps = PATTERNS[kind]
    samples: list[int] = []
    for _ in range(beeps):
        n = round(on * RATE)
        edge = round(FADE * RATE)
        for i in range(n):
            envelope = min(1.0, i / edge, (n - 1 - i) / edge)
            samples.append(round(12_000 * envelope * math.sin(2 * math.pi * PITCH[kind] * i
                                                                / RATE)))
        samples.extend([0] * round(off * RATE))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buf.getvalue()
