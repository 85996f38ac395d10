"""Staff sessions end on their own: 8 hours unused, or 12 hours after sign-in however busy."""

from datetime import UTC, datetime

import pytest

from central.circulation import branches, signin
from central.circulation.clock import FixedClock
from central.circulation.errors import Forbidden
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


def _code(s: Store, password: str = "not the password") -> str:
    try:
        signin.sign_in(s, "fac", password, "10.0.0.9")
    except Forbidden as exc:
        return exc.code
    return "ok"


def test_each_failure_past_the_free_ones_doubles_the_wait_and_success_starts_again(desk):
    s, clock = desk
    assert [_code(s) for _ in range(4)] == ["login_failed"] * 3 + ["login_throttled"]
    clock.advance(seconds=29)
    assert _code(s, PASSWORD) == "login_throttled"      # even the right one waits: 30 s
    clock.advance(seconds=2)
    assert _code(s) == "login_failed"                   # the 4th failure: 60 s now
    clock.advance(seconds=59)
    assert _code(s, PASSWORD) == "login_throttled"
    clock.advance(seconds=2)
    assert _code(s, PASSWORD) == "ok"
    assert [_code(s) for _ in range(4)] == ["login_failed"] * 3 + ["login_throttled"]
    clock.advance(hours=1, seconds=1)                   # an hour without failures: forgotten
    assert [_code(s) for _ in range(4)] == ["login_failed"] * 3 + ["login_throttled"]
