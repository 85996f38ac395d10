"""Audible cues as beep patterns on a gpiozero Buzzer, read back from MockFactory's pin history."""

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.sounds import BuzzerSounder, Silent, SounderConfig, open_sounder
from tests.harness import wait_for


@pytest.fixture
def factory():
    """gpiozero's mock pins, reset after the test."""
    f = MockFactory()
    yield f
    f.reset()


def states(pin) -> list[bool]:
    """Every state the pin went through, oldest first."""
    return [bool(s.state) for s in pin.states]


# What the README promises: a chirp on success, two beeps on a warning, three on an error, and a
# trill (four quick beeps) when the inactivity warning appears.
BEEPS = {"ok": 1, "warning": 2, "error": 3, "attention": 4}


@pytest.mark.parametrize("kind, beeps", sorted(BEEPS.items()))
def test_each_cue_beeps_its_number_of_times(factory, kind, beeps):
    """Each cue sounds the buzzer as many times as the README says, then falls silent."""
    sounder = BuzzerSounder(18, pin_factory=factory)
    pin = factory.pin(18)
    sounder.cue(kind)  # returns at once: the pattern plays on gpiozero's thread
    wait_for(lambda: len(pin.states) == 1 + 2 * beeps, what=f"{kind} pattern")
    assert states(pin) == [False] + [True, False] * beeps
    sounder.close()


def test_active_low_buzzer_sounds_when_the_pin_is_low(factory):
    """An active-low board's buzzer sounds with the pin pulled low."""
    sounder = BuzzerSounder(23, active_high=False, pin_factory=factory)
    pin = factory.pin(23)
    sounder.cue("ok")
    wait_for(lambda: len(pin.states) == 4, what="one beep")
    assert states(pin) == [False, True, False, True]  # released high, sounding low, high again
    sounder.close()


def test_config_chooses_the_sounder(factory):
    """No buzzer configured: silence; a buzzer: on the configured pin."""
    assert isinstance(open_sounder(SounderConfig()), Silent)
    buzzer = open_sounder(SounderConfig(kind="buzzer", pin=24), pin_factory=factory)
    assert isinstance(buzzer, BuzzerSounder) and buzzer.buzzer.pin.info.name == "GPIO24"
    Silent().cue("error")
    buzzer.close()
