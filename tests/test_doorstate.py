"""The pure door state: releases, forced and held-open alarms, emergency, lockdown."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_common.doorstate import EMERGENCY, FORCED, HELD_OPEN, DoorState


def door(**kw) -> DoorState:
    """A door state with a 5 s unlock time and a 30 s held-open limit, unless `kw`."""
    return DoorState(**({"unlock_seconds": 5.0, "held_open_limit": 30.0} | kw))


def test_grant_releases_for_unlock_time_and_regrant_extends():
    """A grant releases for the unlock time; a second one extends it."""
    d = door()
    d.grant(100.0)
    assert d.released(104.9) and not d.released(105.0)
    d.grant(103.0)
    assert d.released(107.9) and not d.released(108.0)
    assert d.next_deadline(104.0) == 108.0


def test_opening_without_release_is_forced():
    """Opening a locked door is door_forced, latched until cleared."""
    d = door()
    assert d.set_contact(True, 10.0) == {FORCED}
    assert FORCED in d.alarms
    d.set_contact(False, 11.0)
    assert FORCED in d.alarms
    d.clear(FORCED)
    assert not d.alarms


def test_opening_after_grant_is_fine_and_closing_relocks():
    """Opening after a grant raises nothing; closing ends the release."""
    d = door()
    d.grant(0.0)
    assert d.set_contact(True, 1.0) == set()
    d.set_contact(False, 2.0)
    assert not d.released(2.5)


def test_held_open_alarm_after_limit_and_cleared_on_close():
    """Open past the limit is door_held_open, once; closing clears it."""
    d = door()
    d.grant(0.0)
    d.set_contact(True, 1.0)
    assert d.tick(30.0) == set()
    assert d.next_deadline(30.0) > 31.0
    assert d.tick(31.5) == {HELD_OPEN}
    assert d.tick(40.0) == set()
    d.set_contact(False, 41.0)
    assert HELD_OPEN not in d.alarms


def test_emergency_releases_only_doors_configured_to():
    """The fire input releases only doors configured to release."""
    d = door()
    d.set_emergency(True)
    assert d.released(0.0) and EMERGENCY in d.alarms
    d.set_emergency(False)
    assert not d.released(0.0) and EMERGENCY not in d.alarms
    secure = door(emergency_release=False)
    secure.set_emergency(True)
    assert not secure.released(0.0)


def test_lockdown_cancels_releases_but_emergency_still_wins():
    """Lockdown cancels releases; the fire input still releases."""
    d = door()
    d.held_released = True
    d.grant(0.0)
    d.set_lockdown(True)
    assert not d.released(1.0)
    d.set_emergency(True)
    assert d.released(1.0)


@given(st.lists(st.tuples(st.sampled_from(["grant", "open", "close", "fire", "calm", "tick"]),
                          st.floats(0, 100)), max_size=30))
def test_a_closed_door_is_never_left_released_past_its_time(ops):
    """Whatever happens, a door is released after its unlock time only in an emergency."""
    d = door()
    now = 0.0
    actions = {"grant": d.grant, "open": lambda t: d.set_contact(True, t),
               "close": lambda t: d.set_contact(False, t), "fire": lambda t: d.set_emergency(True),
               "calm": lambda t: d.set_emergency(False), "tick": d.tick}
    for op, dt in ops:
        now += dt
        actions[op](now)
    later = now + d.unlock_seconds
    assert d.released(later) == d.emergency


def test_relay_fault_needs_the_settle_time_and_clears_on_agreement():
    """A relay fault needs disagreement past the settle time and clears on agreement."""
    s = DoorState(5, 30, feedback_settle=0.2)
    s.set_feedback(False, 0.0)
    s.relay_driven(True, 1.0)
    assert s.tick(1.1) == set() and s.next_deadline(1.1) == pytest.approx(1.2)
    s.set_feedback(True, 1.15)                  # pulled in within the settle time
    assert s.tick(1.5) == set() and "relay_fault" not in s.alarms
    s.relay_driven(False, 2.0)                  # released, but the contact stays closed
    assert s.tick(2.1) == set()
    assert s.tick(2.2) == {"relay_fault"}
    s.set_feedback(False, 2.5)
    s.tick(2.5)
    assert "relay_fault" not in s.alarms


def test_no_feedback_input_never_raises_a_relay_fault():
    """Without a feedback input there is never a relay fault."""
    s = DoorState(5, 30)
    s.relay_driven(True, 0.0)
    assert s.tick(100.0) == set()
