"""Staff sessions end on their own: 8 hours unused, or 12 hours after sign-in however busy."""

from datetime import UTC, datetime

import pytest

from central.circulation import audit, branches, signin
from central.circulation.clock import FixedClock
from central.circulation.errors import Forbidden, NotFound, Refused
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
    s.db.close()


def test_a_session_unused_for_8_hours_is_over(desk):
    s, clock = desk
    idle = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    used = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    clock.advance(hours=4)
    assert signin.session(s, used) is not None            # used: its idle time restarts
    clock.advance(hours=4, minutes=1)
    assert signin.session(s, idle) is None
    assert signin.session(s, used) is not None


def test_the_idle_limit_holds_to_the_second(desk):
    """Unused 8 h less a second or 8 h to the instant a session is on; a second more, over."""
    s, clock = desk
    early, exact, late = (signin.sign_in(s, "fac", PASSWORD, "10.0.0.1") for _ in range(3))
    clock.advance(hours=8, seconds=-1)
    assert signin.session(s, early) is not None
    clock.advance(seconds=1)
    assert signin.session(s, exact) is not None
    clock.advance(seconds=1)
    assert signin.session(s, late) is None
    assert signin.session(s, early) is not None           # used two seconds ago


def test_a_use_is_recorded_only_once_a_minute_has_passed_since_the_last(desk):
    """Idle time counts from the last use recorded, and a use a minute or less after it is not
    recorded (one write a minute per session at most): such a session ends 8 h after the
    earlier use."""
    s, clock = desk
    token = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    clock.advance(minutes=1)
    assert signin.session(s, token) is not None
    clock.advance(hours=8, seconds=-30)
    assert signin.session(s, token) is None
    token = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    clock.advance(minutes=1, seconds=1)
    assert signin.session(s, token) is not None
    clock.advance(hours=8, seconds=-30)
    assert signin.session(s, token) is not None


def test_a_session_in_constant_use_ends_12_hours_after_sign_in(desk):
    s, clock = desk
    token = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    for _ in range(12):
        clock.advance(hours=1)
        assert signin.session(s, token) is not None       # 12 h to the instant: still on
    clock.advance(seconds=1)
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


def test_a_session_names_its_staff_and_carries_its_own_form_token(desk):
    s, _ = desk
    token = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    found = signin.session(s, token)
    assert found is not None
    assert (found.staff_id, found.name, found.role, found.branches) == (
        "fac", "Fac", "facilities", ["center"])
    assert signin.csrf_ok(found, found.csrf)
    assert not signin.csrf_ok(found, found.csrf[:-1]) and not signin.csrf_ok(found, "")
    other = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1")
    second = signin.session(s, other)
    assert other != token and second is not None and second.csrf != found.csrf
    assert signin.session(s, token) == found                 # the same token each time
    stored = [str(v) for row in s.db.execute("SELECT * FROM staff_sessions") for v in row]
    assert not [v for v in stored if token in v or other in v]   # a copied database opens none


def test_signing_out_ends_that_session_alone(desk):
    s, _ = desk
    gone, kept = (signin.sign_in(s, "fac", PASSWORD, "10.0.0.1") for _ in range(2))
    signin.sign_out(s, gone)
    signin.sign_out(s, "never given")
    assert signin.session(s, gone) is None
    assert signin.session(s, kept) is not None


def test_a_new_password_has_ten_characters_and_ends_only_its_owners_sessions(desk):
    s, _ = desk
    branches.add_staff(s, "desk", "Desk", "clerk", ["center"])
    signin.set_password(s, "desk", PASSWORD)
    own, others = signin.sign_in(s, "fac", PASSWORD, "10.0.0.1"), \
        signin.sign_in(s, "desk", PASSWORD, "10.0.0.1")
    with pytest.raises(Refused) as short:
        signin.set_password(s, "fac", "9 letters")
    assert short.value.code == "password_too_short" and "at least 10" in str(short.value)
    assert signin.session(s, own) is not None and _code(s, PASSWORD) == "ok"
    signin.set_password(s, "fac", "10 letters")
    assert signin.session(s, own) is None and signin.session(s, others) is not None
    assert _code(s, PASSWORD) == "login_failed" and _code(s, "10 letters") == "ok"
    with pytest.raises(NotFound) as unknown:
        signin.set_password(s, "nobody", "10 letters")
    assert unknown.value.code == "staff_unknown"


def test_accounts_without_a_password_or_without_an_account_open_nothing(desk):
    """The hash checked for an unknown account is a real one, of a known password: that
    password opens no account either, nor does any for an account never given one."""
    s, _ = desk
    branches.add_staff(s, "new", "New", "clerk", ["center"])
    for staff_id in ("nobody", "new"):
        for password in ("no account has this password", "", PASSWORD):
            with pytest.raises(Forbidden) as refused:
                signin.sign_in(s, staff_id, password, f"10.0.1.{len(password)}")
            assert refused.value.code == "login_failed", (staff_id, password)


def test_every_sign_in_is_audited_with_how_it_ended(desk):
    s, _ = desk
    _code(s)
    _code(s, PASSWORD)
    for _ in range(4):
        _code(s)
    logged = [(e["staff_id"], e["action"], e["subject"], e["outcome"])
              for e in reversed(audit.entries(s, subject="staff:fac"))]
    assert logged == [("fac", "staff.sign_in", "staff:fac", outcome) for outcome in
                      ["login_failed", "ok"] + ["login_failed"] * 3 + ["login_throttled"]]
