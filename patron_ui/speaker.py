"""A speaker for the cues: their tones and, optionally, the screen's words spoken (espeak-ng),
played by a command (aplay) on a thread of its own; a newer cue cuts an older one short.

Wiring: any output ALSA knows (the Pi's headphone jack, HDMI, a USB speaker); `aplay -l` lists
them and `player = ["aplay", "-q", "-D", "plughw:1,0"]` picks one.
"""

import logging
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from edge_common.config import Schema
from patron_ui.cues import Cue, tone

log = logging.getLogger(__name__)
VOICES = {"en": "en", "sl": "sl", "cs": "cs", "hu": "hu", "zh": "cmn"}  # espeak-ng's names
Command = Annotated[tuple[Annotated[str, msgspec.Meta(min_length=1)], ...],
                    msgspec.Meta(min_length=1)]


class SpeakerConfig(Schema, frozen=True):
    """Whether the device has a speaker, what it plays and with which commands."""

    kind: Literal["none", "tones", "voice"] = "none"  # voice: the tone, then the words
    player: Command = ("aplay", "-q")  # played with the WAV file's path appended
    voice: Command = ("espeak-ng",)
    words_per_minute: Annotated[int, msgspec.Meta(ge=80, le=400)] = 150


class Speaker:
    """Plays each cue's tone (and words) through the player command, the newest cue only."""

    def __init__(self, cfg: SpeakerConfig) -> None:
        self.cfg = cfg
        self._folder = Path(tempfile.mkdtemp(prefix="libedge-sound-"))
        self._lock = threading.Condition()
        self._wanted: tuple[Cue, str, str] | None = None
        self._playing: subprocess.Popen[bytes] | None = None
        self._closed = False
        self._failed: set[str] = set()
        self._thread = threading.Thread(target=self._serve, name="speaker", daemon=True)
        self._thread.start()

    def cue(self, kind: Cue, words: str = "", lang: str = "en") -> None:
        """Play the cue next, cutting short whatever plays now."""
        with self._lock:
            self._wanted = (kind, words if self.cfg.kind == "voice" else "", lang)
            self._stop_playing()
            self._lock.notify()

    def close(self) -> None:
        """Stop playing and remove the sound files."""
        with self._lock:
            self._closed = True
            self._stop_playing()
            self._lock.notify()
        self._thread.join(5)
        shutil.rmtree(self._folder, ignore_errors=True)

    def _stop_playing(self) -> None:
        if self._playing is not None and self._playing.poll() is None:
            self._playing.terminate()

    def _serve(self) -> None:
        while True:
            with self._lock:
                while self._wanted is None and not self._closed:
                    self._lock.wait()
                wanted, self._wanted = self._wanted, None
                if self._closed or wanted is None:
                    return
            kind, words, lang = wanted
            self._play(self._tone(kind))
            if words:
                spoken = self._folder / "words.wav"
                voice = VOICES.get(lang, "en")
                if self._run([*self.cfg.voice, "-v", voice, "-s", str(self.cfg.words_per_minute),
                              "-w", str(spoken), words]):
                    self._play(spoken)

    def _tone(self, kind: Cue) -> Path:
        path = self._folder / f"{kind}.wav"
        if not path.exists():
            path.write_bytes(tone(kind))
        return path

    def _play(self, path: Path) -> None:
        with self._lock:
            if self._wanted is not None or self._closed:
                return  # a newer cue came: skip the rest of this one
        self._run([*self.cfg.player, str(path)])

    def _run(self, command: list[str]) -> bool:
        """Run a sound command to its end (or until a newer cue stops it); True if it worked."""
        try:
            with self._lock:
                self._playing = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                                 stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.PIPE)
                playing = self._playing
            _, err = playing.communicate()
        except OSError as exc:
            self._complain(command[0], str(exc))
            return False
        if playing.returncode > 0:
            self._complain(command[0], err.decode(errors="replace").strip()[:200])
        return playing.returncode == 0

    def _complain(self, program: str, detail: str) -> None:
        """Log a failing sound command once (sound_unavailable): the screen still shows all."""
        if program not in self._failed:
            self._failed.add(program)
            log.warning("speaker: %s failed (sound_unavailable): %s", program, detail)
