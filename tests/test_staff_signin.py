"""Staff sessions end on their own: 8 hours unused, or 12 hours after sign-in however busy."""

from datetime import UTC, datetime

import pytest

from central.circulation import branches, signin
from central.circulation.clock import FixedClock
from central.circulation.store import Store
from central.store import open_store
from tests.web import PASSWORD


@pytest.fixture
def desk(tmp_path):
    """A store on a clock that stands still, with one facilities member of staff."""
    clock = FixedClock(datetime(2026, 12, 7, 7, 0, tzinfo=UTC))
    s = Store(open_store(str(tmp_path / "central.db")), clock)
    branches.add_branch(s, "center", "Center", "Europe/Ljubljana")
    branches.add_staff(s, "fac", "Fac", "facilities", ["center"])
    signin.set_password(s, "fac", PASSWORD)
    yield s, clock
    s.db.conn.close()


def test_a_session_unused_for_8_hours_is_over(desk):
    s, clock = desk
    idle = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    used = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    clock.advance(hours=4)
    assert signin.session(s, used) is not None            # used: its idle time restarts
    clock.advance(hours=4, minutes=1)
    assert signin.session(s, idle) is None
    assert signin.session(s, used) is not None


def test_a_session_in_constant_use_ends_12_hours_after_sign_in(desk):
    s, clock = desk
    token = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    for _ in range(11):
        clock.advance(hours=1)
        assert signin.session(s, token) is not None
    clock.advance(hours=1, minutes=1)
    assert signin.session(s, token) is None
    assert signin.session(s, signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")) is not None
