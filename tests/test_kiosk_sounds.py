"""Audible cues as beep patterns on a gpiozero Buzzer, read back from MockFactory's pin history."""

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.sounds import PATTERNS, BuzzerSounder, Silent, SounderConfig, open_sounder
from tests.harness import wait_for


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()


def states(pin) -> list[bool]:
    return [bool(s.state) for s in pin.states]


@pytest.mark.parametrize("kind", sorted(PATTERNS))
def test_each_cue_beeps_its_number_of_times(factory, kind):
    sounder = BuzzerSounder(18, pin_factory=factory)
    pin = factory.pin(18)
    beeps = PATTERNS[kind][2]
    sounder.cue(kind)  # returns at once: the pattern plays on gpiozero's thread
    wait_for(lambda: len(pin.states) == 1 + 2 * beeps, what=f"{kind} pattern")
    assert states(pin) == [False] + [True, False] * beeps
    sounder.close()


def test_active_low_buzzer_sounds_when_the_pin_is_low(factory):
    sounder = BuzzerSounder(23, active_high=False, pin_factory=factory)
    pin = factory.pin(23)
    sounder.cue("ok")
    wait_for(lambda: len(pin.states) == 4, what="one beep")
    assert states(pin) == [False, True, False, True]  # released high, sounding low, high again
    sounder.close()


def test_config_chooses_the_sounder(factory):
    assert isinstance(open_sounder(SounderConfig()), Silent)
    buzzer = open_sounder(SounderConfig(kind="buzzer", pin=24), pin_factory=factory)
    assert isinstance(buzzer, BuzzerSounder) and buzzer.buzzer.pin.info.name == "GPIO24"
    Silent().cue("error")
    buzzer.close()
