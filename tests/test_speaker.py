"""The speaker: each buzzer cue as tones of the same rhythm, and the screen's words spoken in the
patron's language (espeak-ng), played by a real player process; a newer cue cuts it short."""

import io
import os
import struct
import sys
import wave

import pytest
from gpiozero.pins.mock import MockFactory

from edge_common.config import ConfigError, load
from kiosk.config import KioskConfig
from kiosk.sounds import BuzzerSounder, SounderConfig, open_sounder
from patron_ui.cues import PATTERNS, PITCH, RATE, Chorus, tone
from patron_ui.speaker import VOICES, Speaker, SpeakerConfig
from tests.harness import wait_for


def samples(wav: bytes) -> list[int]:
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    return list(struct.unpack(f"<{len(frames) // 2}h", frames)), rate


def runs(values: list[int]) -> list[tuple[bool, int]]:
    """(sounding, length in samples) of each stretch of sound and silence."""
    out: list[tuple[bool, int]] = []
    quiet = 0
    for v in values:
        loud = v != 0
        quiet = 0 if loud else quiet + 1
        sounding = loud or (quiet < 40 and bool(out) and out[-1][0])  # zero crossings
        if out and out[-1][0] == sounding:
            out[-1] = (sounding, out[-1][1] + 1)
        else:
            out.append((sounding, 1))
    return out


@pytest.mark.parametrize("kind", sorted(PATTERNS))
def test_each_tone_beeps_the_buzzers_pattern_at_its_pitch(kind):
    on, off, beeps = PATTERNS[kind]
    values, rate = samples(tone(kind))
    assert rate == RATE
    stretches = runs(values)
    loud = [n for sounding, n in stretches if sounding]
    assert len(loud) == beeps
    assert all(abs(n / RATE - on) < 0.006 for n in loud), (loud, on)
    assert abs(len(values) / RATE - beeps * (on + off)) < 0.002
    first = values[: round(on * RATE)]
    crossings = sum(1 for a, b in zip(first, first[1:], strict=False) if (a < 0) != (b < 0))
    assert abs(crossings / 2 / on - PITCH[kind]) < 0.05 * PITCH[kind]


@pytest.fixture
def played(tmp_path):
    folder = tmp_path / "played"
    folder.mkdir()
    return folder


def speaker(folder, kind="tones", **kw):
    return Speaker(SpeakerConfig(kind=kind, player=(sys.executable, "-m", "tests.sound_recorder",
                                                    str(folder)), **kw))


def files(folder):
    return sorted(folder.glob("*.wav"))


def test_a_cue_plays_its_tone_through_the_player(played):
    s = speaker(played)
    try:
        s.cue("error", "This card is not known.", "en")  # tones only: the words are not spoken
        wait_for(lambda: len(files(played)) == 1, what="tone played")
        assert files(played)[0].read_bytes() == tone("error")
    finally:
        s.close()


@pytest.mark.parametrize("lang", sorted(VOICES))
def test_voice_says_the_screens_words_after_the_tone_in_the_patrons_language(played, lang):
    words = {"en": "This card is not known.", "sl": "Ta kartica ni znana.",
             "cs": "Tato karta není známa.", "hu": "Ez a kártya ismeretlen.",
             "zh": "此卡未知。"}[lang]
    s = speaker(played, kind="voice")
    try:
        s.cue("warning", words, lang)
        wait_for(lambda: len(files(played)) == 2, what="tone and words played")
        tone_file, spoken = files(played)
        assert tone_file.read_bytes() == tone("warning")
        values, rate = samples(spoken.read_bytes())
        assert len(values) / rate > 0.5 and max(map(abs, values)) > 1000  # speech, not silence
    finally:
        s.close()


def test_a_newer_cue_cuts_the_playing_one_short(played, monkeypatch):
    monkeypatch.setenv("SOUND_SECONDS", "30")
    s = speaker(played)
    try:
        s.cue("ok")
        wait_for(lambda: len(list(played.glob("*.pid"))) == 1, what="first cue playing")
        first = int((played / "000.pid").read_text())
        s.cue("error")
        wait_for(lambda: len(list(played.glob("*.pid"))) == 2, what="second cue playing")
        assert files(played)[1].read_bytes() == tone("error")
        wait_for(lambda: not alive(first), what="first player stopped")
    finally:
        s.close()
    assert not s._thread.is_alive()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split()[2] != "Z"


def test_a_missing_player_is_logged_once_and_never_raised(caplog):
    s = Speaker(SpeakerConfig(player=("/nonexistent/aplay",), kind="tones"))
    try:
        s.cue("ok")
        s.cue("error")
        wait_for(lambda: "sound_unavailable" in caplog.text, what="complaint")
        s.cue("warning")
        wait_for(lambda: s._wanted is None, what="cue taken")
    finally:
        s.close()
    assert caplog.text.count("sound_unavailable") == 1


def test_the_sound_section_chooses_buzzer_speaker_or_both(tmp_path):
    factory = MockFactory()
    try:
        both = open_sounder(SounderConfig(kind="buzzer", speaker=SpeakerConfig(kind="voice")),
                            pin_factory=factory)
        assert isinstance(both, Chorus)
        assert [type(x) for x in both.sounders] == [BuzzerSounder, Speaker]
        both.close()
        alone = open_sounder(SounderConfig(speaker=SpeakerConfig(kind="tones")))
        assert isinstance(alone, Speaker)
        alone.close()
    finally:
        factory.reset()
    good = tmp_path / "kiosk.toml"
    base = ('[device]\nid = "k1"\nsite = "s"\nkind = "kiosk"\ndata_dir = "/tmp/k"\n'
            f'card_key = "{"0" * 64}"\n[card_reader]\nkind = "sim"\nsocket = "/tmp/k.sock"\n')
    good.write_text(base + '[sound.speaker]\nkind = "voice"\nplayer = ["aplay", "-q"]\n')
    assert load(good, KioskConfig).sound.speaker.kind == "voice"
    bad = tmp_path / "bad.toml"
    bad.write_text(base + '[sound.speaker]\nkind = "voice"\nvolume = 11\n')
    with pytest.raises(ConfigError, match="volume"):
        load(bad, KioskConfig)
